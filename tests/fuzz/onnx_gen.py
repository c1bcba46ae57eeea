"""Hypothesis strategies for valid-ish ONNX models, built with onnx.helper (never checked).

A model is 1-4 random ops from the set tinyaot supports, each with inputs drawn from earlier
tensors, fresh initializers (shapes derived from the data input's, random dtypes, NaN / Inf
values), absent ("") or dangling names and later outputs (cycles), and with attributes drawn
by their schema type (small values mostly; negative, zero and huge ones sometimes). Shapes
include zero, negative and huge dimensions.
"""

from __future__ import annotations

import numpy as np
import onnx
from hypothesis import strategies as st
from onnx import TensorProto, defs, helper, numpy_helper

from tinyaot.ops import OPS

MS_OPS = ("QGemm", "QLinearAdd", "QLinearMul", "QLinearAveragePool", "QLinearGlobalAveragePool", "QLinearConcat",
          "QLinearSigmoid", "QLinearLeakyRelu", "QLinearSoftmax", "QuantizeLinear", "DequantizeLinear")
ONNX_OPS = tuple(sorted(op for op in set(OPS) | {"Constant", "Shape", "Size", "QLinearMatMul"} if defs.has(op)))
OPSETS = (7, 9, 11, 13, 17, 18, 21, 22)

ELEM_TYPES = (TensorProto.FLOAT, TensorProto.INT8, TensorProto.UINT8, TensorProto.INT32, TensorProto.INT64,
              TensorProto.BOOL, TensorProto.FLOAT16, TensorProto.DOUBLE, TensorProto.INT16, TensorProto.STRING)
STRINGS = ("NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID", "constant", "reflect", "edge", "wrap", "nearest", "linear",
           "cubic", "DCR", "CRD", "half_pixel", "asymmetric", "align_corners", "pytorch_half_pixel",
           "tf_crop_and_resize", "round_prefer_floor", "floor", "ceil", "none", "tanh", "stretch", "bogus", "")

small_ints = st.integers(-2, 4)
odd_ints = st.sampled_from([0, -1, -7, 2**31 - 1, 2**31, 2**40, -(2**63), 2**63 - 1])
dims = st.one_of(st.integers(1, 6), st.integers(1, 6), st.integers(1, 6), st.sampled_from([0, -1, 2**30, 2**31 - 1, 2**31, 2**40]))


def shapes(max_rank: int = 5):
    return st.lists(dims, min_size=0, max_size=max_rank).map(tuple)


def values(shape: tuple[int, ...], elem: int, data: st.DataObject) -> np.ndarray | None:
    """An array of `shape`; None when the shape cannot be an initializer here (too big)."""
    if any(d < 0 or d > 4096 for d in shape) or int(np.prod(shape, dtype=object)) > 4096:
        return None
    kind = data.draw(st.sampled_from(["normal", "normal", "ints", "special"]))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    base = rng.standard_normal(shape)
    if kind == "ints":
        base = rng.integers(-3, 6, size=shape)
    elif kind == "special":
        base = np.where(rng.random(shape) < 0.3, rng.choice([np.nan, np.inf, -np.inf, 0.0, 1e38]), base)
    np_type = helper.tensor_dtype_to_np_dtype(elem)
    if elem == TensorProto.STRING:
        return np.array(["s"] * int(np.prod(shape)), dtype=object).reshape(shape)
    with np.errstate(all="ignore"):
        if np.issubdtype(np_type, np.integer):
            info = np.iinfo(np_type)
            base = np.clip(np.nan_to_num(base, posinf=info.max, neginf=info.min), info.min, info.max)
        return base.astype(np_type)


def _attr(name: str, kind, rank: int, data: st.DataObject):
    A = defs.OpSchema.AttrType
    if name == "to":
        return data.draw(st.sampled_from(ELEM_TYPES))
    if kind == A.INT:
        return data.draw(st.one_of(small_ints, small_ints, st.integers(0, rank), odd_ints))
    if kind == A.INTS:
        length = data.draw(st.sampled_from([rank, rank, 2 * max(rank - 2, 0), max(rank - 2, 0), 1, 0]))
        return data.draw(st.lists(st.one_of(small_ints, small_ints, small_ints, odd_ints), min_size=length,
                                  max_size=length))
    if kind == A.FLOAT:
        return data.draw(st.one_of(st.floats(-3, 3, width=32), st.sampled_from([0.0, float("nan"), float("inf"), 1e30])))
    if kind == A.FLOATS:
        return data.draw(st.lists(st.floats(-2, 4, width=32), max_size=max(rank, 1)))
    if kind == A.STRING:
        return data.draw(st.sampled_from(STRINGS))
    if kind == A.STRINGS:
        return data.draw(st.lists(st.sampled_from(STRINGS), max_size=2))
    if kind == A.TENSOR:
        shape = data.draw(shapes(2).filter(lambda s: all(0 <= d <= 6 for d in s)))
        return numpy_helper.from_array(values(shape, data.draw(st.sampled_from(ELEM_TYPES[:5])), data))
    return None


def _schema(op: str, opset: int, domain: str):
    try:
        return defs.get_schema(op, opset, domain)
    except Exception:
        return defs.get_schema(op, domain=domain) if defs.has(op, domain) else None


def _param(shape: tuple[int, ...], data: st.DataObject, name: str, inits: list) -> str:
    """A fresh initializer whose shape relates to the data input's `shape`."""
    rank = len(shape)
    choice = data.draw(st.integers(0, 7))
    elem = TensorProto.FLOAT
    if choice == 0:
        new = shape
    elif choice == 1:  # broadcastable
        new = tuple(1 for _ in shape[:-1]) + shape[-1:]
    elif choice == 2:  # conv-like weights [M, C, k, k]
        channels = shape[1] if rank > 1 else 1
        k = data.draw(st.integers(1, 3))
        new = (data.draw(st.integers(1, 4)), channels) + (k,) * max(rank - 2, 0)
    elif choice == 3:  # per-channel vector
        new = (shape[1] if rank > 1 else 1,)
    elif choice in (4, 5):  # int64 parameters: shape, pads, axes, starts, repeats ...
        elem = TensorProto.INT64
        length = data.draw(st.sampled_from([rank, 2 * rank, 1, max(rank - 1, 1)]))
        pool = list(shape) + [-1, 0, 1, 2] if shape else [-1, 0, 1, 2]
        array = np.array(data.draw(st.lists(st.one_of(st.sampled_from(pool), odd_ints) if choice == 5
                                            else st.sampled_from(pool), min_size=length, max_size=length)),
                         np.int64)
        inits.append(numpy_helper.from_array(array, name))
        return name
    elif choice == 6:  # scalar of some type
        new = ()
        elem = data.draw(st.sampled_from(ELEM_TYPES[:9]))
    else:
        new = data.draw(shapes(4))
        elem = data.draw(st.sampled_from(ELEM_TYPES))
    array = values(tuple(new), elem, data)
    if array is None:
        # Declared dims without data (a huge or negative initializer, or a missing payload).
        tensor = TensorProto(name=name, data_type=elem)
        tensor.dims.extend(max(d, -(2**62)) for d in new)
        inits.append(tensor)
    else:
        inits.append(numpy_helper.from_array(array, name))
    return name


@st.composite
def onnx_models(draw) -> bytes:
    data = draw(st.data())
    opset = draw(st.sampled_from(OPSETS + (5, 30)) if draw(st.integers(0, 19)) == 0 else st.sampled_from(OPSETS))
    inits: list = []
    graph_inputs = []
    avail: list[tuple[str, tuple[int, ...]]] = []
    for i in range(draw(st.integers(1, 2))):
        shape = draw(st.one_of(st.lists(st.integers(1, 5), min_size=1, max_size=4).map(tuple), shapes()))
        elem = draw(st.sampled_from([TensorProto.FLOAT] * 6 + list(ELEM_TYPES)))
        dims_or_none = None if draw(st.integers(0, 30)) == 0 else [d if d >= 0 else "N" for d in shape]
        graph_inputs.append(helper.make_tensor_value_info(f"in{i}", elem, dims_or_none))
        avail.append((f"in{i}", shape))
    nodes = []
    produced: list[str] = []
    n_nodes = draw(st.integers(1, 4))
    for k in range(n_nodes):
        ms = draw(st.integers(0, 9)) == 0
        op = draw(st.sampled_from(MS_OPS if ms else ONNX_OPS))
        domain = "com.microsoft" if ms else ""
        schema = _schema(op, opset, domain)
        src, shape = avail[-1 - draw(st.integers(0, min(2, len(avail) - 1)))]
        n_min = schema.min_input if schema else 1
        n_max = min(schema.max_input, n_min + 2) if schema else 3
        inputs = []
        for slot in range(draw(st.integers(n_min, max(n_min, n_max)))):
            how = draw(st.integers(0, 29))
            if slot == 0 and how < 25:
                inputs.append(src)
            elif how < 6:
                inputs.append(draw(st.sampled_from(avail))[0])
            elif how < 26:
                inputs.append(_param(shape, data, f"p{k}_{slot}", inits))
            elif how == 26:
                inputs.append("")
            elif how == 27:
                inputs.append(f"dangling{k}")
            else:
                inputs.append(f"t{k + 1}_0")  # a later node's output: a cycle
        attrs = {}
        if schema is not None:
            for name, attr in schema.attributes.items():
                if draw(st.integers(0, 3)) == 0 or (attr.required and draw(st.integers(0, 9)) > 0):
                    value = _attr(name, attr.type, len(shape), data)
                    if value is not None:
                        attrs[name] = helper.make_attribute(name, value, attr_type=attr.type)
        n_out = 1 if not schema else draw(st.integers(schema.min_output, max(schema.min_output, min(schema.max_output, 3))))
        outputs = [f"t{k}_{j}" for j in range(n_out)]
        if produced and draw(st.integers(0, 24)) == 0:
            outputs[0] = draw(st.sampled_from(produced))  # written twice
        name = draw(st.sampled_from([f"n{k}", "", "n0", "a b/c\"d"]))
        node = helper.make_node(op, inputs, outputs, name=name, domain=domain)
        node.attribute.extend(attrs.values())
        nodes.append(node)
        produced.extend(outputs)
        avail.extend((o, shape) for o in outputs)
    outs = [produced[-1]]
    if draw(st.integers(0, 5)) == 0:
        outs.append(draw(st.sampled_from(produced + ["in0", "missing"])))
    graph = helper.make_graph(nodes, "fuzz", graph_inputs, [helper.make_tensor_value_info(o, TensorProto.FLOAT, None)
                                                            for o in outs], inits)
    imports = [helper.make_opsetid("", opset)] + ([helper.make_opsetid("com.microsoft", 1)]
                                                 if any(n.domain for n in nodes) else [])
    model = helper.make_model(graph, opset_imports=imports, ir_version=8)
    return model.SerializeToString()



@st.composite
def real_model_edits(draw, model_bytes: bytes) -> bytes:
    """A real model with 1-3 structural edits: input dims, attribute values, initializers
    (dropped, NaN / Inf, another dtype), dangling or cyclic inputs, duplicated or retyped nodes."""
    model = onnx.load_from_string(model_bytes)
    graph = model.graph
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.integers(0, 8))
        nodes = graph.node
        k = draw(st.integers(0, len(nodes) - 1))
        if kind == 0 and graph.input:
            dims = graph.input[0].type.tensor_type.shape.dim
            if dims:
                dims[draw(st.integers(0, len(dims) - 1))].dim_value = draw(st.sampled_from([0, 1, 3, 2**31, 2**40]))
        elif kind == 1 and nodes[k].attribute:
            attr = nodes[k].attribute[draw(st.integers(0, len(nodes[k].attribute) - 1))]
            if attr.type == onnx.AttributeProto.INT:
                attr.i = draw(st.one_of(small_ints, odd_ints))
            elif attr.type == onnx.AttributeProto.INTS and attr.ints:
                attr.ints[draw(st.integers(0, len(attr.ints) - 1))] = draw(st.one_of(small_ints, odd_ints))
            elif attr.type == onnx.AttributeProto.FLOAT:
                attr.f = draw(st.sampled_from([0.0, -1.0, float("nan"), float("inf")]))
        elif kind == 2 and graph.initializer:
            del graph.initializer[draw(st.integers(0, len(graph.initializer) - 1))]
        elif kind in (3, 4) and graph.initializer:
            index = draw(st.integers(0, len(graph.initializer) - 1))
            old = graph.initializer[index]
            value = numpy_helper.to_array(old)
            if kind == 3 and value.dtype.kind == "f" and value.size:
                value = value.copy()
                value.reshape(-1)[draw(st.integers(0, value.size - 1))] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
            else:
                value = value.astype(draw(st.sampled_from([np.float16, np.float64, np.int32, np.int8, np.uint8, np.bool_])))
            graph.initializer[index].CopyFrom(numpy_helper.from_array(value, old.name))
        elif kind == 5 and nodes[k].input:
            nodes[k].input[draw(st.integers(0, len(nodes[k].input) - 1))] = draw(
                st.sampled_from(["dangling", nodes[-1].output[0], ""]))
        elif kind == 6:
            graph.node.append(onnx.NodeProto())
            graph.node[-1].CopyFrom(nodes[k])
        elif kind == 7:
            nodes[k].op_type = draw(st.sampled_from(ONNX_OPS))
        elif kind == 8 and nodes[k].output:
            nodes[k].output[0] = draw(st.sampled_from([graph.input[0].name if graph.input else "x", "",
                                                       nodes[0].output[0]]))
    return model.SerializeToString()
