"""Reliability of the generated code and of the compiler on big models.

- Workspace canaries (-DTINYAOT_CANARIES): a model runs unchanged with them, and a kernel
  that writes one element past its workspace buffer, or one before it, makes <name>_run
  return TINYAOT_ERR_CANARY, on the host and on a Cortex-M3 under QEMU. Without the flag
  the same wild write goes unnoticed (it lands in the bytes around the workspace), and the
  preprocessed code has no trace of the canaries.
- Weight literals: the numpy formatter (tinyaot.literals) writes exactly what formatting
  each value on its own (ops.base.c_float, str(int)) writes, for every class of float.
- A ~5 MB float model (1.3 M weights, made here from a seed) compiles in bounded time and
  memory, its C compiles with gcc, and `tinyaot compile --target cortex-m3` says it does
  not fit within seconds.
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import tinyaot
from tinyaot.hostrun import HOST_CFLAGS
from tinyaot.ir import DType
from tinyaot.literals import array_literal
from tinyaot.ops.base import c_float
from tinyaot.pipeline import CompileOptions, compile_model, write_c
from tinyaot.runtime_files import include_dir, kernel_sources
from tinyaot.targets import build_firmware, run_qemu

PYTHONPATH = str(Path(tinyaot.__file__).absolute().parents[1])
CC = os.environ.get("CC", "cc")
TINYAOT_ERR_CANARY = 3
CANARIES = "-DTINYAOT_CANARIES"
# The test's kernel stands in for the real one in the model's C only.
WILD_KERNEL = "-Dtinyaot_unary_math_f32=tinyaot_test_unary_math_f32"

# Runs the model with the wrapped kernel writing nowhere (0), one float past its output
# (1) and one before it (-1). The workspace sits in a bigger arena: a write outside the
# workspace changes the arena's slack instead of something else.
WILD_MAIN = r"""
#include <stdio.h>
#include <string.h>

#include "guarded.h"
#include "tinyaot/kernels.h"

#undef tinyaot_unary_math_f32
void tinyaot_unary_math_f32(const tinyaot_unary_f32_params *p, const float *in, float *out, int32_t n);

static int overrun;

/* The model calls this instead of tinyaot_unary_math_f32 (-D in its compile command). */
void tinyaot_test_unary_math_f32(const tinyaot_unary_f32_params *p, const float *in, float *out, int32_t n) {
  static const uint32_t wild = 0x5A5A5A5Au; /* no zero byte: all 4 show in the slack */
  tinyaot_unary_math_f32(p, in, out, n);
  if (overrun > 0) memcpy(&out[n], &wild, sizeof(wild));
  if (overrun < 0) memcpy(&out[-1], &wild, sizeof(wild));
}

#define SLACK 32u
static uint8_t arena[GUARDED_WORKSPACE_SIZE + 2u * SLACK] TINYAOT_ALIGNED(TINYAOT_WORKSPACE_ALIGN);

int main(void) {
  float x[16], y[16];
  guarded_inputs in;
  guarded_outputs out;
  int mode, i;
  for (i = 0; i < 16; ++i) x[i] = 0.25f * (float)(i - 8);
  in.x = x;
  out.y = y;
  printf("workspace %u\n", (unsigned)GUARDED_WORKSPACE_SIZE);
  for (mode = 0; mode <= 2; ++mode) {
    unsigned changed = 0, sum = 0;
    uint32_t bits;
    int rc;
    overrun = mode == 2 ? -1 : mode;
    memset(arena, 0, sizeof(arena));
    memset(y, 0, sizeof(y));
    rc = guarded_run(&in, &out, arena + SLACK);
    for (i = 0; i < (int)SLACK; ++i) changed += (arena[i] != 0) + (arena[SLACK + GUARDED_WORKSPACE_SIZE + i] != 0);
    for (i = 0; i < 16; ++i) {
      memcpy(&bits, &y[i], sizeof(bits));
      sum = sum * 31u + (unsigned)bits;
    }
    printf("overrun %d: rc %d, slack bytes changed %u, outputs %08x\n", overrun, rc, changed, sum);
  }
  return 0;
}
"""


def _guarded_model(tmp_path: Path):
    """x -> Sigmoid (tinyaot_unary_math_f32, into the workspace) -> Neg -> y: the
    workspace is exactly the Sigmoid's 64-byte output."""
    graph = helper.make_graph(
        [helper.make_node("Sigmoid", ["x"], ["s"]), helper.make_node("Neg", ["s"], ["y"])], "guarded",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 16])])
    path = tmp_path / "guarded.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    model = compile_model(path, CompileOptions(name="guarded"))
    assert "unary_math_f32" in model.code.kernels
    assert model.plan.workspace_size == 64 and [b.offset for b in model.plan.buffers] == [0]
    return model


def _host_build(model, main_source: str, build: Path, model_flags: tuple[str, ...]) -> Path:
    """The model's C and main with model_flags, the runtime kernels without them."""
    build.mkdir(parents=True, exist_ok=True)
    write_c(model, build)
    (build / "main.c").write_text(main_source)
    include = ["-I", str(include_dir()), "-I", str(build)]
    objects = []
    for source, flags in [(build / f"{model.code.name}.c", model_flags), (build / "main.c", model_flags),
                          *((k, ()) for k in kernel_sources(model.code.kernels))]:
        obj = build / f"{source.stem}.o"
        subprocess.run([CC, *HOST_CFLAGS, *flags, *include, "-c", str(source), "-o", str(obj)], check=True)
        objects.append(str(obj))
    exe = build / "guarded"
    subprocess.run([CC, *objects, "-lm", "-o", str(exe)], check=True)
    return exe


def _parse(output: str) -> tuple[int, dict[int, tuple[int, int, str]]]:
    size = int(re.search(r"^workspace (\d+)$", output, re.M).group(1))
    runs = {int(m[0]): (int(m[1]), int(m[2]), m[3])
            for m in re.findall(r"^overrun (-?\d+): rc (\d+), slack bytes changed (\d+), outputs (\w+)$", output, re.M)}
    assert sorted(runs) == [-1, 0, 1], output
    return size, runs


def test_canaries_catch_writes_outside_the_workspace_on_the_host(tmp_path):
    model = _guarded_model(tmp_path)
    plain = subprocess.run([_host_build(model, WILD_MAIN, tmp_path / "plain", (WILD_KERNEL,))],
                           capture_output=True, text=True, check=True).stdout
    guarded = subprocess.run([_host_build(model, WILD_MAIN, tmp_path / "guarded", (CANARIES, WILD_KERNEL))],
                             capture_output=True, text=True, check=True).stdout
    size, runs = _parse(plain)
    assert size == 64
    # Without canaries the wild writes succeed silently: rc 0, and 4 bytes around the
    # workspace changed (the caller's memory in a real program).
    assert runs == {0: (0, 0, runs[0][2]), 1: (0, 4, runs[0][2]), -1: (0, 4, runs[0][2])}
    size, guarded_runs = _parse(guarded)
    assert size == 64 + 2 * 16
    # With them: the clean run returns OK with the same outputs; a write one float past the
    # workspace or one before it hits a guard (and only the guard: the slack is intact).
    assert guarded_runs[0] == runs[0]
    assert guarded_runs[1][:2] == (TINYAOT_ERR_CANARY, 0)
    assert guarded_runs[-1][:2] == (TINYAOT_ERR_CANARY, 0)


def test_canaries_change_nothing_without_the_flag(tmp_path):
    model = _guarded_model(tmp_path)
    write_c(model, tmp_path)
    include = ["-I", str(include_dir()), "-I", str(tmp_path)]
    plain = subprocess.run([CC, "-E", "-P", *include, str(tmp_path / "guarded.c")], capture_output=True, text=True,
                           check=True).stdout
    assert "canary" not in plain.lower()
    assert "&& 64u > 0)" in plain  # the planned size, nothing added
    guarded = subprocess.run([CC, "-E", "-P", CANARIES, *include, str(tmp_path / "guarded.c")], capture_output=True,
                             text=True, check=True).stdout
    assert "tinyaot_canary_intact" in guarded and "&& (64u + 2u * 16u) > 0)" in guarded


@pytest.mark.parametrize("seed", [0, 1])
def test_canaries_on_a_convnet_give_identical_outputs(tmp_path, seed):
    """A seeded random convnet (many planned buffers) through the file-I/O main of
    `tinyaot run`, with and without the guards: the same output bytes."""
    from random_models import random_convnet
    from tinyaot.harness import file_io_main

    case = random_convnet(seed)
    onnx.save(case.model, tmp_path / "net.onnx")
    model = compile_model(tmp_path / "net.onnx", CompileOptions(name="net"))
    assert len(model.plan.buffers) > 2
    inputs = []
    for i, name in enumerate(model.graph.inputs):
        inputs.append(tmp_path / f"in{i}.bin")
        inputs[-1].write_bytes(np.ascontiguousarray(case.inputs[name], np.float32).tobytes())
    results = []
    for build, flags in (("plain", ()), ("guarded", (CANARIES,))):
        exe = _host_build(model, file_io_main(model.graph, model.code), tmp_path / build, flags)
        outputs = [tmp_path / build / f"out{i}.bin" for i in range(len(model.graph.outputs))]
        subprocess.run([exe, *map(str, inputs), *map(str, outputs)], check=True)
        results.append([path.read_bytes() for path in outputs])
    assert results[0] == results[1] and all(results[0])


def test_canaries_on_the_cortex_m3(tmp_path):
    if shutil.which("arm-none-eabi-gcc") is None or shutil.which("qemu-system-arm") is None:
        pytest.skip("needs arm-none-eabi-gcc and qemu-system-arm")
    model = _guarded_model(tmp_path)
    elf = build_firmware(model, "cortex_m3", tmp_path / "fw", WILD_MAIN, (CANARIES, WILD_KERNEL))
    run = run_qemu(elf, "cortex_m3", tmp_path / "fw", timeout=60)
    assert run.exit_code == 0, run.output
    size, runs = _parse(run.output)
    assert size == 96
    assert runs[0][:2] == (0, 0)
    assert runs[1][:2] == (TINYAOT_ERR_CANARY, 0) and runs[-1][:2] == (TINYAOT_ERR_CANARY, 0)


# --- Weight literals -----------------------------------------------------------------------

def _one_value_at_a_time(data: np.ndarray, dtype: DType) -> str:
    """The reference: each value formatted on its own, as codegen did before tinyaot.literals."""
    flat = data.reshape(-1)
    if dtype == DType.FLOAT32:
        items = [c_float(v) for v in flat.astype(np.float32)]
    else:
        items = [str(int(v)) + ("LL" if dtype == DType.INT64 else "") for v in flat.astype(np.int64)]
    per_line = {1: 16, 2: 12, 4: 8, 8: 4}[dtype.itemsize]
    lines = ["  " + ", ".join(items[i : i + per_line]) + "," for i in range(0, len(items), per_line)]
    return "{\n" + "\n".join(lines) + "\n}"


def test_float_literals_equal_c_float_for_every_kind_of_value():
    rng = np.random.default_rng(7)
    edge = np.array([0, 0x80000000, 1, 0x80000001, 0x007FFFFF, 0x00400000, 0x00000100, 0x00800000,
                     0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00001, 0x7F800001, 0x4B800000, 0x4B7FFFFF,
                     0xCB7FFFFF, 0x4B800001, 0x3F800000, 0xBF800000, 0x3F000000, 0x3DCCCCCD, 0x7F7FFFFF,
                     0xFF7FFFFF], dtype=np.uint32)
    cases = {
        "every bit pattern class": np.concatenate([rng.integers(0, 2**32, 50_000, dtype=np.uint64).astype(np.uint32),
                                                   edge]).view(np.float32),
        "integers": np.concatenate([rng.integers(-2**25, 2**25, 5_000), np.arange(-300, 300)]).astype(np.float32),
        "weights": rng.standard_normal(30_001).astype(np.float32),
        "float64 data": rng.standard_normal(99) * 1e-3,
        "one value": np.float32([0.1]),
        "a partial line": edge.view(np.float32)[:13],
    }
    for what, values in cases.items():
        assert array_literal(values, DType.FLOAT32) == _one_value_at_a_time(values, DType.FLOAT32), what
    assert array_literal(np.zeros(0, np.float32), DType.FLOAT32) == "{0}"


@pytest.mark.parametrize("dtype", [DType.INT8, DType.UINT8, DType.INT16, DType.INT32, DType.INT64, DType.BOOL])
def test_integer_literals_equal_str(dtype):
    rng = np.random.default_rng(3)
    if dtype == DType.BOOL:
        values = rng.integers(0, 2, 1001).astype(bool)
    else:
        info = np.iinfo(dtype.numpy)
        values = rng.integers(info.min, info.max, 10_007, endpoint=True, dtype=dtype.numpy)
        values[:4] = [info.min, info.max, 0, -1 if info.min < 0 else 1]
    assert array_literal(values, dtype) == _one_value_at_a_time(values, dtype)


# --- A model with megabytes of weights -----------------------------------------------------

BIG_SIZES = (512, 1024, 768, 10)  # 1.32 M float32 weights and biases: 5.3 MB
COMPILE_LIMIT_S = 60.0  # generous for a loaded 2-core machine; about 2 s on an idle one
MISFIT_LIMIT_S = 10.0


def _big_mlp(path: Path, seed: int = 0) -> int:
    """A seeded Gemm/Relu MLP; returns its number of weights."""
    rng = np.random.default_rng(seed)
    nodes, weights, previous = [], [], "x"
    for k, (rows, cols) in enumerate(zip(BIG_SIZES[:-1], BIG_SIZES[1:])):
        weights += [numpy_helper.from_array((rng.standard_normal((rows, cols)) / np.sqrt(rows)).astype(np.float32), f"w{k}"),
                    numpy_helper.from_array((0.1 * rng.standard_normal(cols)).astype(np.float32), f"b{k}")]
        last = k == len(BIG_SIZES) - 2
        nodes.append(helper.make_node("Gemm", [previous, f"w{k}", f"b{k}"], ["y" if last else f"g{k}"]))
        if not last:
            nodes.append(helper.make_node("Relu", [f"g{k}"], [f"h{k}"]))
            previous = f"h{k}"
    graph = helper.make_graph(nodes, "big", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, BIG_SIZES[0]])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, BIG_SIZES[-1]])], weights)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return sum(int(np.prod(w.dims)) for w in weights)


def _cli(*args: str) -> tuple[subprocess.CompletedProcess, float, int]:
    """Runs `tinyaot` in a child; returns the result, the wall time and its peak RSS (KiB)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "tinyaot", *args], capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": PYTHONPATH})
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return result, elapsed, peak if peak > before else -1  # -1: hidden by an earlier, bigger child


@pytest.fixture(scope="module")
def big_model(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("big") / "big.onnx"
    assert _big_mlp(path) > 1_300_000
    return path


def test_megabytes_of_weights_compile_in_bounded_time_and_memory(big_model, tmp_path):
    result, elapsed, peak_kib = _cli("compile", str(big_model), "-o", str(tmp_path))
    print(f"\nbig model (5.3 MB of float weights): tinyaot compile {elapsed:.1f} s, peak RSS {peak_kib / 1024:.0f} MiB")
    assert result.returncode == 0, result.stderr
    assert elapsed < COMPILE_LIMIT_S
    assert peak_kib < 1024 * 1024  # the C text is 22 MB; a GiB means something holds it many times over
    source = (tmp_path / "big.c").read_text()
    assert source.count("p-") + source.count("p+") > 1_300_000  # the weights, as hex floats
    start = time.perf_counter()
    subprocess.run([CC, *HOST_CFLAGS, "-I", str(include_dir()), "-I", str(tmp_path), "-c", str(tmp_path / "big.c"),
                    "-o", str(tmp_path / "big.o")], check=True)
    print(f"gcc -c of the 22 MB C: {time.perf_counter() - start:.1f} s")


def test_a_model_too_big_for_the_board_fails_in_seconds(big_model, tmp_path):
    result, elapsed, _ = _cli("compile", str(big_model), "--target", "cortex-m3", "-o", str(tmp_path / "out"))
    print(f"\nbig model on cortex-m3: misfit reported in {elapsed:.1f} s")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "does not fit cortex-m3" in lines[0] and "flash needs 5,3" in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()  # checked before any C is written
    assert elapsed < MISFIT_LIMIT_S


def _constant_graph_model(path: Path, node: onnx.NodeProto, constants: dict[str, np.ndarray]) -> None:
    """A model whose only constant subgraph is `node` (output 'c', unused); x + x is its real work."""
    graph = helper.make_graph(
        [node, helper.make_node("Add", ["x", "x"], ["y"], name="add")], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
        initializer=[numpy_helper.from_array(v, k) for k, v in constants.items()])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)


@pytest.mark.parametrize("op", ["ConstantOfShape", "Expand", "Range"])
def test_a_huge_folded_constant_is_refused_before_it_is_allocated(op, tmp_path):
    # 3.2e9 / 3.6e9 / 2^40 elements: numpy would try to allocate 12 GiB to 8 TiB.
    if op == "ConstantOfShape":
        node = helper.make_node(op, ["s"], ["c"], name="big", value=helper.make_tensor("v", TensorProto.FLOAT, [1], [1]))
        constants = {"s": np.array([40000, 40000, 2], np.int64)}
    elif op == "Expand":
        node = helper.make_node(op, ["one", "s"], ["c"], name="big")
        constants = {"one": np.ones([1], np.float32), "s": np.array([60000, 60000], np.int64)}
    else:
        node = helper.make_node(op, ["start", "limit", "delta"], ["c"], name="big")
        constants = {"start": np.array(0, np.int64), "limit": np.array(2**40, np.int64), "delta": np.array(1, np.int64)}
    _constant_graph_model(tmp_path / "m.onnx", node, constants)
    result, elapsed, peak_kib = _cli("compile", str(tmp_path / "m.onnx"), "-o", str(tmp_path / "out"))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"node 'big' ({op})" in lines[0] and "at most 2^31 - 1" in lines[0], result.stderr
    assert peak_kib < 512 * 1024
