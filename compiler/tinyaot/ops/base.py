"""The contract between an op family module and the rest of the compiler.

Every module in tinyaot.ops exports OPS: dict[str, OpDef]. An OpDef is a record of pure
functions; nothing is registered globally, ops/__init__.py merges the modules' tables.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from typing import Callable, Protocol, Sequence

import numpy as np

from tinyaot.errors import node_error
from tinyaot.ir import DType, Node, Tensor

Shape = tuple[int, ...]
TensorType = tuple[Shape, DType]


class EmitContext(Protocol):
    """What codegen offers an op's emit function."""

    def tensor(self, name: str) -> Tensor:
        """The IR tensor (shape, dtype, quant, constant data)."""

    def ptr(self, name: str) -> str:
        """A C expression for the tensor's first element: a pointer of the element type.
        Constants are `const` arrays in flash; activations live in the workspace or in the
        caller's input/output buffers."""

    def static(self, c_type: str, initializer: str) -> str:
        """Declare `static const <c_type> <sym> = <initializer>;` at file scope for the
        current node and return <sym> (a params struct, a small table)."""

    def use_kernel(self, source: str) -> None:
        """Record that runtime/kernels/<source>.c is needed by this model."""

    def scratch(self) -> str:
        """A C `void *` expression for the current node's scratch region (OpDef.scratch bytes,
        planned in the workspace for this node only), or "NULL" when it has none."""


InferFn = Callable[[Node, Sequence[Tensor | None]], list[TensorType]]
EvalFn = Callable[[Node, Sequence[np.ndarray | None]], list[np.ndarray]]
EmitFn = Callable[[Node, EmitContext], list[str]]
MacsFn = Callable[[Node, Sequence[Tensor | None], Sequence[Tensor]], int]
# Transpose sinking: given that every non-constant input arrives transposed by `perm`, return
# (attrs for the node applied to the untransposed inputs, perm of its output) or None when
# the op cannot absorb the transpose.
PermuteFn = Callable[[Node, Sequence[int], Sequence[Tensor | None]], "tuple[dict, tuple[int, ...]] | None"]
# Layout: rewrite an NCHW node to NHWC. Gets the node and its inputs, returns the NHWC node
# attrs and replacement constant inputs (index -> new array); data inputs and outputs are
# transposed by the pass.
NhwcFn = Callable[[Node, Sequence[Tensor | None]], "tuple[dict, dict[int, np.ndarray]]"]
InplaceFn = Callable[[Node], tuple[int, ...]]


def _no_macs(node: Node, inputs: Sequence[Tensor | None], outputs: Sequence[Tensor]) -> int:
    return 0


# Bytes of workspace a node's kernel needs for itself during the call (expanded activations,
# per-channel constants of an optimized path), the same on every core.
ScratchFn = Callable[[Node, Sequence[Tensor | None]], int]


def _no_scratch(node: Node, inputs: Sequence[Tensor | None]) -> int:
    return 0


@dataclass(frozen=True)
class Overlap:
    """How output 0 may share bytes with its dying input 0 (see OverlapFn): placed at
    out_offset = in_offset - d with d >= gap (bytes; negative: the output may start above its
    input) and d a multiple of `step` (channel-blocked kernels map output channel c onto input
    channel c). Output regions that do not intersect the input need neither."""

    gap: int
    step: int = 1


# In-order overlap: the kernel writes its output in ascending addresses and never writes a
# byte of input 0 it will still read, as long as the output starts `gap` bytes below the input
# (derived from the access order of every path of the kernel: the generated C is the same on
# every core). None: the output must not intersect the input.
OverlapFn = Callable[[Node, Sequence[Tensor | None]], "Overlap | None"]


@dataclass(frozen=True)
class OpDef:
    infer: InferFn
    evaluate: EvalFn
    emit: EmitFn | None = None  # None: the op has no kernel; passes must fold or alias it
    macs: MacsFn = _no_macs
    alias: bool = False  # output 0 is input 0's bytes reinterpreted (Reshape & co.)
    activation_fusable: bool = False  # kernel applies attrs["activation"] in its epilogue
    permute: PermuteFn | None = None
    to_nhwc: NhwcFn | None = None  # set for layout-sensitive ops (attrs["layout"])
    # Inputs that are data (activations); the others must be constants (weights, bias).
    data_inputs: tuple[int, ...] | None = None  # None: all inputs
    # Constant folding may replace the op by its value on constant inputs. False for
    # DequantizeLinear: passes/qdq.py must see the int8 weights behind it (the ONNX frontend
    # keeps the node and gives its output the value too; the QDQ pass removes it).
    foldable: bool = True
    # Output 0 has input 0's quantization (Tensor.quant): data movement on int8 values.
    quant_passthrough: bool = False
    # In-place execution: the input indices (of this node) whose bytes the kernel may
    # overwrite with output 0, i.e. it reads every element of that input before writing
    # the output element at the same index. The planner uses one only when that input has
    # the output's shape and dtype (not broadcast) and dies at this node. None: never.
    inplace: InplaceFn | None = None
    # Scratch bytes of the node's kernel (see ScratchFn); the planner reserves them for that
    # step only and codegen passes them as EmitContext.scratch().
    scratch: ScratchFn = _no_scratch
    # Output 0 over its dying input 0 at an offset (see OverlapFn); the planner checks it.
    overlap: OverlapFn | None = None


# ----------------------------------------------------------------------------- helpers


def fail(node: Node, reason: str) -> Exception:
    return node_error(node.name, node.op, reason)


def c_float(value: float) -> str:
    """An exact, deterministic C99 float literal."""
    v = float(np.float32(value))
    if math.isnan(v):
        return "TINYAOT_NAN"
    if math.isinf(v):
        return "TINYAOT_INF" if v > 0 else "(-TINYAOT_INF)"
    if v == 0.0:
        return "-0.0f" if math.copysign(1.0, v) < 0 else "0.0f"  # the sign of zero matters (1/x, min)
    if v == int(v) and abs(v) < 2**24:
        return f"{int(v)}.0f"
    mantissa, exponent = v.hex().split("p")
    return f"{mantissa.rstrip('0').rstrip('.')}p{exponent}f"


def c_floats(values: Sequence[float]) -> str:
    return "{" + ", ".join(c_float(v) for v in values) + "}"


def c_ints(values: Sequence[int]) -> str:
    return "{" + ", ".join(str(int(v)) for v in values) + "}"


def float_bits(value: float) -> int:
    return struct.unpack("<I", struct.pack("<f", float(value)))[0]


def broadcast_shape(node: Node, shapes: Sequence[Shape]) -> Shape:
    try:
        return tuple(int(d) for d in np.broadcast_shapes(*shapes))
    except ValueError:
        raise fail(node, f"shapes {' and '.join(str(list(s)) for s in shapes)} do not broadcast")


def normalize_axis(node: Node, axis: int, rank: int) -> int:
    if not -rank <= axis < max(rank, 1):
        raise fail(node, f"axis {axis} out of range for rank {rank}")
    return axis % max(rank, 1)


def const_input(node: Node, inputs: Sequence[Tensor | None], index: int, what: str) -> np.ndarray:
    tensor = inputs[index] if index < len(inputs) else None
    if tensor is None or tensor.data is None:
        raise fail(node, f"{what} must be a constant (tinyaot compiles static graphs only)")
    return tensor.data


ACT_NONE = ("none",)


def activation_of(node: Node) -> tuple:
    """The fused activation: ("none",), ("relu",), ("clip", lo, hi), ("leaky_relu", alpha)."""
    return tuple(node.attrs.get("activation", ACT_NONE))


def apply_activation(x: np.ndarray, act: tuple) -> np.ndarray:
    kind = act[0]
    if kind == "none":
        return x
    if kind == "relu":
        return np.maximum(x, 0).astype(x.dtype)
    if kind == "clip":
        return np.clip(x, act[1], act[2]).astype(x.dtype)
    if kind == "leaky_relu":
        return np.where(x >= 0, x, x * np.float32(act[1])).astype(x.dtype)
    raise ValueError(f"unknown activation {kind}")


def c_activation(act: tuple) -> str:
    """Initializer of a tinyaot_act_f32 (see runtime/include/tinyaot/activation.h)."""
    kind = act[0]
    if kind == "none":
        return "{TINYAOT_ACT_NONE, 0.0f, 0.0f}"
    if kind == "relu":
        return "{TINYAOT_ACT_RELU, 0.0f, 0.0f}"
    if kind == "clip":
        return f"{{TINYAOT_ACT_CLIP, {c_float(act[1])}, {c_float(act[2])}}}"
    if kind == "leaky_relu":
        return f"{{TINYAOT_ACT_LEAKY_RELU, {c_float(act[1])}, 0.0f}}"
    raise ValueError(f"unknown activation {kind}")
