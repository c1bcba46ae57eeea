"""ONNX quantization operators -> the IR's int8 ops (ops/qbase.py describes the IR form).

ONNX has two forms of quantized models, and both import here:
- QDQ: float ops between DequantizeLinear and QuantizeLinear nodes. Those two become IR
  QuantizeLinear / DequantizeLinear nodes with their scale and zero point as attributes;
  passes/qdq.py then folds each DequantizeLinear -> float op -> QuantizeLinear group into
  a quantized op.
- QOperator: QLinearConv, QLinearMatMul, QGemm, QLinearAdd, QLinearMul, QLinearAveragePool,
  QLinearGlobalAveragePool, QLinearConcat, QLinearSigmoid, QLinearLeakyRelu, QLinearSoftmax,
  MatMulInteger, ConvInteger: scale / zero-point inputs become attributes, QLinearMatMul and
  MatMulInteger become QGemm / MatMulInteger with [N, K] weights, QLinearConcat becomes a
  requantizing QLinearLookup per input whose quantization differs plus an int8 Concat, and
  QLinearSigmoid / QLinearLeakyRelu become QLinearLookup with onnxruntime's table.

Everything is int8 afterwards: a uint8 tensor is re-expressed as int8 with its zero point
minus 128 (bytes XOR 0x80, same real values). uint8 constants are converted here; a uint8
graph input goes through a converting QLinearLookup; `finish` converts int8 results back
for the model's uint8 outputs and records every quantized tensor's Tensor.quant.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from tinyaot import quant
from tinyaot.errors import TinyaotError
from tinyaot.ir import DType, Node, QuantParams, Tensor, const_tensor
from tinyaot.ops.qbase import annotate_quant

_ONNX_DOMAIN = ("", "ai.onnx")
_MS_DOMAIN = "com.microsoft"
_ONNX_OPS = {"QuantizeLinear", "DequantizeLinear", "QLinearConv", "QLinearMatMul", "MatMulInteger", "ConvInteger"}
_MS_OPS = {"QuantizeLinear", "DequantizeLinear", "QGemm", "QLinearAdd", "QLinearMul", "QLinearAveragePool",
           "QLinearGlobalAveragePool", "QLinearConcat", "QLinearSigmoid", "QLinearLeakyRelu", "QLinearSoftmax"}
# The IR ops that know the int8 re-expression of uint8 (everything else reads uint8 values).
_QUANTIZED_IR_OPS = {"QuantizeLinear", "DequantizeLinear", "QLinearConv", "ConvInteger", "QGemm", "MatMulInteger",
                     "QLinearAdd", "QLinearMul", "QLinearAveragePool", "QLinearGlobalAveragePool", "QLinearLookup",
                     "QLinearSoftmax"}
# Inputs of the com.microsoft ops that must be given (the ONNX-domain ones are checked
# against the onnx package's schemas by frontends/onnx.py); QLinearConcat: at least these.
_MS_REQUIRED = {"QuantizeLinear": (0, 1), "DequantizeLinear": (0, 1), "QGemm": (0, 1, 2, 3, 4, 5),
                "QLinearAdd": (0, 1, 3, 4, 6), "QLinearMul": (0, 1, 3, 4, 6), "QLinearAveragePool": (0, 1, 3),
                "QLinearGlobalAveragePool": (0, 1, 3), "QLinearConcat": (0, 1, 2, 3, 4), "QLinearSigmoid": (0, 1, 3),
                "QLinearLeakyRelu": (0, 1, 3), "QLinearSoftmax": (0, 1, 3)}
# XOR 0x80: uint8 <-> int8 with the zero point moved by 128.
FLIP_TABLE = tuple(int(v) for v in (np.arange(256) ^ 0x80))


def is_quant_op(domain: str, op: str) -> bool:
    return (domain in _ONNX_DOMAIN and op in _ONNX_OPS) or (domain == _MS_DOMAIN and op in _MS_OPS)


def flip_node(name: str, src: str, dst: str, to: DType) -> Node:
    """int8 <-> uint8 with the same real values (zero point +- 128)."""
    return Node("QLinearLookup", name, (src,), (dst,), {"table": FLIP_TABLE, "y_dtype": to.value,
                                                        "function": "Convert"})


class QuantImporter:
    """Expands the quantization nodes of one model; keeps which int8 tensors the model sees
    as uint8 (to convert them back at the outputs)."""

    def __init__(self, tensors: dict[str, Tensor]) -> None:
        self.tensors = tensors
        self.uint8_tensors: set[str] = set()
        self.nodes: list[Node] = []

    # ------------------------------------------------------------------ helpers

    def _fail(self, node: Node, reason: str) -> TinyaotError:
        return TinyaotError(f"node '{node.name}' ({node.op}): {reason}")

    def _fresh(self, base: str) -> str:
        name, n = base, 1
        while name in self.tensors:
            n += 1
            name = f"{base}_{n}"
        return name

    def _reserve(self, base: str) -> str:
        """A fresh name for an intermediate tensor (typed when its node is added)."""
        name = self._fresh(base)
        self.tensors[name] = Tensor(name, (), DType.INT8)
        return name

    def _input(self, node: Node, index: int) -> str:
        return node.inputs[index] if index < len(node.inputs) else ""

    def _const(self, node: Node, index: int, what: str, required: bool = True) -> np.ndarray | None:
        name = self._input(node, index)
        if not name:
            if required:
                raise self._fail(node, f"input {index} ('{what}') is required")
            return None
        tensor = self.tensors[name]
        if tensor.data is None:
            raise self._fail(node, f"input {index} ('{what}') must be a constant; tinyaot compiles static "
                                   "quantization only")
        return tensor.data

    def _params(self, node: Node, scale_index: int, zp_index: int, data_dtype: DType | None,
                axis: int | None = None) -> tuple[QuantParams, DType]:
        """(int8-canonical QuantParams, the operand's ONNX element type)."""
        scale = self._const(node, scale_index, "scale")
        zp = self._const(node, zp_index, "zero point", required=False)
        dtype = DType.from_numpy(zp.dtype) if zp is not None else (data_dtype or DType.UINT8)
        if dtype not in (DType.INT8, DType.UINT8, DType.INT32):
            raise self._fail(node, f"{dtype.value} quantization is not supported (int8, uint8; int32 for biases)")
        scale = np.asarray(scale, dtype=np.float32).reshape(-1)
        if scale.dtype != np.float32 or not np.all(np.isfinite(scale)) or np.any(scale <= 0):
            raise self._fail(node, "scales must be positive finite float32 values")
        zp = np.zeros(scale.size, np.int64) if zp is None else np.asarray(zp).astype(np.int64).reshape(-1)
        if zp.size not in (1, scale.size):
            raise self._fail(node, f"{scale.size} scales but {zp.size} zero points")
        if dtype == DType.UINT8:
            zp = zp - 128
        return quant.params(scale, zp, axis if scale.size > 1 else None), dtype

    def _operand(self, node: Node, index: int) -> str:
        """The int8 form of a quantized data input (uint8 constants converted, uint8 graph
        inputs through one shared conversion node)."""
        name = self._input(node, index)
        tensor = self.tensors[name]
        if tensor.dtype != DType.UINT8:
            return name
        if tensor.data is not None:
            converted = self._fresh(f"{name}_s8")
            self.tensors[converted] = const_tensor(converted, (tensor.data.astype(np.int16) - 128).astype(np.int8))
            return converted
        converted = f"{name}__s8"
        if converted not in self.tensors:
            self.nodes.append(flip_node(f"{name}_to_int8", name, converted, DType.INT8))
            self.tensors[converted] = Tensor(converted, tensor.shape, DType.INT8)
        return converted

    def _output(self, node: Node, index: int, dtype: DType) -> str:
        name = node.outputs[index]
        if dtype == DType.UINT8:
            self.uint8_tensors.add(name)
        return name

    def _weights(self, node: Node, index: int, what: str) -> str:
        data = self._const(node, index, what)
        if data.dtype not in (np.int8, np.uint8):
            raise self._fail(node, f"{what} must be int8 or uint8, not {data.dtype}")
        return self._operand(node, index)

    def _new_const(self, base: str, value: np.ndarray) -> str:
        name = self._fresh(base)
        self.tensors[name] = const_tensor(name, value)
        return name

    def _emit(self, node: Node) -> None:
        self.nodes.append(node)

    # ------------------------------------------------------------------ expansion

    def expand(self, node: Node, opset: int) -> list[Node]:
        """IR nodes for one ONNX quantization node, in order."""
        self.nodes = []
        missing = [i for i in _MS_REQUIRED.get(node.op, ()) if not self._input(node, i)]
        if missing:
            raise self._fail(node, f"input {missing[0]} is required")
        if not node.outputs or not node.outputs[0]:
            raise self._fail(node, "output 0 is required")
        handler = getattr(self, f"_op_{node.op}")
        handler(node, opset)
        return self.nodes

    def _op_QuantizeLinear(self, node: Node, opset: int) -> None:
        x = self.tensors[node.inputs[0]]
        if x.dtype != DType.FLOAT32:
            raise self._fail(node, f"the input must be float32, not {x.dtype.value}")
        if int(node.attrs.get("block_size", 0)):
            raise self._fail(node, "blocked quantization (block_size) is not supported")
        declared = int(node.attrs.get("output_dtype", 0))
        default = {3: DType.INT8, 2: DType.UINT8}.get(declared) if declared else None
        if declared and default is None:
            raise self._fail(node, f"output_dtype {declared} is not supported (int8, uint8)")
        axis = int(node.attrs.get("axis", 1))
        q, dtype = self._params(node, 1, 2, default, axis)
        if dtype not in (DType.INT8, DType.UINT8):
            raise self._fail(node, f"{dtype.value} output is not supported (int8, uint8)")
        self._emit(Node("QuantizeLinear", node.name, (node.inputs[0],), (self._output(node, 0, dtype),),
                        {"y_quant": q}))

    def _op_DequantizeLinear(self, node: Node, opset: int) -> None:
        x = self.tensors[node.inputs[0]]
        if x.dtype not in (DType.INT8, DType.UINT8, DType.INT32):
            raise self._fail(node, f"{x.dtype.value} input is not supported (int8, uint8, int32)")
        if int(node.attrs.get("block_size", 0)):
            raise self._fail(node, "blocked quantization (block_size) is not supported")
        q, _ = self._params(node, 1, 2, x.dtype, int(node.attrs.get("axis", 1)))
        self._emit(Node("DequantizeLinear", node.name, (self._operand(node, 0),), node.outputs[:1], {"x_quant": q}))

    def _op_QLinearConv(self, node: Node, opset: int) -> None:
        xq, _ = self._params(node, 1, 2, self.tensors[node.inputs[0]].dtype)
        wq, _ = self._params(node, 4, 5, DType.from_numpy(self._const(node, 3, "w").dtype), axis=0)
        yq, ydt = self._params(node, 6, 7, DType.UINT8)
        inputs = [self._operand(node, 0), self._weights(node, 3, "the weight")]
        if self._input(node, 8):
            self._const(node, 8, "B")
            inputs.append(node.inputs[8])
        attrs = {**node.attrs, "x_quant": xq, "w_quant": wq, "y_quant": yq}
        self._emit(Node("QLinearConv", node.name, tuple(inputs), (self._output(node, 0, ydt),), attrs))

    def _op_ConvInteger(self, node: Node, opset: int) -> None:
        x = self.tensors[node.inputs[0]]
        w = self._const(node, 1, "w")
        xq = self._integer_params(node, 2, x.dtype)
        wq = self._integer_params(node, 3, DType.from_numpy(w.dtype), axis=0)
        inputs = (self._operand(node, 0), self._weights(node, 1, "the weight"))
        self._emit(Node("ConvInteger", node.name, inputs, node.outputs[:1], {**node.attrs, "x_quant": xq,
                                                                            "w_quant": wq}))

    def _integer_params(self, node: Node, zp_index: int, dtype: DType, axis: int | None = None) -> QuantParams:
        """Zero points of MatMulInteger / ConvInteger (scale 1), int8-canonical."""
        zp = self._const(node, zp_index, "zero point", required=False)
        zp = np.zeros(1, np.int64) if zp is None else np.asarray(zp).astype(np.int64).reshape(-1)
        if dtype == DType.UINT8:
            zp = zp - 128
        return quant.params(np.ones(zp.size, np.float32), zp, axis)

    def _matrix_weights(self, node: Node, index: int, transposed: bool) -> str:
        """Constant 2-D weights as [N, K] (transB=1)."""
        data = self._const(node, index, "B")
        if data.ndim != 2:
            raise self._fail(node, f"B must be a constant 2-D tensor, not {data.ndim}-D")
        name = self._weights(node, index, "B")
        if transposed:
            return name
        return self._new_const(f"{name}_nk", np.ascontiguousarray(self.tensors[name].data.T))

    def _op_QLinearMatMul(self, node: Node, opset: int) -> None:
        aq, _ = self._params(node, 1, 2, self.tensors[node.inputs[0]].dtype)
        if self.tensors[node.inputs[3]].data is None:
            raise self._fail(node, "B must be a constant (weights); a product of two activations is not supported")
        bq, _ = self._params(node, 4, 5, DType.from_numpy(self._const(node, 3, "b").dtype), axis=0)
        yq, ydt = self._params(node, 6, 7, DType.UINT8)
        inputs = (self._operand(node, 0), self._matrix_weights(node, 3, transposed=False))
        attrs = {"transA": 0, "transB": 1, "alpha": 1.0, "a_quant": aq, "b_quant": bq, "y_quant": yq}
        self._emit(Node("QGemm", node.name, inputs, (self._output(node, 0, ydt),), attrs))

    def _op_MatMulInteger(self, node: Node, opset: int) -> None:
        if self.tensors[node.inputs[1]].data is None:
            raise self._fail(node, "B must be a constant (weights); a product of two activations is not supported")
        aq = self._integer_params(node, 2, self.tensors[node.inputs[0]].dtype)
        bq = self._integer_params(node, 3, DType.from_numpy(self._const(node, 1, "B").dtype), axis=0)
        inputs = (self._operand(node, 0), self._matrix_weights(node, 1, transposed=False))
        self._emit(Node("MatMulInteger", node.name, inputs, node.outputs[:1],
                        {"transA": 0, "transB": 1, "a_quant": aq, "b_quant": bq}))

    def _op_QGemm(self, node: Node, opset: int) -> None:
        if not self._input(node, 7):
            raise self._fail(node, "a float output (no y_scale) is not supported")
        if int(node.attrs.get("transA", 0)):
            raise self._fail(node, "transA=1 is not supported")
        aq, _ = self._params(node, 1, 2, self.tensors[node.inputs[0]].dtype)
        bq, _ = self._params(node, 4, 5, DType.from_numpy(self._const(node, 3, "B").dtype), axis=0)
        yq, ydt = self._params(node, 7, 8, DType.UINT8)
        inputs = [self._operand(node, 0), self._matrix_weights(node, 3, bool(int(node.attrs.get("transB", 0))))]
        if self._input(node, 6):
            self._const(node, 6, "C")
            inputs.append(node.inputs[6])
        attrs = {"transA": 0, "transB": 1, "alpha": float(node.attrs.get("alpha", 1.0)), "a_quant": aq,
                 "b_quant": bq, "y_quant": yq}
        self._emit(Node("QGemm", node.name, tuple(inputs), (self._output(node, 0, ydt),), attrs))

    def _binary(self, node: Node, opset: int) -> None:
        aq, _ = self._params(node, 1, 2, self.tensors[node.inputs[0]].dtype)
        bq, _ = self._params(node, 4, 5, self.tensors[node.inputs[3]].dtype)
        yq, ydt = self._params(node, 6, 7, DType.UINT8)
        inputs = (self._operand(node, 0), self._operand(node, 3))
        self._emit(Node(node.op, node.name, inputs, (self._output(node, 0, ydt),),
                        {"a_quant": aq, "b_quant": bq, "y_quant": yq}))

    _op_QLinearAdd = _binary
    _op_QLinearMul = _binary

    def _unary_params(self, node: Node) -> tuple[QuantParams, QuantParams, DType]:
        xq, _ = self._params(node, 1, 2, self.tensors[node.inputs[0]].dtype)
        yq, ydt = self._params(node, 3, 4, self.tensors[node.inputs[0]].dtype)
        return xq, yq, ydt

    def _pool(self, node: Node, opset: int) -> None:
        xq, yq, ydt = self._unary_params(node)
        attrs = {k: v for k, v in node.attrs.items() if k != "channels_last"}
        attrs.update(x_quant=xq, y_quant=yq)
        x, y = self._operand(node, 0), self._output(node, 0, ydt)
        if not int(node.attrs.get("channels_last", 0)):
            self._emit(Node(node.op, node.name, (x,), (y,), attrs))
            return
        # channels_last: NHWC in and out, around the op's NCHW form; the layout pass cancels
        # these transposes against its own.
        rank = len(self.tensors[x].shape)
        to_nchw = [0, rank - 1, *range(1, rank - 1)]
        x_nchw, y_nchw = self._reserve(f"{x}_nchw"), self._reserve(f"{y}_nchw")
        self._emit(Node("Transpose", f"{node.name}_to_nchw", (x,), (x_nchw,), {"perm": to_nchw}))
        self._emit(Node(node.op, node.name, (x_nchw,), (y_nchw,), attrs))
        self._emit(Node("Transpose", f"{node.name}_to_nhwc", (y_nchw,), (y,),
                        {"perm": [int(p) for p in np.argsort(to_nchw)]}))

    _op_QLinearAveragePool = _pool
    _op_QLinearGlobalAveragePool = _pool

    def _lookup(self, node: Node, fn, function: str) -> None:
        xq, yq, ydt = self._unary_params(node)
        table = quant.lookup_table(fn, xq, DType.INT8, yq, DType.INT8)
        attrs = {"table": tuple(int(v) for v in table), "y_dtype": "int8", "function": function,
                 "x_quant": xq, "y_quant": yq}
        self._emit(Node("QLinearLookup", node.name, (self._operand(node, 0),), (self._output(node, 0, ydt),), attrs))

    def _op_QLinearSigmoid(self, node: Node, opset: int) -> None:
        self._lookup(node, quant.logistic_f32, "Sigmoid")

    def _op_QLinearLeakyRelu(self, node: Node, opset: int) -> None:
        alpha = np.float32(node.attrs.get("alpha", 0.01))
        self._lookup(node, lambda v: np.where(v >= 0, v, alpha * v).astype(np.float32), "LeakyRelu")

    def _op_QLinearSoftmax(self, node: Node, opset: int) -> None:
        xq, yq, ydt = self._unary_params(node)
        rank = len(self.tensors[node.inputs[0]].shape)
        ms_opset = int(node.attrs.get("opset", 13))
        axis = int(node.attrs.get("axis", 1 if ms_opset < 13 else -1))
        if not -rank <= axis < rank:
            raise self._fail(node, f"axis {axis} out of range for rank {rank}")
        attrs = {"x_quant": xq, "y_quant": yq, "softmax_arithmetic": "ort_table"}
        if ms_opset < 13:
            attrs["axes"] = list(range(axis % rank, rank))
        else:
            attrs["axis"] = axis
        self._emit(Node("QLinearSoftmax", node.name, (self._operand(node, 0),), (self._output(node, 0, ydt),), attrs))

    def _op_QLinearConcat(self, node: Node, opset: int) -> None:
        if (len(node.inputs) - 2) % 3 or len(node.inputs) < 5:
            raise self._fail(node, "inputs must be Y_scale, Y_zero_point and (X, X_scale, X_zero_point) triples")
        first = self.tensors[node.inputs[2]]
        yq, ydt = self._params(node, 0, 1, first.dtype)
        parts = []
        for k in range(2, len(node.inputs), 3):
            xq, _ = self._params(node, k + 1, k + 2, self.tensors[node.inputs[k]].dtype)
            x = self._operand(node, k)
            if not quant.same_quant(xq, yq):
                requantized = self._reserve(f"{x}_requant")
                table = quant.lookup_table(lambda v: v, xq, DType.INT8, yq, DType.INT8)
                self._emit(Node("QLinearLookup", f"{node.name}_requant{k // 3}", (x,), (requantized,),
                                {"table": tuple(int(v) for v in table), "y_dtype": "int8", "function": "Requantize",
                                 "x_quant": xq, "y_quant": yq}))
                x = requantized
            parts.append(x)
        self._emit(Node("Concat", node.name, tuple(parts), (self._output(node, 0, ydt),),
                        {"axis": int(node.attrs.get("axis", 0))}))

    # ------------------------------------------------------------------ finish

    def finish(self, nodes: list[Node], outputs: Sequence[str]) -> None:
        """After the last node (nodes is updated in place): follow the int8 tensors the model
        sees as uint8 through data movement (a constant Pad value moves by -128 too), give
        any other op reading one, and the model's uint8 outputs, the uint8 values back through
        a conversion node, and record each quantized tensor's quantization."""
        from tinyaot.ops import OPS

        for i, node in enumerate(nodes):
            if OPS[node.op].quant_passthrough and node.inputs and node.inputs[0] in self.uint8_tensors:
                self.uint8_tensors.update(o for o in node.outputs if o and self.tensors[o].dtype == DType.INT8)
                if node.op == "Pad" and node.attrs.get("mode", "constant") == "constant":
                    nodes[i] = node.with_attrs(value=float(node.attrs.get("value") or 0.0) - 128)
        converted: dict[str, str] = {}  # int8 tensor -> its uint8 form
        result: list[Node] = []
        for node in nodes:
            if not (OPS[node.op].quant_passthrough or node.op in _QUANTIZED_IR_OPS):
                inputs = []
                for name in node.inputs:
                    if name in self.uint8_tensors:
                        if name not in converted:
                            converted[name] = self._fresh(f"{name}_u8")
                            result.append(flip_node(f"{name}_to_uint8", name, converted[name], DType.UINT8))
                            self.tensors[converted[name]] = Tensor(converted[name], self.tensors[name].shape,
                                                                   DType.UINT8)
                        name = converted[name]
                    inputs.append(name)
                node = Node(node.op, node.name, tuple(inputs), node.outputs, node.attrs)
            result.append(node)
        nodes[:] = result
        annotate_quant(self.tensors, nodes)
        for out in outputs:
            if out not in self.uint8_tensors or self.tensors[out].dtype != DType.INT8:
                continue
            int8_name = self._fresh(f"{out}__s8")
            for i, n in enumerate(nodes):
                if out in n.outputs or out in n.inputs:
                    nodes[i] = Node(n.op, n.name, tuple(int8_name if v == out else v for v in n.inputs),
                                    tuple(int8_name if v == out else v for v in n.outputs), n.attrs)
            tensor = self.tensors.pop(out)
            self.tensors[int8_name] = Tensor(int8_name, tensor.shape, DType.INT8, quant=tensor.quant)
            q = tensor.quant
            uq = QuantParams(q.scale, tuple(z + 128 for z in q.zero_point), q.axis) if q is not None else None
            self.tensors[out] = Tensor(out, tensor.shape, DType.UINT8, quant=uq)
            nodes.append(flip_node(f"{out}_to_uint8", int8_name, out, DType.UINT8))
