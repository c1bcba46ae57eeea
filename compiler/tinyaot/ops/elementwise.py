"""Elementwise ops: binary arithmetic with numpy broadcasting (also the variadic Sum, Mean,
Max, Min), unary math and activations, comparisons, logic, Where and Cast.

Kernels: float32 arithmetic with a fused activation (binary_f32; Pow in pow_f32), integer
Add/Sub/Mul/Div/Max/Min (binary_int), float32 unary functions (unary_f32 for the
piecewise-linear ones, unary_math_f32 for exp/log/tanh/erf-based ones, so a model needing
only Relu links no libm), comparisons and Where of any IR type (compare, where), bool logic
(logical), Cast between any two IR types (cast).
`evaluate` has exact numpy semantics for every type ONNX allows (integer Pow, Clip, Abs ...
included) so PyTorch-exported shape subgraphs constant-fold.

MACs are 0 for every op here: the report's MACs measure the multiply-accumulate work of
Conv/Gemm-like layers, and one multiply per output element would only blur that figure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from tinyaot.ir import DType, Node, Tensor
from tinyaot.ops.base import (
    EmitContext,
    OpDef,
    TensorType,
    activation_of,
    apply_activation,
    broadcast_shape,
    c_activation,
    c_float,
    c_ints,
    fail,
)

_RANK = 6  # the broadcasting kernels' fixed rank
_FLOAT = DType.FLOAT32
_INTS = (DType.INT8, DType.UINT8, DType.INT16, DType.INT32, DType.INT64)
_C_TYPES = {
    DType.FLOAT32: "TINYAOT_TYPE_FLOAT32",
    DType.INT8: "TINYAOT_TYPE_INT8",
    DType.UINT8: "TINYAOT_TYPE_UINT8",
    DType.INT16: "TINYAOT_TYPE_INT16",
    DType.INT32: "TINYAOT_TYPE_INT32",
    DType.INT64: "TINYAOT_TYPE_INT64",
    DType.BOOL: "TINYAOT_TYPE_BOOL",
}

# ----------------------------------------------------------------------- broadcast geometry


def _broadcast_strides(shape: Sequence[int], out_shape: Sequence[int]) -> list[int]:
    """Element strides of `shape` seen through broadcasting to `out_shape` (0 = repeated)."""
    padded = (1,) * (len(out_shape) - len(shape)) + tuple(shape)
    strides, step = [], 1
    for dim in reversed(padded):
        strides.append(step if dim != 1 else 0)
        step *= dim
    return strides[::-1]


def broadcast_geometry(node: Node, out_shape: Sequence[int], in_shapes: Sequence[Sequence[int]]) -> tuple[list[int], list[list[int]]]:
    """The kernels' rank-6 output shape and per-operand strides. Unit axes are dropped and
    neighbouring axes merged wherever every operand is contiguous across them, so the
    innermost row the kernel loops over is as long as possible (the whole tensor when no
    operand is broadcast, [M, C] rows for a per-channel NHWC operand)."""
    strides = [_broadcast_strides(s, out_shape) for s in in_shapes]
    dims: list[tuple[int, list[int]]] = []
    for axis, size in enumerate(out_shape):
        if size == 1:
            continue
        inner = [s[axis] for s in strides]
        if dims and all(outer == st * size for outer, st in zip(dims[-1][1], inner)):
            dims[-1] = (dims[-1][0] * size, inner)
        else:
            dims.append((size, inner))
    if len(dims) > _RANK:
        shapes = " and ".join(str(list(s)) for s in in_shapes)
        raise fail(node, f"broadcasting {shapes} needs {len(dims)} axes; the kernels support {_RANK}")
    pad = _RANK - len(dims)
    shape = [1] * pad + [d for d, _ in dims]
    return shape, [[0] * pad + [st[k] for _, st in dims] for k in range(len(in_shapes))]


def _no_kernel(node: Node, dtypes: Sequence[DType], supported: str) -> Exception:
    names = "/".join(sorted({d.value for d in dtypes}))
    return fail(node, f"{names} inputs have no kernel (supported: {supported})")


def _same_dtype(node: Node, tensors: Sequence[Tensor | None]) -> DType:
    dtypes = {t.dtype for t in tensors if t is not None}
    if len(dtypes) != 1:
        raise fail(node, f"inputs have different element types {sorted(d.value for d in dtypes)}")
    return dtypes.pop()


def elementwise_permute(node: Node, perm: Sequence[int], inputs: Sequence[Tensor | None]):
    # op(transpose(x)) == transpose(op(x)); constants of lower rank are permuted by the pass.
    # An input of higher rank than the transposed ones makes the output rank differ: give up.
    if any(t is not None and len(t.shape) > len(perm) for t in inputs):
        return None
    return dict(node.attrs), tuple(perm)


def _broadcast_params(node: Node, ctx: EmitContext, op_c: str, out_shape, a_shape, b_shape) -> str:
    shape, (sa, sb) = broadcast_geometry(node, out_shape, [a_shape, b_shape])
    return ctx.static("tinyaot_broadcast_params", f"{{{op_c}, {c_ints(shape)}, {c_ints(sa)}, {c_ints(sb)}}}")


# ---------------------------------------------------------------------- binary arithmetic


def _int_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Integer division truncating toward zero (C, onnxruntime), not numpy's floor; a zero
    divisor gives 0 as in the binary_int kernel (onnxruntime traps)."""
    q = np.abs(a) // np.where(b == 0, 1, np.abs(b))
    return np.where(b == 0, 0, np.where((a < 0) != (b < 0), -q, q))


def _div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return _int_div(a, b) if a.dtype.kind in "iu" else np.divide(a, b)


def _pow(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pow with the base's type (opset 12+ allows a different exponent type)."""
    if a.dtype.kind == "f":
        return np.power(a, b.astype(a.dtype) if b.dtype.kind == "f" else b)
    via_double = np.trunc(np.power(a.astype(np.float64), b.astype(np.float64)))
    if b.dtype.kind not in "iu":
        return via_double
    # Exact integer powers; negative exponents go through double like onnxruntime (2**-1 == 0).
    exact = np.power(a, np.maximum(b, 0).astype(a.dtype))
    return np.where(b < 0, via_double.astype(a.dtype), exact)


def _prelu(x: np.ndarray, slope: np.ndarray) -> np.ndarray:
    return np.where(x < 0, x * slope, x)


# op -> (kernel op code, numpy function)
_ARITH: dict[str, tuple[str, Callable[[np.ndarray, np.ndarray], np.ndarray]]] = {
    "Add": ("TINYAOT_BIN_ADD", np.add),
    "Sub": ("TINYAOT_BIN_SUB", np.subtract),
    "Mul": ("TINYAOT_BIN_MUL", np.multiply),
    "Div": ("TINYAOT_BIN_DIV", _div),
    "Pow": ("TINYAOT_BIN_POW", _pow),
    "Max": ("TINYAOT_BIN_MAX", np.maximum),  # NaN-propagating, as onnxruntime
    "Min": ("TINYAOT_BIN_MIN", np.minimum),
    "Sum": ("TINYAOT_BIN_ADD", np.add),
    "Mean": ("TINYAOT_BIN_ADD", np.add),
    "PRelu": ("TINYAOT_BIN_PRELU", _prelu),
}
_VARIADIC = {"Max", "Min", "Sum", "Mean"}
_INT_KERNEL_OPS = {"Add", "Sub", "Mul", "Div", "Max", "Min", "Sum"}


def _arith_infer(node: Node, inputs: Sequence[Tensor | None]) -> list[TensorType]:
    present = [t for t in inputs if t is not None]
    if node.op in _VARIADIC:
        if not present:
            raise fail(node, "needs at least one input")
    elif len(present) != 2:
        raise fail(node, f"expects 2 inputs, got {len(present)}")
    # Pow's exponent may have its own type; the output has the base's.
    dtype = present[0].dtype if node.op == "Pow" else _same_dtype(node, present)
    shape = broadcast_shape(node, [t.shape for t in present])
    if node.op == "PRelu" and shape != present[0].shape:
        raise fail(node, f"slope {list(present[1].shape)} does not broadcast to X {list(present[0].shape)}")
    return [(shape, dtype)]


def _mean_scale(count: int) -> np.float32:
    # onnxruntime multiplies the sum by 1/N rather than dividing by N.
    return np.float32(1.0) / np.float32(count)


def _arith_eval(node: Node, values: Sequence[np.ndarray | None]) -> list[np.ndarray]:
    present = [np.asarray(v) for v in values if v is not None]
    fn = _ARITH[node.op][1]
    dtype = present[0].dtype
    with np.errstate(all="ignore"):
        out = present[0]
        for value in present[1:]:
            out = np.asarray(fn(out, value)).astype(dtype)
        if node.op == "Mean":
            out = (out * _mean_scale(len(present))).astype(dtype)
        out = np.array(out, dtype=dtype, copy=True)
    return [apply_activation(out, activation_of(node))]


_ACT_AS_UNARY = {"relu": "TINYAOT_UN_RELU", "clip": "TINYAOT_UN_CLIP", "leaky_relu": "TINYAOT_UN_LEAKY_RELU"}


def _arith_emit(node: Node, ctx: EmitContext) -> list[str]:
    names = [n for n in node.inputs if n]
    out = ctx.tensor(node.outputs[0])
    dtype = ctx.tensor(names[0]).dtype
    dtypes = {ctx.tensor(n).dtype for n in names}
    lines: list[str] = []
    exponent = ctx.tensor(names[-1])
    if node.op == "Pow" and dtype == _FLOAT and exponent.dtype != _FLOAT and exponent.is_const and exponent.size == 1:
        # A constant integer exponent (opset 12+) becomes a float scalar.
        scalar = ctx.static("float", c_float(float(exponent.data.reshape(-1)[0])))
        operands = [(ctx.ptr(names[0]), ctx.tensor(names[0]).shape), (f"&{scalar}", ())]
        dtypes = {_FLOAT}
    else:
        operands = [(ctx.ptr(n), ctx.tensor(n).shape) for n in names]
    act = activation_of(node)
    if dtypes == {_FLOAT}:
        kernel = "binary_f32"
    elif len(dtypes) == 1 and dtype in _INTS and node.op in _INT_KERNEL_OPS and act[0] == "none":
        kernel = "binary_int"
    else:
        raise _no_kernel(node, list(dtypes), "float32; integer Add, Sub, Mul, Div, Max, Min, Sum")
    if out.size == 0:
        return lines
    y = ctx.ptr(node.outputs[0])

    if len(operands) == 1:  # a one-input Sum/Mean/Max/Min is a copy
        if act[0] == "none":
            return lines + [f"memcpy({y}, {operands[0][0]}, {out.nbytes}u);"]
        ctx.use_kernel("unary_f32")
        args = list(act[1:]) + [0.0] * (3 - len(act[1:]))
        params = ctx.static("tinyaot_unary_f32_params", f"{{{_ACT_AS_UNARY[act[0]]}, {', '.join(c_float(v) for v in args)}}}")
        return lines + [f"tinyaot_unary_f32(&{params}, {operands[0][0]}, {y}, {out.size});"]

    ctx.use_kernel(kernel)
    if node.op == "Pow":
        ctx.use_kernel("pow_f32")  # its own file (powf), walked by binary_f32's loops

    def call(op_c: str, a: tuple, b: tuple, step_act: tuple) -> str:
        if kernel == "binary_int":
            params = _broadcast_params(node, ctx, op_c, out.shape, a[1], b[1])
            return f"tinyaot_binary_int(&{params}, {_C_TYPES[dtype]}, {a[0]}, {b[0]}, {y});"
        shape, (sa, sb) = broadcast_geometry(node, out.shape, [a[1], b[1]])
        params = ctx.static(
            "tinyaot_binary_f32_params",
            f"{{{op_c}, {c_ints(shape)}, {c_ints(sa)}, {c_ints(sb)}, {c_activation(step_act)}}}",
        )
        function = "tinyaot_pow_f32" if op_c == "TINYAOT_BIN_POW" else "tinyaot_binary_f32"
        return f"{function}(&{params}, {a[0]}, {b[0]}, {y});"

    # Variadic ops fold left into the output: out = in0 op in1 (both broadcast to the full
    # output), then out = out op in_k (the kernels allow out == a when a is not broadcast).
    # Only the last call applies the fused activation.
    op_c = _ARITH[node.op][0]
    mean = node.op == "Mean"
    acc = operands[0]
    for index, operand in enumerate(operands[1:], start=2):
        last = index == len(operands) and not mean
        lines.append(call(op_c, acc, operand, act if last else ("none",)))
        acc = (y, out.shape)
    if mean:
        scale = ctx.static("float", c_float(_mean_scale(len(operands))))
        lines.append(call("TINYAOT_BIN_MUL", acc, (f"&{scale}", ()), act))
    return lines


# -------------------------------------------------------------------------- unary float ops


def _attr(node: Node, name: str, default: float) -> float:
    return float(node.attrs.get(name, default))


def _f64(fn: Callable[[np.ndarray], np.ndarray]) -> Callable[[Node, np.ndarray], np.ndarray]:
    """A float function of x alone, evaluated in float64 (rounded to float32 by the caller)."""
    return lambda node, x: fn(x.astype(np.float64))


_erf = np.vectorize(math.erf, otypes=[np.float64])


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x)


def _clip_bounds(node: Node, dtype: np.dtype) -> tuple:
    """(min, max); an absent bound is the type's extreme (+-inf for floats)."""
    if dtype.kind == "f":
        lo, hi = -np.inf, np.inf
    else:
        lo, hi = np.iinfo(dtype).min, np.iinfo(dtype).max
    lo = node.attrs["min"] if node.attrs.get("min") is not None else lo
    hi = node.attrs["max"] if node.attrs.get("max") is not None else hi
    return lo, hi


def _clip(node: Node, x: np.ndarray) -> np.ndarray:
    lo, hi = _clip_bounds(node, x.dtype)
    if x.dtype.kind == "f":
        lo, hi = np.float32(lo), np.float32(hi)
    return np.minimum(np.maximum(x, lo), hi)  # NaN passes through, as in onnxruntime


def _elu(node: Node, x: np.ndarray) -> np.ndarray:
    v = x.astype(np.float64)
    return np.where(v >= 0, v, _attr(node, "alpha", 1.0) * np.expm1(v))


def _selu(node: Node, x: np.ndarray) -> np.ndarray:
    v = x.astype(np.float64)
    alpha, gamma = _attr(node, "alpha", 1.6732632423543772), _attr(node, "gamma", 1.0507009873554805)
    return gamma * np.where(v > 0, v, alpha * np.exp(v) - alpha)


def _celu(node: Node, x: np.ndarray) -> np.ndarray:
    v, alpha = x.astype(np.float64), _attr(node, "alpha", 1.0)
    return np.maximum(0.0, v) + np.minimum(0.0, alpha * np.expm1(v / alpha))


def _hard_sigmoid(node: Node, x: np.ndarray) -> np.ndarray:
    return np.clip(_attr(node, "alpha", 0.2) * x.astype(np.float64) + _attr(node, "beta", 0.5), 0.0, 1.0)


def _gelu(node: Node, x: np.ndarray) -> np.ndarray:
    v = x.astype(np.float64)
    if node.attrs.get("approximate", "none") == "tanh":
        return 0.5 * v * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (v + 0.044715 * v**3)))
    return 0.5 * v * (1.0 + _erf(v / math.sqrt(2.0)))


def _shrink(node: Node, x: np.ndarray) -> np.ndarray:
    # Computed in floating point and truncated back for integer inputs, like onnxruntime.
    v, lambd, bias = x.astype(np.float64), _attr(node, "lambd", 0.5), _attr(node, "bias", 0.0)
    return np.where(v < -lambd, v + bias, np.where(v > lambd, v - bias, 0.0))


@dataclass(frozen=True)
class _Unary:
    code: str  # TINYAOT_UN_*
    evaluate: Callable[[Node, np.ndarray], np.ndarray]  # reference semantics
    params: Callable[[Node], tuple] = lambda node: ()  # kernel alpha, beta, gamma
    ints: bool = False  # ONNX also defines it on integers (evaluated exactly, no kernel)


# Kernel unary_f32: piecewise-linear and rounding functions (no transcendental libm code).
_PLAIN: dict[str, _Unary] = {
    "Relu": _Unary("TINYAOT_UN_RELU", lambda n, x: np.maximum(x, np.zeros((), x.dtype)), ints=True),
    "Clip": _Unary("TINYAOT_UN_CLIP", _clip, lambda n: tuple(float(v) for v in _clip_bounds(n, np.dtype(np.float32))), ints=True),
    "LeakyRelu": _Unary(
        "TINYAOT_UN_LEAKY_RELU",
        lambda n, x: np.where(x >= 0, x, x * np.float32(_attr(n, "alpha", 0.01))),
        lambda n: (_attr(n, "alpha", 0.01),),
    ),
    "HardSigmoid": _Unary("TINYAOT_UN_HARD_SIGMOID", _hard_sigmoid, lambda n: (_attr(n, "alpha", 0.2), _attr(n, "beta", 0.5))),
    "HardSwish": _Unary("TINYAOT_UN_HARD_SWISH", _f64(lambda v: v * np.clip(v / 6.0 + 0.5, 0.0, 1.0))),
    "Softsign": _Unary("TINYAOT_UN_SOFTSIGN", _f64(lambda v: v / (1.0 + np.abs(v)))),
    "Abs": _Unary("TINYAOT_UN_ABS", lambda n, x: np.abs(x), ints=True),
    "Neg": _Unary("TINYAOT_UN_NEG", lambda n, x: np.negative(x), ints=True),
    "Reciprocal": _Unary("TINYAOT_UN_RECIPROCAL", _f64(lambda v: 1.0 / v)),
    "Floor": _Unary("TINYAOT_UN_FLOOR", lambda n, x: np.floor(x)),
    "Ceil": _Unary("TINYAOT_UN_CEIL", lambda n, x: np.ceil(x)),
    "Round": _Unary("TINYAOT_UN_ROUND", lambda n, x: np.round(x)),  # half to even
    "Sign": _Unary("TINYAOT_UN_SIGN", lambda n, x: np.sign(x), ints=True),
    "Shrink": _Unary("TINYAOT_UN_SHRINK", _shrink, lambda n: (_attr(n, "lambd", 0.5), _attr(n, "bias", 0.0)), ints=True),
    "ThresholdedRelu": _Unary(
        "TINYAOT_UN_THRESHOLDED_RELU",
        lambda n, x: np.where(x > np.float32(_attr(n, "alpha", 1.0)), x, np.zeros((), x.dtype)),
        lambda n: (_attr(n, "alpha", 1.0),),
    ),
}
# Kernel unary_math_f32: built on exp, log, tanh, erf and sqrt.
_MATH: dict[str, _Unary] = {
    "Sigmoid": _Unary("TINYAOT_UN_SIGMOID", _f64(lambda v: 0.5 * (1.0 + np.tanh(0.5 * v)))),
    "Elu": _Unary("TINYAOT_UN_ELU", _elu, lambda n: (_attr(n, "alpha", 1.0),)),
    "Selu": _Unary(
        "TINYAOT_UN_SELU", _selu,
        lambda n: (_attr(n, "alpha", 1.6732632423543772), 0.0, _attr(n, "gamma", 1.0507009873554805)),
    ),
    "Celu": _Unary("TINYAOT_UN_CELU", _celu, lambda n: (_attr(n, "alpha", 1.0),)),
    "Tanh": _Unary("TINYAOT_UN_TANH", _f64(np.tanh)),
    "Softplus": _Unary("TINYAOT_UN_SOFTPLUS", _f64(_softplus)),
    "Exp": _Unary("TINYAOT_UN_EXP", _f64(np.exp)),
    "Log": _Unary("TINYAOT_UN_LOG", _f64(np.log)),
    "Sqrt": _Unary("TINYAOT_UN_SQRT", _f64(np.sqrt)),
    "Erf": _Unary("TINYAOT_UN_ERF", _f64(_erf)),
    "Gelu": _Unary("TINYAOT_UN_GELU", _gelu),
    "Mish": _Unary("TINYAOT_UN_MISH", _f64(lambda v: v * np.tanh(_softplus(v)))),
}
_UNARY = {**_PLAIN, **_MATH}


def _unary_infer(node: Node, inputs: Sequence[Tensor | None]) -> list[TensorType]:
    x = inputs[0]
    if x is None:
        raise fail(node, "input is missing")
    if x.dtype != _FLOAT and not (_UNARY[node.op].ints and x.dtype in _INTS):
        raise fail(node, f"{x.dtype.value} input is not supported")
    if node.op == "Gelu" and node.attrs.get("approximate", "none") not in ("none", "tanh"):
        raise fail(node, f"approximate='{node.attrs['approximate']}' is not supported (none, tanh)")
    if node.op == "Celu" and _attr(node, "alpha", 1.0) == 0.0:
        raise fail(node, "alpha must not be 0")
    return [(x.shape, x.dtype)]


def _unary_eval(node: Node, values: Sequence[np.ndarray | None]) -> list[np.ndarray]:
    x = np.asarray(values[0])
    with np.errstate(all="ignore"):
        y = _UNARY[node.op].evaluate(node, x)
    return [np.asarray(y).astype(x.dtype)]


def _unary_emit(node: Node, ctx: EmitContext) -> list[str]:
    x = ctx.tensor(node.inputs[0])
    if x.dtype != _FLOAT:
        raise _no_kernel(node, [x.dtype], "float32")
    if x.size == 0:
        return []
    spec = _UNARY[node.op]
    code = spec.code
    if node.op == "Gelu" and node.attrs.get("approximate", "none") == "tanh":
        code = "TINYAOT_UN_GELU_TANH"
    params = list(spec.params(node))
    params += [0.0] * (3 - len(params))
    kernel = "unary_f32" if node.op in _PLAIN else "unary_math_f32"
    ctx.use_kernel(kernel)
    p = ctx.static("tinyaot_unary_f32_params", f"{{{code}, {', '.join(c_float(v) for v in params)}}}")
    return [f"tinyaot_{kernel}(&{p}, {ctx.ptr(node.inputs[0])}, {ctx.ptr(node.outputs[0])}, {x.size});"]


# ------------------------------------------------------------------- comparisons and logic

_COMPARE = {
    "Equal": ("TINYAOT_CMP_EQUAL", np.equal),
    "Less": ("TINYAOT_CMP_LESS", np.less),
    "Greater": ("TINYAOT_CMP_GREATER", np.greater),
    "LessOrEqual": ("TINYAOT_CMP_LESS_EQUAL", np.less_equal),
    "GreaterOrEqual": ("TINYAOT_CMP_GREATER_EQUAL", np.greater_equal),
}
_LOGIC = {
    "And": ("TINYAOT_LOGIC_AND", np.logical_and),
    "Or": ("TINYAOT_LOGIC_OR", np.logical_or),
    "Xor": ("TINYAOT_LOGIC_XOR", np.logical_xor),
}


def _compare_infer(node: Node, inputs: Sequence[Tensor | None]) -> list[TensorType]:
    if len(inputs) != 2 or any(t is None for t in inputs):
        raise fail(node, "expects 2 inputs")
    a, b = inputs
    dtype = _same_dtype(node, [a, b])
    if node.op in _LOGIC and dtype != DType.BOOL:
        raise fail(node, f"inputs must be bool, not {dtype.value}")
    return [(broadcast_shape(node, [a.shape, b.shape]), DType.BOOL)]


def _compare_eval(node: Node, values: Sequence[np.ndarray | None]) -> list[np.ndarray]:
    fn = (_COMPARE.get(node.op) or _LOGIC[node.op])[1]
    return [np.asarray(fn(values[0], values[1]), dtype=np.bool_)]


def _compare_emit(node: Node, ctx: EmitContext) -> list[str]:
    a, b = (ctx.tensor(n) for n in node.inputs)
    out = ctx.tensor(node.outputs[0])
    if out.size == 0:
        return []
    pa, pb, py = ctx.ptr(a.name), ctx.ptr(b.name), ctx.ptr(out.name)
    if node.op in _LOGIC:
        ctx.use_kernel("logical")
        params = _broadcast_params(node, ctx, _LOGIC[node.op][0], out.shape, a.shape, b.shape)
        return [f"tinyaot_logical(&{params}, {pa}, {pb}, {py});"]
    ctx.use_kernel("compare")
    params = _broadcast_params(node, ctx, _COMPARE[node.op][0], out.shape, a.shape, b.shape)
    return [f"tinyaot_compare(&{params}, {_C_TYPES[a.dtype]}, {pa}, {pb}, {py});"]


def _not_infer(node: Node, inputs: Sequence[Tensor | None]) -> list[TensorType]:
    if inputs[0].dtype != DType.BOOL:
        raise fail(node, f"input must be bool, not {inputs[0].dtype.value}")
    return [(inputs[0].shape, DType.BOOL)]


def _not_eval(node: Node, values: Sequence[np.ndarray | None]) -> list[np.ndarray]:
    return [np.logical_not(values[0])]


def _not_emit(node: Node, ctx: EmitContext) -> list[str]:
    x = ctx.tensor(node.inputs[0])
    if x.size == 0:
        return []
    # not x == x xor 1 for 0/1 bools: the logic kernel with a broadcast constant.
    one = ctx.static("uint8_t", "1u")
    ctx.use_kernel("logical")
    params = _broadcast_params(node, ctx, "TINYAOT_LOGIC_XOR", x.shape, x.shape, ())
    return [f"tinyaot_logical(&{params}, {ctx.ptr(x.name)}, &{one}, {ctx.ptr(node.outputs[0])});"]


def _where_infer(node: Node, inputs: Sequence[Tensor | None]) -> list[TensorType]:
    if len(inputs) != 3 or any(t is None for t in inputs):
        raise fail(node, "expects 3 inputs")
    cond, x, y = inputs
    if cond.dtype != DType.BOOL:
        raise fail(node, f"condition must be bool, not {cond.dtype.value}")
    dtype = _same_dtype(node, [x, y])
    return [(broadcast_shape(node, [cond.shape, x.shape, y.shape]), dtype)]


def _where_eval(node: Node, values: Sequence[np.ndarray | None]) -> list[np.ndarray]:
    cond, x, y = (np.asarray(v) for v in values)
    return [np.where(cond.astype(np.bool_), x, y).astype(x.dtype)]


def _where_emit(node: Node, ctx: EmitContext) -> list[str]:
    names = list(node.inputs) + [node.outputs[0]]
    out = ctx.tensor(node.outputs[0])
    if out.size == 0:
        return []
    shape, (sc, sx, sy) = broadcast_geometry(node, out.shape, [ctx.tensor(n).shape for n in node.inputs])
    ctx.use_kernel("where")
    params = ctx.static("tinyaot_where_params", f"{{{c_ints(shape)}, {c_ints(sc)}, {c_ints(sx)}, {c_ints(sy)}}}")
    cond, x, y, result = (ctx.ptr(n) for n in names)
    return [f"tinyaot_where(&{params}, {_C_TYPES[out.dtype]}, {cond}, {x}, {y}, {result});"]


# ---------------------------------------------------------------------------------- Cast

# ONNX TensorProto.DataType codes of the IR types. DOUBLE constant-folds in float32 (the
# ONNX frontend stores float64 constants as float32 too) but has no kernel.
_ONNX_TYPES = {1: DType.FLOAT32, 2: DType.UINT8, 3: DType.INT8, 5: DType.INT16, 6: DType.INT32, 7: DType.INT64, 9: DType.BOOL}
_ONNX_DOUBLE = 11
_ONNX_NAMES = {
    4: "uint16", 8: "string", 10: "float16", 11: "double", 12: "uint32", 13: "uint64", 14: "complex64",
    15: "complex128", 16: "bfloat16", 17: "float8e4m3fn", 18: "float8e4m3fnuz", 19: "float8e5m2",
    20: "float8e5m2fnuz", 21: "uint4", 22: "int4", 23: "float4e2m1",
}


def _cast_target(node: Node, like: DType | None, folding: bool) -> DType:
    if node.op == "CastLike":
        return like
    to = node.attrs.get("to")
    if isinstance(to, DType):
        return to
    if isinstance(to, str):
        try:
            return DType(to)
        except ValueError:
            raise fail(node, f"to='{to}' is not a supported element type")
    if to in _ONNX_TYPES:
        return _ONNX_TYPES[to]
    if to == _ONNX_DOUBLE and folding:
        return _FLOAT
    supported = ", ".join(d.value for d in _ONNX_TYPES.values())
    raise fail(node, f"cast to {_ONNX_NAMES.get(to, f'type {to}')} is not supported ({supported})")


def _cast_infer(node: Node, inputs: Sequence[Tensor | None]) -> list[TensorType]:
    like = inputs[1].dtype if node.op == "CastLike" else None
    return [(inputs[0].shape, _cast_target(node, like, folding=False))]


def _cast_eval(node: Node, values: Sequence[np.ndarray | None]) -> list[np.ndarray]:
    x = np.asarray(values[0])
    like = DType.from_numpy(values[1].dtype) if node.op == "CastLike" else None
    target = _cast_target(node, like, folding=True).numpy
    # numpy's astype is C conversion like onnxruntime's static_cast (float -> int truncates,
    # anything -> bool is != 0, NaN -> true).
    with np.errstate(all="ignore"):
        return [x.astype(target)]


def _cast_emit(node: Node, ctx: EmitContext) -> list[str]:
    x, y = ctx.tensor(node.inputs[0]), ctx.tensor(node.outputs[0])
    lines: list[str] = []
    if x.size == 0:
        return lines
    px, py = ctx.ptr(x.name), ctx.ptr(y.name)
    if x.dtype == y.dtype:
        return lines + [f"memcpy({py}, {px}, {x.nbytes}u);"]
    ctx.use_kernel("cast")
    return lines + [f"tinyaot_cast({_C_TYPES[x.dtype]}, {_C_TYPES[y.dtype]}, {px}, {py}, {x.size});"]


# ------------------------------------------------------------------------------- the table

def _arith_inplace(node: Node) -> tuple[int, ...]:
    # binary_f32/binary_int/pow_f32 read a[i] and b[i] before writing y[i]; a variadic op
    # folds into the output, so from its third operand on only input 0 may be overwritten
    # (and a one-operand one is a memcpy, which must not overlap).
    n = len([i for i in node.inputs if i])
    return (0, 1) if n == 2 else (0,) if n > 2 else ()


_ARITH_OP = OpDef(_arith_infer, _arith_eval, _arith_emit, activation_fusable=True, permute=elementwise_permute,
                  inplace=_arith_inplace)
# unary_f32 / unary_math_f32 compute out[i] from in[i] alone.
_UNARY_OP = OpDef(_unary_infer, _unary_eval, _unary_emit, permute=elementwise_permute, inplace=lambda node: (0,))
_COMPARE_OP = OpDef(_compare_infer, _compare_eval, _compare_emit, permute=elementwise_permute)
_CAST_OP = OpDef(_cast_infer, _cast_eval, _cast_emit, permute=elementwise_permute)

OPS: dict[str, OpDef] = {
    **{op: _ARITH_OP for op in _ARITH},
    **{op: _UNARY_OP for op in _UNARY},
    **{op: _COMPARE_OP for op in (*_COMPARE, *_LOGIC)},
    "Not": OpDef(_not_infer, _not_eval, _not_emit, permute=elementwise_permute),
    "Where": OpDef(_where_infer, _where_eval, _where_emit, permute=elementwise_permute),
    "Cast": _CAST_OP,
    "CastLike": _CAST_OP,
}
