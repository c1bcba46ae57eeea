"""The same model gives the same bytes on any machine: generated C, MLF archives and
firmware ELFs (built by tinyaot.targets with arm-none-eabi-gcc, without Bazel).

Two "machines" are two copies of the compiler, the runtime, the board files and the models
at different absolute paths (of different lengths), each driven by its own Python process
with its own PYTHONHASHSEED (set and dict order of strings), working directory and build
directory. Both write every MLPerf Tiny model's C (`tinyaot compile`), two MLF archives
(`tinyaot export --format mlf`, .tar and .tar.gz) and three firmware images: KWS float on
the M7, plain and with `-g` in the model's flags (debug info records source paths, which
tinyaot.targets maps to fixed prefixes), and KWS int8 on the M55 (the MVE kernel files).
Every file must be byte-identical. Bazel's builds are covered by
tools/remote_cache/cache_test.sh (two checkouts at different paths, a clean rebuild).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from models_table import ROOT, built

pytestmark = pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="needs arm-none-eabi-gcc")

# What a checkout needs for compile, export and build_firmware (//compiler:tinyaot's data).
TREES = ("compiler/tinyaot", "runtime", "platforms")
FILES = ("docs/mlf_schema.json",)

MACHINE = r"""
import sys
from pathlib import Path

from tinyaot.cli import main
from tinyaot.pipeline import CompileOptions, compile_model
from tinyaot.targets import build_firmware

out, models = Path(sys.argv[1]), Path(sys.argv[2])
for model in sorted(models.iterdir()):
    assert main(["compile", str(model), "-o", str(out / "c" / model.name)]) == 0, model
(out / "mlf").mkdir()
for name, suffix in (("kws_ref_model_float32_dq.onnx", ".tar"), ("kws_ref_model.tflite", ".tar.gz")):
    assert main(["export", str(models / name), "--format", "mlf", "-o", str(out / "mlf" / (name + suffix))]) == 0
for name, core, flags in (("kws_ref_model_float32_dq.onnx", "cortex_m7", ()),
                          ("kws_ref_model_float32_dq.onnx", "cortex_m7", ("-g",)),
                          ("kws_ref_model.tflite", "cortex_m55", ())):
    model = compile_model(models / name, CompileOptions(name="kws"))
    build = Path("build-" + core + "".join(flags))  # relative to this machine's working directory
    elf = build_firmware(model, core, build, model_cflags=flags)
    (out / "elf").mkdir(parents=True, exist_ok=True)
    elf.replace(out / "elf" / (elf.name + "".join(flags)))
"""


def _snapshot(base: Path) -> Path:
    """The files a machine needs, copied once (the working tree may change meanwhile)."""
    for tree in TREES:
        shutil.copytree(ROOT / tree, base / "checkout" / tree, ignore=shutil.ignore_patterns("__pycache__"))
    for name in FILES:
        (base / "checkout" / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / name, base / "checkout" / name)
    (base / "models").mkdir()
    for _, _, path, _ in built():
        shutil.copyfile(path, base / "models" / path.name)
    return base


def _machine(snapshot: Path, base: Path, hash_seed: str) -> Path:
    """The snapshot copied under `base`, run from its own working directory; returns its outputs."""
    shutil.copytree(snapshot, base)
    models = base / "models"
    work = base / "work"
    work.mkdir()
    env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(base / "checkout" / "compiler"),
           "TINYAOT_REPO": str(base / "checkout")}
    env.pop("TINYAOT_RUNTIME", None)
    result = subprocess.run([sys.executable, "-c", MACHINE, str(base / "out"), str(models)], cwd=work, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return base / "out"


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_c_archives_and_elfs_are_the_same_from_two_checkouts(tmp_path):
    snapshot = _snapshot(tmp_path / "snapshot")
    first = _files(_machine(snapshot, tmp_path / "a", "0"))
    second = _files(_machine(snapshot, tmp_path / "machine_b" / "somewhere" / "deeper", "4242"))
    assert first.keys() == second.keys()
    kinds = {name.split("/")[0] for name in first}
    assert kinds == {"c", "mlf", "elf"} and sum(name.startswith("elf/") for name in first) == 3
    assert len([n for n in first if n.startswith("c/")]) == 2 * len(built())
    differ = sorted(name for name in first if first[name] != second[name])
    assert not differ, f"{len(differ)} of {len(first)} files differ: {differ[:8]}"
    for name, data in first.items():  # neither machine's paths got into any output
        assert str(tmp_path).encode() not in data, name
