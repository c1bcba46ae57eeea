"""Where the C runtime lives: runtime/ beside compiler/ in the repository (also for an
editable install), or TINYAOT_RUNTIME when the package is used from elsewhere."""

from __future__ import annotations

import os
from pathlib import Path

from tinyaot.errors import TinyaotError


def runtime_dir() -> Path:
    env = os.environ.get("TINYAOT_RUNTIME")
    candidates = [Path(env)] if env else []
    # absolute(), not resolve(): under Bazel the runtime must come from runfiles, where
    # it is a declared input, not from the source tree behind the symlinks.
    candidates.append(Path(__file__).absolute().parents[2] / "runtime")
    for candidate in candidates:
        if (candidate / "include" / "tinyaot" / "tinyaot.h").is_file():
            return candidate
    raise TinyaotError("cannot find the tinyaot C runtime; set TINYAOT_RUNTIME to its folder")


def include_dir() -> Path:
    return runtime_dir() / "include"


# Optimized paths of a kernel live beside its portable file (`<k>.c`) as `<k>_<path>.c`;
# `tinyaot/simd.h` picks, per core, which file defines the kernel's public symbol. A model
# needs all of them: the generated C does not depend on the core.
SIMD_PATHS = ("dsp", "mve")


def kernel_sources(kernels: tuple[str, ...]) -> list[Path]:
    root = runtime_dir() / "kernels"
    sources = []
    for k in kernels:
        sources.append(root / f"{k}.c")
        sources.extend(root / f"{k}_{path}.c" for path in SIMD_PATHS if (root / f"{k}_{path}.c").is_file())
    return sources
