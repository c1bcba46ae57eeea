/* tinyaot_tflite_binary_s8 on cores with the DSP extension: ADD / SUB of two operands of the
 * output's shape (ResNet's residual adds), with the per-layer constants and term functions of
 * tflite.h (SMMULR for each rounding doubling high multiply). The output's zero point is folded into the
 * rounding term: (s + 2^(e-1) + zp * 2^e + (s >> 31)) >> e == rdbpot(s, e) + zp (adding a
 * multiple of 2^e commutes with the floor), so one SSAT finishes an unclamped output.
 *
 * In TFLite's ADD the input with the larger scale has the ratio 1/2 exactly (multiplier 2^30,
 * shift 0), so its term is (x - zp) * 2^19 with no rounding; the other one's ratio is below
 * 1/2 (exponent >= 1). The main loop takes that case: it forms the doubled sum the output's
 * SMMULR needs directly, E2 +- 2 G with E2 = +-(x - zp) * 2^20 of the exact input (one
 * instruction) and G the other's term. Other quantizations run a general loop; broadcasting and
 * MUL the portable kernel. */
#include "tinyaot/simd.h"

#if TINYAOT_PATH_TFLITE_BINARY_S8 == TINYAOT_PATH_DSP
#include "tinyaot/qdsp.h"
#include "tinyaot/tflite.h"

/* 1 when t's term is exactly (x - zp) * 2^19. */
static int32_t tflite_add_exact_half(const tinyaot_tflite_add_term *t) {
  return t->multiplier == (1 << 30) && t->exponent == 0;
}

TINYAOT_DSP_INLINE int32_t tflite_add_dsp_output(int32_t doubled, int32_t m, int32_t add, int32_t e, int32_t lo,
                                                 int32_t hi, int32_t full_range) {
  const int32_t s = tinyaot_tflite_smmulr(doubled, m);
  const int32_t v = (s + add + (s >> 31)) >> e;
  if (full_range) return tinyaot_ssat8(v);
  return v < lo ? lo : (v > hi ? hi : v);
}

/* kind 0: E2 + 2 G, 1: E2 - 2 G, 2: 2 G - E2, with `ex` the exact input and `gx` the other. */
TINYAOT_DSP_INLINE void tflite_add_dsp_exact_loop(const int8_t *ex, int32_t e_zero_point, const int8_t *gx,
                                                  const tinyaot_tflite_add_term *gt, const tinyaot_tflite_add_term *out,
                                                  int32_t add, int32_t lo, int32_t hi, int8_t *y, int32_t n,
                                                  int32_t kind, int32_t full_range) {
  const tinyaot_tflite_add_term g = *gt;
  const int32_t m = out->multiplier, e = out->exponent, zp20 = e_zero_point * (1 << 20);
  const int8_t *end = ex + n;
  while (ex < end) {
    const int32_t e2 = kind == 2 ? zp20 - *ex++ * (1 << 20) : *ex++ * (1 << 20) - zp20;
    const int32_t gv = tinyaot_tflite_add_input_e1(*gx++, &g);
    *y++ = (int8_t)tflite_add_dsp_output(kind == 1 ? e2 - 2 * gv : e2 + 2 * gv, m, add, e, lo, hi, full_range);
  }
}

/* One out-of-line copy per kind and clamp: each loop gets the registers to itself (inlined
 * into one function, GCC spilled loop constants of some copies to the stack). */
typedef void (*tflite_add_dsp_loop)(const int8_t *ex, int32_t e_zero_point, const int8_t *gx,
                                    const tinyaot_tflite_add_term *gt, const tinyaot_tflite_add_term *out, int32_t add,
                                    int32_t lo, int32_t hi, int8_t *y, int32_t n);

#define TFLITE_ADD_DSP_LOOP(name, kind, full_range)                                                                 \
  static TINYAOT_DSP_NOINLINE void name(const int8_t *ex, int32_t e_zero_point, const int8_t *gx,                  \
                                        const tinyaot_tflite_add_term *gt, const tinyaot_tflite_add_term *out,      \
                                        int32_t add, int32_t lo, int32_t hi, int8_t *y, int32_t n) {                \
    tflite_add_dsp_exact_loop(ex, e_zero_point, gx, gt, out, add, lo, hi, y, n, kind, full_range);                 \
  }
TFLITE_ADD_DSP_LOOP(tflite_add_dsp_loop_0c, 0, 0)
TFLITE_ADD_DSP_LOOP(tflite_add_dsp_loop_0f, 0, 1)
TFLITE_ADD_DSP_LOOP(tflite_add_dsp_loop_1c, 1, 0)
TFLITE_ADD_DSP_LOOP(tflite_add_dsp_loop_1f, 1, 1)
TFLITE_ADD_DSP_LOOP(tflite_add_dsp_loop_2c, 2, 0)
TFLITE_ADD_DSP_LOOP(tflite_add_dsp_loop_2f, 2, 1)

/* [kind][full_range] */
static const tflite_add_dsp_loop tflite_add_dsp_loops[3][2] = {
    {tflite_add_dsp_loop_0c, tflite_add_dsp_loop_0f},
    {tflite_add_dsp_loop_1c, tflite_add_dsp_loop_1f},
    {tflite_add_dsp_loop_2c, tflite_add_dsp_loop_2f},
};

static void tflite_add_dsp_general(const tinyaot_tflite_add_consts *k, int32_t sign, int32_t add, int32_t lo,
                                   int32_t hi, const int8_t *a, const int8_t *b, int8_t *y, int32_t n) {
  const int8_t *end = a + n;
  while (a < end) {
    const int32_t va = tinyaot_tflite_add_input(*a++, &k->a), vb = tinyaot_tflite_add_input(*b++, &k->b);
    *y++ = (int8_t)tflite_add_dsp_output(2 * (va + sign * vb), k->out.multiplier, add, k->out.exponent, lo, hi, 0);
  }
}

void tinyaot_tflite_binary_s8(const tinyaot_broadcast_params *geom, const tinyaot_tflite_binary_params *q,
                              const int8_t *a, const int8_t *b, int8_t *out) {
  tinyaot_tflite_add_consts k;
  const int32_t lo = q->act_min, hi = q->act_max, full_range = lo <= -128 && hi >= 127;
  int32_t n, add, kind;
  const int8_t *ex, *gx;
  const tinyaot_tflite_add_term *gt;
  int32_t e_zero_point;
  /* e in [1, 22] and |zp| <= 128: s + the folded zero point and rounding term stay below 2^31
   * in magnitude (|s| <= |total| < 2^29). */
  if (geom->op == TINYAOT_BIN_MUL || !tinyaot_tflite_same_shape(geom) || !tinyaot_tflite_add_prepare(q, &k) ||
      k.out.exponent < 1 || k.out.exponent > 22 || q->zero_point < -128 || q->zero_point > 128) {
    tinyaot_tflite_binary_s8_ref(geom, q, a, b, out);
    return;
  }
  n = tinyaot_tflite_broadcast_size(geom);
  add = k.out.half + q->zero_point * (1 << k.out.exponent);
  if (tflite_add_exact_half(&k.a) && k.b.exponent >= 1) {
    ex = a, gx = b, gt = &k.b, e_zero_point = q->a_zero_point;
    kind = geom->op == TINYAOT_BIN_SUB ? 1 : 0; /* 2 va -+ 2 vb */
  } else if (tflite_add_exact_half(&k.b) && k.a.exponent >= 1) {
    ex = b, gx = a, gt = &k.a, e_zero_point = q->b_zero_point;
    kind = geom->op == TINYAOT_BIN_SUB ? 2 : 0; /* 2 va -+ 2 vb */
  } else {
    tflite_add_dsp_general(&k, geom->op == TINYAOT_BIN_SUB ? -1 : 1, add, lo, hi, a, b, out, n);
    return;
  }
  tflite_add_dsp_loops[kind][full_range](ex, e_zero_point, gx, gt, &k.out, add, lo, hi, out, n);
}
#endif
