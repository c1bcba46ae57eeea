"""Text summaries of a compiled model (`tinyaot info`)."""

from __future__ import annotations

from tinyaot.ir import Graph
from tinyaot.ops import OPS
from tinyaot.pipeline import CompiledModel


def node_macs(graph: Graph) -> list[int]:
    result = []
    for node in graph.nodes:
        ins = [graph.tensor(i) if i else None for i in node.inputs]
        outs = [graph.tensor(o) for o in node.outputs if o]
        result.append(int(OPS[node.op].macs(node, ins, outs)))
    return result


def parameter_bytes(graph: Graph) -> int:
    referenced = {i for n in graph.nodes for i in n.inputs if i}
    return sum(graph.tensor(t).nbytes for t in referenced if graph.tensor(t).is_const)


def _shape(graph: Graph, name: str) -> str:
    t = graph.tensor(name)
    return f"{t.dtype.value}[{'x'.join(str(d) for d in t.shape)}]"


def info_text(model: CompiledModel) -> str:
    graph, plan = model.graph, model.plan
    macs = node_macs(graph)
    lines = [f"model {model.code.name}"]
    for kind, names in (("input", graph.inputs), ("output", graph.outputs)):
        for name in names:
            lines.append(f"  {kind:<6} {name}: {_shape(graph, name)}")
    lines.append("")
    lines.append(f"  {'#':>3}  {'op':<20} {'name':<32} {'output':<28} {'MACs':>12}")
    for index, (node, m) in enumerate(zip(graph.nodes, macs)):
        outs = ", ".join(_shape(graph, o) for o in node.outputs if o)
        alias = " (view)" if OPS[node.op].alias else ""
        lines.append(f"  {index:>3}  {node.op + alias:<20} {node.name[:32]:<32} {outs:<28} {m:>12,}")
    op_counts: dict[str, int] = {}
    for node in graph.nodes:
        op_counts[node.op] = op_counts.get(node.op, 0) + 1
    lines += [
        "",
        f"  ops:              {', '.join(f'{op} x{n}' for op, n in sorted(op_counts.items()))}",
        f"  MACs:             {sum(macs):,}",
        f"  parameter bytes:  {parameter_bytes(graph):,}",
        f"  workspace bytes:  {plan.workspace_size:,} (lower bound {plan.lower_bound:,})",
        f"  naive peak bytes: {plan.naive_peak:,} (largest layer inputs + outputs; workspace "
        f"{_percent(plan.workspace_size, plan.naive_peak)} of it)",
        f"  memory plan:      {plan.heuristic or 'empty'} placement, {len(plan.inplace)} layer(s) in place, "
        f"{len(plan.overlaps)} overlapping their input",
        *_float_island_lines(graph),
    ]
    return "\n".join(lines)


def _float_island_lines(graph: Graph) -> list[str]:
    """In a quantized model, the ops left in float (no int8 kernel), between quantize /
    dequantize nodes."""
    from tinyaot.passes.qdq import float_islands, quantized_graph

    if not quantized_graph(graph):
        return []
    islands = float_islands(graph)
    listing = ", ".join(f"{n.op} ({n.name})" for n in islands) or "none (int8 throughout)"
    return [f"  float islands:    {listing}"]


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "-"
