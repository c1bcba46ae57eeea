#include <stddef.h>

#include "tinyaot/tflite.h"

void tinyaot_tflite_softmax_s8(const tinyaot_tflite_softmax_params *p, const int8_t *input, int8_t *output) {
  int32_t r, i;
  for (r = 0; r < p->rows; ++r) {
    const int8_t *x = input + (size_t)r * p->axis_size;
    int8_t *y = output + (size_t)r * p->axis_size;
    int32_t max = -128, sum = 0, headroom, scale, exponent;
    for (i = 0; i < p->axis_size; ++i) max = x[i] > max ? x[i] : max;
    for (i = 0; i < p->axis_size; ++i) {
      /* exp_table is 0 beyond diff_min; the sum is Q12.19 */
      sum = (int32_t)((uint32_t)sum + (uint32_t)tinyaot_rdbpot(p->exp_table[max - x[i]], 12));
    }
    headroom = tinyaot_leading_zeros_u32((uint32_t)sum);
    scale = tinyaot_one_over_one_plus_x((int32_t)(((uint32_t)sum << headroom) - 0x80000000u));
    exponent = 12 - headroom + 31 - 8;
    for (i = 0; i < p->axis_size; ++i) {
      if (x[i] - max < p->diff_min) {
        y[i] = -128;
      } else {
        const int32_t v = tinyaot_rdbpot(tinyaot_srdhm(scale, p->exp_table[max - x[i]]), exponent) - 128;
        y[i] = (int8_t)tinyaot_clamp_s32(v, -128, 127);
      }
    }
  }
}
