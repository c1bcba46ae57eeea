"""TFLite frontend fuzzing: random valid-ish models, and mutated bytes of small and real models."""

from __future__ import annotations

import pytest
from fuzzlib import REPO, SEED_MODELS, Checker, byte_edits, fuzz_settings, mutate
from hypothesis import given
from tflite_gen import tflite_models

edits = byte_edits()


def test_random_models(tmp_path, cases):
    checker = Checker(tmp_path, cases, "tflite models")

    @fuzz_settings(3500)
    @given(tflite_models())
    def prop(data: bytes) -> None:
        checker.check_bytes(data, ".tflite")

    prop()


def test_mutated_small_models(tmp_path, cases):
    checker = Checker(tmp_path, cases, "tflite small mutations")

    @fuzz_settings(1500)
    @given(tflite_models(), edits)
    def prop(data: bytes, changes) -> None:
        checker.check_bytes(mutate(data, changes), ".tflite", strict=False)

    prop()


@pytest.mark.parametrize("seed", [m for m in SEED_MODELS if m.endswith(".tflite")])
def test_mutated_real_models(tmp_path, cases, seed):
    checker = Checker(tmp_path, cases, "tflite model mutations")
    original = (REPO / seed).read_bytes()

    @fuzz_settings(60)
    @given(edits)
    def prop(changes) -> None:
        checker.check_bytes(mutate(original, changes), ".tflite", strict=False)

    prop()
