"""The fuzz contract and the pieces the fuzz tests share.

Contract, for any bytes given as a model: `compile_model` ends in success or in exactly one
`TinyaotError` (never another exception type), within a time bound, within the address-space
limit conftest.py sets; and the C of a success compiles with `gcc -std=c99 -Wall -Wextra
-Werror` (checked on a deterministic sample of the successes to bound the time).
"""

from __future__ import annotations

import hashlib
import os
import re
import resource
import signal
import subprocess
import sys
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from tinyaot.errors import TinyaotError
from tinyaot.pipeline import CompiledModel, CompileOptions, compile_model, write_c
from tinyaot.runtime_files import include_dir

REPO = Path(__file__).absolute().parents[2]
CORPUS = Path(__file__).absolute().parent / "corpus"
# Small real models the mutations start from (the big ones cost ~0.2 s per successful parse).
SEED_MODELS = ("models/kws_ref_model.onnx", "models/pretrainedResnet_quant.onnx",
               "models/tflite/kws_ref_model.tflite", "models/tflite/pretrainedResnet_quant.tflite")

CASE_SECONDS = 30  # a case taking longer is a hang (generous: CI machines are shared)
GCC = ("gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-c", "-o", os.devnull)
GCC_SAMPLE = 8  # compile the C of one success in GCC_SAMPLE (chosen by the case's hash)
GCC_BUDGET = 60  # at most this many gcc runs per test, whatever the sample gives
# An exception message wrapped into a TinyaotError by a catch-all: a bug behind a friendly line.
_MASKED = re.compile(r"\b(IndexError|KeyError|TypeError|AttributeError|ZeroDivisionError|UnboundLocalError|"
                     r"AssertionError|NameError|RecursionError|MemoryError)\b")


def fuzz_settings(examples: int) -> settings:
    """Deterministic (derandomize, no example database) so CI runs the same cases every time.
    TINYAOT_FUZZ_SCALE=k (a local bug hunt): k times the cases, new random ones each run."""
    scale = int(os.environ.get("TINYAOT_FUZZ_SCALE", "0"))
    return settings(max_examples=examples * max(scale, 1), derandomize=not scale, database=None, deadline=None,
                    print_blob=bool(scale), suppress_health_check=list(HealthCheck))


class Hang(Exception):
    """Raised by the alarm: the case ran past CASE_SECONDS."""


@contextmanager
def time_bound(seconds: int = CASE_SECONDS):
    def on_alarm(signum, frame):
        raise Hang(f"compile did not finish within {seconds} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@dataclass
class Checker:
    """Runs cases against the contract and counts them (kind -> cases) for the summary."""

    workdir: Path
    cases: Counter
    kind: str
    gcc_runs: int = 0

    def check_bytes(self, data: bytes, suffix: str, strict: bool = True,
                    always_gcc: bool = False) -> CompiledModel | TinyaotError:
        """Compile `data` as a model file. `strict`: the bytes are a well-formed container (built
        by onnx.helper / tflite_builder), so an error line carrying a Python exception name is
        a bug hidden by a catch-all. `always_gcc`: compile the C of a success, not a sample."""
        path = self.workdir / f"case{suffix}"
        path.write_bytes(data)
        self.cases[self.kind] += 1
        try:
            return self._check(path, data, strict, always_gcc)
        except Exception as exc:
            _save_crasher(data, suffix, exc)
            if os.environ.get("TINYAOT_FUZZ_TRIAGE"):  # collect every crash site in one run
                return exc
            raise

    def _check(self, path: Path, data: bytes, strict: bool, always_gcc: bool) -> CompiledModel | TinyaotError:
        try:
            with time_bound():
                model = compile_model(path, CompileOptions(name="fuzz"))
        except TinyaotError as exc:
            message = str(exc)
            assert message.strip(), "TinyaotError without a message"
            if strict:
                assert not _MASKED.search(message), f"internal error behind a TinyaotError: {message}"
            return exc
        sampled = int(hashlib.sha256(data).hexdigest(), 16) % GCC_SAMPLE == 0 and self.gcc_runs < GCC_BUDGET
        if always_gcc or sampled:
            self.gcc_runs += 1
            gcc_check(model, self.workdir / "c")
        return model


def _save_crasher(data: bytes, suffix: str, exc: BaseException) -> None:
    """With TINYAOT_FUZZ_SAVE=dir, keep the smallest input per crash site there (for triage and
    for the corpus; hypothesis shrinks, so the last one saved is usually minimal)."""
    folder = os.environ.get("TINYAOT_FUZZ_SAVE")
    if not folder:
        return
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    site = f"{Path(tb.tb_frame.f_code.co_filename).stem}_{tb.tb_lineno}" if tb else "unknown"
    path = Path(folder) / f"{type(exc).__name__}_{site}{suffix}"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or len(data) < path.stat().st_size:
        path.write_bytes(data)


def gcc_check(model: CompiledModel, out_dir: Path) -> None:
    [_, source] = write_c(model, out_dir)
    result = subprocess.run([*GCC, "-I", str(include_dir()), str(source)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"generated C does not compile:\n{result.stderr[:3000]}"


# ----------------------------------------------------------------------------- CLI

COMPILER_DIR = Path(__file__).absolute().parents[2] / "compiler"
CLI_SECONDS = 300  # generous: `run` builds the C, and CI machines are shared
CLI_ADDRESS_SPACE = 4 << 30
RUN_MAX_ELEMENTS = 1 << 16  # `run` only models whose inputs are small


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (CLI_ADDRESS_SPACE, CLI_ADDRESS_SPACE))


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(COMPILER_DIR), env.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-m", "tinyaot", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=CLI_SECONDS, preexec_fn=_limit_memory)


def assert_contract(result: subprocess.CompletedProcess) -> None:
    if result.returncode == 0:
        assert not result.stderr, result.stderr
        return
    lines = result.stderr.splitlines()
    assert result.returncode == 2, f"exit code {result.returncode}, stderr:\n{result.stderr[-3000:]}"
    assert len(lines) == 1 and lines[0].startswith("tinyaot: error: "), f"stderr is not one error line:\n{result.stderr}"


def inputs_npz(model_path: Path, npz: Path) -> bool:
    """Random inputs of the model's input types into `npz`; False when it does not compile in
    process (the CLI then reports that itself) or its inputs are too big to run quickly."""
    try:
        graph = compile_model(model_path, CompileOptions(name="fuzz")).graph
    except TinyaotError:
        return False
    tensors = [graph.tensor(name) for name in graph.inputs]
    if sum(t.size for t in tensors) > RUN_MAX_ELEMENTS:
        return False
    rng = np.random.default_rng(0)
    np.savez(npz, **{t.name: rng.standard_normal(t.shape).astype(t.dtype.numpy) for t in tensors})
    return True


def check_cli(data: bytes, suffix: str, command: str, workdir: Path, cases) -> None:
    model = workdir / f"case{suffix}"
    model.write_bytes(data)
    if command == "compile":
        result = run_cli("compile", str(model), "-o", str(workdir / "out"), "--name", "fuzz", cwd=workdir)
    elif command == "run" and inputs_npz(model, workdir / "in.npz"):
        result = run_cli("run", str(model), "--inputs", str(workdir / "in.npz"), "--outputs",
                         str(workdir / "out.npz"), cwd=workdir)
    else:
        command = "info"
        result = run_cli("info", str(model), cwd=workdir)
    cases[f"cli {command}"] += 1
    assert_contract(result)


# ----------------------------------------------------------------------------- bytes


def byte_edits(max_size: int = 6):
    """A strategy of 1..max_size (kind, position, value) edits for `mutate`."""
    return st.lists(st.tuples(st.integers(0, 4), st.integers(0, 2**31), st.integers(0, 255)), min_size=1,
                    max_size=max_size)


def mutate(data: bytes, edits: list[tuple[int, int, int]]) -> bytes:
    """Apply (kind, position, value) edits: 0 flips bit value%8, 1 sets the byte, 2 truncates,
    3 deletes value%16+1 bytes, 4 duplicates value%16+1 bytes. Positions wrap to the data."""
    out = bytearray(data)
    for kind, position, value in edits:
        if not out:
            break
        at = position % len(out)
        if kind == 0:
            out[at] ^= 1 << (value % 8)
        elif kind == 1:
            out[at] = value % 256
        elif kind == 2:
            del out[at:]
        elif kind == 3:
            del out[at:at + value % 16 + 1]
        else:
            out[at:at] = out[at:at + value % 16 + 1]
    return bytes(out)
