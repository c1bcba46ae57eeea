"""ONNX frontend fuzzing: random valid-ish graphs, and mutated bytes of small and real models."""

from __future__ import annotations

import pytest
from fuzzlib import REPO, SEED_MODELS, Checker, byte_edits, fuzz_settings, mutate
from hypothesis import given
from onnx_gen import onnx_models, real_model_edits

edits = byte_edits()


def test_random_graphs(tmp_path, cases):
    checker = Checker(tmp_path, cases, "onnx graphs")

    @fuzz_settings(4000)
    @given(onnx_models())
    def prop(data: bytes) -> None:
        checker.check_bytes(data, ".onnx")

    prop()


def test_mutated_small_models(tmp_path, cases):
    checker = Checker(tmp_path, cases, "onnx small mutations")

    @fuzz_settings(1500)
    @given(onnx_models(), edits)
    def prop(data: bytes, changes) -> None:
        checker.check_bytes(mutate(data, changes), ".onnx", strict=False)

    prop()


@pytest.mark.parametrize("seed", [m for m in SEED_MODELS if m.endswith(".onnx")])
def test_mutated_real_models(tmp_path, cases, seed):
    checker = Checker(tmp_path, cases, "onnx model mutations")
    original = (REPO / seed).read_bytes()

    @fuzz_settings(60)
    @given(edits)
    def prop(changes) -> None:
        checker.check_bytes(mutate(original, changes), ".onnx", strict=False)

    prop()


@pytest.mark.parametrize("seed", [m for m in SEED_MODELS if m.endswith(".onnx")])
def test_edited_real_models(tmp_path, cases, seed):
    checker = Checker(tmp_path, cases, "onnx model edits")

    @fuzz_settings(100)
    @given(real_model_edits((REPO / seed).read_bytes()))
    def prop(data: bytes) -> None:
        checker.check_bytes(data, ".onnx")

    prop()
