"""ONNX model file -> IR Graph.

Reads the model with the `onnx` package, fills in every attribute default from the op
schema, turns constant parameter inputs into attributes (see onnx_params.py), folds
constant subgraphs (Shape -> Gather -> Concat -> Reshape chains) while importing, and
infers every tensor's static shape with our own per-op rules.
"""

from __future__ import annotations

import os
import re
from typing import Mapping, Sequence

import numpy as np

from tinyaot.errors import TinyaotError
from tinyaot.frontends.onnx_params import normalize_node
from tinyaot.frontends.onnx_quant import QuantImporter, is_quant_op
from tinyaot.ir import MAX_ELEMENTS, DType, Graph, Node, Tensor, const_tensor
from tinyaot.ops import OPS
from tinyaot.ops.base import OpDef

SUPPORTED_OPSETS = range(7, 23)
# ONNX ops that only ever compute constants (shapes); evaluated here, never emitted.
_SHAPE_OPS = {"Shape", "Size"}


def check_element_count(what: str, shape: Sequence[int]) -> None:
    """Refuse an absurd tensor (the planner and the C would otherwise overflow) up front."""
    if np.prod(shape, dtype=object) > MAX_ELEMENTS:
        raise TinyaotError(f"{what}: shape {list(shape)} holds 2^31 or more elements (at most 2^31 - 1)")


def parse_input_shapes(specs: Sequence[str]) -> dict[str, tuple[int, ...]]:
    """Parse --input-shape NAME=1x3x32x32 options."""
    shapes: dict[str, tuple[int, ...]] = {}
    for spec in specs:
        name, sep, dims = spec.rpartition("=")
        if not sep or not name or not re.fullmatch(r"\d+(x\d+)*", dims):
            raise TinyaotError(f"--input-shape '{spec}' is not of the form NAME=1x3x32x32")
        shape = tuple(int(d) for d in dims.split("x"))
        # Kernels index with int32_t: every size, and the element count, must fit.
        if any(d < 1 for d in shape) or np.prod(shape, dtype=object) >= 2**31:
            raise TinyaotError(f"--input-shape '{spec}': dimensions must be at least 1 and hold fewer than 2^31 elements")
        shapes[name] = shape
    return shapes


def load_onnx(path: str | os.PathLike, input_shapes: Mapping[str, tuple[int, ...]] | None = None) -> Graph:
    import onnx

    try:
        model = onnx.load(os.fspath(path))
    except FileNotFoundError:
        raise TinyaotError(f"{path}: no such file")
    except Exception as exc:  # protobuf raises several types for a damaged file
        raise TinyaotError(f"{path}: not a readable ONNX model ({type(exc).__name__}: {_one_line(exc)})")
    if not model.HasField("graph") and not model.opset_import:
        raise TinyaotError(f"{path}: not an ONNX model (the file holds no graph)")
    name = os.path.splitext(os.path.basename(os.fspath(path)))[0]
    return import_model(model, name, dict(input_shapes or {}))


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:200] if text else type(exc).__name__


def import_model(model, name: str, input_shapes: dict[str, tuple[int, ...]]) -> Graph:
    from onnx import helper, numpy_helper

    model = _upgrade_old_opset(model)
    opset = _default_opset(model)
    graph = model.graph
    tensors: dict[str, Tensor] = {}
    for init in graph.initializer:
        try:
            value = numpy_helper.to_array(init)
        except Exception as exc:
            raise TinyaotError(f"initializer '{init.name}': cannot be read ({_one_line(exc)})")
        tensors[init.name] = _const(init.name, value)

    # opset < 9 lists initializers as inputs too
    input_infos = [vi for vi in graph.input if vi.name not in tensors]
    inputs: list[str] = [vi.name for vi in input_infos]
    _check_unique("graph input", inputs)
    unknown = sorted(set(input_shapes) - set(inputs))
    if unknown:
        raise TinyaotError(
            f"--input-shape names unknown input(s) {', '.join(unknown)}; the model's inputs are "
            f"{', '.join(inputs) or '(none)'}"
        )
    for value_info in input_infos:
        shape, dtype = _value_info_type(value_info, input_shapes)
        check_element_count(f"input '{value_info.name}'", shape)
        tensors[value_info.name] = Tensor(value_info.name, shape, dtype)

    nodes: list[Node] = []
    unsupported: dict[str, list[str]] = {}
    used_names: set[str] = set()
    quantized = QuantImporter(tensors)
    written = set(tensors)  # SSA: each tensor is defined once (initializer, graph input or node output)
    for index, proto in enumerate(_topological(graph)):
        node_name = _unique(proto.name or f"{proto.op_type}_{index}", used_names)
        is_quant = is_quant_op(proto.domain, proto.op_type)
        if proto.domain not in ("", "ai.onnx") and not is_quant:
            unsupported.setdefault(f"{proto.domain}.{proto.op_type}", []).append(node_name)
            continue
        attrs = {a.name: _attr_value(helper, a) for a in proto.attribute}
        node = Node(proto.op_type, node_name, tuple(proto.input), tuple(proto.output), attrs)
        if node.op == "Constant":
            tensors[node.outputs[0]] = _const(node.outputs[0], _constant_value(node))
            continue
        if node.op in _SHAPE_OPS and node.inputs and node.inputs[0] in tensors:
            tensors[node.outputs[0]] = _const(node.outputs[0], _shape_op(node, tensors[node.inputs[0]]))
            continue
        opdef = OPS.get(node.op)
        if opdef is None and not is_quant:
            unsupported.setdefault(node.op, []).append(node_name)
            continue
        if unsupported:
            continue  # keep collecting unsupported ops; shapes past them are unknowable
        _check_arity(node, opset, proto.domain)
        for out in node.outputs:
            if out in written:
                raise TinyaotError(f"node '{node_name}' ({node.op}): output '{out}' is already defined (a tensor is "
                                   "written once)")
            written.update([out] if out else [])
        for inp in node.inputs:
            if inp and inp not in tensors:
                raise TinyaotError(f"node '{node_name}' ({node.op}): input '{inp}' is not defined by any node, initializer or graph input")
        node = _with_schema_defaults(node, opset)
        # Quantization ops expand to the IR's int8 ops (frontends/onnx_quant.py).
        for ir_node in quantized.expand(node, opset) if is_quant else [normalize_node(node, opset, tensors)]:
            ir_opdef = OPS[ir_node.op]
            if ir_opdef.to_nhwc is not None and "layout" not in ir_node.attrs:
                ir_node = ir_node.with_attrs(layout="NCHW")
            _add_node(ir_node, ir_opdef, tensors, nodes)

    if unsupported:
        listing = "; ".join(f"{op} ({_node_list(names)})" for op, names in sorted(unsupported.items()))
        raise TinyaotError(f"unsupported op(s): {listing}")

    outputs = tuple(vi.name for vi in graph.output)
    _check_unique("graph output", outputs)
    for out in outputs:
        if out not in tensors:
            raise TinyaotError(f"graph output '{out}' is not produced by any node")
    quantized.finish(nodes, outputs)
    result = Graph(_c_safe(name), tensors, tuple(nodes), tuple(inputs), outputs)
    return result.pruned()


def _check_unique(what: str, names: Sequence[str]) -> None:
    repeated = sorted({n for n in names if list(names).count(n) > 1})
    if repeated:
        raise TinyaotError(f"{what} '{repeated[0]}' is listed more than once")


def _check_arity(node: Node, opset: int, domain: str) -> None:
    """Input and output counts within the op schema's, and every required input given (an
    empty name is an absent optional input). Quantization ops of com.microsoft are checked
    by frontends/onnx_quant.py."""
    from onnx import defs

    if domain not in ("", "ai.onnx"):
        return
    try:
        schema = defs.get_schema(node.op, opset, "")
    except Exception:  # an op newer than the model's opset: check it in its latest form
        if not defs.has(node.op):
            return
        schema = defs.get_schema(node.op, defs.onnx_opset_version(), "")
    for what, names, low, high, formals in (("inputs", node.inputs, schema.min_input, schema.max_input, schema.inputs),
                                            ("outputs", node.outputs, schema.min_output, schema.max_output,
                                             schema.outputs)):
        if not low <= len(names) <= high:
            expected = f"{low}" if low == high else f"{low} to {high}" if high < 2**31 - 1 else f"at least {low}"
            raise TinyaotError(f"node '{node.name}' ({node.op}): {len(names)} {what}, the op takes {expected}")
        for i, formal in enumerate(formals):
            if what == "inputs" and formal.option == defs.OpSchema.FormalParameterOption.Single and (
                    i >= len(names) or not names[i]):
                raise TinyaotError(f"node '{node.name}' ({node.op}): input {i} ('{formal.name}') is required")


def _add_node(node: Node, opdef: OpDef, tensors: dict[str, Tensor], nodes: list[Node]) -> None:
    ins = [tensors[i] if i else None for i in node.inputs]
    present = [t for t in ins if t is not None]
    if present and all(t.is_const for t in present):
        _check_folded_size(node, opdef, ins)
        try:
            values = opdef.evaluate(node, [t.data if t is not None else None for t in ins])
        except TinyaotError:
            raise
        except Exception as exc:
            raise TinyaotError(f"node '{node.name}' ({node.op}): cannot fold constant inputs ({_one_line(exc)})")
        for out, value in zip(node.outputs, values):
            if out:
                tensors[out] = _const(out, np.asarray(value))
        if opdef.foldable:
            return
        # Not folded (DequantizeLinear of int8 weights, for passes/qdq.py): the node stays and
        # its output also carries the value, so that the ops reading it see a constant.
        nodes.append(node)
        return
    types = opdef.infer(node, ins)
    for out, (shape, dtype) in zip(node.outputs, types):
        if out:
            if any(d < 0 for d in shape):
                raise TinyaotError(f"node '{node.name}' ({node.op}): negative output dimension {list(shape)}")
            check_element_count(f"node '{node.name}' ({node.op}): output '{out}'", shape)
            tensors[out] = Tensor(out, tuple(int(d) for d in shape), dtype)
    nodes.append(node)


def _check_folded_size(node: Node, opdef: OpDef, ins: list[Tensor | None]) -> None:
    """Refuse an absurd folded constant before numpy allocates it (a ConstantOfShape or Expand
    to billions of elements would take gigabytes first). Where the op's shape inference cannot
    judge constant inputs, evaluation itself reports the problem."""
    try:
        types = opdef.infer(node, ins)
    except Exception:
        return
    for out, (shape, _) in zip(node.outputs, types):
        if out:
            check_element_count(f"node '{node.name}' ({node.op}): output '{out}'", shape)


def _const(name: str, value: np.ndarray) -> Tensor:
    value = np.asarray(value)
    if value.dtype == np.float64:
        value = value.astype(np.float32)
    try:
        DType.from_numpy(value.dtype)
    except ValueError:
        raise TinyaotError(f"tensor '{name}': element type {value.dtype} is not supported")
    return const_tensor(name, value)


def _upgrade_old_opset(model):
    """Models below opset 7 (PyTorch's early exporters wrote opset 6: Add with `broadcast`,
    BatchNormalization with `is_test` ...) are rewritten to opset 7 by onnx's version
    converter, so the ops only ever see the opset 7+ forms."""
    from onnx import version_converter

    versions = [e.version for e in model.opset_import if e.domain in ("", "ai.onnx")]
    if not versions or not 1 <= versions[0] < SUPPORTED_OPSETS.start:
        return model
    try:
        return version_converter.convert_version(model, SUPPORTED_OPSETS.start)
    except Exception as exc:
        raise TinyaotError(
            f"ONNX opset {versions[0]} is not supported (supported: {SUPPORTED_OPSETS.start}-"
            f"{SUPPORTED_OPSETS.stop - 1}) and onnx could not upgrade the model ({_one_line(exc)})"
        )


def _default_opset(model) -> int:
    for entry in model.opset_import:
        if entry.domain in ("", "ai.onnx"):
            if entry.version not in SUPPORTED_OPSETS:
                raise TinyaotError(
                    f"ONNX opset {entry.version} is not supported (supported: "
                    f"{SUPPORTED_OPSETS.start}-{SUPPORTED_OPSETS.stop - 1})"
                )
            return int(entry.version)
    raise TinyaotError("model imports no default ONNX opset")


def _value_info_type(value_info, input_shapes: Mapping[str, tuple[int, ...]]) -> tuple[tuple[int, ...], DType]:
    from onnx import helper

    ttype = value_info.type.tensor_type
    if not value_info.type.HasField("tensor_type"):
        raise TinyaotError(f"input '{value_info.name}' is not a tensor")
    try:
        dtype = DType.from_numpy(helper.tensor_dtype_to_np_dtype(ttype.elem_type))
    except Exception:
        raise TinyaotError(f"input '{value_info.name}': element type {_elem_type_name(ttype.elem_type)} is not supported")
    if value_info.name in input_shapes:
        given = input_shapes[value_info.name]
        if ttype.HasField("shape"):
            _check_given_shape(value_info.name, given, ttype.shape.dim)
        return given, dtype
    if not ttype.HasField("shape"):
        raise TinyaotError(
            f"input '{value_info.name}' has no shape; give it one with --input-shape {value_info.name}=1x3x32x32"
        )
    dims = []
    dynamic = False
    for dim in ttype.shape.dim:
        if dim.HasField("dim_value") and dim.dim_value > 0:
            dims.append(str(dim.dim_value))
        else:
            dynamic = True
            dims.append(dim.dim_param or "?")
    if dynamic:
        example = "x".join(d if d.isdigit() else "1" for d in dims) or "1"
        raise TinyaotError(
            f"input '{value_info.name}' has a dynamic shape [{', '.join(dims)}]; give it a static one with "
            f"--input-shape {value_info.name}={example}"
        )
    return tuple(int(d) for d in dims), dtype


def _elem_type_name(elem_type: int) -> str:
    from onnx import TensorProto

    try:
        return TensorProto.DataType.Name(elem_type)
    except ValueError:
        return str(elem_type)


def _check_given_shape(name: str, given: tuple[int, ...], dims) -> None:
    """An --input-shape must keep the model's rank and its fixed dimensions."""
    declared = [str(d.dim_value) if d.HasField("dim_value") and d.dim_value > 0 else (d.dim_param or "?") for d in dims]
    fixed_mismatch = [
        i for i, (want, got) in enumerate(zip(declared, given)) if want.isdigit() and int(want) != got
    ]
    if len(given) != len(declared) or fixed_mismatch:
        raise TinyaotError(
            f"--input-shape {name}={'x'.join(map(str, given))} does not fit the model's input shape "
            f"[{', '.join(declared)}]"
        )


def _topological(graph) -> list:
    """Nodes in an order where every input is defined first; a cycle is an error."""
    defined = {i.name for i in graph.initializer} | {i.name for i in graph.input} | {""}
    pending = list(graph.node)
    ordered = []
    while pending:
        ready = [n for n in pending if all(i in defined for i in n.input)]
        if not ready:
            stuck = pending[0]
            missing = [i for i in stuck.input if i not in defined]
            produced = {o for n in pending for o in n.output}
            if any(m in produced for m in missing):
                raise TinyaotError(f"graph has a cycle through node '{stuck.name or stuck.op_type}' ({stuck.op_type})")
            raise TinyaotError(
                f"node '{stuck.name or stuck.op_type}' ({stuck.op_type}): input '{missing[0]}' is not defined "
                "by any node, initializer or graph input"
            )
        ready_ids = {id(n) for n in ready}
        pending = [n for n in pending if id(n) not in ready_ids]
        for n in ready:
            ordered.append(n)
            defined.update(n.output)
    return ordered


def _attr_value(helper, attr):
    from onnx import TensorProto, numpy_helper

    value = helper.get_attribute_value(attr)
    if isinstance(value, TensorProto):
        return numpy_helper.to_array(value)  # ops see numpy, never ONNX protos
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, list):
        return [v.decode("utf-8", errors="replace") if isinstance(v, bytes) else v for v in value]
    return value


def _with_schema_defaults(node: Node, opset: int) -> Node:
    from onnx import defs, helper

    try:
        schema = defs.get_schema(node.op, opset, "")
    except Exception:
        return node
    defaults = {}
    for attr_name, attr in schema.attributes.items():
        if attr_name not in node.attrs and attr.default_value.type != 0:
            defaults[attr_name] = _attr_value(helper, attr.default_value)
    return node.with_attrs(**defaults) if defaults else node


def _constant_value(node: Node) -> np.ndarray:
    attrs = node.attrs
    if isinstance(attrs.get("value"), np.ndarray):
        return attrs["value"]
    for key, dtype in (("value_float", np.float32), ("value_int", np.int64)):
        if key in attrs:
            return np.array(attrs[key], dtype=dtype)
    for key, dtype in (("value_floats", np.float32), ("value_ints", np.int64)):
        if key in attrs:
            return np.array(attrs[key], dtype=dtype)
    raise TinyaotError(f"node '{node.name}' (Constant): only tensor, float and int values are supported")


def _shape_op(node: Node, x: Tensor) -> np.ndarray:
    if node.op == "Size":
        return np.array(x.size, dtype=np.int64)
    rank = len(x.shape)
    start = int(node.attrs.get("start", 0))
    end = node.attrs.get("end")
    start = max(0, min(rank, start + rank if start < 0 else start))
    stop = rank if end is None else max(0, min(rank, int(end) + rank if int(end) < 0 else int(end)))
    return np.array(x.shape[start:stop], dtype=np.int64)


def _node_list(names: list[str], shown: int = 3) -> str:
    """Node names for an error line: all of a few, the first few of many."""
    if len(names) <= shown:
        return ", ".join(names)
    return f"{len(names)} nodes: {', '.join(names[:shown])}, ..."


def _unique(name: str, used: set[str]) -> str:
    candidate, n = name, 1
    while candidate in used:
        n += 1
        candidate = f"{name}_{n}"
    used.add(candidate)
    return candidate


def _c_safe(name: str) -> str:
    safe = re.sub(r"[^0-9A-Za-z_]", "_", name)
    return safe if safe and not safe[0].isdigit() else f"m_{safe}"
