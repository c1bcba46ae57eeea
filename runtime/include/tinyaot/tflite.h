/* int8 kernels with TFLite's own arithmetic (LiteRT's reference kernels), for .tflite models:
 * binary add / sub / mul, div, average pooling, mean, softmax, PRELU and bilinear resize. Convolutions and fully connected
 * layers use the common int8 kernels (quantized.h) with TFLite's requantization
 * (tinyaot_qoutput.rounding). Integer only; compiler/tinyaot/tflite_quant.py is the golden
 * model, bit for bit. */
#ifndef TINYAOT_TFLITE_H
#define TINYAOT_TFLITE_H

#include <stdint.h>

#include "tinyaot/elementwise.h" /* tinyaot_broadcast_params */
#include "tinyaot/requant.h"

/* Broadcasting ADD / SUB (geometry op TINYAOT_BIN_ADD / TINYAOT_BIN_SUB): each input, offset by
 * its zero point and shifted left by 20, is requantized (rounding twice) to twice the larger
 * input scale; their sum / difference is requantized to the output scale.
 * MUL (TINYAOT_BIN_MUL): (a - a_zp) * (b - b_zp) requantized with out_multiplier/out_shift.
 * Multipliers are TFLite's Q0.31 fractions, shifts power-of-two exponents (requant.h). */
typedef struct {
  int32_t a_zero_point, b_zero_point;
  int32_t a_multiplier, a_shift;
  int32_t b_multiplier, b_shift;
  int32_t out_multiplier, out_shift;
  int32_t zero_point, act_min, act_max;
} tinyaot_tflite_binary_params;

/* The int8 ADD / SUB arithmetic with per-layer constants, for the kernels' fast loops (any
 * path), bit-exact with the definition above:
 * - per input, srdhm((x - zp) * 2^20, m) == floor(((x - zp) * 2^21 * m + 2^31) / 2^32), a
 *   rounding high multiply (SMMULR; TFLite's SRDHM rounds halves up for either sign, and
 *   (x - zp) * 2^21 cannot overflow); rdbpot(s, e) == (s + 2^(e-1) + (s >> 31)) >> e for e >= 1
 *   (halves away from zero: a negative s takes 1 first), s for e == 0;
 * - output: |va +- vb| < 2^29 (each is below 2^28 in magnitude), so srdhm(total, m) is the
 *   same rounding high multiply of 2 * total, then the same rounding divide.
 * tests/kernels/tflite_binary_s8_test.c checks these against tinyaot_srdhm / tinyaot_rdbpot. */
typedef struct {
  int32_t zero_point_21; /* the input's zero point * 2^21 */
  int32_t multiplier;
  int32_t half;       /* 2^(e-1); 0 when e == 0 */
  int32_t round_mask; /* -1; 0 when e == 0 */
  int32_t exponent;   /* e = -shift */
} tinyaot_tflite_add_term;

typedef struct {
  tinyaot_tflite_add_term a, b, out;
} tinyaot_tflite_add_consts;

static inline int32_t tinyaot_tflite_add_term_prepare(int32_t zero_point, int32_t multiplier, int32_t shift,
                                                      tinyaot_tflite_add_term *t) {
  if (shift > 0 || shift < -31 || zero_point < -256 || zero_point > 255) return 0;
  t->zero_point_21 = zero_point * (1 << 21);
  t->multiplier = multiplier;
  t->exponent = -shift;
  t->half = shift < 0 ? (int32_t)(1u << (-shift - 1)) : 0;
  t->round_mask = shift < 0 ? -1 : 0;
  return 1;
}

/* 1 when the fast form covers q (every shift in [-31, 0], as the compiler emits for ADD / SUB). */
static inline int32_t tinyaot_tflite_add_prepare(const tinyaot_tflite_binary_params *q, tinyaot_tflite_add_consts *k) {
  return tinyaot_tflite_add_term_prepare(q->a_zero_point, q->a_multiplier, q->a_shift, &k->a) &&
         tinyaot_tflite_add_term_prepare(q->b_zero_point, q->b_multiplier, q->b_shift, &k->b) &&
         tinyaot_tflite_add_term_prepare(0, q->out_multiplier, q->out_shift, &k->out);
}

/* floor((a * b + 2^31) / 2^32): the SMMULR instruction where the core has it (GCC does not
 * find it in the C form), so every path and the tests run the same code. */
static inline int32_t tinyaot_tflite_smmulr(int32_t a, int32_t b) {
#if defined(__GNUC__) && defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
  int32_t r;
  __asm__("smmulr %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
  return r;
#else
  return (int32_t)(((int64_t)a * b + ((int64_t)1 << 31)) >> 32);
#endif
}

/* rdbpot(s, t->exponent). */
static inline int32_t tinyaot_tflite_add_round(int32_t s, const tinyaot_tflite_add_term *t) {
  return (s + t->half + ((s >> 31) & t->round_mask)) >> t->exponent;
}

/* rdbpot(s, t->exponent) for an exponent >= 1 (round_mask -1): one instruction less. */
static inline int32_t tinyaot_tflite_add_round_e1(int32_t s, const tinyaot_tflite_add_term *t) {
  return (s + (s >> 31) + t->half) >> t->exponent;
}

/* An input's term: rdbpot(srdhm((x - zp) * 2^20, m), e). */
static inline int32_t tinyaot_tflite_add_input(int32_t x, const tinyaot_tflite_add_term *t) {
  return tinyaot_tflite_add_round(tinyaot_tflite_smmulr(x * (1 << 21) - t->zero_point_21, t->multiplier), t);
}

/* The same for an exponent >= 1. */
static inline int32_t tinyaot_tflite_add_input_e1(int32_t x, const tinyaot_tflite_add_term *t) {
  return tinyaot_tflite_add_round_e1(tinyaot_tflite_smmulr(x * (1 << 21) - t->zero_point_21, t->multiplier), t);
}

/* 1 when a broadcast geometry is two operands of the output's shape (no broadcasting): the
 * kernels then run one flat loop. */
static inline int32_t tinyaot_tflite_same_shape(const tinyaot_broadcast_params *p) {
  int32_t k, stride = 1;
  for (k = 5; k >= 0; --k) {
    if (p->shape[k] != 1 && (p->a_stride[k] != stride || p->b_stride[k] != stride)) return 0;
    stride *= p->shape[k];
  }
  return 1;
}

static inline int32_t tinyaot_tflite_broadcast_size(const tinyaot_broadcast_params *p) {
  return p->shape[0] * p->shape[1] * p->shape[2] * p->shape[3] * p->shape[4] * p->shape[5];
}

void tinyaot_tflite_binary_s8(const tinyaot_broadcast_params *geom, const tinyaot_tflite_binary_params *q,
                              const int8_t *a, const int8_t *b, int8_t *out);
/* The portable implementation (kernels/tflite_binary_s8.c): what the optimized paths are tested against. */
void tinyaot_tflite_binary_s8_ref(const tinyaot_broadcast_params *geom, const tinyaot_tflite_binary_params *q,
                                  const int8_t *a, const int8_t *b, int8_t *out);

/* AVERAGE_POOL_2D on int8 NHWC: the raw sum of the taps inside the input divided by their
 * count, halves away from zero, clamped to [act_min, act_max]; no zero point is involved (LiteRT's
 * reference averages raw values whatever the quantization). */
typedef struct {
  int32_t batch;
  int32_t in_h, in_w, channels;
  int32_t out_h, out_w;
  int32_t kernel_h, kernel_w;
  int32_t stride_h, stride_w;
  int32_t pad_top, pad_left;
  int32_t act_min, act_max;
} tinyaot_tflite_avgpool_params;

void tinyaot_tflite_avgpool_s8(const tinyaot_tflite_avgpool_params *p, const int8_t *input, int8_t *output);
/* The portable implementation (kernels/tflite_avgpool_s8.c): what the optimized paths are tested against. */
void tinyaot_tflite_avgpool_s8_ref(const tinyaot_tflite_avgpool_params *p, const int8_t *input, int8_t *output);

/* sum / count, halves away from zero (C division truncates); count > 0: the frontend checks
 * that every window overlaps the input. */
static inline int32_t tinyaot_tflite_average(int32_t sum, int32_t count) {
  return sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
}

/* The optimized paths sum a window's taps in int16 lanes: exact for up to 256 taps
 * (|sum| <= 128 * 256 = 2^15, and -2^15 is an int16); larger windows run the portable kernel. */
#define TINYAOT_TFLITE_AVGPOOL_MAX_TAPS 256

/* SOFTMAX on int8 rows of axis_size (output scale 1/256, zero point -128): exp_table[d] is
 * exp(-beta * x_scale * d) in Q0.31 for d = max - x (0 where d exceeds -diff_min), computed at
 * compile time with gemmlowp's fixed-point exp; the sum of the exps (Q12.19) is inverted
 * with gemmlowp's Newton-Raphson reciprocal, as TFLite's reference softmax does. */
typedef struct {
  int32_t rows, axis_size;
  int32_t diff_min;
  const int32_t *exp_table; /* [256] */
} tinyaot_tflite_softmax_params;

void tinyaot_tflite_softmax_s8(const tinyaot_tflite_softmax_params *p, const int8_t *input, int8_t *output);

/* MEAN of int8 over contiguous axes, LiteRT's reference QuantizedMeanOrSum: the input is
 * viewed as [batch, count, channels] (the axes before, over and after the reduced ones; the
 * frontend transposes non-contiguous axes together); per (batch, channel) the int32 sum of
 * (x - input_zero_point) over the `count` positions is requantized (rounding twice) by
 * (multiplier, shift), x_scale / y_scale with 1 / count folded in at compile time
 * (tflite_quant.py::mean_multiplier), offset by output_zero_point and saturated to int8. */
typedef struct {
  int32_t batch, count, channels;
  int32_t input_zero_point;
  int32_t multiplier, shift;
  int32_t output_zero_point;
} tinyaot_tflite_mean_params;

void tinyaot_tflite_mean_s8(const tinyaot_tflite_mean_params *p, const int8_t *input, int8_t *output);

/* PRELU on int8 with a constant alpha per channel of the last axis (channels == 1: one
 * alpha): d = x - input_zero_point; d >= 0 is requantized by (multiplier_1, shift_1), else
 * d * alpha[c] (alpha minus its zero point) by (multiplier_2, shift_2), both rounding twice;
 * plus output_zero_point, saturated (LiteRT's reference PRELU). */
typedef struct {
  int32_t size, channels;
  int32_t input_zero_point;
  int32_t multiplier_1, shift_1;
  int32_t multiplier_2, shift_2;
  int32_t output_zero_point;
  const int32_t *alpha; /* [channels] */
} tinyaot_tflite_prelu_params;

void tinyaot_tflite_prelu_s8(const tinyaot_tflite_prelu_params *p, const int8_t *input, int8_t *output);

/* QUANTIZE float -> int8: y = clamp(round_half_away(x / scale) + zero_point), the division in
 * float32 (TFLite's AffineQuantize). */
typedef struct {
  int32_t size;
  float scale;
  int32_t zero_point;
} tinyaot_tflite_quantize_params;

void tinyaot_tflite_quantize_s8(const tinyaot_tflite_quantize_params *p, const float *input, int8_t *output);

/* gemmlowp's SaturatingRoundingMultiplyByPOT for a left shift, 0 <= exponent <= 31. */
static inline int32_t tinyaot_saturating_shift_left(int32_t x, int32_t exponent) {
  const int32_t threshold = (int32_t)((((int64_t)1) << (31 - exponent)) - 1);
  if (x > threshold) return INT32_MAX;
  if (x < -threshold) return INT32_MIN;
  return (int32_t)((uint32_t)x << exponent);
}

/* gemmlowp one_over_one_plus_x_for_x_in_0_1: a in Q0.31, Newton-Raphson in Q2.29. */
static inline int32_t tinyaot_one_over_one_plus_x(int32_t a) {
  const int64_t total = (int64_t)a + INT32_MAX;
  const int32_t half = (int32_t)((total + (total >= 0 ? 1 : -1)) / 2); /* RoundingHalfSum */
  int32_t x = (int32_t)((uint32_t)1515870810 + (uint32_t)tinyaot_srdhm(half, -1010580540));
  int32_t i;
  for (i = 0; i < 3; ++i) {
    const int32_t error = (int32_t)((uint32_t)(1 << 29) - (uint32_t)tinyaot_srdhm(half, x));
    x = (int32_t)((uint32_t)x + (uint32_t)tinyaot_saturating_shift_left(tinyaot_srdhm(x, error), 2));
  }
  return tinyaot_saturating_shift_left(x >> 1, 2);
}

static inline int32_t tinyaot_leading_zeros_u32(uint32_t v) {
  int32_t n = 0;
  if (v == 0) return 32;
  while (!(v & 0x80000000u)) {
    v <<= 1;
    n++;
  }
  return n;
}

/* DIV on int8 with broadcasting (the geometry's op code is not read; q's a/b zero points,
 * out_multiplier/out_shift = a_scale / (b_scale * y_scale), zero_point and act_min/act_max;
 * a_/b_multiplier and shifts unused), LiteRT's reference: the dividend normalised by its
 * leading sign bits times the Q0.31 reciprocal of the divisor (gemmlowp Newton-Raphson),
 * then the output multiplier and a right shift (rounding twice). An exponent beyond 31
 * (undefined in LiteRT's C) gives the exact value, 0; a divisor equal to its zero point
 * (LiteRT fails) gives act_max for a dividend >= its zero point, else act_min. */
void tinyaot_tflite_div_s8(const tinyaot_broadcast_params *geom, const tinyaot_tflite_binary_params *q,
                           const int8_t *a, const int8_t *b, int8_t *out);

/* RESIZE_BILINEAR on int8 NHWC, LiteRT's reference ResizeBilinearInteger: per axis the source
 * position in Q10 is out * scale_10 (+ scale_10 / 2 - 512 with half_pixel_centers); the four
 * neighbours (lower = max(trunc(pos / 1024), 0), upper = min(ceil(pos / 1024), in - 1)) are
 * weighted in Q10 x Q10 and the Q20 sum divided by 2^20, halves away from zero. Raw values
 * in and out (LiteRT ignores the quantization). The compiler checks that no lower index
 * lies past the input. */
typedef struct {
  int32_t batch;
  int32_t in_h, in_w, channels;
  int32_t out_h, out_w;
  int32_t scale_h_10, scale_w_10;
  int32_t half_pixel_centers;
} tinyaot_tflite_resize_bilinear_params;

void tinyaot_tflite_resize_bilinear_s8(const tinyaot_tflite_resize_bilinear_params *p, const int8_t *input,
                                       int8_t *output);

#endif
