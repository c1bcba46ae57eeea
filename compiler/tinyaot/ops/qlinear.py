"""Quantized matrix products: QGemm (int8 out, requantized) and MatMulInteger (int32 out).

IR form (see qbase.py): QGemm(a, b, [c]) with a: int8 [..., K] (MatMul-style leading dims;
transA must be 0), b: constant int8 weights [N, K] (transB=1, the form frontends produce;
transB=0 [K, N] is accepted by infer/evaluate), c: constant int32 bias [N] or a scalar;
attrs a_quant, b_quant (per tensor or per column N), y_quant, alpha, act_range. QDQ MatMul
(+ bias Add) / Gemm, QLinearMatMul and QGemm all become this op. MatMulInteger(a, b) has
the same shapes and a_quant / b_quant zero points and returns the int32 accumulator.

The golden: acc = c + sum_k (a - a_zp) * (b - b_zp[n]), exact; y = requantize(acc) with the
multipliers of fl32(fl32(fl32(alpha * a_scale) * b_scale[n]) / y_scale) (onnxruntime's QGemm
and QLinearMatMul), + y_zp, clamped to act_range.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from tinyaot import quant
from tinyaot.ir import DType, Node, Tensor
from tinyaot.ops.base import EmitContext, OpDef, Overlap, TensorType, fail
from tinyaot.ops.qconv import fully_connected_gap, fully_connected_scratch
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


def _weights_nk(node: Node, b: np.ndarray) -> np.ndarray:
    return b if int(node.attrs.get("transB", 1)) else b.T


def _shapes(node: Node, inputs: Sequence[Tensor | None]) -> tuple[tuple[int, ...], int, int]:
    """(leading dims of a, K, N)."""
    a = check_int8(node, inputs[0], "input A")
    b = inputs[1] if len(inputs) > 1 else None
    if int(node.attrs.get("transA", 0)):
        raise fail(node, "transA=1 is not supported")
    if b is None or b.data is None or b.dtype != DType.INT8 or len(b.shape) != 2:
        raise fail(node, "B must be a constant 2-D int8 tensor (weights)")
    n, k = b.shape if int(node.attrs.get("transB", 1)) else b.shape[::-1]
    if not a.shape or a.shape[-1] != k:
        raise fail(node, f"A {list(a.shape)} and B {list(b.shape)} do not multiply")
    c = inputs[2] if len(inputs) > 2 else None
    if c is not None and (c.data is None or c.dtype != DType.INT32 or c.size not in (1, n) or
                          (c.size == n and c.shape[-1] != n)):
        raise fail(node, f"the bias C must be a constant int32 scalar or [{n}] tensor")
    per_tensor_quant(node, "a_quant")
    if node.op == "QGemm":
        per_tensor_quant(node, "y_quant")
    channel_values(node, quant_attr(node, "b_quant").scale, n, "the B scale")
    return tuple(a.shape[:-1]), k, n


def _infer(node: Node, inputs: Sequence[Tensor | None]) -> list[TensorType]:
    lead, _, n = _shapes(node, inputs)
    return [((*lead, n), DType.INT32 if node.op == "MatMulInteger" else DType.INT8)]


def _zero_points(node: Node, n: int) -> tuple[int, list[int]]:
    a_zp = int(quant_attr(node, "a_quant").zero_point[0])
    b_zp = [int(z) for z in channel_values(node, quant_attr(node, "b_quant").zero_point, n, "the B zero point")]
    return a_zp, b_zp


def requant_multipliers(node: Node, n: int) -> tuple[list[int], list[int]]:
    a, b, y = quant_attr(node, "a_quant"), quant_attr(node, "b_quant"), quant_attr(node, "y_quant")
    b_scales = channel_values(node, b.scale, n, "the B scale")
    if rounding(node) is not quant.RoundingMode.ORT:  # TFLite: a_scale * b_scale / y_scale in double
        return tflite_multipliers(node, [a.scale[0] * s / y.scale[0] for s in b_scales])
    scales = quant.ort_product_scale(a.scale[0], b_scales, y.scale[0], float(node.attrs.get("alpha", 1.0)))
    return multipliers(node, scales)


def _bias(values: Sequence[np.ndarray | None], n: int) -> np.ndarray:
    c = values[2] if len(values) > 2 and values[2] is not None else np.zeros(1, np.int32)
    return np.broadcast_to(c.reshape(-1).astype(np.int64), (n,))


def _evaluate(node: Node, values: Sequence[np.ndarray | None]) -> list[np.ndarray]:
    lead, k, n = _shapes(node, input_tensors(node, values))
    a_zp, b_zp = _zero_points(node, n)
    a = values[0].reshape(-1, k).astype(np.int64) - a_zp
    w = _weights_nk(node, values[1]).astype(np.int64) - np.asarray(b_zp, dtype=np.int64).reshape(-1, 1)
    acc = a @ w.T + _bias(values, n)
    if node.op == "MatMulInteger":
        return [acc.astype(np.int32).reshape(*lead, n)]
    mults, shifts = requant_multipliers(node, n)
    lo, hi = act_range(node)
    y = requantize_output(acc, mults, shifts, quant_attr(node, "y_quant").zero_point[0], lo, hi, mode=rounding(node))
    return [y.reshape(*lead, n)]


def _macs(node: Node, inputs: Sequence[Tensor | None], outputs: Sequence[Tensor]) -> int:
    _, k, _ = _shapes(node, inputs)
    return outputs[0].size * k


def _emit(node: Node, ctx: EmitContext) -> list[str]:
    inputs = [ctx.tensor(i) if i else None for i in node.inputs]
    lead, k, n = _shapes(node, inputs)
    if not int(node.attrs.get("transB", 1)):
        raise fail(node, "internal: weights must be [N, K] (transB=1) at codegen")
    a_zp, b_zp = _zero_points(node, n)
    w = inputs[1].data.astype(np.int64)
    bias = _bias([None, None, inputs[2].data if len(inputs) > 2 and inputs[2] is not None else None], n)
    folded = bias - a_zp * w.sum(axis=1) + k * a_zp * np.asarray(b_zp, dtype=np.int64)
    if np.any(np.abs(folded) >= 2**31):
        raise fail(node, "folded bias overflows int32")
    lo, hi = act_range(node)
    if node.op == "MatMulInteger":
        out = c_qoutput(ctx, None, None, 0, lo, hi)
    else:
        mults, shifts = requant_multipliers(node, n)
        out = c_qoutput(ctx, mults, shifts, quant_attr(node, "y_quant").zero_point[0], lo, hi, rounding(node))
    rows = int(np.prod(lead, dtype=np.int64))
    w_zp = c_array(ctx, "int32_t", b_zp) if any(b_zp) else "NULL"
    params = ctx.static("tinyaot_qfully_connected_params",
                        f"{{{rows}, {k}, {n}, {w_zp}, {c_array(ctx, 'int32_t', [int(v) for v in folded])}, {out}}}")
    ctx.use_kernel("qfully_connected_s8")
    ctx.use_kernel("qoutput_s8")
    return [f"tinyaot_qfully_connected_s8(&{params}, {ctx.ptr(node.inputs[0])}, {ctx.ptr(node.inputs[1])}, "
            f"{ctx.ptr(node.outputs[0])}, {ctx.scratch()});"]


def _scratch(node: Node, inputs: Sequence[Tensor | None]) -> int:
    _, k, n = _shapes(node, inputs)
    return fully_connected_scratch(k, n)


def _overlap(node: Node, inputs: Sequence[Tensor | None]) -> Overlap | None:
    """The fully connected kernel's gap (ops/qconv.py)."""
    lead, k, n = _shapes(node, inputs)
    return fully_connected_gap(int(np.prod(lead, dtype=np.int64)), k, n, 4 if node.op == "MatMulInteger" else 1)


_QGEMM = OpDef(_infer, _evaluate, _emit, macs=_macs, data_inputs=(0,), scratch=_scratch, overlap=_overlap)

OPS: dict[str, OpDef] = {
    "QGemm": _QGEMM,
    "MatMulInteger": _QGEMM,
}
