"""Strip fusion: an int8 1x1 convolution whose output only a depthwise convolution reads, and
which is larger than the 1x1's input and the depthwise output together, becomes one
QPointwiseDepthwise node (ops/qfused.py) that never holds that tensor whole."""

from __future__ import annotations

from tinyaot.ir import Graph, Node
from tinyaot.ops import qconv, qfused
from tinyaot.ops.conv import as_2d
from tinyaot.passes.builder import GraphBuilder

# A strip may take up to 1/share of the tensor it replaces (and is at least one output row):
# one row already removes nearly all of that tensor; more rows per strip save kernel calls
# (two calls, a memmove and the kernels' set-up per strip). pipeline.plan_graph picks.
STRIP_SHARES = (16, 8, 4, 2)


def _pointwise(graph: Graph, node: Node) -> bool:
    if node.op != "QLinearConv" or node.attrs.get("layout") != "NHWC":
        return False
    info = qconv.qconv_info(node, [graph.tensor(i) if i else None for i in node.inputs])
    x = graph.tensor(node.inputs[0])
    return (len(x.shape) == 4 and x.shape[0] == 1 and node.attrs.get("weight_layout") == "OHWI" and info.group == 1
            and all(k == 1 for k in info.geom.kernel) and all(s == 1 for s in info.geom.strides)
            and not any(info.geom.pads()))


def _depthwise(graph: Graph, node: Node) -> bool:
    return (node.op == "QLinearConv" and node.attrs.get("layout") == "NHWC"
            and node.attrs.get("weight_layout") == "1HWO" and len(graph.tensor(node.inputs[0]).shape) == 4)


def _rows_per_strip(fused: Node, middle_bytes: int, row_bytes: int, share: int) -> int:
    out_h = as_2d(fused.attrs["depthwise"]["output_spatial"], 1)[0]
    rows = 1
    while rows < out_h and qfused.strip_rows_needed(fused, rows + 1) * row_bytes <= middle_bytes // share:
        rows += 1
    return rows


def fuse_strips(graph: Graph, share: int = STRIP_SHARES[0]) -> Graph:
    consumers = graph.consumers()
    producers = graph.producers()
    fused: dict[str, Node] = {}  # depthwise node name -> the fused node
    dropped: set[str] = set()
    for second in graph.nodes:
        if not _depthwise(graph, second):
            continue
        middle_name = second.inputs[0]
        first = producers.get(middle_name)
        if (first is None or first.name in dropped or not _pointwise(graph, first)
                or len(consumers.get(middle_name, [])) != 1 or middle_name in graph.outputs
                or middle_name in graph.states):
            continue
        x, middle, y = graph.tensor(first.inputs[0]), graph.tensor(middle_name), graph.tensor(second.outputs[0])
        if middle.nbytes <= x.nbytes + y.nbytes:
            continue
        inputs = (*first.inputs[0:3], *([""] * (3 - len(first.inputs))), *second.inputs[1:3],
                  *([""] * (3 - len(second.inputs))))
        node = Node(qfused.OP, f"{first.name}+{second.name}", inputs, second.outputs,
                    {"pointwise": dict(first.attrs), "depthwise": dict(second.attrs),
                     "middle": (middle.shape, middle.quant), "rows": 1})
        rows = _rows_per_strip(node, middle.nbytes, middle.shape[2] * middle.shape[3], share)
        fused[second.name] = node.with_attrs(rows=rows)
        dropped.add(first.name)
    if not fused:
        return graph
    builder = GraphBuilder(graph)
    for node in graph.nodes:
        if node.name not in dropped:
            builder.keep(fused.get(node.name, node))
    return builder.build()
