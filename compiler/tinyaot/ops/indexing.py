"""Indexing and data movement: Concat, Split, Slice, Gather, Pad, Expand, Tile,
DepthToSpace/SpaceToDepth; and ConstantOfShape and Range, which only ever compute constants
(PyTorch shape subgraphs) and are folded, never emitted.

Everything except Gather and Pad is one or more calls of the generic strided block copy
(runtime/kernels/copy_nd.c): the op is described as an iteration shape with a source and a
destination stride per axis, and emit_copy collapses that to as few, as long runs as the
strides allow. All kernels take the element size, so they serve every dtype.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from tinyaot.ir import MAX_ELEMENTS, Node, Tensor
from tinyaot.ops.base import (
    EmitContext,
    OpDef,
    TensorType,
    broadcast_shape,
    c_ints,
    const_input,
    fail,
    normalize_axis,
)

_MAX_RANK = 6


def contiguous_strides(shape: Sequence[int]) -> list[int]:
    """Element strides of a C-contiguous array of `shape`."""
    strides, step = [], 1
    for dim in reversed(shape):
        strides.append(step)
        step *= int(dim)
    return strides[::-1]


def emit_copy(
    ctx: EmitContext,
    src: str,
    dst: str,
    shape: Sequence[int],
    src_strides: Sequence[int],
    dst_strides: Sequence[int],
    elem_size: int,
    src_offset: int = 0,
    dst_offset: int = 0,
) -> list[str]:
    """C statements copying the strided block `shape` (strides and offsets in elements)
    from the tensor expression `src` to `dst` with tinyaot_copy_nd."""
    dims = list(zip((int(d) for d in shape), src_strides, dst_strides))
    if any(n == 0 for n, _, _ in dims):
        return []
    merged: list[tuple[int, int, int]] = []
    for n, s, d in dims:
        if n == 1:
            continue
        if merged and merged[-1][1] == s * n and merged[-1][2] == d * n:
            merged[-1] = (merged[-1][0] * n, s, d)
        else:
            merged.append((n, s, d))
    # Blocks that do not collapse to rank 6 (Tile of a rank >= 4 tensor) get C loops over
    # their outermost axes around the kernel call.
    loops, body = merged[: max(0, len(merged) - _MAX_RANK)], merged[-_MAX_RANK:]
    body = [(1, 0, 0)] * (_MAX_RANK - len(body)) + body
    e = elem_size
    ctx.use_kernel("copy_nd")
    params = ctx.static(
        "tinyaot_copy_nd_params",
        f"{{{c_ints([n for n, _, _ in body])}, {c_ints([s * e for _, s, _ in body])}, "
        f"{c_ints([d * e for _, _, d in body])}, {src_offset * e}, {dst_offset * e}, {e}}}",
    )
    if not loops:
        return [f"tinyaot_copy_nd(&{params}, {src}, {dst});"]
    names = [f"i{k}" for k in range(len(loops))]
    src_expr = " + ".join([f"(const uint8_t *){src}"] + [f"{i} * {s * e}" for i, (_, s, _) in zip(names, loops)])
    dst_expr = " + ".join([f"(uint8_t *){dst}"] + [f"{i} * {d * e}" for i, (_, _, d) in zip(names, loops)])
    lines = ["{", f"  int32_t {', '.join(names)};"]
    for depth, (i, (n, _, _)) in enumerate(zip(names, loops)):
        lines.append("  " * (depth + 1) + f"for ({i} = 0; {i} < {n}; ++{i})")
    lines.append("  " * (len(loops) + 1) + f"tinyaot_copy_nd(&{params}, {src_expr}, {dst_expr});")
    lines.append("}")
    return lines


def _check_rank(node: Node, rank: int) -> None:
    if rank > _MAX_RANK:
        raise fail(node, f"rank {rank} above {_MAX_RANK} is not supported")


def _remap(values: Sequence, perm: Sequence[int]) -> list:
    """Per-axis values of a transposed tensor (axis i is axis perm[i] of the original) as
    per-axis values of the original."""
    out = [None] * len(perm)
    for i, p in enumerate(perm):
        out[p] = values[i]
    return out


# ----------------------------------------------------------------------------- Concat


def _concat_infer(node: Node, inputs: Sequence[Tensor | None]) -> list[TensorType]:
    present = [t for t in inputs if t is not None]
    if not present:
        raise fail(node, "needs at least one input")
    first = present[0]
    rank = len(first.shape)
    if rank == 0:
        raise fail(node, "cannot concatenate scalars")
    axis = normalize_axis(node, int(node.attrs.get("axis", 0)), rank)
    total = 0
    for t in present:
        if len(t.shape) != rank or any(a != b for i, (a, b) in enumerate(zip(t.shape, first.shape)) if i != axis):
            raise fail(node, f"input shapes {[list(t.shape) for t in present]} differ outside axis {axis}")
        if t.dtype != first.dtype:
            raise fail(node, f"inputs mix element types {first.dtype.value} and {t.dtype.value}")
        total += t.shape[axis]
    shape = list(first.shape)
    shape[axis] = total
    return [(tuple(shape), first.dtype)]


def _concat_eval(node: Node, values: Sequence[np.ndarray | None]) -> list[np.ndarray]:
    present = [v for v in values if v is not None]
    axis = normalize_axis(node, int(node.attrs.get("axis", 0)), present[0].ndim)
    return [np.concatenate(present, axis=axis)]


def _concat_emit(node: Node, ctx: EmitContext) -> list[str]:
    out = ctx.tensor(node.outputs[0])
    axis = normalize_axis(node, int(node.attrs.get("axis", 0)), len(out.shape))
    out_strides = contiguous_strides(out.shape)
    lines: list[str] = []
    offset = 0
    for name in node.inputs:
        if not name:
            continue
        x = ctx.tensor(name)
        lines += emit_copy(ctx, ctx.ptr(name), ctx.ptr(node.outputs[0]), x.shape, contiguous_strides(x.shape),
                           out_strides, x.dtype.itemsize, dst_offset=offset * out_strides[axis])
        offset += x.shape[axis]
    return lines


def _concat_permute(node: Node, perm: Sequence[int], inputs: Sequence[Tensor | None]):
    axis = normalize_axis(node, int(node.attrs.get("axis", 0)), len(perm))
    return {**node.attrs, "axis": int(perm[axis])}, tuple(perm)


# ------------------------------------------------------------------------------ Split


def _split_sizes(node: Node, shape: Sequence[int]) -> tuple[int, list[int]]:
    rank = len(shape)
    axis = normalize_axis(node, int(node.attrs.get("axis", 0)), rank)
    dim = shape[axis]
    count = len(node.outputs)
    split = node.attrs.get("split")
    num_outputs = node.attrs.get("num_outputs")
    if split is not None:
        sizes = [int(s) for s in split]
        if len(sizes) != count:
            raise fail(node, f"split {sizes} has {len(sizes)} parts for {count} outputs")
        if any(s < 0 for s in sizes) or sum(sizes) != dim:
            raise fail(node, f"split {sizes} does not add up to dimension {dim} of axis {axis}")
        return axis, sizes
    if num_outputs is not None:
        # Opset 18: ceil-sized chunks, the last one smaller when the axis does not divide.
        n = int(num_outputs)
        if n != count or n < 1:
            raise fail(node, f"num_outputs {n} but the node has {count} outputs")
        chunk = -(-dim // n)
        sizes = [min(chunk, max(0, dim - k * chunk)) for k in range(n)]
        if sizes[-1] <= 0 and dim >= n:
            raise fail(node, f"cannot split dimension {dim} into {n} ceil-sized parts")
        return axis, sizes
    if dim % count:
        raise fail(node, f"dimension {dim} of axis {axis} does not split into {count} equal parts")
    return axis, [dim // count] * count


def _split_infer(node: Node, inputs: Sequence[Tensor | None]) -> list[TensorType]:
    x = inputs[0]
    if len(x.shape) == 0:
        raise fail(node, "cannot split a scalar")
    axis, sizes = _split_sizes(node, x.shape)
    result = []
    for size in sizes:
        shape = list(x.shape)
        shape[axis] = size
        result.append((tuple(shape), x.dtype))
    return result


def _split_eval(node: Node, values: Sequence[np.ndarray | None]) -> list[np.ndarray]:
    x = values[0]
    axis, sizes = _split_sizes(node, x.shape)
    return [np.ascontiguousarray(part) for part in np.split(x, np.cumsum(sizes)[:-1], axis=axis)]


def _split_emit(node: Node, ctx: EmitContext) -> list[str]:
    x = ctx.tensor(node.inputs[0])
    axis, sizes = _split_sizes(node, x.shape)
    in_strides = contiguous_strides(x.shape)
    lines: list[str] = []
    start = 0
    for name, size in zip(node.outputs, sizes):
        if name:
            y = ctx.tensor(name)
            lines += emit_copy(ctx, ctx.ptr(node.inputs[0]), ctx.ptr(name), y.shape, in_strides,
                               contiguous_strides(y.shape), x.dtype.itemsize, src_offset=start * in_strides[axis])
        start += size
    return lines


def _split_permute(node: Node, perm: Sequence[int], inputs: Sequence[Tensor | None]):
    axis = normalize_axis(node, int(node.attrs.get("axis", 0)), len(perm))
    return {**node.attrs, "axis": int(perm[axis])}, tuple(perm)


# ------------------------------------------------------------------------------ Slice


def _slice_axes(node: Node, shape: Sequence[int]) -> list[tuple[int, int, int]]:
    """(start, step, count) per axis, with ONNX's clamping of out-of-range starts/ends."""
    rank = len(shape)
    starts = [int(v) for v in node.attrs.get("starts", [])]
    ends = [int(v) for v in node.attrs.get("ends", [])]
    axes = node.attrs.get("axes")
    axes = list(range(len(starts))) if axes is None else [int(a) for a in axes]
    steps = node.attrs.get("steps")
    steps = [1] * len(starts) if steps is None else [int(s) for s in steps]
    if not (len(starts) == len(ends) == len(axes) == len(steps)):
        raise fail(node, f"starts {starts}, ends {ends}, axes {axes} and steps {steps} differ in length")
    result = [(0, 1, int(d)) for d in shape]
    seen: set[int] = set()
    for start, end, axis, step in zip(starts, ends, axes, steps):
        axis = normalize_axis(node, axis, rank)
        if axis in seen:
            raise fail(node, f"axis {axis} is sliced twice")
        seen.add(axis)
        if step == 0:
            raise fail(node, "steps must not be 0")
        dim = int(shape[axis])
        start = start + dim if start < 0 else start
        end = end + dim if end < 0 else end
        if step > 0:
            start = min(max(start, 0), dim)
            end = min(max(end, 0), dim)
            count = max(0, -(-(end - start) // step))
        else:
            start = min(max(start, 0), dim - 1)
            end = min(max(end, -1), dim - 1)
            count = max(0, -(-(start - end) // -step))
        result[axis] = (start if count else 0, step, count)
    return result


def _slice_infer(node: Node, inputs: Sequence[Tensor | None]) -> list[TensorType]:
    x = inputs[0]
    return [(tuple(c for _, _, c in _slice_axes(node, x.shape)), x.dtype)]


def _slice_eval(node: Node, values: Sequence[np.ndarray | None]) -> list[np.ndarray]:
    x = values[0]
    index = []
    for start, step, count in _slice_axes(node, x.shape):
        stop = start + step * count
        index.append(slice(start, stop if stop >= 0 else None, step) if count else slice(0, 0))
    return [np.ascontiguousarray(x[tuple(index)])]


def _slice_emit(node: Node, ctx: EmitContext) -> list[str]:
    x = ctx.tensor(node.inputs[0])
    y = ctx.tensor(node.outputs[0])
    plan = _slice_axes(node, x.shape)
    in_strides = contiguous_strides(x.shape)
    offset = sum(start * s for (start, _, _), s in zip(plan, in_strides))
    return emit_copy(ctx, ctx.ptr(node.inputs[0]), ctx.ptr(node.outputs[0]), y.shape,
                     [step * s for (_, step, _), s in zip(plan, in_strides)], contiguous_strides(y.shape),
                     x.dtype.itemsize, src_offset=offset)


def _slice_permute(node: Node, perm: Sequence[int], inputs: Sequence[Tensor | None]):
    starts = node.attrs.get("starts", [])
    axes = node.attrs.get("axes")
    axes = list(range(len(starts))) if axes is None else [normalize_axis(node, int(a), len(perm)) for a in axes]
    return {**node.attrs, "axes": [int(perm[a]) for a in axes]}, tuple(perm)


# ----------------------------------------------------------------------------- Gather


def _gather_axis(node: Node, rank: int) -> int:
    if rank == 0:
        raise fail(node, "cannot gather from a scalar")
    return normalize_axis(node, int(node.attrs.get("axis", 0)), rank)


def _check_indices(node: Node, indices: np.ndarray, dim: int) -> np.ndarray:
    if indices.dtype.kind not in "iu":
        raise fail(node, f"indices must be integers, not {indices.dtype}")
    indices = indices.astype(np.int64)
    if indices.size and (indices.min() < -dim or indices.max() >= dim):
        raise fail(node, f"indices {indices.min()}..{indices.max()} out of range for dimension {dim}")
    return indices


def _gather_infer(node: Node, inputs: Sequence[Tensor | None]) -> list[TensorType]:
    data = inputs[0]
    indices = const_input(node, inputs, 1, "indices")
    axis = _gather_axis(node, len(data.shape))
    _check_indices(node, indices, data.shape[axis])
    shape = data.shape[:axis] + tuple(int(d) for d in indices.shape) + data.shape[axis + 1 :]
    return [(shape, data.dtype)]


def _gather_eval(node: Node, values: Sequence[np.ndarray | None]) -> list[np.ndarray]:
    data, indices = values[0], np.asarray(values[1])
    axis = _gather_axis(node, data.ndim)
    indices = _check_indices(node, indices, data.shape[axis])
    return [np.array(np.take(data, indices, axis=axis), order="C")]


def _gather_emit(node: Node, ctx: EmitContext) -> list[str]:
    data = ctx.tensor(node.inputs[0])
    indices = ctx.tensor(node.inputs[1])
    axis = _gather_axis(node, len(data.shape))
    if indices.dtype.itemsize not in (4, 8) or indices.dtype.numpy.kind != "i":
        raise fail(node, f"indices of type {indices.dtype.value} are not supported (int32, int64)")
    if indices.size == 0:
        return []
    outer = int(np.prod(data.shape[:axis], dtype=np.int64))
    inner = int(np.prod(data.shape[axis + 1 :], dtype=np.int64))
    ctx.use_kernel("gather")
    params = ctx.static(
        "tinyaot_gather_params",
        f"{{{outer}, {data.shape[axis]}, {indices.size}, {inner * data.dtype.itemsize}, {indices.dtype.itemsize}}}",
    )
    return [f"tinyaot_gather(&{params}, {ctx.ptr(node.inputs[0])}, {ctx.ptr(node.inputs[1])}, {ctx.ptr(node.outputs[0])});"]


# -------------------------------------------------------------------------------- Pad

_PAD_MODES = {"constant": 0, "reflect": 1, "edge": 2, "wrap": 3}


def _pad_amounts(node: Node, rank: int) -> tuple[list[int], list[int]]:
    """(begin, end) pads per axis; negative values crop."""
    pads = node.attrs.get("pads")
    if pads is None:
        raise fail(node, "has no pads")
    pads = [int(p) for p in pads]
    axes = node.attrs.get("axes")
    axes = list(range(rank)) if axes is None else [normalize_axis(node, int(a), rank) for a in axes]
    if len(set(axes)) != len(axes):
        raise fail(node, f"axes {axes} repeat an axis")
    if len(pads) != 2 * len(axes):
        raise fail(node, f"pads {pads} should have {2 * len(axes)} values")
    begin, end = [0] * rank, [0] * rank
    for k, axis in enumerate(axes):
        begin[axis], end[axis] = pads[k], pads[k + len(axes)]
    return begin, end


def _pad_mode(node: Node) -> str:
    mode = str(node.attrs.get("mode", "constant"))
    if mode not in _PAD_MODES:
        raise fail(node, f"mode '{mode}' is not supported (constant, reflect, edge, wrap)")
    return mode


def _pad_plan(node: Node, shape: Sequence[int]) -> tuple[str, list[int], list[int], list[int], list[int]]:
    """mode, and per axis: crop start, extent kept after cropping, pad before, output dim."""
    mode = _pad_mode(node)
    begin, end = _pad_amounts(node, len(shape))
    starts, extents, befores, outs = [], [], [], []
    for axis, (dim, b, e) in enumerate(zip(shape, begin, end)):
        extent = dim + min(b, 0) + min(e, 0)
        out = dim + b + e
        if extent < 0 or out < 0:
            raise fail(node, f"pads {b}, {e} crop more than dimension {dim} of axis {axis}")
        if mode != "constant":
            if extent == 0:
                raise fail(node, f"{mode} padding of axis {axis}, which is empty after cropping")
            if mode == "reflect" and max(b, e) > extent - 1:
                raise fail(node, f"reflect pads {b}, {e} exceed {extent - 1} (axis {axis} has {extent} elements)")
        starts.append(max(-b, 0))
        extents.append(extent)
        befores.append(max(b, 0))
        outs.append(out)
    return mode, starts, extents, befores, outs


def _pad_value(node: Node, dtype: np.dtype) -> np.ndarray:
    value = node.attrs.get("value", 0)
    return np.array(0 if value is None else value).astype(dtype)


def _pad_infer(node: Node, inputs: Sequence[Tensor | None]) -> list[TensorType]:
    x = inputs[0]
    _, _, _, _, outs = _pad_plan(node, x.shape)
    return [(tuple(outs), x.dtype)]


def _pad_eval(node: Node, values: Sequence[np.ndarray | None]) -> list[np.ndarray]:
    x = values[0]
    mode, starts, extents, befores, outs = _pad_plan(node, x.shape)
    cropped = x[tuple(slice(s, s + n) for s, n in zip(starts, extents))]
    widths = [(b, o - n - b) for b, n, o in zip(befores, extents, outs)]
    if mode == "constant":
        return [np.pad(cropped, widths, mode="constant", constant_values=_pad_value(node, x.dtype))]
    return [np.pad(cropped, widths, mode=mode)]


def _pad_emit(node: Node, ctx: EmitContext) -> list[str]:
    x = ctx.tensor(node.inputs[0])
    mode, starts, extents, befores, outs = _pad_plan(node, x.shape)
    axes = list(zip(x.shape, outs, starts, extents, befores))
    # Unit axes without padding carry no information; in constant mode an axis whose
    # pads are 0 also merges into the axis before it, so NHWC padding of H and W copies
    # whole W*C runs. (Edge/reflect/wrap replicate sub-blocks along the outer axis, which a
    # merged axis would not.)
    merged: list[tuple[int, int, int, int, int]] = []
    for a in axes:
        full = a[0] == a[1] == a[3] and a[2] == 0 and a[4] == 0
        if full and a[0] == 1:
            continue
        if merged and full and mode == "constant":
            d, o, s, n, b = merged[-1]
            k = a[0]
            merged[-1] = (d * k, o * k, s * k, n * k, b * k)
        else:
            merged.append(a)
    _check_rank(node, len(merged))
    merged = [(1, 1, 0, 1, 0)] * (_MAX_RANK - len(merged)) + merged
    if int(np.prod(outs, dtype=np.int64)) == 0:
        return []
    value = list(_pad_value(node, x.dtype.numpy).tobytes()) + [0] * 8
    ctx.use_kernel("pad")
    params = ctx.static(
        "tinyaot_pad_params",
        "{" + ", ".join(c_ints([a[k] for a in merged]) for k in range(5))
        + f", {_PAD_MODES[mode]}, {x.dtype.itemsize}, {c_ints(value[:8])}}}",
    )
    return [f"tinyaot_pad(&{params}, {ctx.ptr(node.inputs[0])}, {ctx.ptr(node.outputs[0])});"]


def _pad_permute(node: Node, perm: Sequence[int], inputs: Sequence[Tensor | None]):
    begin, end = _pad_amounts(node, len(perm))
    attrs = {k: v for k, v in node.attrs.items() if k != "axes"}
    return {**attrs, "pads": _remap(begin, perm) + _remap(end, perm)}, tuple(perm)


# ----------------------------------------------------------------------------- Expand


def _expand_infer(node: Node, inputs: Sequence[Tensor | None]) -> list[TensorType]:
    x = inputs[0]
    target = tuple(int(d) for d in node.attrs["shape"])
    return [(broadcast_shape(node, [x.shape, target]), x.dtype)]


def _expand_eval(node: Node, values: Sequence[np.ndarray | None]) -> list[np.ndarray]:
    x = values[0]
    shape = broadcast_shape(node, [x.shape, tuple(int(d) for d in node.attrs["shape"])])
    return [np.array(np.broadcast_to(x, shape), order="C")]


def _expand_emit(node: Node, ctx: EmitContext) -> list[str]:
    x = ctx.tensor(node.inputs[0])
    y = ctx.tensor(node.outputs[0])
    padded = (1,) * (len(y.shape) - len(x.shape)) + tuple(x.shape)
    src = [s if d != 1 else 0 for d, s in zip(padded, contiguous_strides(padded))]
    return emit_copy(ctx, ctx.ptr(node.inputs[0]), ctx.ptr(node.outputs[0]), y.shape, src,
                     contiguous_strides(y.shape), x.dtype.itemsize)


def _expand_permute(node: Node, perm: Sequence[int], inputs: Sequence[Tensor | None]):
    target = [int(d) for d in node.attrs["shape"]]
    if len(target) > len(perm):
        return None  # the output gains axes the transpose does not cover
    target = [1] * (len(perm) - len(target)) + target
    return {**node.attrs, "shape": _remap(target, perm)}, tuple(perm)


# ------------------------------------------------------------------------------- Tile


def _tile_repeats(node: Node, rank: int) -> list[int]:
    repeats = [int(r) for r in node.attrs.get("repeats", [])]
    if len(repeats) != rank or any(r < 0 for r in repeats):
        raise fail(node, f"repeats {repeats} must be {rank} non-negative values")
    return repeats


def _tile_infer(node: Node, inputs: Sequence[Tensor | None]) -> list[TensorType]:
    x = inputs[0]
    repeats = _tile_repeats(node, len(x.shape))
    return [(tuple(d * r for d, r in zip(x.shape, repeats)), x.dtype)]


def _tile_eval(node: Node, values: Sequence[np.ndarray | None]) -> list[np.ndarray]:
    x = values[0]
    return [np.tile(x, _tile_repeats(node, x.ndim))]


def _tile_emit(node: Node, ctx: EmitContext) -> list[str]:
    x = ctx.tensor(node.inputs[0])
    y = ctx.tensor(node.outputs[0])
    repeats = _tile_repeats(node, len(x.shape))
    # Output axis k of extent r*d is the pair (repeat index, source index): the source
    # ignores the first (stride 0).
    shape, src, dst = [], [], []
    for r, d, s, o in zip(repeats, x.shape, contiguous_strides(x.shape), contiguous_strides(y.shape)):
        shape += [r, d]
        src += [0, s]
        dst += [d * o, o]
    return emit_copy(ctx, ctx.ptr(node.inputs[0]), ctx.ptr(node.outputs[0]), shape, src, dst, x.dtype.itemsize)


def _tile_permute(node: Node, perm: Sequence[int], inputs: Sequence[Tensor | None]):
    return {**node.attrs, "repeats": _remap(_tile_repeats(node, len(perm)), perm)}, tuple(perm)


# ------------------------------------------------------------- DepthToSpace / SpaceToDepth


def _space_depth_view(node: Node, shape: Sequence[int]) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """The op as reshape(input, view) -> transpose(perm) -> reshape(output)."""
    if len(shape) != 4:
        raise fail(node, f"expects a 4-D input, got shape {list(shape)}")
    b = int(node.attrs.get("blocksize", 0))
    if b < 1:
        raise fail(node, f"blocksize {b} must be positive")
    nhwc = node.attrs.get("layout") == "NHWC"
    n, c, h, w = (shape[0], shape[3], shape[1], shape[2]) if nhwc else shape
    if node.op == "DepthToSpace":
        if c % (b * b):
            raise fail(node, f"{c} channels do not divide by blocksize^2 = {b * b}")
        mode = str(node.attrs.get("mode", "DCR"))
        if mode not in ("DCR", "CRD"):
            raise fail(node, f"mode '{mode}' is not DCR or CRD")
        c2 = c // (b * b)
        crd = mode == "CRD"
        if nhwc:
            view, perm = ((n, h, w, c2, b, b), (0, 1, 4, 2, 5, 3)) if crd else ((n, h, w, b, b, c2), (0, 1, 3, 2, 4, 5))
            out = (n, h * b, w * b, c2)
        else:
            view, perm = ((n, c2, b, b, h, w), (0, 1, 4, 2, 5, 3)) if crd else ((n, b, b, c2, h, w), (0, 3, 4, 1, 5, 2))
            out = (n, c2, h * b, w * b)
    else:
        if h % b or w % b:
            raise fail(node, f"spatial size {h}x{w} does not divide by blocksize {b}")
        if nhwc:
            view, perm, out = (n, h // b, b, w // b, b, c), (0, 1, 3, 2, 4, 5), (n, h // b, w // b, c * b * b)
        else:
            view, perm, out = (n, c, h // b, b, w // b, b), (0, 3, 5, 1, 2, 4), (n, c * b * b, h // b, w // b)
    return view, perm, out


def _space_depth_infer(node: Node, inputs: Sequence[Tensor | None]) -> list[TensorType]:
    x = inputs[0]
    return [(_space_depth_view(node, x.shape)[2], x.dtype)]


def _space_depth_eval(node: Node, values: Sequence[np.ndarray | None]) -> list[np.ndarray]:
    x = values[0]
    view, perm, out = _space_depth_view(node, x.shape)
    return [np.ascontiguousarray(x.reshape(view).transpose(perm)).reshape(out)]


def _space_depth_emit(node: Node, ctx: EmitContext) -> list[str]:
    x = ctx.tensor(node.inputs[0])
    view, perm, _ = _space_depth_view(node, x.shape)
    strides = contiguous_strides(view)
    shape = [view[p] for p in perm]
    return emit_copy(ctx, ctx.ptr(node.inputs[0]), ctx.ptr(node.outputs[0]), shape, [strides[p] for p in perm],
                     contiguous_strides(shape), x.dtype.itemsize)


def _space_depth_to_nhwc(node: Node, inputs: Sequence[Tensor | None]):
    return dict(node.attrs), {}


# ------------------------------------------------------------ ConstantOfShape and Range


def _needs_constants(node: Node, inputs: Sequence[Tensor | None]) -> list[TensorType]:
    raise fail(node, "its inputs must be constants (tinyaot compiles static graphs only)")


def _check_count(node: Node, count: int) -> None:
    """These ops have no shape inference of their own (their inputs are constants), so the
    frontend's element-count check cannot run before numpy would allocate the result."""
    if count > MAX_ELEMENTS:
        raise fail(node, f"the result holds {count} elements (at most 2^31 - 1)")


def _constant_of_shape_eval(node: Node, values: Sequence[np.ndarray | None]) -> list[np.ndarray]:
    shape = [int(d) for d in np.asarray(values[0]).reshape(-1)]
    if any(d < 0 for d in shape):
        raise fail(node, f"negative dimension in shape {shape}")
    _check_count(node, math.prod(shape))
    value = node.attrs.get("value")
    if value is None:
        value = np.zeros(1, np.float32)
    value = np.asarray(value)
    if value.size != 1:
        raise fail(node, f"value must have one element, not {value.size}")
    return [np.full(shape, value.reshape(-1)[0], dtype=value.dtype)]


def _range_eval(node: Node, values: Sequence[np.ndarray | None]) -> list[np.ndarray]:
    start, limit, delta = (np.asarray(v).reshape(-1)[0] for v in values[:3])
    if delta == 0:
        raise fail(node, "delta must not be 0")
    dtype = np.asarray(values[0]).dtype
    if dtype.kind in "iu":
        count = max(0, -(-(int(limit) - int(start)) // int(delta)))
    else:
        count = max(0, math.ceil(float(limit - start) / float(delta)))
    _check_count(node, count)
    # Repeated addition in the element type, as onnxruntime computes it.
    steps = np.full(count, delta, dtype=dtype)
    if count:
        steps[0] = start
    return [np.cumsum(steps, dtype=dtype)]


OPS: dict[str, OpDef] = {
    "Concat": OpDef(_concat_infer, _concat_eval, _concat_emit, permute=_concat_permute, quant_passthrough=True),
    "Split": OpDef(_split_infer, _split_eval, _split_emit, permute=_split_permute, quant_passthrough=True),
    "Slice": OpDef(_slice_infer, _slice_eval, _slice_emit, permute=_slice_permute, quant_passthrough=True),
    # No permute hook: layout._sink would re-lay the constant indices like a broadcast
    # operand.
    "Gather": OpDef(_gather_infer, _gather_eval, _gather_emit, data_inputs=(0,), quant_passthrough=True),
    "Pad": OpDef(_pad_infer, _pad_eval, _pad_emit, permute=_pad_permute, quant_passthrough=True),
    "Expand": OpDef(_expand_infer, _expand_eval, _expand_emit, permute=_expand_permute, quant_passthrough=True),
    "Tile": OpDef(_tile_infer, _tile_eval, _tile_emit, permute=_tile_permute, quant_passthrough=True),
    "DepthToSpace": OpDef(_space_depth_infer, _space_depth_eval, _space_depth_emit, to_nhwc=_space_depth_to_nhwc,
                          quant_passthrough=True),
    "SpaceToDepth": OpDef(_space_depth_infer, _space_depth_eval, _space_depth_emit, to_nhwc=_space_depth_to_nhwc,
                          quant_passthrough=True),
    "ConstantOfShape": OpDef(_needs_constants, _constant_of_shape_eval),
    "Range": OpDef(_needs_constants, _range_eval),
}
