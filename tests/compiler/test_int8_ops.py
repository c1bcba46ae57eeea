"""Per-op int8 tests: every quantized op in its QOperator form and in QDQ form, over random
scales, zero points, shapes, strides, pads, per-channel / per-tensor weights, int8 and
uint8. Each model runs with tinyaot's C (host), tinyaot's integer golden and onnxruntime
(default session options): C == golden on every element, and tinyaot vs onnxruntime within
the acceptance (>= 99.5% exact, never more than one step off); the ops measured exact are
checked exactly."""

from __future__ import annotations

import numpy as np
import pytest

from int8check import QRANGE, Builder, check_int8, random_tensor, scalar
from tinyaot.errors import TinyaotError

F32 = np.float32
S8, U8 = np.int8, np.uint8


def check(b: Builder, out: str, what: str, exact: float = 1.0, max_steps: int = 0, feeds: int = 3):
    return check_int8(b.model([out]), b.feeds(feeds), what, exact=exact, max_steps=max_steps)


# ----------------------------------------------------------------------------- QOperator form

CONV_CASES = [
    # dtype, weight dtype, group, per_channel, kernel, stride, pads, dilation, bias
    (S8, S8, 1, True, 3, 1, [1, 1, 2, 1], 1, True),
    (S8, S8, 1, False, 3, 2, [0, 1, 1, 0], 1, False),
    (S8, S8, 8, True, 3, 1, [1, 1, 1, 1], 2, True),
    (S8, S8, 2, True, 3, 2, [1, 1, 1, 1], 1, True),
    (S8, S8, 1, True, 1, 1, [0, 0, 0, 0], 1, True),
    (S8, S8, 1, True, 5, 3, [2, 2, 2, 2], 1, True),
    (U8, U8, 1, False, 3, 1, [1, 1, 1, 1], 1, True),
    (U8, U8, 1, True, 3, 2, [1, 0, 1, 0], 1, True),
    (U8, U8, 8, True, 3, 1, [1, 1, 1, 1], 1, True),
    (U8, S8, 1, True, 1, 1, [0, 0, 0, 0], 1, False),
]


@pytest.mark.parametrize("case", range(len(CONV_CASES)))
def test_qlinearconv(case):
    dtype, wdtype, group, per_channel, k, stride, pads, dilation, bias = CONV_CASES[case]
    b = Builder(case, dtype)
    c_in, c_out = 8, 8
    x = b.input((1, c_in, 11, 9))
    xs, xz = b.qparams()
    # uint8 x int8: 7-bit weights, which onnxruntime's AVX2 kernels multiply without saturating
    w, ws, wz = b.weights((c_out, c_in // group, k, k), 0 if per_channel else None, wdtype, 7 if dtype != wdtype else 8)
    ys, yz = b.qparams((0.05, 0.3))
    inputs = [x, xs, xz, w, ws, wz, ys, yz] + ([b.init("b", b.rng.integers(-3000, 3000, c_out).astype(np.int32))]
                                               if bias else [])
    out = b.node("QLinearConv", inputs, group=group, kernel_shape=[k, k], strides=[stride, stride], pads=pads,
                 dilations=[dilation, dilation])
    check(b, out, f"QLinearConv case {case}")


def test_qlinearconv_1d_auto_pad():
    b = Builder(50)
    x = b.input((1, 4, 13))
    w, ws, wz = b.weights((6, 4, 3), 0)
    out = b.node("QLinearConv", [x, *b.qparams(), w, ws, wz, *b.qparams((0.05, 0.3))], auto_pad="SAME_UPPER",
                 strides=[2])
    check(b, out, "QLinearConv 1-D SAME_UPPER")


@pytest.mark.parametrize("dtype,per_column,lead", [(S8, False, ()), (S8, True, (2,)), (U8, False, ()), (U8, True, ())])
def test_qlinearmatmul(dtype, per_column, lead):
    b = Builder(1, dtype)
    a = b.input((*lead, 5, 33))
    w, ws, wz = b.weights((33, 7), 1 if per_column else None, dtype)
    if per_column:
        b.inits[ws] = b.inits[ws].reshape(-1)
    out = b.node("QLinearMatMul", [a, *b.qparams(), w, ws, wz, *b.qparams((0.05, 0.3))])
    check(b, out, "QLinearMatMul")


@pytest.mark.parametrize("trans_b,alpha,bias,per_column", [(1, 1.0, True, False), (0, 0.5, True, True),
                                                          (1, 1.0, False, False)])
def test_qgemm(trans_b, alpha, bias, per_column):
    b = Builder(2)
    a = b.input((4, 20))
    shape = (9, 20) if trans_b else (20, 9)
    w, ws, wz = b.weights(shape, (0 if trans_b else 1) if per_column else None)
    c = b.init("c", b.rng.integers(-2000, 2000, 9).astype(np.int32)) if bias else ""
    out = b.node("QGemm", [a, *b.qparams(), w, ws, wz, c, *b.qparams((0.05, 0.3))], transB=trans_b, alpha=alpha)
    check(b, out, "QGemm")


BINARY_CASES = [("QLinearAdd", S8, (2, 3, 4), (2, 3, 4), False), ("QLinearAdd", S8, (2, 3, 4), (4,), True),
                ("QLinearAdd", U8, (1, 3, 4, 5), (1, 3, 1, 1), False), ("QLinearMul", S8, (2, 3, 4), (3, 1), False),
                ("QLinearMul", U8, (6, 7), (6, 7), True)]


@pytest.mark.parametrize("case", range(len(BINARY_CASES)))
def test_qlinear_binary(case):
    op, dtype, a_shape, b_shape, b_const = BINARY_CASES[case]
    b = Builder(10 + case, dtype)
    a = b.input(a_shape)
    other = b.init("b", random_tensor(b.rng, b_shape, dtype)) if b_const else b.input(b_shape)
    out = b.node(op, [a, *b.qparams(), other, *b.qparams(), *b.qparams((0.02, 0.2))])
    check(b, out, op)


@pytest.mark.parametrize("op,dtype,attrs", [("QLinearSigmoid", S8, {}), ("QLinearSigmoid", U8, {}),
                                            ("QLinearLeakyRelu", S8, {"alpha": 0.1}),
                                            ("QLinearLeakyRelu", U8, {"alpha": 0.2})])
def test_qlinear_table_ops(op, dtype, attrs):
    b = Builder(20, dtype)
    out = b.node(op, [b.input((3, 50)), *b.qparams((0.02, 0.2)), *b.qparams((0.005, 0.05))], **attrs)
    check(b, out, op)


@pytest.mark.parametrize("dtype,shape,axis,opset", [(U8, (4, 10), -1, 13), (S8, (4, 10), -1, 13),
                                                    (U8, (2, 3, 4), 1, 12), (S8, (2, 5, 3), 1, 13)])
def test_qlinearsoftmax(dtype, shape, axis, opset):
    b = Builder(21, dtype)
    x = b.input(shape)
    # onnxruntime's int8 kernel wraps a probability rounding to 256/256 around to -128: keep the
    # logits' scale moderate.
    zero = -128 if dtype == S8 else 0
    out = b.node("QLinearSoftmax", [x, *b.qparams((0.02, 0.05)), b.init("s", scalar(1 / 256, F32)),
                                    b.init("z", scalar(zero, dtype))], axis=axis, opset=opset)
    check(b, out, "QLinearSoftmax")


@pytest.mark.parametrize("dtype", [S8, U8])
def test_qlinearconcat(dtype):
    b = Builder(22, dtype)
    ys, yz = b.qparams()
    names = [ys, yz]
    for i in range(3):
        s, z = (ys, yz) if i == 0 else b.qparams()
        names += [b.input((1, 2 + i, 5)), s, z]
    check(b, b.node("QLinearConcat", names, axis=1), "QLinearConcat")


POOL_CASES = [("QLinearAveragePool", S8, (1, 4, 7, 6), dict(kernel_shape=[3, 2], strides=[2, 2], pads=[1, 0, 1, 1])),
              ("QLinearAveragePool", U8, (1, 4, 7, 6), dict(kernel_shape=[3, 3], pads=[1, 1, 1, 1], count_include_pad=1)),
              ("QLinearAveragePool", U8, (1, 4, 8, 8), dict(kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)),
              ("QLinearAveragePool", S8, (1, 3, 9, 9), dict(kernel_shape=[3, 3], strides=[3, 3], channels_last=0)),
              ("QLinearGlobalAveragePool", S8, (1, 5, 6, 6), {}),
              ("QLinearGlobalAveragePool", U8, (2, 5, 3, 7), {}),
              ("QLinearGlobalAveragePool", U8, (1, 7, 5, 3), dict(channels_last=1))]


@pytest.mark.parametrize("case", range(len(POOL_CASES)))
def test_qlinear_pools(case):
    op, dtype, shape, attrs = POOL_CASES[case]
    b = Builder(30 + case, dtype)
    out = b.node(op, [b.input(shape), *b.qparams((0.02, 0.2)), *b.qparams((0.02, 0.2))], **attrs)
    check(b, out, op)


@pytest.mark.parametrize("dtype", [S8, U8])
def test_matmulinteger_convinteger(dtype):
    b = Builder(40, dtype)
    a = b.input((4, 16))
    w = b.init("w", random_tensor(b.rng, (16, 6), dtype))
    mm = b.node("MatMulInteger", [a, w, b.init("az", scalar(3, dtype)), b.init("bz", scalar(5, dtype))])
    check(b, mm, "MatMulInteger")
    b = Builder(41, dtype)
    x = b.input((1, 3, 6, 6))
    w = b.init("w", random_tensor(b.rng, (4, 3, 3, 3), dtype))
    conv = b.node("ConvInteger", [x, w, b.init("xz", scalar(5, dtype)), b.init("wz", scalar(120 if dtype == U8 else 2, dtype))],
                  pads=[1, 1, 1, 1])
    check(b, conv, "ConvInteger")


# ----------------------------------------------------------------------------- QDQ form


class QDQ(Builder):
    """int8 graph inputs -> DequantizeLinear -> float op(s) -> QuantizeLinear -> int8 output."""

    def dq_input(self, shape, q=None) -> str:
        x = self.input(shape)
        return self.node("DequantizeLinear", [x, *(q or self.qparams())])

    def dq_weights(self, shape, axis: int | None) -> tuple[str, float]:
        # uint8 activations: 7-bit weights, see test_qlinearconv
        w, ws, wz = self.weights(shape, axis, bits=7 if self.dtype == U8 else 8)
        out = self.node("DequantizeLinear", [w, ws, wz], **({"axis": axis} if axis is not None else {}))
        return out, self.inits[ws]

    def dq_bias(self, x_scale_name: str, w_scale, n: int) -> str:
        scale = (self.inits[x_scale_name] * w_scale).astype(F32)
        b = self.init("b", self.rng.integers(-3000, 3000, n).astype(np.int32))
        zp = self.init("bz", np.zeros(np.shape(scale), np.int32))
        return self.node("DequantizeLinear", [b, self.init("bs", scale), zp], **({"axis": 0} if np.ndim(scale) else {}))

    def quantize(self, x: str, scales=(0.02, 0.2), q=None) -> str:
        return self.node("QuantizeLinear", [x, *(q or self.qparams(scales))])


QDQ_CONV_CASES = [
    # dtype, group, per_channel, kernel, stride, pads, activation
    (S8, 1, True, 3, 1, [1, 1, 1, 1], None),
    (S8, 1, True, 3, 2, [0, 1, 1, 0], "Relu"),
    (S8, 8, True, 3, 1, [1, 1, 1, 1], "Relu"),
    (S8, 1, False, 1, 1, [0, 0, 0, 0], "Clip"),
    (U8, 1, True, 3, 1, [1, 1, 1, 1], "Relu"),
    (U8, 8, False, 3, 2, [1, 1, 1, 1], None),
]


@pytest.mark.parametrize("case", range(len(QDQ_CONV_CASES)))
def test_qdq_conv(case):
    dtype, group, per_channel, k, stride, pads, act = QDQ_CONV_CASES[case]
    b = QDQ(100 + case, dtype)
    q = b.qparams()
    x = b.dq_input((1, 8, 9, 8), q)
    w, w_scale = b.dq_weights((8, 8 // group, k, k), 0 if per_channel else None)
    y = b.node("Conv", [x, w, b.dq_bias(q[0], w_scale, 8)], group=group, pads=pads, strides=[stride, stride])
    if act == "Relu":
        y = b.node("Relu", [y])
    elif act == "Clip":
        y = b.node("Clip", [y, b.init("lo", scalar(-0.5, F32)), b.init("hi", scalar(1.5, F32))])
    check(b, b.quantize(y), f"QDQ Conv case {case}")


@pytest.mark.parametrize("per_column,relu,dtype", [(False, False, S8), (True, True, S8), (True, False, U8)])
def test_qdq_matmul_bias(per_column, relu, dtype):
    b = QDQ(110, dtype)
    q = b.qparams()
    a = b.dq_input((3, 24), q)
    w, w_scale = b.dq_weights((24, 10), 1 if per_column else None)
    y = b.node("Add", [b.node("MatMul", [a, w]), b.dq_bias(q[0], w_scale, 10)])
    if relu:
        y = b.node("Relu", [y])
    check(b, b.quantize(y), "QDQ MatMul + bias")


def test_qdq_gemm():
    b = QDQ(111)
    q = b.qparams()
    a = b.dq_input((2, 12), q)
    w, w_scale = b.dq_weights((7, 12), 0)
    y = b.node("Gemm", [a, w, b.dq_bias(q[0], w_scale, 7)], transB=1)
    check(b, b.quantize(y), "QDQ Gemm")


@pytest.mark.parametrize("op,relu,dtype", [("Add", False, S8), ("Add", True, U8), ("Mul", False, S8)])
def test_qdq_binary(op, relu, dtype):
    b = QDQ(120, dtype)
    y = b.node(op, [b.dq_input((1, 4, 5, 6)), b.dq_input((1, 4, 1, 6))])
    if relu:
        y = b.node("Relu", [y])
    check(b, b.quantize(y), f"QDQ {op}")


@pytest.mark.parametrize("op,attrs", [("Sigmoid", {}), ("LeakyRelu", {"alpha": 0.1}), ("Tanh", {}),
                                      ("HardSwish", {}), ("Relu", {})])
def test_qdq_table_functions(op, attrs):
    b = QDQ(130)
    y = b.node(op, [b.dq_input((2, 40), b.qparams((0.02, 0.2)))], **attrs)
    check(b, b.quantize(y, (0.005, 0.05)), f"QDQ {op}")


@pytest.mark.parametrize("dtype", [S8, U8])
def test_qdq_softmax(dtype):
    b = QDQ(140, dtype)
    y = b.node("Softmax", [b.dq_input((3, 12), b.qparams((0.05, 0.2)))], axis=-1)
    q = (b.init("s", scalar(1 / 256, F32)), b.init("z", scalar(-128 if dtype == S8 else 0, dtype)))
    check(b, b.quantize(y, q=q), "QDQ Softmax")


QDQ_POOL_CASES = [("AveragePool", True, dict(kernel_shape=[2, 2], strides=[2, 2])),
                  ("AveragePool", False, dict(kernel_shape=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1])),
                  ("AveragePool", True, dict(kernel_shape=[4, 4], strides=[4, 4])),
                  ("GlobalAveragePool", True, {}), ("GlobalAveragePool", False, {}),
                  ("MaxPool", True, dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])),
                  ("GlobalMaxPool", True, {})]


@pytest.mark.parametrize("case", range(len(QDQ_POOL_CASES)))
def test_qdq_pools(case):
    op, same_scale, attrs = QDQ_POOL_CASES[case]
    b = QDQ(150 + case)
    q = b.qparams((0.02, 0.2))
    y = b.node(op, [b.dq_input((1, 4, 8, 8), q)], **attrs)
    check(b, b.quantize(y, q=q if same_scale else None), f"QDQ {op}", feeds=4)


def test_qdq_concat_and_data_movement():
    # Reshape / Transpose / Pad between DequantizeLinear and QuantizeLinear move int8 values.
    b = QDQ(160)
    a = b.dq_input((1, 3, 4))
    c = b.dq_input((1, 2, 4))
    y = b.node("Concat", [a, c], axis=1)
    y = b.node("Transpose", [y], perm=[0, 2, 1])
    y = b.node("Pad", [y, b.init("pads", np.array([0, 1, 0, 0, 0, 1], np.int64))])
    check(b, b.quantize(y), "QDQ Concat / Transpose / Pad")


def test_qdq_requantize():
    # DequantizeLinear -> QuantizeLinear with other params: a 256-entry table.
    b = QDQ(170)
    compiled = check(b, b.quantize(b.dq_input((2, 30))), "QDQ requantize")
    assert [n.op for n in compiled.graph.nodes] == ["QLinearLookup"]


def test_qdq_float_island():
    # ReduceMean has no int8 kernel: it stays float between dequantize / quantize kernels,
    # onnxruntime's own computation up to float rounding.
    b = QDQ(171)
    y = b.node("ReduceMean", [b.dq_input((1, 4, 6, 6))], axes=[2, 3], keepdims=1)
    compiled = check(b, b.quantize(y, (0.01, 0.05)), "QDQ float island", exact=0.995, max_steps=1)
    assert [n.op for n in compiled.graph.nodes] == ["DequantizeLinear", "ReduceMean", "QuantizeLinear"]


def test_unsupported_quantization_is_one_clear_error():
    b = Builder(180)
    x = b.input((2, 3))
    b.inputs[x] = b.inputs[x].astype(F32)
    out = b.node("QuantizeLinear", [x, b.init("s", scalar(0.1, F32)), b.init("z", np.int16(3))])
    with pytest.raises(TinyaotError, match=r"QuantizeLinear.*int16 quantization is not supported"):
        check_int8(b.model([out]), b.feeds(1), "int16")


def test_uint8_through_data_movement_and_float_ops():
    # uint8 is int8 inside tinyaot: a Pad of the quantized uint8 values pads with the same
    # value, data movement keeps the re-expression up to a uint8 graph output, and a Cast
    # reads the uint8 values.
    b = Builder(190, U8)
    w, ws, wz = b.weights((4, 3, 3, 3), None, U8)
    conv = b.node("QLinearConv", [b.input((1, 3, 8, 8)), *b.qparams(), w, ws, wz, *b.qparams((0.05, 0.3))])
    pad = b.node("Pad", [conv, b.init("pads", np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64)),
                         b.init("value", scalar(100, U8))])
    pooled = b.node("MaxPool", [pad], kernel_shape=[2, 2], strides=[2, 2])
    flat = b.node("Reshape", [pooled, b.init("shape", np.array([1, -1], np.int64))])
    cast = b.node("Cast", [conv], to=1)
    check_int8(b.model([flat, cast]), b.feeds(), "uint8 data movement", exact=1.0, max_steps=0)


@pytest.mark.parametrize("dtype", [S8, U8])
def test_per_axis_quantize_dequantize(dtype):
    # Per-channel activations do not fold into int8 ops: the island-border kernels run.
    b = Builder(200, dtype)
    x = b.name("x")
    b.inputs[x] = np.zeros((2, 3, 4), F32)
    scale = b.init("s", b.rng.uniform(0.01, 0.1, 3).astype(F32))
    zero = b.init("z", b.rng.integers(*QRANGE[np.dtype(dtype)], 3).astype(dtype))
    q = b.node("QuantizeLinear", [x, scale, zero], axis=1)
    y = b.node("DequantizeLinear", [q, scale, zero], axis=1)
    check_int8(b.model([q, y]), b.feeds(), "per-axis QuantizeLinear / DequantizeLinear", exact=1.0, max_steps=0)
