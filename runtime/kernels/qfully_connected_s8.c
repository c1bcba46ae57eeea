#include <stddef.h>

#include "tinyaot/quantized.h"
#include "tinyaot/simd.h"

void tinyaot_qfully_connected_s8_ref(const tinyaot_qfully_connected_params *p, const int8_t *input,
                                     const int8_t *weights, void *output, void *scratch) {
  /* Each row is copied to the scratch before its outputs are written, so an output placed
   * over its input (planner.py, overlap) may overwrite the row it is computed from. */
  int8_t *const copy = scratch != NULL && TINYAOT_QFULLY_CONNECTED_S8_SCRATCH(p->depth, p->out_c) >= p->depth
                           ? (int8_t *)scratch
                           : NULL;
  int32_t r, n, k;
  for (r = 0; r < p->rows; ++r) {
    const int8_t *a = input + (size_t)r * p->depth;
    int32_t a_sum = 0;
    if (copy != NULL) {
      for (k = 0; k < p->depth; ++k) copy[k] = a[k];
      a = copy;
    }
    if (p->weight_zero_point != NULL) {
      for (k = 0; k < p->depth; ++k) a_sum += a[k];
    }
    for (n = 0; n < p->out_c; ++n) {
      const int8_t *w = weights + (size_t)n * p->depth;
      /* The zero points are folded into folded_bias: a plain int8 MAC. */
      int32_t acc = p->folded_bias[n];
      for (k = 0; k < p->depth; ++k) acc += a[k] * w[k];
      if (p->weight_zero_point != NULL) acc -= p->weight_zero_point[n] * a_sum;
      tinyaot_qoutput_store_at(&p->out, n, acc, output, (size_t)r * p->out_c + (size_t)n);
    }
  }
}

#if TINYAOT_PATH_QFULLY_CONNECTED_S8 == TINYAOT_PATH_PORTABLE
void tinyaot_qfully_connected_s8(const tinyaot_qfully_connected_params *p, const int8_t *input, const int8_t *weights,
                                 void *output, void *scratch) {
  tinyaot_qfully_connected_s8_ref(p, input, weights, output, scratch);
}
#endif
