"""Properties of the generated C and of the memory plan, whatever the ops:

- it compiles warning-free as C99 with the host gcc and with arm-none-eabi-gcc for a
  Cortex-M0 (soft float) and a Cortex-M7 (hard float);
- it is a pure function of the model: byte-identical across compiles and processes;
- it never allocates;
- the planner's workspace is at least the lower bound, and no two buffers alive at the same
  step share a byte (checked against liveness recomputed here, over random graphs), and
  random DAGs that stress the plan still compute what onnxruntime computes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from opcheck import check_model, run_onnxruntime, run_tinyaot, single_node_model
from random_graphs import random_dag
from random_models import missing_ops, random_convnet
from tinyaot.frontends.onnx import import_model
from tinyaot.ops import OPS
from tinyaot.passes import optimize
from tinyaot.pipeline import CompileOptions, compile_graph, write_c
from tinyaot.planner import ALIGN, plan_memory
from tinyaot.runtime_files import include_dir, kernel_sources

REPO = Path(__file__).resolve().parents[2]
STRICT = ["-std=c99", "-Wall", "-Wextra", "-Werror"]
ARM_GCC = shutil.which("arm-none-eabi-gcc")


def _arm_cores() -> dict[str, list[str]]:
    boards = json.loads((REPO / "platforms" / "boards.json").read_text())["cores"]
    return {core: ["-mthumb", *boards[core]["copts"]] for core in ("cortex_m0", "cortex_m7")}


def _model(kind: str):
    """(onnx model, ops it uses) for the named sample."""
    if kind.startswith("dag"):
        model, _ = random_dag(int(kind[3:]), n_nodes=16)
        return model, {n.op_type for n in model.graph.node}
    sample = random_convnet(int(kind[len("convnet"):]))
    return sample.model, sample.ops


# dag: elementwise ops and views only; convnets 3 (pools, Reshape head), 4 (no BN, no
# Concat: few op families) and 8 (nearly every op the generator has).
SAMPLES = ["dag3", "dag11", "convnet3", "convnet4", "convnet8"]


@pytest.fixture(scope="module", params=SAMPLES)
def generated(request, tmp_path_factory):
    model, ops = _model(request.param)
    missing = missing_ops(ops)
    if missing:
        pytest.skip(f"ops not yet in tinyaot.ops.OPS: {', '.join(missing)}")
    compiled = compile_graph(import_model(model, request.param, {}), CompileOptions())
    out = tmp_path_factory.mktemp(request.param)
    write_c(compiled, out)
    return compiled, out, model


def _cc(cmd: list[str]) -> None:
    result = subprocess.run(cmd, capture_output=True, text=True)
    assert result.returncode == 0, f"{' '.join(cmd)}\n{result.stderr}"


def test_host_gcc_strict_c99(generated):
    compiled, out, _ = generated
    name = compiled.code.name
    _cc(["gcc", *STRICT, "-O2", "-I", str(include_dir()), "-I", str(out), "-c", str(out / f"{name}.c"), "-o", os.devnull])
    # The header alone, from C (twice: include guard) and from C++ (extern "C").
    probe = out / "probe.c"
    probe.write_text(f'#include "{name}.h"\n#include "{name}.h"\nint main(void) {{ return {name.upper()}_NUM_INPUTS; }}\n')
    _cc(["gcc", *STRICT, "-I", str(include_dir()), "-I", str(out), "-c", str(probe), "-o", os.devnull])
    if shutil.which("g++"):
        _cc(["g++", "-x", "c++", "-Wall", "-Wextra", "-Werror", "-I", str(include_dir()), "-I", str(out), "-c", str(probe), "-o", os.devnull])


@pytest.mark.skipif(ARM_GCC is None, reason="arm-none-eabi-gcc is not installed (apt-get install gcc-arm-none-eabi)")
@pytest.mark.parametrize("core", ["cortex_m0", "cortex_m7"])
def test_arm_gcc_compiles(generated, core):
    compiled, out, _ = generated
    flags = [ARM_GCC, *STRICT, "-O2", *_arm_cores()[core], "-I", str(include_dir()), "-I", str(out), "-c"]
    _cc([*flags, str(out / f"{compiled.code.name}.c"), "-o", os.devnull])
    for source in kernel_sources(compiled.code.kernels):
        _cc([*flags, str(source), "-o", os.devnull])


_ALLOC = re.compile(r"\b(malloc|calloc|realloc|free|alloca|aligned_alloc)\s*\(")


def test_no_heap_in_generated_code_or_its_kernels(generated):
    compiled, out, _ = generated
    texts = {p.name: p.read_text() for p in out.glob("*.[ch]")}
    texts.update({p.name: p.read_text() for p in kernel_sources(compiled.code.kernels)})
    for name, text in texts.items():
        code = re.sub(r"/\*.*?\*/", "", text, flags=re.S)  # comments may say "no malloc"
        assert not _ALLOC.search(code), f"{name} allocates: {_ALLOC.search(code).group(0)}"


def test_same_model_same_bytes_in_process(generated):
    compiled, _, model = generated
    again = compile_graph(import_model(model, compiled.code.name, {}), CompileOptions())
    assert again.code.header == compiled.code.header
    assert again.code.source == compiled.code.source
    assert again.code.kernels == compiled.code.kernels


def test_same_model_same_bytes_across_processes(generated, tmp_path):
    """Set and dict order must never leak into the output: PYTHONHASHSEED changes it."""
    import onnx

    compiled, _, model = generated
    path = tmp_path / "m.onnx"
    onnx.save(model, str(path))
    results = []
    for seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed, PYTHONPATH=str(REPO / "compiler"))
        out = tmp_path / f"out{seed}"
        run = subprocess.run([sys.executable, "-m", "tinyaot", "compile", str(path), "-o", str(out)],
                             env=env, capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stderr
        results.append({p.name: p.read_bytes() for p in sorted(out.iterdir())})
    assert results[0].keys() == results[1].keys() == {"m.h", "m.c"}
    for name in results[0]:
        assert results[0][name] == results[1][name], f"{name} differs between PYTHONHASHSEED=1 and 2"


# ----------------------------------------------------------------- memory planner


def _check_plan(graph, plan) -> None:
    """The plan against liveness recomputed from the schedule."""
    producers = {out: step for step, node in enumerate(graph.nodes) for out in node.outputs if out}
    alias_of = {
        node.outputs[0]: node.inputs[0] for node in graph.nodes if OPS[node.op].alias and node.outputs and node.outputs[0]
    }
    # An output written in place over its dying input shares that input's bytes, like a view
    # (test_planner.py checks that each such pair is legal).
    alias_of.update(plan.inplace)

    def root(name: str) -> str:
        while name in alias_of:
            name = alias_of[name]
        return name

    pinned = set(graph.inputs) | {root(o) for o in graph.outputs}
    need_first: dict[str, int] = {}
    need_last: dict[str, int] = {}
    for step, node in enumerate(graph.nodes):
        for name in [*node.inputs, *node.outputs]:
            if not name or graph.tensor(name).is_const:
                continue
            r = root(name)
            if r in pinned:
                continue
            need_first[r] = min(need_first.get(r, step), producers[r])
            need_last[r] = max(need_last.get(r, step), step)

    buffers = {b.name: b for b in plan.buffers}
    assert set(buffers) == set(need_first), "planned buffers differ from the intermediates"
    for name, b in buffers.items():
        assert b.size == graph.tensor(name).nbytes
        assert b.offset % ALIGN == 0, f"{name} at unaligned offset {b.offset}"
        assert b.offset + b.size <= plan.workspace_size
        assert b.first <= need_first[name] and b.last >= need_last[name], (
            f"{name} planned live {b.first}..{b.last}, but used {need_first[name]}..{need_last[name]}"
        )
    for i, a in enumerate(plan.buffers):
        for b in plan.buffers[i + 1 :]:
            if a.last < b.first or b.last < a.first or a.size == 0 or b.size == 0:
                continue
            assert a.offset + a.size <= b.offset or b.offset + b.size <= a.offset, (
                f"{a.name} [{a.offset}, {a.offset + a.size}) and {b.name} [{b.offset}, {b.offset + b.size}) "
                f"overlap while both are alive ({a.first}..{a.last} / {b.first}..{b.last})"
            )

    def padded(n: int) -> int:
        return (n + ALIGN - 1) // ALIGN * ALIGN

    lower = max(
        (sum(padded(b.size) for b in plan.buffers if b.first <= s <= b.last) for s in range(len(graph.nodes))),
        default=0,
    )
    assert plan.lower_bound == lower
    assert plan.workspace_size >= plan.lower_bound


@pytest.mark.parametrize("batch", range(6))
def test_planner_properties_on_random_graphs(batch):
    for seed in range(batch * 50, batch * 50 + 50):
        model, _ = random_dag(seed)
        graph = optimize(import_model(model, f"dag{seed}", {}))
        plan = plan_memory(graph)
        try:
            _check_plan(graph, plan)
        except AssertionError as exc:
            raise AssertionError(f"random_dag({seed}): {exc}") from None


def test_planner_properties_on_random_convnets():
    """Layout transposes, fused activations, concat and residual branches: real schedules."""
    checked = 0
    for seed in range(40):
        sample = random_convnet(seed)
        if missing_ops(sample.ops):
            continue
        graph = optimize(import_model(sample.model, f"convnet{seed}", {}))
        try:
            _check_plan(graph, plan_memory(graph))
        except AssertionError as exc:
            raise AssertionError(f"random_convnet({seed}): {exc}") from None
        checked += 1
    if not checked:
        pytest.skip("no random convnet has all its ops in tinyaot.ops.OPS yet")


def test_planner_reuses_memory():
    """A chain of ten same-size layers needs two intermediate buffers, not nine."""
    from onnx import TensorProto, helper, numpy_helper

    from opcheck import model_from_graph

    rng = np.random.default_rng(0)
    nodes = [helper.make_node("Add", [f"t{i}", f"c{i}"], [f"t{i + 1}"]) for i in range(10)]
    consts = [numpy_helper.from_array(rng.standard_normal((4, 8)).astype(np.float32), f"c{i}") for i in range(10)]
    graph_proto = helper.make_graph(
        nodes, "chain", [helper.make_tensor_value_info("t0", TensorProto.FLOAT, [4, 8])],
        [helper.make_tensor_value_info("t10", TensorProto.FLOAT, None)], consts,
    )
    graph = optimize(import_model(model_from_graph(graph_proto), "chain", {}))
    plan = plan_memory(graph, inplace=False)
    _check_plan(graph, plan)
    assert len(plan.buffers) == 9
    assert plan.workspace_size == plan.lower_bound == 2 * 4 * 8 * 4
    # In place, each Add overwrites its dying input: one buffer for the whole chain.
    plan = plan_memory(graph)
    _check_plan(graph, plan)
    assert len(plan.buffers) == 1 and len(plan.inplace) == 8
    assert plan.workspace_size == plan.lower_bound == 4 * 8 * 4


@pytest.mark.parametrize("seed", range(12))
def test_random_dag_matches_onnxruntime(seed):
    model, inputs = random_dag(1000 + seed)
    missing = missing_ops({n.op_type for n in model.graph.node})
    if missing:
        pytest.skip(f"ops not yet in tinyaot.ops.OPS: {', '.join(missing)}")
    check_model(model, inputs, f"random_dag({1000 + seed})")


def test_negative_zero_weights_keep_their_sign():
    """x / [0, -0, 0, -0]: the sign of a zero weight decides +inf or -inf, so the literal
    must be -0.0f (it used to be written 0.0f)."""
    x = np.array([[1.0, 2.0, -3.0, 4.0]], np.float32)
    divisor = np.array([0.0, -0.0, 0.0, -0.0], np.float32)
    model = single_node_model("Div", {"x": x}, initializers={"d": divisor})
    expected = run_onnxruntime(model, {"x": x})["y0"]
    actual = run_tinyaot(model, {"x": x})["y0"]
    np.testing.assert_array_equal(actual, expected)
    assert list(np.signbit(actual[0])) == [False, True, True, True]
    code = compile_graph(import_model(model, "negzero", {}), CompileOptions()).code.source
    assert "-0.0f" in code
