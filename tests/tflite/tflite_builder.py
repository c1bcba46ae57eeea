"""Writes small .tflite models for the tests, without TensorFlow: the `flatbuffers` Builder
and the builder functions the `tflite` package generates from TFLite's schema.

    b = ModelBuilder()
    x = b.input("x", [1, 8, 8, 3])
    w = b.const("w", np.ones((4, 3, 3, 3), np.float32))
    y = b.tensor("y", [1, 8, 8, 4])
    b.op("CONV_2D", [x, w, -1], [y], Padding="SAME", StrideW=1, StrideH=1)
    data = b.finish([x], [y])

Options are given by their schema field names (Conv2DOptions' Padding, StrideW ...);
enum values may be given by name (Padding="SAME", FusedActivationFunction="RELU6"), lists
become int32 vectors (SqueezeOptions' SqueezeDims ...). Quantization is (scale, zero_point)
or (scales, zero_points, axis). Extra subgraphs (CALL_ONCE's initialisation) are made with
`b.subgraph()` and finished by `finish`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Sequence

import flatbuffers
import numpy as np
import tflite

_TYPES = {
    np.dtype("float32"): tflite.TensorType.FLOAT32,
    np.dtype("float16"): tflite.TensorType.FLOAT16,
    np.dtype("int32"): tflite.TensorType.INT32,
    np.dtype("uint8"): tflite.TensorType.UINT8,
    np.dtype("int64"): tflite.TensorType.INT64,
    np.dtype("bool"): tflite.TensorType.BOOL,
    np.dtype("int16"): tflite.TensorType.INT16,
    np.dtype("int8"): tflite.TensorType.INT8,
}
RESOURCE = "resource"

# The options table of each builtin op the tests build (schema: BuiltinOptions union).
OPTIONS = {
    "ADD": "AddOptions", "SUB": "SubOptions", "MUL": "MulOptions", "DIV": "DivOptions",
    "CONV_2D": "Conv2DOptions", "DEPTHWISE_CONV_2D": "DepthwiseConv2DOptions",
    "FULLY_CONNECTED": "FullyConnectedOptions", "AVERAGE_POOL_2D": "Pool2DOptions",
    "MAX_POOL_2D": "Pool2DOptions", "MEAN": "ReducerOptions", "SUM": "ReducerOptions", "SOFTMAX": "SoftmaxOptions",
    "LEAKY_RELU": "LeakyReluOptions", "HARD_SWISH": "HardSwishOptions", "RESHAPE": "ReshapeOptions",
    "SQUEEZE": "SqueezeOptions", "EXPAND_DIMS": "ExpandDimsOptions", "CONCATENATION": "ConcatenationOptions",
    "PAD": "PadOptions", "PADV2": "PadV2Options", "STRIDED_SLICE": "StridedSliceOptions",
    "SLICE": "SliceOptions", "SPLIT": "SplitOptions", "SPLIT_V": "SplitVOptions",
    "TRANSPOSE": "TransposeOptions", "QUANTIZE": "QuantizeOptions", "DEQUANTIZE": "DequantizeOptions",
    "RESIZE_BILINEAR": "ResizeBilinearOptions", "RESIZE_NEAREST_NEIGHBOR": "ResizeNearestNeighborOptions",
    "MAXIMUM": "MaximumMinimumOptions", "MINIMUM": "MaximumMinimumOptions",
    "VAR_HANDLE": "VarHandleOptions", "READ_VARIABLE": "ReadVariableOptions",
    "ASSIGN_VARIABLE": "AssignVariableOptions", "CALL_ONCE": "CallOnceOptions",
}
_ENUMS = {
    "Padding": tflite.Padding,
    "FusedActivationFunction": tflite.ActivationFunctionType,
    "WeightsFormat": tflite.FullyConnectedOptionsWeightsFormat,
}
_CODES = {name: code for code, name in tflite.utils.BUILTIN_OPCODE2NAME.items()}


def _module(name: str):
    # `from tflite.X import *` in tflite/__init__ shadows each submodule by its class.
    return importlib.import_module(f"tflite.{name}")


@dataclass
class _Tensor:
    name: str
    shape: list[int]
    dtype: Any  # np.dtype or RESOURCE
    data: np.ndarray | None
    quant: tuple | None
    variable: bool = False


@dataclass
class _Op:
    code: str  # builtin op name, or "CUSTOM:<name>"
    inputs: list[int]
    outputs: list[int]
    options: dict


@dataclass
class Subgraph:
    name: str
    tensors: list[_Tensor] = field(default_factory=list)
    ops: list[_Op] = field(default_factory=list)
    inputs: list[int] = field(default_factory=list)
    outputs: list[int] = field(default_factory=list)

    def tensor(self, name: str, shape: Sequence[int], dtype=np.float32, data: np.ndarray | None = None,
               quant: tuple | None = None, variable: bool = False) -> int:
        dt = dtype if dtype == RESOURCE else np.dtype(dtype)
        self.tensors.append(_Tensor(name, [int(d) for d in shape], dt, data, quant, variable))
        return len(self.tensors) - 1

    def const(self, name: str, value: np.ndarray, quant: tuple | None = None) -> int:
        value = np.asarray(value)
        return self.tensor(name, value.shape, value.dtype, value, quant)

    def input(self, name: str, shape: Sequence[int], dtype=np.float32, quant: tuple | None = None) -> int:
        index = self.tensor(name, shape, dtype, quant=quant)
        self.inputs.append(index)
        return index

    def op(self, code: str, inputs: Sequence[int], outputs: Sequence[int], **options) -> None:
        self.ops.append(_Op(code, list(inputs), list(outputs), options))


class ModelBuilder(Subgraph):
    """The main subgraph (index 0) and the model around it."""

    def __init__(self) -> None:
        super().__init__("main")
        self.extra: list[Subgraph] = []

    def subgraph(self, name: str) -> tuple[int, Subgraph]:
        graph = Subgraph(name)
        self.extra.append(graph)
        return len(self.extra), graph

    def finish(self, inputs: Sequence[int] | None = None, outputs: Sequence[int] = ()) -> bytes:
        if inputs is not None:
            self.inputs = list(inputs)
        self.outputs = list(outputs)
        return _Writer().model([self, *self.extra])


class _Writer:
    def __init__(self) -> None:
        self.b = flatbuffers.Builder(1024)
        self.buffers: list[bytes] = [b""]  # buffer 0 is the empty buffer by convention
        self.codes: list[str] = []

    def _ints(self, start, values: Sequence[int], prepend) -> int:
        start(self.b, len(values))
        for v in reversed(values):
            prepend(int(v))
        return self.b.EndVector()

    def int32s(self, values: Sequence[int]) -> int:
        return self._ints(lambda b, n: b.StartVector(4, n, 4), values, self.b.PrependInt32)

    def _quant(self, quant: tuple) -> int:
        m = _module("QuantizationParameters")
        scale, zero_point = np.atleast_1d(np.asarray(quant[0], np.float32)), np.atleast_1d(np.asarray(quant[1], np.int64))
        axis = quant[2] if len(quant) > 2 else 0
        self.b.StartVector(4, len(scale), 4)
        for v in reversed(scale):
            self.b.PrependFloat32(float(v))
        scales = self.b.EndVector()
        self.b.StartVector(8, len(zero_point), 8)
        for v in reversed(zero_point):
            self.b.PrependInt64(int(v))
        zps = self.b.EndVector()
        m.QuantizationParametersStart(self.b)
        m.QuantizationParametersAddScale(self.b, scales)
        m.QuantizationParametersAddZeroPoint(self.b, zps)
        m.QuantizationParametersAddQuantizedDimension(self.b, int(axis))
        return m.QuantizationParametersEnd(self.b)

    def _tensor(self, t: _Tensor) -> int:
        m = _module("Tensor")
        name = self.b.CreateString(t.name)
        shape = self.int32s(t.shape)
        quant = self._quant(t.quant) if t.quant is not None else None
        buffer = 0
        if t.data is not None:
            self.buffers.append(np.ascontiguousarray(t.data, dtype=t.dtype).tobytes())
            buffer = len(self.buffers) - 1
        m.TensorStart(self.b)
        m.TensorAddShape(self.b, shape)
        m.TensorAddType(self.b, tflite.TensorType.RESOURCE if t.dtype == RESOURCE else _TYPES[t.dtype])
        m.TensorAddBuffer(self.b, buffer)
        m.TensorAddName(self.b, name)
        if quant is not None:
            m.TensorAddQuantization(self.b, quant)
        if t.variable:
            m.TensorAddIsVariable(self.b, True)
        return m.TensorEnd(self.b)

    def _options(self, code: str, options: dict) -> tuple[int, int]:
        kind = OPTIONS.get(code)
        if kind is None:
            if options:
                raise ValueError(f"no options table known for {code}")
            return 0, 0
        m = _module(kind)
        vectors = {k: self.int32s(v) for k, v in options.items() if isinstance(v, (list, tuple))}
        strings = {k: self.b.CreateString(v) for k, v in options.items() if isinstance(v, str) and k not in _ENUMS}
        getattr(m, f"{kind}Start")(self.b)
        for key, value in options.items():
            if key in vectors:
                value = vectors[key]
            elif key in strings:
                value = strings[key]
            elif isinstance(value, str):
                value = getattr(_ENUMS[key], value)
            getattr(m, f"{kind}Add{key}")(self.b, value)
        table = getattr(m, f"{kind}End")(self.b)
        return getattr(tflite.BuiltinOptions, kind), table

    def _operator(self, op: _Op) -> int:
        m = _module("Operator")
        if op.code not in self.codes:
            self.codes.append(op.code)
        inputs, outputs = self.int32s(op.inputs), self.int32s(op.outputs)
        kind, options = self._options(op.code, op.options)
        m.OperatorStart(self.b)
        m.OperatorAddOpcodeIndex(self.b, self.codes.index(op.code))
        m.OperatorAddInputs(self.b, inputs)
        m.OperatorAddOutputs(self.b, outputs)
        if kind:
            m.OperatorAddBuiltinOptionsType(self.b, kind)
            m.OperatorAddBuiltinOptions(self.b, options)
        return m.OperatorEnd(self.b)

    def _table_vector(self, items: list[int]) -> int:
        self.b.StartVector(4, len(items), 4)
        for item in reversed(items):
            self.b.PrependUOffsetTRelative(item)
        return self.b.EndVector()

    def _subgraph(self, g: Subgraph) -> int:
        m = _module("SubGraph")
        tensors = self._table_vector([self._tensor(t) for t in g.tensors])
        operators = self._table_vector([self._operator(op) for op in g.ops])
        inputs, outputs = self.int32s(g.inputs), self.int32s(g.outputs)
        name = self.b.CreateString(g.name)
        m.SubGraphStart(self.b)
        m.SubGraphAddTensors(self.b, tensors)
        m.SubGraphAddInputs(self.b, inputs)
        m.SubGraphAddOutputs(self.b, outputs)
        m.SubGraphAddOperators(self.b, operators)
        m.SubGraphAddName(self.b, name)
        return m.SubGraphEnd(self.b)

    def _code(self, code: str) -> int:
        m = _module("OperatorCode")
        custom = self.b.CreateString(code[len("CUSTOM:"):]) if code.startswith("CUSTOM:") else None
        value = _CODES["CUSTOM"] if custom is not None else _CODES[code]
        m.OperatorCodeStart(self.b)
        m.OperatorCodeAddDeprecatedBuiltinCode(self.b, min(value, 127))
        m.OperatorCodeAddBuiltinCode(self.b, value)
        m.OperatorCodeAddVersion(self.b, 1)
        if custom is not None:
            m.OperatorCodeAddCustomCode(self.b, custom)
        return m.OperatorCodeEnd(self.b)

    def _buffer(self, data: bytes) -> int:
        m = _module("Buffer")
        vector = None
        if data:
            self.b.StartVector(1, len(data), 16)  # 16-byte aligned payloads
            self.b.head = self.b.head - len(data)
            self.b.Bytes[self.b.head : self.b.head + len(data)] = data
            vector = self.b.EndVector()
        m.BufferStart(self.b)
        if vector is not None:
            m.BufferAddData(self.b, vector)
        return m.BufferEnd(self.b)

    def model(self, graphs: list[Subgraph]) -> bytes:
        m = _module("Model")
        subgraphs = self._table_vector([self._subgraph(g) for g in graphs])
        codes = self._table_vector([self._code(c) for c in self.codes])
        buffers = self._table_vector([self._buffer(d) for d in self.buffers])
        description = self.b.CreateString("tinyaot test model")
        m.ModelStart(self.b)
        m.ModelAddVersion(self.b, 3)
        m.ModelAddOperatorCodes(self.b, codes)
        m.ModelAddSubgraphs(self.b, subgraphs)
        m.ModelAddDescription(self.b, description)
        m.ModelAddBuffers(self.b, buffers)
        self.b.Finish(m.ModelEnd(self.b), file_identifier=b"TFL3")
        return bytes(self.b.Output())
