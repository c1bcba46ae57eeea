"""OpDef.overlap of the int8 convolutions (ops/qconv.py) against its C mirror in
tests/kernels/overlap_test.c, which runs the kernels of every core over their inputs at those
gaps: the two must agree on random shapes, or the kernel tests prove a different formula."""

from __future__ import annotations

import random
import shutil
import subprocess
from pathlib import Path

import pytest

from tinyaot.ops.qconv import Window2d, depthwise_gap, fully_connected_gap, pixel_gap

ROOT = Path(__file__).resolve().parents[2]
KERNELS = ["qdepthwise_conv2d_s8", "qfully_connected_s8", "qconv2d_s8"]

DRIVER = r"""
#define main overlap_test_main
#include "overlap_test.c"
#undef main

/* stdin: one case per line; stdout: "gap step" or "none" */
int main(void) {
  char kind[8];
  while (scanf("%7s", kind) == 1) {
    tinyaot_qconv2d_params p;
    int32_t gap, step = 1, w_zp, out_bytes;
    long v[16];
    memset(&p, 0, sizeof p);
    if (kind[0] == 'f') {
      tinyaot_qfully_connected_params f;
      if (scanf("%ld %ld %ld %ld", &v[0], &v[1], &v[2], &v[3]) != 4) return 1;
      f.rows = (int32_t)v[0];
      f.depth = (int32_t)v[1];
      f.out_c = (int32_t)v[2];
      gap = fc_gap(&f, (int32_t)v[3]);
    } else {
      if (scanf("%ld %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld", &v[0], &v[1], &v[2], &v[3], &v[4],
                &v[5], &v[6], &v[7], &v[8], &v[9], &v[10], &v[11], &v[12], &v[13], &v[14], &v[15]) != 16) {
        return 1;
      }
      p.batch = (int32_t)v[0], p.in_h = (int32_t)v[1], p.in_w = (int32_t)v[2], p.out_h = (int32_t)v[3];
      p.out_w = (int32_t)v[4], p.kernel_h = (int32_t)v[5], p.kernel_w = (int32_t)v[6], p.stride_h = (int32_t)v[7];
      p.stride_w = (int32_t)v[8], p.dilation_h = (int32_t)v[9], p.dilation_w = (int32_t)v[10];
      p.pad_top = (int32_t)v[11], p.pad_left = (int32_t)v[12], p.in_c = (int32_t)v[13];
      p.out_c = (int32_t)v[14];
      w_zp = (int32_t)v[15];
      p.weight_zero_point = w_zp ? qconv_wzp : NULL;
      out_bytes = 1;
      gap = kind[0] == 'd' ? dw_gap(&p, &step) : pixel_gap(&p, p.in_c, p.out_c * out_bytes, 0);
    }
    if (gap == NO_OVERLAP) {
      printf("none\n");
    } else {
      printf("%ld %ld\n", (long)gap, (long)step);
    }
  }
  return 0;
}
"""


def _out_size(size: int, k: int, s: int, d: int, pb: int, pe: int) -> int:
    span = (k - 1) * d + 1
    return 0 if size + pb + pe < span else (size + pb + pe - span) // s + 1


def _cases(rng: random.Random, n: int) -> list[tuple]:
    cases = []
    while len(cases) < n:
        kind = rng.choice("dfc")
        if kind == "f":
            cases.append(("f", rng.randint(1, 60), rng.randint(1, 200), rng.randint(1, 8), rng.choice([1, 4])))
            continue
        b, ih, iw = rng.randint(1, 2), rng.randint(1, 30), rng.randint(1, 40)
        kh, kw = rng.randint(1, 4), rng.choice([3, 3, rng.randint(1, 5)])
        sh, sw, dh, dw = rng.randint(1, 3), rng.randint(1, 3), rng.choice([1, 1, 2]), rng.choice([1, 1, 2])
        pt, pl = rng.randint(0, 2), rng.randint(0, 2)
        oh, ow = _out_size(ih, kh, sh, dh, pt, rng.randint(0, 2)), _out_size(iw, kw, sw, dw, pl, rng.randint(0, 2))
        if not oh or not ow:
            continue
        ci = rng.choice([4, 8, 16, 24, 64, rng.randint(1, 20)])
        co = ci if kind == "d" else rng.randint(1, 40)
        cases.append((kind, b, ih, iw, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl, ci, co, rng.randint(0, 3) == 0))
    return cases


def _python_gap(case: tuple) -> str:
    if case[0] == "f":
        found = fully_connected_gap(*case[1:])
    else:
        kind, b, ih, iw, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl, ci, co, w_zp = case
        w = Window2d(b, ih, iw, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl)
        found = depthwise_gap(w, ci, w_zp) if kind == "d" else None
        if kind == "c":
            return f"{pixel_gap(w, ci, co, 0)} 1"
    return "none" if found is None else f"{found.gap} {found.step}"


@pytest.mark.skipif(shutil.which("gcc") is None, reason="no host C compiler")
def test_python_gaps_match_the_kernel_tests(tmp_path):
    driver = tmp_path / "driver.c"
    driver.write_text(DRIVER)
    sources = [ROOT / "runtime/kernels" / f"{k}{suffix}.c" for k in KERNELS for suffix in ("", "_dsp")]
    exe = tmp_path / "gaps"
    subprocess.run(["gcc", "-std=c99", "-O1", "-DTINYAOT_EMULATE_DSP", "-I", str(ROOT / "runtime/include"), "-I",
                    str(ROOT / "tests/kernels"), str(driver), *map(str, sources),
                    str(ROOT / "runtime/kernels/qoutput_s8.c"), "-o", str(exe)], check=True)
    cases = _cases(random.Random(7), 600)
    lines = "\n".join(" ".join(str(int(x)) if not isinstance(x, str) else x for x in c) for c in cases) + "\n"
    got = subprocess.run([str(exe)], input=lines, capture_output=True, text=True, check=True).stdout.split("\n")
    overlapping = 0
    for case, c_answer in zip(cases, got):
        assert _python_gap(case) == c_answer, f"{case}: python {_python_gap(case)}, C {c_answer}"
        overlapping += c_answer != "none"
    assert len(got) >= len(cases) and overlapping > len(cases) // 2
