"""TFLite's integer arithmetic (LiteRT's reference kernels), computed at compile time, and
its golden model: numpy int64 arrays, integer operations only, bit for bit what the C
kernels (runtime/include/tinyaot/requant.h, tflite.h) compute.

Multipliers are TFLite's: QuantizeMultiplier turns a real scale (computed in double from the
float32 tensor scales, as TFLite's Prepare functions do) into a Q0.31 fraction in [2^30,
2^31) and a power-of-two exponent (positive: left shift), rounding half away from zero.
Requantization rounds twice in LiteRT's conv, depthwise, add and mul (gemmlowp's
SaturatingRoundingDoublingHighMul, then RoundingDivideByPOT: halves away from zero) and once
in its fully connected (half up), as observed layer by layer against LiteRT 2.x. Softmax
uses gemmlowp's fixed-point exp and Newton-Raphson reciprocal (TFLite's reference_ops).
"""

from __future__ import annotations

import math

import numpy as np

I32_MIN, I32_MAX = -(2**31), 2**31 - 1


def quantize_multiplier(real: float) -> tuple[int, int]:
    """TFLite's QuantizeMultiplier: (q, shift) with real ~= q * 2**(shift - 31),
    2**30 <= q < 2**31; scales below 2**-32 flush to (0, 0)."""
    if real == 0.0:
        return 0, 0
    if not math.isfinite(real) or real < 0:
        raise ValueError(f"requantization scale {real} is not a positive finite number")
    fraction, shift = math.frexp(real)
    q = math.floor(fraction * (1 << 31) + 0.5)  # TfLiteRound: halves away from zero (q > 0)
    if q == 1 << 31:
        q //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    if shift > 30:
        raise ValueError(f"requantization scale {real} is too large")
    return int(q), int(shift)


def wrap32(x) -> np.ndarray:
    """Two's complement int32 wrap-around of int64 values."""
    return ((np.asarray(x, dtype=np.int64) + 2**31) & 0xFFFFFFFF) - 2**31


def srdhm(a, b) -> np.ndarray:
    """gemmlowp SaturatingRoundingDoublingHighMul: round(a * b / 2**31), halves away from 0."""
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    ab = a * b
    total = ab + np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    quotient = np.where(total >= 0, total >> 31, -((-total) >> 31))  # C division truncates
    return np.where((a == b) & (a == I32_MIN), I32_MAX, quotient)


def rdbpot(x, exponent) -> np.ndarray:
    """gemmlowp RoundingDivideByPOT: x / 2**exponent, halves away from zero."""
    x, e = np.asarray(x, dtype=np.int64), np.asarray(exponent, dtype=np.int64)
    mask = (np.int64(1) << e) - 1
    threshold = (mask >> 1) + (x < 0)
    return (x >> e) + ((x & mask) > threshold)


def requantize(acc, multiplier, shift, single: bool = False) -> np.ndarray:
    """MultiplyByQuantizedMultiplier(acc, multiplier, shift) before the zero point: rounding
    twice (default) or once (`single`, half up)."""
    acc = np.asarray(acc, dtype=np.int64)
    m, s = np.asarray(multiplier, dtype=np.int64), np.asarray(shift, dtype=np.int64)
    if single:
        total = 31 - s
        return (acc * m + (np.int64(1) << (total - 1))) >> total
    left, right = np.maximum(s, 0), np.maximum(-s, 0)
    return rdbpot(srdhm(wrap32(acc << left), m), right)


def quantized_value(value: float, scale: float, zero_point: int) -> int:
    """zero_point + TfLiteRound(value / scale), the division in float32 (TFLite's Quantize
    of an activation bound)."""
    q = float(np.float32(value) / np.float32(scale))
    return int(zero_point) + int(math.copysign(math.floor(abs(q) + 0.5), q))


def activation_range(kind: str | None, scale: float, zero_point: int) -> tuple[int, int]:
    """CalculateActivationRangeQuantized for int8: the fused activation's clamp."""
    lo, hi = -128, 127
    if kind == "relu":
        lo = max(lo, quantized_value(0.0, scale, zero_point))
    elif kind == "relu6":
        lo = max(lo, quantized_value(0.0, scale, zero_point))
        hi = min(hi, quantized_value(6.0, scale, zero_point))
    elif kind == "relu_n1_to_1":
        lo = max(lo, quantized_value(-1.0, scale, zero_point))
        hi = min(hi, quantized_value(1.0, scale, zero_point))
    return lo, hi


# ----------------------------------------------------------------------------- ADD / SUB

ADD_LEFT_SHIFT = 20


def add_params(a_scale: float, b_scale: float, y_scale: float) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    """(a, b, output) (multiplier, shift) of TFLite's int8 ADD / SUB: both inputs are brought
    to twice the larger input scale, with 20 bits of headroom."""
    twice_max = 2.0 * max(a_scale, b_scale)
    return (quantize_multiplier(a_scale / twice_max), quantize_multiplier(b_scale / twice_max),
            quantize_multiplier(twice_max / ((1 << ADD_LEFT_SHIFT) * y_scale)))


def add(a, b, a_zp: int, b_zp: int, y_zp: int, params, lo: int, hi: int, subtract: bool = False) -> np.ndarray:
    (ma, sa), (mb, sb), (my, sy) = params
    va = rdbpot(srdhm(wrap32((np.asarray(a, dtype=np.int64) - a_zp) << ADD_LEFT_SHIFT), ma), -sa)
    vb = rdbpot(srdhm(wrap32((np.asarray(b, dtype=np.int64) - b_zp) << ADD_LEFT_SHIFT), mb), -sb)
    total = wrap32(va - vb if subtract else va + vb)
    return np.clip(rdbpot(srdhm(total, my), -sy) + y_zp, lo, hi)


# ----------------------------------------------------------------------------- MUL


def mul(a, b, a_zp: int, b_zp: int, y_zp: int, multiplier: int, shift: int, lo: int, hi: int) -> np.ndarray:
    product = (np.asarray(a, dtype=np.int64) - a_zp) * (np.asarray(b, dtype=np.int64) - b_zp)
    return np.clip(requantize(product, multiplier, shift) + y_zp, lo, hi)


# ----------------------------------------------------------------------------- AVERAGE_POOL_2D


def average(total, count) -> np.ndarray:
    """TFLite's int8 average: the raw sum over the taps inside the input divided by their
    count, halves away from zero (C division truncates)."""
    total, count = np.asarray(total, dtype=np.int64), np.asarray(count, dtype=np.int64)
    half = count // 2
    return np.where(total > 0, (total + half) // count, -((half - total) // count))


# ----------------------------------------------------------------------------- MEAN


def mean_multiplier(x_scale: float, y_scale: float, count: int) -> tuple[int, int]:
    """TFLite's int8 MEAN rescaling (reference QuantizedMeanOrSum): QuantizeMultiplier of
    x_scale / y_scale (double), with 1 / count folded in: the multiplier is shifted left by
    floor(log2(count)) (at most 32 and 31 + shift), divided by count (truncating) and the
    shift lowered by as much."""
    multiplier, shift = quantize_multiplier(float(x_scale) / float(y_scale))
    bits = min(int(count).bit_length() - 1, 32, 31 + shift)
    return (multiplier << bits) // int(count), shift - bits


def mean(x, axes: tuple[int, ...], keepdims: bool, x_zp: int, y_zp: int, multiplier: int, shift: int) -> np.ndarray:
    """TFLite's int8 MEAN (reference QuantizedMeanOrSum, the one path LiteRT's reference
    kernel takes for every axes / keep_dims): per output, the int32 sum of (x - x_zp) over
    `axes` requantized (rounding twice) by mean_multiplier's (multiplier, shift), plus y_zp,
    saturated."""
    x = np.asarray(x, dtype=np.int64)
    total = wrap32((x - x_zp).sum(axis=tuple(axes), keepdims=keepdims))
    return np.clip(requantize(total, multiplier, shift) + y_zp, -128, 127)


# ----------------------------------------------------------------------------- DIV


def leading_sign_bits(x) -> np.ndarray:
    """CountLeadingSignBits of int32 values: the redundant copies of the sign bit (31 for 0
    and -1)."""
    x = np.asarray(x, dtype=np.int64)
    return _leading_zeros(np.where(x < 0, ~x, x)) - 1


def div(a, b, a_zp: int, b_zp: int, y_zp: int, multiplier: int, shift: int, lo: int, hi: int) -> np.ndarray:
    """TFLite's reference int8 DIV: with d1 = a - a_zp and d2 = b - b_zp (signs moved so that
    d2 > 0), d1 normalised by its leading sign bits times the fixed-point reciprocal of d2
    (GetReciprocal, Q0.31), then the output multiplier, exponent = shift - reciprocal
    exponent - headroom (rounding twice), plus y_zp, clamped to [lo, hi]. LiteRT fails on a
    divisor equal to its zero point; here such an element saturates to hi (d1 >= 0) or lo.
    Where the final exponent exceeds 31 (a small |d1| with a small output multiplier) LiteRT
    shifts an int32 by 32 or more, which C leaves undefined; here the quotient is then
    rounded to 0, its exact value (see div_exponent)."""
    d1 = np.asarray(a, dtype=np.int64) - a_zp
    d2 = np.asarray(b, dtype=np.int64) - b_zp
    d1, d2 = np.broadcast_arrays(np.where(d2 < 0, -d1, d1), np.abs(d2))
    zero = d2 == 0
    inverse, recip_shift = reciprocal(np.where(zero, 1, d2), 31)
    headroom = leading_sign_bits(d1)
    quotient = srdhm(d1 << headroom, inverse)
    exponent = headroom + recip_shift - shift
    y = np.where(exponent > 31, 0, rdbpot(srdhm(quotient, multiplier), np.minimum(exponent, 31))) + y_zp
    return np.where(zero, np.where(d1 >= 0, hi, lo), np.clip(y, lo, hi))


def div_exponent(a, b, a_zp: int, b_zp: int, shift: int) -> np.ndarray:
    """The right shift TFLite's int8 DIV ends with, per element (see div): LiteRT's result is
    well defined where it is at most 31."""
    d1 = np.asarray(a, dtype=np.int64) - a_zp
    d2 = np.asarray(b, dtype=np.int64) - b_zp
    d1, d2 = np.broadcast_arrays(np.where(d2 < 0, -d1, d1), np.maximum(np.abs(d2), 1))
    return leading_sign_bits(d1) + reciprocal(d2, 31)[1] - shift


# ----------------------------------------------------------------------------- RESIZE_BILINEAR


def resize_bilinear_scale(in_size: int, out_size: int, align_corners: bool) -> int:
    """TFLite's integer resize scale in Q10 (reference ResizeBilinearInteger): in / out,
    or (in - 1) / (out - 1) with align_corners, rounded half up."""
    if align_corners and out_size > 1:
        return ((1 << 10) * (in_size - 1) + (out_size - 1) // 2) // (out_size - 1)
    return ((1 << 10) * in_size + out_size // 2) // out_size


def resize_bilinear_axis(in_size: int, out_size: int, scale_10: int, half_pixel: bool
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lower index, upper index, Q10 weight of the upper one) of each output position along
    one axis: the source position scaled_10 = out * scale (half_pixel: + scale / 2 - 512),
    lower = max(trunc(scaled / 1024), 0), upper = min(ceil(scaled / 1024), in - 1), weight =
    scaled - 1024 * lower (negative before the first pixel, where lower == upper). Raises
    ValueError where the lower index lies past the input (LiteRT would read out of bounds)."""
    out = np.arange(out_size, dtype=np.int64)
    scaled = out * scale_10 + ((scale_10 // 2 - (1 << 9)) if half_pixel else 0)
    truncated = np.where(scaled >= 0, scaled >> 10, -((-scaled) >> 10))  # C division truncates
    lower = np.maximum(truncated, 0)
    above = scaled + (1 << 10) - 1
    upper = np.minimum(np.where(above >= 0, above >> 10, -((-above) >> 10)), in_size - 1)
    if (lower > in_size - 1).any():
        raise ValueError(f"resizing {in_size} to {out_size} reads past the input in TFLite's integer arithmetic")
    return lower, upper, scaled - (lower << 10)


def resize_bilinear(x, size: tuple[int, int], align_corners: bool, half_pixel: bool) -> np.ndarray:
    """TFLite's reference int8 RESIZE_BILINEAR of NHWC x: the four neighbours weighted in Q10
    x Q10 (int64), the Q20 sum divided by 2**20 with halves away from zero (C division
    truncates). Raw values in, raw values out: LiteRT ignores the quantization."""
    x = np.asarray(x, dtype=np.int64)
    (y0, y1, wy), (x0, x1, wx) = (
        resize_bilinear_axis(x.shape[1 + k], size[k], resize_bilinear_scale(x.shape[1 + k], size[k], align_corners),
                             half_pixel) for k in range(2))
    wy, wx = wy[None, :, None, None], wx[None, None, :, None]
    one = 1 << 10
    total = (x[:, y0][:, :, x0] * (one - wy) * (one - wx) + x[:, y1][:, :, x0] * wy * (one - wx)
             + x[:, y0][:, :, x1] * (one - wy) * wx + x[:, y1][:, :, x1] * wy * wx)
    rounded = total + np.where(total > 0, 1 << 19, -(1 << 19))
    return np.where(rounded >= 0, rounded >> 20, -((-rounded) >> 20))


# ----------------------------------------------------------------------------- PRELU


def prelu_params(x_scale: float, alpha_scale: float, y_scale: float) -> tuple[tuple[int, int], tuple[int, int]]:
    """TFLite's int8 PRELU multipliers: (x_scale / y_scale), (x_scale * alpha_scale / y_scale),
    the ratios in float32 as LiteRT's Prepare."""
    xs, a_s, ys = np.float32(x_scale), np.float32(alpha_scale), np.float32(y_scale)
    return quantize_multiplier(float(xs / ys)), quantize_multiplier(float(xs * a_s / ys))


def prelu(x, alpha, x_zp: int, y_zp: int, params) -> np.ndarray:
    """TFLite's reference int8 PRELU: d = x - x_zp; d >= 0: d requantized by the identity
    multiplier; else d * (alpha - alpha_zp) by the alpha one (both rounding twice); plus y_zp,
    saturated. `alpha` holds alpha - alpha_zp, broadcast against x."""
    (m1, s1), (m2, s2) = params
    d = np.asarray(x, dtype=np.int64) - x_zp
    y = np.where(d >= 0, requantize(d, m1, s1), requantize(d * np.asarray(alpha, dtype=np.int64), m2, s2))
    return np.clip(y + y_zp, -128, 127)


# ----------------------------------------------------------------------------- SOFTMAX
# gemmlowp fixed point: FixedPoint<int32, k> holds raw / 2**(31 - k).

SOFTMAX_DIFF_BITS = 5  # the scaled input differences are Q5.26
SOFTMAX_SUM_BITS = 12  # the sum of exps is Q12.19


def _saturating_shift_left(x, exponent: int) -> np.ndarray:
    x = np.asarray(x, dtype=np.int64)
    threshold = (1 << (31 - exponent)) - 1
    return np.where(x > threshold, I32_MAX, np.where(x < -threshold, I32_MIN, x << exponent))


def _rescale(x, src_bits: int, dst_bits: int) -> np.ndarray:
    exponent = src_bits - dst_bits
    if exponent > 0:
        return _saturating_shift_left(x, exponent)
    return rdbpot(x, -exponent) if exponent < 0 else np.asarray(x, dtype=np.int64)


def _exp_quarter_interval(a) -> np.ndarray:
    """exp(a) for a Q0.31 a in [-1/4, 0): Taylor series around -1/8."""
    exp_minus_one_eighth, one_third = 1895147668, 715827883
    x = wrap32(np.asarray(a, dtype=np.int64) + (1 << 28))
    x2 = srdhm(x, x)
    x3 = srdhm(x2, x)
    x4 = srdhm(x2, x2)
    poly = rdbpot(wrap32(srdhm(wrap32(rdbpot(x4, 2) + x3), one_third) + x2), 1)
    return wrap32(exp_minus_one_eighth + srdhm(exp_minus_one_eighth, wrap32(x + poly)))


# exp(-2**k) in Q0.31 for k = -2 ... 4: the barrel shifter of exp_on_negative_values.
_EXP_FACTORS = ((-2, 1672461947), (-1, 1302514674), (0, 790015084), (1, 290630308), (2, 39332535), (3, 720401),
                (4, 242))


def exp_on_negative_values(a, integer_bits: int) -> np.ndarray:
    """gemmlowp exp(a) for a <= 0 in Q(integer_bits); the result is Q0.31."""
    a = np.asarray(a, dtype=np.int64)
    fractional = 31 - integer_bits
    quarter = 1 << (fractional - 2)
    a_mod_quarter = wrap32((a & (quarter - 1)) - quarter)
    result = _exp_quarter_interval(_rescale(a_mod_quarter, integer_bits, 0))
    remainder = wrap32(a_mod_quarter - a)
    for exponent, factor in _EXP_FACTORS:
        if integer_bits > exponent:
            hit = (remainder & (1 << (fractional + exponent))) != 0
            result = np.where(hit, srdhm(result, factor), result)
    if integer_bits > 5:
        result = np.where(a < -(1 << (36 - integer_bits)), 0, result)
    return np.where(a == 0, I32_MAX, result)


def one_over_one_plus_x(a) -> np.ndarray:
    """gemmlowp 1 / (1 + a) for a Q0.31 a in [0, 1): Newton-Raphson in Q2.29."""
    a = np.asarray(a, dtype=np.int64)
    total = a + I32_MAX  # RoundingHalfSum(a, 1): (sum + sign(sum)) / 2, truncating
    half = np.where(total >= 0, (total + 1) // 2, -((1 - total) // 2))
    x = wrap32(1515870810 + srdhm(half, -1010580540))  # 48/17 - 32/17 * half
    one = 1 << 29
    for _ in range(3):
        x = wrap32(x + _rescale(srdhm(x, wrap32(one - srdhm(half, x))), 4, 2))
    return _rescale(x >> 1, 2, 0)


def _leading_zeros(x) -> np.ndarray:
    x = np.asarray(x, dtype=np.int64) & 0xFFFFFFFF
    count = np.full(x.shape, 32, dtype=np.int64)
    for bit in range(32):
        count = np.where((x >> bit) & 1, 31 - bit, count)
    return count


def reciprocal(x, integer_bits: int) -> tuple[np.ndarray, np.ndarray]:
    """TFLite's GetReciprocal: (1 / x as Q0.31 of x normalised to [1, 2), num_bits_over_unit)."""
    x = np.asarray(x, dtype=np.int64)
    headroom_plus_one = _leading_zeros(x)
    shifted = wrap32(((x << headroom_plus_one) & 0xFFFFFFFF) - (1 << 31))
    return one_over_one_plus_x(shifted), integer_bits - headroom_plus_one


def softmax_params(beta: float, input_scale: float) -> tuple[int, int, int]:
    """(input multiplier, left shift, diff_min) of TFLite's PreprocessSoftmaxScaling."""
    real = min(beta * input_scale * (1 << (31 - SOFTMAX_DIFF_BITS)), (1 << 31) - 1.0)
    multiplier, shift = quantize_multiplier(real)
    if shift < 0:
        raise ValueError(f"softmax input scale {input_scale} times beta {beta} is too small")
    radius = math.floor(((1 << SOFTMAX_DIFF_BITS) - 1) * (1 << (31 - SOFTMAX_DIFF_BITS)) / (1 << shift))
    return multiplier, shift, -radius


def softmax_exp_table(multiplier: int, left_shift: int, diff_min: int) -> np.ndarray:
    """exp(x - max) as Q0.31 for each d = max - x in 0 ... 255 (0 below diff_min): the only
    input-dependent part of the exponential, tabulated at compile time."""
    diff = -np.arange(256, dtype=np.int64)
    scaled = srdhm(wrap32(diff << left_shift), multiplier)
    return np.where(diff >= diff_min, exp_on_negative_values(scaled, SOFTMAX_DIFF_BITS), 0)


def softmax(x, table: np.ndarray, diff_min: int, axis_size: int) -> np.ndarray:
    """TFLite's int8 softmax over the last axis (output scale 1/256, zero point -128)."""
    rows = np.asarray(x, dtype=np.int64).reshape(-1, axis_size)
    d = rows.max(axis=1, keepdims=True) - rows
    inside = -d >= diff_min
    e = table[d]
    total = wrap32(np.where(inside, rdbpot(e, SOFTMAX_SUM_BITS), 0).sum(axis=1))
    scale, bits_over_unit = reciprocal(total, SOFTMAX_SUM_BITS)
    exponent = bits_over_unit + 31 - 8
    y = rdbpot(srdhm(scale[:, None], e), exponent[:, None]) - 128
    return np.where(inside, np.clip(y, -128, 127), -128).reshape(np.shape(x))


# ----------------------------------------------------------------------------- 256-entry tables
# Elementwise int8 ops of one input are tables y = table[x] built here (QLinearLookup).

INT8_CODES = np.arange(-128, 128, dtype=np.int64)


def _round_away(values: np.ndarray) -> np.ndarray:
    """TfLiteRound / roundf of float32 values: halves away from zero."""
    v = np.asarray(values, dtype=np.float32)
    magnitude = np.floor(np.abs(v).astype(np.float64) + 0.5)
    return np.where(v < 0, -magnitude, magnitude)


def lut_table(fn, x_scale: float, x_zp: int, y_scale: float, y_zp: int) -> np.ndarray:
    """TFLite's LUTPopulate<int8_t>: the float function on the dequantized value, all in
    float32, rounded half away from zero and saturated (LOGISTIC, TANH)."""
    real = np.float32(x_scale) * (INT8_CODES - x_zp).astype(np.float32)
    transformed = np.asarray(fn(real), dtype=np.float32)
    inverse = np.float32(1.0) / np.float32(y_scale)
    rescaled = _round_away(transformed * inverse).astype(np.float32)
    quantized = (rescaled + np.float32(y_zp)).astype(np.int64)  # static_cast<int32_t>: truncates
    return np.clip(quantized, -128, 127)


def relu_table(x_scale: float, x_zp: int, y_scale: float, y_zp: int, low: float, high: float | None) -> np.ndarray:
    """TFLite's quantized RELU / RELU6 / RELU_N1_TO_1 (ReluX): requantize, then clamp to
    the quantized [low, high] (high None: no upper bound)."""
    multiplier, shift = quantize_multiplier(float(np.float32(x_scale) / np.float32(y_scale)))
    y = y_zp + requantize(INT8_CODES - x_zp, multiplier, shift)
    lo = max(-128, y_zp + int(_round_away(np.float32(low) / np.float32(y_scale))))
    hi = 127 if high is None else min(127, y_zp + int(_round_away(np.float32(high) / np.float32(y_scale))))
    return np.clip(np.clip(y, lo, None), None, hi)


def leaky_relu_table(x_scale: float, x_zp: int, y_scale: float, y_zp: int, alpha: float) -> np.ndarray:
    """TFLite's QuantizeLeakyRelu: identity and alpha multipliers (float32 ratios)."""
    xs, ys = np.float32(x_scale), np.float32(y_scale)
    m_alpha, s_alpha = quantize_multiplier(float(xs * np.float32(alpha) / ys))
    m_id, s_id = quantize_multiplier(float(xs / ys))
    d = INT8_CODES - x_zp
    y = y_zp + np.where(d >= 0, requantize(d, m_id, s_id), requantize(d, m_alpha, s_alpha))
    return np.clip(y, -128, 127)


def requantize_table(x_scale: float, x_zp: int, y_scale: float, y_zp: int) -> np.ndarray:
    """TFLite's int8 -> int8 QUANTIZE (Requantize), scale ratio in double."""
    multiplier, shift = quantize_multiplier(x_scale / y_scale)
    return np.clip(y_zp + requantize(INT8_CODES - x_zp, multiplier, shift), -128, 127)


def lookup_attrs(table: np.ndarray, function: str) -> dict:
    """QLinearLookup attributes: the table indexed by the input byte (two's complement)."""
    by_byte = np.roll(np.asarray(table, dtype=np.int64), -128)  # byte 0 is x = 0, byte 255 is x = -1
    return {"table": [int(v) for v in by_byte], "y_dtype": "int8", "function": function}


def _srdhm16(a, b) -> np.ndarray:
    """gemmlowp SaturatingRoundingDoublingHighMul on int16: round(a * b / 2**15), halves away
    from zero; saturates (-2**15)**2."""
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    ab = a * b
    total = ab + np.where(ab >= 0, 1 << 14, 1 - (1 << 14))
    quotient = np.where(total >= 0, total >> 15, -((-total) >> 15))
    return np.where((a == b) & (a == -(1 << 15)), (1 << 15) - 1, quotient)


def _to_q15(multiplier: int) -> int:
    """TFLite's DownScaleInt32ToInt16Multiplier: the Q0.31 multiplier rounded to Q0.15."""
    if multiplier >= I32_MAX - (1 << 15):
        return (1 << 15) - 1
    return (multiplier + (1 << 15)) >> 16


def hard_swish_table(x_scale: float, x_zp: int, y_scale: float, y_zp: int) -> np.ndarray:
    """TFLite's reference int8 HARD_SWISH (16-bit fixed point): x * relu6(x + 3) / 6. The
    input is put on a "hires" scale x_scale / 128; a reluish multiplier maps [-3, 3] to
    [-1, 1] in Q0.15 (saturating), then to [0, 1]; the product with the input on the output
    scale uses a truncating doubling high multiply. Ratios in float32 as TFLite's Prepare."""
    hires = np.float32(1.0 / 128.0) * np.float32(x_scale)
    m_out, e_out = quantize_multiplier(float(hires / np.float32(y_scale)))
    m_relu, e_relu = quantize_multiplier(float(hires / np.float32(3.0 / 32768.0)))
    if e_out > 0:
        raise ValueError(f"hard swish output scale {y_scale} is below input scale / 128")
    m_out, m_relu = _to_q15(m_out), _to_q15(m_relu)
    sat16 = lambda v: np.clip(v, -(1 << 15), (1 << 15) - 1)  # noqa: E731
    hires_x = (INT8_CODES - x_zp) * 128
    on_output = _srdhm16(hires_x, m_out)
    reluish = hires_x
    if e_relu > 0:
        reluish = sat16(reluish << (e_relu - 1))
    reluish = _srdhm16(reluish, m_relu)
    if e_relu > 0:
        reluish = sat16(reluish << 1)
    if e_relu < 0:
        reluish = rdbpot(reluish, -e_relu)
    reluish = (reluish + (1 << 15)) >> 1
    product = reluish * on_output
    preshift = np.where(product >= 0, product >> 15, -((-product) >> 15))  # C division truncates
    y = rdbpot(preshift, -e_out) + y_zp
    return np.clip(y, -128, 127)
