"""Quantized convolutions: QLinearConv (int8 in/out, requantized) and ConvInteger (int32 out).

IR form (see qbase.py): QLinearConv(x, w, [bias]) with the geometry attributes of Conv
(ops/conv.py: NCHW from ONNX, NHWC with weight_layout OHWI or 1HWO after the layout pass),
x_quant, w_quant (per tensor or per output channel), y_quant and optional act_range; w is a
constant int8, bias a constant int32 in units of x_scale * w_scale. ConvInteger(x, w) has
x_quant / w_quant with only their zero points meaningful and returns the int32 accumulator.

The golden (evaluate): acc = bias + sum over the window of (x - x_zp) * (w - w_zp), padding
contributing nothing, computed exactly; y = requantize(acc) with the multipliers of
fl32(fl32(x_scale * w_scale[c]) / y_scale) (onnxruntime's), + y_zp, clamped to act_range.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from tinyaot import quant
from tinyaot.ir import DType, Node, Tensor
from tinyaot.ops.base import EmitContext, OpDef, Overlap, TensorType, fail
from tinyaot.ops.conv import (
    Geometry,
    weights_oihw,
    as_2d,
    channel_geometry,
    conv_reference,
    from_nchw_array,
    is_depthwise,
    output_shape,
    spatial_layout,
    to_nchw_array,
    window_geometry,
)
from tinyaot.ops.qbase import (
    act_range,
    c_array,
    c_qoutput,
    channel_values,
    check_int8,
    input_tensors,
    multipliers,
    per_tensor_quant,
    quant_attr,
    requantize_output,
    rounding,
    tflite_multipliers,
)

_INT8 = (DType.INT8,)


@dataclass(frozen=True)
class QConvInfo:
    batch: int
    c_in: int
    c_out: int
    group: int
    spatial: tuple[int, ...]
    geom: Geometry


def qconv_info(node: Node, inputs: Sequence[Tensor | None]) -> QConvInfo:
    batch, c_in, spatial = spatial_layout(node, check_int8(node, inputs[0], "the input"), _INT8)
    w = inputs[1] if len(inputs) > 1 else None
    if w is None or w.data is None or w.dtype != DType.INT8:
        raise fail(node, "the weight must be a constant int8 tensor")
    group, c_out, kernel = channel_geometry(node, w.shape, c_in, len(spatial))
    bias = inputs[2] if len(inputs) > 2 else None
    if bias is not None and (bias.data is None or bias.dtype != DType.INT32 or bias.shape != (c_out,)):
        raise fail(node, f"the bias must be a constant int32 tensor of {c_out} values")
    per_tensor_quant(node, "x_quant")
    if node.op == "QLinearConv":
        per_tensor_quant(node, "y_quant")
    channel_values(node, quant_attr(node, "w_quant").scale, c_out, "the weight scale")
    return QConvInfo(batch, c_in, c_out, group, spatial, window_geometry(node, spatial, kernel))


def _infer(node: Node, inputs: Sequence[Tensor | None]) -> list[TensorType]:
    info = qconv_info(node, inputs)
    dtype = DType.INT32 if node.op == "ConvInteger" else DType.INT8
    return [(output_shape(node, info.batch, info.c_out, info.geom.out), dtype)]


def _zero_points(node: Node, c_out: int) -> tuple[int, list[int]]:
    x_zp = quant_attr(node, "x_quant").zero_point[0]
    w_zp = channel_values(node, quant_attr(node, "w_quant").zero_point, c_out, "the weight zero point")
    return int(x_zp), [int(z) for z in w_zp]


def requant_multipliers(node: Node, c_out: int) -> tuple[list[int], list[int]]:
    """Per output channel, onnxruntime's fl32(fl32(x_scale * w_scale) / y_scale)."""
    x, w, y = quant_attr(node, "x_quant"), quant_attr(node, "w_quant"), quant_attr(node, "y_quant")
    w_scales = channel_values(node, w.scale, c_out, "the weight scale")
    if rounding(node) is not quant.RoundingMode.ORT:  # TFLite: x_scale * w_scale / y_scale in double
        return tflite_multipliers(node, [x.scale[0] * s / y.scale[0] for s in w_scales])
    return multipliers(node, quant.ort_product_scale(x.scale[0], w_scales, y.scale[0]))


def _accumulators(node: Node, info: QConvInfo, x: np.ndarray, w: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    """Exact int64 accumulators, NCHW. Products of zero-point-corrected int8 values summed in
    float64 are exact integers (|sum| < 2**53), so the float conv reference serves."""
    x_zp, w_zp = _zero_points(node, info.c_out)
    w_oihw = weights_oihw(node, w).astype(np.int64)
    w_oihw = w_oihw - np.asarray(w_zp, dtype=np.int64).reshape(-1, *([1] * (w_oihw.ndim - 1)))
    xc = to_nchw_array(node, x).astype(np.int64) - x_zp
    acc = np.rint(conv_reference(xc.astype(np.float64), w_oihw.astype(np.float64), None, info.group, info.geom))
    acc = acc.astype(np.int64)
    if bias is not None:
        acc += bias.astype(np.int64).reshape(1, -1, *([1] * (acc.ndim - 2)))
    return acc


def _evaluate(node: Node, values: Sequence[np.ndarray | None]) -> list[np.ndarray]:
    info = qconv_info(node, input_tensors(node, values))
    bias = values[2] if len(values) > 2 else None
    acc = _accumulators(node, info, values[0], values[1], bias)
    if node.op == "ConvInteger":
        return [from_nchw_array(node, acc.astype(np.int32))]
    mults, shifts = requant_multipliers(node, info.c_out)
    lo, hi = act_range(node)
    y = requantize_output(acc, mults, shifts, quant_attr(node, "y_quant").zero_point[0], lo, hi, channel_axis=1,
                          mode=rounding(node))
    return [from_nchw_array(node, y)]


def _to_nhwc(node: Node, inputs: Sequence[Tensor | None]) -> tuple[dict, dict[int, np.ndarray]]:
    info = qconv_info(node, inputs)
    w = inputs[1].data
    if is_depthwise(info.c_in, info.group):
        layout, new_w = "1HWO", np.moveaxis(w, 0, -1)  # (1, *k, O)
    else:
        layout, new_w = "OHWI", np.moveaxis(w, 1, -1)  # (O, *k, I/group)
    g = info.geom
    attrs = {**node.attrs, "kernel_shape": list(g.kernel), "strides": list(g.strides),
             "dilations": list(g.dilations), "pads": g.pads(), "output_spatial": list(g.out),
             "auto_pad": "NOTSET", "group": info.group, "weight_layout": layout}
    return attrs, {1: np.ascontiguousarray(new_w)}


def _macs(node: Node, inputs: Sequence[Tensor | None], outputs: Sequence[Tensor]) -> int:
    info = qconv_info(node, inputs)
    return outputs[0].size * (info.c_in // info.group) * int(np.prod(info.geom.kernel))


def _folded_bias(bias: np.ndarray, w_flat: np.ndarray, x_zp: int, w_zp: Sequence[int]) -> list[int]:
    """bias - x_zp * sum(w) + taps * x_zp * w_zp per output channel (w_flat: [c_out, taps])."""
    taps = w_flat.shape[1]
    sums = w_flat.astype(np.int64).sum(axis=1)
    folded = bias.astype(np.int64) - x_zp * sums + taps * x_zp * np.asarray(w_zp, dtype=np.int64)
    if np.any(np.abs(folded) >= 2**31):
        raise ValueError("folded bias overflows int32")
    return [int(v) for v in folded]


def _pointwise(info: QConvInfo, depthwise: bool) -> bool:
    """A 1x1 convolution without stride or padding: a fully connected layer over the pixels."""
    g = info.geom
    return (not depthwise and info.group == 1 and all(k == 1 for k in g.kernel)
            and all(s == 1 for s in g.strides) and not any(g.pads()))


def fully_connected_scratch(depth: int, out_c: int) -> int:
    """TINYAOT_QFULLY_CONNECTED_S8_SCRATCH (runtime/include/tinyaot/quantized.h); out_c does
    not change it (the kernels derive requantization constants per block of channels)."""
    del out_c
    return max(16 * ((depth + 3) // 4) + 512, 1280)


def conv_scratch(cg_taps: int) -> int:
    """TINYAOT_QCONV2D_S8_SCRATCH (runtime/include/tinyaot/quantized.h) for
    kernel_h * kernel_w * in_c / groups taps."""
    return 20 * ((cg_taps + 3) // 4) + 128


def depthwise_scratch(kh: int, kw: int, oh: int, ow: int, sh: int, sw: int) -> int:
    """TINYAOT_QDEPTHWISE_CONV2D_S8_SCRATCH (runtime/include/tinyaot/quantized.h): the most
    any optimized path needs for one channel block: DSP (4 channels, width tiles of <= 64
    pixels), MVE ring (8 channels, kernel_h rows, one output row of sums), or 2 KiB when
    MVE's whole padded plane and one output row of sums fit in it."""
    tile = ow + (ow & 1) if ow < 64 else 64
    dsp = 16 * kh * (tile // 2 * sw + 1) + 164
    ring = (8 * kh * kw + 8 * kh * ((ow - 1) * sw + kw) + 4 * kh + 15) // 16 * 16 + 32 * ow
    plane = (8 * ((oh - 1) * sh + kh) * ((ow - 1) * sw + kw) + 8 * kh * kw + 15) // 16 * 16 + 32 * ow
    return max(dsp, ring, 1536 if plane <= 2048 else 0)


def _scratch(node: Node, inputs: Sequence[Tensor | None]) -> int:
    """The kernel's scratch bytes: the TINYAOT_Q*_SCRATCH macros of tinyaot/quantized.h."""
    info = qconv_info(node, inputs)
    depthwise = node.attrs.get("weight_layout") == "1HWO"
    taps = int(np.prod(info.geom.kernel))
    if _pointwise(info, depthwise):
        return fully_connected_scratch(info.c_in, info.c_out)
    if depthwise:
        (kh, kw), (sh, sw), (oh, ow) = as_2d(info.geom.kernel, 1), as_2d(info.geom.strides, 1), as_2d(info.geom.out, 1)
        return depthwise_scratch(kh, kw, oh, ow, sh, sw)
    cg_taps = taps * (info.c_in // info.group)
    return conv_scratch(cg_taps)


# ----------------------------------------------------------------------------- overlap
# The gap (OpDef.overlap) is the largest over the kernel's paths (portable, DSP, Helium), each
# from its access order: for every output write, the input bytes it may clobber must be ones
# that path never reads again. An output byte at o lands on input byte o - shift (shift =
# in_offset - out_offset >= gap). Rows and pixels are flattened over the batch. A write after
# which the path reads no input at all constrains nothing: with no such constraint the gap is
# -(input bytes), the output may start anywhere up to the input's end.
# tests/kernels/overlap_test.c mirrors these functions and checks them on every core.


@dataclass(frozen=True)
class Window2d:
    """A 2-D convolution's geometry (1-D: H == 1), the arguments of the gap functions."""

    batch: int
    in_h: int
    in_w: int
    out_h: int
    out_w: int
    kernel_h: int
    kernel_w: int
    stride_h: int
    stride_w: int
    dilation_h: int
    dilation_w: int
    pad_top: int
    pad_left: int

    @staticmethod
    def of(info: QConvInfo) -> "Window2d":
        g = info.geom
        return Window2d(info.batch, *as_2d(info.spatial, 1), *as_2d(g.out, 1), *as_2d(g.kernel, 1),
                        *as_2d(g.strides, 1), *as_2d(g.dilations, 1), *as_2d(g.pads_begin, 0))


def _row_gap(rows: Sequence[tuple[int, int]], ri: int, ro: int, in_rows: int) -> int:
    """Rows model: per write, (output rows written so far, input rows dead by then); ri / ro
    bytes per input / output row."""
    return max((written * ro - dead * ri for written, dead in rows if dead < in_rows), default=-in_rows * ri)


def pixel_gap(w: Window2d, ci: int, co: int, ahead: int) -> int:
    """Raster order reading the input in place: output pixel p is written while the windows of
    pixels >= p + ahead may still be read (ahead 0: p's own window, read again for p's next
    channels); ci / co bytes per input / output pixel."""
    rs = np.array([min(max(y * w.stride_h - w.pad_top, 0), w.in_h) for y in range(w.out_h)] + [w.in_h], np.int64)
    cs = np.array([min(max(x * w.stride_w - w.pad_left, 0), w.in_w) for x in range(w.out_w)], np.int64)
    # the lowest input pixel of the windows of (y, x) and of every later pixel of the image
    low = np.minimum(rs[:-1, None] * w.in_w + cs[None, :], rs[1:, None] * w.in_w).reshape(-1)
    low = np.concatenate([low, [w.in_h * w.in_w]])  # after the image's last pixel: all dead
    pixels, in_pixels = w.out_h * w.out_w, w.in_h * w.in_w
    terms = (np.arange(pixels, dtype=np.int64) + 1) * co - low[ahead:pixels + ahead] * ci
    # image b adds b * (out pixels * co - in pixels * ci) to every term; the last image's
    # last write with ahead 1 leaves nothing to read
    step = pixels * co - in_pixels * ci
    last = int(np.max(terms[:-1])) if ahead and pixels > 1 else (None if ahead else int(np.max(terms)))
    worst = [int(np.max(terms)) + b * step for b in range(w.batch - 1)]
    if last is not None:
        worst.append(last + (w.batch - 1) * step)
    return max(worst, default=-w.batch * in_pixels * ci)


def depthwise_row_gap(w: Window2d, c: int, held: bool) -> int:
    """Output rows written one after the other, per channel block. held: the path keeps the
    window's rows (ring or whole plane) and never reads them from the input again; else the
    next window's rows may be read again."""
    rows = []
    for b in range(w.batch):
        for y in range(w.out_h):
            if y == w.out_h - 1:
                dead = w.in_h
            elif held:
                dead = min(max(y * w.stride_h - w.pad_top + (w.kernel_h - 1) * w.dilation_h + 1, 0), w.in_h)
            else:
                dead = min(max((y + 1) * w.stride_h - w.pad_top, 0), w.in_h)
            rows.append((b * w.out_h + y + 1, b * w.in_h + dead))
    return _row_gap(rows, w.in_w * c, w.out_w * c, w.batch * w.in_h)


def depthwise_gap(w: Window2d, c: int, w_zp: bool) -> Overlap | None:
    """Depthwise, one output channel per input channel, int8 output. Portable: channel by
    channel with a ring of kernel_h rows in the scratch when it fits (TINYAOT_QDW_REF_RING_BYTES),
    else raster order. DSP (3x3, 4k channels, no weight zero points): channel blocks outermost,
    a ring of expanded rows, one width tile of up to 64 pixels (a second tile reads every row
    again: no overlap).
    Helium: 8-channel blocks with a band of input rows (the rows the next group of output rows
    shares moved, not read again) or a ring copied to the scratch, or 4-channel blocks in
    raster order; a last block overlapping the one before (channels not a multiple of the
    block) reads channels already written: no overlap."""
    scratch = depthwise_scratch(w.kernel_h, w.kernel_w, w.out_h, w.out_w, w.stride_h, w.stride_w)
    span = (w.out_w - 1) * w.stride_w + (w.kernel_w - 1) * w.dilation_w + 1
    held = w.dilation_h == 1
    ring = 8 * w.kernel_h + w.kernel_h * span <= scratch
    gaps = [depthwise_row_gap(w, c, held) if ring else pixel_gap(w, c, c, 0)]
    if w.kernel_h == 3 and w.kernel_w == 3 and w.dilation_w == 1 and w.stride_w in (1, 2) and c % 4 == 0 and not w_zp:
        if w.out_w > 64:
            return None
        gaps.append(depthwise_row_gap(w, c, held))
    if c >= 4:
        taps = w.kernel_h * w.kernel_w
        group = 0  # output rows per band (dw_band_group)
        while group < w.out_h and (taps * 8 + 15) // 16 * 16 + (
                (group * w.stride_h + (w.kernel_h - 1) * w.dilation_h + 1) * span * 8 + 15) // 16 * 16 + (
                group + 1) * w.out_w * 32 <= scratch:
            group += 1
        ring = (taps * 8 + w.kernel_h * span * 8 + w.kernel_h * 4 + 15) // 16 * 16 + w.out_w * 32 <= scratch
        banded = group >= 2 or (group == 1 and (w.out_h == 1 or not ring))
        if c < 8 or w_zp or w.kernel_h > 16 or not (banded or ring):
            if c % 4:
                return None
            gaps.append(pixel_gap(w, c, c, 1))
        elif c % 8:
            return None
        else:  # a band copies each row once; a ring too with dilation 1
            gaps.append(depthwise_row_gap(w, c, banded or held))
    return Overlap(max(gaps), c)


def fully_connected_gap(rows: int, depth: int, out_c: int, out_bytes: int) -> Overlap | None:
    """Rows ascending on every path. Portable: each row copied to the scratch before its
    outputs are written (when the scratch holds a row). DSP: row pairs expanded before their
    outputs are written (a depth below 4 is read again per block of channels). Helium: a run
    of rows copied to the scratch before any of its outputs is written."""
    co = out_c * out_bytes

    def rows_gap(lag: int) -> int:  # output row r written while input rows >= r + 1 - lag are live
        last = rows - 1 if lag == 0 else rows  # after the last row is read nothing is live
        return max(co - (1 - lag) * depth, last * co - (last - lag) * depth) if last > 0 else -rows * depth

    copied = fully_connected_scratch(depth, out_c) >= depth
    return Overlap(max(rows_gap(0 if copied else 1), rows_gap(1 if depth < 4 else 0)))


def _overlap(node: Node, inputs: Sequence[Tensor | None]) -> Overlap | None:
    info = qconv_info(node, inputs)
    if node.attrs.get("layout") != "NHWC":
        return None
    out_bytes = 4 if node.op == "ConvInteger" else 1
    depthwise = node.attrs.get("weight_layout") == "1HWO"
    if _pointwise(info, depthwise):
        return fully_connected_gap(info.batch * int(np.prod(info.geom.out)), info.c_in, info.c_out, out_bytes)
    if depthwise:
        if info.c_in != info.c_out or out_bytes != 1:
            return None
        return depthwise_gap(Window2d.of(info), info.c_out, any(_zero_points(node, info.c_out)[1]))
    if info.group != 1:
        return None  # DSP: groups outermost, each reading every pixel
    # every path: pixels ascending, a pixel's window read (gathered) before its outputs
    return Overlap(pixel_gap(Window2d.of(info), info.c_in, info.c_out * out_bytes, 0))


def emit_requant_output(node: Node, ctx: EmitContext, c_out: int) -> str:
    """The tinyaot_qoutput initializer of a QLinearConv / QGemm-like node (int32 output for
    ConvInteger / MatMulInteger)."""
    lo, hi = act_range(node)
    if node.op in ("ConvInteger", "MatMulInteger"):
        return c_qoutput(ctx, None, None, 0, lo, hi)
    mults, shifts = requant_multipliers(node, c_out)
    return c_qoutput(ctx, mults, shifts, quant_attr(node, "y_quant").zero_point[0], lo, hi, rounding(node))


def _emit(node: Node, ctx: EmitContext) -> list[str]:
    inputs = [ctx.tensor(i) if i else None for i in node.inputs]
    info = qconv_info(node, inputs)
    if node.attrs.get("layout") != "NHWC":
        raise fail(node, f"internal: {node.op} reached codegen in NCHW layout")
    g = info.geom
    w = inputs[1].data
    depthwise = node.attrs.get("weight_layout") == "1HWO"
    w_flat = (np.moveaxis(w.reshape(-1, info.c_out), -1, 0) if depthwise else w.reshape(info.c_out, -1))
    x_zp, w_zp = _zero_points(node, info.c_out)
    bias = inputs[2].data if len(inputs) > 2 and inputs[2] is not None else np.zeros(info.c_out, np.int32)
    try:
        folded = _folded_bias(bias, w_flat, x_zp, w_zp)
    except ValueError as exc:
        raise fail(node, str(exc))
    w_zp_c = c_array(ctx, "int32_t", w_zp) if any(w_zp) else "NULL"
    out = emit_requant_output(node, ctx, info.c_out)
    x, wp, y = ctx.ptr(node.inputs[0]), ctx.ptr(node.inputs[1]), ctx.ptr(node.outputs[0])
    if _pointwise(info, depthwise):
        rows = info.batch * int(np.prod(g.out))
        params = ctx.static("tinyaot_qfully_connected_params",
                            f"{{{rows}, {info.c_in}, {info.c_out}, {w_zp_c}, {c_array(ctx, 'int32_t', folded)}, {out}}}")
        ctx.use_kernel("qfully_connected_s8")
        ctx.use_kernel("qoutput_s8")
        return [f"tinyaot_qfully_connected_s8(&{params}, {x}, {wp}, {y}, {ctx.scratch()});"]
    kh, kw = as_2d(g.kernel, 1)
    sh, sw = as_2d(g.strides, 1)
    dh, dw = as_2d(g.dilations, 1)
    pt, pl = as_2d(g.pads_begin, 0)
    fields = [info.batch, *as_2d(info.spatial, 1), info.c_in, *as_2d(g.out, 1), info.c_out, kh, kw, sh, sw, dh, dw,
              pt, pl, info.group, x_zp]
    bias_c = c_array(ctx, "int32_t", [int(b) for b in bias])
    params = ctx.static("tinyaot_qconv2d_params", "{" + ", ".join(str(int(f)) for f in fields)
                        + f", {w_zp_c}, {bias_c}, {c_array(ctx, 'int32_t', folded)}, {out}}}")
    kernel = "qdepthwise_conv2d_s8" if depthwise else "qconv2d_s8"
    ctx.use_kernel(kernel)
    ctx.use_kernel("qoutput_s8")
    return [f"tinyaot_{kernel}(&{params}, {x}, {wp}, {y}, {ctx.scratch()});"]


_QCONV = OpDef(_infer, _evaluate, _emit, macs=_macs, to_nhwc=_to_nhwc, data_inputs=(0,), scratch=_scratch,
               overlap=_overlap)

OPS: dict[str, OpDef] = {
    "QLinearConv": _QCONV,
    "ConvInteger": _QCONV,
}
