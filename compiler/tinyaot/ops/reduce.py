"""Reductions over axes: Reduce*, Softmax, LogSoftmax, ArgMax, ArgMin.

IR forms (ONNX semantics, whatever the model's opset):
- Reduce*: attrs["axes"] (absent or empty: every axis, or none at all when
  noop_with_empty_axes=1, which leaves the per-element part of the op: |x| for ReduceL1,
  x^2 for ReduceSumSquare, as onnxruntime does), keepdims, noop_with_empty_axes. The
  frontend turns the opset-13/18 axes input into the attribute.
- Softmax, LogSoftmax: opset-13 semantics, along attrs["axis"] (default -1). When
  attrs["axes"] is present it lists the axes normalised jointly instead: the ONNX frontend
  sets it for opset < 13, whose input is coerced to 2-D at `axis` (every axis from `axis`
  on; see frontends/onnx_params.py), and transpose sinking keeps it when it remaps axes.
- ArgMax, ArgMin: axis, keepdims, select_last_index; int64 output.

Every op here has a permute hook: an NHWC transpose in front of them moves past them with
their axes remapped (Conv -> GlobalAveragePool-like ReduceMean, Conv -> Softmax ...).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from tinyaot.ir import DType, Node, Tensor
from tinyaot.ops.base import EmitContext, OpDef, TensorType, c_ints, fail, normalize_axis

_SPACE_DIMS = 4


def _require_float(node: Node, x: Tensor) -> None:
    if x.dtype != DType.FLOAT32:
        raise fail(node, f"element type {x.dtype.value} is not supported (float32 only)")


def _contiguous_strides(shape: Sequence[int]) -> list[int]:
    strides, step = [], 1
    for dim in reversed(shape):
        strides.append(step)
        step *= int(dim)
    return strides[::-1]


def reduce_space(node: Node, shape: Sequence[int], axes: Sequence[int]) -> str:
    """C initializer of a tinyaot_reduce_space: kept (outer) and reduced (inner) dims of a
    contiguous tensor, unit dims dropped and neighbours of the same kind merged."""
    merged: list[list] = []  # [size, stride, reduced]
    for axis, (size, stride) in enumerate(zip(shape, _contiguous_strides(shape))):
        if size == 1:
            continue
        reduced = axis in axes
        if merged and merged[-1][2] == reduced:
            merged[-1][0] *= int(size)
            merged[-1][1] = stride
        else:
            merged.append([int(size), stride, reduced])
    outer = [(s, st) for s, st, r in merged if not r]
    inner = [(s, st) for s, st, r in merged if r]
    if len(outer) > _SPACE_DIMS or len(inner) > _SPACE_DIMS:
        raise fail(node, f"axes {list(axes)} of shape {list(shape)} split into too many runs")
    outer = [(1, 0)] * (_SPACE_DIMS - len(outer)) + outer
    inner = [(1, 0)] * (_SPACE_DIMS - len(inner)) + inner
    return (
        f"{{{c_ints([s for s, _ in outer])}, {c_ints([st for _, st in outer])}, "
        f"{c_ints([s for s, _ in inner])}, {c_ints([st for _, st in inner])}}}"
    )


def _kept_perm(perm: Sequence[int], axes: Sequence[int], new_axes: Sequence[int]) -> tuple[int, ...]:
    """Output perm of a keepdims=0 reduction absorbing input perm `perm`: the reduced output
    keeps the untransposed input's remaining axes in their own order."""
    kept_new = [j for j in range(len(perm)) if j not in new_axes]
    position = {axis: index for index, axis in enumerate(kept_new)}
    return tuple(position[perm[i]] for i in range(len(perm)) if i not in axes)


# ----------------------------------------------------------------------------- Reduce*


_REDUCE_C = {
    "ReduceSum": "TINYAOT_REDUCE_SUM",
    "ReduceMean": "TINYAOT_REDUCE_MEAN",
    "ReduceMax": "TINYAOT_REDUCE_MAX",
    "ReduceMin": "TINYAOT_REDUCE_MIN",
    "ReduceProd": "TINYAOT_REDUCE_PROD",
    "ReduceL1": "TINYAOT_REDUCE_L1",
    "ReduceL2": "TINYAOT_REDUCE_L2",
    "ReduceSumSquare": "TINYAOT_REDUCE_SUM_SQUARE",
    "ReduceLogSumExp": "TINYAOT_REDUCE_LOG_SUM_EXP",
}


def _log_sum_exp(x: np.ndarray, axis: tuple[int, ...], keepdims: bool) -> np.ndarray:
    m = np.max(x, axis=axis, keepdims=True)
    finite = np.where(np.isfinite(m), m, 0).astype(x.dtype)
    out = np.log(np.sum(np.exp(x - finite), axis=axis, keepdims=True)) + finite
    return out if keepdims else np.squeeze(out, axis=axis)


_REDUCE_NP = {
    "ReduceSum": lambda x, axis, kd: np.sum(x, axis=axis, keepdims=kd),
    "ReduceMean": lambda x, axis, kd: np.mean(x, axis=axis, keepdims=kd),
    "ReduceMax": lambda x, axis, kd: np.max(x, axis=axis, keepdims=kd),
    "ReduceMin": lambda x, axis, kd: np.min(x, axis=axis, keepdims=kd),
    "ReduceProd": lambda x, axis, kd: np.prod(x, axis=axis, keepdims=kd),
    "ReduceL1": lambda x, axis, kd: np.sum(np.abs(x), axis=axis, keepdims=kd),
    "ReduceL2": lambda x, axis, kd: np.sqrt(np.sum(np.square(x), axis=axis, keepdims=kd)),
    "ReduceSumSquare": lambda x, axis, kd: np.sum(np.square(x), axis=axis, keepdims=kd),
    "ReduceLogSumExp": _log_sum_exp,
}


def _reduce_axes(node: Node, rank: int) -> tuple[int, ...]:
    """The reduced axes, sorted; () when noop_with_empty_axes leaves every axis."""
    axes = node.attrs.get("axes")
    if not axes:
        return () if int(node.attrs.get("noop_with_empty_axes", 0)) else tuple(range(rank))
    return tuple(sorted({normalize_axis(node, int(a), rank) for a in axes}))


def _reduced_shape(shape: Sequence[int], axes: Sequence[int], keepdims: bool) -> tuple[int, ...]:
    if keepdims:
        return tuple(1 if i in axes else int(d) for i, d in enumerate(shape))
    return tuple(int(d) for i, d in enumerate(shape) if i not in axes)


def _reduce_infer(node: Node, inputs: Sequence[Tensor | None]) -> list[TensorType]:
    x = inputs[0]
    _require_float(node, x)
    axes = _reduce_axes(node, len(x.shape))
    if any(x.shape[a] == 0 for a in axes):
        raise fail(node, f"reducing an empty axis of shape {list(x.shape)} is not supported")
    return [(_reduced_shape(x.shape, axes, bool(int(node.attrs.get("keepdims", 1)))), x.dtype)]


def _reduce_eval(node: Node, values: Sequence[np.ndarray | None]) -> list[np.ndarray]:
    x = values[0]
    axes = _reduce_axes(node, x.ndim)
    out = _REDUCE_NP[node.op](x, axes, bool(int(node.attrs.get("keepdims", 1))))
    return [np.asarray(out).astype(x.dtype)]


def _reduce_emit(node: Node, ctx: EmitContext) -> list[str]:
    x = ctx.tensor(node.inputs[0])
    space = reduce_space(node, x.shape, _reduce_axes(node, len(x.shape)))
    ctx.use_kernel("reduce_f32")
    params = ctx.static("tinyaot_reduce_f32_params", f"{{{_REDUCE_C[node.op]}, {space}}}")
    return [f"tinyaot_reduce_f32(&{params}, {ctx.ptr(node.inputs[0])}, {ctx.ptr(node.outputs[0])});"]


def _reduce_permute(node: Node, perm: Sequence[int], inputs: Sequence[Tensor | None]):
    axes = _reduce_axes(node, len(perm))
    if not axes:
        return dict(node.attrs), tuple(perm)  # elementwise
    new_axes = sorted(perm[a] for a in axes)
    attrs = {**node.attrs, "axes": new_axes}
    if int(node.attrs.get("keepdims", 1)):
        return attrs, tuple(perm)
    return attrs, _kept_perm(perm, axes, new_axes)


# ----------------------------------------------------------------------------- Softmax


def _softmax_axes(node: Node, rank: int) -> tuple[int, ...]:
    if "axes" in node.attrs:
        return tuple(sorted({normalize_axis(node, int(a), rank) for a in node.attrs["axes"]}))
    return (normalize_axis(node, int(node.attrs.get("axis", -1)), rank),)


def _softmax_infer(node: Node, inputs: Sequence[Tensor | None]) -> list[TensorType]:
    x = inputs[0]
    _require_float(node, x)
    _softmax_axes(node, len(x.shape))
    return [(x.shape, x.dtype)]


def _softmax_eval(node: Node, values: Sequence[np.ndarray | None]) -> list[np.ndarray]:
    x = values[0]
    axes = _softmax_axes(node, x.ndim)
    shifted = x - np.max(x, axis=axes, keepdims=True)
    total = np.sum(np.exp(shifted), axis=axes, keepdims=True)
    out = shifted - np.log(total) if node.op == "LogSoftmax" else np.exp(shifted) / total
    return [out.astype(x.dtype)]


def _softmax_emit(node: Node, ctx: EmitContext) -> list[str]:
    x = ctx.tensor(node.inputs[0])
    space = reduce_space(node, x.shape, _softmax_axes(node, len(x.shape)))
    ctx.use_kernel("softmax_f32")
    params = ctx.static("tinyaot_softmax_f32_params", f"{{{int(node.op == 'LogSoftmax')}, {space}}}")
    return [f"tinyaot_softmax_f32(&{params}, {ctx.ptr(node.inputs[0])}, {ctx.ptr(node.outputs[0])});"]


def _softmax_permute(node: Node, perm: Sequence[int], inputs: Sequence[Tensor | None]):
    axes = [perm[a] for a in _softmax_axes(node, len(perm))]
    attrs = {k: v for k, v in node.attrs.items() if k not in ("axis", "axes")}
    if "axes" in node.attrs:
        attrs["axes"] = sorted(axes)
    else:
        attrs["axis"] = axes[0]
    return attrs, tuple(perm)


# ----------------------------------------------------------------------------- ArgMax/ArgMin


def _arg_axis(node: Node, rank: int) -> int:
    return normalize_axis(node, int(node.attrs.get("axis", 0)), rank)


def _arg_infer(node: Node, inputs: Sequence[Tensor | None]) -> list[TensorType]:
    x = inputs[0]
    _require_float(node, x)
    if not x.shape:
        raise fail(node, "the input is a scalar (rank 0); it needs an axis")
    axis = _arg_axis(node, len(x.shape))
    if x.shape[axis] == 0:
        raise fail(node, f"axis {axis} of shape {list(x.shape)} is empty")
    return [(_reduced_shape(x.shape, (axis,), bool(int(node.attrs.get("keepdims", 1)))), DType.INT64)]


def _arg_eval(node: Node, values: Sequence[np.ndarray | None]) -> list[np.ndarray]:
    x = values[0]
    axis = _arg_axis(node, x.ndim)
    pick = np.argmin if node.op == "ArgMin" else np.argmax
    if int(node.attrs.get("select_last_index", 0)):
        index = x.shape[axis] - 1 - pick(np.flip(x, axis=axis), axis=axis)
    else:
        index = pick(x, axis=axis)
    if int(node.attrs.get("keepdims", 1)):
        index = np.expand_dims(index, axis)
    return [np.asarray(index, dtype=np.int64)]


def _arg_emit(node: Node, ctx: EmitContext) -> list[str]:
    shape = ctx.tensor(node.inputs[0]).shape
    axis = _arg_axis(node, len(shape))
    outer = int(np.prod(shape[:axis], dtype=np.int64))
    inner = int(np.prod(shape[axis + 1 :], dtype=np.int64))
    is_min, select_last = int(node.op == "ArgMin"), int(node.attrs.get("select_last_index", 0))
    ctx.use_kernel("argmax_f32")
    params = ctx.static(
        "tinyaot_argmax_f32_params", f"{{{outer}, {shape[axis]}, {inner}, {is_min}, {select_last}}}"
    )
    return [f"tinyaot_argmax_f32(&{params}, {ctx.ptr(node.inputs[0])}, {ctx.ptr(node.outputs[0])});"]


def _arg_permute(node: Node, perm: Sequence[int], inputs: Sequence[Tensor | None]):
    axis = _arg_axis(node, len(perm))
    attrs = {**node.attrs, "axis": perm[axis]}
    if int(node.attrs.get("keepdims", 1)):
        return attrs, tuple(perm)
    return attrs, _kept_perm(perm, (axis,), (perm[axis],))


OPS: dict[str, OpDef] = {
    **{op: OpDef(_reduce_infer, _reduce_eval, _reduce_emit, permute=_reduce_permute) for op in _REDUCE_C},
    "Softmax": OpDef(_softmax_infer, _softmax_eval, _softmax_emit, permute=_softmax_permute),
    "LogSoftmax": OpDef(_softmax_infer, _softmax_eval, _softmax_emit, permute=_softmax_permute),
    "ArgMax": OpDef(_arg_infer, _arg_eval, _arg_emit, permute=_arg_permute),
    "ArgMin": OpDef(_arg_infer, _arg_eval, _arg_emit, permute=_arg_permute),
}
