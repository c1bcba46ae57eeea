#include <stddef.h>

#include "tinyaot/conv.h"

/* Register blocking: a block of up to 4 output pixels x 4 output channels sweeps the
 * reduction once, so every activation loaded feeds 4 multiply-adds and every weight 4.
 * The 16 accumulators, 4 activations and 4 weights fit the 32 single-precision registers
 * of fpv4/fpv5. The reduction runs over `rows` kernel rows of `cols` runs of `n` contiguous
 * taps; a run is read through post-incremented pointers (vldmia rN!, no address
 * arithmetic) and deliberately not unrolled: gcc turns an unrolled body into offset loads
 * plus pointer adds, which costs more. Each accumulator sums its products in tap order:
 * host and target agree bit for bit. */

typedef struct {
  int32_t rows, cols, n;  /* kernel rows, runs per row, contiguous taps per run */
  int32_t x_row, x_col;   /* input strides of a kernel row and of a run (floats) */
  int32_t w_row, w_col;   /* weight strides of a kernel row and of a run (floats) */
} taps_f32;

/* y[0..3] = act(a0..a3): the block's accumulators go straight from registers to the output. */
static inline void store_4(float *y, float a0, float a1, float a2, float a3, const tinyaot_act_f32 *act) {
  y[0] = tinyaot_act_f32_apply(a0, act);
  y[1] = tinyaot_act_f32_apply(a1, act);
  y[2] = tinyaot_act_f32_apply(a2, act);
  y[3] = tinyaot_act_f32_apply(a3, act);
}

/* Output channels o..o+3 (weights at w + o * oc_stride, bias b[o]) of pixels p = 0..3
 * (input at x + p * px_stride, output at y + p * y_stride). */
static void block_4x4(const float *x, int32_t px_stride, const float *w, int32_t oc_stride, const taps_f32 *t,
                      const float *b, float *y, int32_t y_stride, const tinyaot_act_f32 *act) {
  float a00 = b[0], a01 = b[1], a02 = b[2], a03 = b[3];
  float a10 = a00, a11 = a01, a12 = a02, a13 = a03;
  float a20 = a00, a21 = a01, a22 = a02, a23 = a03;
  float a30 = a00, a31 = a01, a32 = a02, a33 = a03;
  int32_t r, c, k;
  for (r = 0; r < t->rows; ++r) {
    for (c = 0; c < t->cols; ++c) {
      const float *restrict x0 = x + (size_t)r * t->x_row + (size_t)c * t->x_col;
      const float *restrict x1 = x0 + px_stride;
      const float *restrict x2 = x1 + px_stride;
      const float *restrict x3 = x2 + px_stride;
      const float *restrict w0 = w + (size_t)r * t->w_row + (size_t)c * t->w_col;
      const float *restrict w1 = w0 + oc_stride;
      const float *restrict w2 = w1 + oc_stride;
      const float *restrict w3 = w2 + oc_stride;
      for (k = t->n; k > 0; --k) {
        const float xa = *x0++, xb = *x1++, xc = *x2++, xd = *x3++;
        const float wa = *w0++, wb = *w1++, wc = *w2++, wd = *w3++;
        a00 += xa * wa; a01 += xa * wb; a02 += xa * wc; a03 += xa * wd;
        a10 += xb * wa; a11 += xb * wb; a12 += xb * wc; a13 += xb * wd;
        a20 += xc * wa; a21 += xc * wb; a22 += xc * wc; a23 += xc * wd;
        a30 += xd * wa; a31 += xd * wb; a32 += xd * wc; a33 += xd * wd;
      }
    }
  }
  store_4(y, a00, a01, a02, a03, act);
  store_4(y + y_stride, a10, a11, a12, a13, act);
  store_4(y + 2 * (size_t)y_stride, a20, a21, a22, a23, act);
  store_4(y + 3 * (size_t)y_stride, a30, a31, a32, a33, act);
}

/* One pixel x 4 output channels (window borders). */
static void block_1x4(const float *x, const float *w, int32_t oc_stride, const taps_f32 *t, const float *b,
                      float *y, const tinyaot_act_f32 *act) {
  float a0 = b[0], a1 = b[1], a2 = b[2], a3 = b[3];
  int32_t r, c, k;
  for (r = 0; r < t->rows; ++r) {
    for (c = 0; c < t->cols; ++c) {
      const float *restrict xr = x + (size_t)r * t->x_row + (size_t)c * t->x_col;
      const float *restrict w0 = w + (size_t)r * t->w_row + (size_t)c * t->w_col;
      const float *restrict w1 = w0 + oc_stride;
      const float *restrict w2 = w1 + oc_stride;
      const float *restrict w3 = w2 + oc_stride;
      for (k = 0; k < t->n; ++k) {
        const float xv = xr[k];
        a0 += xv * w0[k];
        a1 += xv * w1[k];
        a2 += xv * w2[k];
        a3 += xv * w3[k];
      }
    }
  }
  store_4(y, a0, a1, a2, a3, act);
}

/* One pixel x one output channel (channel counts not a multiple of 4). */
static float block_1x1(const float *x, const float *w, const taps_f32 *t, float acc) {
  int32_t r, c, k;
  for (r = 0; r < t->rows; ++r) {
    for (c = 0; c < t->cols; ++c) {
      const float *restrict xr = x + (size_t)r * t->x_row + (size_t)c * t->x_col;
      const float *restrict wr = w + (size_t)r * t->w_row + (size_t)c * t->w_col;
      for (k = 0; k < t->n; ++k) acc += xr[k] * wr[k];
    }
  }
  return acc;
}

/* npx (1 or 4) output pixels with the same taps [kh0, kh0 + rows) x [kw0, kw1): x is the
 * offset from in_n of the input at (row of tap kh0, column of tap 0, channel 0) of the first
 * pixel, px_stride the input distance of neighbouring pixels, out_stride their output
 * distance (neighbours in a row or in a column). */
static void conv_pixels(const tinyaot_conv2d_f32_params *p, const float *in_n, ptrdiff_t x, int32_t npx,
                        int32_t px_stride, float *out, int32_t out_stride, int32_t kh0, int32_t rows, int32_t kw0,
                        int32_t kw1, const float *weights, const float *bias) {
  static const float zeros[4] = {0.0f, 0.0f, 0.0f, 0.0f};
  const int32_t cg = p->in_c / p->groups;
  const int32_t mg = p->out_c / p->groups;
  const int32_t w_per_out = p->kernel_h * p->kernel_w * cg;
  /* With one group and no horizontal dilation, the taps of one kernel row are a single
   * contiguous run of input and weights: one long reduction instead of kernel_w short ones. */
  const int contiguous_rows = p->groups == 1 && p->dilation_w == 1;
  taps_f32 t;
  int32_t g, m, i;
  /* A window entirely in the padding has no taps and no valid input address. */
  t.rows = kw1 > kw0 ? rows : 0;
  t.cols = contiguous_rows ? 1 : kw1 - kw0;
  t.n = contiguous_rows ? (kw1 - kw0) * cg : cg;
  t.x_row = p->dilation_h * p->in_w * p->in_c;
  t.x_col = p->dilation_w * p->in_c;
  t.w_row = p->kernel_w * cg;
  t.w_col = cg;
  x = t.rows > 0 ? x + (ptrdiff_t)kw0 * p->dilation_w * p->in_c : 0;
  for (g = 0; g < p->groups; ++g) {
    const float *x_g = in_n + (x + g * cg);
    for (m = 0; m < mg;) {
      const int32_t o = g * mg + m;
      const float *w_o = weights + (size_t)o * w_per_out + (size_t)kh0 * t.w_row + (size_t)kw0 * cg;
      if (mg - m >= 4) {
        const float *b = bias != NULL ? bias + o : zeros;
        if (npx == 4) {
          block_4x4(x_g, px_stride, w_o, w_per_out, &t, b, out + o, out_stride, &p->act);
        } else {
          block_1x4(x_g, w_o, w_per_out, &t, b, out + o, &p->act);
        }
        m += 4;
      } else {
        for (i = 0; i < npx; ++i) {
          const float acc = block_1x1(x_g + (size_t)i * px_stride, w_o, &t, bias != NULL ? bias[o] : 0.0f);
          out[(size_t)i * out_stride + o] = tinyaot_act_f32_apply(acc, &p->act);
        }
        m += 1;
      }
    }
  }
}

void tinyaot_conv2d_f32(const tinyaot_conv2d_f32_params *p, const float *input, const float *weights,
                        const float *bias, float *output) {
  const int32_t row_stride = p->in_w * p->in_c;
  const int32_t out_row = p->out_w * p->out_c;
  /* Blocks of 4 pixels need the same taps for all four. Columns [ow_lo, ow_fast) run in
   * row blocks with every horizontal tap inside the input; the other columns (padding
   * borders, leftovers) run in column blocks over the rows [oh_lo, oh_hi) with every
   * vertical tap inside, and one pixel at a time with clipped taps elsewhere. */
  int32_t ow_lo, ow_hi, oh_lo, oh_hi, ow_fast;
  int32_t n, oh, ow;
  tinyaot_interior_outputs(p->pad_left, p->stride_w, p->dilation_w, p->kernel_w, p->in_w, p->out_w, &ow_lo, &ow_hi);
  tinyaot_interior_outputs(p->pad_top, p->stride_h, p->dilation_h, p->kernel_h, p->in_h, p->out_h, &oh_lo, &oh_hi);
  ow_fast = ow_lo + (ow_hi - ow_lo) / 4 * 4;
  for (n = 0; n < p->batch; ++n) {
    const float *in_n = input + (size_t)n * p->in_h * row_stride;
    float *out_n = output + (size_t)n * p->out_h * out_row;
    for (oh = 0; oh < p->out_h; ++oh) {
      const int32_t base_h = oh * p->stride_h - p->pad_top;
      int32_t kh0, kh1;
      tinyaot_window_taps(base_h, p->dilation_h, p->kernel_h, p->in_h, &kh0, &kh1);
      for (ow = ow_lo; ow < ow_fast; ow += 4) {
        const ptrdiff_t x = ((ptrdiff_t)(base_h + kh0 * p->dilation_h) * p->in_w + ow * p->stride_w - p->pad_left) *
                            p->in_c;
        conv_pixels(p, in_n, x, 4, p->stride_w * p->in_c, out_n + (size_t)oh * out_row + (size_t)ow * p->out_c,
                    p->out_c, kh0, kh1 - kh0, 0, p->kernel_w, weights, bias);
      }
    }
    for (ow = 0; ow < p->out_w; ++ow) {
      const int32_t base_w = ow * p->stride_w - p->pad_left;
      int32_t kw0, kw1;
      if (ow >= ow_lo && ow < ow_fast) continue;
      tinyaot_window_taps(base_w, p->dilation_w, p->kernel_w, p->in_w, &kw0, &kw1);
      for (oh = 0; oh < p->out_h;) {
        const int32_t base_h = oh * p->stride_h - p->pad_top;
        float *out = out_n + (size_t)oh * out_row + (size_t)ow * p->out_c;
        if (oh >= oh_lo && oh + 4 <= oh_hi) {
          const ptrdiff_t x = ((ptrdiff_t)base_h * p->in_w + base_w) * p->in_c;
          conv_pixels(p, in_n, x, 4, p->stride_h * row_stride, out, out_row, 0, p->kernel_h, kw0, kw1, weights,
                      bias);
          oh += 4;
        } else {
          int32_t kh0, kh1;
          tinyaot_window_taps(base_h, p->dilation_h, p->kernel_h, p->in_h, &kh0, &kh1);
          conv_pixels(p, in_n, ((ptrdiff_t)(base_h + kh0 * p->dilation_h) * p->in_w + base_w) * p->in_c, 1, 0, out,
                      0, kh0, kh1 - kh0, kw0, kw1, weights, bias);
          oh += 1;
        }
      }
    }
  }
}
