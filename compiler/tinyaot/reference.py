"""The compiler's own reference: a compiled graph run node by node through the ops'
`evaluate` functions (numpy), in schedule order.

For int8 nodes `evaluate` is the integer golden model of the C kernels (bit for bit), so
this is the golden of an int8 ONNX model's firmware: onnxruntime is no bit-exact reference
for those (quant.py explains why), and tests compare this golden with onnxruntime instead.
Float nodes evaluate in numpy float, within the float criterion of the C.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from tinyaot.errors import TinyaotError
from tinyaot.ir import Graph
from tinyaot.ops import OPS


def evaluate(graph: Graph, feeds: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The graph's outputs for `feeds` (one array per graph input, by name)."""
    missing = [name for name in graph.inputs if name not in feeds]
    if missing:
        raise TinyaotError(f"no value for input(s) {', '.join(missing)}")
    values: dict[str, np.ndarray] = {name: t.data for name, t in graph.tensors.items() if t.data is not None}
    values.update({name: np.asarray(value) for name, value in feeds.items()})
    values.update({name: np.asarray(value) for name, value in graph.states.items()})
    for node in graph.nodes:
        outs = OPS[node.op].evaluate(node, [values[i] if i else None for i in node.inputs])
        for out, value in zip(node.outputs, outs):
            if out:
                values[out] = np.asarray(value)
    return {name: values[name] for name in graph.outputs}
