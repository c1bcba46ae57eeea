"""int8 ops with TFLite's own arithmetic, for .tflite models (runtime/include/tinyaot/tflite.h;
golden: tflite_quant.py). TFLite's conv, depthwise and fully connected layers are the common
QLinearConv / QGemm with attrs["rounding"] = "tflite" / "tflite_single"; these ops are the
ones whose integer algorithm itself differs from onnxruntime's:

- TFLiteAdd / TFLiteSub / TFLiteMul / TFLiteDiv(a, b): broadcasting; attrs a_quant, b_quant,
  y_quant (per tensor) and act_range [lo, hi] (the fused activation's clamp).
- TFLiteAveragePool(x): NHWC geometry attributes as ops/pool.py's NHWC form (kernel_shape,
  strides, pads, output_spatial), act_range; raw values are averaged, no zero point or scale
  involved (LiteRT's reference ignores the quantization, normally the input's).
- TFLiteSoftmax(x): over the last axis; attrs beta, x_quant, y_quant (scale 1/256, zero
  point -128, as TFLite requires).
- TFLiteMean(x): int8 MEAN over contiguous axes; attrs axes (sorted, contiguous), keepdims,
  x_quant, y_quant (per tensor).
- TFLitePRelu(x): int8 PRELU with a constant alpha per channel of the last axis (or one
  value): attrs alpha (the int8 values), alpha_quant, x_quant, y_quant (per tensor).
- TFLiteResizeBilinear(x): int8 NHWC bilinear resize in TFLite's Q10 fixed point; attrs
  sizes [h, w], align_corners, half_pixel_centers (0/1).
- TFLiteQuantize(x): float32 -> int8 with y_quant (per tensor), rounding halves away from zero;
  TFLiteDequantize(x): int8 -> float32 with x_quant, (x - zero_point) * scale in float32.
Elementwise int8 functions of one input (LOGISTIC, TANH, RELU*, LEAKY_RELU, HARD_SWISH, int8
QUANTIZE)
are QLinearLookup tables built by tflite_quant.py.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from tinyaot import tflite_quant as tq
from tinyaot.ir import DType, Node, Tensor
from tinyaot.ops.base import EmitContext, OpDef, TensorType, broadcast_shape, c_float, c_ints, fail
from tinyaot.ops.elementwise import elementwise_permute, broadcast_geometry
from tinyaot.ops.qbase import act_range, c_array, check_int8, per_tensor_quant, quant_attr

# ----------------------------------------------------------------------------- ADD, SUB, MUL

_BINARY_CODES = {"TFLiteAdd": "TINYAOT_BIN_ADD", "TFLiteSub": "TINYAOT_BIN_SUB", "TFLiteMul": "TINYAOT_BIN_MUL",
                 "TFLiteDiv": "TINYAOT_BIN_DIV"}
# The largest output shift of int8 DIV whose final right shift is never negative: the
# dividend's headroom is at least 23 (|a - a_zp| <= 255) and the reciprocal's exponent >= 0.
_DIV_MAX_SHIFT = 23


def _binary_infer(node: Node, inputs: Sequence[Tensor | None]) -> list[TensorType]:
    a = check_int8(node, inputs[0], "input A")
    b = check_int8(node, inputs[1] if len(inputs) > 1 else None, "input B")
    for name in ("a_quant", "b_quant", "y_quant"):
        per_tensor_quant(node, name)
    _binary_multipliers(node)
    return [(broadcast_shape(node, [a.shape, b.shape]), DType.INT8)]


def _binary_multipliers(node: Node) -> list[tuple[int, int]]:
    """[(a), (b), (output)] (multiplier, shift); Mul and Div have only the output's."""
    sa, sb, sy = (quant_attr(node, n).scale[0] for n in ("a_quant", "b_quant", "y_quant"))
    try:
        if node.op == "TFLiteMul":
            return [(0, 0), (0, 0), tq.quantize_multiplier(sa * sb / sy)]
        if node.op == "TFLiteDiv":
            multiplier, shift = tq.quantize_multiplier(sa / (sb * sy))
            if shift > _DIV_MAX_SHIFT:
                raise ValueError(f"the scale ratio {sa / (sb * sy):.3g} is too large for TFLite's int8 division")
            return [(0, 0), (0, 0), (multiplier, shift)]
        params = tq.add_params(sa, sb, sy)
    except ValueError as exc:
        raise fail(node, str(exc))
    if any(shift > 0 for _, shift in params):
        raise fail(node, "the ratio of the input and output scales is too large")
    return list(params)


def _binary_eval(node: Node, values: Sequence[np.ndarray | None]) -> list[np.ndarray]:
    a_zp, b_zp, y_zp = (quant_attr(node, n).zero_point[0] for n in ("a_quant", "b_quant", "y_quant"))
    params = _binary_multipliers(node)
    lo, hi = act_range(node)
    if node.op == "TFLiteMul":
        y = tq.mul(values[0], values[1], a_zp, b_zp, y_zp, *params[2], lo, hi)
    elif node.op == "TFLiteDiv":
        y = tq.div(values[0], values[1], a_zp, b_zp, y_zp, *params[2], lo, hi)
    else:
        y = tq.add(values[0], values[1], a_zp, b_zp, y_zp, params, lo, hi, subtract=node.op == "TFLiteSub")
    return [y.astype(np.int8)]


def _binary_emit(node: Node, ctx: EmitContext) -> list[str]:
    a, b, y = (ctx.tensor(n) for n in (*node.inputs[:2], node.outputs[0]))
    shape, (sa, sb) = broadcast_geometry(node, y.shape, [a.shape, b.shape])
    geom = ctx.static("tinyaot_broadcast_params", f"{{{_BINARY_CODES[node.op]}, {c_ints(shape)}, {c_ints(sa)}, "
                                                  f"{c_ints(sb)}}}")
    (ma, sha), (mb, shb), (my, shy) = _binary_multipliers(node)
    lo, hi = act_range(node)
    fields = [quant_attr(node, "a_quant").zero_point[0], quant_attr(node, "b_quant").zero_point[0], ma, sha, mb, shb,
              my, shy, quant_attr(node, "y_quant").zero_point[0], lo, hi]
    q = ctx.static("tinyaot_tflite_binary_params", c_ints(fields))
    kernel = "tflite_div_s8" if node.op == "TFLiteDiv" else "tflite_binary_s8"
    ctx.use_kernel(kernel)
    return [f"tinyaot_{kernel}(&{geom}, &{q}, {ctx.ptr(node.inputs[0])}, {ctx.ptr(node.inputs[1])}, "
            f"{ctx.ptr(node.outputs[0])});"]


def _binary_macs(node: Node, inputs: Sequence[Tensor | None], outputs: Sequence[Tensor]) -> int:
    return outputs[0].size if node.op in ("TFLiteMul", "TFLiteDiv") else 0


# ----------------------------------------------------------------------------- AVERAGE_POOL_2D


def _pool_geometry(node: Node, x: Tensor) -> tuple[list[int], list[int], list[int], list[int]]:
    """kernel, strides, pads [top, left, bottom, right], output (h, w) of the NHWC form."""
    if node.attrs.get("layout") != "NHWC" or len(x.shape) != 4:
        raise fail(node, f"expects an NHWC rank-4 input, got {list(x.shape)}")
    kernel = [int(v) for v in node.attrs["kernel_shape"]]
    strides = [int(v) for v in node.attrs["strides"]]
    pads = [int(v) for v in node.attrs["pads"]]
    out = [int(v) for v in node.attrs["output_spatial"]]
    for axis in range(2):
        size = x.shape[1 + axis]
        if min(kernel[axis], strides[axis]) < 1 or out[axis] < 1 or pads[axis] < 0:
            raise fail(node, f"kernel {kernel}, strides {strides}, pads {pads} and output {out} are invalid")
        last = (out[axis] - 1) * strides[axis] - pads[axis]
        if last >= size or -pads[axis] + kernel[axis] <= 0:
            raise fail(node, "a window lies entirely in the padding")
    return kernel, strides, pads, out


def _pool_infer(node: Node, inputs: Sequence[Tensor | None]) -> list[TensorType]:
    x = check_int8(node, inputs[0], "the input")
    _, _, _, out = _pool_geometry(node, x)
    return [((x.shape[0], out[0], out[1], x.shape[3]), DType.INT8)]


def _pool_eval(node: Node, values: Sequence[np.ndarray | None]) -> list[np.ndarray]:
    x = values[0].astype(np.int64)
    kernel, strides, pads, out = _pool_geometry(node, Tensor("x", x.shape, DType.INT8))
    lo, hi = act_range(node)
    y = np.zeros((x.shape[0], out[0], out[1], x.shape[3]), np.int64)
    for i in range(out[0]):
        y0 = i * strides[0] - pads[0]
        ys, ye = max(y0, 0), min(y0 + kernel[0], x.shape[1])
        for j in range(out[1]):
            x0 = j * strides[1] - pads[1]
            xs, xe = max(x0, 0), min(x0 + kernel[1], x.shape[2])
            total = x[:, ys:ye, xs:xe].sum(axis=(1, 2))
            y[:, i, j] = np.clip(tq.average(total, (ye - ys) * (xe - xs)), lo, hi)
    return [y.astype(np.int8)]


def _pool_emit(node: Node, ctx: EmitContext) -> list[str]:
    x = ctx.tensor(node.inputs[0])
    kernel, strides, pads, out = _pool_geometry(node, x)
    lo, hi = act_range(node)
    fields = [x.shape[0], x.shape[1], x.shape[2], x.shape[3], *out, *kernel, *strides, pads[0], pads[1], lo, hi]
    params = ctx.static("tinyaot_tflite_avgpool_params", c_ints(fields))
    ctx.use_kernel("tflite_avgpool_s8")
    return [f"tinyaot_tflite_avgpool_s8(&{params}, {ctx.ptr(node.inputs[0])}, {ctx.ptr(node.outputs[0])});"]


def _pool_macs(node: Node, inputs: Sequence[Tensor | None], outputs: Sequence[Tensor]) -> int:
    kernel, _, _, _ = _pool_geometry(node, inputs[0])
    return outputs[0].size * kernel[0] * kernel[1]


# ----------------------------------------------------------------------------- SOFTMAX


def _softmax_params(node: Node) -> tuple[np.ndarray, int]:
    x, y = per_tensor_quant(node, "x_quant"), per_tensor_quant(node, "y_quant")
    if np.float32(y.scale[0]) != np.float32(1.0 / 256) or y.zero_point[0] != -128:
        raise fail(node, "the int8 output must have scale 1/256 and zero point -128 (TFLite's softmax)")
    try:
        multiplier, shift, diff_min = tq.softmax_params(float(node.attrs.get("beta", 1.0)), x.scale[0])
    except ValueError as exc:
        raise fail(node, str(exc))
    return tq.softmax_exp_table(multiplier, shift, diff_min), diff_min


def _softmax_infer(node: Node, inputs: Sequence[Tensor | None]) -> list[TensorType]:
    x = check_int8(node, inputs[0], "the input")
    if not x.shape:
        raise fail(node, "the input must have at least one axis")
    _softmax_params(node)
    return [(x.shape, DType.INT8)]


def _softmax_eval(node: Node, values: Sequence[np.ndarray | None]) -> list[np.ndarray]:
    table, diff_min = _softmax_params(node)
    x = values[0]
    return [tq.softmax(x, table, diff_min, x.shape[-1]).astype(np.int8)]


def _softmax_emit(node: Node, ctx: EmitContext) -> list[str]:
    x = ctx.tensor(node.inputs[0])
    table, diff_min = _softmax_params(node)
    axis = x.shape[-1]
    rows = x.size // max(axis, 1)
    params = ctx.static("tinyaot_tflite_softmax_params",
                        f"{{{rows}, {axis}, {diff_min}, {c_array(ctx, 'int32_t', [int(v) for v in table])}}}")
    ctx.use_kernel("tflite_softmax_s8")
    return [f"tinyaot_tflite_softmax_s8(&{params}, {ctx.ptr(node.inputs[0])}, {ctx.ptr(node.outputs[0])});"]


# ----------------------------------------------------------------------------- MEAN


def _mean_axes(node: Node, x: Tensor) -> tuple[list[int], int, int, int]:
    """(axes, outer, count, inner): the input seen as [outer, count, inner] around the reduced
    axes, which must be contiguous."""
    rank = len(x.shape)
    given = [int(a) for a in node.attrs.get("axes", [1, 2])]
    axes = sorted({a % rank for a in given if -rank <= a < rank})
    if not given or len(axes) != len(set(given)) or axes != list(range(axes[0], axes[-1] + 1)):
        raise fail(node, f"expects contiguous axes of a rank-{rank} input, got {given}")
    outer = int(np.prod(x.shape[:axes[0]], dtype=np.int64))
    count = int(np.prod(x.shape[axes[0]:axes[-1] + 1], dtype=np.int64))
    inner = int(np.prod(x.shape[axes[-1] + 1:], dtype=np.int64))
    if count < 1:
        raise fail(node, f"reduces an empty axis of {list(x.shape)}")
    return axes, outer, count, inner


def _mean_multiplier(node: Node, count: int) -> tuple[int, int]:
    xq, yq = per_tensor_quant(node, "x_quant"), per_tensor_quant(node, "y_quant")
    try:
        return tq.mean_multiplier(xq.scale[0], yq.scale[0], count)
    except ValueError as exc:
        raise fail(node, str(exc))


def _mean_infer(node: Node, inputs: Sequence[Tensor | None]) -> list[TensorType]:
    x = check_int8(node, inputs[0], "the input")
    axes, _, count, _ = _mean_axes(node, x)
    _mean_multiplier(node, count)
    keep = bool(node.attrs.get("keepdims", 1))
    shape = tuple(1 if k in axes else d for k, d in enumerate(x.shape) if keep or k not in axes)
    return [(shape, DType.INT8)]


def _mean_eval(node: Node, values: Sequence[np.ndarray | None]) -> list[np.ndarray]:
    axes, _, count, _ = _mean_axes(node, Tensor("x", values[0].shape, DType.INT8))
    multiplier, shift = _mean_multiplier(node, count)
    x_zp, y_zp = quant_attr(node, "x_quant").zero_point[0], quant_attr(node, "y_quant").zero_point[0]
    y = tq.mean(values[0], tuple(axes), bool(node.attrs.get("keepdims", 1)), x_zp, y_zp, multiplier, shift)
    return [y.astype(np.int8)]


def _mean_emit(node: Node, ctx: EmitContext) -> list[str]:
    x = ctx.tensor(node.inputs[0])
    _, outer, count, inner = _mean_axes(node, x)
    multiplier, shift = _mean_multiplier(node, count)
    fields = [outer, count, inner, quant_attr(node, "x_quant").zero_point[0], multiplier, shift,
              quant_attr(node, "y_quant").zero_point[0]]
    params = ctx.static("tinyaot_tflite_mean_params", c_ints(fields))
    ctx.use_kernel("tflite_mean_s8")
    return [f"tinyaot_tflite_mean_s8(&{params}, {ctx.ptr(node.inputs[0])}, {ctx.ptr(node.outputs[0])});"]


def _mean_macs(node: Node, inputs: Sequence[Tensor | None], outputs: Sequence[Tensor]) -> int:
    return inputs[0].size


# ----------------------------------------------------------------------------- RESIZE_BILINEAR


def _resize_geometry(node: Node, x: Tensor) -> tuple[list[int], list[int], bool]:
    """(sizes [h, w], Q10 scales [h, w], half_pixel_centers), checked against the input."""
    if len(x.shape) != 4:
        raise fail(node, f"expects an NHWC rank-4 input, got {list(x.shape)}")
    sizes = [int(v) for v in node.attrs.get("sizes", [])]
    align, half = bool(node.attrs.get("align_corners", 0)), bool(node.attrs.get("half_pixel_centers", 0))
    if len(sizes) != 2 or min(sizes) < 1 or (align and half):
        raise fail(node, f"sizes {sizes}, align_corners {align} and half_pixel_centers {half} are invalid")
    scales = [tq.resize_bilinear_scale(x.shape[1 + k], sizes[k], align) for k in range(2)]
    try:
        for k in range(2):
            tq.resize_bilinear_axis(x.shape[1 + k], sizes[k], scales[k], half)
    except ValueError as exc:
        raise fail(node, str(exc))
    return sizes, scales, half


def _resize_infer(node: Node, inputs: Sequence[Tensor | None]) -> list[TensorType]:
    x = check_int8(node, inputs[0], "the input")
    sizes, _, _ = _resize_geometry(node, x)
    return [((x.shape[0], sizes[0], sizes[1], x.shape[3]), DType.INT8)]


def _resize_eval(node: Node, values: Sequence[np.ndarray | None]) -> list[np.ndarray]:
    x = values[0]
    sizes, _, half = _resize_geometry(node, Tensor("x", x.shape, DType.INT8))
    y = tq.resize_bilinear(x, (sizes[0], sizes[1]), bool(node.attrs.get("align_corners", 0)), half)
    return [y.astype(np.int8)]


def _resize_emit(node: Node, ctx: EmitContext) -> list[str]:
    x = ctx.tensor(node.inputs[0])
    sizes, scales, half = _resize_geometry(node, x)
    fields = [x.shape[0], x.shape[1], x.shape[2], x.shape[3], *sizes, *scales, int(half)]
    params = ctx.static("tinyaot_tflite_resize_bilinear_params", c_ints(fields))
    ctx.use_kernel("tflite_resize_bilinear_s8")
    return [f"tinyaot_tflite_resize_bilinear_s8(&{params}, {ctx.ptr(node.inputs[0])}, {ctx.ptr(node.outputs[0])});"]


def _resize_macs(node: Node, inputs: Sequence[Tensor | None], outputs: Sequence[Tensor]) -> int:
    return 4 * outputs[0].size


# ----------------------------------------------------------------------------- PRELU


def _prelu_params(node: Node, x: Tensor) -> tuple[list[int], list[tuple[int, int]]]:
    """(alpha - alpha_zp per channel of the last axis, or one value; the two multipliers)."""
    alpha = [int(v) for v in node.attrs.get("alpha", [])]
    channels = x.shape[-1] if x.shape else 1
    if len(alpha) not in (1, channels):
        raise fail(node, f"{len(alpha)} alpha values for {channels} channels")
    xq, aq, yq = (per_tensor_quant(node, n) for n in ("x_quant", "alpha_quant", "y_quant"))
    try:
        params = tq.prelu_params(xq.scale[0], aq.scale[0], yq.scale[0])
    except ValueError as exc:
        raise fail(node, str(exc))
    return [v - int(aq.zero_point[0]) for v in alpha], list(params)


def _prelu_infer(node: Node, inputs: Sequence[Tensor | None]) -> list[TensorType]:
    x = check_int8(node, inputs[0], "the input")
    _prelu_params(node, x)
    return [(x.shape, DType.INT8)]


def _prelu_eval(node: Node, values: Sequence[np.ndarray | None]) -> list[np.ndarray]:
    x = values[0]
    alpha, params = _prelu_params(node, Tensor("x", x.shape, DType.INT8))
    x_zp, y_zp = quant_attr(node, "x_quant").zero_point[0], quant_attr(node, "y_quant").zero_point[0]
    return [tq.prelu(x, np.asarray(alpha, np.int64), x_zp, y_zp, params).astype(np.int8)]


def _prelu_emit(node: Node, ctx: EmitContext) -> list[str]:
    x = ctx.tensor(node.inputs[0])
    alpha, ((m1, s1), (m2, s2)) = _prelu_params(node, x)
    fields = [x.size, len(alpha), quant_attr(node, "x_quant").zero_point[0], m1, s1, m2, s2,
              quant_attr(node, "y_quant").zero_point[0]]
    params = ctx.static("tinyaot_tflite_prelu_params", f"{{{c_ints(fields)[1:-1]}, {c_array(ctx, 'int32_t', alpha)}}}")
    ctx.use_kernel("tflite_prelu_s8")
    return [f"tinyaot_tflite_prelu_s8(&{params}, {ctx.ptr(node.inputs[0])}, {ctx.ptr(node.outputs[0])});"]


# ----------------------------------------------------------------------------- QUANTIZE, DEQUANTIZE


def _border_infer(node: Node, inputs: Sequence[Tensor | None]) -> list[TensorType]:
    x = inputs[0]
    if node.op == "TFLiteQuantize":
        if x.dtype != DType.FLOAT32:
            raise fail(node, f"the input must be float32, not {x.dtype.value}")
        per_tensor_quant(node, "y_quant")
        return [(x.shape, DType.INT8)]
    check_int8(node, x, "the input")
    per_tensor_quant(node, "x_quant")
    return [(x.shape, DType.FLOAT32)]


def _border_eval(node: Node, values: Sequence[np.ndarray | None]) -> list[np.ndarray]:
    x = values[0]
    if node.op == "TFLiteQuantize":
        q = quant_attr(node, "y_quant")
        with np.errstate(all="ignore"):
            v = tq._round_away(np.asarray(x, dtype=np.float32) / np.float32(q.scale[0]))
        v = np.clip(np.nan_to_num(v, nan=-1024.0), -1024, 1024).astype(np.int64) + q.zero_point[0]
        return [np.clip(v, -128, 127).astype(np.int8)]
    q = quant_attr(node, "x_quant")
    return [((x.astype(np.int64) - q.zero_point[0]).astype(np.float32) * np.float32(q.scale[0])).astype(np.float32)]


def _border_emit(node: Node, ctx: EmitContext) -> list[str]:
    x = ctx.tensor(node.inputs[0])
    src, dst = ctx.ptr(node.inputs[0]), ctx.ptr(node.outputs[0])
    if node.op == "TFLiteQuantize":
        q = quant_attr(node, "y_quant")
        params = ctx.static("tinyaot_tflite_quantize_params", f"{{{x.size}, {c_float(q.scale[0])}, {q.zero_point[0]}}}")
        ctx.use_kernel("tflite_quantize_s8")
        return [f"tinyaot_tflite_quantize_s8(&{params}, {src}, {dst});"]
    q = quant_attr(node, "x_quant")
    scale = ctx.static("float", c_float(q.scale[0]))
    params = ctx.static("tinyaot_quantize_params", f"{{{x.size}, 1, 1, &{scale}, {c_array(ctx, 'int32_t', [q.zero_point[0]])}}}")
    ctx.use_kernel("dequantize")  # (x - zero_point) * scale in float32: TFLite's value exactly
    return [f"tinyaot_dequantize(&{params}, 8, {src}, {dst});"]


_BINARY = OpDef(_binary_infer, _binary_eval, _binary_emit, macs=_binary_macs, permute=elementwise_permute)

OPS: dict[str, OpDef] = {
    "TFLiteAdd": _BINARY,
    "TFLiteSub": _BINARY,
    "TFLiteMul": _BINARY,
    "TFLiteDiv": _BINARY,
    "TFLiteAveragePool": OpDef(_pool_infer, _pool_eval, _pool_emit, macs=_pool_macs),
    "TFLiteSoftmax": OpDef(_softmax_infer, _softmax_eval, _softmax_emit),
    "TFLiteMean": OpDef(_mean_infer, _mean_eval, _mean_emit, macs=_mean_macs),
    "TFLiteResizeBilinear": OpDef(_resize_infer, _resize_eval, _resize_emit, macs=_resize_macs),
    "TFLitePRelu": OpDef(_prelu_infer, _prelu_eval, _prelu_emit),
    "TFLiteQuantize": OpDef(_border_infer, _border_eval, _border_emit),
    "TFLiteDequantize": OpDef(_border_infer, _border_eval, _border_emit),
}
