/* tinyaot_qconv2d_s8 on cores with the DSP extension (see tinyaot/qdsp.h): the windows of two
 * output pixels are expanded to int16 into the scratch (im2col, taps in the weights' HWI
 * order, padding taps holding the input zero point so that the folded bias stays exact), then
 * multiplied with every weight row of the group, 2 pixels x 2 channels per block. Bit-exact
 * with the _ref kernel. */
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
        memset(c, (int8_t)p->input_zero_point, (size_t)cg_in);
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
  int32_t kh, kw;
  if ((cg_in & 3) == 0) {
    /* Whole groups of 4 inside each tap: expand straight from the input. */
    const uint32_t zp = ((uint32_t)p->input_zero_point & 0xffffu) * 0x10001u;
    const int32_t per_tap = cg_in >> 2;
    for (kh = 0; kh < p->kernel_h; ++kh) {
      const int32_t ih = base_h + kh * p->dilation_h;
      for (kw = 0; kw < p->kernel_w; ++kw) {
        const int32_t iw = base_w + kw * p->dilation_w;
        if (ih < 0 || ih >= p->in_h || iw < 0 || iw >= p->in_w) {
          int32_t i;
          for (i = 0; i < per_tap; ++i, dst += stride) dst[0] = dst[1] = zp;
        } else {
          tinyaot_dsp_expand(in_g + (size_t)ih * row_stride + (size_t)iw * p->in_c, cg_in, dst, stride);
          dst += stride * per_tap;
        }
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
  /* Scratch: two expanded windows, one gathered int8 window, the per-channel requantization
   * constants, the channels left to the generic requantization, two pixels' accumulators. */
  uint32_t *rows = (uint32_t *)scratch;
  int8_t *col = (int8_t *)(rows + 4 * tinyaot_dsp_groups(taps));
  tinyaot_dsp_requant *rq = (tinyaot_dsp_requant *)(col + 4 * tinyaot_dsp_groups(taps));
  int32_t *generic = (int32_t *)(rq + p->out_c);
  int32_t *acc = generic + p->out_c;
  tinyaot_dsp_out o;
  int32_t n, g, pix;
  tinyaot_dsp_out_prepare(&o, &p->out, p->out_c, rq, generic, p->weight_zero_point, output);
  for (n = 0; n < p->batch; ++n) {
    const int8_t *in_n = input + (size_t)n * p->in_h * p->in_w * p->in_c;
    const size_t out_n = (size_t)n * pixels * p->out_c;
    for (g = 0; g < p->groups; ++g) {
      const int8_t *in_g = in_n + (size_t)g * cg_in;
      const int32_t c0 = g * cg_out, c1 = c0 + cg_out;
      int32_t sum0 = 0, sum1 = 0;
      if (taps < 4) {
        /* Too short for a group: gathered windows and a plain dot product. */
        for (pix = 0; pix < pixels; ++pix) {
          const int32_t oh = pix / p->out_w, ow = pix - oh * p->out_w;
          tinyaot_conv_gather(p, in_g, cg_in, oh, ow, col);
          if (p->weight_zero_point != NULL) sum0 = tinyaot_dsp_row_sum(col, taps);
          tinyaot_dsp_rows_short(p->folded_bias, col, weights, taps, c0, c1, acc);
          tinyaot_dsp_finish(&o, acc, c0, c1, out_n + (size_t)pix * p->out_c, sum0);
        }
        continue;
      }
      for (pix = 0; pix + 1 < pixels; pix += 2) {
        const int32_t oh0 = pix / p->out_w, ow0 = pix - oh0 * p->out_w;
        const int32_t oh1 = ow0 + 1 < p->out_w ? oh0 : oh0 + 1, ow1 = ow0 + 1 < p->out_w ? ow0 + 1 : 0;
        tinyaot_conv_window(p, in_g, cg_in, oh0, ow0, col, rows, 4);
        tinyaot_conv_window(p, in_g, cg_in, oh1, ow1, col, rows + 2, 4);
        if (p->weight_zero_point != NULL) {
          sum0 = tinyaot_dsp_expanded_sum(rows, tinyaot_dsp_groups(taps), 4);
          sum1 = tinyaot_dsp_expanded_sum(rows + 2, tinyaot_dsp_groups(taps), 4);
        }
        tinyaot_dsp_rows2(p->folded_bias, rows, weights, taps, c0, c1, acc, acc + p->out_c);
        tinyaot_dsp_finish(&o, acc, c0, c1, out_n + (size_t)pix * p->out_c, sum0);
        tinyaot_dsp_finish(&o, acc + p->out_c, c0, c1, out_n + (size_t)(pix + 1) * p->out_c, sum1);
      }
      if (pix < pixels) {
        const int32_t oh0 = pix / p->out_w, ow0 = pix - oh0 * p->out_w;
        tinyaot_conv_window(p, in_g, cg_in, oh0, ow0, col, rows, 2);
        if (p->weight_zero_point != NULL) sum0 = tinyaot_dsp_expanded_sum(rows, tinyaot_dsp_groups(taps), 2);
        tinyaot_dsp_rows1(p->folded_bias, rows, weights, taps, c0, c1, acc);
        tinyaot_dsp_finish(&o, acc, c0, c1, out_n + (size_t)pix * p->out_c, sum0);
      }
    }
  }
}
#else
/* Not this core's path: ISO C forbids an empty translation unit. */
typedef int tinyaot_qconv2d_s8_dsp_not_built;
#endif
