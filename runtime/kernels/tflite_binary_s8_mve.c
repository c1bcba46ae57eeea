/* tinyaot_tflite_binary_s8 with Helium (MVE): ADD / SUB of two operands of the output's shape,
 * four elements per int32 vector (VLDRB.S32; the tail under a VCTP32 predicate). TFLite's
 * arithmetic per lane, bit-exact (tflite.h's per-layer constants):
 * - srdhm(v, m) is VQRDMULH by the scalar m (floor((v m + 2^30) / 2^31), saturating only
 *   v == m == INT32_MIN, which (x - zp) * 2^20 and |sum| < 2^29 never are);
 * - rdbpot(s, e) is VRSHL by -e (floor((s + 2^(e-1)) / 2^e): halves up) after taking 1 from the
 *   negative lanes when e >= 1 (the term's round_mask), which makes halves go away from zero.
 * Broadcasting and MUL run the portable kernel. */
#include "tinyaot/simd.h"

#if TINYAOT_PATH_TFLITE_BINARY_S8 == TINYAOT_PATH_MVE
#include <arm_mve.h>

#include "tinyaot/tflite.h"

static inline int32x4_t tflite_add_mve_round(int32x4_t s, const tinyaot_tflite_add_term *t, int32x4_t mask) {
  return vrshlq_n_s32(vaddq_s32(s, vandq_s32(vshrq_n_s32(s, 31), mask)), -t->exponent);
}

static inline int32x4_t tflite_add_mve_input(int32x4_t x, const tinyaot_tflite_add_term *t, int32x4_t mask) {
  const int32x4_t d = vsubq_n_s32(vshlq_n_s32(x, 20), t->zero_point_21 / 2); /* (x - zp) * 2^20 */
  return tflite_add_mve_round(vqrdmulhq_n_s32(d, t->multiplier), t, mask);
}

/* subtract: a compile-time constant once inlined. */
static inline __attribute__((always_inline)) void tflite_add_mve_loop(const tinyaot_tflite_add_consts *k,
                                                                      const tinyaot_tflite_binary_params *q,
                                                                      const int8_t *a, const int8_t *b, int8_t *y,
                                                                      int32_t n, int32_t subtract) {
  const int32x4_t mask_a = vdupq_n_s32(k->a.round_mask), mask_b = vdupq_n_s32(k->b.round_mask);
  const int32x4_t mask_out = vdupq_n_s32(k->out.round_mask);
  const int32x4_t lo = vdupq_n_s32(q->act_min), hi = vdupq_n_s32(q->act_max);
  const int32_t zero_point = q->zero_point;
  int32_t i;
  for (i = 0; i < n; i += 4, a += 4, b += 4, y += 4) {
    const mve_pred16_t p = vctp32q((uint32_t)(n - i));
    const int32x4_t va = tflite_add_mve_input(vldrbq_z_s32(a, p), &k->a, mask_a);
    const int32x4_t vb = tflite_add_mve_input(vldrbq_z_s32(b, p), &k->b, mask_b);
    const int32x4_t total = subtract ? vsubq_s32(va, vb) : vaddq_s32(va, vb);
    int32x4_t v = tflite_add_mve_round(vqrdmulhq_n_s32(total, k->out.multiplier), &k->out, mask_out);
    v = vaddq_n_s32(v, zero_point);
    vstrbq_p_s32(y, vminq_s32(vmaxq_s32(v, lo), hi), p);
  }
}

void tinyaot_tflite_binary_s8(const tinyaot_broadcast_params *geom, const tinyaot_tflite_binary_params *q,
                              const int8_t *a, const int8_t *b, int8_t *out) {
  tinyaot_tflite_add_consts k;
  int32_t n;
  /* |zp| <= 255 keeps (x - zp) * 2^20 below 2^29 in magnitude; every shift in [-31, 0]. */
  if (geom->op == TINYAOT_BIN_MUL || !tinyaot_tflite_same_shape(geom) || !tinyaot_tflite_add_prepare(q, &k)) {
    tinyaot_tflite_binary_s8_ref(geom, q, a, b, out);
    return;
  }
  n = tinyaot_tflite_broadcast_size(geom);
  if (geom->op == TINYAOT_BIN_SUB) {
    tflite_add_mve_loop(&k, q, a, b, out, n, 1);
  } else {
    tflite_add_mve_loop(&k, q, a, b, out, n, 0);
  }
}
#endif
