#include <stddef.h>

#include "tinyaot/linear.h"

/* Register blocking: 8 outputs of one row of y share one sweep over K, so every element of
 * A loaded feeds 8 multiply-adds and the 8 accumulators stay in FPU registers. Each output
 * still sums its products in k order: host and target agree bit for bit. */

static float epilogue(const tinyaot_gemm_f32_params *p, float acc, const float *c, int32_t m, int32_t n) {
  float v = p->alpha * acc;
  if (c != NULL) v += p->beta * c[m * p->c_m + n * p->c_n];
  return tinyaot_act_f32_apply(v, &p->act);
}

/* y[n..n+7] of row m from the 8 accumulators. */
static void store_8(const tinyaot_gemm_f32_params *p, const float *acc, const float *c, int32_t m, int32_t n,
                    float *y) {
  int32_t j;
  for (j = 0; j < 8; ++j) y[j] = epilogue(p, acc[j], c, m, n + j);
}

/* B stored [N][K]: 8 dot products over K at once, B's 8 rows read through post-incremented
 * pointers (vldmia rN!, no address arithmetic). Inlined at a call with a_k == 1, the stride
 * of A needs no register either (the 8 row pointers already use most of them). */
static inline void dot_8(const float *a, int32_t a_k, const float *b, int32_t b_n, int32_t k, float *acc) {
  const float *restrict w0 = b;
  const float *restrict w1 = w0 + b_n;
  const float *restrict w2 = w1 + b_n;
  const float *restrict w3 = w2 + b_n;
  const float *restrict w4 = w3 + b_n;
  const float *restrict w5 = w4 + b_n;
  const float *restrict w6 = w5 + b_n;
  const float *restrict w7 = w6 + b_n;
  const float *restrict pa = a;
  float a0 = 0.0f, a1 = 0.0f, a2 = 0.0f, a3 = 0.0f, a4 = 0.0f, a5 = 0.0f, a6 = 0.0f, a7 = 0.0f;
  int32_t i;
  for (i = k; i > 0; --i) {
    const float av = *pa;
    pa += a_k;
    a0 += av * *w0++;
    a1 += av * *w1++;
    a2 += av * *w2++;
    a3 += av * *w3++;
    a4 += av * *w4++;
    a5 += av * *w5++;
    a6 += av * *w6++;
    a7 += av * *w7++;
  }
  acc[0] = a0; acc[1] = a1; acc[2] = a2; acc[3] = a3;
  acc[4] = a4; acc[5] = a5; acc[6] = a6; acc[7] = a7;
}

static void gemm_dot(const tinyaot_gemm_f32_params *p, const float *a, const float *b, const float *c,
                     float *y) {
  float acc[8];
  int32_t m, n, k;
  for (m = 0; m < p->m; ++m) {
    const float *a_row = a + m * p->a_m;
    for (n = 0; n + 8 <= p->n; n += 8) {
      if (p->a_k == 1) {
        dot_8(a_row, 1, b + (size_t)n * p->b_n, p->b_n, p->k, acc);
      } else {
        dot_8(a_row, p->a_k, b + (size_t)n * p->b_n, p->b_n, p->k, acc);
      }
      store_8(p, acc, c, m, n, y + n);
    }
    for (; n < p->n; ++n) {
      const float *pa = a_row;
      const float *w = b + (size_t)n * p->b_n;
      float acc1 = 0.0f;
      for (k = 0; k < p->k; ++k) {
        acc1 += *pa * w[k];
        pa += p->a_k;
      }
      y[n] = epilogue(p, acc1, c, m, n);
    }
    y += p->n;
  }
}

/* B stored [K][N]: 8 neighbouring columns accumulate a[m][k] * B[k][n..n+7] for every k,
 * B's row read at immediate offsets from one pointer. */
static void rows_8(const float *a, int32_t a_k, const float *b, int32_t b_k, int32_t k, float *acc) {
  const float *restrict w = b;
  const float *restrict pa = a;
  float a0 = 0.0f, a1 = 0.0f, a2 = 0.0f, a3 = 0.0f, a4 = 0.0f, a5 = 0.0f, a6 = 0.0f, a7 = 0.0f;
  int32_t i;
  for (i = k; i > 0; --i) {
    const float av = *pa;
    pa += a_k;
    a0 += av * w[0];
    a1 += av * w[1];
    a2 += av * w[2];
    a3 += av * w[3];
    a4 += av * w[4];
    a5 += av * w[5];
    a6 += av * w[6];
    a7 += av * w[7];
    w += b_k;
  }
  acc[0] = a0; acc[1] = a1; acc[2] = a2; acc[3] = a3;
  acc[4] = a4; acc[5] = a5; acc[6] = a6; acc[7] = a7;
}

static void gemm_rows(const tinyaot_gemm_f32_params *p, const float *a, const float *b, const float *c,
                      float *y) {
  float acc[8];
  int32_t m, n, k;
  for (m = 0; m < p->m; ++m) {
    const float *a_row = a + m * p->a_m;
    for (n = 0; n + 8 <= p->n; n += 8) {
      rows_8(a_row, p->a_k, b + n * p->b_n, p->b_k, p->k, acc);
      store_8(p, acc, c, m, n, y + n);
    }
    for (; n < p->n; ++n) {
      const float *w = b + n * p->b_n;
      float acc1 = 0.0f;
      for (k = 0; k < p->k; ++k) acc1 += a_row[k * p->a_k] * w[k * p->b_k];
      y[n] = epilogue(p, acc1, c, m, n);
    }
    y += p->n;
  }
}

void tinyaot_gemm_f32(const tinyaot_gemm_f32_params *p, const float *a, const float *b, const float *c,
                      float *y) {
  const int32_t matrix = p->m * p->n;
  int32_t i0, i1, i2, i3;
  for (i0 = 0; i0 < p->batch[0]; ++i0)
    for (i1 = 0; i1 < p->batch[1]; ++i1)
      for (i2 = 0; i2 < p->batch[2]; ++i2)
        for (i3 = 0; i3 < p->batch[3]; ++i3) {
          const float *pa =
              a + i0 * p->a_batch[0] + i1 * p->a_batch[1] + i2 * p->a_batch[2] + i3 * p->a_batch[3];
          const float *pb =
              b + i0 * p->b_batch[0] + i1 * p->b_batch[1] + i2 * p->b_batch[2] + i3 * p->b_batch[3];
          if (p->b_k == 1) {
            gemm_dot(p, pa, pb, c, y);
          } else {
            gemm_rows(p, pa, pb, c, y);
          }
          y += matrix;
        }
}
