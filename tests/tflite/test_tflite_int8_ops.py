"""int8 .tflite ops against LiteRT's reference kernels, bit for bit, beyond the MLPerf set:
RESIZE_BILINEAR (TFLite's Q10 fixed point, all three coordinate modes), DIV (fixed-point
reciprocal), MEAN over any axes with and without keep_dims, MAX_POOL_2D with a fused
activation, and the int8 data movement ops the other files leave out (SQUEEZE, EXPAND_DIMS,
PADV2, SLICE, SPLIT_V, MINIMUM, RESIZE_NEAREST_NEIGHBOR's modes). Randomised shapes,
scales and zero points; each op's golden (its `evaluate`, tflite_quant.py) is also checked
against the generated C where LiteRT gives no answer."""

from __future__ import annotations

import numpy as np
import pytest
from tfcheck import check, compile_tflite, int8_quant, interpreter, run_litert, run_tinyaot
from tflite_builder import ModelBuilder

from tinyaot import tflite_quant as tq
from tinyaot.errors import TinyaotError
from tinyaot.ops import OPS

I8 = np.int8


def _ints(values) -> np.ndarray:
    return np.array(values, np.int32)


def _one_op(code: str, x_shape, xq, y_shape, yq, consts=(), **options) -> bytes:
    b = ModelBuilder()
    x = b.input("x", list(x_shape), I8, quant=xq)
    y = b.tensor("y", list(y_shape), I8, quant=yq)
    b.op(code, [x, *[b.const(f"c{k}", v) if not isinstance(v, tuple) else b.const(f"c{k}", *v)
                     for k, v in enumerate(consts)]], [y], **options)
    return b.finish([x], [y])


# ----------------------------------------------------------------------------- RESIZE_BILINEAR


@pytest.mark.parametrize("mode", ["asymmetric", "align_corners", "half_pixel"])
@pytest.mark.parametrize("case", range(6))
def test_resize_bilinear(mode, case):
    rng = np.random.default_rng(700 + case + 10 * len(mode))
    h, w = int(rng.integers(1, 9)), int(rng.integers(1, 9))
    size = [int(rng.integers(1, 19)), int(rng.integers(1, 19))]
    if case == 0:
        size = [2 * h, 2 * w]  # the common 2x upsampling: many Q20 ties
    q = int8_quant(rng)
    model = _one_op("RESIZE_BILINEAR", (2, h, w, 3), q, (2, *size, 3), q, [_ints(size)],
                    AlignCorners=mode == "align_corners", HalfPixelCenters=mode == "half_pixel")
    for seed in range(3):
        check(model, seed=seed)
    extremes = np.where(rng.integers(0, 2, size=(2, h, w, 3)) > 0, 127, -128).astype(I8)
    check(model, [extremes])


def test_resize_bilinear_golden_is_not_float_bilinear():
    """The Q10 position (7 / 6 rounded to 1195 / 1024) makes the last of 6 outputs from 7
    alternating extremes -86 where exact bilinear interpolation rounds to -85 (float32 too):
    the golden and the kernel must give LiteRT's -86, not the exact value."""
    x = np.array([-128, 127, -128, 127, -128, 127, -128], I8).reshape(1, 1, 7, 1)
    assert tq.resize_bilinear(x, (1, 6), False, False).ravel().tolist() == [-128, 84, -43, -1, 42, -86]
    position = 5 * 7 / 6
    exact = 127 + (position - 5) * (-128 - 127)
    assert round(exact) == -85
    q = (np.float32(0.05), 0)
    check(_one_op("RESIZE_BILINEAR", (1, 1, 7, 1), q, (1, 1, 6, 1), q, [_ints([1, 6])]), [x])


def test_resize_bilinear_past_the_input_is_rejected():
    q = (np.float32(0.05), 0)
    model = _one_op("RESIZE_BILINEAR", (1, 1, 1, 2), q, (1, 2000, 1, 2), q, [_ints([2000, 1])])
    with pytest.raises(TinyaotError, match=r"node .resize_bilinear_0. .*resizing 1 to 2000 reads past the input"):
        compile_tflite(model)


# ----------------------------------------------------------------------------- DIV


def _div_model(a_shape, b_shape, qa, qb, qy, act="NONE", divisor=None) -> bytes:
    b = ModelBuilder()
    a = b.input("a", list(a_shape), I8, quant=qa)
    d = b.const("d", divisor, quant=qb) if divisor is not None else b.input("b", list(b_shape), I8, quant=qb)
    y = b.tensor("y", list(np.broadcast_shapes(a_shape, b_shape)), I8, quant=qy)
    b.op("DIV", [a, d], [y], FusedActivationFunction=act)
    return b.finish([a] if divisor is not None else [a, d], [y])


def _div_shift(qa, qb, qy) -> int:
    return tq.quantize_multiplier(float(qa[0]) / (float(qb[0]) * float(qy[0])))[1]


@pytest.mark.parametrize("case", range(8))
def test_div_every_operand_pair(case):
    """Every int8 dividend against every divisor but the divisor's zero point (LiteRT fails
    there), random quantizations. LiteRT's last shift is undefined C where it exceeds 31;
    elsewhere (most elements; checked) the result is bit-exact, and tinyaot's C equals its
    golden everywhere."""
    rng = np.random.default_rng(800 + case)
    qa, qb = int8_quant(rng), int8_quant(rng)
    qy = (np.float32(qa[0] / qb[0] / rng.uniform(5, 60)), int(rng.integers(-40, 40)))
    act = ["NONE", "RELU", "RELU6", "NONE"][case % 4]
    a = np.repeat(np.arange(-128, 128).reshape(256, 1), 255, 1).astype(I8)
    b = np.repeat(np.array([v for v in range(-128, 128) if v != qb[1]]).reshape(1, 255), 256, 0).astype(I8)
    model = _div_model((256, 255), (256, 255), qa, qb, qy, act)
    expected = run_litert(model, [a, b])[0]
    compiled = compile_tflite(model)
    actual = run_tinyaot(compiled, [a, b])[0]
    defined = tq.div_exponent(a, b, qa[1], qb[1], _div_shift(qa, qb, qy)) <= 31
    assert defined.mean() > 0.5
    np.testing.assert_array_equal(actual[defined], expected[defined])
    node = next(n for n in compiled.graph.nodes if n.op == "TFLiteDiv")
    np.testing.assert_array_equal(actual, OPS["TFLiteDiv"].evaluate(node, [a, b])[0])


@pytest.mark.parametrize("shapes", [((1, 4, 4, 3), (1, 1, 1, 3)), ((2, 5), (1, 5)), ((3, 1, 4), (1, 2, 1))])
def test_div_broadcasting(shapes):
    rng = np.random.default_rng(len(shapes[1]) * 7)
    qa, qb = int8_quant(rng), int8_quant(rng)
    qy = (np.float32(qa[0] / qb[0] / 40), int(rng.integers(-20, 20)))
    model = _div_model(*shapes, qa, qb, qy)
    for seed in range(4):
        inputs = [rng.integers(-128, 128, size=s).astype(I8) for s in shapes]
        inputs[1][inputs[1] == qb[1]] = qb[1] + 1
        expected = run_litert(model, inputs)[0]
        actual = run_tinyaot(model, inputs)[0]
        a, b = np.broadcast_arrays(*inputs)
        defined = tq.div_exponent(a, b, qa[1], qb[1], _div_shift(qa, qb, qy)) <= 31
        np.testing.assert_array_equal(actual[defined], expected[defined])


def test_div_by_a_constant():
    """The usual form (x / c): with this quantization every element is well defined in LiteRT."""
    qa, qb, qy = (np.float32(0.02), -5), (np.float32(0.01), 0), (np.float32(0.001), 3)
    assert _div_shift(qa, qb, qy) >= 7
    divisor = np.array([[50, -80, 127, 3]], I8)
    model = _div_model((6, 4), (1, 4), qa, qb, qy, divisor=divisor)
    for seed in range(3):
        check(model, seed=seed)


def test_div_by_the_zero_point():
    qa, qb, qy = (np.float32(0.02), 1), (np.float32(0.03), 4), (np.float32(0.05), -2)
    with pytest.raises(TinyaotError, match=r"\(DIV\): the constant divisor holds its zero point"):
        compile_tflite(_div_model((1, 4), (1, 4), qa, qb, qy, divisor=np.array([[3, 4, 5, 6]], I8)))
    model = _div_model((1, 6), (1, 6), qa, qb, qy, act="RELU6")
    a = np.array([[-128, -1, 0, 1, 2, 127]], I8)
    b = np.full((1, 6), 4, I8)
    with pytest.raises(RuntimeError):
        run_litert(model, [a, b])  # LiteRT refuses a division by zero at run time
    compiled = compile_tflite(model)
    actual = run_tinyaot(compiled, [a, b])[0]
    lo, hi = tq.activation_range("relu6", qy[0], qy[1])
    np.testing.assert_array_equal(actual, [[lo, lo, lo, hi, hi, hi]])  # a - a_zp < 0 saturates low


def test_div_output_scale_too_small_is_rejected():
    qa, qb, qy = (np.float32(0.5), 0), (np.float32(0.001), 0), (np.float32(1e-6), 0)
    with pytest.raises(TinyaotError, match=r"node .div_0. .*too large"):
        compile_tflite(_div_model((1, 4), (1, 4), qa, qb, qy))


# ----------------------------------------------------------------------------- MEAN, SUM


def _mean_model(code, shape, axes, keep, xq, yq) -> bytes:
    out = [1 if k in axes else d for k, d in enumerate(shape)] if keep else \
        [d for k, d in enumerate(shape) if k not in [a % len(shape) for a in axes]]
    return _one_op(code, shape, xq, out, yq, [_ints(axes)], KeepDims=keep)


@pytest.mark.parametrize("keep", [True, False])
@pytest.mark.parametrize("case", range(10))
def test_mean_any_axes(case, keep):
    """LiteRT's reference int8 MEAN takes QuantizedMeanOrSum for every axes / keep_dims /
    quantization (same or different): contiguous axes, non-contiguous ones (transposed
    first), negative and repeated axes, ranks 1 to 5."""
    rng = np.random.default_rng(900 + case + 50 * keep)
    rank = 1 + case % 5
    shape = tuple(int(rng.integers(1, 7)) for _ in range(rank))
    axes = sorted(rng.choice(rank, int(rng.integers(1, rank + 1)), replace=False).tolist())
    if case == 7:
        axes = [axes[0] - rank, axes[0]]  # negative and repeated
    if case == 9:
        shape, axes = (1, 6, 5, 4), [1, 3]  # H and C: not contiguous
    xq = int8_quant(rng)
    yq = xq if case % 3 == 0 else (np.float32(xq[0] * rng.uniform(0.2, 4)), int(rng.integers(-40, 40)))
    model = _mean_model("MEAN", shape, axes, keep, xq, yq)
    for seed in range(3):
        check(model, seed=seed)


def test_mean_large_count_over_channels():
    xq, yq = (np.float32(0.05), 10), (np.float32(0.02), -3)
    model = _mean_model("MEAN", (2, 3, 700), [2], False, xq, yq)
    for value in (-128, 127):
        check(model, [np.full((2, 3, 700), value, I8)])
    check(model, seed=1)


def test_int8_sum_is_rejected_and_float_sum_works():
    q = (np.float32(0.05), 3)
    with pytest.raises(TinyaotError, match=r"\(SUM\): int8 SUM is not supported"):
        compile_tflite(_mean_model("SUM", (2, 4, 3), [1], True, q, q))
    b = ModelBuilder()
    x = b.input("x", [2, 4, 3])
    y = b.tensor("y", [2, 3])
    b.op("SUM", [x, b.const("axes", _ints([1]))], [y], KeepDims=False)
    check(b.finish([x], [y]))


# ----------------------------------------------------------------------------- CONCATENATION


def test_concatenation_with_rescaling_is_rejected_like_litert():
    """LiteRT's int8 CONCATENATION requires every input quantized as the output (its Prepare
    fails otherwise): there is no rescaling to reproduce, and tinyaot says so."""
    qa, qy = (np.float32(0.05), 1), (np.float32(0.07), 3)
    b = ModelBuilder()
    x = b.input("x", [1, 4], I8, quant=qa)
    x2 = b.input("x2", [1, 4], I8, quant=qy)
    y = b.tensor("y", [1, 8], I8, quant=qy)
    b.op("CONCATENATION", [x, x2], [y], Axis=1)
    model = b.finish([x, x2], [y])
    with pytest.raises(RuntimeError, match="scale"):
        interpreter(model)
    with pytest.raises(TinyaotError, match=r"\(CONCATENATION\): int8 inputs quantized unlike the output"):
        compile_tflite(model)


# ----------------------------------------------------------------------------- MAX_POOL_2D + activation


@pytest.mark.parametrize("act", ["RELU", "RELU6", "RELU_N1_TO_1"])
def test_max_pool_with_fused_activation(act):
    rng = np.random.default_rng(len(act))
    q = (np.float32(0.03), int(rng.integers(-20, 20)))
    model = _one_op("MAX_POOL_2D", (1, 7, 6, 3), q, (1, 4, 3, 3), q, Padding="SAME", StrideH=2, StrideW=2,
                    FilterHeight=3, FilterWidth=2, FusedActivationFunction=act)
    for seed in range(3):
        check(model, seed=seed)


# ----------------------------------------------------------------------------- data movement


def test_squeeze_expand_dims_slice_split_v():
    rng = np.random.default_rng(41)
    q = int8_quant(rng)
    b = ModelBuilder()
    x = b.input("x", [1, 5, 1, 6], I8, quant=q)
    sq = b.tensor("sq", [5, 6], I8, quant=q)
    b.op("SQUEEZE", [x], [sq], SqueezeDims=[0, 2])
    ex = b.tensor("ex", [5, 1, 6], I8, quant=q)
    b.op("EXPAND_DIMS", [sq, b.const("axis", _ints([1]))], [ex])
    sl = b.tensor("sl", [3, 1, 4], I8, quant=q)
    b.op("SLICE", [ex, b.const("begin", _ints([1, 0, 2])), b.const("size", _ints([3, -1, 4]))], [sl])
    parts = [b.tensor(f"p{k}", [3, 1, n], I8, quant=q) for k, n in enumerate([1, 3])]
    b.op("SPLIT_V", [sl, b.const("sizes", _ints([1, -1])), b.const("axis", _ints([2]))], parts, NumSplits=2)
    model = b.finish([x], [sq, ex, sl, *parts])
    for seed in range(2):
        check(model, seed=seed)


@pytest.mark.parametrize("zero_point", [-7, 20])
def test_padv2_with_an_int8_constant(zero_point):
    q = (np.float32(0.04), zero_point)
    b = ModelBuilder()
    x = b.input("x", [1, 3, 2, 2], I8, quant=q)
    y = b.tensor("y", [1, 5, 5, 2], I8, quant=q)
    b.op("PADV2", [x, b.const("p", _ints([[0, 0], [1, 1], [2, 1], [0, 0]])), b.const("v", np.array([-90], I8), quant=q)],
         [y])
    check(b.finish([x], [y]))


def test_minimum_and_maximum():
    rng = np.random.default_rng(43)
    q = int8_quant(rng)
    b = ModelBuilder()
    x = b.input("x", [2, 3, 4], I8, quant=q)
    x2 = b.input("x2", [1, 3, 1], I8, quant=q)
    lo = b.tensor("lo", [2, 3, 4], I8, quant=q)
    hi = b.tensor("hi", [2, 3, 4], I8, quant=q)
    b.op("MINIMUM", [x, x2], [lo])
    b.op("MAXIMUM", [x, x2], [hi])
    model = b.finish([x, x2], [lo, hi])
    for seed in range(3):
        check(model, seed=seed)


@pytest.mark.parametrize("align,half", [(False, False), (True, False), (False, True)])
def test_resize_nearest_neighbor_modes(align, half):
    q = (np.float32(0.05), -4)
    model = _one_op("RESIZE_NEAREST_NEIGHBOR", (1, 5, 3, 2), q, (1, 8, 7, 2), q, [_ints([8, 7])],
                    AlignCorners=align, HalfPixelCenters=half)
    for seed in range(2):
        check(model, seed=seed)


def _quant_changing_models() -> dict[str, bytes]:
    qx, qy = (np.float32(0.05), 3), (np.float32(0.07), -9)
    nhwc = (1, 4, 4, 2)
    return {
        "PAD": _one_op("PAD", nhwc, qx, (1, 6, 5, 2), qy, [_ints([[0, 0], [1, 1], [0, 1], [0, 0]])]),
        "AVERAGE_POOL_2D": _one_op("AVERAGE_POOL_2D", nhwc, qx, (1, 2, 2, 2), qy, Padding="SAME", StrideH=2,
                                   StrideW=2, FilterHeight=3, FilterWidth=3, FusedActivationFunction="RELU"),
        "MAX_POOL_2D": _one_op("MAX_POOL_2D", nhwc, qx, (1, 2, 2, 2), qy, Padding="VALID", StrideH=2, StrideW=2,
                               FilterHeight=2, FilterWidth=2),
        "RESHAPE": _one_op("RESHAPE", nhwc, qx, (16, 2), qy, [_ints([16, 2])]),
        "TRANSPOSE": _one_op("TRANSPOSE", nhwc, qx, (1, 2, 4, 4), qy, [_ints([0, 3, 1, 2])]),
        "STRIDED_SLICE": _one_op("STRIDED_SLICE", nhwc, qx, (1, 2, 2, 2), qy,
                                 [_ints([0, 0, 0, 0]), _ints([1, 4, 4, 2]), _ints([1, 2, 2, 1])]),
        "RESIZE_BILINEAR": _one_op("RESIZE_BILINEAR", nhwc, qx, (1, 7, 5, 2), qy, [_ints([7, 5])]),
    }


@pytest.mark.parametrize("code", sorted(_quant_changing_models()))
def test_int8_output_quantized_unlike_the_input(code):
    """LiteRT's int8 kernels of these ops move or average raw values and ignore a change of
    quantization (PAD pads with the output's zero point): tinyaot does the same."""
    model = _quant_changing_models()[code]
    for seed in range(2):
        check(model, seed=seed)


@pytest.mark.parametrize("code,op", [("RESIZE_BILINEAR", "TFLiteResizeBilinear"), ("MEAN", "TFLiteMean")])
def test_golden_equals_the_kernel(code, op):
    """The op's numpy golden (its evaluate, used for constant folding) and the C kernel agree
    on random inputs, shapes and modes (each also matches LiteRT above)."""
    rng = np.random.default_rng(len(code))
    for case in range(6):
        q = int8_quant(rng)
        if code == "MEAN":
            shape = (int(rng.integers(1, 4)), int(rng.integers(1, 9)), int(rng.integers(1, 9)), int(rng.integers(1, 5)))
            axes = [[1, 2], [3], [0, 1], [1, 2, 3], [2], [0, 1, 2, 3]][case]
            model = _mean_model("MEAN", shape, axes, case % 2 == 0, q, (np.float32(q[0] * rng.uniform(0.3, 3)), -5))
        else:
            shape = (2, int(rng.integers(1, 7)), int(rng.integers(1, 7)), 3)
            size = [int(rng.integers(1, 15)), int(rng.integers(1, 15))]
            model = _one_op(code, shape, q, (2, *size, 3), q, [_ints(size)], AlignCorners=case % 3 == 1,
                            HalfPixelCenters=case % 3 == 2)
        compiled = compile_tflite(model)
        node = next(n for n in compiled.graph.nodes if n.op == op)
        x = rng.integers(-128, 128, size=shape).astype(I8)
        np.testing.assert_array_equal(run_tinyaot(compiled, [x])[0].reshape(-1),
                                      OPS[op].evaluate(node, [x])[0].reshape(-1))


@pytest.mark.parametrize("core", ["cortex-m0", "cortex-m55"])
def test_new_int8_kernels_on_target(core):
    """RESIZE_BILINEAR (half pixel), DIV by a constant, MAX_POOL_2D + RELU6, PAD and a MEAN
    over non-contiguous axes as firmware under QEMU: bit-exact with LiteRT."""
    from tinyaot.targets import run_target

    rng = np.random.default_rng(47)
    q = (np.float32(0.05), -6)
    b = ModelBuilder()
    x = b.input("x", [1, 5, 4, 3], I8, quant=q)
    up = b.tensor("up", [1, 9, 7, 3], I8, quant=q)
    b.op("RESIZE_BILINEAR", [x, b.const("size", _ints([9, 7]))], [up], HalfPixelCenters=True)
    qd = (np.float32(0.04), 4)  # output shift 6: every element of the DIV is well defined in LiteRT
    divided = b.tensor("divided", [1, 9, 7, 3], I8, quant=qd)
    b.op("DIV", [up, b.const("d", np.array([90, -70, 127], I8), quant=(np.float32(0.02), 0))], [divided])
    pooled = b.tensor("pooled", [1, 5, 4, 3], I8, quant=qd)
    b.op("MAX_POOL_2D", [divided], [pooled], Padding="SAME", StrideH=2, StrideW=2, FilterHeight=2, FilterWidth=2,
         FusedActivationFunction="RELU6")
    padded = b.tensor("padded", [1, 6, 4, 3], I8, quant=(np.float32(0.03), -20))
    b.op("PAD", [pooled, b.const("p", _ints([[0, 0], [1, 0], [0, 0], [0, 0]]))], [padded])
    mean = b.tensor("mean", [1, 4], I8, quant=(np.float32(0.05), -3))
    b.op("MEAN", [padded, b.const("axes", _ints([1, 3]))], [mean], KeepDims=False)
    model = b.finish([x], [divided, mean])
    inputs = [rng.integers(-128, 128, size=(1, 5, 4, 3)).astype(I8)]
    compiled = compile_tflite(model)
    outputs = run_target(compiled, dict(zip(compiled.graph.inputs, inputs)), core).outputs
    expected = run_litert(model, inputs)
    assert np.unique(expected[0]).size > 50 and np.unique(expected[1]).size > 1  # not saturated
    for out, want in zip(compiled.graph.outputs, expected):
        np.testing.assert_array_equal(outputs[out], want)
