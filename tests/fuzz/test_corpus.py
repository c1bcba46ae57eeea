"""Replays the minimised crashers the fuzzer found (corpus/, each named after its bug): each
must now end in success or in one TinyaotError, in process and through the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from fuzzlib import CORPUS, Checker, check_cli

CASES = sorted(p for p in CORPUS.iterdir() if p.suffix in (".onnx", ".tflite"))


def test_corpus_is_there():
    assert len(CASES) >= 10, f"corpus {CORPUS} holds {len(CASES)} models"


@pytest.mark.parametrize("path", CASES, ids=[p.name for p in CASES])
def test_replay(path: Path, tmp_path, cases):
    Checker(tmp_path, cases, "corpus").check_bytes(path.read_bytes(), path.suffix, always_gcc=True)


@pytest.mark.parametrize("path", CASES[::4], ids=[p.name for p in CASES[::4]])
def test_replay_cli(path: Path, tmp_path, cases):
    check_cli(path.read_bytes(), path.suffix, "info", tmp_path, cases)
