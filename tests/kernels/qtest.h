/* Shared helpers of the kernel tests: a seeded generator, random requantization parameters
 * covering every rounding mode, and the bit-for-bit comparison. Each test program builds
 * random cases, runs the public kernel (the optimized path the core compiles, simd.h) and the
 * portable tinyaot_<k>_ref on the same input, and fails on the first differing byte. */
#ifndef TINYAOT_TESTS_QTEST_H
#define TINYAOT_TESTS_QTEST_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tinyaot/quantized.h"
#include "tinyaot/simd.h"

#define QTEST_MAX_C 80

static uint32_t qtest_state = 12345u;

static inline uint32_t qtest_next(void) { /* xorshift32 */
  qtest_state ^= qtest_state << 13;
  qtest_state ^= qtest_state >> 17;
  qtest_state ^= qtest_state << 5;
  return qtest_state;
}

/* Uniform in [lo, hi]. */
static inline int32_t qtest_range(int32_t lo, int32_t hi) {
  return lo + (int32_t)(qtest_next() % (uint32_t)(hi - lo + 1));
}

static inline void qtest_fill_s8(int8_t *v, int32_t n) {
  int32_t i;
  for (i = 0; i < n; ++i) v[i] = (int8_t)qtest_range(-128, 127);
}

static inline const char *qtest_path_name(int32_t path) {
  return path == TINYAOT_PATH_DSP ? "dsp" : (path == TINYAOT_PATH_MVE ? "mve" : "portable");
}

/* Requantization of `out_c` channels: storage for the arrays and the struct. */
typedef struct {
  int32_t multiplier[QTEST_MAX_C];
  int32_t shift[QTEST_MAX_C];
  tinyaot_qoutput out;
  int32_t int32_output;
} qtest_requant;

/* A random requantization: int32 output (multiplier NULL) 1 case in 6; otherwise onnxruntime's
 * (24-bit mantissa, shift 1..62) or TFLite's (Q0.31 multiplier, shifts mostly right, a few
 * left so the generic fallback runs too), per channel or per tensor, and an activation range
 * that is the whole int8 range, a ReLU or a narrow clip. `scale_bits`: about log2 of the
 * accumulator magnitude, so the outputs spread over the int8 range. */
static inline void qtest_random_requant(qtest_requant *r, int32_t out_c, int32_t scale_bits) {
  int32_t c, per_channel = qtest_range(0, 1), kind = qtest_range(0, 7), act = qtest_range(0, 3);
  int32_t rounding = kind == 0 ? TINYAOT_ROUND_ORT : (kind <= 4 ? TINYAOT_ROUND_TFLITE : TINYAOT_ROUND_TFLITE_SINGLE);
  int32_t left_shifts = qtest_range(0, 5) == 0;
  r->int32_output = qtest_range(0, 5) == 0;
  for (c = 0; c < out_c; ++c) {
    if (c > 0 && !per_channel) {
      r->multiplier[c] = r->multiplier[0];
      r->shift[c] = r->shift[0];
      continue;
    }
    if (rounding == TINYAOT_ROUND_ORT) {
      r->multiplier[c] = (int32_t)((1u << 23) | (qtest_next() & 0x7fffffu));
      r->shift[c] = 23 + scale_bits - 7 + qtest_range(-2, 2);
    } else {
      r->multiplier[c] = (int32_t)((1u << 30) | (qtest_next() & 0x3fffffffu));
      if (qtest_range(0, 9) == 0) r->multiplier[c] = 1 << 30; /* a power-of-two scale */
      r->shift[c] = left_shifts ? qtest_range(-2, 2) : 7 - scale_bits + qtest_range(-2, 2);
      if (r->shift[c] < -31) r->shift[c] = -31;
    }
  }
  r->out.multiplier = r->int32_output ? NULL : r->multiplier;
  r->out.shift = r->int32_output ? NULL : r->shift;
  r->out.zero_point = qtest_range(-128, 127);
  r->out.rounding = rounding;
  if (act == 0) {
    r->out.act_min = -128;
    r->out.act_max = 127;
  } else if (act == 1) {
    r->out.act_min = r->out.zero_point;
    r->out.act_max = 127;
  } else {
    r->out.act_min = qtest_range(-128, 0);
    r->out.act_max = qtest_range(r->out.act_min, 127);
  }
}

/* 0 when equal; else prints where they differ and returns 1. */
static inline int qtest_compare(const char *kernel, int32_t test_case, const void *got, const void *want,
                                size_t bytes) {
  const uint8_t *g = (const uint8_t *)got, *w = (const uint8_t *)want;
  size_t i;
  for (i = 0; i < bytes; ++i) {
    if (g[i] != w[i]) {
      printf("%s: case %ld: byte %lu differs: got 0x%02x, reference 0x%02x\n", kernel, (long)test_case,
             (unsigned long)i, g[i], w[i]);
      return 1;
    }
  }
  return 0;
}

#endif
