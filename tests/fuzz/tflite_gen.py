"""Hypothesis strategies for valid-ish .tflite models, written by tests/tflite/tflite_builder.py.

1-4 random builtin ops from the set the frontend handles, with options drawn field by field
from the schema's builder functions, inputs from earlier tensors, fresh constants (shapes
derived from the data input's, random types, NaN / Inf values, per-tensor or per-channel
quantization), absent (-1) or out-of-range tensor indices, and outputs declared without a
shape (the frontend then checks only their types) or with a random one.
"""

from __future__ import annotations

import importlib
import inspect
import re

import numpy as np
from hypothesis import strategies as st
from tflite_builder import OPTIONS, ModelBuilder

from tinyaot.frontends.tflite import _HANDLERS

TFLITE_OPS = tuple(sorted(_HANDLERS))
DTYPES = (np.float32, np.float32, np.float32, np.int8, np.int8, np.int32, np.uint8, np.int64, np.int16, np.bool_,
          np.float16)
STRING_FIELDS = {"Container", "SharedName"}

dims = st.one_of(st.integers(1, 6), st.integers(1, 6), st.integers(1, 6), st.sampled_from([0, -1, 2**31 - 1]))


def _fields(kind: str) -> list[tuple[str, str]]:
    """(field, flatbuffers slot type) of an options table, read off its generated builder."""
    module = importlib.import_module(f"tflite.{kind}")
    prefix = f"{kind}Add"
    fields = []
    for name in dir(module):
        if name.startswith(prefix):
            slot = re.search(r"Prepend(\w+)Slot", inspect.getsource(getattr(module, name)))
            fields.append((name[len(prefix):], slot.group(1) if slot else "?"))
    return fields


FIELDS = {code: _fields(kind) for code, kind in OPTIONS.items()}


def _array(shape: tuple[int, ...], dtype, data: st.DataObject) -> np.ndarray:
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    base = rng.standard_normal(shape) * data.draw(st.sampled_from([1.0, 1.0, 100.0]))
    if data.draw(st.integers(0, 5)) == 0:
        base = np.where(rng.random(shape) < 0.3, rng.choice([np.nan, np.inf, -np.inf, 0.0]), base)
    dtype = np.dtype(dtype)
    with np.errstate(all="ignore"):
        if dtype.kind in "iu":
            info = np.iinfo(dtype)
            base = np.clip(np.nan_to_num(base, posinf=info.max, neginf=info.min), info.min, info.max)
        return base.astype(dtype)


def _quant(dtype, channels: int, data: st.DataObject):
    if np.dtype(dtype).kind not in "iu" or data.draw(st.integers(0, 4)) == 0:
        return None
    scale = data.draw(st.sampled_from([0.05, 0.5, 0.0078125, 1e-9, 0.0, -1.0, float("nan")]))
    zero = data.draw(st.sampled_from([0, 0, -5, 3, 127, -128, 300]))
    if channels > 1 and data.draw(st.booleans()):
        return ([scale] * channels, [zero] * channels, data.draw(st.integers(0, 3)))
    return (scale, zero)


def _const(b: ModelBuilder, shape: tuple[int, ...], name: str, data: st.DataObject) -> int:
    rank = len(shape)
    choice = data.draw(st.integers(0, 5))
    dtype = np.float32
    if choice == 0:
        new = shape
    elif choice == 1:  # OHWI / 1HWO weights
        k = data.draw(st.integers(1, 3))
        new = (data.draw(st.integers(1, 4)), k, k, shape[-1] if shape else 1)
    elif choice == 2:  # bias / per-channel vector
        new = (data.draw(st.sampled_from([shape[-1] if shape else 1, 1, 3])),)
    elif choice == 3:  # int32 parameters: shape, paddings, axes, begin, size, perm ...
        length = data.draw(st.sampled_from([rank, 1, max(rank - 1, 1)]))
        pool = list(shape) + [-1, 0, 1, 2, 2**31 - 1]
        values = np.array(data.draw(st.lists(st.sampled_from(pool), min_size=length, max_size=length)), np.int32)
        if data.draw(st.integers(0, 3)) == 0:  # paddings / begin-end pairs
            values = np.array(data.draw(st.lists(st.sampled_from([0, 1, 2, -1]), min_size=2 * rank, max_size=2 * rank)),
                              np.int32).reshape(rank, 2)
        return b.const(name, values)
    else:
        new = tuple(data.draw(st.lists(st.integers(0, 5), max_size=4)))
        dtype = data.draw(st.sampled_from(DTYPES))
    if choice in (1, 2) and data.draw(st.booleans()):
        dtype = data.draw(st.sampled_from([np.int8, np.int32]))
    if any(d < 0 or d > 64 for d in new) or int(np.prod(new, dtype=object)) > 4096:
        new = (1,)  # no such constant to write; a huge shape is the input's business
    value = _array(tuple(new), dtype, data)
    return b.const(name, value, quant=_quant(dtype, int(new[0]) if new else 1, data))


@st.composite
def tflite_models(draw) -> bytes:
    data = draw(st.data())
    b = ModelBuilder()
    avail: list[tuple[int, tuple[int, ...], object]] = []
    for i in range(draw(st.integers(1, 2))):
        shape = tuple(draw(st.one_of(st.lists(st.integers(1, 5), min_size=1, max_size=4),
                                     st.lists(dims, max_size=5))))
        dtype = draw(st.sampled_from([np.float32] * 4 + [np.int8] * 3 + list(DTYPES)))
        avail.append((b.input(f"in{i}", shape, dtype, quant=_quant(dtype, 1, data)), shape, dtype))
    produced = []
    for k in range(draw(st.integers(1, 4))):
        code = draw(st.sampled_from(TFLITE_OPS))
        src, shape, dtype = avail[-1 - draw(st.integers(0, min(2, len(avail) - 1)))]
        inputs = []
        for slot in range(draw(st.integers(1, 4))):
            how = draw(st.integers(0, 29))
            if slot == 0 and how < 26:
                inputs.append(src)
            elif how < 5:
                inputs.append(draw(st.sampled_from(avail))[0])
            elif how < 27:
                inputs.append(_const(b, shape, f"c{k}_{slot}", data))
            elif how == 27:
                inputs.append(-1)
            else:
                inputs.append(draw(st.sampled_from([len(b.tensors) + 5, 2**20, -7])))
        options = {}
        for field, slot in FIELDS.get(code, ()):
            if draw(st.integers(0, 2)) == 0:
                continue
            if field in STRING_FIELDS:
                options[field] = draw(st.sampled_from(["v", "w", ""]))
            elif slot == "UOffsetTRelative":
                options[field] = draw(st.lists(st.integers(-2, 4), max_size=4))
            elif slot == "Float32":
                options[field] = draw(st.sampled_from([0.0, 0.1, 1.0, -2.0, float("nan"), float("inf")]))
            elif slot == "Bool":
                options[field] = draw(st.booleans())
            elif slot == "Int32":
                options[field] = draw(st.sampled_from([0, 0, 1, 1, 2, 3, -1, 7, 2**31 - 1]))
            else:
                options[field] = draw(st.sampled_from([0, 0, 1, 1, 2, 3, 4, 5, 6]))
        out_dtype = draw(st.sampled_from([dtype] * 6 + [np.float32, np.int8, np.int32]))
        out_shape = [] if draw(st.integers(0, 3)) else list(draw(st.lists(dims, max_size=4)))
        outputs = [b.tensor(f"t{k}_{j}", out_shape, out_dtype, quant=_quant(out_dtype, 1, data))
                   for j in range(draw(st.sampled_from([1, 1, 1, 2, 3])))]
        if produced and draw(st.integers(0, 24)) == 0:
            outputs[0] = draw(st.sampled_from(produced))  # written twice
        b.op(code, inputs, outputs, **options)
        produced.extend(outputs)
        avail.extend((o, tuple(out_shape), out_dtype) for o in outputs)
    graph_outputs = [produced[-1]]
    if draw(st.integers(0, 5)) == 0:
        graph_outputs.append(draw(st.sampled_from(produced + [avail[0][0], 2**16])))
    return b.finish(None, graph_outputs)
