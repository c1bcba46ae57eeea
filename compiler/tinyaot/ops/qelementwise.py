"""Quantized elementwise ops: QLinearAdd, QLinearMul, QLinearLookup (any function of one
int8 value: sigmoid, leaky relu, requantization ...), QLinearSoftmax, and the island borders
QuantizeLinear (float -> int8) and DequantizeLinear (int8 / int32 -> float).

IR forms (see qbase.py):
- QLinearAdd(a, b), QLinearMul(a, b): broadcasting, a_quant, b_quant, y_quant, act_range.
- QLinearLookup(x): y = table[x as a byte] with attrs["table"] the 256 output values (an
  attribute, not a constant input, so that transposes sink through it untouched) and
  attrs["y_dtype"] "int8" (or "uint8": the frontends' int8 -> uint8 conversions at graph
  outputs); attrs["function"] names what it computes (Sigmoid, LeakyRelu, Requantize ...).
- QLinearSoftmax(x): x_quant, y_quant, axis (opset-13 semantics) or axes (trailing axes
  normalised jointly, opset < 13), and attrs["softmax_arithmetic"]: "exact" (default; onnxruntime's
  float Softmax between DequantizeLinear and QuantizeLinear) or "ort_table" (onnxruntime's
  QLinearSoftmax kernel, emulated bit for bit: quant.ort_softmax).
- QuantizeLinear(x) / DequantizeLinear(x): y_quant / x_quant, per tensor or per axis.

Goldens: Add rounds the exact value da * fl32(a_scale / y_scale) + db * fl32(b_scale / y_scale)
once (half to even); Mul is requantize(da * db) with fl32(fl32(a_scale * b_scale) / y_scale)
(onnxruntime's formulas; onnxruntime evaluates the Add in float32, so an exact value within a
float32 rounding error of a .5 boundary may round the other way). Softmax "exact": e = round(2^24 *
exp(-x_scale * (x_max - x))), y = round_half_even(e / (sum(e) * y_scale)) + y_zp. Quantize /
Dequantize: onnxruntime's float32 formulas (quant.quantize_f32 / dequantize_f32).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Sequence

import numpy as np

from tinyaot import quant
from tinyaot.ir import DType, Node, QuantParams, Tensor
from tinyaot.ops.base import EmitContext, OpDef, TensorType, broadcast_shape, c_floats, c_ints, fail, normalize_axis
from tinyaot.ops.elementwise import elementwise_permute, broadcast_geometry
from tinyaot.ops.qbase import act_range, c_array, check_int8, multipliers, per_tensor_quant, quant_attr

# ----------------------------------------------------------------------------- Add, Mul

# Exponent gap kept exact between the two Add ratios: |d| * multiplier stays below 2**63.
_ADD_EXPONENT_GAP = 29


def _binary_infer(node: Node, inputs: Sequence[Tensor | None]) -> list[TensorType]:
    a = check_int8(node, inputs[0], "input A")
    b = check_int8(node, inputs[1] if len(inputs) > 1 else None, "input B")
    for name in ("a_quant", "b_quant", "y_quant"):
        per_tensor_quant(node, name)
    return [(broadcast_shape(node, [a.shape, b.shape]), DType.INT8)]


def add_multipliers(node: Node) -> tuple[int, int, int]:
    """(a_multiplier, b_multiplier, shift): the float32 ratios a_scale / y_scale and
    b_scale / y_scale as integers over one power of two."""
    ys = quant.f32(quant_attr(node, "y_quant").scale[0])
    ra = quant.f32(quant_attr(node, "a_quant").scale[0]) / ys
    rb = quant.f32(quant_attr(node, "b_quant").scale[0]) / ys
    (ma, ea), (mb, eb) = quant.float_parts(ra), quant.float_parts(rb)
    shift = min(max(ea, eb), min(ea, eb) + _ADD_EXPONENT_GAP, quant.MAX_SHIFT)
    if shift < 1:
        raise fail(node, "the ratio of the input and output scales is too large")

    def at(m: int, e: int) -> int:
        return m << (shift - e) if shift >= e else int(quant.rne_shift(m, e - shift))

    return at(ma, ea), at(mb, eb), shift


def mul_multiplier(node: Node) -> tuple[int, int]:
    a, b, y = (quant_attr(node, n) for n in ("a_quant", "b_quant", "y_quant"))
    (m,), (s,) = multipliers(node, quant.ort_product_scale(a.scale[0], b.scale[:1], y.scale[0]))
    return m, s


def _binary_eval(node: Node, values: Sequence[np.ndarray | None]) -> list[np.ndarray]:
    da = values[0].astype(np.int64) - quant_attr(node, "a_quant").zero_point[0]
    db = values[1].astype(np.int64) - quant_attr(node, "b_quant").zero_point[0]
    if node.op == "QLinearAdd":
        ma, mb, shift = add_multipliers(node)
        y = quant.rne_shift(da * ma + db * mb, shift)
    else:
        m, s = mul_multiplier(node)
        y = quant.requantize(da * db, m, s)
    lo, hi = act_range(node)
    return [quant.saturate(y + quant_attr(node, "y_quant").zero_point[0], lo, hi).astype(np.int8)]


def _binary_emit(node: Node, ctx: EmitContext) -> list[str]:
    a, b, y = (ctx.tensor(n) for n in (*node.inputs[:2], node.outputs[0]))
    if node.op == "QLinearAdd":
        ma, mb, shift = add_multipliers(node)
        op = "TINYAOT_BIN_ADD"
    else:
        (ma, shift), mb, op = mul_multiplier(node), 0, "TINYAOT_BIN_MUL"
    shape, (sa, sb) = broadcast_geometry(node, y.shape, [a.shape, b.shape])
    geom = ctx.static("tinyaot_broadcast_params", f"{{{op}, {c_ints(shape)}, {c_ints(sa)}, {c_ints(sb)}}}")
    lo, hi = act_range(node)
    fields = [quant_attr(node, "a_quant").zero_point[0], quant_attr(node, "b_quant").zero_point[0]]
    q = ctx.static("tinyaot_qbinary_params",
                   f"{{{fields[0]}, {fields[1]}, {ma}LL, {mb}LL, {shift}, "
                   f"{quant_attr(node, 'y_quant').zero_point[0]}, {lo}, {hi}}}")
    ctx.use_kernel("qbinary_s8")
    return [f"tinyaot_qbinary_s8(&{geom}, &{q}, {ctx.ptr(node.inputs[0])}, {ctx.ptr(node.inputs[1])}, "
            f"{ctx.ptr(node.outputs[0])});"]


def _binary_macs(node: Node, inputs: Sequence[Tensor | None], outputs: Sequence[Tensor]) -> int:
    return outputs[0].size if node.op == "QLinearMul" else 0


# ----------------------------------------------------------------------------- lookup tables


def lookup_table(node: Node) -> np.ndarray:
    dtype = node.attrs.get("y_dtype", "int8")
    table = node.attrs.get("table")
    if dtype not in ("int8", "uint8") or table is None or len(table) != 256:
        raise fail(node, "internal: QLinearLookup needs a 256-entry table and y_dtype int8 or uint8")
    return np.asarray(table, dtype=np.int64).astype(dtype)


def _lookup_infer(node: Node, inputs: Sequence[Tensor | None]) -> list[TensorType]:
    x = inputs[0]
    if x is None or x.dtype not in (DType.INT8, DType.UINT8):
        raise fail(node, "the input must be int8 or uint8")
    return [(x.shape, DType.from_numpy(lookup_table(node).dtype))]


def _lookup_eval(node: Node, values: Sequence[np.ndarray | None]) -> list[np.ndarray]:
    return [lookup_table(node)[values[0].view(np.uint8).astype(np.int64)]]


def _lookup_emit(node: Node, ctx: EmitContext) -> list[str]:
    x = ctx.tensor(node.inputs[0])
    table = c_array(ctx, "uint8_t", [int(v) for v in lookup_table(node).view(np.uint8)])
    ctx.use_kernel("qlookup_8")
    return [f"tinyaot_qlookup_8({table}, (const uint8_t *){ctx.ptr(node.inputs[0])}, "
            f"(uint8_t *){ctx.ptr(node.outputs[0])}, {x.size});"]


def _same_shape_permute(node: Node, perm: Sequence[int], inputs: Sequence[Tensor | None]):
    return dict(node.attrs), tuple(perm)


# ----------------------------------------------------------------------------- softmax

EXP_BITS = 24


def _softmax_axes(node: Node, rank: int) -> tuple[int, ...]:
    axes = node.attrs.get("axes")
    if axes is not None:
        axes = tuple(sorted(normalize_axis(node, int(a), rank) for a in axes))
        if axes != tuple(range(axes[0], axes[-1] + 1)):
            raise fail(node, f"axes {list(axes)} are not contiguous")
        return axes
    return (normalize_axis(node, int(node.attrs.get("axis", -1)), rank),)


def _softmax_view(node: Node, shape: Sequence[int]) -> tuple[int, int, int]:
    """(outer, axis_size, inner) of the normalised axes."""
    axes = _softmax_axes(node, len(shape))
    outer = int(np.prod(shape[: axes[0]], dtype=np.int64))
    size = int(np.prod([shape[a] for a in axes], dtype=np.int64))
    inner = int(np.prod(shape[axes[-1] + 1:], dtype=np.int64))
    return outer, size, inner


def exp_table(x_scale: float) -> np.ndarray:
    d = np.arange(256, dtype=np.float64)
    return np.rint(np.exp(-float(np.float32(x_scale)) * d) * 2.0**EXP_BITS).astype(np.int64)


def softmax_output_ratio(node: Node, axis_size: int) -> tuple[int, int]:
    """1 / y_scale as an exact fraction (numerator, denominator), checked to keep the
    kernel's 64-bit products in range."""
    inv = 1 / Fraction(float(np.float32(quant_attr(node, "y_quant").scale[0])))
    num, den = inv.numerator, inv.denominator
    if num >= 2 ** (63 - EXP_BITS - 1) or axis_size * den >= 2 ** (63 - EXP_BITS - 1):
        raise fail(node, "the output scale is out of range for the int8 softmax")
    return num, den


def _softmax_arithmetic(node: Node) -> str:
    mode = node.attrs.get("softmax_arithmetic", "exact")
    if mode not in ("exact", "ort_table"):
        raise fail(node, f"internal: softmax_arithmetic '{mode}'")
    return mode


def _softmax_infer(node: Node, inputs: Sequence[Tensor | None]) -> list[TensorType]:
    x = check_int8(node, inputs[0], "the input")
    per_tensor_quant(node, "x_quant")
    per_tensor_quant(node, "y_quant")
    size = _softmax_view(node, x.shape)[1]
    if _softmax_arithmetic(node) == "exact":
        softmax_output_ratio(node, size)
    elif size < 2:
        raise fail(node, "a softmax over a single element is not supported (onnxruntime's kernel overflows)")
    return [(x.shape, DType.INT8)]


def _softmax_eval(node: Node, values: Sequence[np.ndarray | None]) -> list[np.ndarray]:
    x = values[0]
    outer, size, inner = _softmax_view(node, x.shape)
    if _softmax_arithmetic(node) == "ort_table":
        xq, yq = quant_attr(node, "x_quant"), quant_attr(node, "y_quant")
        y = quant.ort_softmax(x, size, inner, quant.ort_softmax_table(xq.scale[0], size),
                              quant.ort_softmax_inverse_scale(yq.scale[0]), yq.zero_point[0])
        return [y.astype(np.int8)]
    v = x.astype(np.int64).reshape(outer, size, inner)
    e = exp_table(quant_attr(node, "x_quant").scale[0])[v.max(axis=1, keepdims=True) - v]
    num, den = softmax_output_ratio(node, size)
    y = quant.rne_divide(e * num, e.sum(axis=1, keepdims=True) * den) + quant_attr(node, "y_quant").zero_point[0]
    return [quant.saturate(y, -128, 127).astype(np.int8).reshape(x.shape)]


def _softmax_emit(node: Node, ctx: EmitContext) -> list[str]:
    x = ctx.tensor(node.inputs[0])
    outer, size, inner = _softmax_view(node, x.shape)
    if _softmax_arithmetic(node) == "ort_table":
        xq, yq = quant_attr(node, "x_quant"), quant_attr(node, "y_quant")
        table = c_array(ctx, "uint32_t", [int(v) for v in quant.ort_softmax_table(xq.scale[0], size)])
        params = ctx.static("tinyaot_qsoftmax_ort_params",
                            f"{{{outer}, {size}, {inner}, {table}, {quant.ort_softmax_inverse_scale(yq.scale[0])}, "
                            f"{yq.zero_point[0]}}}")
        ctx.use_kernel("qsoftmax_ort_s8")
        return [f"tinyaot_qsoftmax_ort_s8(&{params}, {ctx.ptr(node.inputs[0])}, {ctx.ptr(node.outputs[0])});"]
    num, den = softmax_output_ratio(node, size)
    table = c_array(ctx, "uint32_t", [int(v) for v in exp_table(quant_attr(node, "x_quant").scale[0])])
    params = ctx.static("tinyaot_qsoftmax_params",
                        f"{{{outer}, {size}, {inner}, {table}, {num}LL, {den}LL, "
                        f"{quant_attr(node, 'y_quant').zero_point[0]}}}")
    ctx.use_kernel("qsoftmax_s8")
    return [f"tinyaot_qsoftmax_s8(&{params}, {ctx.ptr(node.inputs[0])}, {ctx.ptr(node.outputs[0])});"]


def _softmax_permute(node: Node, perm: Sequence[int], inputs: Sequence[Tensor | None]):
    if node.attrs.get("axes") is not None:
        return None
    axis = normalize_axis(node, int(node.attrs.get("axis", -1)), len(perm))
    return {**node.attrs, "axis": int(perm[axis])}, tuple(perm)


# ----------------------------------------------------------------------------- borders


def _axis_params(node: Node, q: QuantParams, shape: Sequence[int]) -> tuple[int, int, list[float], list[int]]:
    """(channels, inner, scales, zero points) of a per-tensor or per-axis quantization."""
    if q.axis is None or len(q.scale) == 1:
        return 1, 1, [q.scale[0]], [q.zero_point[0]]
    axis = normalize_axis(node, q.axis, len(shape))
    if shape[axis] != len(q.scale):
        raise fail(node, f"{len(q.scale)} scales for axis {axis} of size {shape[axis]}")
    return len(q.scale), int(np.prod(shape[axis + 1:], dtype=np.int64)), list(q.scale), list(q.zero_point)


def _channel_of(size: int, channels: int, inner: int) -> np.ndarray:
    return (np.arange(size) // inner) % channels


def _quantize_infer(node: Node, inputs: Sequence[Tensor | None]) -> list[TensorType]:
    x = inputs[0]
    if x.dtype != DType.FLOAT32:
        raise fail(node, f"the input must be float32, not {x.dtype.value}")
    _axis_params(node, quant_attr(node, "y_quant"), x.shape)
    return [(x.shape, DType.INT8)]


def _quantize_eval(node: Node, values: Sequence[np.ndarray | None]) -> list[np.ndarray]:
    x = values[0]
    channels, inner, scales, zps = _axis_params(node, quant_attr(node, "y_quant"), x.shape)
    c = _channel_of(x.size, channels, inner)
    flat = x.reshape(-1).astype(np.float32)
    out = np.empty(x.size, np.int64)
    for ch in range(channels):
        sel = c == ch
        out[sel] = quant.quantize_f32(flat[sel], scales[ch], zps[ch], -128, 127)
    return [out.astype(np.int8).reshape(x.shape)]


def _dequantize_infer(node: Node, inputs: Sequence[Tensor | None]) -> list[TensorType]:
    x = inputs[0]
    if x.dtype not in (DType.INT8, DType.INT32):
        raise fail(node, f"the input must be int8 or int32, not {x.dtype.value} (uint8 is re-expressed as int8)")
    _axis_params(node, quant_attr(node, "x_quant"), x.shape)
    return [(x.shape, DType.FLOAT32)]


def _dequantize_eval(node: Node, values: Sequence[np.ndarray | None]) -> list[np.ndarray]:
    x = values[0]
    channels, inner, scales, zps = _axis_params(node, quant_attr(node, "x_quant"), x.shape)
    c = _channel_of(x.size, channels, inner)
    flat = x.reshape(-1).astype(np.int64)
    out = np.empty(x.size, np.float32)
    for ch in range(channels):
        sel = c == ch
        out[sel] = quant.dequantize_f32(flat[sel], scales[ch], zps[ch])
    return [out.reshape(x.shape)]


def _border_emit(node: Node, ctx: EmitContext) -> list[str]:
    x = ctx.tensor(node.inputs[0])
    q = quant_attr(node, "y_quant" if node.op == "QuantizeLinear" else "x_quant")
    channels, inner, scales, zps = _axis_params(node, q, x.shape)
    scale_c = ctx.static(f"struct {{ float v[{len(scales)}]; }}", "{" + c_floats(scales) + "}")
    params = ctx.static("tinyaot_quantize_params",
                        f"{{{x.size}, {channels}, {inner}, {scale_c}.v, {c_array(ctx, 'int32_t', zps)}}}")
    src, dst = ctx.ptr(node.inputs[0]), ctx.ptr(node.outputs[0])
    if node.op == "QuantizeLinear":
        ctx.use_kernel("quantize_s8")
        return [f"tinyaot_quantize_s8(&{params}, {src}, {dst});"]
    ctx.use_kernel("dequantize")
    return [f"tinyaot_dequantize(&{params}, {8 * x.dtype.itemsize}, {src}, {dst});"]


def _border_permute(node: Node, perm: Sequence[int], inputs: Sequence[Tensor | None]):
    # The input axis i is the untransposed tensor's axis perm[i].
    name = "y_quant" if node.op == "QuantizeLinear" else "x_quant"
    q = quant_attr(node, name)
    if q.axis is None:
        return dict(node.attrs), tuple(perm)
    axis = normalize_axis(node, q.axis, len(perm))
    return {**node.attrs, name: QuantParams(q.scale, q.zero_point, int(perm[axis]))}, tuple(perm)


OPS: dict[str, OpDef] = {
    "QLinearAdd": OpDef(_binary_infer, _binary_eval, _binary_emit, macs=_binary_macs, permute=elementwise_permute),
    "QLinearMul": OpDef(_binary_infer, _binary_eval, _binary_emit, macs=_binary_macs, permute=elementwise_permute),
    "QLinearLookup": OpDef(_lookup_infer, _lookup_eval, _lookup_emit, permute=_same_shape_permute),
    "QLinearSoftmax": OpDef(_softmax_infer, _softmax_eval, _softmax_emit, permute=_softmax_permute),
    "QuantizeLinear": OpDef(_quantize_infer, _quantize_eval, _border_emit, permute=_border_permute),
    # Not folded with a constant input: DQ(int8 weights) must reach the QDQ pass as it is.
    "DequantizeLinear": OpDef(_dequantize_infer, _dequantize_eval, _border_emit, permute=_border_permute,
                              foldable=False),
}
