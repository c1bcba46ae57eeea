"""Shape and data-movement ops: Reshape-like aliases (no code, the planner shares storage)
and Transpose."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from tinyaot.ir import DType, Node, Tensor
from tinyaot.ops.base import EmitContext, OpDef, TensorType, c_ints, fail, normalize_axis


def _reshape_infer(node: Node, inputs: Sequence[Tensor | None]) -> list[TensorType]:
    x = inputs[0]
    target = [int(d) for d in node.attrs["shape"]]
    allowzero = int(node.attrs.get("allowzero", 0))
    out = [x.shape[i] if (d == 0 and not allowzero) else d for i, d in enumerate(target)]
    if out.count(-1) > 1:
        raise fail(node, f"shape {target} has more than one -1")
    if -1 in out:
        known = int(np.prod([d for d in out if d != -1], dtype=np.int64))
        if known == 0 or x.size % known:
            raise fail(node, f"cannot reshape {list(x.shape)} to {target}")
        out[out.index(-1)] = x.size // known
    if int(np.prod(out, dtype=np.int64)) != x.size or any(d < 0 for d in out):
        raise fail(node, f"cannot reshape {list(x.shape)} to {target}")
    return [(tuple(out), x.dtype)]


def _flatten_infer(node: Node, inputs: Sequence[Tensor | None]) -> list[TensorType]:
    x = inputs[0]
    axis = normalize_axis(node, int(node.attrs.get("axis", 1)), len(x.shape) + 1)
    outer = int(np.prod(x.shape[:axis], dtype=np.int64))
    return [((outer, x.size // max(outer, 1) if outer else 0), x.dtype)]


def _squeeze_infer(node: Node, inputs: Sequence[Tensor | None]) -> list[TensorType]:
    x = inputs[0]
    axes = node.attrs.get("axes")
    if axes is None:
        shape = tuple(d for d in x.shape if d != 1)
    else:
        if axes and not x.shape:
            raise fail(node, f"cannot squeeze axes {list(axes)} of a scalar")
        drop = {normalize_axis(node, int(a), len(x.shape)) for a in axes}
        if any(x.shape[a] != 1 for a in drop):
            raise fail(node, f"cannot squeeze axes {sorted(drop)} of shape {list(x.shape)}")
        shape = tuple(d for i, d in enumerate(x.shape) if i not in drop)
    return [(shape, x.dtype)]


def _unsqueeze_infer(node: Node, inputs: Sequence[Tensor | None]) -> list[TensorType]:
    x = inputs[0]
    if node.attrs.get("axes") is None:
        raise fail(node, "axes are required")
    rank = len(x.shape) + len(node.attrs["axes"])
    axes = sorted(normalize_axis(node, int(a), rank) for a in node.attrs["axes"])
    shape = list(x.shape)
    for a in axes:
        shape.insert(a, 1)
    return [(tuple(shape), x.dtype)]


def _squeeze_permute(node: Node, perm: Sequence[int], inputs: Sequence[Tensor | None]):
    # The input is X transposed by perm (its axis i is X's axis perm[i]). Squeezing the same
    # axes of X leaves X's other axes in their original order; out_perm puts them back in
    # the order the transposed input had them.
    rank = len(perm)
    axes = node.attrs.get("axes")
    if axes is None:
        dropped = {i for i, d in enumerate(inputs[0].shape) if d == 1}
    else:
        dropped = {normalize_axis(node, int(a), rank) for a in axes}
    dropped_x = sorted(int(perm[a]) for a in dropped)
    remaining_x = [a for a in range(rank) if a not in dropped_x]
    position = {a: k for k, a in enumerate(remaining_x)}
    out_perm = tuple(position[perm[i]] for i in range(rank) if i not in dropped)
    return {**node.attrs, "axes": dropped_x}, out_perm


def _unsqueeze_permute(node: Node, perm: Sequence[int], inputs: Sequence[Tensor | None]):
    # Inserting the same unit axes into X keeps them in place; the m-th original axis of
    # the output is then X's axis perm[m], found at the output position of X's axis perm[m].
    rank = len(perm) + len(node.attrs["axes"])
    new = {normalize_axis(node, int(a), rank) for a in node.attrs["axes"]}
    old = [i for i in range(rank) if i not in new]
    out_perm = list(range(rank))
    for m, position in enumerate(old):
        out_perm[position] = old[perm[m]]
    return dict(node.attrs), tuple(out_perm)


def _alias_eval(infer):
    def evaluate(node: Node, values: Sequence[np.ndarray | None]) -> list[np.ndarray]:
        x = values[0]
        shape, _ = infer(node, [Tensor("x", x.shape, DType.from_numpy(x.dtype))])[0]
        return [x.reshape(shape)]

    return evaluate


def _transpose_perm(node: Node, rank: int) -> tuple[int, ...]:
    perm = node.attrs.get("perm")
    perm = tuple(range(rank))[::-1] if perm is None else tuple(int(p) for p in perm)
    if sorted(perm) != list(range(rank)):
        raise fail(node, f"perm {list(perm)} is not a permutation of rank {rank}")
    return perm


def _transpose_infer(node: Node, inputs: Sequence[Tensor | None]) -> list[TensorType]:
    x = inputs[0]
    perm = _transpose_perm(node, len(x.shape))
    return [(tuple(x.shape[p] for p in perm), x.dtype)]


def _transpose_eval(node: Node, values: Sequence[np.ndarray | None]) -> list[np.ndarray]:
    return [np.array(np.transpose(values[0], _transpose_perm(node, values[0].ndim)), order="C")]


def _collapse_transpose(shape: Sequence[int], perm: Sequence[int]) -> tuple[list[int], list[int]]:
    """The same data movement with unit axes dropped and input axes that stay adjacent in
    the output merged: NCHW -> NHWC of [1, C, H, W] becomes a 2-D transpose of [C, H*W]."""
    kept = [a for a in range(len(shape)) if shape[a] != 1]
    renumber = {a: i for i, a in enumerate(kept)}
    runs: list[list[int]] = []  # input axes, grouped into runs, in output order
    for p in (renumber[p] for p in perm if shape[p] != 1):
        if runs and runs[-1][-1] + 1 == p:
            runs[-1].append(p)
        else:
            runs.append([p])
    by_input = sorted(range(len(runs)), key=lambda r: runs[r][0])
    dims = [int(np.prod([shape[kept[a]] for a in runs[r]], dtype=np.int64)) for r in by_input]
    position = {r: i for i, r in enumerate(by_input)}
    return dims, [position[r] for r in range(len(runs))]


def _transpose_emit(node: Node, ctx: EmitContext) -> list[str]:
    x = ctx.tensor(node.inputs[0])
    shape, perm = _collapse_transpose(x.shape, _transpose_perm(node, len(x.shape)))
    # Pad to the kernel's fixed rank 6 with leading unit dims.
    rank = 6
    pad = rank - len(shape)
    if pad < 0:
        raise fail(node, f"rank {len(shape)} above 6 (after merging axes) is not supported")
    shape = [1] * pad + shape
    full_perm = list(range(pad)) + [p + pad for p in perm]
    ctx.use_kernel("transpose")
    params = ctx.static(
        "tinyaot_transpose_params",
        f"{{{c_ints(shape)}, {c_ints(full_perm)}, {x.dtype.itemsize}}}",
    )
    return [f"tinyaot_transpose(&{params}, {ctx.ptr(node.inputs[0])}, {ctx.ptr(node.outputs[0])});"]


def _transpose_permute(node: Node, perm: Sequence[int], inputs: Sequence[Tensor | None]):
    # Transpose(Transpose(x, P), Q) == Transpose(x, P[Q]); the result has no further perm.
    inner = _transpose_perm(node, len(perm))
    composed = tuple(perm[q] for q in inner)
    return {**node.attrs, "perm": list(composed)}, tuple(range(len(perm)))


def _copy_eval(node: Node, values: Sequence[np.ndarray | None]) -> list[np.ndarray]:
    return [values[0].copy()]


def _copy_emit(node: Node, ctx: EmitContext) -> list[str]:
    nbytes = ctx.tensor(node.inputs[0]).nbytes
    return [f"memcpy({ctx.ptr(node.outputs[0])}, {ctx.ptr(node.inputs[0])}, {nbytes}u);"]


def _same_infer(node: Node, inputs: Sequence[Tensor | None]) -> list[TensorType]:
    return [(inputs[0].shape, inputs[0].dtype)]


OPS: dict[str, OpDef] = {
    "Reshape": OpDef(_reshape_infer, _alias_eval(_reshape_infer), alias=True, quant_passthrough=True),
    "Flatten": OpDef(_flatten_infer, _alias_eval(_flatten_infer), alias=True, quant_passthrough=True),
    # Reshape and Flatten have no permute hook: which elements they group depends on the
    # memory order. Squeeze and Unsqueeze only add or drop unit axes, so they commute with
    # a transpose.
    "Squeeze": OpDef(_squeeze_infer, _alias_eval(_squeeze_infer), alias=True, permute=_squeeze_permute,
                     quant_passthrough=True),
    "Unsqueeze": OpDef(_unsqueeze_infer, _alias_eval(_unsqueeze_infer), alias=True, permute=_unsqueeze_permute,
                       quant_passthrough=True),
    "Transpose": OpDef(_transpose_infer, _transpose_eval, _transpose_emit, permute=_transpose_permute, quant_passthrough=True),
    # No-ops at inference; passes.cleanup removes them before codegen.
    "Identity": OpDef(_same_infer, _copy_eval, quant_passthrough=True),
    "Dropout": OpDef(_same_infer, _copy_eval, quant_passthrough=True),
    # Materialises a graph output that would otherwise share storage with another I/O buffer.
    "Copy": OpDef(_same_infer, _copy_eval, _copy_emit, quant_passthrough=True),
}
