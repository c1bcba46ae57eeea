"""The graph IR shared by every stage: frontends build it, passes rewrite it, the planner
and codegen read it.

Values are immutable by convention: a pass returns a new Graph (dataclasses.replace) and
never mutates the one it was given. Op semantics are ONNX's (the richest public spec),
with two canonicalisations done by frontends and passes:
- parameters that ONNX passes as constant inputs (Reshape shape, Pad pads, Clip bounds,
  Slice starts ...) are attributes;
- spatial ops carry attrs["layout"] ("NCHW" from ONNX, "NHWC" after the layout pass and
  from TFLite); kernels exist for NHWC only.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Iterable, Mapping

import numpy as np

# Kernels index with int32_t: every tensor's element count must fit.
MAX_ELEMENTS = 2**31 - 1


class DType(Enum):
    FLOAT32 = "float32"
    INT8 = "int8"
    UINT8 = "uint8"
    INT16 = "int16"
    INT32 = "int32"
    INT64 = "int64"
    BOOL = "bool"

    @property
    def numpy(self) -> np.dtype:
        return np.dtype(self.value)

    @property
    def itemsize(self) -> int:
        return self.numpy.itemsize

    @property
    def c_type(self) -> str:
        return _C_TYPES[self]

    @staticmethod
    def from_numpy(dtype: np.dtype) -> "DType":
        return DType(np.dtype(dtype).name)


_C_TYPES = {
    DType.FLOAT32: "float",
    DType.INT8: "int8_t",
    DType.UINT8: "uint8_t",
    DType.INT16: "int16_t",
    DType.INT32: "int32_t",
    DType.INT64: "int64_t",
    DType.BOOL: "uint8_t",
}


@dataclass(frozen=True)
class QuantParams:
    """Affine quantization real = scale * (q - zero_point); per-tensor when axis is None."""

    scale: tuple[float, ...]
    zero_point: tuple[int, ...]
    axis: int | None = None


@dataclass(frozen=True, eq=False)
class Tensor:
    name: str
    shape: tuple[int, ...]
    dtype: DType
    data: np.ndarray | None = None
    quant: QuantParams | None = None

    @property
    def is_const(self) -> bool:
        return self.data is not None

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def nbytes(self) -> int:
        return self.size * self.dtype.itemsize


def const_tensor(name: str, value: np.ndarray, quant: QuantParams | None = None) -> Tensor:
    value = np.array(value, order="C")  # ascontiguousarray would turn a 0-d scalar into shape (1,)
    return Tensor(name, tuple(int(d) for d in value.shape), DType.from_numpy(value.dtype), value, quant)


@dataclass(frozen=True)
class Node:
    op: str
    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    attrs: Mapping[str, Any] = field(default_factory=dict)

    def with_attrs(self, **changes: Any) -> "Node":
        return dataclasses.replace(self, attrs={**self.attrs, **changes})


@dataclass(frozen=True)
class Graph:
    """A model: nodes are listed in execution order (the schedule)."""

    name: str
    tensors: Mapping[str, Tensor]
    nodes: tuple[Node, ...]
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    # Streaming models: persistent state tensor -> its initial value. Nodes read a state like
    # a graph input; its bytes live in the caller's <name>_state struct between runs, and an
    # AssignVariable node (ops/state.py) sets its value for the next run.
    states: Mapping[str, np.ndarray] = field(default_factory=dict)

    def tensor(self, name: str) -> Tensor:
        return self.tensors[name]

    def producers(self) -> dict[str, Node]:
        return {out: node for node in self.nodes for out in node.outputs}

    def consumers(self) -> dict[str, list[Node]]:
        result: dict[str, list[Node]] = {}
        for node in self.nodes:
            for name in node.inputs:
                if name:
                    result.setdefault(name, []).append(node)
        return result

    def replace(self, **changes: Any) -> "Graph":
        return dataclasses.replace(self, **changes)

    def pruned(self) -> "Graph":
        """Drop nodes and tensors that no graph output depends on. A node without outputs
        (AssignVariable) is kept for its effect."""
        needed = set(self.outputs)
        kept: list[Node] = []
        for node in reversed(self.nodes):
            if not node.outputs or any(out in needed for out in node.outputs):
                kept.append(node)
                needed.update(name for name in node.inputs if name)
        kept.reverse()
        used = set(self.inputs) | set(self.outputs) | set(self.states)
        for node in kept:
            used.update(name for name in node.inputs + node.outputs if name)
        tensors = {name: t for name, t in self.tensors.items() if name in used}
        return self.replace(nodes=tuple(kept), tensors=tensors)


def rename_inputs(nodes: Iterable[Node], mapping: Mapping[str, str]) -> tuple[Node, ...]:
    """Point every consumer of a key of `mapping` at its value instead."""
    return tuple(
        dataclasses.replace(n, inputs=tuple(mapping.get(i, i) for i in n.inputs)) for n in nodes
    )
