"""Strip fusion (passes/strips.py, ops/qfused.py): an expanding int8 1x1 convolution and the
depthwise convolution after it run in strips of rows. The fused C must equal the unfused
integer golden bit for bit, for every geometry the depthwise kernel takes (strides, kernel
sizes, dilations, asymmetric pads, strips of one or several rows, ragged last strips), and
the pass must only fuse where the tensor between the two dominates the memory."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import onnx
import pytest

from int8check import Builder, check_int8
from tinyaot.ops import qfused
from tinyaot.passes import optimize
from tinyaot.passes.strips import fuse_strips
from tinyaot.reference import evaluate

# c_in, c_mid, height, width, kernel, stride, pads (top, left, bottom, right), dilation
CASES = [
    (8, 16, 48, 12, 3, 2, [0, 0, 1, 1], 1),  # VWW's pair (TFLite SAME, stride 2)
    (4, 24, 37, 9, 3, 2, [1, 1, 1, 1], 1),   # odd height: a ragged last strip
    (8, 32, 40, 7, 5, 2, [2, 2, 2, 2], 1),   # 5x5 stride 2: three rows shared by neighbouring strips
    (3, 20, 43, 10, 5, 2, [2, 1, 2, 2], 1),  # asymmetric pads
    (6, 24, 39, 8, 3, 2, [2, 2, 2, 2], 2),   # dilation 2
    (5, 40, 36, 5, 3, 3, [0, 1, 0, 1], 1),   # stride 3: strips share no row
    (8, 64, 120, 2, 3, 2, [1, 0, 0, 1], 1),  # 3 output rows per strip (small rows, large tensor)
]


def _pair_model(case: int):
    c_in, c_mid, height, width, k, stride, pads, dilation = CASES[case]
    b = Builder(100 + case)
    x = b.input((1, c_in, height, width))
    xs, xz = b.qparams()
    w, ws, wz = b.weights((c_mid, c_in, 1, 1), 0)
    ms, mz = b.qparams((0.05, 0.3))
    bias = b.init("b", b.rng.integers(-3000, 3000, c_mid).astype(np.int32))
    middle = b.node("QLinearConv", [x, xs, xz, w, ws, wz, ms, mz, bias])
    w2, ws2, wz2 = b.weights((c_mid, 1, k, k), 0)
    ys, yz = b.qparams((0.05, 0.3))
    bias2 = b.init("b", b.rng.integers(-3000, 3000, c_mid).astype(np.int32))
    out = b.node("QLinearConv", [middle, ms, mz, w2, ws2, wz2, ys, yz, bias2], group=c_mid, kernel_shape=[k, k],
                 strides=[stride, stride], pads=pads, dilations=[dilation, dilation])
    return b, out


@pytest.mark.parametrize("case", range(len(CASES)))
def test_fused_strips_equal_the_unfused_layers(case):
    b, out = _pair_model(case)
    feeds = b.feeds(3)
    compiled = check_int8(b.model([out]), feeds, f"strip case {case}")
    fused = [n for n in compiled.graph.nodes if n.op == qfused.OP]
    assert len(fused) == 1, [n.op for n in compiled.graph.nodes]
    layered = optimize(compiled.source)
    for feed in feeds:
        expected, actual = evaluate(layered, feed), evaluate(compiled.graph, feed)
        for name in expected:
            np.testing.assert_array_equal(actual[name], expected[name])
    # The tensor between the layers is gone from the plan, and the output sits over the 1x1's
    # input (ops/qfused.py _overlap): the C above ran with that placement.
    assert compiled.plan.workspace_size < compiled.plan.naive_peak
    assert fused[0].outputs[0] in compiled.plan.overlaps
    strips = qfused.strips(fused[0])
    assert sum(s.out_rows for s in strips) == compiled.graph.tensor(fused[0].outputs[0]).shape[1]  # NHWC
    assert fused[0].attrs["rows"] == (3 if case == 6 else 1)


def test_strips_cover_each_needed_row_once():
    b, out = _pair_model(2)  # 5x5, stride 2: each strip keeps 3 rows of the previous one
    compiled = check_int8(b.model([out]), b.feeds(1), "strip rows")
    node = next(n for n in compiled.graph.nodes if n.op == qfused.OP)
    computed = [row for s in qfused.strips(node) for row in range(s.first + s.kept, s.end)]
    assert computed == sorted(set(computed))  # no row of the 1x1 convolution computed twice
    assert set(computed) == set(range(40))


def test_no_fusion_where_the_middle_tensor_does_not_dominate():
    # 16 -> 8 channels: the 1x1's output is smaller than its input, nothing to gain.
    b = Builder(7)
    x = b.input((1, 16, 12, 12))
    xs, xz = b.qparams()
    w, ws, wz = b.weights((8, 16, 1, 1), 0)
    ms, mz = b.qparams((0.05, 0.3))
    middle = b.node("QLinearConv", [x, xs, xz, w, ws, wz, ms, mz])
    w2, ws2, wz2 = b.weights((8, 1, 3, 3), 0)
    ys, yz = b.qparams((0.05, 0.3))
    out = b.node("QLinearConv", [middle, ms, mz, w2, ws2, wz2, ys, yz], group=8, kernel_shape=[3, 3],
                 pads=[1, 1, 1, 1])
    compiled = check_int8(b.model([out]), b.feeds(1), "no fusion")
    assert not any(n.op == qfused.OP for n in compiled.graph.nodes)
    assert fuse_strips(compiled.graph) is compiled.graph


@pytest.mark.parametrize("core", ["cortex-m7", "cortex-m55"])
def test_fused_strips_on_the_optimized_kernels(core, tmp_path):
    """The DSP and Helium kernels with strip geometries (padding only at the plane's edges),
    on QEMU, against the golden."""
    b, out = _pair_model(0)
    model, feed = tmp_path / "pair.onnx", b.feeds(1)[0]
    onnx.save(b.model([out]), model)
    np.savez(tmp_path / "in.npz", **feed)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    subprocess.run([sys.executable, "-m", "tinyaot", "run", str(model), "--inputs", str(tmp_path / "in.npz"),
                    "--outputs", str(tmp_path / "out.npz"), "--target", core], check=True, env=env,
                   capture_output=True, timeout=600)
    from int8check import compile_onnx

    expected = evaluate(optimize(compile_onnx(b.model([out])).source), feed)
    actual = np.load(tmp_path / "out.npz")
    for name, value in expected.items():
        np.testing.assert_array_equal(actual[name], value)


def test_no_strips_option_keeps_the_layers_whole(tmp_path):
    b, out = _pair_model(0)
    onnx.save(b.model([out]), tmp_path / "pair.onnx")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    infos = [subprocess.run([sys.executable, "-m", "tinyaot", "info", str(tmp_path / "pair.onnx"), *flags],
                            check=True, env=env, capture_output=True, text=True).stdout for flags in ([], ["--no-strips"])]
    assert qfused.OP in infos[0] and qfused.OP not in infos[1]
    workspace = [int(next(line for line in info.splitlines() if "workspace bytes" in line).split()[2].replace(",", ""))
                 for info in infos]
    assert workspace[0] < workspace[1]
