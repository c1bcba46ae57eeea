"""Gemm and MatMul against onnxruntime: every transpose/alpha/beta/C-shape combination,
numpy MatMul broadcasting, constant and non-constant operands, fused activations."""

import itertools

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from opcheck import _NP_TO_ONNX, assert_close, check_model, model_from_graph, run_onnxruntime
from tinyaot.codegen import generate
from tinyaot.errors import TinyaotError
from tinyaot.frontends.onnx import import_model
from tinyaot.hostrun import run_host
from tinyaot.pipeline import CompiledModel, CompileOptions, compile_graph
from tinyaot.planner import plan_memory

RNG = np.random.default_rng(20240611)


def rand(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def node_model(op, inputs, attrs=None, initializers=None, order=None, opset=17):
    """One `op` node; like opcheck.single_node_model but with a typed (float) output, which
    onnxruntime requires."""
    initializers = dict(initializers or {})
    order = list(order) if order is not None else [*inputs, *initializers]
    node = helper.make_node(op, order, ["y"], **dict(attrs or {}))
    graph = helper.make_graph(
        [node],
        f"test_{op.lower()}",
        [helper.make_tensor_value_info(k, _NP_TO_ONNX[v.dtype], v.shape) for k, v in inputs.items()],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(v, k) for k, v in initializers.items()],
    )
    return model_from_graph(graph, opset)


def check(op, data, attrs=None, consts=None, order=None, opset=17):
    model = node_model(op, data, attrs, consts, order, opset)
    shapes = {k: v.shape for k, v in {**data, **(consts or {})}.items()}
    check_model(model, data, f"{op} attrs={attrs} shapes={shapes} const={sorted(consts or {})}")


# ----------------------------------------------------------------------------- Gemm

C_SHAPES = [None, (), (1,), "N", "1N", "M1", "MN", "11"]


def _c_shape(code, m, n):
    return {None: None, (): (), (1,): (1,), "N": (n,), "1N": (1, n), "M1": (m, 1), "MN": (m, n), "11": (1, 1)}[code]


@pytest.mark.parametrize("case,trans_a,trans_b,c_code", [(i, *p) for i, p in enumerate(itertools.product((0, 1), (0, 1), C_SHAPES))])
def test_gemm(case, trans_a, trans_b, c_code):
    case %= 4
    m, n, k = (1, 7, 13) if case == 0 else (3, 5, 9)
    attrs = {"transA": trans_a, "transB": trans_b}
    if case in (1, 2, 3):
        attrs["alpha"] = float(RNG.uniform(-2, 2))
    if case in (2, 3) and c_code is not None:
        attrs["beta"] = float(RNG.uniform(-2, 2))
    a = rand(*((k, m) if trans_a else (m, k)))
    b = rand(*((n, k) if trans_b else (k, n)))
    c_shape = _c_shape(c_code, m, n)
    data, consts, order = {"a": a}, {}, ["a", "b"]
    # B is usually a constant (weights); every fourth case feeds it as data.
    (data if case == 2 else consts)["b"] = b
    if c_shape is not None:
        # C as data too when B is data, and also once in a while with constant B.
        (data if case in (0, 2) else consts)["c"] = rand(*c_shape)
        order.append("c")
    check("Gemm", data, attrs, consts, order)


# The kernel runs 8 outputs of a row per sweep over K, then single leftovers: N = 19 is two
# blocks and 3 leftovers, on both B layouts ([N][K] constant weights or data with transB,
# [K][N] data) and with A read through a stride (transA).
@pytest.mark.parametrize("trans_a,trans_b,b_const", list(itertools.product((0, 1), (0, 1), (True, False))))
def test_gemm_register_blocks(trans_a, trans_b, b_const):
    m, n, k = 3, 19, 11
    a = rand(*((k, m) if trans_a else (m, k)))
    b = rand(*((n, k) if trans_b else (k, n)))
    consts = {"b": b, "c": rand(n)} if b_const else {"c": rand(n)}
    data = {"a": a} if b_const else {"a": a, "b": b}
    check("Gemm", data, {"transA": trans_a, "transB": trans_b, "alpha": 0.7, "beta": 1.3}, consts, ["a", "b", "c"])


def test_gemm_opset7_requires_c():
    a, b, c = rand(2, 4), rand(4, 3), rand(3)
    check("Gemm", {"a": a}, {"alpha": 0.5, "beta": 2.0}, {"b": b, "c": c}, opset=7)


def test_gemm_a_constant_b_data():
    check("Gemm", {"b": rand(6, 4)}, {"transA": 1, "transB": 1}, {"a": rand(4, 3), "c": rand(3, 6)}, ["a", "b", "c"], opset=13)


def test_gemm_without_canonical_form():
    # A Gemm that never went through the layout pass (another frontend, a later pass) runs
    # as written: [K][N] weights, alpha and beta applied by the kernel.
    a, b, c = rand(3, 6), rand(6, 5), rand(3, 1)
    model = node_model("Gemm", {"a": a}, {"alpha": -0.7, "beta": 1.3}, {"b": b, "c": c})
    graph = import_model(model, "m", {})
    plan = plan_memory(graph)
    outputs = run_host(CompiledModel(graph, graph, plan, generate(graph, plan)), {"a": a})
    assert_close(outputs["y"], run_onnxruntime(model, {"a": a})["y"], "raw Gemm")


def test_gemm_bad_c_shape():
    model = node_model("Gemm", {"a": rand(2, 4)}, {}, {"b": rand(4, 3), "c": rand(2, 2)})
    with pytest.raises(TinyaotError, match=r"\(Gemm\): C of shape \[2, 2\] does not broadcast"):
        import_model(model, "m", {})


# ----------------------------------------------------------------------------- MatMul

MATMUL_SHAPES = [
    ((5,), (5,)),
    ((5,), (5, 3)),
    ((4, 5), (5,)),
    ((1, 64), (64, 12)),
    ((4, 5), (5, 3)),
    ((2, 4, 5), (5, 3)),
    ((2, 4, 5), (2, 5, 3)),
    ((1, 4, 5), (3, 5, 2)),
    ((5,), (2, 5, 3)),
    ((2, 4, 5), (5,)),
    ((2, 1, 4, 5), (3, 5, 2)),
    ((2, 1, 3, 5), (1, 3, 5, 4)),
    ((3, 1, 2, 1, 4), (2, 1, 4, 2)),
]


@pytest.mark.parametrize("a_shape,b_shape", MATMUL_SHAPES)
@pytest.mark.parametrize("b_const", [True, False])
def test_matmul(a_shape, b_shape, b_const):
    a, b = rand(*a_shape), rand(*b_shape)
    if b_const:
        check("MatMul", {"a": a}, None, {"b": b})
    else:
        check("MatMul", {"a": a, "b": b})


def test_matmul_a_constant():
    check("MatMul", {"b": rand(2, 5, 3)}, None, {"a": rand(4, 5)}, ["a", "b"], opset=9)


def test_matmul_integer_rejected():
    model = node_model("MatMul", {"a": np.ones((2, 3), np.int32)}, {}, {"b": np.ones((3, 2), np.int32)})
    with pytest.raises(TinyaotError, match=r"\(MatMul\): element type int32 is not supported"):
        import_model(model, "m", {})


# ----------------------------------------------------------------------------- graphs


def _graph(nodes, inputs, outputs, inits, opset=17):
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info(k, TensorProto.FLOAT, v.shape) for k, v in inputs.items()],
        [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outputs],
        [numpy_helper.from_array(v, k) for k, v in inits.items()],
    )
    return model_from_graph(graph, opset)


@pytest.mark.parametrize("act", ["Relu", "Clip", "LeakyRelu"])
def test_gemm_activation_fused(act):
    x = rand(2, 16)
    extra = {"Clip": ["lo", "hi"]}.get(act, [])
    attrs = {"alpha": 0.2} if act == "LeakyRelu" else {}
    inits = {"w": rand(8, 16), "bias": rand(8), "w2": rand(8, 4), "lo": np.float32(-0.5), "hi": np.float32(0.7)}
    nodes = [
        helper.make_node("Gemm", ["x", "w", "bias"], ["g"], transB=1),
        helper.make_node(act, ["g", *extra], ["r"], **attrs),
        helper.make_node("Gemm", ["r", "w2"], ["y"], alpha=0.5),
    ]
    if act != "Clip":
        del inits["lo"], inits["hi"]
    model = _graph(nodes, {"x": x}, ["y"], inits)
    check_model(model, {"x": x}, f"Gemm->{act}->Gemm")
    optimized = compile_graph(import_model(model, "m", {}), CompileOptions()).graph
    assert [n.op for n in optimized.nodes] == ["Gemm", "Gemm"]
    assert optimized.nodes[0].attrs["activation"][0] == {"Relu": "relu", "Clip": "clip", "LeakyRelu": "leaky_relu"}[act]
    # The second Gemm's weights were re-laid [N][K] with alpha folded in.
    second = optimized.nodes[1]
    assert second.attrs["transB"] == 1 and second.attrs["alpha"] == 1.0
    assert optimized.tensor(second.inputs[1]).shape == (4, 8)


def test_matmul_add_softmax():
    x = rand(3, 2, 10)
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["mm"]),
        helper.make_node("Add", ["mm", "bias"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["y"], axis=-1),
    ]
    model = _graph(nodes, {"x": x}, ["y"], {"w": rand(10, 6), "bias": rand(6)}, opset=13)
    check_model(model, {"x": x}, "MatMul->Add->Softmax")


def test_mlp_matmul_add_relu_chain():
    x = rand(1, 40)
    nodes, inits, prev = [], {}, "x"
    for i, (k, n) in enumerate([(40, 32), (32, 8), (8, 40)]):
        inits[f"w{i}"], inits[f"b{i}"] = rand(k, n) * 0.3, rand(n)
        nodes += [
            helper.make_node("MatMul", [prev, f"w{i}"], [f"mm{i}"]),
            helper.make_node("Add", [f"mm{i}", f"b{i}"], [f"a{i}"]),
        ]
        prev = f"a{i}"
        if i < 2:
            nodes.append(helper.make_node("Relu", [prev], [f"r{i}"]))
            prev = f"r{i}"
    nodes.append(helper.make_node("Identity", [prev], ["y"]))
    check_model(_graph(nodes, {"x": x}, ["y"], inits), {"x": x}, "MLP")


def test_macs_reported():
    from tinyaot.report import node_macs

    model = _graph(
        [helper.make_node("Gemm", ["x", "w"], ["g"], transB=1), helper.make_node("MatMul", ["g", "w2"], ["y"])],
        {"x": rand(2, 6)}, ["y"], {"w": rand(5, 6), "w2": rand(3, 5, 4)},
    )
    graph = compile_graph(import_model(model, "m", {}), CompileOptions()).graph
    assert node_macs(graph) == [2 * 5 * 6, 3 * 2 * 4 * 5]
