#include <stddef.h>

#include "tinyaot/conv.h"

/* Register blocking: a block of up to 4 output pixels x 4 channels keeps its 16
 * accumulators in FPU registers over all taps of the window, so every weight loaded feeds 4
 * multiply-adds (each activation feeds one: a depthwise channel has no other reader). The
 * taps run over `rows` kernel rows of `cols` columns (input tap (r, c) at
 * x + r * x_row + c * x_col, weights at w + r * w_row + c * w_col). The C steps offsets,
 * never a pointer past the window; gcc turns them into pointer increments, so every load is
 * an immediate-offset vldr. Each accumulator sums its products in tap order: host and
 * target agree bit for bit. */

typedef struct {
  int32_t rows, cols;
  int32_t x_row, x_col; /* input strides of a kernel row and column (floats) */
  int32_t w_row, w_col; /* weight strides of a kernel row and column (floats) */
} taps_f32;

#define TINYAOT_DW_PIXEL(xp, a0, a1, a2, a3) \
  do {                                      \
    a0 += xp[0] * wa;                       \
    a1 += xp[1] * wb;                       \
    a2 += xp[2] * wc;                       \
    a3 += xp[3] * wd;                       \
  } while (0)

/* y[0..3] = act(a0..a3): the block's accumulators go straight from registers to the output. */
static inline void store_4(float *y, float a0, float a1, float a2, float a3, const tinyaot_act_f32 *act) {
  y[0] = tinyaot_act_f32_apply(a0, act);
  y[1] = tinyaot_act_f32_apply(a1, act);
  y[2] = tinyaot_act_f32_apply(a2, act);
  y[3] = tinyaot_act_f32_apply(a3, act);
}

/* Channels c..c+3 of pixel p (input at x + p * px_stride, output at y + p * y_stride) start
 * from b[c] and sum the window's taps. */
static void block_4x4(const float *x, int32_t px_stride, const float *w, const taps_f32 *t, const float *b,
                      float *y, int32_t y_stride, const tinyaot_act_f32 *act) {
  float a00 = b[0], a01 = b[1], a02 = b[2], a03 = b[3];
  float a10 = a00, a11 = a01, a12 = a02, a13 = a03;
  float a20 = a00, a21 = a01, a22 = a02, a23 = a03;
  float a30 = a00, a31 = a01, a32 = a02, a33 = a03;
  const float *restrict x0 = x;
  const float *restrict x1 = x0 + px_stride;
  const float *restrict x2 = x1 + px_stride;
  const float *restrict x3 = x2 + px_stride;
  int32_t r, c;
  for (r = 0; r < t->rows; ++r) {
    ptrdiff_t xo = (ptrdiff_t)r * t->x_row;
    ptrdiff_t wo = (ptrdiff_t)r * t->w_row;
    for (c = 0; c < t->cols; ++c) {
      const float wa = w[wo], wb = w[wo + 1], wc = w[wo + 2], wd = w[wo + 3];
      TINYAOT_DW_PIXEL((x0 + xo), a00, a01, a02, a03);
      TINYAOT_DW_PIXEL((x1 + xo), a10, a11, a12, a13);
      TINYAOT_DW_PIXEL((x2 + xo), a20, a21, a22, a23);
      TINYAOT_DW_PIXEL((x3 + xo), a30, a31, a32, a33);
      xo += t->x_col;
      wo += t->w_col;
    }
  }
  store_4(y, a00, a01, a02, a03, act);
  store_4(y + y_stride, a10, a11, a12, a13, act);
  store_4(y + 2 * (size_t)y_stride, a20, a21, a22, a23, act);
  store_4(y + 3 * (size_t)y_stride, a30, a31, a32, a33, act);
}

/* One pixel x 4 channels (window borders). */
static void block_1x4(const float *x, const float *w, const taps_f32 *t, const float *b, float *y,
                      const tinyaot_act_f32 *act) {
  float a0 = b[0], a1 = b[1], a2 = b[2], a3 = b[3];
  int32_t r, c;
  for (r = 0; r < t->rows; ++r) {
    ptrdiff_t xo = (ptrdiff_t)r * t->x_row;
    ptrdiff_t wo = (ptrdiff_t)r * t->w_row;
    for (c = 0; c < t->cols; ++c) {
      const float wa = w[wo], wb = w[wo + 1], wc = w[wo + 2], wd = w[wo + 3];
      TINYAOT_DW_PIXEL((x + xo), a0, a1, a2, a3);
      xo += t->x_col;
      wo += t->w_col;
    }
  }
  store_4(y, a0, a1, a2, a3, act);
}

/* One pixel x one channel (channel multipliers, channel counts not a multiple of 4). */
static float block_1x1(const float *x, const float *w, const taps_f32 *t, float acc) {
  int32_t r, c;
  for (r = 0; r < t->rows; ++r) {
    ptrdiff_t xo = (ptrdiff_t)r * t->x_row;
    ptrdiff_t wo = (ptrdiff_t)r * t->w_row;
    for (c = 0; c < t->cols; ++c) {
      acc += x[xo] * w[wo];
      xo += t->x_col;
      wo += t->w_col;
    }
  }
  return acc;
}

/* 4 neighbouring pixels, stride 1 and 3 taps along the block's axis (3-wide kernels, the
 * common depthwise case): they read 6 input positions along it, each loaded once and
 * feeding up to 3 taps (a sliding window) instead of 12 loads. Two channels per block keep
 * the 8 accumulators, 6 weights and 2 activations in registers. Across the axis: `across`
 * taps, input step x_across, weight step w_across; along it the input step is the pixel
 * stride and the weight step w_along. Each accumulator takes its along-taps in order. */
static void block_slide3(const float *x, int32_t px_stride, int32_t across, int32_t x_across, const float *w,
                         int32_t w_along, int32_t w_across, const float *b, float *y, int32_t y_stride,
                         const tinyaot_act_f32 *act) {
  float a0 = b[0], a1 = b[1], b0 = a0, b1 = a1, c0 = a0, c1 = a1, d0 = a0, d1 = a1;
  int32_t q;
  for (q = 0; q < across; ++q) {
    const float *restrict xp = x + (ptrdiff_t)q * x_across;
    const float *restrict wq = w + (ptrdiff_t)q * w_across;
    const float *restrict wv = wq + w_along;
    const float *restrict wz = wv + w_along;
    const float u0 = wq[0], u1 = wq[1], v0 = wv[0], v1 = wv[1], z0 = wz[0], z1 = wz[1];
    float x0 = xp[0], x1 = xp[1];
    a0 += x0 * u0; a1 += x1 * u1;
    xp += px_stride; x0 = xp[0]; x1 = xp[1];
    a0 += x0 * v0; a1 += x1 * v1; b0 += x0 * u0; b1 += x1 * u1;
    xp += px_stride; x0 = xp[0]; x1 = xp[1];
    a0 += x0 * z0; a1 += x1 * z1; b0 += x0 * v0; b1 += x1 * v1; c0 += x0 * u0; c1 += x1 * u1;
    xp += px_stride; x0 = xp[0]; x1 = xp[1];
    b0 += x0 * z0; b1 += x1 * z1; c0 += x0 * v0; c1 += x1 * v1; d0 += x0 * u0; d1 += x1 * u1;
    xp += px_stride; x0 = xp[0]; x1 = xp[1];
    c0 += x0 * z0; c1 += x1 * z1; d0 += x0 * v0; d1 += x1 * v1;
    xp += px_stride; x0 = xp[0]; x1 = xp[1];
    d0 += x0 * z0; d1 += x1 * z1;
  }
  y[0] = tinyaot_act_f32_apply(a0, act);
  y[1] = tinyaot_act_f32_apply(a1, act);
  y += y_stride;
  y[0] = tinyaot_act_f32_apply(b0, act);
  y[1] = tinyaot_act_f32_apply(b1, act);
  y += y_stride;
  y[0] = tinyaot_act_f32_apply(c0, act);
  y[1] = tinyaot_act_f32_apply(c1, act);
  y += y_stride;
  y[0] = tinyaot_act_f32_apply(d0, act);
  y[1] = tinyaot_act_f32_apply(d1, act);
}

/* npx (1 or 4) output pixels with the same taps [kh0, kh0 + rows) x [kw0, kw0 + cols): x is
 * the offset from in_n of the input at tap (kh0, kw0), channel 0 of the first pixel,
 * px_stride the input distance of neighbouring pixels, out_stride their output distance.
 * slide: the 4 pixels are neighbours along a row (SLIDE_ROW) or a column (SLIDE_COLUMN) at
 * stride 1 with 3 undilated taps along it, or SLIDE_NONE. */
enum { SLIDE_NONE, SLIDE_ROW, SLIDE_COLUMN };

static void depthwise_pixels(const tinyaot_conv2d_f32_params *p, const float *in_n, ptrdiff_t x, int32_t npx,
                             int32_t px_stride, float *out, int32_t out_stride, int32_t kh0, int32_t rows,
                             int32_t kw0, int32_t cols, const float *weights, const float *bias, int slide) {
  static const float zeros[4] = {0.0f, 0.0f, 0.0f, 0.0f};
  const int32_t mult = p->out_c / p->in_c;
  const float *w = weights + ((size_t)kh0 * p->kernel_w + kw0) * p->out_c;
  taps_f32 t;
  int32_t o, i;
  /* A window entirely in the padding has no taps and no valid input address. */
  t.rows = cols > 0 ? rows : 0;
  t.cols = cols;
  t.x_row = p->dilation_h * p->in_w * p->in_c;
  t.x_col = p->dilation_w * p->in_c;
  t.w_row = p->kernel_w * p->out_c;
  t.w_col = p->out_c;
  if (t.rows == 0) x = 0;
  o = 0;
  if (mult == 1 && slide != SLIDE_NONE && t.rows > 0) {
    const int across_rows = slide == SLIDE_ROW;
    for (; o + 2 <= p->out_c; o += 2) {
      const float *b = bias != NULL ? bias + o : zeros;
      block_slide3(in_n + (x + o), px_stride, across_rows ? t.rows : t.cols, across_rows ? t.x_row : t.x_col,
                   w + o, across_rows ? t.w_col : t.w_row, across_rows ? t.w_row : t.w_col, b, out + o, out_stride,
                   &p->act);
    }
  }
  if (mult == 1) {
    for (; o + 4 <= p->out_c; o += 4) {
      const float *b = bias != NULL ? bias + o : zeros;
      if (npx == 4) {
        block_4x4(in_n + (x + o), px_stride, w + o, &t, b, out + o, out_stride, &p->act);
      } else {
        block_1x4(in_n + (x + o), w + o, &t, b, out + o, &p->act);
      }
    }
  }
  for (; o < p->out_c; ++o) {
    for (i = 0; i < npx; ++i) {
      const float *xi = in_n + (x + (ptrdiff_t)i * px_stride + o / mult);
      const float acc = block_1x1(xi, w + o, &t, bias != NULL ? bias[o] : 0.0f);
      out[(size_t)i * out_stride + o] = tinyaot_act_f32_apply(acc, &p->act);
    }
  }
}

void tinyaot_depthwise_conv2d_f32(const tinyaot_conv2d_f32_params *p, const float *input,
                                  const float *weights, const float *bias, float *output) {
  const int32_t row_stride = p->in_w * p->in_c;
  const int32_t out_row = p->out_w * p->out_c;
  /* As in conv2d_f32.c: columns [ow_lo, ow_fast) run in row blocks of 4 pixels with every
   * horizontal tap inside the input; the other columns run in column blocks over the rows
   * [oh_lo, oh_hi) with every vertical tap inside, one pixel at a time elsewhere. */
  int32_t ow_lo, ow_hi, oh_lo, oh_hi, ow_fast;
  int32_t n, oh, ow;
  int slide_row, slide_column;
  tinyaot_interior_outputs(p->pad_left, p->stride_w, p->dilation_w, p->kernel_w, p->in_w, p->out_w, &ow_lo, &ow_hi);
  tinyaot_interior_outputs(p->pad_top, p->stride_h, p->dilation_h, p->kernel_h, p->in_h, p->out_h, &oh_lo, &oh_hi);
  ow_fast = ow_lo + (ow_hi - ow_lo) / 4 * 4;
  slide_row = p->stride_w == 1 && p->dilation_w == 1 && p->kernel_w == 3 ? SLIDE_ROW : SLIDE_NONE;
  slide_column = p->stride_h == 1 && p->dilation_h == 1 && p->kernel_h == 3 ? SLIDE_COLUMN : SLIDE_NONE;
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
        depthwise_pixels(p, in_n, x, 4, p->stride_w * p->in_c, out_n + (size_t)oh * out_row + (size_t)ow * p->out_c,
                         p->out_c, kh0, kh1 - kh0, 0, p->kernel_w, weights, bias, slide_row);
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
          const ptrdiff_t x = ((ptrdiff_t)base_h * p->in_w + base_w + kw0 * p->dilation_w) * p->in_c;
          depthwise_pixels(p, in_n, x, 4, p->stride_h * row_stride, out, out_row, 0, p->kernel_h, kw0, kw1 - kw0,
                           weights, bias, slide_column);
          oh += 4;
        } else {
          int32_t kh0, kh1;
          tinyaot_window_taps(base_h, p->dilation_h, p->kernel_h, p->in_h, &kh0, &kh1);
          depthwise_pixels(p, in_n,
                           ((ptrdiff_t)(base_h + kh0 * p->dilation_h) * p->in_w + base_w + kw0 * p->dilation_w) *
                               p->in_c,
                           1, 0, out, 0, kh0, kh1 - kh0, kw0, kw1 - kw0, weights, bias, SLIDE_NONE);
          oh += 1;
        }
      }
    }
  }
}
