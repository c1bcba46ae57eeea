#include "tinyaot/tflite.h"

/* Redundant copies of the sign bit of x (31 for 0 and -1): TFLite's CountLeadingSignBits. */
static int32_t leading_sign_bits(int32_t x) {
  return tinyaot_leading_zeros_u32((uint32_t)(x < 0 ? ~x : x)) - 1;
}

static int8_t tflite_div_one(const tinyaot_tflite_binary_params *q, int32_t d1, int32_t d2) {
  int32_t headroom_plus_one, inverse, headroom, quotient, exponent, v;
  if (d2 < 0) { /* the reciprocal is taken of a positive divisor */
    d1 = -d1;
    d2 = -d2;
  }
  if (d2 == 0) return (int8_t)(d1 >= 0 ? q->act_max : q->act_min);
  /* GetReciprocal(d2, 31): d2 normalised to [1, 2) in Q0.31, minus one, inverted. */
  headroom_plus_one = tinyaot_leading_zeros_u32((uint32_t)d2);
  inverse = tinyaot_one_over_one_plus_x((int32_t)(((uint32_t)d2 << headroom_plus_one) - 0x80000000u));
  /* |d1| < 2^9: shifted left by its headroom it still fits int32. */
  headroom = leading_sign_bits(d1);
  quotient = tinyaot_srdhm((int32_t)((uint32_t)d1 << headroom), inverse);
  /* headroom + (31 - headroom_plus_one) - out_shift: the compiler keeps it >= 0. */
  exponent = headroom + 31 - headroom_plus_one - q->out_shift;
  v = exponent > 31 ? 0 : tinyaot_rdbpot(tinyaot_srdhm(quotient, q->out_multiplier), exponent);
  return (int8_t)tinyaot_clamp_s32((int64_t)v + q->zero_point, q->act_min, q->act_max);
}

void tinyaot_tflite_div_s8(const tinyaot_broadcast_params *geom, const tinyaot_tflite_binary_params *q,
                           const int8_t *a, const int8_t *b, int8_t *out) {
  const tinyaot_broadcast_params *p = geom;
  int32_t i0, i1, i2, i3, i4, i;
  for (i0 = 0; i0 < p->shape[0]; ++i0)
    for (i1 = 0; i1 < p->shape[1]; ++i1)
      for (i2 = 0; i2 < p->shape[2]; ++i2)
        for (i3 = 0; i3 < p->shape[3]; ++i3)
          for (i4 = 0; i4 < p->shape[4]; ++i4) {
            const int8_t *ra = a + i0 * p->a_stride[0] + i1 * p->a_stride[1] + i2 * p->a_stride[2] +
                               i3 * p->a_stride[3] + i4 * p->a_stride[4];
            const int8_t *rb = b + i0 * p->b_stride[0] + i1 * p->b_stride[1] + i2 * p->b_stride[2] +
                               i3 * p->b_stride[3] + i4 * p->b_stride[4];
            for (i = 0; i < p->shape[5]; ++i)
              out[i] = tflite_div_one(q, ra[i * p->a_stride[5]] - q->a_zero_point, rb[i * p->b_stride[5]] - q->b_zero_point);
            out += p->shape[5];
          }
}
