"""Convolutions: Conv (1-D/2-D, groups, depthwise, dilation) and ConvTranspose.

IR forms
- NCHW (from ONNX): ONNX attributes as given (auto_pad, optional kernel_shape/strides/
  dilations/pads); weights OIHW for Conv, IOHW (C_in, C_out/group, kH, kW) for ConvTranspose.
- NHWC (after the layout pass): every geometry attribute is explicit and auto_pad is
  "NOTSET": kernel_shape, strides, dilations, pads (resolved, [begin..., end...]), group,
  output_spatial (Conv: the output's spatial sizes, so no padding rule is re-applied), and
  attrs["weight_layout"] names how the weights are laid out:
    "OHWI": (C_out, kH, kW, C_in/group): Conv (dense and grouped) and ConvTranspose; the
            kernels' inner loop is a dot product over contiguous input channels;
    "1HWO": (1, kH, kW, C_out): depthwise Conv (group == C_in, C_out = C_in * multiplier,
            output channel c*multiplier + m reads input channel c).
  ConvTranspose NHWC additionally has output_padding = the extra output size, so that
  output_shape / auto_pad are folded into (pads, output_padding).
  1-D convolutions are [N, L, C] tensors in NHWC with 1-element spatial attribute lists and
  (C_out, kL, C_in/group) / (1, kL, C_out) weights; the kernels see them as H == 1.
Pads may be negative in NHWC form (onnxruntime's SAME padding when stride > kernel): a
negative begin pad skips input, which the kernels' bounds checks handle naturally.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from tinyaot.ir import DType, Node, Tensor
from tinyaot.ops.base import (
    EmitContext,
    OpDef,
    TensorType,
    activation_of,
    apply_activation,
    c_activation,
    fail,
)


# ----------------------------------------------------------------------------- geometry


@dataclass(frozen=True)
class Geometry:
    """Per spatial dim: the resolved sliding-window parameters and output size."""

    kernel: tuple[int, ...]
    strides: tuple[int, ...]
    dilations: tuple[int, ...]
    pads_begin: tuple[int, ...]
    pads_end: tuple[int, ...]
    out: tuple[int, ...]

    def pads(self) -> list[int]:
        return list(self.pads_begin) + list(self.pads_end)


def c_div(a: int, b: int) -> int:
    """C integer division (truncates toward zero), as onnxruntime computes pads."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def int_list(node: Node, name: str, length: int, default: int | None) -> list[int]:
    value = node.attrs.get(name)
    if value is None or (isinstance(value, (list, tuple)) and len(value) == 0):
        if default is None:
            raise fail(node, f"attribute '{name}' is required")
        return [default] * length
    values = [int(v) for v in value]
    if len(values) != length:
        raise fail(node, f"attribute '{name}' has {len(values)} values, expected {length}")
    return values


def auto_pad_of(node: Node) -> str:
    mode = node.attrs.get("auto_pad", "NOTSET") or "NOTSET"
    if mode not in ("NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"):
        raise fail(node, f"auto_pad '{mode}' is not supported")
    return mode


def window_geometry(node: Node, spatial: Sequence[int], kernel: Sequence[int], pool: bool = False,
                    ceil_mode: bool = False) -> Geometry:
    """Sliding-window geometry with onnxruntime's rules for auto_pad and ceil_mode."""
    ndim = len(spatial)
    strides = int_list(node, "strides", ndim, 1)
    dilations = int_list(node, "dilations", ndim, 1)
    if any(s < 1 for s in strides) or any(d < 1 for d in dilations) or any(k < 1 for k in kernel):
        raise fail(node, f"strides {strides}, dilations {dilations} and kernel {list(kernel)} must be >= 1")
    fixed = node.attrs.get("output_spatial")
    if fixed is not None:
        # NHWC form: everything was resolved by to_nhwc; pads may be negative.
        pads = int_list(node, "pads", 2 * ndim, 0)
        return Geometry(tuple(int(k) for k in kernel), tuple(strides), tuple(dilations), tuple(pads[:ndim]),
                        tuple(pads[ndim:]), tuple(int(v) for v in fixed))
    mode = auto_pad_of(node)
    pads = [0] * (2 * ndim) if mode != "NOTSET" else int_list(node, "pads", 2 * ndim, 0)
    begin, end, out = [], [], []
    for i, n in enumerate(spatial):
        k, s, d = int(kernel[i]), strides[i], dilations[i]
        dk = d * (k - 1) + 1
        if mode in ("SAME_UPPER", "SAME_LOWER"):
            target = -(-n // s)
            if pool:
                # Pools: onnxruntime sizes SAME padding with the undilated kernel.
                needed = (target - 1) * s + k - n
            else:
                needed = (target - 1) * s + dk - n
                if int((n + 2 * needed - dk) / s + 1) < target:
                    needed += 1
            pb = c_div(needed, 2) if mode == "SAME_UPPER" else c_div(needed + 1, 2)
            pe = needed - pb
        else:
            pb, pe = pads[i], pads[ndim + i]
            if pb < 0 or pe < 0:
                raise fail(node, f"pads {pads} must not be negative")
        span = n + pb + pe - dk
        if pool and ceil_mode:
            size = -(-span // s) + 1
            # A last window that would start past the input and its begin padding is
            # dropped (onnxruntime, PyTorch).
            if (size - 1) * s >= n + pb:
                size -= 1
        elif pool:
            size = c_div(span, s) + 1
        else:
            size = int(span / s + 1)
        if size <= 0:
            raise fail(node, f"window of {dk} (dilated kernel) does not fit input size {n} with pads {pb}, {pe}")
        begin.append(pb)
        end.append(pe)
        out.append(size)
    return Geometry(tuple(int(k) for k in kernel), tuple(strides), tuple(dilations), tuple(begin), tuple(end), tuple(out))


def spatial_layout(node: Node, x: Tensor, dtypes: tuple[DType, ...] = (DType.FLOAT32,)) -> tuple[int, int, tuple[int, ...]]:
    """(batch, channels, spatial dims) of a layout-sensitive op's input; 1-D and 2-D only."""
    rank = len(x.shape)
    if rank == 5:
        raise fail(node, "3-D (volumetric) windows are not supported; only 1-D and 2-D")
    if rank not in (3, 4):
        raise fail(node, f"input rank {rank} is not supported (expected 3 for 1-D or 4 for 2-D)")
    if x.dtype not in dtypes:
        names = "/".join(d.value for d in dtypes)
        raise fail(node, f"element type {x.dtype.value} is not supported ({names} only)")
    if node.attrs.get("layout", "NCHW") == "NHWC":
        return x.shape[0], x.shape[-1], tuple(x.shape[1:-1])
    return x.shape[0], x.shape[1], tuple(x.shape[2:])


def output_shape(node: Node, batch: int, channels: int, spatial: Sequence[int]) -> tuple[int, ...]:
    if node.attrs.get("layout", "NCHW") == "NHWC":
        return (batch, *spatial, channels)
    return (batch, channels, *spatial)


def to_nchw_array(node: Node, x: np.ndarray) -> np.ndarray:
    if node.attrs.get("layout", "NCHW") == "NHWC":
        return np.moveaxis(x, -1, 1)
    return x


def from_nchw_array(node: Node, y: np.ndarray) -> np.ndarray:
    if node.attrs.get("layout", "NCHW") == "NHWC":
        y = np.moveaxis(y, 1, -1)
    return np.ascontiguousarray(y)


def as_2d(values: Sequence[int], fill: int) -> tuple[int, int]:
    """1-D windows run as 2-D with H == 1."""
    return (fill, int(values[0])) if len(values) == 1 else (int(values[0]), int(values[1]))


def geometry_2d(geom: Geometry) -> Geometry:
    """A 1-D geometry as 2-D with H == 1."""
    if len(geom.kernel) == 2:
        return geom
    return Geometry((1, geom.kernel[0]), (1, geom.strides[0]), (1, geom.dilations[0]),
                    (0, geom.pads_begin[0]), (0, geom.pads_end[0]), (1, geom.out[0]))


def window_indices(out: int, stride: int, pad: int, tap: int, dilation: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Input index of each output position for one kernel tap, and whether it is inside."""
    idx = np.arange(out) * stride - pad + tap * dilation
    valid = (idx >= 0) & (idx < size)
    return np.where(valid, idx, 0), valid


# ----------------------------------------------------------------------------- Conv


@dataclass(frozen=True)
class ConvInfo:
    batch: int
    c_in: int
    c_out: int
    group: int
    spatial: tuple[int, ...]
    geom: Geometry


def _float_const(node: Node, inputs: Sequence[Tensor | None], index: int, what: str) -> Tensor:
    tensor = inputs[index] if index < len(inputs) else None
    if tensor is None or tensor.data is None:
        raise fail(node, f"{what} must be a constant (tinyaot compiles static graphs only)")
    if tensor.dtype != DType.FLOAT32:
        raise fail(node, f"{what} element type {tensor.dtype.value} is not supported (float32 only)")
    return tensor


def _bias_check(node: Node, inputs: Sequence[Tensor | None], c_out: int) -> None:
    if len(inputs) > 2 and inputs[2] is not None:
        bias = _float_const(node, inputs, 2, "the bias")
        if bias.shape != (c_out,):
            raise fail(node, f"bias shape {list(bias.shape)} does not match {c_out} output channels")


def _kernel_from_weights(node: Node, w_shape: tuple[int, ...], ndim: int, nhwc: bool) -> tuple[int, ...]:
    kernel = tuple(w_shape[1:-1]) if nhwc else tuple(w_shape[2:])
    if len(w_shape) != ndim + 2:
        raise fail(node, f"weight rank {len(w_shape)} does not match a {ndim}-D input")
    given = node.attrs.get("kernel_shape")
    if given and tuple(int(k) for k in given) != kernel:
        raise fail(node, f"kernel_shape {list(given)} does not match weight shape {list(w_shape)}")
    return kernel


def conv_info(node: Node, inputs: Sequence[Tensor | None]) -> ConvInfo:
    x = inputs[0]
    batch, c_in, spatial = spatial_layout(node, x)
    w = _float_const(node, inputs, 1, "the weight")
    group, c_out, kernel = channel_geometry(node, w.shape, c_in, len(spatial))
    _bias_check(node, inputs, c_out)
    return ConvInfo(batch, c_in, c_out, group, spatial, window_geometry(node, spatial, kernel))


def channel_geometry(node: Node, w_shape: Sequence[int], c_in: int, n_spatial: int) -> tuple[int, int, tuple[int, ...]]:
    """(group, output channels, kernel size) from a conv's weight shape in any of its
    layouts (OIHW from ONNX, OHWI or 1HWO after the layout pass), checked against c_in."""
    group = int(node.attrs.get("group", 1))
    nhwc = node.attrs.get("layout", "NCHW") == "NHWC"
    kernel = _kernel_from_weights(node, w_shape, n_spatial, nhwc)
    if nhwc and node.attrs.get("weight_layout") == "1HWO":
        c_out, per_group = w_shape[-1], 1
    elif nhwc:
        c_out, per_group = w_shape[0], w_shape[-1]
    else:
        c_out, per_group = w_shape[0], w_shape[1]
    if group < 1 or c_in != per_group * group or c_out % group:
        raise fail(node, f"{c_in} input channels, weight {list(w_shape)} and group {group} are inconsistent")
    return group, c_out, kernel


def _conv_infer(node: Node, inputs: Sequence[Tensor | None]) -> list[TensorType]:
    info = conv_info(node, inputs)
    return [(output_shape(node, info.batch, info.c_out, info.geom.out), DType.FLOAT32)]


def weights_oihw(node: Node, w: np.ndarray) -> np.ndarray:
    """The NCHW-form weight (O, I/group, *k) from any IR form."""
    layout = node.attrs.get("weight_layout") if node.attrs.get("layout") == "NHWC" else None
    if layout == "1HWO":
        return np.moveaxis(w, -1, 0)  # (O, 1, *k)
    if layout == "OHWI":
        return np.moveaxis(w, -1, 1)
    return w


def conv_reference(x: np.ndarray, w: np.ndarray, bias: np.ndarray | None, group: int, geom: Geometry) -> np.ndarray:
    """NCHW convolution in float64 (x: (N, C, *s), w: (O, C/group, *k)), any pads."""
    if x.ndim == 3:
        return conv_reference(x[:, :, None, :], w[:, :, None, :], bias, group, geometry_2d(geom))[:, :, 0, :]
    n, c = x.shape[:2]
    o = w.shape[0]
    oh, ow = geom.out
    x = x.astype(np.float64).reshape(n, group, c // group, *x.shape[2:])
    w = w.astype(np.float64).reshape(group, o // group, c // group, *w.shape[2:])
    y = np.zeros((n, group, o // group, oh, ow))
    for kh in range(geom.kernel[0]):
        ih, vh = window_indices(oh, geom.strides[0], geom.pads_begin[0], kh, geom.dilations[0], x.shape[3])
        for kw in range(geom.kernel[1]):
            iw, vw = window_indices(ow, geom.strides[1], geom.pads_begin[1], kw, geom.dilations[1], x.shape[4])
            patch = x[:, :, :, ih][:, :, :, :, iw] * (vh[:, None] & vw[None, :])
            y += np.einsum("ngchw,gmc->ngmhw", patch, w[:, :, :, kh, kw])
    y = y.reshape(n, o, oh, ow)
    if bias is not None:
        y += bias.astype(np.float64).reshape(1, o, 1, 1)
    return y


def _conv_eval(node: Node, values: Sequence[np.ndarray | None]) -> list[np.ndarray]:
    inputs = [Tensor(f"in{i}", v.shape, DType.from_numpy(v.dtype), v if i else None) if v is not None else None
              for i, v in enumerate(values)]
    info = conv_info(node, inputs)
    x = to_nchw_array(node, values[0])
    w = weights_oihw(node, values[1])
    bias = values[2] if len(values) > 2 else None
    y = conv_reference(x, w, bias, info.group, info.geom).astype(np.float32)
    return [from_nchw_array(node, apply_activation(y, activation_of(node)))]


def is_depthwise(c_in: int, group: int) -> bool:
    return group == c_in and group > 1


def _conv_to_nhwc(node: Node, inputs: Sequence[Tensor | None]) -> tuple[dict, dict[int, np.ndarray]]:
    info = conv_info(node, inputs)
    w = inputs[1].data
    if is_depthwise(info.c_in, info.group):
        layout, new_w = "1HWO", np.moveaxis(w, 0, -1)  # (1, *k, O)
    else:
        layout, new_w = "OHWI", np.moveaxis(w, 1, -1)  # (O, *k, I/group)
    g = info.geom
    attrs = {
        **node.attrs,
        "kernel_shape": list(g.kernel),
        "strides": list(g.strides),
        "dilations": list(g.dilations),
        "pads": g.pads(),
        "output_spatial": list(g.out),
        "auto_pad": "NOTSET",
        "group": info.group,
        "weight_layout": layout,
    }
    return attrs, {1: np.ascontiguousarray(new_w)}


def _conv_macs(node: Node, inputs: Sequence[Tensor | None], outputs: Sequence[Tensor]) -> int:
    info = conv_info(node, inputs)
    return outputs[0].size * (info.c_in // info.group) * int(np.prod(info.geom.kernel))


def _params_initializer(batch: int, in_hw: tuple[int, int], c_in: int, out_hw: tuple[int, int], c_out: int,
                        geom: Geometry, group: int, act: tuple) -> str:
    kh, kw = as_2d(geom.kernel, 1)
    sh, sw = as_2d(geom.strides, 1)
    dh, dw = as_2d(geom.dilations, 1)
    pt, pl = as_2d(geom.pads_begin, 0)
    fields = [batch, *in_hw, c_in, *out_hw, c_out, kh, kw, sh, sw, dh, dw, pt, pl, group]
    return "{" + ", ".join(str(int(f)) for f in fields) + f", {c_activation(act)}}}"


def _conv_emit(node: Node, ctx: EmitContext) -> list[str]:
    inputs = [ctx.tensor(i) if i else None for i in node.inputs]
    info = conv_info(node, inputs)
    if node.attrs.get("layout") != "NHWC":
        raise fail(node, "internal: Conv reached codegen in NCHW layout")
    g = info.geom
    in_hw = as_2d(info.spatial, 1)
    out_hw = as_2d(g.out, 1)
    params = ctx.static(
        "tinyaot_conv2d_f32_params",
        _params_initializer(info.batch, in_hw, info.c_in, out_hw, info.c_out, g, info.group, activation_of(node)),
    )
    if node.attrs.get("weight_layout") == "1HWO":
        kernel = "depthwise_conv2d_f32"
    elif (info.group == 1 and all(k == 1 for k in g.kernel) and all(s == 1 for s in g.strides)
          and not any(g.pads())):
        kernel = "conv1x1_f32"
    else:
        kernel = "conv2d_f32"
    ctx.use_kernel(kernel)
    bias = ctx.ptr(node.inputs[2]) if len(node.inputs) > 2 and node.inputs[2] else "NULL"
    x, w, y = ctx.ptr(node.inputs[0]), ctx.ptr(node.inputs[1]), ctx.ptr(node.outputs[0])
    return [f"tinyaot_{kernel}(&{params}, {x}, {w}, {bias}, {y});"]


# ----------------------------------------------------------------------------- ConvTranspose


def _transpose_geometry(node: Node, spatial: Sequence[int], kernel: Sequence[int]) -> tuple[Geometry, tuple[int, ...]]:
    """(geometry, output_padding) with onnxruntime's rules for output_shape and auto_pad."""
    ndim = len(spatial)
    strides = int_list(node, "strides", ndim, 1)
    dilations = int_list(node, "dilations", ndim, 1)
    if any(s < 1 for s in strides) or any(d < 1 for d in dilations):
        raise fail(node, f"strides {strides} and dilations {dilations} must be >= 1")
    adj = int_list(node, "output_padding", ndim, 0)
    mode = auto_pad_of(node)
    pads = int_list(node, "pads", 2 * ndim, 0)
    if any(p < 0 for p in pads) or any(a < 0 for a in adj):
        raise fail(node, f"pads {pads} and output_padding {adj} must not be negative")
    shape = node.attrs.get("output_shape")
    if shape:
        shape = [int(v) for v in shape]
        if len(shape) == ndim + 2:
            shape = shape[2:]
        if len(shape) != ndim:
            raise fail(node, f"output_shape {shape} does not have {ndim} spatial dims")
    begin, end, out, extra = [], [], [], []
    for i, n in enumerate(spatial):
        k, s, d, a = int(kernel[i]), strides[i], dilations[i], adj[i]
        natural = (n - 1) * s + a + d * (k - 1) + 1
        target = shape[i] if shape else (n * s if mode in ("SAME_UPPER", "SAME_LOWER") else None)
        if target is not None:
            total = max(0, natural - target)
            if mode == "SAME_UPPER":
                pb = total // 2
            else:
                pb = total - total // 2
            pe = total - pb
        else:
            pb, pe = (0, 0) if mode == "VALID" else (pads[i], pads[ndim + i])
        size = natural - pb - pe if not shape else shape[i]
        if size <= 0:
            raise fail(node, f"output size {size} along spatial dim {i} is not positive")
        begin.append(pb)
        end.append(pe)
        out.append(size)
        extra.append(a + size - (natural - pb - pe))
    geom = Geometry(tuple(int(k) for k in kernel), tuple(strides), tuple(dilations), tuple(begin), tuple(end), tuple(out))
    return geom, tuple(extra)


def conv_transpose_info(node: Node, inputs: Sequence[Tensor | None]) -> tuple[ConvInfo, tuple[int, ...]]:
    x = inputs[0]
    batch, c_in, spatial = spatial_layout(node, x)
    w = _float_const(node, inputs, 1, "the weight")
    group = int(node.attrs.get("group", 1))
    nhwc = node.attrs.get("layout", "NCHW") == "NHWC"
    kernel = _kernel_from_weights(node, w.shape, len(spatial), nhwc)
    if nhwc:
        c_out, per_group_in = w.shape[0], w.shape[-1]
        ok = group >= 1 and c_in == per_group_in * group and c_out % group == 0
    else:
        c_out = w.shape[1] * group
        ok = group >= 1 and w.shape[0] == c_in and c_in % group == 0
    if not ok:
        raise fail(node, f"{c_in} input channels, weight {list(w.shape)} and group {group} are inconsistent")
    _bias_check(node, inputs, c_out)
    geom, extra = _transpose_geometry(node, spatial, kernel)
    return ConvInfo(batch, c_in, c_out, group, spatial, geom), extra


def _conv_transpose_infer(node: Node, inputs: Sequence[Tensor | None]) -> list[TensorType]:
    info, _ = conv_transpose_info(node, inputs)
    return [(output_shape(node, info.batch, info.c_out, info.geom.out), DType.FLOAT32)]


def _transpose_weights_iohw(node: Node, w: np.ndarray, group: int) -> np.ndarray:
    """The NCHW-form weight (C_in, C_out/group, *k) from any IR form."""
    if node.attrs.get("layout") != "NHWC":
        return w
    c_out, per_group_in = w.shape[0], w.shape[-1]
    m = c_out // group
    w = w.reshape(group, m, *w.shape[1:-1], per_group_in)  # (G, M, *k, Cg)
    w = np.moveaxis(w, -1, 1)  # (G, Cg, M, *k)
    return w.reshape(group * per_group_in, m, *w.shape[3:])


def conv_transpose_reference(x: np.ndarray, w: np.ndarray, bias: np.ndarray | None, group: int,
                             geom: Geometry) -> np.ndarray:
    """NCHW transposed convolution in float64 (x: (N, C, *s), w: (C, O/group, *k))."""
    if x.ndim == 3:
        return conv_transpose_reference(x[:, :, None, :], w[:, :, None, :], bias, group, geometry_2d(geom))[:, :, 0, :]
    n, c, h, wd = x.shape
    m = w.shape[1]
    oh, ow = geom.out
    xg = x.astype(np.float64).reshape(n, group, c // group, h, wd)
    wg = w.astype(np.float64).reshape(group, c // group, m, *w.shape[2:])
    y = np.zeros((n, group, m, oh, ow))
    for kh in range(geom.kernel[0]):
        yh = np.arange(h) * geom.strides[0] - geom.pads_begin[0] + kh * geom.dilations[0]
        vh = (yh >= 0) & (yh < oh)
        for kw in range(geom.kernel[1]):
            yw = np.arange(wd) * geom.strides[1] - geom.pads_begin[1] + kw * geom.dilations[1]
            vw = (yw >= 0) & (yw < ow)
            contrib = np.einsum("ngchw,gcm->ngmhw", xg, wg[:, :, :, kh, kw])
            y[:, :, :, yh[vh][:, None], yw[vw][None, :]] += contrib[:, :, :, vh][:, :, :, :, vw]
    y = y.reshape(n, group * m, oh, ow)
    if bias is not None:
        y += bias.astype(np.float64).reshape(1, -1, 1, 1)
    return y


def _conv_transpose_eval(node: Node, values: Sequence[np.ndarray | None]) -> list[np.ndarray]:
    inputs = [Tensor(f"in{i}", v.shape, DType.from_numpy(v.dtype), v if i else None) if v is not None else None
              for i, v in enumerate(values)]
    info, _ = conv_transpose_info(node, inputs)
    x = to_nchw_array(node, values[0])
    w = _transpose_weights_iohw(node, values[1], info.group)
    bias = values[2] if len(values) > 2 else None
    y = conv_transpose_reference(x, w, bias, info.group, info.geom).astype(np.float32)
    return [from_nchw_array(node, apply_activation(y, activation_of(node)))]


def _conv_transpose_to_nhwc(node: Node, inputs: Sequence[Tensor | None]) -> tuple[dict, dict[int, np.ndarray]]:
    info, extra = conv_transpose_info(node, inputs)
    w = inputs[1].data  # (C_in, M, *k)
    g = info.group
    cg, m = info.c_in // g, w.shape[1]
    grouped = w.reshape(g, cg, m, *w.shape[2:])
    new_w = np.moveaxis(grouped, 1, -1).reshape(g * m, *w.shape[2:], cg)  # (C_out, *k, Cg)
    geom = info.geom
    attrs = {k: v for k, v in node.attrs.items() if k != "output_shape"}
    attrs.update(
        kernel_shape=list(geom.kernel),
        strides=list(geom.strides),
        dilations=list(geom.dilations),
        pads=geom.pads(),
        output_padding=list(extra),
        auto_pad="NOTSET",
        group=g,
        weight_layout="OHWI",
    )
    return attrs, {1: np.ascontiguousarray(new_w)}


def _conv_transpose_macs(node: Node, inputs: Sequence[Tensor | None], outputs: Sequence[Tensor]) -> int:
    info, _ = conv_transpose_info(node, inputs)
    return inputs[0].size * (info.c_out // info.group) * int(np.prod(info.geom.kernel))


def _conv_transpose_emit(node: Node, ctx: EmitContext) -> list[str]:
    inputs = [ctx.tensor(i) if i else None for i in node.inputs]
    info, _ = conv_transpose_info(node, inputs)
    if node.attrs.get("layout") != "NHWC":
        raise fail(node, "internal: ConvTranspose reached codegen in NCHW layout")
    params = ctx.static(
        "tinyaot_conv2d_f32_params",
        _params_initializer(info.batch, as_2d(info.spatial, 1), info.c_in, as_2d(info.geom.out, 1), info.c_out,
                            info.geom, info.group, activation_of(node)),
    )
    ctx.use_kernel("conv_transpose2d_f32")
    bias = ctx.ptr(node.inputs[2]) if len(node.inputs) > 2 and node.inputs[2] else "NULL"
    x, w, y = ctx.ptr(node.inputs[0]), ctx.ptr(node.inputs[1]), ctx.ptr(node.outputs[0])
    return [f"tinyaot_conv_transpose2d_f32(&{params}, {x}, {w}, {bias}, {y});"]


OPS: dict[str, OpDef] = {
    "Conv": OpDef(_conv_infer, _conv_eval, _conv_emit, macs=_conv_macs, activation_fusable=True,
                  to_nhwc=_conv_to_nhwc, data_inputs=(0,)),
    "ConvTranspose": OpDef(_conv_transpose_infer, _conv_transpose_eval, _conv_transpose_emit,
                           macs=_conv_transpose_macs, activation_fusable=True,
                           to_nhwc=_conv_transpose_to_nhwc, data_inputs=(0,)),
}
