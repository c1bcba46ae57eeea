"""Opset-independent node form: constant parameter inputs become attributes.

ONNX moved many attributes to inputs over the opsets (Reshape shape in 5, Pad pads in 11,
Slice starts in 10, Squeeze axes in 13, Reduce* axes in 13/18 ...). The IR keeps them as
attributes, so op modules see one form whatever the model's opset. Data inputs stay inputs.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from tinyaot.errors import TinyaotError
from tinyaot.ir import Node, Tensor

# op -> {input index: attribute name}; an input that is present must be a constant.
_PARAM_INPUTS: dict[str, dict[int, str]] = {
    "Reshape": {1: "shape"},
    "Expand": {1: "shape"},
    "Tile": {1: "repeats"},
    "Pad": {1: "pads", 2: "value", 3: "axes"},
    "Clip": {1: "min", 2: "max"},
    "Slice": {1: "starts", 2: "ends", 3: "axes", 4: "steps"},
    "Squeeze": {1: "axes"},
    "Unsqueeze": {1: "axes"},
    "Split": {1: "split"},
    "ReduceSum": {1: "axes"},
    "ReduceMean": {1: "axes"},
    "ReduceMax": {1: "axes"},
    "ReduceMin": {1: "axes"},
    "ReduceProd": {1: "axes"},
    "ReduceL1": {1: "axes"},
    "ReduceL2": {1: "axes"},
    "ReduceLogSumExp": {1: "axes"},
    "ReduceSumSquare": {1: "axes"},
    "Resize": {1: "roi", 2: "scales", 3: "sizes"},
    "Upsample": {1: "scales"},
    "TopK": {1: "k"},
}
# Opset 10 Resize had (X, scales) only.
_RESIZE_V10 = {1: "scales"}
# Scalar parameters: stored as a Python float/int instead of a list.
_SCALARS = {("Clip", "min"), ("Clip", "max"), ("Pad", "value"), ("TopK", "k")}
# Parameters that may be floats; every other one (shape, pads, axes, starts ...) is integers.
_REAL_PARAMS = {"roi", "scales", "min", "max", "value"}


# Before opset 13 these coerce their input to 2-D at `axis` (default 1), i.e. normalise over
# every axis from `axis` on; the IR keeps opset-13 semantics (one `axis`) and records the
# older form as attrs["axes"], the axes normalised jointly (see ops/reduce.py).
_COERCED_TO_2D = {"Softmax", "LogSoftmax"}


def _coerced_axes(node: Node, tensors: Mapping[str, Tensor]) -> Node:
    rank = len(tensors[node.inputs[0]].shape)
    axis = int(node.attrs.get("axis", 1))
    if not -rank <= axis < rank:
        raise TinyaotError(f"node '{node.name}' ({node.op}): axis {axis} out of range for rank {rank}")
    attrs = {k: v for k, v in node.attrs.items() if k != "axis"}
    attrs["axes"] = list(range(axis % rank, rank))
    return Node(node.op, node.name, node.inputs, node.outputs, attrs)


def normalize_node(node: Node, opset: int, tensors: Mapping[str, Tensor]) -> Node:
    if node.op == "Transpose" and "perm" not in node.attrs:  # ONNX's default: reverse the axes
        return node.with_attrs(perm=list(range(len(tensors[node.inputs[0]].shape)))[::-1])
    if node.op in _COERCED_TO_2D and opset < 13:
        return _coerced_axes(node, tensors)
    params = _RESIZE_V10 if (node.op == "Resize" and opset < 11) else _PARAM_INPUTS.get(node.op)
    if not params:
        return node
    attrs = dict(node.attrs)
    keep: list[str] = []
    for index, name in enumerate(node.inputs):
        attr = params.get(index)
        if attr is None:
            keep.append(name)
            continue
        if not name:
            continue
        tensor = tensors[name]
        if tensor.data is None:
            raise TinyaotError(
                f"node '{node.name}' ({node.op}): input {index} ('{attr}') must be a constant; "
                "tinyaot compiles static graphs only"
            )
        value = np.asarray(tensor.data)
        if attr not in _REAL_PARAMS and value.dtype.kind not in "iu":
            raise TinyaotError(f"node '{node.name}' ({node.op}): input {index} ('{attr}') must hold integers, "
                               f"not {value.dtype}")
        if value.size == 0 and attr in ("scales", "roi", "sizes", "axes", "split"):
            continue  # ONNX uses empty tensors for "not given"
        if (node.op, attr) in _SCALARS:
            if value.size != 1:
                raise TinyaotError(f"node '{node.name}' ({node.op}): input {index} ('{attr}') must hold one value, "
                                   f"not {value.size}")
            attrs[attr] = value.reshape(-1)[0].item()
        elif value.dtype.kind == "f":
            attrs[attr] = [float(v) for v in value.reshape(-1)]
        else:
            attrs[attr] = [int(v) for v in value.reshape(-1)]
    while keep and not keep[-1]:
        keep.pop()
    return Node(node.op, node.name, tuple(keep), node.outputs, attrs)
