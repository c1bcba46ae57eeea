/* tinyaot_qfully_connected_s8 on cores with the DSP extension (see tinyaot/qdsp.h): two input
 * rows are expanded to int16 once into the scratch, then every pair of weight rows is
 * multiplied with them, 2 rows x 2 channels per step, TINYAOT_DSP_BLOCK channels at a time
 * requantized from their accumulators in the scratch. Bit-exact with the _ref kernel. */
#include "tinyaot/simd.h"

#if TINYAOT_PATH_QFULLY_CONNECTED_S8 == TINYAOT_PATH_DSP
#include <stddef.h>

#include "tinyaot/qdsp.h"

void tinyaot_qfully_connected_s8(const tinyaot_qfully_connected_params *p, const int8_t *input, const int8_t *weights,
                                 void *output, void *scratch) {
  const int32_t depth = p->depth, out_c = p->out_c;
  /* Scratch: the two expanded rows, then one block's accumulators of both rows. */
  uint32_t *rows = (uint32_t *)scratch;
  int32_t *acc = (int32_t *)(rows + 4 * tinyaot_dsp_groups(depth));
  tinyaot_dsp_out o;
  int32_t r, c, n, sum0 = 0, sum1 = 0;
  tinyaot_dsp_out_init(&o, &p->out, p->out_c, p->weight_zero_point, output);
  for (r = 0; r < p->rows; r += 2) {
    const int8_t *a0 = input + (size_t)r * depth;
    const int32_t two = r + 1 < p->rows && depth >= 4;
    /* The rows are read whole (expanded, or a row shorter than 4 copied) before any of their
     * outputs is written: an output placed over its input (planner.py, overlap) may
     * overwrite them. */
    if (depth >= 4) {
      tinyaot_dsp_expand(a0, depth, rows, two ? 4 : 2);
      if (two) tinyaot_dsp_expand(a0 + depth, depth, rows + 2, 4);
    } else {
      memcpy(rows, a0, (size_t)depth);
    }
    if (p->weight_zero_point != NULL) {
      sum0 = tinyaot_dsp_row_sum(a0, depth);
      if (two) sum1 = tinyaot_dsp_row_sum(a0 + depth, depth);
    }
    for (c = 0; c < out_c; c += n) {
      const int8_t *w = weights + (size_t)c * depth;
      n = out_c - c < TINYAOT_DSP_BLOCK ? out_c - c : TINYAOT_DSP_BLOCK;
      if (two) {
        tinyaot_dsp_rows2(p->folded_bias + c, rows, w, depth, n, acc, acc + TINYAOT_DSP_BLOCK);
        tinyaot_dsp_finish(&o, acc, 1, c, n, (size_t)r * out_c, (size_t)(r + 1) * out_c, sum0, sum1);
      } else {
        if (depth >= 4) {
          tinyaot_dsp_rows1(p->folded_bias + c, rows, w, depth, n, acc);
        } else {
          tinyaot_dsp_rows_short(p->folded_bias + c, (const int8_t *)rows, w, depth, n, acc);
        }
        tinyaot_dsp_finish(&o, acc, 0, c, n, (size_t)r * out_c, 0, sum0, 0);
      }
    }
    if (!two) r -= 1; /* one row done */
  }
}
#else
/* Not this core's path: ISO C forbids an empty translation unit. */
typedef int tinyaot_qfully_connected_s8_dsp_not_built;
#endif
