/* tinyaot_qconv2d_s8 on cores with the DSP extension (see tinyaot/qdsp.h): the windows of two
 * output pixels are expanded to int16 into the scratch (im2col, taps in the weights' HWI
 * order, padding taps holding the input zero point so that the folded bias stays exact), then
 * multiplied with every weight row of the group, 2 pixels x 2 channels per step,
 * TINYAOT_DSP_BLOCK channels at a time requantized from their accumulators in the scratch.
 * Bit-exact with the _ref kernel. */
#include "tinyaot/simd.h"

#if TINYAOT_PATH_QCONV2D_S8 == TINYAOT_PATH_DSP
#include <stddef.h>

#include "tinyaot/qdsp.h"

/* Copies n bytes (word by word while it can: windows are short runs). */
static void tinyaot_conv_copy(int8_t *dst, const int8_t *src, int32_t n) {
  for (; n >= 4; n -= 4, dst += 4, src += 4) {
    const uint32_t w = tinyaot_dsp_load32(src);
    memcpy(dst, &w, 4);
  }
  for (; n > 0; --n) *dst++ = *src++;
}

/* The int8 window of output pixel (oh, ow), group g, in the weights' HWI order into `col`
 * (padding taps: the input zero point). */
static void tinyaot_conv_gather(const tinyaot_qconv2d_params *p, const int8_t *in_g, int32_t cg_in, int32_t oh,
                                int32_t ow, int8_t *col) {
  const int32_t base_h = oh * p->stride_h - p->pad_top, base_w = ow * p->stride_w - p->pad_left;
  const int32_t row_stride = p->in_w * p->in_c;
  const int32_t contiguous = p->dilation_w == 1 && cg_in == p->in_c;
  int8_t *c = col;
  int32_t kh, kw;
  for (kh = 0; kh < p->kernel_h; ++kh) {
    const int32_t ih = base_h + kh * p->dilation_h;
    const int32_t row_inside = ih >= 0 && ih < p->in_h;
    const int8_t *row = in_g + (size_t)ih * row_stride;
    if (row_inside && contiguous && base_w >= 0 && base_w + p->kernel_w <= p->in_w) {
      tinyaot_conv_copy(c, row + (size_t)base_w * p->in_c, p->kernel_w * cg_in);
      c += p->kernel_w * cg_in;
      continue;
    }
    for (kw = 0; kw < p->kernel_w; ++kw) {
      const int32_t iw = base_w + kw * p->dilation_w;
      if (!row_inside || iw < 0 || iw >= p->in_w) {
        int32_t i; /* a few bytes: cheaper than a memset call */
        for (i = 0; i < cg_in; ++i) c[i] = (int8_t)p->input_zero_point;
      } else {
        tinyaot_conv_copy(c, row + (size_t)iw * p->in_c, cg_in);
      }
      c += cg_in;
    }
  }
}

/* The expanded window of output pixel (oh, ow), group g, into `dst` (pair words `stride`
 * apart group to group). `col`: room for the int8 window when it has to be gathered first. */
static void tinyaot_conv_window(const tinyaot_qconv2d_params *p, const int8_t *in_g, int32_t cg_in, int32_t oh,
                                int32_t ow, int8_t *col, uint32_t *dst, int32_t stride) {
  const int32_t base_h = oh * p->stride_h - p->pad_top, base_w = ow * p->stride_w - p->pad_left;
  const int32_t row_stride = p->in_w * p->in_c;
  const int32_t row_taps = p->kernel_w * cg_in;
  int32_t kh;
  if ((row_taps & 3) == 0 && p->dilation_w == 1 && cg_in == p->in_c) {
    /* Each kernel row's taps are contiguous in the input and whole groups of 4: rows inside
     * the input expand straight from it, the others are gathered first (KWS's first layer:
     * 10x4 taps of one channel). */
    const uint32_t zp = ((uint32_t)p->input_zero_point & 0xffffu) * 0x10001u;
    const int32_t inside_w = base_w >= 0 && base_w + p->kernel_w <= p->in_w;
    for (kh = 0; kh < p->kernel_h; ++kh, dst += stride * (row_taps >> 2)) {
      const int32_t ih = base_h + kh * p->dilation_h;
      if (ih < 0 || ih >= p->in_h) {
        uint32_t *d = dst;
        int32_t i;
        for (i = 0; i < row_taps >> 2; ++i, d += stride) d[0] = d[1] = zp;
      } else if (inside_w) {
        tinyaot_dsp_expand(in_g + (size_t)ih * row_stride + (size_t)base_w * p->in_c, row_taps, dst, stride);
      } else {
        /* the row's taps: the zero point, then the part inside the input copied over it */
        const int32_t kw0 = base_w < 0 ? -base_w : 0;
        const int32_t kw1 = base_w + p->kernel_w > p->in_w ? p->in_w - base_w : p->kernel_w;
        const uint32_t zp8 = ((uint32_t)p->input_zero_point & 0xffu) * 0x01010101u;
        int32_t i;
        for (i = 0; i < row_taps; i += 4) memcpy(col + i, &zp8, 4);
        if (kw1 > kw0) {
          tinyaot_conv_copy(col + kw0 * cg_in, in_g + (size_t)ih * row_stride + (size_t)(base_w + kw0) * p->in_c,
                            (kw1 - kw0) * cg_in);
        }
        tinyaot_dsp_expand(col, row_taps, dst, stride);
      }
    }
    return;
  }
  tinyaot_conv_gather(p, in_g, cg_in, oh, ow, col);
  tinyaot_dsp_expand(col, p->kernel_h * p->kernel_w * cg_in, dst, stride);
}
void tinyaot_qconv2d_s8(const tinyaot_qconv2d_params *p, const int8_t *input, const int8_t *weights, void *output,
                        void *scratch) {
  const int32_t cg_in = p->in_c / p->groups, cg_out = p->out_c / p->groups;
  const int32_t taps = p->kernel_h * p->kernel_w * cg_in;
  const int32_t pixels = p->out_h * p->out_w;
  /* Scratch: two expanded windows, one gathered int8 window, one block's accumulators of
   * both pixels. */
  uint32_t *rows = (uint32_t *)scratch;
  int8_t *col = (int8_t *)(rows + 4 * tinyaot_dsp_groups(taps));
  int32_t *acc = (int32_t *)(void *)(col + 4 * tinyaot_dsp_groups(taps));
  tinyaot_dsp_out o;
  int32_t n, g, pix, c, count;
  tinyaot_dsp_out_init(&o, &p->out, p->out_c, p->weight_zero_point, output);
  for (n = 0; n < p->batch; ++n) {
    const int8_t *in_n = input + (size_t)n * p->in_h * p->in_w * p->in_c;
    const size_t out_n = (size_t)n * pixels * p->out_c;
    for (g = 0; g < p->groups; ++g) {
      const int8_t *in_g = in_n + (size_t)g * cg_in;
      const int32_t c0 = g * cg_out, c1 = c0 + cg_out;
      for (pix = 0; pix < pixels; pix += 2) {
        const int32_t oh0 = pix / p->out_w, ow0 = pix - oh0 * p->out_w;
        const int32_t two = pix + 1 < pixels && taps >= 4;
        const size_t index0 = out_n + (size_t)pix * p->out_c, index1 = index0 + (size_t)p->out_c;
        int32_t sum0 = 0, sum1 = 0;
        /* Both windows are gathered before any output of the pair is written. */
        if (taps < 4) {
          /* Too short for a group: a gathered window and a plain dot product. */
          tinyaot_conv_gather(p, in_g, cg_in, oh0, ow0, col);
          if (p->weight_zero_point != NULL) sum0 = tinyaot_dsp_row_sum(col, taps);
        } else if (two) {
          const int32_t oh1 = ow0 + 1 < p->out_w ? oh0 : oh0 + 1, ow1 = ow0 + 1 < p->out_w ? ow0 + 1 : 0;
          tinyaot_conv_window(p, in_g, cg_in, oh0, ow0, col, rows, 4);
          tinyaot_conv_window(p, in_g, cg_in, oh1, ow1, col, rows + 2, 4);
          if (p->weight_zero_point != NULL) {
            sum0 = tinyaot_dsp_expanded_sum(rows, tinyaot_dsp_groups(taps), 4);
            sum1 = tinyaot_dsp_expanded_sum(rows + 2, tinyaot_dsp_groups(taps), 4);
          }
        } else {
          tinyaot_conv_window(p, in_g, cg_in, oh0, ow0, col, rows, 2);
          if (p->weight_zero_point != NULL) sum0 = tinyaot_dsp_expanded_sum(rows, tinyaot_dsp_groups(taps), 2);
        }
        for (c = c0; c < c1; c += count) {
          const int8_t *w = weights + (size_t)c * taps;
          count = c1 - c < TINYAOT_DSP_BLOCK ? c1 - c : TINYAOT_DSP_BLOCK;
          if (two) {
            tinyaot_dsp_rows2(p->folded_bias + c, rows, w, taps, count, acc, acc + TINYAOT_DSP_BLOCK);
            tinyaot_dsp_finish(&o, acc, 1, c, count, index0, index1, sum0, sum1);
          } else {
            if (taps < 4) {
              tinyaot_dsp_rows_short(p->folded_bias + c, col, w, taps, count, acc);
            } else {
              tinyaot_dsp_rows1(p->folded_bias + c, rows, w, taps, count, acc);
            }
            tinyaot_dsp_finish(&o, acc, 0, c, count, index0, 0, sum0, 0);
          }
        }
        if (!two) pix -= 1; /* one pixel done */
      }
    }
  }
}
#else
/* Not this core's path: ISO C forbids an empty translation unit. */
typedef int tinyaot_qconv2d_s8_dsp_not_built;
#endif
