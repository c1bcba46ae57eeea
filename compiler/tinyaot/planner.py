"""Static memory planner: every intermediate tensor gets an offset in one workspace.

Tensors that are views (alias ops) share their root's bytes and extend its lifetime. Model
inputs/outputs live in the caller's buffers and constants in flash, so only the remaining
roots are planned.

In place: an op whose OpDef lists `inplace` inputs may write its output over such an input
when the input's storage dies at that op (no later reader, views included), has exactly the
output's shape and dtype, and is a workspace buffer (not a model input/output, state or
constant). The output then shares the input's root like a view does (`MemoryPlan.inplace`),
and codegen hands the kernel the same pointer for both.

Overlap: an op whose OpDef.overlap gives an `Overlap` for the node may write its output
below-and-over its input 0 when that input's storage dies at the node (same conditions as in
place, any shapes): out_offset = in_offset - shift, shift >= gap and a multiple of the step
(the kernel writes ascending and never clobbers an input byte it still reads; see
ops/base.py). Such pairs chain (a depthwise/pointwise stack) into one group with fixed
relative offsets, placed as a unit; `check_plan` verifies every shared byte against the
hooks. Plans with and without overlap are both tried (the smaller wins).

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

import math
from dataclasses import dataclass, field, replace
from typing import Callable

from tinyaot.ir import Graph
from tinyaot.ops import OPS
from tinyaot.ops.base import Overlap

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
    # Output root placed overlapping its dying input 0's root -> that root.
    overlaps: dict[str, str] = field(default_factory=dict)

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


def _place_one(placed: list[Buffer], interval: _Interval, mode: str, top: int) -> Buffer:
    """first: lowest free offset; best: the tightest gap; top: the highest offset that does
    not raise the workspace (small buffers pack against the one above them and leave the
    bottom free for what comes next), else the lowest free offset."""
    name, size, start, end = interval
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
    return Buffer(name, size, start, end, chosen)


@dataclass(frozen=True)
class _Item:
    """What one placement decision puts down: a buffer, or a group of overlapping buffers at
    fixed offsets relative to the group's base (members: (name, size, first, last, rel))."""

    members: tuple[tuple[str, int, int, int, int], ...]

    @property
    def extent(self) -> int:
        return max(rel + _align(size) for _, size, _, _, rel in self.members)

    @property
    def first(self) -> int:
        return min(m[2] for m in self.members)

    @property
    def last(self) -> int:
        return max(m[3] for m in self.members)


def _place_group(placed: list[Buffer], item: _Item, mode: str, top: int) -> int:
    """The base offset of a group: the lowest (first/best) or highest below `top` (top) base
    at which no member meets a buffer alive at the same time."""
    clashes = [
        [b for b in placed if not (b.last < first or last < b.first)] for _, _, first, last, _ in item.members
    ]
    candidates = {0}
    for (_, size, _, _, rel), others in zip(item.members, clashes):
        candidates |= {b.offset + _align(b.size) - rel for b in others}
        candidates |= {b.offset - rel - _align(size) for b in others}
    candidates.add(top - item.extent)

    def fits(base: int) -> bool:
        return base >= 0 and all(
            b.offset + _align(b.size) <= base + rel or base + rel + _align(size) <= b.offset
            for (_, size, _, _, rel), others in zip(item.members, clashes)
            for b in others
        )

    valid = sorted(c for c in candidates if fits(c))
    if mode == "top":
        below = [c for c in valid if c + item.extent <= top]
        if below:
            return below[-1]
    return valid[0]


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


def overlap_pairs(graph: Graph, roots: dict[str, str], pinned: set[str], firsts: dict[str, int],
                  lasts: dict[str, int]) -> dict[str, tuple[str, Overlap]]:
    """Output root -> (its input 0's root, the node's Overlap) where the output may overlap
    that input: the input's storage dies at the node, neither is caller-owned, state or a
    constant, the node reads those bytes through input 0 only."""
    pairs: dict[str, tuple[str, Overlap]] = {}
    for step, node in enumerate(graph.nodes):
        opdef = OPS[node.op]
        outs = [o for o in node.outputs if o]
        if opdef.overlap is None or opdef.alias or len(outs) != 1 or not node.inputs or not node.inputs[0]:
            continue
        out, src = outs[0], roots.get(node.inputs[0], "")
        if (
            roots.get(out) != out or out in pinned or out not in firsts or firsts[out] != step
            or src not in firsts or src in pinned or lasts[src] != step
            or graph.tensor(node.inputs[0]).nbytes != graph.tensor(src).nbytes
            or any(roots.get(i) == src for i in node.inputs[1:] if i)
        ):
            continue
        found = opdef.overlap(node, [graph.tensor(i) if i else None for i in node.inputs])
        if found is not None:
            pairs[out] = (src, found)
    return pairs


def _shift(overlap: Overlap, drift: int) -> int:
    """in_offset - out_offset for a pair: the gap rounded up to the step and the alignment; a
    negative gap (output may start above its input) only undoes earlier downward drift."""
    unit = math.lcm(overlap.step, ALIGN)
    least = -(-overlap.gap // unit) * unit
    return least if least >= 0 else max(least, -(drift // unit) * unit)


def _groups(intervals: list[_Interval], pairs: dict[str, tuple[str, Overlap]]) -> list[_Item]:
    """Chains of overlap pairs as groups with relative offsets; every other buffer alone."""
    by_name = {c[0]: c for c in intervals}
    child = {src: out for out, (src, _) in pairs.items() if src in by_name and out in by_name}
    heads = [c[0] for c in intervals if not (c[0] in pairs and pairs[c[0]][0] in child)]
    items: list[_Item] = []
    while heads:
        chain, rel, name = [(heads[0], 0)], 0, heads.pop(0)
        while name in child:
            out = child[name]
            shift = _shift(pairs[out][1], -rel)
            if shift >= _align(by_name[out][1]):
                heads.append(out)  # below its input altogether: a new chain
                break
            rel -= shift
            chain.append((out, rel))
            name = out
        base = min(r for _, r in chain)
        items.append(_Item(tuple((n, by_name[n][1], by_name[n][2], by_name[n][3], r - base) for n, r in chain)))
    return items


def _place_items(items: list[_Item], mode: str) -> list[Buffer]:
    placed: list[Buffer] = []
    top = 0
    for item in items:
        if len(item.members) == 1:
            name, size, first, last, _ = item.members[0]
            placed.append(_place_one(placed, (name, size, first, last), mode, top))
        else:
            base = _place_group(placed, item, mode, top)
            placed += [Buffer(name, size, first, last, base + rel) for name, size, first, last, rel in item.members]
        top = max(top, max(b.offset + _align(b.size) for b in placed))
    return placed


def plan_memory(graph: Graph, inplace: bool = True, overlap: bool = True) -> MemoryPlan:
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
    overlapping = overlap_pairs(graph, roots, pinned, firsts, lasts) if overlap else {}
    variants = [("", [_Item(((c[0], c[1], c[2], c[3], 0),)) for c in candidates])]
    if overlapping:
        variants.append(("overlap ", _groups(candidates, overlapping)))
    best: tuple[int, str, list[Buffer]] | None = None
    for variant, items in variants:
        for order_name, key in _ORDERS:
            ordered = sorted(items, key=lambda item: key(_item_interval(item)))
            for mode in ("first", "best", "top"):
                placed = _place_items(ordered, mode)
                size = max((b.offset + _align(b.size) for b in placed), default=0)
                if best is None or size < best[0]:
                    best = (size, f"{variant}{order_name}/{mode}-fit", placed)
    assert best is not None
    workspace, heuristic, placed = best
    placed = [replace(b, scratch_of=scratch_nodes[b.name]) if b.name in scratch_nodes else b for b in placed]
    placed.sort(key=lambda b: (b.offset, b.first, b.name))
    at = {b.name: b for b in placed}
    used = {out: src for out, (src, _) in overlapping.items()
            if out in at and src in at and _intersect(at[out], at[src])}
    plan = MemoryPlan(tuple(placed), roots, output_roots, workspace, 0, naive, pairs, heuristic, used)
    check_plan(graph, plan)
    return replace(plan, lower_bound=_lower_bound(graph, placed, {o: overlapping[o] for o in used}))


def _item_interval(item: _Item) -> _Interval:
    return (item.members[0][0], item.extent, item.first, item.last)


def _intersect(a: Buffer, b: Buffer) -> bool:
    return a.offset < b.offset + _align(b.size) and b.offset < a.offset + _align(a.size)


def _lower_bound(graph: Graph, placed: list[Buffer], pairs: dict[str, tuple[str, Overlap]]) -> int:
    """Most aligned bytes alive at one step; an overlap pair counts as the least union its
    gap allows: max(input + max(gap, 0), output)."""
    sizes = {b.name: _align(b.size) for b in placed}
    lower = 0
    for step in range(len(graph.nodes)):
        total = sum(_align(b.size) for b in placed if b.first <= step <= b.last)
        for out, (src, found) in pairs.items():
            if out in sizes and src in sizes and any(b.name == out and b.first == step for b in placed):
                union = max(sizes[src] + max(found.gap, 0), sizes[out])
                total -= sizes[src] + sizes[out] - min(union, sizes[src] + sizes[out])
        lower = max(lower, total)
    return lower


def check_plan(graph: Graph, plan: MemoryPlan) -> None:
    """Raises AssertionError when two buffers alive at one step share a byte, except an
    overlap pair (OpDef.overlap recomputed here) whose input dies at the output's first step,
    at a shift that the hook allows."""
    roots, _, pinned, firsts, lasts, _, _ = _liveness(graph, bool(plan.inplace))
    allowed = overlap_pairs(graph, roots, pinned, firsts, lasts)
    buffers = sorted(plan.buffers, key=lambda b: (b.offset, b.name))
    for i, a in enumerate(buffers):
        assert a.offset % ALIGN == 0 and a.offset + a.size <= plan.workspace_size, f"{a.name} outside the workspace"
        for b in buffers[i + 1:]:
            if b.offset >= a.offset + _align(a.size):
                break
            if a.last < b.first or b.last < a.first:
                continue
            out, src = (a, b) if a.name in allowed and allowed[a.name][0] == b.name else (b, a)
            pair = allowed.get(out.name)
            assert pair is not None and pair[0] == src.name and src.last == out.first, (
                f"{a.name} and {b.name} share bytes while both alive")
            shift = src.offset - out.offset
            assert shift >= pair[1].gap and shift % pair[1].step == 0, (
                f"{out.name} overlaps {src.name} at shift {shift}, its kernel needs >= {pair[1].gap} "
                f"in steps of {pair[1].step}")


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
