"""TensorFlow Lite model file (.tflite) -> IR Graph.

The flatbuffer is read with the `tflite` package (the schema's generated bindings); nothing is
parsed by hand. Subgraph 0 is the model; other subgraphs are only read as CALL_ONCE
initialisers of resource variables.

TFLite is NHWC throughout and stays NHWC: CONV_2D, DEPTHWISE_CONV_2D and the pools become
IR nodes already in their NHWC form (attrs["layout"] = "NHWC" with every geometry attribute
explicit, as ops/conv.py and ops/pool.py describe it: TFLite's SAME padding puts the odd
row/column at the bottom/right), so the layout pass has nothing to do. TFLite's weights are
already in the IR's NHWC layouts: CONV_2D filters are OHWI, depthwise filters 1HWO.
FULLY_CONNECTED is a Gemm with transB = 1 (weights [N, K]) between Reshapes when the input
is not 2-D. A fused activation becomes a separate Relu / Clip node, which the
fuse_activations pass folds back into the producer's epilogue.

Weights stored as float16 or int8 behind a DEQUANTIZE are folded to float32 constants at
import, and so are the int8 weights of "hybrid" float ops (int8 weights, float activations).

int8 ops reproduce LiteRT's reference kernels bit for bit (tflite_quant.py is the golden):
CONV_2D / DEPTHWISE_CONV_2D are QLinearConv with attrs["rounding"] = "tflite" (TFLite's Q0.31
multipliers, rounding twice), FULLY_CONNECTED is QGemm with "tflite_single" (LiteRT's fully
connected rounds once), a fused activation is the int8 act_range clamp; ADD / SUB / MUL / DIV,
AVERAGE_POOL_2D, MEAN (any axes; non-contiguous ones transposed together first), SOFTMAX,
PRELU (constant per-channel alpha), RESIZE_BILINEAR (TFLite's Q10 fixed point), QUANTIZE and
DEQUANTIZE are the TFLite* ops of ops/qtflite.py; the int8 functions of one value (LOGISTIC,
TANH, RELU*, LEAKY_RELU, HARD_SWISH, int8 -> int8 QUANTIZE, MAX_POOL_2D's fused activation)
are 256-entry QLinearLookup tables; data movement moves int8 values as they are, ignoring a
change of quantization as LiteRT does (PAD pads with the output's zero point). Where LiteRT
has no usable int8 answer the op is rejected: CONCATENATION of inputs quantized unlike the
output (LiteRT's Prepare fails) and SUM (LiteRT 2.3 mis-computes negative sums).

Resource variables (VAR_HANDLE / READ_VARIABLE / ASSIGN_VARIABLE, CALL_ONCE initialisation)
become Graph.states: within one run the frontend renames each READ_VARIABLE to the value
the variable holds at that point (the state tensor itself until an ASSIGN_VARIABLE), and
every variable whose value changed gets one AssignVariable node (ops/state.py) with its
final value. The initialiser subgraph must fold to constants: they are the states' initial
values (zeros for a variable it does not assign).
"""

from __future__ import annotations

import dataclasses
import importlib
import os
from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np

from tinyaot import tflite_quant
from tinyaot.errors import TinyaotError
from tinyaot.frontends.onnx import _c_safe, _node_list, _one_line, _unique, check_element_count
from tinyaot.ir import DType, Graph, Node, QuantParams, Tensor, const_tensor
from tinyaot.ops import OPS

_NUMPY_TYPES = {
    "FLOAT32": np.float32,
    "FLOAT16": np.float16,
    "INT32": np.int32,
    "UINT8": np.uint8,
    "INT64": np.int64,
    "BOOL": np.bool_,
    "INT16": np.int16,
    "INT8": np.int8,
}
_SAME, _VALID = 0, 1  # tflite.Padding
# Fused activations TFLite's kernels apply as an output clamp. TANH and SIGN_BIT also exist in
# the schema, but LiteRT's conv / pool / elementwise kernels ignore them: rejected.
_ACTIVATIONS = {0: None, 1: ("Relu", {}), 2: ("Clip", {"min": -1.0, "max": 1.0}), 3: ("Clip", {"min": 0.0, "max": 6.0}),
                4: "TANH", 5: "SIGN_BIT"}


def _tflite():
    try:
        import tflite
    except ImportError:  # a missing dependency, not a user error; still one line
        raise TinyaotError("reading .tflite files needs the `tflite` package (pip install -r requirements.txt)")
    return tflite


def _enum_names(enum_class) -> dict[int, str]:
    return {v: k for k, v in vars(enum_class).items() if not k.startswith("_") and isinstance(v, int)}


def load_tflite(path: str | os.PathLike, input_shapes: Mapping[str, tuple[int, ...]] | None = None) -> Graph:
    try:
        data = open(os.fspath(path), "rb").read()
    except FileNotFoundError:
        raise TinyaotError(f"{path}: no such file")
    except IsADirectoryError:
        raise TinyaotError(f"{path}: is a directory, not a .tflite file")
    name = os.path.splitext(os.path.basename(os.fspath(path)))[0]
    return import_tflite(data, name, dict(input_shapes or {}), str(path))


def import_tflite(data: bytes, name: str, input_shapes: Mapping[str, tuple[int, ...]] | None = None,
                  source: str = "model") -> Graph:
    tflite = _tflite()
    if len(data) < 8 or not tflite.Model.ModelBufferHasIdentifier(data, 0):
        raise TinyaotError(f"{source}: not a TensorFlow Lite model (no TFL3 flatbuffer identifier)")
    try:
        model = tflite.Model.GetRootAsModel(data, 0)
        if model.SubgraphsLength() < 1:
            raise TinyaotError(f"{source}: the model has no subgraph")
        return _Importer(tflite, model, data, dict(input_shapes or {})).run(_c_safe(name))
    except TinyaotError:
        raise
    except Exception as exc:  # a damaged flatbuffer raises from deep inside the bindings
        raise TinyaotError(f"{source}: not a readable TensorFlow Lite model ({type(exc).__name__}: {_one_line(exc)})")


# ----------------------------------------------------------------------------- importer


@dataclass
class _Variable:
    """A resource variable, keyed by VAR_HANDLE's (container, shared_name)."""

    label: str
    state: str | None = None  # the IR state tensor
    current: str | None = None  # the IR tensor holding the variable's value at this point of the run
    init: np.ndarray | None = None  # value assigned by the CALL_ONCE initialiser
    init_quant: QuantParams | None = None


@dataclass
class _Op:
    """One TFLite operator as a handler sees it."""

    code: str  # "CONV_2D", ...
    name: str  # IR node name
    inputs: list[int]  # TFLite tensor indices, -1 for an absent optional input
    outputs: list[int]
    options: object | None  # the op's XxxOptions table, or None
    index: int


@dataclass
class _Subgraph:
    index: int
    graph: object  # tflite.SubGraph
    names: dict[int, str] = field(default_factory=dict)  # TFLite tensor index -> IR tensor name
    resources: dict[int, str] = field(default_factory=dict)  # resource tensor index -> variable key
    initialiser: bool = False  # a CALL_ONCE subgraph: everything must be constant


class _Importer:
    def __init__(self, tflite, model, data: bytes, input_shapes: dict[str, tuple[int, ...]]) -> None:
        self.tflite = tflite
        self.model = model
        self.data = data
        self.input_shapes = input_shapes
        self.tensors: dict[str, Tensor] = {}
        self.nodes: list[Node] = []
        self.used: set[str] = set()
        self.variables: dict[str, _Variable] = {}
        self.unsupported: dict[str, list[str]] = {}
        self.type_names = _enum_names(tflite.TensorType)
        self.option_names = _enum_names(tflite.BuiltinOptions)
        self.called: set[int] = set()
        self.sg: _Subgraph | None = None

    # --------------------------------------------------------------------- model level

    def run(self, name: str) -> Graph:
        main = _Subgraph(0, self.model.Subgraphs(0))
        inputs = self._declare_inputs(main)
        self._subgraph(main)
        if self.unsupported:
            listing = "; ".join(f"{op} ({_node_list(names)})" for op, names in sorted(self.unsupported.items()))
            raise TinyaotError(f"unsupported op(s): {listing}")
        declared = [int(t) for t in main.graph.OutputsAsNumpy()] if main.graph.OutputsLength() else []
        if len(set(declared)) != len(declared) or not all(0 <= t < main.graph.TensorsLength() for t in declared):
            raise TinyaotError(f"model outputs {declared}: each must be a distinct tensor index below "
                               f"{main.graph.TensorsLength()}")
        outputs = tuple(self._output(main, t, inputs) for t in declared)
        states = self._finish_states()
        graph = Graph(name, self.tensors, tuple(self.nodes), tuple(inputs), outputs, states)
        return graph.pruned()

    def _output(self, sg: _Subgraph, index: int, inputs: list[str]) -> str:
        """A graph output's IR name. An output that is a model input or a variable's state
        (a READ_VARIABLE result) is copied into a tensor of its own: the caller's output
        buffer is not the input's or the state's storage."""
        name = self._tensor_name(sg, index)
        if name not in inputs and not any(v.state == name for v in self.variables.values()):
            return name
        label = _decode(sg.graph.Tensors(index).Name()) or f"t{index}"
        copy = _unique(label, self.used)
        tensor = self.tensors[name]
        self.tensors[copy] = Tensor(copy, tensor.shape, tensor.dtype, quant=tensor.quant)
        self.nodes.append(Node("Copy", _unique(f"{label}_copy", self.used), (name,), (copy,), {}))
        return copy

    def _declare_inputs(self, sg: _Subgraph) -> list[str]:
        indices = [int(t) for t in sg.graph.InputsAsNumpy()] if sg.graph.InputsLength() else []
        if len(set(indices)) != len(indices) or not all(0 <= t < sg.graph.TensorsLength() for t in indices):
            raise TinyaotError(f"model inputs {indices}: each must be a distinct tensor index below "
                               f"{sg.graph.TensorsLength()}")
        names = []
        declared = []
        for index in sg.graph.InputsAsNumpy():
            t = sg.graph.Tensors(int(index))
            declared.append(_decode(t.Name()) or f"input_{int(index)}")
        unknown = sorted(set(self.input_shapes) - set(declared))
        if unknown:
            raise TinyaotError(
                f"--input-shape names unknown input(s) {', '.join(unknown)}; the model's inputs are "
                f"{', '.join(declared) or '(none)'}"
            )
        for index, label in zip(sg.graph.InputsAsNumpy(), declared):
            index = int(index)
            t = sg.graph.Tensors(index)
            shape, dtype = self._declared_type(sg, index)
            if dtype is None:
                raise TinyaotError(f"input '{label}': element type {self._type_name(t.Type())} is not supported")
            signature = [int(d) for d in t.ShapeSignatureAsNumpy()] if t.ShapeSignatureLength() else list(shape)
            if label in self.input_shapes:
                given = self.input_shapes[label]
                fixed = [i for i, (want, got) in enumerate(zip(signature, given)) if want >= 0 and want != got]
                if len(given) != len(signature) or fixed:
                    raise TinyaotError(
                        f"--input-shape {label}={'x'.join(map(str, given))} does not fit the model's input shape "
                        f"[{', '.join(str(d) if d >= 0 else '?' for d in signature)}]"
                    )
                shape = tuple(given)
            if any(d < 0 for d in shape):
                raise TinyaotError(f"input '{label}': negative dimension in {list(shape)}")
            check_element_count(f"input '{label}'", shape)
            name = _unique(label, self.used)
            self.tensors[name] = Tensor(name, tuple(shape), dtype, quant=self._quant(t))
            sg.names[index] = name
            names.append(name)
        return names

    def _finish_states(self) -> dict[str, np.ndarray]:
        states: dict[str, np.ndarray] = {}
        for var in self.variables.values():
            if var.state is None:
                continue
            tensor = self.tensors[var.state]
            init = np.zeros(tensor.shape, tensor.dtype.numpy)
            if var.init is not None:
                if tuple(var.init.shape) != tensor.shape:
                    raise TinyaotError(f"variable '{var.label}': initial value of shape {list(var.init.shape)}, "
                                       f"but it holds {list(tensor.shape)}")
                init = var.init.astype(tensor.dtype.numpy)
            states[var.state] = init
            if var.current != var.state:
                value = self.tensors[var.current]
                if value.shape != tensor.shape or value.dtype != tensor.dtype:
                    raise TinyaotError(f"variable '{var.label}': assigned {value.dtype.value}{list(value.shape)}, but it "
                                       f"holds {tensor.dtype.value}{list(tensor.shape)}")
                node = Node("AssignVariable", _unique(f"assign_{var.state}", self.used), (var.current,), (),
                            {"variable": var.state})
                self.nodes.append(node)
        return states

    # --------------------------------------------------------------------- subgraphs

    def _subgraph(self, sg: _Subgraph) -> None:
        previous, self.sg = self.sg, sg
        try:
            for i in range(sg.graph.OperatorsLength()):
                self._operator(sg, i)
        finally:
            self.sg = previous

    def _operator(self, sg: _Subgraph, i: int) -> None:
        op = sg.graph.Operators(i)
        code = self._opcode(op)
        label = f"{code.lower()}_{i}" if sg.index == 0 else f"subgraph{sg.index}_{code.lower()}_{i}"
        handler = _HANDLERS.get(code)
        if handler is None:
            self.unsupported.setdefault(code, []).append(label)
            return
        if self.unsupported:
            return  # keep collecting unsupported ops; shapes past them are unknowable
        node_name = _unique(label, self.used)
        options = self._options(op)
        inputs = [int(t) for t in op.InputsAsNumpy()] if op.InputsLength() else []
        outputs = [int(t) for t in op.OutputsAsNumpy()] if op.OutputsLength() else []
        _check_arity(_Op(code, node_name, inputs, outputs, options, i), sg.graph.TensorsLength())
        handler(self, _Op(code, node_name, inputs, outputs, options, i))

    def _opcode(self, op) -> str:
        index = op.OpcodeIndex()
        if index >= self.model.OperatorCodesLength():
            raise TinyaotError(f"operator code index {index} is out of range")
        oc = self.model.OperatorCodes(index)
        code = max(int(oc.BuiltinCode()), int(oc.DeprecatedBuiltinCode()))
        name = self.tflite.utils.BUILTIN_OPCODE2NAME.get(code, f"BUILTIN_{code}")
        if name == "CUSTOM":
            return f"CUSTOM:{_decode(oc.CustomCode()) or '?'}"
        return name

    def _options(self, op):
        kind = op.BuiltinOptionsType()
        if not kind:
            return None
        table = op.BuiltinOptions()
        class_name = self.option_names.get(kind)
        if table is None or class_name is None:
            return None
        options = getattr(importlib.import_module(f"tflite.{class_name}"), class_name)()
        options.Init(table.Bytes, table.Pos)
        return options

    # --------------------------------------------------------------------- tensors

    def _type_name(self, code: int) -> str:
        return self.type_names.get(code, str(code))

    def _declared_type(self, sg: _Subgraph, index: int) -> tuple[tuple[int, ...], DType | None]:
        t = sg.graph.Tensors(index)
        shape = tuple(int(d) for d in t.ShapeAsNumpy()) if t.ShapeLength() else ()
        np_type = _NUMPY_TYPES.get(self._type_name(t.Type()))
        if np_type is None or np_type == np.float16:
            return shape, None
        return shape, DType.from_numpy(np.dtype(np_type))

    def _quant(self, t) -> QuantParams | None:
        q = t.Quantization()
        if q is None or q.ScaleLength() == 0:
            return None
        scales = tuple(float(np.float32(s)) for s in q.ScaleAsNumpy())
        if not all(np.isfinite(s) and s > 0 for s in scales):  # the requantization divides by them
            raise TinyaotError(f"tensor '{_decode(t.Name())}': quantization scales must be positive and finite, "
                               f"not {list(scales)[:4]}")
        zps = tuple(int(z) for z in q.ZeroPointAsNumpy()) if q.ZeroPointLength() else (0,) * len(scales)
        if len(zps) == 1 and len(scales) > 1:
            zps = zps * len(scales)
        return QuantParams(scales, zps, int(q.QuantizedDimension()) if len(scales) > 1 else None)

    def raw_value(self, index: int) -> np.ndarray | None:
        """The constant data of a TFLite tensor (any TFLite type numpy has), or None."""
        sg = self.sg
        t = sg.graph.Tensors(index)
        if t.Sparsity() is not None:
            raise TinyaotError(f"tensor '{_decode(t.Name())}': sparse tensors are not supported")
        buffer_index = t.Buffer()
        if buffer_index <= 0 or buffer_index >= self.model.BuffersLength():
            return None
        buffer = self.model.Buffers(buffer_index)
        if buffer.Offset() > 1:  # stored after the flatbuffer (models over 2 GB)
            raw = self.data[buffer.Offset(): buffer.Offset() + buffer.Size()]
        elif buffer.DataLength():
            raw = buffer.DataAsNumpy().tobytes()
        else:
            return None
        np_type = _NUMPY_TYPES.get(self._type_name(t.Type()))
        if np_type is None:
            raise TinyaotError(f"constant '{_decode(t.Name())}': element type {self._type_name(t.Type())} is not supported")
        shape = tuple(int(d) for d in t.ShapeAsNumpy()) if t.ShapeLength() else ()
        value = np.frombuffer(raw, dtype=np.dtype(np_type).newbyteorder("<"))
        if value.size != int(np.prod(shape, dtype=np.int64)):
            raise TinyaotError(f"constant '{_decode(t.Name())}': {value.size} values for shape {list(shape)}")
        return value.astype(np_type).reshape(shape)

    def tensor_quant(self, index: int) -> QuantParams | None:
        return self._quant(self.sg.graph.Tensors(index))

    def label(self, index: int) -> str:
        return _decode(self.sg.graph.Tensors(index).Name()) or f"t{index}"

    def _tensor_name(self, sg: _Subgraph, index: int) -> str:
        """The IR name of a TFLite tensor; constants become IR constants on first use."""
        if index in sg.names:
            return sg.names[index]
        if index < 0:  # -1 marks an absent optional input; this one is read
            raise TinyaotError(f"tensor index {index} is read, but the input is absent (a required input)")
        previous, self.sg = self.sg, sg
        try:
            value = self.raw_value(index)
        finally:
            self.sg = previous
        label = _decode(sg.graph.Tensors(index).Name()) or f"t{index}"
        if value is None:
            raise TinyaotError(f"tensor '{label}' is read before any operator produces it")
        if value.dtype == np.float16:
            raise TinyaotError(f"constant '{label}' is float16: only a DEQUANTIZE may read it")
        name = self.const(label, value, self._quant(sg.graph.Tensors(index)))
        sg.names[index] = name
        return name

    def name(self, index: int) -> str:
        return self._tensor_name(self.sg, index)

    def tensor(self, index: int) -> Tensor:
        return self.tensors[self.name(index)]

    def const(self, base: str, value: np.ndarray, quant: QuantParams | None = None) -> str:
        name = _unique(base, self.used)
        try:
            DType.from_numpy(np.asarray(value).dtype)
        except ValueError:
            raise TinyaotError(f"constant '{base}': element type {np.asarray(value).dtype} is not supported")
        self.tensors[name] = const_tensor(name, np.asarray(value), quant)
        return name

    def fresh(self, base: str) -> str:
        return _unique(base, self.used)

    def output(self, op: _Op, k: int = 0) -> str:
        """The IR name for output k of the op (a new tensor)."""
        index = op.outputs[k]
        if index in self.sg.names:
            raise TinyaotError(f"node '{op.name}' ({op.code}): tensor '{self.label(index)}' is written twice")
        name = _unique(self.label(index), self.used)
        self.sg.names[index] = name
        return name

    def bind(self, index: int, name: str) -> None:
        """TFLite tensor `index` is IR tensor `name` (READ_VARIABLE, folded ops)."""
        self.sg.names[index] = name

    # --------------------------------------------------------------------- nodes

    def add(self, node: Node, op: _Op) -> None:
        """Append an IR node, folding it when every input is a constant."""
        opdef = OPS[node.op]
        ins = [self.tensors[i] if i else None for i in node.inputs]
        present = [t for t in ins if t is not None]
        if present and all(t.is_const for t in present) and opdef.foldable:
            try:
                values = opdef.evaluate(node, [t.data if t is not None else None for t in ins])
            except TinyaotError:
                raise
            except Exception as exc:
                raise TinyaotError(f"node '{node.name}' ({op.code}): cannot fold constant inputs ({_one_line(exc)})")
            for out, value in zip(node.outputs, values):
                if out:
                    value = np.asarray(value)
                    if value.dtype == np.float64:
                        value = value.astype(np.float32)
                    self.tensors[out] = const_tensor(out, value, self._declared_quant(op, out))
            return
        if self.sg.initialiser:
            raise TinyaotError(f"node '{node.name}' ({op.code}): the CALL_ONCE initialiser must compute constants only")
        types = opdef.infer(node, ins)
        for out, (shape, dtype) in zip(node.outputs, types):
            if out:
                check_element_count(f"node '{node.name}' ({op.code}): output '{out}'", shape)
                self.tensors[out] = Tensor(out, tuple(int(d) for d in shape), dtype, quant=self._declared_quant(op, out))
        self.nodes.append(node)

    def _declared_quant(self, op: _Op, name: str) -> QuantParams | None:
        for index in op.outputs:
            if index >= 0 and self.sg.names.get(index) == name:
                return self.tensor_quant(index)
        return None

    def check_outputs(self, op: _Op) -> None:
        """Each output's inferred type must be what the model declares (when no --input-shape
        changed the shapes): a mismatch is a frontend bug or a malformed model."""
        for index in op.outputs:
            name = self.sg.names.get(index)
            if index < 0 or name is None or name not in self.tensors:
                continue
            shape, dtype = self._declared_type(self.sg, index)
            got = self.tensors[name]
            t = self.sg.graph.Tensors(index)
            if dtype is not None and got.dtype != dtype:
                raise TinyaotError(f"node '{op.name}' ({op.code}): output '{self.label(index)}' is "
                                   f"{got.dtype.value}, but the model declares {dtype.value}")
            dynamic = t.ShapeSignatureLength() and any(d < 0 for d in t.ShapeSignatureAsNumpy())
            if not self.input_shapes and not dynamic and t.ShapeLength() and got.shape != shape:
                raise TinyaotError(f"node '{op.name}' ({op.code}): output '{self.label(index)}' has shape "
                                   f"{list(got.shape)}, but the model declares {list(shape)}")

    def add_with_activation(self, node: Node, op: _Op, code: int) -> None:
        """`node` and TFLite's fused activation `code` after it (a separate node that the
        fuse_activations pass folds into the producer where the kernel allows)."""
        act = _ACTIVATIONS.get(int(code), "unknown")
        if act is None:
            self.add(node, op)
            return
        if not isinstance(act, tuple):
            raise TinyaotError(f"node '{op.name}' ({op.code}): fused activation {act if isinstance(act, str) else code} "
                               "is not supported")
        out = node.outputs[0]
        pre = self.fresh(f"{out}_pre_activation")
        self.add(dataclasses.replace(node, outputs=(pre,) + tuple(node.outputs[1:])), op)
        self.add(Node(act[0], self.fresh(f"{op.name}_{act[0].lower()}"), (pre,), (out,), dict(act[1])), op)


# builtin op -> (fewest inputs, most inputs, fewest outputs, most outputs); the inputs
# past the fewest are optional (-1 = absent), the others must be given. An op missing here
# only has its tensor indices checked.
_MANY = 2**31
_ARITY = {
    "CONV_2D": (2, 3, 1, 1), "DEPTHWISE_CONV_2D": (2, 3, 1, 1), "FULLY_CONNECTED": (2, 3, 1, 1),
    "CONCATENATION": (1, _MANY, 1, 1), "RESHAPE": (1, 2, 1, 1), "PADV2": (2, 3, 1, 1),
    "STRIDED_SLICE": (4, 4, 1, 1), "SLICE": (3, 3, 1, 1), "SPLIT": (2, 2, 1, _MANY), "SPLIT_V": (3, 3, 1, _MANY),
    "VAR_HANDLE": (0, 0, 1, 1), "ASSIGN_VARIABLE": (2, 2, 0, 0), "CALL_ONCE": (0, 0, 0, 0),
    **{code: (2, 2, 1, 1) for code in ("ADD", "SUB", "MUL", "DIV", "MAXIMUM", "MINIMUM", "MEAN", "SUM", "REDUCE_MAX",
                                       "REDUCE_MIN", "REDUCE_PROD", "PRELU", "EXPAND_DIMS", "PAD", "TRANSPOSE",
                                       "RESIZE_BILINEAR", "RESIZE_NEAREST_NEIGHBOR")},
    **{code: (1, 1, 1, 1) for code in ("AVERAGE_POOL_2D", "MAX_POOL_2D", "SOFTMAX", "LOGISTIC", "TANH", "RELU", "RELU6",
                                       "RELU_N1_TO_1", "RELU_0_TO_1", "LEAKY_RELU", "HARD_SWISH", "SQUEEZE", "QUANTIZE",
                                       "DEQUANTIZE", "READ_VARIABLE")},
}


def _check_arity(op: _Op, tensor_count: int) -> None:
    """Input and output counts the op takes, every required one given, every index naming a
    tensor of the subgraph."""
    arity = _ARITY.get(op.code)
    low_in, high_in, low_out, high_out = arity or (0, _MANY, 0, _MANY)
    for what, indices, low, high in (("inputs", op.inputs, low_in, high_in), ("outputs", op.outputs, low_out, high_out)):
        if not low <= len(indices) <= high:
            expected = f"{low}" if low == high else f"at least {low}" if high == _MANY else f"{low} to {high}"
            raise _fail(op, f"{len(indices)} {what}, the op takes {expected}")
        for k, index in enumerate(indices):
            # Optional: inputs past the fewest of an op with a fixed most (variadic ones have none).
            required = arity is not None and (k < low or high == _MANY or what == "outputs")
            if index == -1 and required:
                raise _fail(op, f"{what[:-1]} {k} is absent (tensor index -1), but it is required")
            if not -1 <= index < tensor_count:
                raise _fail(op, f"{what[:-1]} {k} is tensor index {index}, but the subgraph has {tensor_count} tensors")


def _decode(value) -> str:
    if value is None:
        return ""
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)


def _fail(op: _Op, reason: str) -> TinyaotError:
    return TinyaotError(f"node '{op.name}' ({op.code}): {reason}")


# ----------------------------------------------------------------------------- helpers


def _const_input(imp: _Importer, op: _Op, k: int, what: str) -> np.ndarray:
    if k >= len(op.inputs) or op.inputs[k] < 0:
        raise _fail(op, f"{what} is missing")
    name = imp.name(op.inputs[k])
    tensor = imp.tensors[name]
    if tensor.data is None:
        raise _fail(op, f"{what} must be a constant (tinyaot compiles static graphs only)")
    return tensor.data


def _ints(value: np.ndarray) -> list[int]:
    return [int(v) for v in np.asarray(value).reshape(-1)]


def _dequantized(value: np.ndarray, quant: QuantParams | None, op: _Op, what: str) -> np.ndarray:
    """float32 of a constant: int8/uint8/int16 with its quantization (as TFLite's DEQUANTIZE:
    scale * (q - zero_point) in double, rounded to float), float16 widened."""
    if value.dtype == np.float32:
        return value
    if value.dtype == np.float16:
        return value.astype(np.float32)
    if quant is None:
        raise _fail(op, f"{what} is {value.dtype} without quantization parameters")
    scale = np.asarray(quant.scale, np.float64)
    zero = np.asarray(quant.zero_point, np.float64)
    if quant.axis is not None and value.ndim:
        shape = [1] * value.ndim
        shape[quant.axis] = -1
        scale, zero = scale.reshape(shape), zero.reshape(shape)
    return (scale * (value.astype(np.float64) - zero)).astype(np.float32)


def _float_weight(imp: _Importer, op: _Op, k: int, what: str) -> str | None:
    """A float op's constant weight or bias as a float32 IR constant (hybrid int8 weights and
    float16 weights folded); None when the optional input is absent."""
    if k >= len(op.inputs) or op.inputs[k] < 0:
        return None
    index = op.inputs[k]
    value = imp.raw_value(index) if index not in imp.sg.names else None
    if value is None:
        name = imp.name(index)
        tensor = imp.tensors[name]
        if tensor.dtype == DType.FLOAT32 or not tensor.is_const:
            return name
        value = tensor.data
    if value.dtype == np.float32:
        return imp.name(index)
    return imp.const(f"{imp.label(index)}_dequantized", _dequantized(value, imp.tensor_quant(index), op, what))


def _window(op: _Op, size: int, kernel: int, stride: int, dilation: int, padding: int) -> tuple[int, int, int]:
    """(pad before, pad after, output size) of one spatial dim with TFLite's padding rules:
    SAME gives ceil(size / stride) outputs and puts the odd padding after (bottom/right)."""
    if stride < 1 or dilation < 1 or kernel < 1:
        raise _fail(op, f"stride {stride}, dilation {dilation} and kernel {kernel} must be >= 1")
    effective = (kernel - 1) * dilation + 1
    if padding == _SAME:
        out = -(-size // stride)
        total = max((out - 1) * stride + effective - size, 0)
        before = total // 2
        return before, total - before, out
    if padding == _VALID:
        out = (size - effective + stride) // stride
        if out < 1:
            raise _fail(op, f"a window of {effective} does not fit input size {size} with VALID padding")
        return 0, 0, out
    raise _fail(op, f"padding {padding} is not supported (SAME, VALID)")


def _spatial_attrs(op: _Op, x: Tensor, kernel: tuple[int, int], strides: tuple[int, int], dilations: tuple[int, int],
                   padding: int) -> dict:
    if len(x.shape) != 4:
        raise _fail(op, f"input rank {len(x.shape)} is not supported (NHWC, rank 4)")
    (pt, pb, oh), (pl, pr, ow) = (_window(op, x.shape[1 + i], kernel[i], strides[i], dilations[i], padding)
                                  for i in range(2))
    return {
        "layout": "NHWC",
        "kernel_shape": list(kernel),
        "strides": list(strides),
        "dilations": list(dilations),
        "pads": [pt, pl, pb, pr],
        "output_spatial": [oh, ow],
        "auto_pad": "NOTSET",
    }


def _require_float(imp: _Importer, op: _Op, *indices: int) -> None:
    for k in indices:
        if k < len(op.inputs) and op.inputs[k] >= 0:
            t = imp.tensor(op.inputs[k])
            if t.dtype != DType.FLOAT32:
                raise _fail(op, f"{t.dtype.value} input '{imp.label(op.inputs[k])}' is not supported (float32 only)")


# --- int8 (TFLite's integer arithmetic: conv, depthwise and fully connected requantize with
# TFLite's rounding, ops/qtflite.py has the ops whose algorithm is TFLite's own)

_INT8_ACTIVATIONS = {0: None, 1: "relu", 2: "relu_n1_to_1", 3: "relu6"}


def _int8_activation(op: _Op, code: int, y_quant: QuantParams | None) -> tuple[int, int]:
    """The int8 clamp of a fused activation (TFLite's CalculateActivationRangeQuantized)."""
    if y_quant is None or len(y_quant.scale) != 1:
        raise _fail(op, "the int8 output needs per-tensor quantization parameters")
    if int(code) not in _INT8_ACTIVATIONS:
        raise _fail(op, f"fused activation {_ACTIVATIONS.get(int(code), code)} is not supported")
    return tflite_quant.activation_range(_INT8_ACTIVATIONS[int(code)], y_quant.scale[0], y_quant.zero_point[0])


def _int8_weight(imp: _Importer, op: _Op, k: int, what: str) -> str:
    name = imp.name(op.inputs[k])
    tensor = imp.tensors[name]
    if tensor.dtype != DType.INT8 or not tensor.is_const or tensor.quant is None:
        raise _fail(op, f"{what} must be a constant quantized int8 tensor")
    return name


def _int32_bias(imp: _Importer, op: _Op, k: int) -> str | None:
    if k >= len(op.inputs) or op.inputs[k] < 0:
        return None
    name = imp.name(op.inputs[k])
    tensor = imp.tensors[name]
    if tensor.dtype != DType.INT32 or not tensor.is_const:
        raise _fail(op, f"the bias must be a constant int32 tensor, got {tensor.dtype.value}")
    return name


def _int8_input(imp: _Importer, op: _Op, k: int) -> Tensor:
    x = imp.tensor(op.inputs[k])
    if x.quant is None or len(x.quant.scale) != 1:
        raise _fail(op, f"int8 input '{imp.label(op.inputs[k])}' needs per-tensor quantization parameters")
    return x


def _qconv(imp: _Importer, op: _Op, depthwise: bool) -> None:
    o = op.options
    x = _int8_input(imp, op, 0)
    w_name = _int8_weight(imp, op, 1, "the filter")
    w = imp.tensors[w_name]
    if len(w.shape) != 4 or (depthwise and w.shape[0] != 1):
        raise _fail(op, f"filter shape {list(w.shape)} is not {'[1, H, W, C]' if depthwise else '[O, H, W, I]'}")
    c_in = x.shape[-1]
    if depthwise:
        if c_in < 1 or w.shape[3] % c_in:
            raise _fail(op, f"{w.shape[3]} output channels are not a multiple of {c_in} input channels")
        group, layout = c_in, "1HWO"
    else:
        if w.shape[3] < 1 or c_in % w.shape[3] or w.shape[0] % (c_in // w.shape[3]):
            raise _fail(op, f"{c_in} input channels do not fit filter {list(w.shape)}")
        group, layout = c_in // w.shape[3], "OHWI"
    attrs = _spatial_attrs(op, x, (w.shape[1], w.shape[2]), (o.StrideH(), o.StrideW()),
                           (o.DilationHFactor(), o.DilationWFactor()), o.Padding())
    y_quant = imp.tensor_quant(op.outputs[0])
    w_quant = dataclasses.replace(w.quant, axis=None) if len(w.quant.scale) == 1 else w.quant
    attrs.update(group=group, weight_layout=layout, x_quant=x.quant, w_quant=w_quant, y_quant=y_quant,
                 act_range=list(_int8_activation(op, o.FusedActivationFunction(), y_quant)), rounding="tflite")
    bias = _int32_bias(imp, op, 2)
    inputs = (imp.name(op.inputs[0]), w_name) + ((bias,) if bias else ())
    imp.add(Node("QLinearConv", op.name, inputs, (imp.output(op),), attrs), op)


def _qaverage_pool(imp: _Importer, op: _Op) -> None:
    o = op.options
    x = _int8_input(imp, op, 0)
    y_quant = imp.tensor_quant(op.outputs[0])
    attrs = _spatial_attrs(op, x, (o.FilterHeight(), o.FilterWidth()), (o.StrideH(), o.StrideW()), (1, 1), o.Padding())
    attrs.update(x_quant=x.quant, y_quant=y_quant, act_range=list(_int8_activation(op, o.FusedActivationFunction(),
                                                                                   y_quant)))
    imp.add(Node("TFLiteAveragePool", op.name, (imp.name(op.inputs[0]),), (imp.output(op),), attrs), op)


def _qmax_pool_clamped(imp: _Importer, op: _Op) -> None:
    """int8 MAX_POOL_2D with a fused activation: the pool moves values as they are, then the
    activation's int8 clamp (LiteRT's act_range) as a 256-entry table."""
    o = op.options
    x = _int8_input(imp, op, 0)
    y_quant = imp.tensor_quant(op.outputs[0])
    lo, hi = _int8_activation(op, o.FusedActivationFunction(), y_quant)
    attrs = _spatial_attrs(op, x, (o.FilterHeight(), o.FilterWidth()), (o.StrideH(), o.StrideW()), (1, 1), o.Padding())
    attrs["ceil_mode"] = 0
    out = imp.output(op)
    pooled = imp.fresh(f"{out}_pre_activation")
    imp.add(Node("MaxPool", op.name, (imp.name(op.inputs[0]),), (pooled,), attrs), op)
    imp.tensors[pooled] = dataclasses.replace(imp.tensors[pooled], quant=y_quant)
    table = np.clip(tflite_quant.INT8_CODES, lo, hi)
    clamp = {**tflite_quant.lookup_attrs(table, "clamp"), "x_quant": y_quant, "y_quant": y_quant}
    imp.add(Node("QLinearLookup", imp.fresh(f"{op.name}_clamp"), (pooled,), (out,), clamp), op)


def _qunary(imp: _Importer, op: _Op) -> None:
    """An int8 function of one input as a 256-entry table (QLinearLookup)."""
    x = _int8_input(imp, op, 0)
    y_quant = imp.tensor_quant(op.outputs[0])
    if y_quant is None or len(y_quant.scale) != 1:
        raise _fail(op, "the int8 output needs per-tensor quantization parameters")
    xs, xz, ys, yz = x.quant.scale[0], x.quant.zero_point[0], y_quant.scale[0], y_quant.zero_point[0]
    tables = {
        "LOGISTIC": lambda: tflite_quant.lut_table(
            lambda v: np.float32(1.0) / (np.float32(1.0) + np.exp(-v)), xs, xz, ys, yz),
        "TANH": lambda: tflite_quant.lut_table(np.tanh, xs, xz, ys, yz),
        "RELU": lambda: tflite_quant.relu_table(xs, xz, ys, yz, 0.0, None),
        "RELU6": lambda: tflite_quant.relu_table(xs, xz, ys, yz, 0.0, 6.0),
        "RELU_N1_TO_1": lambda: tflite_quant.relu_table(xs, xz, ys, yz, -1.0, 1.0),
        "RELU_0_TO_1": lambda: tflite_quant.relu_table(xs, xz, ys, yz, 0.0, 1.0),
        "LEAKY_RELU": lambda: tflite_quant.leaky_relu_table(xs, xz, ys, yz, float(np.float32(op.options.Alpha()))),
        "QUANTIZE": lambda: tflite_quant.requantize_table(xs, xz, ys, yz),
        "HARD_SWISH": lambda: tflite_quant.hard_swish_table(xs, xz, ys, yz),
    }
    if op.code not in tables:
        raise _fail(op, "int8 inputs are not supported yet")
    try:
        table = tables[op.code]()
    except ValueError as exc:
        raise _fail(op, str(exc))
    attrs = {**tflite_quant.lookup_attrs(table, op.code), "x_quant": x.quant, "y_quant": y_quant}
    imp.add(Node("QLinearLookup", op.name, (imp.name(op.inputs[0]),), (imp.output(op),), attrs), op)


def _qbinary(imp: _Importer, op: _Op, ir_op: str) -> None:
    a, b = _int8_input(imp, op, 0), _int8_input(imp, op, 1)
    if ir_op == "TFLiteDiv" and b.is_const and (np.asarray(b.data) == b.quant.zero_point[0]).any():
        raise _fail(op, "the constant divisor holds its zero point (a division by zero, which LiteRT rejects)")
    y_quant = imp.tensor_quant(op.outputs[0])
    code = op.options.FusedActivationFunction() if op.options is not None else 0
    attrs = {"a_quant": a.quant, "b_quant": b.quant, "y_quant": y_quant,
             "act_range": list(_int8_activation(op, code, y_quant))}
    node = Node(ir_op, op.name, (imp.name(op.inputs[0]), imp.name(op.inputs[1])), (imp.output(op),), attrs)
    imp.add(node, op)


# ----------------------------------------------------------------------------- op handlers


def _conv_2d(imp: _Importer, op: _Op) -> None:
    if imp.tensor(op.inputs[0]).dtype == DType.INT8:
        return _qconv(imp, op, depthwise=False)
    _require_float(imp, op, 0)
    o = op.options
    x = imp.tensor(op.inputs[0])
    w_name = _float_weight(imp, op, 1, "the filter")
    w = imp.tensors[w_name]
    if len(w.shape) != 4 or not w.is_const:
        raise _fail(op, f"the filter must be a constant [O, H, W, I] tensor, got {list(w.shape)}")
    c_in = x.shape[-1]
    if w.shape[3] < 1 or c_in % w.shape[3] or w.shape[0] % (c_in // w.shape[3]):
        raise _fail(op, f"{c_in} input channels do not fit filter {list(w.shape)}")
    attrs = _spatial_attrs(op, x, (w.shape[1], w.shape[2]), (o.StrideH(), o.StrideW()),
                           (o.DilationHFactor(), o.DilationWFactor()), o.Padding())
    attrs.update(group=c_in // w.shape[3], weight_layout="OHWI")
    bias = _float_weight(imp, op, 2, "the bias")
    inputs = (imp.name(op.inputs[0]), w_name) + ((bias,) if bias else ())
    imp.add_with_activation(Node("Conv", op.name, inputs, (imp.output(op),), attrs), op, o.FusedActivationFunction())


def _depthwise_conv_2d(imp: _Importer, op: _Op) -> None:
    if imp.tensor(op.inputs[0]).dtype == DType.INT8:
        return _qconv(imp, op, depthwise=True)
    _require_float(imp, op, 0)
    o = op.options
    x = imp.tensor(op.inputs[0])
    w_name = _float_weight(imp, op, 1, "the filter")
    w = imp.tensors[w_name]
    if len(w.shape) != 4 or w.shape[0] != 1 or not w.is_const:
        raise _fail(op, f"the filter must be a constant [1, H, W, C] tensor, got {list(w.shape)}")
    c_in, c_out = x.shape[-1], w.shape[3]
    if c_in < 1 or c_out % c_in:
        raise _fail(op, f"{c_out} output channels are not a multiple of {c_in} input channels")
    attrs = _spatial_attrs(op, x, (w.shape[1], w.shape[2]), (o.StrideH(), o.StrideW()),
                           (o.DilationHFactor(), o.DilationWFactor()), o.Padding())
    attrs.update(group=c_in, weight_layout="1HWO")
    bias = _float_weight(imp, op, 2, "the bias")
    inputs = (imp.name(op.inputs[0]), w_name) + ((bias,) if bias else ())
    imp.add_with_activation(Node("Conv", op.name, inputs, (imp.output(op),), attrs), op, o.FusedActivationFunction())


def _fully_connected(imp: _Importer, op: _Op) -> None:
    quantized = imp.tensor(op.inputs[0]).dtype == DType.INT8
    if not quantized:
        _require_float(imp, op, 0)
    o = op.options
    act, keep = (o.FusedActivationFunction(), bool(o.KeepNumDims())) if o is not None else (0, False)
    if o is not None and o.WeightsFormat() != 0:
        raise _fail(op, "shuffled weights (WeightsFormat SHUFFLED4x16INT8) are not supported")
    x = imp.tensor(op.inputs[0])
    w_name = _int8_weight(imp, op, 1, "the weights") if quantized else _float_weight(imp, op, 1, "the weights")
    w = imp.tensors[w_name]
    if len(w.shape) != 2:
        raise _fail(op, f"weights must be 2-D [N, K], got {list(w.shape)}")
    n, k = w.shape
    if k < 1 or x.size % k:
        raise _fail(op, f"input {list(x.shape)} does not hold rows of {k} values")
    m = x.size // k
    a = imp.name(op.inputs[0])
    if x.shape != (m, k):
        flat = imp.fresh(f"{a}_rows")
        imp.add(Node("Reshape", imp.fresh(f"{op.name}_rows"), (a,), (flat,), {"shape": [m, k], "allowzero": 1}), op)
        a = flat
    final = x.shape[:-1] + (n,) if keep else (m, n)
    out = imp.output(op)
    y = out if final == (m, n) else imp.fresh(f"{out}_2d")
    if quantized:
        bias = _int32_bias(imp, op, 2)
        y_quant = imp.tensor_quant(op.outputs[0])
        attrs = {"transB": 1, "a_quant": x.quant, "b_quant": w.quant, "y_quant": y_quant,
                 "act_range": list(_int8_activation(op, act, y_quant)), "rounding": "tflite_single"}
        imp.add(Node("QGemm", op.name, (a, w_name) + ((bias,) if bias else ()), (y,), attrs), op)
    else:
        bias = _float_weight(imp, op, 2, "the bias")
        inputs = (a, w_name) + ((bias,) if bias else ())
        imp.add_with_activation(Node("Gemm", op.name, inputs, (y,), {"transB": 1, "layout": "NCHW"}), op, act)
    if y != out:
        imp.add(Node("Reshape", imp.fresh(f"{op.name}_keep_dims"), (y,), (out,),
                     {"shape": list(final), "allowzero": 1}), op)


def _pool(ir_op: str) -> Callable[[_Importer, _Op], None]:
    def handler(imp: _Importer, op: _Op) -> None:
        o = op.options
        x = imp.tensor(op.inputs[0])
        if ir_op == "AveragePool" and x.dtype == DType.INT8:
            return _qaverage_pool(imp, op)
        if ir_op == "AveragePool":
            _require_float(imp, op, 0)
        if x.dtype == DType.INT8 and o.FusedActivationFunction():
            return _qmax_pool_clamped(imp, op)
        if x.dtype != DType.FLOAT32 and o.FusedActivationFunction():
            raise _fail(op, f"a fused activation on {x.dtype.value} pooling is not supported yet")
        attrs = _spatial_attrs(op, x, (o.FilterHeight(), o.FilterWidth()), (o.StrideH(), o.StrideW()), (1, 1),
                               o.Padding())
        attrs["ceil_mode"] = 0
        if ir_op == "AveragePool":
            attrs["count_include_pad"] = 0  # TFLite averages over the taps inside the input
        node = Node(ir_op, op.name, (imp.name(op.inputs[0]),), (imp.output(op),), attrs)
        imp.add_with_activation(node, op, o.FusedActivationFunction())

    return handler


_TFLITE_BINARY = {"Add": "TFLiteAdd", "Sub": "TFLiteSub", "Mul": "TFLiteMul", "Div": "TFLiteDiv"}


def _binary(ir_op: str, arithmetic: bool = True) -> Callable[[_Importer, _Op], None]:
    def handler(imp: _Importer, op: _Op) -> None:
        a = imp.tensor(op.inputs[0])
        if a.dtype == DType.INT8 and a.quant is not None and ir_op in _TFLITE_BINARY:
            return _qbinary(imp, op, _TFLITE_BINARY[ir_op])
        if arithmetic and a.quant is not None:
            raise _fail(op, f"quantized ({a.dtype.value}) inputs are not supported yet")
        code = op.options.FusedActivationFunction() if op.options is not None and arithmetic else 0
        if code and a.dtype != DType.FLOAT32:
            raise _fail(op, "a fused activation on integer tensors is not supported")
        node = Node(ir_op, op.name, (imp.name(op.inputs[0]), imp.name(op.inputs[1])), (imp.output(op),), {})
        imp.add_with_activation(node, op, code)

    return handler


def _unary(ir_op: str, attrs: Callable[[_Op], dict] = lambda op: {}) -> Callable[[_Importer, _Op], None]:
    def handler(imp: _Importer, op: _Op) -> None:
        if imp.tensor(op.inputs[0]).dtype == DType.INT8:
            return _qunary(imp, op)
        _require_float(imp, op, 0)
        imp.add(Node(ir_op, op.name, (imp.name(op.inputs[0]),), (imp.output(op),), attrs(op)), op)

    return handler


def _prelu(imp: _Importer, op: _Op) -> None:
    x = imp.tensor(op.inputs[0])
    if x.dtype == DType.INT8:
        x = _int8_input(imp, op, 0)
        alpha_t = imp.tensor(op.inputs[1])
        if not alpha_t.is_const or alpha_t.dtype != DType.INT8 or alpha_t.quant is None or len(alpha_t.quant.scale) != 1:
            raise _fail(op, "int8 PRELU needs a constant int8 alpha with per-tensor quantization")
        shape = tuple(alpha_t.shape)
        channels = x.shape[-1] if x.shape else 1
        if len(shape) > len(x.shape) or any(d != 1 for d in shape[:-1]) or (shape and shape[-1] not in (1, channels)):
            raise _fail(op, f"int8 PRELU supports an alpha per channel of the last axis only, not shape {list(shape)}")
        y_quant = imp.tensor_quant(op.outputs[0])
        attrs = {"alpha": [int(v) for v in np.asarray(alpha_t.data).reshape(-1)], "alpha_quant": alpha_t.quant,
                 "x_quant": x.quant, "y_quant": y_quant}
        imp.add(Node("TFLitePRelu", op.name, (imp.name(op.inputs[0]),), (imp.output(op),), attrs), op)
        return
    _require_float(imp, op, 0, 1)
    imp.add(Node("PRelu", op.name, (imp.name(op.inputs[0]), imp.name(op.inputs[1])), (imp.output(op),), {}), op)


def _mean(imp: _Importer, op: _Op) -> None:
    x = imp.tensor(op.inputs[0])
    if x.dtype == DType.INT8 and op.code == "SUM":
        raise _fail(op, "int8 SUM is not supported (LiteRT 2.3's reference int8 SUM mis-computes negative sums, "
                        "so there is no reference to match)")
    if x.dtype != DType.INT8:
        _require_float(imp, op, 0)
    axes = _ints(_const_input(imp, op, 1, "the axes"))
    keep = int(bool(op.options.KeepDims())) if op.options is not None else 0
    rank = len(x.shape)
    if any(not -rank <= a < max(rank, 1) for a in axes):
        raise _fail(op, f"axes {axes} out of range for rank {rank}")
    axes = sorted({a % max(rank, 1) for a in axes})
    if x.dtype == DType.INT8:
        return _qmean(imp, op, axes, keep)
    imp.add(Node("ReduceMean" if op.code == "MEAN" else "ReduceSum", op.name, (imp.name(op.inputs[0]),),
                 (imp.output(op),), {"axes": axes, "keepdims": keep}), op)


def _qmean(imp: _Importer, op: _Op, axes: list[int], keep: int) -> None:
    """int8 MEAN: LiteRT's reference takes one path (QuantizedMeanOrSum) for any axes. The
    kernel reduces contiguous axes; other axes are first transposed to the end (a sum does not
    depend on the order) and keep_dims restored by a Reshape."""
    x = _int8_input(imp, op, 0)
    rank = len(x.shape)
    if rank == 0 or not axes:
        raise _fail(op, "int8 MEAN needs at least one axis to reduce")
    attrs = {"x_quant": x.quant, "y_quant": imp.tensor_quant(op.outputs[0])}
    source, out = imp.name(op.inputs[0]), imp.output(op)
    if axes == list(range(axes[0], axes[-1] + 1)):
        imp.add(Node("TFLiteMean", op.name, (source,), (out,), {**attrs, "axes": axes, "keepdims": keep}), op)
        return
    kept = [a for a in range(rank) if a not in axes]
    moved = imp.fresh(f"{out}_reduced_last")
    imp.add(Node("Transpose", imp.fresh(f"{op.name}_transpose"), (source,), (moved,), {"perm": kept + axes}), op)
    tail = list(range(len(kept), rank))
    target = imp.fresh(f"{out}_reduced") if keep else out
    imp.add(Node("TFLiteMean", op.name, (moved,), (target,), {**attrs, "axes": tail, "keepdims": 0}), op)
    if keep:
        shape = [1 if a in axes else d for a, d in enumerate(x.shape)]
        imp.add(Node("Reshape", imp.fresh(f"{op.name}_keep_dims"), (target,), (out,),
                     {"shape": shape, "allowzero": 1}), op)


def _softmax(imp: _Importer, op: _Op) -> None:
    beta = float(np.float32(op.options.Beta())) if op.options is not None else 1.0
    x = imp.tensor(op.inputs[0])
    if x.dtype == DType.INT8:
        attrs = {"beta": beta, "x_quant": x.quant, "y_quant": imp.tensor_quant(op.outputs[0])}
        imp.add(Node("TFLiteSoftmax", op.name, (imp.name(op.inputs[0]),), (imp.output(op),), attrs), op)
        return
    _require_float(imp, op, 0)
    x = imp.name(op.inputs[0])
    if beta != 1.0:
        scaled = imp.fresh(f"{x}_times_beta")
        imp.add(Node("Mul", imp.fresh(f"{op.name}_beta"), (x, imp.const(f"{op.name}_beta", np.float32(beta))),
                     (scaled,), {}), op)
        x = scaled
    imp.add(Node("Softmax", op.name, (x,), (imp.output(op),), {"axis": -1}), op)


def _reshape(imp: _Importer, op: _Op) -> None:
    x = imp.tensor(op.inputs[0])
    shape = None
    if len(op.inputs) > 1 and op.inputs[1] >= 0:
        value = imp.raw_value(op.inputs[1]) if op.inputs[1] not in imp.sg.names else imp.tensor(op.inputs[1]).data
        if value is not None:
            shape = _ints(value)
    if shape is None and op.options is not None and op.options.NewShapeLength():
        shape = _ints(op.options.NewShapeAsNumpy())
    if shape is None:
        declared, _ = imp._declared_type(imp.sg, op.outputs[0])
        shape = list(declared)
    if shape.count(-1) == 1 and x.size == 0:
        raise _fail(op, "cannot infer a -1 dimension of an empty tensor")
    imp.add(Node("Reshape", op.name, (imp.name(op.inputs[0]),), (imp.output(op),),
                 {"shape": shape, "allowzero": 1}), op)


def _squeeze(imp: _Importer, op: _Op) -> None:
    dims = _ints(op.options.SqueezeDimsAsNumpy()) if op.options is not None and op.options.SqueezeDimsLength() else []
    attrs = {"axes": dims} if dims else {}
    imp.add(Node("Squeeze", op.name, (imp.name(op.inputs[0]),), (imp.output(op),), attrs), op)


def _expand_dims(imp: _Importer, op: _Op) -> None:
    axis = _ints(_const_input(imp, op, 1, "the axis"))
    if len(axis) != 1:
        raise _fail(op, f"axis {axis} must be one value")
    imp.add(Node("Unsqueeze", op.name, (imp.name(op.inputs[0]),), (imp.output(op),), {"axes": axis}), op)


def _concatenation(imp: _Importer, op: _Op) -> None:
    o = op.options
    names = [imp.name(i) for i in op.inputs]
    quants = {imp.tensors[n].quant for n in names} | {imp.tensor_quant(op.outputs[0])}
    if imp.tensors[names[0]].dtype == DType.INT8 and len(quants) > 1:
        raise _fail(op, "int8 inputs quantized unlike the output are not supported (LiteRT's int8 kernel "
                        "rejects them: it never rescales)")
    node = Node("Concat", op.name, tuple(names), (imp.output(op),), {"axis": int(o.Axis())})
    imp.add_with_activation(node, op, o.FusedActivationFunction())


def _pad(imp: _Importer, op: _Op) -> None:
    x = imp.tensor(op.inputs[0])
    paddings = np.asarray(_const_input(imp, op, 1, "the paddings"))
    if paddings.shape != (len(x.shape), 2):
        raise _fail(op, f"paddings of shape {list(paddings.shape)} do not fit rank {len(x.shape)}")
    if (paddings < 0).any():
        raise _fail(op, "negative paddings are not supported")
    value = 0
    if op.code == "PADV2" and len(op.inputs) > 2 and op.inputs[2] >= 0:
        constant = np.asarray(_const_input(imp, op, 2, "the constant value")).reshape(-1)
        if constant.size != 1:
            raise _fail(op, "the constant value must be a scalar")
        value = constant[0].item()
    elif x.quant is not None:
        # quantized zero: LiteRT pads with the output's zero point
        y_quant = imp.tensor_quant(op.outputs[0])
        value = (y_quant or x.quant).zero_point[0]
    attrs = {"pads": _ints(paddings[:, 0]) + _ints(paddings[:, 1]), "mode": "constant", "value": value}
    imp.add(Node("Pad", op.name, (imp.name(op.inputs[0]),), (imp.output(op),), attrs), op)


def _slice_node(imp: _Importer, op: _Op, plan: list[tuple[int, int, int]], final: tuple[int, ...]) -> None:
    """Slice with per-axis (start, step, count) resolved, then a Reshape to `final`."""
    x = imp.tensor(op.inputs[0])
    starts, ends, steps, axes = [], [], [], []
    for axis, (start, step, count) in enumerate(plan):
        dim = x.shape[axis]
        if (start, step, count) == (0, 1, dim):
            continue
        stop = start + step * count
        axes.append(axis)
        starts.append(start)
        steps.append(step)
        # ONNX Slice reads a negative end as counted from the end: "before index 0" is -(dim + 1).
        ends.append(stop if stop >= 0 else -(dim + 1))
    sliced_shape = tuple(c for _, _, c in plan)
    out = imp.output(op)
    source = imp.name(op.inputs[0])
    if axes:
        target = out if sliced_shape == final else imp.fresh(f"{out}_sliced")
        imp.add(Node("Slice", op.name, (source,), (target,),
                     {"starts": starts, "ends": ends, "axes": axes, "steps": steps}), op)
        source = target
    if source != out:
        imp.add(Node("Reshape", imp.fresh(f"{op.name}_shape"), (source,), (out,),
                     {"shape": list(final), "allowzero": 1}), op)


def _strided_slice(imp: _Importer, op: _Op) -> None:
    o = op.options
    x = imp.tensor(op.inputs[0])
    begin = _ints(_const_input(imp, op, 1, "begin"))
    end = _ints(_const_input(imp, op, 2, "end"))
    strides = _ints(_const_input(imp, op, 3, "strides")) if len(op.inputs) > 3 else [1] * len(begin)
    rank = len(x.shape)
    if not len(begin) == len(end) == len(strides) or len(begin) > rank:
        raise _fail(op, f"begin {begin}, end {end} and strides {strides} do not fit rank {rank}")
    if o is not None and (o.EllipsisMask() or o.NewAxisMask()):
        raise _fail(op, "ellipsis_mask and new_axis_mask are not supported")
    begin_mask, end_mask = (o.BeginMask(), o.EndMask()) if o is not None else (0, 0)
    shrink = o.ShrinkAxisMask() if o is not None else 0
    offset = bool(o.Offset()) if o is not None else False
    plan, final = [], []
    for axis in range(rank):
        dim = x.shape[axis]
        if axis >= len(begin):
            plan.append((0, 1, dim))
            final.append(dim)
            continue
        step = strides[axis]
        if step == 0:
            raise _fail(op, "strides must not be 0")
        lo, hi = (0, dim) if step > 0 else (-1, dim - 1)
        start = begin[axis]
        if begin_mask >> axis & 1:
            start = lo if step > 0 else hi
        elif start < 0:
            start += dim
        start = min(max(start, lo), hi)
        if shrink >> axis & 1:
            if not 0 <= start < dim:
                raise _fail(op, f"shrunk axis {axis} index {begin[axis]} is out of range for size {dim}")
            plan.append((start, 1, 1))
            continue
        stop = end[axis] + (begin[axis] if offset else 0)
        if end_mask >> axis & 1:
            stop = hi if step > 0 else lo
        elif stop < 0:
            stop += dim
        stop = min(max(stop, lo), hi)
        count = max(0, -(-(stop - start) // step))
        plan.append((start if count else 0, step, count))
        final.append(count)
    if any(c == 0 for _, _, c in plan):
        raise _fail(op, "an empty slice is not supported")
    _slice_node(imp, op, plan, tuple(final))


def _slice(imp: _Importer, op: _Op) -> None:
    x = imp.tensor(op.inputs[0])
    begin = _ints(_const_input(imp, op, 1, "begin"))
    size = _ints(_const_input(imp, op, 2, "size"))
    if len(begin) != len(x.shape) or len(size) != len(x.shape):
        raise _fail(op, f"begin {begin} and size {size} do not fit rank {len(x.shape)}")
    plan = []
    for axis, (dim, b, s) in enumerate(zip(x.shape, begin, size)):
        count = dim - b if s == -1 else s
        if b < 0 or count < 1 or b + count > dim:
            raise _fail(op, f"begin {b} and size {s} are out of range for axis {axis} of size {dim}")
        plan.append((b, 1, count))
    _slice_node(imp, op, plan, tuple(c for _, _, c in plan))


def _split(imp: _Importer, op: _Op) -> None:
    if op.code == "SPLIT":
        axis_value, data = _const_input(imp, op, 0, "the axis"), op.inputs[1]
    else:
        axis_value, data = _const_input(imp, op, 2, "the axis"), op.inputs[0]
    x = imp.tensor(data)
    axis = _ints(axis_value)[0]
    rank = len(x.shape)
    if not -rank <= axis < rank:
        raise _fail(op, f"axis {axis} out of range for rank {rank}")
    axis %= rank
    dim = x.shape[axis]
    n = len(op.outputs)
    if op.code == "SPLIT":
        if dim % n:
            raise _fail(op, f"axis of size {dim} does not split into {n} equal parts")
        sizes = [dim // n] * n
    else:
        sizes = _ints(_const_input(imp, op, 1, "the split sizes"))
        if sizes.count(-1) == 1:
            sizes[sizes.index(-1)] = dim - (sum(sizes) + 1)
        if len(sizes) != n or sum(sizes) != dim or any(s < 0 for s in sizes):
            raise _fail(op, f"split sizes {sizes} do not split an axis of size {dim} into {n} parts")
    outputs = tuple(imp.output(op, k) for k in range(n))
    imp.add(Node("Split", op.name, (imp.name(data),), outputs, {"axis": axis, "split": sizes}), op)


def _transpose(imp: _Importer, op: _Op) -> None:
    perm = _ints(_const_input(imp, op, 1, "the permutation"))
    imp.add(Node("Transpose", op.name, (imp.name(op.inputs[0]),), (imp.output(op),), {"perm": perm}), op)


def _dequantize(imp: _Importer, op: _Op) -> None:
    index = op.inputs[0]
    value = imp.raw_value(index) if index not in imp.sg.names else imp.tensor(index).data
    if value is None:
        x = _int8_input(imp, op, 0)
        if x.dtype != DType.INT8:
            raise _fail(op, f"dequantizing {x.dtype.value} activations is not supported (int8 only)")
        imp.add(Node("TFLiteDequantize", op.name, (imp.name(index),), (imp.output(op),), {"x_quant": x.quant}), op)
        return
    name = imp.output(op)
    imp.tensors[name] = const_tensor(name, _dequantized(value, imp.tensor_quant(index), op, "the input"))


def _quantize(imp: _Importer, op: _Op) -> None:
    x = imp.tensor(op.inputs[0])
    y_quant = imp.tensor_quant(op.outputs[0])
    _, y_type = imp._declared_type(imp.sg, op.outputs[0])
    if y_type != DType.INT8 or y_quant is None or len(y_quant.scale) != 1:
        raise _fail(op, "only quantizing to per-tensor int8 is supported")
    if x.dtype == DType.FLOAT32:
        imp.add(Node("TFLiteQuantize", op.name, (imp.name(op.inputs[0]),), (imp.output(op),), {"y_quant": y_quant}), op)
    elif x.dtype == DType.INT8:
        _qunary(imp, op)
    else:
        raise _fail(op, f"quantizing {x.dtype.value} is not supported (float32, int8)")


def _resize_bilinear(imp: _Importer, op: _Op) -> None:
    x = imp.tensor(op.inputs[0])
    if x.dtype != DType.INT8:
        _require_float(imp, op, 0)
    size = _ints(_const_input(imp, op, 1, "the size"))
    if len(x.shape) != 4 or len(size) != 2 or min(size) < 1:
        raise _fail(op, f"input {list(x.shape)} and size {size} are not an NHWC image and 2 positive sizes")
    align, half = bool(op.options.AlignCorners()), bool(op.options.HalfPixelCenters())
    if align and half:
        raise _fail(op, "align_corners and half_pixel_centers cannot both be set")
    if x.dtype == DType.INT8:
        attrs = {"sizes": size, "align_corners": int(align), "half_pixel_centers": int(half)}
        imp.add(Node("TFLiteResizeBilinear", op.name, (imp.name(op.inputs[0]),), (imp.output(op),), attrs), op)
        return
    coord = "align_corners" if align else ("half_pixel" if half else "asymmetric")
    attrs = {"mode": "linear", "coordinate_transformation_mode": coord, "axes": [1, 2], "sizes": size}
    imp.add(Node("Resize", op.name, (imp.name(op.inputs[0]),), (imp.output(op),), attrs), op)


def nearest_indices(in_size: int, out_size: int, align_corners: bool, half_pixel: bool) -> np.ndarray:
    """TFLite's nearest-neighbour source index of each output position, in float32 as its
    reference kernel computes it."""
    if align_corners and out_size > 1:
        scale = np.float32(in_size - 1) / np.float32(out_size - 1)
    else:
        scale = np.float32(in_size) / np.float32(out_size)
    offset = np.float32(0.5 if half_pixel else 0.0)
    position = (np.arange(out_size, dtype=np.float32) + offset) * scale
    index = np.floor(position)
    if align_corners:  # round half away from zero (the values are not negative)
        index = index + (position - index >= np.float32(0.5))
    index = np.minimum(index.astype(np.int64), in_size - 1)
    if half_pixel:
        index = np.maximum(index, 0)
    return index.astype(np.int32)


def _resize_nearest(imp: _Importer, op: _Op) -> None:
    """A Gather per resized axis with TFLite's source indices: exact for every type."""
    x = imp.tensor(op.inputs[0])
    size = _ints(_const_input(imp, op, 1, "the size"))
    if len(x.shape) != 4 or len(size) != 2 or min(size) < 1:
        raise _fail(op, f"input {list(x.shape)} and size {size} are not an NHWC image and 2 positive sizes")
    align, half = bool(op.options.AlignCorners()), bool(op.options.HalfPixelCenters())
    out = imp.output(op)
    source = imp.name(op.inputs[0])
    steps = [(axis, nearest_indices(x.shape[axis], size[axis - 1], align, half)) for axis in (1, 2)]
    steps = [(axis, idx) for axis, idx in steps if not np.array_equal(idx, np.arange(x.shape[axis]))]
    if not steps:
        imp.add(Node("Reshape", op.name, (source,), (out,), {"shape": list(x.shape), "allowzero": 1}), op)
        return
    for k, (axis, idx) in enumerate(steps):
        target = out if k == len(steps) - 1 else imp.fresh(f"{out}_rows")
        name = op.name if k == len(steps) - 1 else imp.fresh(f"{op.name}_rows")
        imp.add(Node("Gather", name, (source, imp.const(f"{op.name}_index{axis}", idx)), (target,), {"axis": axis}), op)
        source = target


# --- resource variables


def _var_handle(imp: _Importer, op: _Op) -> None:
    o = op.options
    container = _decode(o.Container()) if o is not None else ""
    shared = _decode(o.SharedName()) if o is not None else ""
    key = f"{container}/{shared}" if shared or container else f"anonymous{op.index}@{imp.sg.index}"
    if key not in imp.variables:
        imp.variables[key] = _Variable(shared or f"variable{len(imp.variables)}")
    imp.sg.resources[op.outputs[0]] = key


def _variable(imp: _Importer, op: _Op) -> _Variable:
    key = imp.sg.resources.get(op.inputs[0])
    if key is None:
        raise _fail(op, "the resource does not come from a VAR_HANDLE")
    return imp.variables[key]


def _read_variable(imp: _Importer, op: _Op) -> None:
    var = _variable(imp, op)
    if imp.sg.initialiser:
        if var.init is None:
            raise _fail(op, f"variable '{var.label}' is read before the initialiser assigns it")
        imp.bind(op.outputs[0], imp.const(f"{var.label}_init", var.init, var.init_quant))
        return
    if var.current is None:
        shape, dtype = imp._declared_type(imp.sg, op.outputs[0])
        if var.init is not None:
            shape = tuple(var.init.shape)
        if dtype is None:
            raise _fail(op, f"variable '{var.label}' has an unsupported element type")
        name = imp.fresh(var.label)
        imp.tensors[name] = Tensor(name, tuple(shape), dtype, quant=imp.tensor_quant(op.outputs[0]))
        var.state = var.current = name
    imp.bind(op.outputs[0], var.current)


def _assign_variable(imp: _Importer, op: _Op) -> None:
    var = _variable(imp, op)
    value = imp.name(op.inputs[1])
    tensor = imp.tensors[value]
    if imp.sg.initialiser:
        if tensor.data is None:
            raise _fail(op, f"the initial value of variable '{var.label}' is not a constant")
        var.init, var.init_quant = tensor.data, tensor.quant
        return
    if var.state is None:
        name = imp.fresh(var.label)
        imp.tensors[name] = Tensor(name, tensor.shape, tensor.dtype, quant=tensor.quant)
        var.state = name
    var.current = value


def _call_once(imp: _Importer, op: _Op) -> None:
    index = int(op.options.InitSubgraphIndex()) if op.options is not None else -1
    if not 0 < index < imp.model.SubgraphsLength():
        raise _fail(op, f"initialiser subgraph {index} does not exist")
    if imp.sg.initialiser:
        raise _fail(op, "a CALL_ONCE inside an initialiser is not supported")
    if index in imp.called:
        return
    imp.called.add(index)
    imp._subgraph(_Subgraph(index, imp.model.Subgraphs(index), initialiser=True))


def _checked(handler: Callable[[_Importer, _Op], None]) -> Callable[[_Importer, _Op], None]:
    def run(imp: _Importer, op: _Op) -> None:
        handler(imp, op)
        imp.check_outputs(op)

    return run


_HANDLERS: dict[str, Callable[[_Importer, _Op], None]] = {
    name: _checked(handler) for name, handler in {
        "CONV_2D": _conv_2d,
        "DEPTHWISE_CONV_2D": _depthwise_conv_2d,
        "FULLY_CONNECTED": _fully_connected,
        "AVERAGE_POOL_2D": _pool("AveragePool"),
        "MAX_POOL_2D": _pool("MaxPool"),
        "ADD": _binary("Add"),
        "SUB": _binary("Sub"),
        "MUL": _binary("Mul"),
        "DIV": _binary("Div"),
        "MAXIMUM": _binary("Max", arithmetic=False),
        "MINIMUM": _binary("Min", arithmetic=False),
        "MEAN": _mean,
        "SUM": _mean,
        "SOFTMAX": _softmax,
        "LOGISTIC": _unary("Sigmoid"),
        "TANH": _unary("Tanh"),
        "RELU": _unary("Relu"),
        "RELU6": _unary("Clip", lambda op: {"min": 0.0, "max": 6.0}),
        "RELU_N1_TO_1": _unary("Clip", lambda op: {"min": -1.0, "max": 1.0}),
        "RELU_0_TO_1": _unary("Clip", lambda op: {"min": 0.0, "max": 1.0}),
        "LEAKY_RELU": _unary("LeakyRelu", lambda op: {"alpha": float(np.float32(op.options.Alpha()))}),
        "HARD_SWISH": _unary("HardSwish"),
        "PRELU": _prelu,
        "RESHAPE": _reshape,
        "SQUEEZE": _squeeze,
        "EXPAND_DIMS": _expand_dims,
        "CONCATENATION": _concatenation,
        "PAD": _pad,
        "PADV2": _pad,
        "STRIDED_SLICE": _strided_slice,
        "SLICE": _slice,
        "SPLIT": _split,
        "SPLIT_V": _split,
        "TRANSPOSE": _transpose,
        "QUANTIZE": _quantize,
        "DEQUANTIZE": _dequantize,
        "RESIZE_BILINEAR": _resize_bilinear,
        "RESIZE_NEAREST_NEIGHBOR": _resize_nearest,
        "VAR_HANDLE": _var_handle,
        "READ_VARIABLE": _read_variable,
        "ASSIGN_VARIABLE": _assign_variable,
        "CALL_ONCE": _call_once,
    }.items()
}
