"""Static memory planner: every intermediate tensor gets an offset in one workspace.

Tensors that are views (alias ops) share their root's bytes and extend its lifetime. Model
inputs/outputs live in the caller's buffers and constants in flash, so only the remaining
roots are planned.

In place: an op whose OpDef lists `inplace` inputs may write its output over such an input
when the input's storage dies at that op (no later reader, views included), has exactly the
output's shape and dtype, and is a workspace buffer (not a model input/output, state or
constant). The output then shares the input's root like a view does (`MemoryPlan.inplace`),
and codegen hands the kernel the same pointer for both.

Placement tries several orders (greedy by size as TFLite Micro does, by lifetime length, by
first use, by size x lifetime) each with first-fit (lowest offset), best-fit (tightest gap)
and top-fit (highest offset below the current top) placement, and keeps the smallest
workspace; ties keep the earliest heuristic in that
list, so the result is deterministic and never worse than greedy by size.

Scratch: a node whose OpDef.scratch is > 0 gets a region of that many bytes alive at its own
step only (a Buffer with `scratch_of` = the node's name), placed and counted like a tensor.

`schedule_for_memory` picks, among a few valid topological orders of the nodes (the given
one, a greedy "free the most bytes first" order and a depth-first order that finishes one
branch before starting the next), the one whose plan needs the least workspace; the given
order wins ties.

The numbers the report prints beside the workspace:
- lower bound: the most (aligned) workspace bytes alive at any one step of this schedule;
- naive peak: the in-order ping-pong baseline, max over the kernels of the bytes of the
  workspace-resident activations that kernel reads or writes (each distinct storage once,
  unaligned, no in-place). It is what a planner needs that only reuses memory between
  layers, never within one; e.g. the int8 KWS DS-CNN: a 25x5x64 depthwise layer reads and
  writes 8,000 B each, 16,000 B (64,000 B in float).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable

from tinyaot.ir import Graph
from tinyaot.ops import OPS

ALIGN = 16


@dataclass(frozen=True)
class Buffer:
    name: str  # the root tensor
    size: int  # bytes, before alignment padding
    first: int  # index of the producing node in the schedule
    last: int  # index of the last node reading it (or any of its views)
    offset: int
    scratch_of: str = ""  # a node's scratch region (name: "<node>:scratch"), not a tensor


@dataclass(frozen=True)
class MemoryPlan:
    buffers: tuple[Buffer, ...]
    roots: dict[str, str]  # every non-constant tensor -> the tensor owning its bytes
    output_roots: dict[str, str]  # root stored in a caller's output buffer -> that output
    workspace_size: int
    lower_bound: int
    naive_peak: int = 0  # see the module docstring
    # Output written in place over a dying input -> that input (the tensor the node reads).
    inplace: dict[str, str] = field(default_factory=dict)
    heuristic: str = ""  # the placement that won, e.g. "size/first-fit"

    def buffer(self, root: str) -> Buffer | None:
        for b in self.buffers:
            if b.name == root:
                return b
        return None

    def scratch(self, step: int) -> Buffer | None:
        """The scratch region of the node at `step`, if it has one."""
        for b in self.buffers:
            if b.scratch_of and b.first == step:
                return b
        return None


def _align(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


# (name, size, first, last)
_Interval = tuple[str, int, int, int]

_ORDERS: tuple[tuple[str, Callable[[_Interval], tuple]], ...] = (
    ("size", lambda c: (-_align(c[1]), c[2], c[0])),
    ("lifetime", lambda c: (-(c[3] - c[2]), -_align(c[1]), c[2], c[0])),
    ("first-use", lambda c: (c[2], -_align(c[1]), c[0])),
    ("size-x-lifetime", lambda c: (-_align(c[1]) * (c[3] - c[2] + 1), c[2], c[0])),
)


def _place(ordered: list[_Interval], mode: str) -> list[Buffer]:
    """first: lowest free offset; best: the tightest gap; top: the highest offset that does
    not raise the workspace (small buffers pack against the one above them and leave the
    bottom free for what comes next), else the lowest free offset."""
    placed: list[Buffer] = []
    top = 0
    for name, size, start, end in ordered:
        need = _align(size)
        overlapping = sorted(
            (b for b in placed if not (b.last < start or end < b.first)), key=lambda b: (b.offset, b.name)
        )
        # Gaps between the buffers alive at the same time, then the open end.
        gaps: list[tuple[int, int]] = []
        offset = 0
        for other in overlapping:
            if other.offset > offset:
                gaps.append((offset, other.offset - offset))
            offset = max(offset, other.offset + _align(other.size))
        fitting = [g for g in gaps if g[1] >= need]
        chosen = fitting[0][0] if fitting else offset
        if mode == "best" and fitting:
            chosen = min(fitting, key=lambda g: (g[1], g[0]))[0]
        elif mode == "top":
            below = [g[0] + g[1] - need for g in fitting] + ([top - need] if top - need >= offset else [])
            if below:
                chosen = max(below)
        placed.append(Buffer(name, size, start, end, chosen))
        top = max(top, chosen + need)
    return placed


def _liveness(graph: Graph, inplace: bool):
    """Roots (views and in-place outputs share their input's), lifetimes and in-place pairs."""
    view_root: dict[str, str] = {}
    producer: dict[str, int] = {}
    for step, node in enumerate(graph.nodes):
        for out in node.outputs:
            if not out:
                continue
            if OPS[node.op].alias:
                view_root[out] = view_root.get(node.inputs[0], node.inputs[0])
            else:
                view_root[out] = out
                producer[out] = step
    for name in graph.inputs:
        view_root.setdefault(name, name)
    # Last reader of each storage (before in-place merging), through views.
    view_last: dict[str, int] = {}
    for step, node in enumerate(graph.nodes):
        for name in node.inputs:
            if name and name in view_root:
                view_last[view_root[name]] = step
    for name in producer:
        view_last.setdefault(name, producer[name])
    output_roots = {view_root.get(o, o): o for o in graph.outputs}
    pinned = set(graph.inputs) | set(output_roots) | set(graph.states)

    merged: dict[str, str] = {}  # view root -> root after in-place merging
    root_last = dict(view_last)
    pairs: dict[str, str] = {}
    for step, node in enumerate(graph.nodes):
        opdef = OPS[node.op]
        outs = [o for o in node.outputs if o]
        if not inplace or opdef.inplace is None or opdef.alias or len(outs) != 1:
            continue
        out = graph.tensor(outs[0])
        if outs[0] in pinned or out.is_const:
            continue
        for index in opdef.inplace(node):
            name = node.inputs[index] if index < len(node.inputs) else ""
            if not name or name not in view_root:
                continue
            tensor = graph.tensor(name)
            root = merged.get(view_root[name], view_root[name])
            if (
                root in pinned
                or graph.tensor(root).is_const
                or root not in producer
                or root_last[root] != step
                or tensor.shape != out.shape
                or tensor.dtype != out.dtype
                or graph.tensor(root).nbytes != out.nbytes
                # Another operand on the same bytes must be read at the same index.
                or any(
                    i and i in view_root and merged.get(view_root[i], view_root[i]) == root
                    and graph.tensor(i).size != out.size
                    for i in node.inputs
                )
            ):
                continue
            merged[outs[0]] = root
            root_last[root] = max(root_last[root], view_last[outs[0]])
            pairs[outs[0]] = name
            break
    roots = {t: merged.get(r, r) for t, r in view_root.items()}
    firsts = {r: producer[r] for r in producer if r not in merged}
    lasts = {r: root_last[r] for r in firsts}
    naive = 0
    for node in graph.nodes:
        if OPS[node.op].alias:
            continue
        touched = {view_root[n] for n in (*node.inputs, *node.outputs) if n and n in view_root}
        naive = max(naive, sum(graph.tensor(r).nbytes for r in touched if r not in pinned and r in producer
                               and not graph.tensor(r).is_const))
    return roots, output_roots, pinned, firsts, lasts, pairs, naive


def plan_memory(graph: Graph, inplace: bool = True) -> MemoryPlan:
    roots, output_roots, pinned, firsts, lasts, pairs, naive = _liveness(graph, inplace)
    candidates: list[_Interval] = [
        (name, graph.tensor(name).nbytes, firsts[name], lasts[name])
        for name in firsts
        if name not in pinned and not graph.tensor(name).is_const
    ]
    scratch_nodes: dict[str, str] = {}
    for step, node in enumerate(graph.nodes):
        size = OPS[node.op].scratch(node, [graph.tensor(i) if i else None for i in node.inputs])
        if size > 0:
            scratch_nodes[f"{node.name}:scratch"] = node.name
            candidates.append((f"{node.name}:scratch", size, step, step))
    best: tuple[int, str, list[Buffer]] | None = None
    for order_name, key in _ORDERS:
        ordered = sorted(candidates, key=key)
        for mode in ("first", "best", "top"):
            placed = _place(ordered, mode)
            size = max((b.offset + _align(b.size) for b in placed), default=0)
            if best is None or size < best[0]:
                best = (size, f"{order_name}/{mode}-fit", placed)
    assert best is not None
    workspace, heuristic, placed = best
    placed = [replace(b, scratch_of=scratch_nodes[b.name]) if b.name in scratch_nodes else b for b in placed]
    placed.sort(key=lambda b: (b.offset, b.first, b.name))
    lower = max(
        (
            sum(_align(b.size) for b in placed if b.first <= step <= b.last)
            for step in range(len(graph.nodes))
        ),
        default=0,
    )
    return MemoryPlan(tuple(placed), roots, output_roots, workspace, lower, naive, pairs, heuristic)


# ----------------------------------------------------------------------------- scheduling


def _dependencies(graph: Graph) -> list[set[int]]:
    producer = {o: i for i, n in enumerate(graph.nodes) for o in n.outputs if o}
    return [{producer[x] for x in node.inputs if x in producer} for node in graph.nodes]


def _greedy_order(graph: Graph, deps: list[set[int]]) -> list[int]:
    """Among the ready nodes, run the one that grows the live bytes least (frees most)."""
    users: dict[str, set[int]] = {}
    for i, node in enumerate(graph.nodes):
        for x in node.inputs:
            if x:
                users.setdefault(x, set()).add(i)
    # Views keep their source alive: count a view's readers as the source's.
    alias_src = {n.outputs[0]: n.inputs[0] for n in graph.nodes if OPS[n.op].alias and n.outputs and n.outputs[0]}

    def storage(name: str) -> str:
        while name in alias_src:
            name = alias_src[name]
        return name

    readers: dict[str, set[int]] = {}
    for name, idx in users.items():
        readers.setdefault(storage(name), set()).update(idx)
    pending = {s: set(r) for s, r in readers.items()}
    keep = set(graph.outputs) | set(graph.inputs)
    children: list[list[int]] = [[] for _ in graph.nodes]
    missing = [len(d) for d in deps]
    for i, d in enumerate(deps):
        for j in d:
            children[j].append(i)
    ready = [i for i, m in enumerate(missing) if m == 0]
    order: list[int] = []

    def delta(i: int) -> int:
        node = graph.nodes[i]
        grow = 0 if OPS[node.op].alias else sum(graph.tensor(o).nbytes for o in node.outputs if o)
        freed = 0
        for s in {storage(x) for x in node.inputs if x}:
            if s not in keep and not graph.tensor(s).is_const and pending.get(s) == {i}:
                freed += graph.tensor(s).nbytes
        return grow - freed

    while ready:
        i = min(ready, key=lambda k: (delta(k), k))
        ready.remove(i)
        order.append(i)
        for s in {storage(x) for x in graph.nodes[i].inputs if x}:
            pending.get(s, set()).discard(i)
        for c in children[i]:
            missing[c] -= 1
            if missing[c] == 0:
                ready.append(c)
    return order


def _depth_first_order(graph: Graph, deps: list[set[int]]) -> list[int]:
    """Post-order from the outputs: each branch runs to its end before the next starts."""
    producer = {o: i for i, n in enumerate(graph.nodes) for o in n.outputs if o}
    done: set[int] = set()
    order: list[int] = []
    sinks = [producer[o] for o in graph.outputs if o in producer]
    sinks += [i for i in range(len(graph.nodes)) if i not in sinks]
    for sink in sinks:
        stack: list[tuple[int, bool]] = [(sink, False)]
        while stack:
            i, expanded = stack.pop()
            if i in done:
                continue
            if expanded:
                done.add(i)
                order.append(i)
                continue
            stack.append((i, True))
            # Push in reverse so inputs run in their listed order.
            for j in sorted(deps[i], reverse=True):
                if j not in done:
                    stack.append((j, False))
    return order


def schedule_for_memory(graph: Graph, inplace: bool = True) -> Graph:
    """The graph with the node order (a topological order) whose plan is smallest."""
    if len(graph.nodes) < 3 or graph.states or any(n.op == "AssignVariable" for n in graph.nodes):
        # State updates are ordered by passes/state.py; keep that order.
        return graph
    deps = _dependencies(graph)
    best_graph, best_size = graph, plan_memory(graph, inplace).workspace_size
    for order in (_greedy_order(graph, deps), _depth_first_order(graph, deps)):
        if order == list(range(len(graph.nodes))) or len(order) != len(graph.nodes):
            continue
        candidate = graph.replace(nodes=tuple(graph.nodes[i] for i in order))
        size = plan_memory(candidate, inplace).workspace_size
        if size < best_size:
            best_graph, best_size = candidate, size
    return best_graph
