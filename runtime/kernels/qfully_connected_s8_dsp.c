/* tinyaot_qfully_connected_s8 on cores with the DSP extension (see tinyaot/qdsp.h): two input
 * rows are expanded to int16 once into the scratch, then every pair of weight rows is
 * multiplied with them, 2 rows x 2 channels per block. Bit-exact with the _ref kernel. */
#include "tinyaot/simd.h"

#if TINYAOT_PATH_QFULLY_CONNECTED_S8 == TINYAOT_PATH_DSP
#include <stddef.h>

#include "tinyaot/qdsp.h"

void tinyaot_qfully_connected_s8(const tinyaot_qfully_connected_params *p, const int8_t *input, const int8_t *weights,
                                 void *output, void *scratch) {
  const int32_t depth = p->depth, out_c = p->out_c;
  /* Scratch: the two expanded rows, the per-channel requantization constants, the channels
   * left to the generic requantization, the two rows' accumulators. */
  uint32_t *rows = (uint32_t *)scratch;
  tinyaot_dsp_requant *rq = (tinyaot_dsp_requant *)(rows + 4 * tinyaot_dsp_groups(depth));
  int32_t *generic = (int32_t *)(rq + out_c);
  int32_t *acc = generic + out_c;
  tinyaot_dsp_out o;
  int32_t r, sum0 = 0, sum1 = 0;
  tinyaot_dsp_out_prepare(&o, &p->out, out_c, rq, generic, p->weight_zero_point, output);
  if (depth < 4) {
    for (r = 0; r < p->rows; ++r) {
      const int8_t *a0 = input + (size_t)r * depth;
      if (p->weight_zero_point != NULL) sum0 = tinyaot_dsp_row_sum(a0, depth);
      tinyaot_dsp_rows_short(p->folded_bias, a0, weights, depth, 0, out_c, acc);
      tinyaot_dsp_finish(&o, acc, 0, out_c, (size_t)r * out_c, sum0);
    }
    return;
  }
  for (r = 0; r + 1 < p->rows; r += 2) {
    const int8_t *a0 = input + (size_t)r * depth;
    tinyaot_dsp_expand(a0, depth, rows, 4);
    tinyaot_dsp_expand(a0 + depth, depth, rows + 2, 4);
    if (p->weight_zero_point != NULL) {
      sum0 = tinyaot_dsp_row_sum(a0, depth);
      sum1 = tinyaot_dsp_row_sum(a0 + depth, depth);
    }
    tinyaot_dsp_rows2(p->folded_bias, rows, weights, depth, 0, out_c, acc, acc + out_c);
    tinyaot_dsp_finish(&o, acc, 0, out_c, (size_t)r * out_c, sum0);
    tinyaot_dsp_finish(&o, acc + out_c, 0, out_c, (size_t)(r + 1) * out_c, sum1);
  }
  if (r < p->rows) {
    const int8_t *a0 = input + (size_t)r * depth;
    tinyaot_dsp_expand(a0, depth, rows, 2);
    if (p->weight_zero_point != NULL) sum0 = tinyaot_dsp_row_sum(a0, depth);
    tinyaot_dsp_rows1(p->folded_bias, rows, weights, depth, 0, out_c, acc);
    tinyaot_dsp_finish(&o, acc, 0, out_c, (size_t)r * out_c, sum0);
  }
}
#else
/* Not this core's path: ISO C forbids an empty translation unit. */
typedef int tinyaot_qfully_connected_s8_dsp_not_built;
#endif
