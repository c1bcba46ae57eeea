#include <stddef.h>

#include "tinyaot/simd.h"
#include "tinyaot/tflite.h"

/* One output row, any operand strides; the op switch runs once per row. ADD / SUB use the
 * per-layer constants of tinyaot_tflite_add_prepare (the generic arithmetic only when it
 * refused them: a left shift, which the compiler never emits). */
static void tflite_binary_row(int32_t op, const tinyaot_tflite_binary_params *q, const tinyaot_tflite_add_consts *k,
                              const int8_t *a, int32_t sa, const int8_t *b, int32_t sb, int8_t *y, int32_t n) {
  int32_t i, v;
  if (op == TINYAOT_BIN_MUL) {
    for (i = 0; i < n; ++i) {
      v = tinyaot_requant_tflite((a[i * sa] - q->a_zero_point) * (b[i * sb] - q->b_zero_point), q->out_multiplier,
                                 q->out_shift);
      y[i] = (int8_t)tinyaot_clamp_s32((int64_t)v + q->zero_point, q->act_min, q->act_max);
    }
    return;
  }
  if (k != NULL) {
    const int32_t sign = op == TINYAOT_BIN_SUB ? -1 : 1, zero_point = q->zero_point;
    const int32_t lo = q->act_min, hi = q->act_max;
    for (i = 0; i < n; ++i) {
      const int32_t va = tinyaot_tflite_add_input(a[i * sa], &k->a);
      const int32_t vb = tinyaot_tflite_add_input(b[i * sb], &k->b);
      v = tinyaot_tflite_add_round(tinyaot_tflite_smmulr(2 * (va + sign * vb), k->out.multiplier), &k->out) +
          zero_point;
      y[i] = (int8_t)(v < lo ? lo : (v > hi ? hi : v));
    }
    return;
  }
  for (i = 0; i < n; ++i) {
    /* (x - zp) << 20 fits int32: |x - zp| < 2^9. */
    const int32_t va = tinyaot_requant_tflite((a[i * sa] - q->a_zero_point) * (1 << 20), q->a_multiplier, q->a_shift);
    const int32_t vb = tinyaot_requant_tflite((b[i * sb] - q->b_zero_point) * (1 << 20), q->b_multiplier, q->b_shift);
    const int32_t total = op == TINYAOT_BIN_SUB ? va - vb : va + vb;
    v = tinyaot_requant_tflite(total, q->out_multiplier, q->out_shift);
    y[i] = (int8_t)tinyaot_clamp_s32((int64_t)v + q->zero_point, q->act_min, q->act_max);
  }
}

void tinyaot_tflite_binary_s8_ref(const tinyaot_broadcast_params *geom, const tinyaot_tflite_binary_params *q,
                                  const int8_t *a, const int8_t *b, int8_t *out) {
  const tinyaot_broadcast_params *p = geom;
  tinyaot_tflite_add_consts consts;
  const tinyaot_tflite_add_consts *k = p->op != TINYAOT_BIN_MUL && tinyaot_tflite_add_prepare(q, &consts) ? &consts
                                                                                                        : NULL;
  int32_t i0, i1, i2, i3, i4;
  if (tinyaot_tflite_same_shape(p)) { /* same shapes: one row */
    tflite_binary_row(p->op, q, k, a, 1, b, 1, out, tinyaot_tflite_broadcast_size(p));
    return;
  }
  for (i0 = 0; i0 < p->shape[0]; ++i0)
    for (i1 = 0; i1 < p->shape[1]; ++i1)
      for (i2 = 0; i2 < p->shape[2]; ++i2)
        for (i3 = 0; i3 < p->shape[3]; ++i3)
          for (i4 = 0; i4 < p->shape[4]; ++i4) {
            const int32_t oa = i0 * p->a_stride[0] + i1 * p->a_stride[1] + i2 * p->a_stride[2] +
                               i3 * p->a_stride[3] + i4 * p->a_stride[4];
            const int32_t ob = i0 * p->b_stride[0] + i1 * p->b_stride[1] + i2 * p->b_stride[2] +
                               i3 * p->b_stride[3] + i4 * p->b_stride[4];
            tflite_binary_row(p->op, q, k, a + oa, p->a_stride[5], b + ob, p->b_stride[5], out, p->shape[5]);
            out += p->shape[5];
          }
}

#if TINYAOT_PATH_TFLITE_BINARY_S8 == TINYAOT_PATH_PORTABLE
void tinyaot_tflite_binary_s8(const tinyaot_broadcast_params *geom, const tinyaot_tflite_binary_params *q,
                              const int8_t *a, const int8_t *b, int8_t *out) {
  tinyaot_tflite_binary_s8_ref(geom, q, a, b, out);
}
#endif
