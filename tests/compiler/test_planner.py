"""Memory planner v2: in-place execution, schedule choice, several placement heuristics.

Every property is checked against facts recomputed here from the schedule (which value is
alive at which step, which bytes it occupies), never against the planner's own liveness:

- no two values alive at the same step share a byte, except an in-place output and the
  input it overwrites, at the one step where the input is read for the last time and the
  output is written, by an op whose OpDef allows it, with the same shape and dtype; or an
  overlapping output (OpDef.overlap) starting at least its kernel's gap below that input,
  at a multiple of the step;
- the chosen placement is never worse than greedy by size (the old planner, re-implemented
  here) on the same lifetimes;
- a reordered schedule is a topological order of the same nodes and never needs more
  workspace than the original order;
- plans are deterministic, and random models compiled with in-place and reordering on still
  compute what onnxruntime computes.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from opcheck import check_model, model_from_graph
from random_graphs import random_dag
from random_models import missing_ops, random_convnet
from tinyaot.codegen import layer_symbol
from tinyaot.frontends.onnx import import_model
from tinyaot.ops import OPS
from tinyaot.ops.base import Overlap
from tinyaot.passes import optimize
from tinyaot.pipeline import CompileOptions, compile_graph, compile_model
from tinyaot.planner import ALIGN, check_plan, plan_memory, schedule_for_memory
from tinyaot.report import info_text

MODELS = Path(__file__).resolve().parents[2] / "models"


def _padded(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


def _values(graph):
    """value (storage before in-place: views resolved) -> (producer step, last read step)."""
    alias_of = {n.outputs[0]: n.inputs[0] for n in graph.nodes if OPS[n.op].alias and n.outputs and n.outputs[0]}

    def storage(name: str) -> str:
        while name in alias_of:
            name = alias_of[name]
        return name

    produced = {o: s for s, n in enumerate(graph.nodes) for o in n.outputs if o and not OPS[n.op].alias}
    last = dict(produced)
    for step, node in enumerate(graph.nodes):
        for name in node.inputs:
            if name and storage(name) in produced:
                last[storage(name)] = max(last[storage(name)], step)
    return storage, produced, last


def _check_plan(graph, plan) -> None:
    storage, produced, last = _values(graph)
    pinned = set(graph.inputs) | {storage(o) for o in graph.outputs} | set(graph.states)
    buffers = {b.name: b for b in plan.buffers}

    # Every in-place pair is legal.
    for out, inp in plan.inplace.items():
        step = produced[out]
        node = graph.nodes[step]
        allowed = OPS[node.op].inplace(node) if OPS[node.op].inplace else ()
        assert inp in [node.inputs[i] for i in allowed], f"{node.name} ({node.op}) may not overwrite {inp}"
        a, b = graph.tensor(inp), graph.tensor(out)
        assert (a.shape, a.dtype) == (b.shape, b.dtype), f"{node.name}: in place over {inp} of another type"
        src = storage(inp)
        assert src not in pinned and out not in pinned, f"{node.name}: in place on caller-owned or state bytes"
        assert last[src] == step, f"{node.name} overwrites {src}, which step {last[src]} still reads"

    # Bytes of each workspace value; no two values alive at one step overlap unless legal.
    spans = {}
    for value, step in produced.items():
        if value in pinned or graph.tensor(value).is_const:
            continue
        root = plan.roots[value]
        assert root in buffers, f"{value} (root {root}) has no workspace buffer"
        buf = buffers[root]
        assert buf.offset % ALIGN == 0 and buf.offset + buf.size <= plan.workspace_size
        assert graph.tensor(value).nbytes <= buf.size
        assert buf.first <= step and last[value] <= buf.last, f"{value} used outside its buffer's lifetime"
        spans[value] = (buf.offset, buf.offset + graph.tensor(value).nbytes, step, last[value])
    items = sorted(spans.items())
    for i, (u, (u0, u1, uf, ul)) in enumerate(items):
        for v, (v0, v1, vf, vl) in items[i + 1 :]:
            if ul < vf or vl < uf or u1 <= v0 or v1 <= u0 or u0 == u1 or v0 == v1:
                continue
            in_place = (plan.inplace.get(v) is not None and storage(plan.inplace[v]) == u and ul == vf) or (
                plan.inplace.get(u) is not None and storage(plan.inplace[u]) == v and vl == uf
            )
            legal = in_place or _legal_overlap(graph, storage, last, u, u0, v, v0) or _legal_overlap(
                graph, storage, last, v, v0, u, u0)
            assert legal, f"{u} [{u0}, {u1}) steps {uf}..{ul} and {v} [{v0}, {v1}) steps {vf}..{vl} overlap"
    # scratch regions share bytes with nothing alive at their step
    for s in (b for b in plan.buffers if b.scratch_of):
        for o in plan.buffers:
            if o is not s and o.first <= s.first <= o.last:
                assert s.offset + s.size <= o.offset or o.offset + o.size <= s.offset, f"{s.name} overlaps {o.name}"

    def alive(step: int) -> int:
        total = sum(_padded(b.size) for b in plan.buffers if b.first <= step <= b.last)
        for out, src in plan.overlaps.items():  # the least union the gap allows
            node = graph.nodes[buffers[out].first]
            if buffers[out].first == step:
                gap = OPS[node.op].overlap(node, [graph.tensor(i) if i else None for i in node.inputs]).gap
                a, b = _padded(buffers[src].size), _padded(buffers[out].size)
                total -= a + b - min(max(a + max(gap, 0), b), a + b)
        return total

    lower = max((alive(s) for s in range(len(graph.nodes))), default=0)
    assert plan.lower_bound == lower <= plan.workspace_size
    assert plan.workspace_size <= _greedy_by_size(plan.buffers), "worse than greedy by size"


def _legal_overlap(graph, storage, last, out, out_offset, src, src_offset) -> bool:
    """out is written by a node with OpDef.overlap reading src (through its input 0) for the
    last time, and starts at least the hook's gap below it, at a multiple of its step."""
    producers = [n for n in graph.nodes if out in n.outputs]
    if not producers:
        return False
    node = producers[0]
    step = graph.nodes.index(node)
    hook = OPS[node.op].overlap
    if hook is None or not node.inputs or storage(node.inputs[0]) != src or last[src] != step:
        return False
    found = hook(node, [graph.tensor(i) if i else None for i in node.inputs])
    shift = src_offset - out_offset
    return found is not None and shift >= found.gap and shift % found.step == 0


def _greedy_by_size(buffers) -> int:
    """The previous planner: largest first, lowest offset free over the buffer's lifetime."""
    placed = []
    for b in sorted(buffers, key=lambda b: (-_padded(b.size), b.first, b.name)):
        offset = 0
        for o in sorted((o for o in placed if not (o[2] < b.first or b.last < o[1])), key=lambda o: o[0]):
            if offset + _padded(b.size) <= o[0]:
                break
            offset = max(offset, o[0] + o[3])
        placed.append((offset, b.first, b.last, _padded(b.size)))
    return max((o[0] + o[3] for o in placed), default=0)


def _check_schedule(before, after) -> None:
    assert sorted(n.name for n in before.nodes) == sorted(n.name for n in after.nodes)
    available = set(before.inputs) | {t for t, x in before.tensors.items() if x.is_const} | set(before.states)
    for node in after.nodes:
        missing = [i for i in node.inputs if i and i not in available]
        assert not missing, f"{node.name} runs before {missing} is produced"
        available |= {o for o in node.outputs if o}
    assert plan_memory(after).workspace_size <= plan_memory(before).workspace_size


def _planned(model, name):
    graph = optimize(import_model(model, name, {}))
    scheduled = schedule_for_memory(graph)
    _check_schedule(graph, scheduled)
    return scheduled, plan_memory(scheduled)


@pytest.mark.parametrize("batch", range(4))
def test_properties_on_random_dags(batch):
    in_place = 0
    for seed in range(batch * 60, batch * 60 + 60):
        model, _ = random_dag(seed)
        try:
            graph, plan = _planned(model, f"dag{seed}")
            _check_plan(graph, plan)
            _check_plan(graph, plan_memory(graph, inplace=False))
        except AssertionError as exc:
            raise AssertionError(f"random_dag({seed}): {exc}") from None
        in_place += len(plan.inplace)
    assert in_place > 0, "no random DAG ran anything in place: the checks above tested nothing"


def test_properties_on_random_convnets():
    checked = 0
    for seed in range(40):
        sample = random_convnet(seed)
        if missing_ops(sample.ops):
            continue
        try:
            graph, plan = _planned(sample.model, f"convnet{seed}")
            _check_plan(graph, plan)
        except AssertionError as exc:
            raise AssertionError(f"random_convnet({seed}): {exc}") from None
        checked += 1
    if not checked:
        pytest.skip("no random convnet has all its ops in tinyaot.ops.OPS yet")


def test_plan_is_deterministic():
    for seed in range(20):
        model, _ = random_dag(seed)
        graph = optimize(import_model(model, f"dag{seed}", {}))
        assert schedule_for_memory(graph) == schedule_for_memory(graph)
        assert plan_memory(graph) == plan_memory(graph)


# ------------------------------------------------------------------- numerics, end to end


def _dag_seeds_with_inplace(count: int) -> list[int]:
    seeds = []
    for seed in range(2000, 2200):
        model, _ = random_dag(seed, n_nodes=20)
        if plan_memory(optimize(import_model(model, "m", {}))).inplace:
            seeds.append(seed)
        if len(seeds) == count:
            break
    return seeds


@pytest.mark.parametrize("seed", _dag_seeds_with_inplace(8))
def test_random_dag_in_place_matches_onnxruntime(seed):
    model, inputs = random_dag(seed, n_nodes=20)
    check_model(model, inputs, f"random_dag({seed}, n_nodes=20)")


def _vi(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def _inception(rng) -> tuple:
    """Four branches, each a big intermediate then a small result, built breadth first:
    the given order keeps all four big intermediates alive at once."""
    nodes, inits, outs = [], [], []
    for b in range(4):
        w1 = rng.standard_normal((16, 4, 1, 1)).astype(np.float32) / 2
        w2 = rng.standard_normal((2, 16, 1, 1)).astype(np.float32) / 4
        inits += [numpy_helper.from_array(w1, f"w1_{b}"), numpy_helper.from_array(w2, f"w2_{b}")]
        nodes.append(helper.make_node("Conv", ["x", f"w1_{b}"], [f"big{b}"], name=f"expand{b}"))
        outs.append(f"small{b}")
    for b in range(4):
        nodes.append(helper.make_node("Relu", [f"big{b}"], [f"act{b}"], name=f"relu{b}"))
    for b in range(4):
        nodes.append(helper.make_node("Conv", [f"act{b}", f"w2_{b}"], [f"small{b}"], name=f"project{b}"))
    nodes.append(helper.make_node("Concat", outs, ["cat"], name="cat", axis=1))
    nodes.append(helper.make_node("Sigmoid", ["cat"], ["y"], name="sig"))
    graph = helper.make_graph(nodes, "inception", [_vi("x", [1, 4, 6, 6])], [_vi("y", None)], inits)
    return model_from_graph(graph), {"x": rng.standard_normal((1, 4, 6, 6)).astype(np.float32)}


@pytest.mark.skipif("Conv" not in OPS or "Concat" not in OPS, reason="needs Conv and Concat")
def test_branchy_graph_is_rescheduled_and_still_exact():
    model, inputs = _inception(np.random.default_rng(7))
    graph = optimize(import_model(model, "inception", {}))
    scheduled = schedule_for_memory(graph)
    _check_schedule(graph, scheduled)
    before, after = plan_memory(graph), plan_memory(scheduled)
    _check_plan(scheduled, after)
    big = 16 * 6 * 6 * 4
    assert before.workspace_size >= 4 * big  # all four expansions alive together
    assert after.workspace_size < 2 * big, [n.name for n in scheduled.nodes]
    assert compile_graph(import_model(model, "inception", {}), CompileOptions()).plan == after
    check_model(model, inputs, "inception-like branches, rescheduled")


def test_in_place_only_over_the_unbroadcast_dying_input():
    """y = relu(a) + relu(b)[row]: the row is broadcast, so only the full-size operand
    may be overwritten, and an input still read later is never overwritten."""
    rng = np.random.default_rng(3)
    nodes = [
        helper.make_node("Relu", ["a"], ["ra"], name="ra"),
        helper.make_node("Relu", ["b"], ["rb"], name="rb"),
        helper.make_node("Add", ["rb", "ra"], ["s"], name="add"),  # rb: [1, 8] broadcast over [4, 8]
        helper.make_node("Mul", ["s", "s"], ["m"], name="square"),  # s dies here, read twice
        helper.make_node("Sub", ["m", "ra"], ["y"], name="sub"),  # output: caller's buffer
    ]
    graph_proto = helper.make_graph(nodes, "bcast", [_vi("a", [4, 8]), _vi("b", [1, 8])], [_vi("y", None)])
    model = model_from_graph(graph_proto)
    graph = optimize(import_model(model, "bcast", {}))
    plan = plan_memory(graph)
    _check_plan(graph, plan)
    # ra is still read by "sub", rb is broadcast: "add" gets its own buffer; "square"
    # overwrites s.
    assert plan.inplace == {"m": "s"}, plan.inplace
    inputs = {"a": rng.standard_normal((4, 8)).astype(np.float32), "b": rng.standard_normal((1, 8)).astype(np.float32)}
    check_model(model, inputs, "in-place with broadcasting")


# ---------------------------------------------------------------------- the report


@pytest.mark.skipif(not (MODELS / "kws_ref_model_float32_dq.onnx").is_file(), reason="no float KWS model")
def test_float_kws_naive_peak_and_report():
    """DS-CNN KWS: every depthwise/pointwise layer reads and writes 25x5x64 floats, so the
    in-order baseline is 2 x 32,000 B."""
    compiled = compile_model(MODELS / "kws_ref_model_float32_dq.onnx", CompileOptions())
    plan = compiled.plan
    assert plan.naive_peak == 2 * 25 * 5 * 64 * 4
    assert plan.lower_bound <= plan.workspace_size <= plan.naive_peak
    text = info_text(compiled)
    assert f"naive peak bytes: {plan.naive_peak:,}" in text
    assert f"workspace bytes:  {plan.workspace_size:,} (lower bound {plan.lower_bound:,})" in text


def test_kernel_scratch_is_planned_for_its_node_only():
    """OpDef.scratch: each int8 conv / FC node gets a workspace region of exactly that many
    bytes, alive at its own step only, overlapping nothing alive then, counted in the lower
    bound, and its kernel call receives it; nodes without scratch pass NULL."""
    root = Path(__file__).resolve().parents[2]
    model = compile_model(root / "models/tflite/kws_ref_model.tflite", CompileOptions(name="kws"))
    graph, plan = model.graph, model.plan
    _check_plan(graph, plan)
    scratch = [b for b in plan.buffers if b.scratch_of]
    needing = {}
    for step, node in enumerate(graph.nodes):
        size = OPS[node.op].scratch(node, [graph.tensor(i) if i else None for i in node.inputs])
        if size:
            needing[node.name] = (step, size)
    assert needing and {b.scratch_of for b in scratch} == set(needing) and len(scratch) == len(needing)
    for b in scratch:
        step, size = needing[b.scratch_of]
        assert (b.first, b.last, b.size) == (step, step, size)
        assert b.offset % ALIGN == 0 and b.offset + b.size <= plan.workspace_size
        assert plan.scratch(step) == b
        for other in plan.buffers:
            if other is not b and other.first <= step <= other.last:
                assert b.offset + b.size <= other.offset or other.offset + other.size <= b.offset, (
                    f"scratch of {b.scratch_of} overlaps {other.name} at step {step}")
    assert plan.lower_bound >= max(b.size for b in scratch)
    for step, node in enumerate(graph.nodes):
        if OPS[node.op].alias:
            continue
        buffer = plan.scratch(step)
        expected = f"(void *)(ws + {buffer.offset})" if buffer else None
        body = model.code.source.split(f"void {layer_symbol('kws', step, node.op)}(", 1)[1].split("\n}\n", 1)[0]
        if expected:
            assert expected in body, f"{node.name}: its kernel does not get its scratch"
        else:
            assert "(void *)(ws +" not in body


# ------------------------------------------------------------------- overlap (OpDef.overlap)


def _int8_kws():
    root = Path(__file__).resolve().parents[2]
    return compile_model(root / "models/tflite/kws_ref_model.tflite", CompileOptions(name="kws"))


def test_overlapping_outputs_are_checked_against_the_kernel_gap():
    """The int8 KWS depthwise layers write over their dying inputs (a gap of -320 bytes in
    steps of 64: a channel-blocked kernel that holds a ring of input rows). The plan passes both
    checks; moving one output 64 bytes above what its gap allows, or off its channel step,
    fails both (planner.check_plan and this file's independent _check_plan)."""
    model = _int8_kws()
    graph, plan = model.graph, model.plan
    _check_plan(graph, plan)
    check_plan(graph, plan)
    assert plan.overlaps, "no layer of the int8 KWS overlaps its input"
    out, src = sorted(plan.overlaps.items())[0]
    buffers = {b.name: b for b in plan.buffers}
    node = next(n for n in graph.nodes if out in n.outputs)
    gap = OPS[node.op].overlap(node, [graph.tensor(i) if i else None for i in node.inputs])
    assert gap == Overlap(-320, 64) and node.attrs.get("weight_layout") == "1HWO"
    lift = 1024  # room below everything for the moved buffer
    for shift in (gap.gap - 64, gap.gap + 16):
        moved = [replace(b, offset=b.offset + lift) for b in plan.buffers]
        moved = [replace(b, offset=buffers[src].offset + lift - shift) if b.name == out else b for b in moved]
        bad = replace(plan, buffers=tuple(moved), workspace_size=plan.workspace_size + 2 * lift)
        with pytest.raises(AssertionError, match="its kernel needs"):
            check_plan(graph, bad)
        with pytest.raises(AssertionError):
            _check_plan(graph, bad)


def test_overlap_variant_competes_with_plain_plans():
    """Overlap is one more candidate: never a larger workspace than the plans without it, and
    report shows planned vs naive vs lower bound."""
    model = _int8_kws()
    graph, plan = model.graph, model.plan
    plain = plan_memory(graph, overlap=False)
    assert not plain.overlaps and plan.workspace_size <= plain.workspace_size
    text = info_text(model)
    assert f"workspace bytes:  {plan.workspace_size:,} (lower bound {plan.lower_bound:,})" in text
    assert f"naive peak bytes: {plan.naive_peak:,}" in text
    assert "overlapping" in text
