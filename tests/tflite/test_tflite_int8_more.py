"""More int8 .tflite ops against LiteRT's reference kernels, bit for bit: MEAN over H, W
(keep_dims, the global average form) with and without requantization, and HARD_SWISH as a
256-entry table checked on every int8 input under several quantizations."""

from __future__ import annotations

import numpy as np
import pytest
from tfcheck import check, compile_tflite, int8_quant
from tflite_builder import ModelBuilder

from tinyaot.errors import TinyaotError

I8 = np.int8
ALL_INT8 = np.arange(-128, 128).astype(I8).reshape(1, 256)


def _mean_model(shape, xq, yq, axes=(1, 2), keep=True) -> bytes:
    b = ModelBuilder()
    x = b.input("x", list(shape), I8, quant=xq)
    out = [d if k not in axes else 1 for k, d in enumerate(shape)] if keep else \
        [d for k, d in enumerate(shape) if k not in axes]
    y = b.tensor("y", out, I8, quant=yq)
    b.op("MEAN", [x, b.const("axes", np.array(axes, np.int32))], [y], KeepDims=keep)
    return b.finish([x], [y])


@pytest.mark.parametrize("case", range(8))
def test_mean_over_hw(case):
    rng = np.random.default_rng(500 + case)
    shape = (1 + case % 2, int(rng.integers(1, 12)), int(rng.integers(1, 12)), int(rng.integers(1, 9)))
    xq = int8_quant(rng)
    # same quantization, a smaller / larger output scale, another zero point
    yq = [xq, (np.float32(xq[0] * 0.37), xq[1]), (np.float32(xq[0] * 2.9), -7),
          (np.float32(xq[0] * rng.uniform(0.2, 5)), int(rng.integers(-40, 40)))][case % 4]
    model = _mean_model(shape, xq, yq, axes=(1, 2) if case < 6 else (2, 1))
    for seed in range(4):
        check(model, seed=seed)


def test_mean_large_window():
    """A 32 x 32 global average of extreme values: the int32 sum and the rounded division."""
    xq, yq = (np.float32(0.05), 10), (np.float32(0.013), -3)
    model = _mean_model((1, 32, 32, 4), xq, yq)
    for value in (-128, 127, 0, 10):
        check(model, [np.full((1, 32, 32, 4), value, I8)])
    check(model, seed=1)


def test_hard_swish_on_every_int8_value():
    rng = np.random.default_rng(21)
    combos = [((0.02, 0), (0.02, 0)), ((0.1, -20), (0.05, -100)), ((0.005, 30), (0.004, -120)),
              ((0.25, 5), (0.13, -110)), ((0.045, -128), (0.03, -128)), ((0.06, 127), (0.02, 40))]
    combos += [((rng.uniform(0.003, 0.3), int(rng.integers(-128, 128))),
                (rng.uniform(0.003, 0.3), int(rng.integers(-128, 128)))) for _ in range(14)]
    for (xs, xz), (ys, yz) in combos:
        if np.float32(xs) / 128 >= np.float32(ys):
            continue
        b = ModelBuilder()
        x = b.input("x", [1, 256], I8, quant=(np.float32(xs), xz))
        y = b.tensor("y", [1, 256], I8, quant=(np.float32(ys), yz))
        b.op("HARD_SWISH", [x], [y])
        check(b.finish([x], [y]), [ALL_INT8])


@pytest.mark.parametrize("alpha_shape", [(1, 1, 6), (6,), (1,)])
def test_prelu_on_every_int8_value(alpha_shape):
    """Per-channel (or single) constant alpha: every int8 input in every channel, several
    quantizations of input, alpha and output (alphas of both signs, above and below 1)."""
    rng = np.random.default_rng(31 + len(alpha_shape))
    x_all = np.repeat(np.arange(-128, 128).astype(I8).reshape(1, 256, 1), 6, axis=2)
    for k in range(6):
        xq = (np.float32(rng.uniform(0.005, 0.2)), int(rng.integers(-60, 60)))
        aq = (np.float32(rng.uniform(0.002, 0.05)), int(rng.integers(-20, 20)))
        yq = (np.float32(xq[0] * rng.uniform(0.3, 3)), int(rng.integers(-60, 60)))
        alpha = rng.integers(-128, 128, size=alpha_shape).astype(I8)
        b = ModelBuilder()
        x = b.input("x", [1, 256, 6], I8, quant=xq)
        y = b.tensor("y", [1, 256, 6], I8, quant=yq)
        b.op("PRELU", [x, b.const("alpha", alpha, quant=aq)], [y])
        check(b.finish([x], [y]), [x_all])


def test_prelu_nhwc_random():
    rng = np.random.default_rng(37)
    xq, aq, yq = (np.float32(0.04), -10), (np.float32(0.01), 3), (np.float32(0.03), 12)
    b = ModelBuilder()
    x = b.input("x", [2, 5, 4, 3], I8, quant=xq)
    y = b.tensor("y", [2, 5, 4, 3], I8, quant=yq)
    b.op("PRELU", [x, b.const("alpha", rng.integers(-128, 128, size=(1, 1, 3)).astype(I8), quant=aq)], [y])
    model = b.finish([x], [y])
    for seed in range(3):
        check(model, seed=seed)


def test_prelu_alpha_varying_over_other_axes_is_rejected():
    q = (np.float32(0.05), 0)
    b = ModelBuilder()
    x = b.input("x", [1, 4, 3], I8, quant=q)
    y = b.tensor("y", [1, 4, 3], I8, quant=q)
    b.op("PRELU", [x, b.const("alpha", np.ones((4, 3), I8), quant=q)], [y])
    with pytest.raises(TinyaotError, match=r"\(PRELU\): int8 PRELU supports an alpha per channel"):
        compile_tflite(b.finish([x], [y]))
