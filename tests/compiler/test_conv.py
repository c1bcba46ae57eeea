"""Conv, ConvTranspose and BatchNormalization folding against onnxruntime: randomized
attribute combinations, the three Conv kernels, and small multi-node graphs that exercise
the layout pass, activation fusion and BN folding."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from opcheck import assert_close, check_model, model_from_graph, run_onnxruntime
from tinyaot.errors import TinyaotError
from tinyaot.frontends.onnx import import_model
from tinyaot.hostrun import run_host
from tinyaot.ops import OPS
from tinyaot.ops.base import OpDef
from tinyaot.pipeline import CompileOptions, compile_graph

F32 = np.float32


def graph_model(nodes, inputs: dict, inits: dict, outputs=("y",), opset: int = 17) -> onnx.ModelProto:
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info(k, TensorProto.FLOAT, v.shape) for k, v in inputs.items()],
        [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outputs],
        [numpy_helper.from_array(v, k) for k, v in inits.items()],
    )
    return model_from_graph(graph, opset)


def op_model(op: str, inputs: dict, inits: dict, attrs: dict, opset: int = 17) -> onnx.ModelProto:
    node = helper.make_node(op, [*inputs, *inits], ["y"], **attrs)
    return graph_model([node], inputs, inits, opset=opset)


def compiled(model: onnx.ModelProto):
    return compile_graph(import_model(model, "model", {}), CompileOptions())


def normal(rng, *shape) -> np.ndarray:
    return rng.standard_normal(shape).astype(F32)


# ----------------------------------------------------------------------------- Conv


def _random_conv(seed: int):
    rng = np.random.default_rng(seed)
    ndim = 1 if rng.random() < 0.3 else 2
    kind = ["dense", "grouped", "depthwise", "depthwise_mult"][seed % 4]
    c_in = int(rng.integers(1, 6)) if kind == "dense" else int(rng.integers(2, 5))
    if kind == "dense":
        group, c_out = 1, int(rng.integers(1, 7))
    elif kind == "grouped":
        group = c_in
        c_in, c_out = c_in * 2, c_in * int(rng.integers(1, 4))
        group = c_in // 2
    elif kind == "depthwise":
        group, c_out = c_in, c_in
    else:
        group, c_out = c_in, c_in * int(rng.integers(2, 4))
    kernel = [int(k) for k in rng.integers(1, 4, ndim)]
    spatial = [int(s) for s in rng.integers(4, 10, ndim)]
    attrs: dict = {}
    if group != 1:
        attrs["group"] = group
    strides = [int(s) for s in rng.integers(1, 4, ndim)]
    if rng.random() < 0.7:
        attrs["strides"] = strides
    opset = int(rng.choice([7, 11, 17]))
    mode = rng.choice(["pads", "none", "SAME_UPPER", "SAME_LOWER", "VALID"])
    if mode in ("pads", "none") and rng.random() < 0.5:
        attrs["dilations"] = [int(d) for d in rng.integers(1, 3, ndim)]
    if mode == "pads":
        attrs["pads"] = [int(p) for p in rng.integers(0, 3, 2 * ndim)]
    elif mode != "none":
        attrs["auto_pad"] = str(mode)
    if rng.random() < 0.5:
        attrs["kernel_shape"] = kernel
    # Keep at least one output position.
    for i in range(ndim):
        d = attrs.get("dilations", [1] * ndim)[i]
        spatial[i] = max(spatial[i], d * (kernel[i] - 1) + 1)
    x = normal(rng, 2 if seed % 5 == 0 else 1, c_in, *spatial)
    inits = {"w": normal(rng, c_out, c_in // group, *kernel)}
    if rng.random() < 0.7:
        inits["b"] = normal(rng, c_out)
    return {"x": x}, inits, attrs, opset


@pytest.mark.parametrize("seed", range(36))
def test_conv_random(seed):
    inputs, inits, attrs, opset = _random_conv(seed)
    check_model(op_model("Conv", inputs, inits, attrs, opset), inputs, f"Conv {attrs} opset {opset}")


@pytest.mark.parametrize(
    "shape,w_shape,attrs,kernel",
    [
        ((1, 8, 5, 6), (10, 8, 1, 1), {}, "conv1x1_f32"),  # 4-channel blocks + remainder
        ((2, 3, 4, 4), (3, 3, 1, 1), {}, "conv1x1_f32"),
        ((1, 6, 5, 5), (6, 1, 3, 3), {"group": 6, "pads": [1, 1, 1, 1]}, "depthwise_conv2d_f32"),
        ((1, 3, 6, 7), (9, 1, 3, 2), {"group": 3, "strides": [2, 1], "dilations": [1, 2]}, "depthwise_conv2d_f32"),
        ((1, 4, 6, 6), (4, 4, 1, 1), {"strides": [2, 2]}, "conv2d_f32"),  # strided 1x1: general path
        ((1, 4, 6, 6), (6, 2, 3, 3), {"group": 2, "pads": [0, 1, 2, 1]}, "conv2d_f32"),
        ((1, 1, 5, 5), (1, 1, 3, 3), {"group": 1}, "conv2d_f32"),
    ],
)
def test_conv_kernel_paths(shape, w_shape, attrs, kernel):
    rng = np.random.default_rng(1)
    inputs = {"x": normal(rng, *shape)}
    inits = {"w": normal(rng, *w_shape), "b": normal(rng, w_shape[0])}
    model = op_model("Conv", inputs, inits, attrs)
    assert kernel in compiled(model).code.kernels
    check_model(model, inputs, f"Conv {attrs}")


# The float kernels run 4 output pixels x 4 output channels per register block: pixels in
# row blocks where every horizontal tap is inside the input, border and leftover columns in
# column blocks over the rows with every vertical tap inside, the rest one pixel at a time;
# channels in blocks of 4 plus single leftovers. Each case mixes all of these (comments:
# output size, interior columns/rows, channel split).
BLOCKED_CASES = [
    # out 10x14; columns [2, 13): 8 in row blocks, 6 in column blocks; rows [1, 10); 4+4+1+1
    ((2, 5, 11, 13), (10, 5, 3, 3), {"pads": [1, 2, 0, 1]}, "conv2d_f32"),
    # dilated and strided: taps of a kernel row are not contiguous (one run per tap)
    ((1, 4, 17, 19), (8, 4, 3, 3), {"strides": [2, 2], "dilations": [2, 2], "pads": [2, 2, 2, 2]}, "conv2d_f32"),
    # 2 groups of 5 output channels (4 + 1), 3 input channels each
    ((1, 6, 9, 12), (10, 3, 3, 3), {"group": 2, "pads": [1, 1, 1, 1]}, "conv2d_f32"),
    # padding wider than the kernel: border windows without any tap give act(bias)
    ((1, 3, 5, 6), (4, 3, 2, 2), {"pads": [3, 3, 3, 3]}, "conv2d_f32"),
    # kernel taller than the input: every window clipped vertically, rows still blocked
    ((1, 2, 3, 9), (4, 2, 5, 3), {"pads": [2, 1, 2, 1]}, "conv2d_f32"),
    # KWS-like first layer, 5 output columns: all in column blocks
    ((1, 1, 49, 10), (8, 1, 10, 4), {"strides": [2, 2], "pads": [4, 1, 5, 1]}, "conv2d_f32"),
    # depthwise, 6 channels: one block of 4 and 2 single channels
    ((1, 6, 10, 11), (6, 1, 3, 3), {"group": 6, "pads": [1, 1, 1, 1]}, "depthwise_conv2d_f32"),
    ((2, 8, 13, 14), (8, 1, 5, 3), {"group": 8, "strides": [2, 2], "dilations": [1, 2], "pads": [2, 0, 1, 1]},
     "depthwise_conv2d_f32"),
    # stride 1, 3 taps: sliding-window blocks of 2 channels (row and column blocks), 1 left over
    ((1, 5, 11, 10), (5, 1, 3, 3), {"group": 5, "pads": [1, 1, 1, 1]}, "depthwise_conv2d_f32"),
    # 3 taps along rows only (5 along columns): row blocks slide, column blocks do not
    ((1, 4, 12, 9), (4, 1, 5, 3), {"group": 4, "pads": [2, 1, 2, 1]}, "depthwise_conv2d_f32"),
    # channel multiplier 2: output channel o reads input channel o / 2
    ((1, 3, 9, 10), (6, 1, 3, 3), {"group": 3, "pads": [1, 1, 1, 1]}, "depthwise_conv2d_f32"),
    # 25 pixels (6 blocks of 4 + 1), 10 output channels (4 + 4 + 2)
    ((1, 7, 5, 5), (10, 7, 1, 1), {}, "conv1x1_f32"),
]


@pytest.mark.parametrize("case", range(len(BLOCKED_CASES)))
def test_conv_blocked_paths(case):
    shape, w_shape, attrs, kernel = BLOCKED_CASES[case]
    act = [None, "Relu", "LeakyRelu"][case % 3]
    rng = np.random.default_rng(10 + case)
    inputs = {"x": normal(rng, *shape)}
    inits = {"w": normal(rng, *w_shape), "b": normal(rng, w_shape[0])}
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c" if act else "y"], **attrs)]
    if act:
        nodes.append(helper.make_node(act, ["c"], ["y"], **({"alpha": 0.3} if act == "LeakyRelu" else {})))
    model = graph_model(nodes, inputs, inits)
    assert kernel in compiled(model).code.kernels
    check_model(model, inputs, f"Conv {attrs} + {act}")


def test_conv_same_padding_with_large_stride():
    # onnxruntime's SAME padding goes negative when stride > kernel: windows start inside.
    rng = np.random.default_rng(2)
    for auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        for size, stride, k in ((8, 5, 1), (9, 4, 2), (7, 3, 1)):
            inputs = {"x": normal(rng, 1, 2, size, size + 1)}
            inits = {"w": normal(rng, 3, 2, k, k)}
            attrs = {"auto_pad": auto_pad, "strides": [stride, stride]}
            check_model(op_model("Conv", inputs, inits, attrs), inputs, f"Conv {attrs}")


def test_conv_same_with_dilation_follows_onnx_spec():
    # onnxruntime rejects SAME with dilation; the ONNX spec pads the dilated kernel's extent.
    rng = np.random.default_rng(3)
    x, w = normal(rng, 1, 2, 9, 8), normal(rng, 3, 2, 3, 2)
    attrs = {"auto_pad": "SAME_UPPER", "dilations": [2, 3], "strides": [2, 1]}
    # H: out 5, needed (5-1)*2 + 5 - 9 = 4 -> 2/2; W: out 8, needed 7 + 4 - 8 = 3 -> 1/2.
    explicit = {"pads": [2, 1, 2, 2], "dilations": [2, 3], "strides": [2, 1]}
    actual = run_host(compiled(op_model("Conv", {"x": x}, {"w": w}, attrs)), {"x": x})["y"]
    expected = run_onnxruntime(op_model("Conv", {"x": x}, {"w": w}, explicit), {"x": x})["y"]
    assert_close(actual, expected, "dilated SAME_UPPER")


@pytest.mark.parametrize("act", ["Relu", "Clip", "LeakyRelu"])
def test_conv_fused_activation(act):
    if act not in OPS:
        pytest.skip(f"{act} is not implemented yet")
    rng = np.random.default_rng(4)
    inputs = {"x": normal(rng, 1, 3, 6, 6)}
    inits = {"w": normal(rng, 4, 3, 3, 3), "b": normal(rng, 4)}
    extra = {}
    if act == "Clip":
        inits.update(lo=np.array(-0.5, F32), hi=np.array(1.0, F32))
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1])]
    act_inputs = ["c", "lo", "hi"] if act == "Clip" else ["c"]
    if act == "LeakyRelu":
        extra["alpha"] = 0.2
    nodes.append(helper.make_node(act, act_inputs, ["y"], **extra))
    model = graph_model(nodes, inputs, inits)
    assert [n.op for n in compiled(model).graph.nodes if n.op not in ("Transpose", "Reshape")] == ["Conv"]
    check_model(model, inputs, f"Conv+{act}")


def test_conv_constant_input_is_folded():
    # Conv of a constant is evaluated in numpy at compile time; that must match onnxruntime too.
    rng = np.random.default_rng(5)
    inputs = {"x": normal(rng, 1, 4, 3, 3)}
    inits = {"c": normal(rng, 1, 6, 5, 5), "w": normal(rng, 4, 3, 3, 3), "b": normal(rng, 4)}
    nodes = [
        helper.make_node("Conv", ["c", "w", "b"], ["k"], group=2, strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node("Add", ["k", "x"], ["y"]),
    ]
    model = graph_model(nodes, inputs, inits)
    assert "Conv" not in [n.op for n in compiled(model).graph.nodes]
    check_model(model, inputs, "folded Conv")


# ----------------------------------------------------------------------------- ConvTranspose


def _random_conv_transpose(seed: int):
    rng = np.random.default_rng(1000 + seed)
    ndim = 1 if rng.random() < 0.3 else 2
    group = int(rng.choice([1, 1, 2, 3]))
    c_in = group * int(rng.integers(1, 4))
    m = int(rng.integers(1, 4))
    kernel = [int(k) for k in rng.integers(1, 4, ndim)]
    spatial = [int(s) for s in rng.integers(2, 6, ndim)]
    strides = [int(s) for s in rng.integers(1, 4, ndim)]
    attrs: dict = {"strides": strides}
    if group > 1:
        attrs["group"] = group
    if rng.random() < 0.4:
        attrs["dilations"] = [int(d) for d in rng.integers(1, 3, ndim)]
    mode = ["pads", "output_shape", "SAME_UPPER", "SAME_LOWER", "VALID", "none"][seed % 6]
    if mode == "pads":
        attrs["pads"] = [int(p) for p in rng.integers(0, 2, 2 * ndim)]
    elif mode == "output_shape":
        dil = attrs.get("dilations", [1] * ndim)
        natural = [(n - 1) * s + d * (k - 1) + 1 for n, s, d, k in zip(spatial, strides, dil, kernel)]
        attrs["output_shape"] = [int(v + rng.integers(-1, 2)) for v in natural]
    elif mode != "none":
        attrs["auto_pad"] = mode
    if mode in ("pads", "none") and rng.random() < 0.6:
        attrs["output_padding"] = [int(rng.integers(0, s)) for s in strides]
    x = normal(rng, 1, c_in, *spatial)
    inits = {"w": normal(rng, c_in, m, *kernel)}
    if rng.random() < 0.6:
        inits["b"] = normal(rng, m * group)
    return {"x": x}, inits, attrs, int(rng.choice([11, 17]))


@pytest.mark.parametrize("seed", range(24))
def test_conv_transpose_random(seed):
    inputs, inits, attrs, opset = _random_conv_transpose(seed)
    check_model(op_model("ConvTranspose", inputs, inits, attrs, opset), inputs, f"ConvTranspose {attrs}")


# ----------------------------------------------------------------------------- errors


def test_conv_3d_is_unsupported():
    rng = np.random.default_rng(6)
    model = op_model("Conv", {"x": normal(rng, 1, 2, 3, 3, 3)}, {"w": normal(rng, 2, 2, 1, 1, 1)}, {})
    with pytest.raises(TinyaotError, match=r"node 'Conv_0' \(Conv\): 3-D .*not supported"):
        compiled(model)


def test_conv_weight_must_be_constant():
    rng = np.random.default_rng(7)
    inputs = {"x": normal(rng, 1, 2, 4, 4), "w": normal(rng, 3, 2, 3, 3)}
    model = op_model("Conv", inputs, {}, {})
    with pytest.raises(TinyaotError, match=r"\(Conv\): the weight must be a constant"):
        compiled(model)


def test_conv_inconsistent_group():
    rng = np.random.default_rng(8)
    model = op_model("Conv", {"x": normal(rng, 1, 4, 4, 4)}, {"w": normal(rng, 3, 3, 1, 1)}, {"group": 2})
    with pytest.raises(TinyaotError, match=r"\(Conv\): 4 input channels, weight \[3, 3, 1, 1\] and group 2"):
        compiled(model)


# ----------------------------------------------------------------------------- graphs


def _bn_params(rng, channels: int) -> dict:
    return {
        "bn_scale": normal(rng, channels),
        "bn_bias": normal(rng, channels),
        "bn_mean": normal(rng, channels),
        "bn_var": (rng.random(channels) + 0.5).astype(F32),
    }


def _bn_node(src: str, dst: str):
    return helper.make_node("BatchNormalization", [src, "bn_scale", "bn_bias", "bn_mean", "bn_var"], [dst], epsilon=1e-3)


def _bn_stub() -> OpDef:
    """Inference BatchNormalization for the importer, for when ops/normalization.py has none
    yet: the folding pass must remove every node it is given here."""

    def infer(node, inputs):
        return [(inputs[0].shape, inputs[0].dtype)]

    def evaluate(node, values):
        x, scale, bias, mean, var = values
        shape = (1, -1) + (1,) * (x.ndim - 2)
        eps = node.attrs.get("epsilon", 1e-5)
        y = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps) * scale.reshape(shape) + bias.reshape(shape)
        return [y.astype(x.dtype)]

    return OpDef(infer, evaluate)


@pytest.fixture
def batchnorm_importable(monkeypatch):
    import tinyaot.frontends.onnx as frontend

    if "BatchNormalization" not in frontend.OPS:
        monkeypatch.setattr(frontend, "OPS", {**frontend.OPS, "BatchNormalization": _bn_stub()})


def _ops(model) -> list[str]:
    return [n.op for n in compiled(model).graph.nodes]


@pytest.mark.parametrize("opset", [9, 17])
def test_conv_bn_relu_maxpool_conv(batchnorm_importable, opset):
    rng = np.random.default_rng(9)
    inputs = {"x": normal(rng, 1, 3, 9, 9)}
    inits = {"w1": normal(rng, 4, 3, 3, 3), "b1": normal(rng, 4), "w2": normal(rng, 5, 4, 3, 3), **_bn_params(rng, 4)}
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
        _bn_node("c1", "bn"),
        helper.make_node("Relu", ["bn"], ["r"]),
        helper.make_node("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["p", "w2"], ["y"], pads=[1, 0, 1, 0]),
    ]
    model = graph_model(nodes, inputs, inits, opset=opset)
    ops = _ops(model)
    assert "BatchNormalization" not in ops and "Relu" not in ops, ops
    assert ops.count("Transpose") == 2, ops  # only at the model's NCHW input and output
    check_model(model, inputs, "Conv-BN-Relu-MaxPool-Conv")


def test_bn_folds_into_grouped_conv_transpose(batchnorm_importable):
    rng = np.random.default_rng(10)
    inputs = {"x": normal(rng, 1, 4, 3, 3)}
    inits = {"w": normal(rng, 4, 3, 3, 3), **_bn_params(rng, 6)}
    nodes = [
        helper.make_node("ConvTranspose", ["x", "w"], ["c"], group=2, strides=[2, 2]),
        _bn_node("c", "y"),
    ]
    model = graph_model(nodes, inputs, inits)
    assert "BatchNormalization" not in _ops(model)
    check_model(model, inputs, "ConvTranspose-BN")


def test_bn_not_folded_when_conv_output_is_shared():
    if "BatchNormalization" not in OPS:
        pytest.skip("BatchNormalization is not implemented yet")
    rng = np.random.default_rng(11)
    inputs = {"x": normal(rng, 1, 2, 5, 5)}
    inits = {"w": normal(rng, 3, 2, 3, 3), **_bn_params(rng, 3)}
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"]),
        _bn_node("c", "bn"),
        helper.make_node("Add", ["bn", "c"], ["y"]),
    ]
    model = graph_model(nodes, inputs, inits)
    assert "BatchNormalization" in _ops(model)
    check_model(model, inputs, "shared Conv output")


def test_residual_block():
    rng = np.random.default_rng(12)
    inputs = {"x": normal(rng, 1, 4, 6, 6)}
    inits = {"w1": normal(rng, 4, 4, 3, 3), "b1": normal(rng, 4), "w2": normal(rng, 4, 4, 3, 3), "b2": normal(rng, 4)}
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], pads=[1, 1, 1, 1]),
        helper.make_node("Add", ["c2", "x"], ["s"]),
        helper.make_node("Relu", ["s"], ["y"]),
    ]
    model = graph_model(nodes, inputs, inits)
    ops = _ops(model)
    assert "Relu" not in ops, ops  # both fused: into the first Conv and into the Add
    check_model(model, inputs, "residual block")


def test_conv_relu_conv_has_no_transpose_between():
    rng = np.random.default_rng(13)
    inputs = {"x": normal(rng, 1, 3, 7, 7)}
    inits = {"w1": normal(rng, 6, 3, 3, 3), "w2": normal(rng, 6, 1, 3, 3), "w3": normal(rng, 2, 6, 1, 1)}
    nodes = [
        helper.make_node("Conv", ["x", "w1"], ["c1"], strides=[2, 2]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("Conv", ["r1", "w2"], ["c2"], group=6, pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c2"], ["r2"]),
        helper.make_node("Conv", ["r2", "w3"], ["y"]),
    ]
    model = graph_model(nodes, inputs, inits)
    graph = compiled(model).graph
    convs = [i for i, n in enumerate(graph.nodes) if n.op == "Conv"]
    between = [n.op for n in graph.nodes[convs[0] : convs[-1] + 1] if n.op != "Conv"]
    assert between == [], [n.op for n in graph.nodes]
    check_model(model, inputs, "Conv-Relu-DWConv-Relu-Conv")


def test_conv_global_average_pool_flatten_gemm():
    if "Gemm" not in OPS:
        pytest.skip("Gemm is not implemented yet")
    rng = np.random.default_rng(14)
    inputs = {"x": normal(rng, 1, 3, 8, 8)}
    inits = {"w": normal(rng, 8, 3, 3, 3), "b": normal(rng, 8), "fc_w": normal(rng, 5, 8), "fc_b": normal(rng, 5)}
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], strides=[2, 2], auto_pad="SAME_UPPER"),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("GlobalAveragePool", ["r"], ["g"]),
        helper.make_node("Flatten", ["g"], ["f"]),
        helper.make_node("Gemm", ["f", "fc_w", "fc_b"], ["y"], transB=1),
    ]
    model = graph_model(nodes, inputs, inits)
    assert "Transpose" not in _ops(model)[1:]  # GAP's [N,1,1,C] output needs no transpose
    check_model(model, inputs, "Conv-GAP-Flatten-Gemm")


def test_conv1d_chain():
    rng = np.random.default_rng(15)
    inputs = {"x": normal(rng, 2, 3, 16)}
    inits = {"w1": normal(rng, 6, 3, 5), "w2": normal(rng, 6, 1, 3), "w3": normal(rng, 4, 6, 1)}
    nodes = [
        helper.make_node("Conv", ["x", "w1"], ["c1"], pads=[2, 2], strides=[2]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("Conv", ["r1", "w2"], ["c2"], group=6, auto_pad="SAME_LOWER"),
        helper.make_node("MaxPool", ["c2"], ["p"], kernel_shape=[2], strides=[2], ceil_mode=1),
        helper.make_node("Conv", ["p", "w3"], ["y"]),
    ]
    check_model(graph_model(nodes, inputs, inits), inputs, "1-D chain")


def test_macs():
    from tinyaot.report import node_macs

    rng = np.random.default_rng(16)
    inputs = {"x": normal(rng, 1, 4, 6, 6)}
    inits = {"w1": normal(rng, 6, 2, 3, 3), "w2": normal(rng, 12, 1, 3, 1), "w3": normal(rng, 12, 2, 2, 2)}
    nodes = [
        helper.make_node("Conv", ["x", "w1"], ["c1"], group=2, strides=[2, 2]),  # out 1x6x2x2
        helper.make_node("Conv", ["c1", "w2"], ["c2"], group=6, pads=[1, 0, 1, 0]),  # out 1x12x2x2
        helper.make_node("ConvTranspose", ["c2", "w3"], ["y"], strides=[2, 2]),  # in 1x12x2x2
    ]
    graph = compiled(graph_model(nodes, inputs, inits)).graph
    macs = [m for n, m in zip(graph.nodes, node_macs(graph)) if n.op in ("Conv", "ConvTranspose")]
    assert macs == [24 * 2 * 9, 48 * 1 * 3, 48 * 2 * 4]
