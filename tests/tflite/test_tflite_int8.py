"""int8 .tflite ops against LiteRT's reference kernels, bit for bit: TFLite's requantization
(rounding twice in conv / depthwise / add / mul, once in fully connected), its average
pooling, its fixed-point softmax, fused activations as int8 clamps, and int8 data movement.
Each case is a small generated model (tflite_builder.py) with random quantization."""

from __future__ import annotations

import numpy as np
import pytest
from tfcheck import check, int8_quant, int8_weights, interpreter, run_litert, run_tinyaot, single_op, compile_tflite
from tflite_builder import ModelBuilder

from tinyaot.errors import TinyaotError

I8 = np.int8


def _conv_model(rng, depthwise: bool, case: int) -> bytes:
    h, w, c_in = int(rng.integers(3, 10)), int(rng.integers(3, 10)), int(rng.integers(1, 9))
    k = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
    stride = (1 + case % 2, 1 + (case // 2) % 2)
    dilation = (2, 2) if case == 5 else (1, 1)
    padding = ["SAME", "VALID"][case % 2 if case not in (4, 5) else 0]
    act = ["NONE", "RELU", "RELU6", "RELU_N1_TO_1"][case % 4]
    xs, xz = int8_quant(rng)
    if depthwise:
        mult = 1 + case % 3
        c_out = c_in * mult
        wq, ws = int8_weights(rng, (1, *k, c_out), 3)
        taps = k[0] * k[1]
    else:
        c_out = int(rng.integers(1, 9))
        wq, ws = int8_weights(rng, (c_out, *k, c_in), 0)
        taps = k[0] * k[1] * c_in
    ys = np.float32(xs * ws.mean() * np.sqrt(taps) * 40)
    yz = int(rng.integers(-20, 21))
    bias = rng.integers(-2000, 2000, size=c_out).astype(np.int32)
    b = ModelBuilder()
    x = b.input("x", [1, h, w, c_in], I8, quant=(xs, xz))
    axis = 3 if depthwise else 0
    wt = b.const("w", wq, quant=(ws, np.zeros(len(ws), np.int64), axis))
    bt = b.const("b", bias, quant=(xs * ws, np.zeros(len(ws), np.int64), 0))
    code = "DEPTHWISE_CONV_2D" if depthwise else "CONV_2D"
    options = dict(Padding=padding, StrideH=stride[0], StrideW=stride[1], DilationHFactor=dilation[0],
                   DilationWFactor=dilation[1], FusedActivationFunction=act)
    if depthwise:
        options["DepthMultiplier"] = c_out // c_in
    probe = ModelBuilder()  # LiteRT sizes the output
    px = probe.input("x", [1, h, w, c_in], I8, quant=(xs, xz))
    py = probe.tensor("y", [1], I8, quant=(ys, yz))
    probe.op(code, [px, probe.const("w", wq, quant=(ws, np.zeros(len(ws), np.int64), axis)),
                    probe.const("b", bias, quant=(xs * ws, np.zeros(len(ws), np.int64), 0))], [py], **options)
    shape = [int(d) for d in interpreter(probe.finish([px], [py])).get_output_details()[0]["shape"]]
    y = b.tensor("y", shape, I8, quant=(ys, yz))
    b.op(code, [x, wt, bt], [y], **options)
    return b.finish([x], [y])


@pytest.mark.parametrize("case", range(8))
def test_conv_2d(case):
    rng = np.random.default_rng(100 + case)
    check(_conv_model(rng, False, case), seed=case)


@pytest.mark.parametrize("case", range(8))
def test_depthwise_conv_2d(case):
    rng = np.random.default_rng(200 + case)
    check(_conv_model(rng, True, case), seed=case)


@pytest.mark.parametrize("case", range(6))
def test_fully_connected(case):
    rng = np.random.default_rng(300 + case)
    rows, k, n = [1, 3, 2, 1, 4, 2][case], int(rng.integers(4, 70)), int(rng.integers(1, 20))
    xs, xz = int8_quant(rng)
    wq, ws = int8_weights(rng, (n, k), None)
    ys, yz = np.float32(xs * ws[0] * np.sqrt(k) * 40), int(rng.integers(-20, 21))
    b = ModelBuilder()
    x = b.input("x", [rows, k], I8, quant=(xs, xz))
    y = b.tensor("y", [rows, n], I8, quant=(ys, yz))
    bias = b.const("b", rng.integers(-3000, 3000, size=n).astype(np.int32), quant=(xs * ws[0], 0))
    b.op("FULLY_CONNECTED", [x, b.const("w", wq, quant=(ws[0], 0)), bias], [y],
         FusedActivationFunction=["NONE", "RELU", "RELU6"][case % 3])
    model = b.finish([x], [y])
    for seed in range(3):
        check(model, seed=seed)


@pytest.mark.parametrize("case", range(6))
def test_average_pool(case):
    rng = np.random.default_rng(400 + case)
    h, w = int(rng.integers(2, 10)), int(rng.integers(2, 10))
    q = int8_quant(rng)
    options = dict(Padding=["SAME", "VALID"][case % 2], StrideH=1 + case % 3, StrideW=1 + case // 3,
                   FilterHeight=min(h, int(rng.integers(1, 4))), FilterWidth=min(w, int(rng.integers(1, 5))),
                   FusedActivationFunction=["NONE", "RELU"][case // 3])
    b = ModelBuilder()
    x = b.input("x", [2, h, w, 5], I8, quant=q)
    probe = single_op("AVERAGE_POOL_2D", [((2, h, w, 5), I8)], options)  # unquantized: just the output shape
    shape = [int(d) for d in interpreter(probe).get_output_details()[0]["shape"]]
    y = b.tensor("y", shape, I8, quant=q)
    b.op("AVERAGE_POOL_2D", [x], [y], **options)
    check(b.finish([x], [y]), seed=case)


def test_max_pool():
    rng = np.random.default_rng(5)
    q = int8_quant(rng)
    b = ModelBuilder()
    x = b.input("x", [1, 7, 6, 3], I8, quant=q)
    y = b.tensor("y", [1, 4, 3, 3], I8, quant=q)
    b.op("MAX_POOL_2D", [x], [y], Padding="SAME", StrideH=2, StrideW=2, FilterHeight=3, FilterWidth=2)
    check(b.finish([x], [y]))


@pytest.mark.parametrize("code", ["ADD", "SUB", "MUL"])
@pytest.mark.parametrize("shapes", [((1, 4, 4, 3), (1, 4, 4, 3)), ((1, 4, 4, 3), (1, 1, 1, 3)), ((2, 5), (1, 5))])
def test_binary(code, shapes):
    rng = np.random.default_rng(len(shapes[1]) + len(code))
    qa, qb = int8_quant(rng), int8_quant(rng)
    qy = (np.float32(qa[0] * qb[0] * 30) if code == "MUL" else np.float32(max(qa[0], qb[0]) * 1.5),
          int(rng.integers(-10, 11)))
    b = ModelBuilder()
    a = b.input("a", list(shapes[0]), I8, quant=qa)
    c = b.input("b", list(shapes[1]), I8, quant=qb)
    y = b.tensor("y", list(np.broadcast_shapes(*shapes)), I8, quant=qy)
    b.op(code, [a, c], [y], FusedActivationFunction="RELU" if code == "SUB" else "NONE")
    model = b.finish([a, c], [y])
    for seed in range(3):
        check(model, seed=seed)


def test_add_with_constant():
    rng = np.random.default_rng(9)
    q = int8_quant(rng)
    b = ModelBuilder()
    x = b.input("x", [1, 3, 3, 4], I8, quant=q)
    y = b.tensor("y", [1, 3, 3, 4], I8, quant=(np.float32(q[0] * 2), 3))
    b.op("ADD", [x, b.const("c", rng.integers(-128, 128, 4).astype(I8), quant=int8_quant(rng))], [y],
         FusedActivationFunction="RELU6")
    check(b.finish([x], [y]))


@pytest.mark.parametrize("length,beta,scale", [(2, 1.0, 0.0146), (10, 1.0, 0.17), (12, 1.0, 0.145), (37, 0.5, 0.05),
                                               (5, 2.0, 0.3), (64, 1.0, 0.02)])
def test_softmax(length, beta, scale):
    b = ModelBuilder()
    x = b.input("x", [3, length], I8, quant=(np.float32(scale), int(length % 7) - 3))
    y = b.tensor("y", [3, length], I8, quant=(np.float32(1 / 256), -128))
    b.op("SOFTMAX", [x], [y], Beta=beta)
    model = b.finish([x], [y])
    for seed in range(4):
        check(model, seed=seed)


def test_int8_data_movement():
    """RESHAPE, CONCATENATION (one quantization), PAD (with the zero point), STRIDED_SLICE,
    TRANSPOSE, SPLIT, MAXIMUM and RESIZE_NEAREST_NEIGHBOR move int8 values as they are."""
    rng = np.random.default_rng(11)
    q = int8_quant(rng)
    ints = lambda v: np.array(v, np.int32)  # noqa: E731
    b = ModelBuilder()
    x = b.input("x", [1, 4, 4, 3], I8, quant=q)
    x2 = b.input("x2", [1, 4, 4, 2], I8, quant=q)
    cat = b.tensor("cat", [1, 4, 4, 5], I8, quant=q)
    b.op("CONCATENATION", [x, x2], [cat], Axis=3)
    pad = b.tensor("pad", [1, 6, 5, 5], I8, quant=q)
    b.op("PAD", [cat, b.const("p", ints([[0, 0], [1, 1], [0, 1], [0, 0]]))], [pad])
    sl = b.tensor("sl", [1, 3, 5, 2], I8, quant=q)
    b.op("STRIDED_SLICE", [pad, b.const("b0", ints([0, 0, 0, 1])), b.const("e0", ints([1, 6, 5, 5])),
                           b.const("s0", ints([1, 2, 1, 2]))], [sl])
    tr = b.tensor("tr", [1, 2, 3, 5], I8, quant=q)
    b.op("TRANSPOSE", [sl, b.const("perm", ints([0, 3, 1, 2]))], [tr])
    rs = b.tensor("rs", [6, 5], I8, quant=q)
    b.op("RESHAPE", [tr, b.const("shape", ints([6, 5]))], [rs])
    mx = b.tensor("mx", [6, 5], I8, quant=q)
    b.op("MAXIMUM", [rs, b.const("floor", np.full((1, 5), 3, I8), quant=q)], [mx])
    up = b.tensor("up", [1, 8, 6, 3], I8, quant=q)
    b.op("RESIZE_NEAREST_NEIGHBOR", [x, b.const("size", ints([8, 6]))], [up])
    check(b.finish([x, x2], [mx, up]))


def test_int8_kernels_and_rounding_in_generated_code():
    rng = np.random.default_rng(12)
    code = compile_tflite(_conv_model(rng, False, 0)).code.source
    assert "TINYAOT_ROUND_TFLITE" in code


def test_quantized_ops_without_kernel_are_reported():
    rng = np.random.default_rng(13)
    q = int8_quant(rng)
    b = ModelBuilder()
    x = b.input("x", [1, 8], np.int16, quant=q)
    y = b.tensor("y", [1, 8], np.int16, quant=q)
    b.op("ADD", [x, x], [y])
    with pytest.raises(TinyaotError, match=r"node 'add_0' \(ADD\): quantized \(int16\) inputs"):
        compile_tflite(b.finish([x], [y]))


def test_multi_layer_int8_model_layer_by_layer():
    """conv -> depthwise -> add (residual) -> avg pool -> fully connected -> softmax: every
    intermediate tensor equals LiteRT's (its interpreter keeps them all)."""
    rng = np.random.default_rng(14)
    b = ModelBuilder()
    qx = (np.float32(0.05), -3)
    x = b.input("x", [1, 8, 8, 4], I8, quant=qx)

    def conv(name, src, c_in, c_out, q_in, code="CONV_2D"):
        shape = (1, 3, 3, c_out) if code == "DEPTHWISE_CONV_2D" else (c_out, 3, 3, c_in)
        wq, ws = int8_weights(rng, shape, 3 if code == "DEPTHWISE_CONV_2D" else 0)
        qy = (np.float32(q_in[0] * ws.mean() * 60), int(rng.integers(-10, 10)))
        y = b.tensor(name, [1, 8, 8, c_out], I8, quant=qy)
        zeros = np.zeros(len(ws), np.int64)
        b.op(code, [src, b.const(f"{name}_w", wq, quant=(ws, zeros, 3 if code == "DEPTHWISE_CONV_2D" else 0)),
                    b.const(f"{name}_b", rng.integers(-500, 500, c_out).astype(np.int32), quant=(q_in[0] * ws, zeros, 0))],
             [y], Padding="SAME", StrideH=1, StrideW=1, FusedActivationFunction="RELU",
             **({"DepthMultiplier": 1} if code == "DEPTHWISE_CONV_2D" else {}))
        return y, qy

    c1, q1 = conv("c1", x, 4, 8, qx)
    c2, q2 = conv("c2", c1, 8, 8, q1, "DEPTHWISE_CONV_2D")
    qs = (np.float32(max(q1[0], q2[0]) * 1.3), -20)
    s = b.tensor("sum", [1, 8, 8, 8], I8, quant=qs)
    b.op("ADD", [c1, c2], [s])
    p = b.tensor("pool", [1, 1, 1, 8], I8, quant=qs)
    b.op("AVERAGE_POOL_2D", [s], [p], Padding="VALID", StrideH=1, StrideW=1, FilterHeight=8, FilterWidth=8)
    flat = b.tensor("flat", [1, 8], I8, quant=qs)
    b.op("RESHAPE", [p, b.const("shape", np.array([1, 8], np.int32))], [flat])
    wq, ws = int8_weights(rng, (5, 8), None)
    ql = (np.float32(qs[0] * ws[0] * 20), 5)
    logits = b.tensor("logits", [1, 5], I8, quant=ql)
    b.op("FULLY_CONNECTED", [flat, b.const("fc_w", wq, quant=(ws[0], 0)),
                             b.const("fc_b", rng.integers(-300, 300, 5).astype(np.int32), quant=(qs[0] * ws[0], 0))],
         [logits])
    probs = b.tensor("probs", [1, 5], I8, quant=(np.float32(1 / 256), -128))
    b.op("SOFTMAX", [logits], [probs], Beta=1.0)
    model = b.finish([x], [c1, c2, s, p, logits, probs])
    for seed in range(3):
        check(model, seed=seed)


ALL_INT8 = np.arange(-128, 128).astype(I8).reshape(1, 256)


@pytest.mark.parametrize("code,options,y_quant", [
    ("LOGISTIC", {}, (1 / 256, -128)), ("TANH", {}, (1 / 128, 0)), ("RELU", {}, None), ("RELU6", {}, None),
    ("RELU_N1_TO_1", {}, None), ("LEAKY_RELU", {"Alpha": 0.1}, None), ("QUANTIZE", {}, None)])
def test_elementwise_tables_on_every_int8_value(code, options, y_quant):
    """int8 functions of one input become 256-entry tables: all 256 inputs, several scales."""
    rng = np.random.default_rng(len(code))
    for _ in range(4):
        xq = (np.float32(rng.uniform(0.005, 0.2)), int(rng.integers(-40, 40)))
        yq = (np.float32(y_quant[0]), y_quant[1]) if y_quant else (np.float32(rng.uniform(0.005, 0.1)),
                                                                      int(rng.integers(-40, 40)))
        b = ModelBuilder()
        x = b.input("x", [1, 256], I8, quant=xq)
        y = b.tensor("y", [1, 256], I8, quant=yq)
        b.op(code, [x], [y], **options)
        check(b.finish([x], [y]), [ALL_INT8])


def test_quantize_and_dequantize_at_float_borders():
    """float -> QUANTIZE -> int8 conv -> DEQUANTIZE -> float, with inputs on rounding ties."""
    rng = np.random.default_rng(15)
    qx = (np.float32(0.25), 3)
    b = ModelBuilder()
    x = b.input("x", [1, 4, 4, 2])
    xq = b.tensor("xq", [1, 4, 4, 2], I8, quant=qx)
    b.op("QUANTIZE", [x], [xq])
    wq, ws = int8_weights(rng, (3, 1, 1, 2), 0)
    qy = (np.float32(0.15), -5)
    y = b.tensor("y", [1, 4, 4, 3], I8, quant=qy)
    zeros = np.zeros(3, np.int64)
    b.op("CONV_2D", [xq, b.const("w", wq, quant=(ws, zeros, 0)),
                     b.const("b", np.zeros(3, np.int32), quant=(qx[0] * ws, zeros, 0))], [y],
         Padding="VALID", StrideH=1, StrideW=1)
    out = b.tensor("out", [1, 4, 4, 3])
    b.op("DEQUANTIZE", [y], [out])
    model = b.finish([x], [out])
    ties = ((np.arange(32) - 16) * 0.125).astype(np.float32).reshape(1, 4, 4, 2)  # x / scale = k / 2 exactly
    check(model, [ties], tol=0.0)
    check(model, tol=0.0)
