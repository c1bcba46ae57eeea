#include <stddef.h>

#include "tinyaot/conv.h" /* tinyaot_window_taps */
#include "tinyaot/quantized.h"
#include "tinyaot/simd.h"

void tinyaot_qdepthwise_conv2d_s8_ref(const tinyaot_qconv2d_params *p, const int8_t *input, const int8_t *weights,
                                      void *output, void *scratch) {
  const int32_t multiplier = p->out_c / p->in_c;
  const int32_t row_stride = p->in_w * p->in_c;
  const int32_t x_zp = p->input_zero_point;
  size_t index = 0;
  int32_t n, oh, ow, oc, kh, kw;
  (void)scratch; /* the portable code needs none */
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
