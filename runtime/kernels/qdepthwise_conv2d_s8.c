#include <stddef.h>

#include "tinyaot/conv.h" /* tinyaot_window_taps */
#include "tinyaot/quantized.h"
#include "tinyaot/simd.h"

/* One channel at a time, input rows copied into a ring of kernel_h rows of the scratch (row
 * tags and the current window's row offsets first, then the rows, padding columns and rows
 * holding x_zp) before the output row that needs them is written, and never read from the
 * input again (dilation 1): an output written over its input (planner.py, overlap) clobbers
 * only rows already copied. */
static void tinyaot_qdw_ref_ring(const tinyaot_qconv2d_params *p, const int8_t *input, const int8_t *weights,
                                 void *output, int32_t span, void *scratch) {
  const int32_t channels = p->out_c, x_zp = p->input_zero_point, kernel_h = p->kernel_h;
  int32_t *const tags = (int32_t *)scratch;
  int32_t *const offsets = tags + kernel_h; /* ring offset of window row k */
  int8_t *const ring = (int8_t *)(offsets + kernel_h);
  int32_t c, n, oh, ow, k, kw, j;
  for (c = 0; c < channels; ++c) {
    const int32_t w_zp = p->weight_zero_point != NULL ? p->weight_zero_point[c] : 0;
    for (n = 0; n < p->batch; ++n) {
      const int8_t *in_n = input + (size_t)n * p->in_h * p->in_w * channels + c;
      size_t index = ((size_t)n * p->out_h * p->out_w) * channels + (size_t)c;
      for (k = 0; k < kernel_h; ++k) tags[k] = INT32_MIN; /* no row held */
      for (oh = 0; oh < p->out_h; ++oh) {
        const int32_t base_h = oh * p->stride_h - p->pad_top;
        for (k = 0; k < kernel_h; ++k) {
          const int32_t row = base_h + k * p->dilation_h;
          /* dilation 1: consecutive rows keep distinct slots while the window slides down */
          const int32_t slot = p->dilation_h == 1 ? (row + p->pad_top) % kernel_h : k;
          int8_t *line = ring + (size_t)slot * span;
          offsets[k] = slot * span;
          if (tags[slot] == row) continue;
          tags[slot] = row;
          if (row < 0 || row >= p->in_h) {
            for (j = 0; j < span; ++j) line[j] = (int8_t)x_zp;
          } else {
            /* line[j] holds input column j - pad_left */
            const int32_t left = p->pad_left < span ? p->pad_left : span;
            const int32_t right = p->in_w + p->pad_left < span ? p->in_w + p->pad_left : span;
            const int8_t *x = in_n + (size_t)row * p->in_w * channels;
            for (j = 0; j < left; ++j) line[j] = (int8_t)x_zp;
            for (; j < right; ++j, x += channels) line[j] = *x;
            for (; j < span; ++j) line[j] = (int8_t)x_zp;
          }
        }
        for (ow = 0; ow < p->out_w; ++ow, index += (size_t)channels) {
          /* padding taps hold x_zp, so folded_bias makes every window a plain int8 MAC */
          int32_t acc = p->folded_bias[c], x_sum = 0;
          for (k = 0; k < kernel_h; ++k) {
            const int8_t *x = ring + offsets[k] + ow * p->stride_w;
            const int8_t *w = weights + (size_t)k * p->kernel_w * channels + c;
            for (kw = 0; kw < p->kernel_w; ++kw) acc += x[kw * p->dilation_w] * w[kw * channels];
            if (w_zp != 0) {
              for (kw = 0; kw < p->kernel_w; ++kw) x_sum += x[kw * p->dilation_w];
            }
          }
          tinyaot_qoutput_store_at(&p->out, c, acc - w_zp * x_sum, output, index);
        }
      }
    }
  }
}

void tinyaot_qdepthwise_conv2d_s8_ref(const tinyaot_qconv2d_params *p, const int8_t *input, const int8_t *weights,
                                      void *output, void *scratch) {
  const int32_t multiplier = p->out_c / p->in_c;
  const int32_t row_stride = p->in_w * p->in_c;
  const int32_t x_zp = p->input_zero_point;
  const int32_t span = (p->out_w - 1) * p->stride_w + (p->kernel_w - 1) * p->dilation_w + 1;
  size_t index = 0;
  int32_t n, oh, ow, oc, kh, kw;
  if (p->in_c == p->out_c && scratch != NULL &&
      TINYAOT_QDW_REF_RING_BYTES(p->kernel_h, span) <=
          TINYAOT_QDEPTHWISE_CONV2D_S8_SCRATCH(p->kernel_h, p->kernel_w, p->out_h, p->out_w, p->stride_h,
                                               p->stride_w, p->out_c)) {
    tinyaot_qdw_ref_ring(p, input, weights, output, span, scratch);
    return;
  }
  /* Raster order reading the input in place (no scratch, or the ring does not fit). */
  for (n = 0; n < p->batch; ++n) {
    const int8_t *in_n = input + (size_t)n * p->in_h * row_stride;
    for (oh = 0; oh < p->out_h; ++oh) {
      const int32_t base_h = oh * p->stride_h - p->pad_top;
      int32_t kh0, kh1;
      tinyaot_window_taps(base_h, p->dilation_h, p->kernel_h, p->in_h, &kh0, &kh1);
      for (ow = 0; ow < p->out_w; ++ow) {
        const int32_t base_w = ow * p->stride_w - p->pad_left;
        int32_t kw0, kw1, inside;
        tinyaot_window_taps(base_w, p->dilation_w, p->kernel_w, p->in_w, &kw0, &kw1);
        inside = kh0 == 0 && kh1 == p->kernel_h && kw0 == 0 && kw1 == p->kernel_w;
        for (oc = 0; oc < p->out_c; ++oc) {
          const int8_t *in_ch = in_n + oc / multiplier;
          const int32_t w_zp = p->weight_zero_point != NULL ? p->weight_zero_point[oc] : 0;
          int32_t acc;
          if (inside) {
            /* The zero points are folded into folded_bias: a plain int8 MAC. */
            int32_t x_sum = 0;
            acc = p->folded_bias[oc];
            for (kh = 0; kh < p->kernel_h; ++kh) {
              const int8_t *row = in_ch + (size_t)(base_h + kh * p->dilation_h) * row_stride;
              const int8_t *w = weights + (size_t)kh * p->kernel_w * p->out_c + oc;
              for (kw = 0; kw < p->kernel_w; ++kw) {
                const int32_t x = row[(base_w + kw * p->dilation_w) * p->in_c];
                acc += x * w[kw * p->out_c];
                x_sum += x;
              }
            }
            acc -= w_zp * x_sum;
          } else {
            /* A window over the padding: taps outside the input are the zero point. */
            acc = p->bias[oc];
            for (kh = kh0; kh < kh1; ++kh) {
              const int8_t *row = in_ch + (size_t)(base_h + kh * p->dilation_h) * row_stride;
              const int8_t *w = weights + (size_t)kh * p->kernel_w * p->out_c + oc;
              for (kw = kw0; kw < kw1; ++kw) {
                acc += (row[(base_w + kw * p->dilation_w) * p->in_c] - x_zp) * (w[kw * p->out_c] - w_zp);
              }
            }
          }
          tinyaot_qoutput_store_at(&p->out, oc, acc, output, index + (size_t)oc);
        }
        index += (size_t)p->out_c;
      }
    }
  }
}

#if TINYAOT_PATH_QDEPTHWISE_CONV2D_S8 == TINYAOT_PATH_PORTABLE
void tinyaot_qdepthwise_conv2d_s8(const tinyaot_qconv2d_params *p, const int8_t *input, const int8_t *weights,
                                  void *output, void *scratch) {
  tinyaot_qdepthwise_conv2d_s8_ref(p, input, weights, output, scratch);
}
#endif
