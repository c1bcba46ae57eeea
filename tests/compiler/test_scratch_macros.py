"""The FC / conv scratch sizes in ops/qconv.py equal the C macros the kernels use
(TINYAOT_QFULLY_CONNECTED_S8_SCRATCH, TINYAOT_QCONV2D_S8_SCRATCH in tinyaot/quantized.h),
and do not grow with the output channels: the DSP kernels derive their per-channel
requantization constants per block of channels instead of keeping a table in the scratch."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tinyaot.ops.qconv import conv_scratch, fully_connected_scratch
from tinyaot.runtime_files import include_dir

SIZES = [(1, 1), (3, 2), (4, 64), (8, 16), (27, 8), (40, 64), (64, 64), (129, 7), (640, 128), (2304, 1000)]


@pytest.mark.skipif(shutil.which("gcc") is None, reason="no host C compiler")
def test_python_mirror_equals_the_c_macros(tmp_path: Path):
    rows = "\n".join(
        f'  printf("%d %d %d %d\\n", {d}, {c}, (int)TINYAOT_QFULLY_CONNECTED_S8_SCRATCH({d}, {c}), '
        f"(int)TINYAOT_QCONV2D_S8_SCRATCH({d}, {c}));" for d, c in SIZES)
    source = tmp_path / "macros.c"
    source.write_text(f'#include <stdio.h>\n#include "tinyaot/quantized.h"\nint main(void) {{\n{rows}\n  return 0;\n}}\n')
    exe = tmp_path / "macros"
    subprocess.run(["gcc", "-std=c99", "-I", str(include_dir()), str(source), "-o", str(exe)], check=True)
    for line in subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout.splitlines():
        depth, out_c, fc, conv = map(int, line.split())
        assert fully_connected_scratch(depth, out_c) == fc, (depth, out_c)
        assert conv_scratch(depth) == conv, depth


def test_scratch_does_not_grow_with_channels():
    for depth in (8, 64, 640):
        assert fully_connected_scratch(depth, 1) == fully_connected_scratch(depth, 1024)
        assert fully_connected_scratch(depth, 1024) <= max(16 * ((depth + 3) // 4) + 512, 1280)
        assert conv_scratch(depth) <= 20 * ((depth + 3) // 4) + 128
