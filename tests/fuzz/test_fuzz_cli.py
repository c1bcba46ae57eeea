"""The CLI under fuzzed models: `tinyaot compile / info / run` in a subprocess with bounded time
and address space. Each case ends in exit code 0 with nothing on stderr, or in exit code 2
with exactly one line `tinyaot: error: ...` (never a traceback, never an internal error)."""

from __future__ import annotations

from pathlib import Path

from fuzzlib import REPO, SEED_MODELS, byte_edits, check_cli, fuzz_settings, inputs_npz, mutate
from hypothesis import assume, given
from hypothesis import strategies as st
from onnx_gen import onnx_models
from tflite_gen import tflite_models

commands = st.sampled_from(["compile", "info", "run"])
edits = byte_edits(4)


def test_cli_onnx(tmp_path, cases):
    @fuzz_settings(10)
    @given(onnx_models(), commands)
    def prop(data: bytes, command: str) -> None:
        check_cli(data, ".onnx", command, tmp_path, cases)

    prop()


def test_cli_tflite(tmp_path, cases):
    @fuzz_settings(10)
    @given(tflite_models(), commands)
    def prop(data: bytes, command: str) -> None:
        check_cli(data, ".tflite", command, tmp_path, cases)

    prop()


def test_cli_mutated_real_models(tmp_path, cases):
    seeds = [(REPO / m).read_bytes() for m in SEED_MODELS]

    @fuzz_settings(8)
    @given(st.integers(0, len(seeds) - 1), edits, commands)
    def prop(seed: int, changes, command: str) -> None:
        check_cli(mutate(seeds[seed], changes), Path(SEED_MODELS[seed]).suffix, command, tmp_path, cases)

    prop()


def test_cli_run_compiling_models(tmp_path, cases):
    """`run` end to end (compile, build with the host gcc, execute) on generated models that
    compile: the contract covers the run and the output writing too."""
    @fuzz_settings(6)
    @given(st.one_of(onnx_models().map(lambda d: (d, ".onnx")), tflite_models().map(lambda d: (d, ".tflite"))))
    def prop(case) -> None:
        data, suffix = case
        (tmp_path / f"probe{suffix}").write_bytes(data)
        assume(inputs_npz(tmp_path / f"probe{suffix}", tmp_path / "probe.npz"))
        check_cli(data, suffix, "run", tmp_path, cases)

    prop()
