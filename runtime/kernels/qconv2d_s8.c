#include <stddef.h>

#include "tinyaot/conv.h" /* tinyaot_window_taps */
#include "tinyaot/quantized.h"
#include "tinyaot/simd.h"

void tinyaot_qconv2d_s8_ref(const tinyaot_qconv2d_params *p, const int8_t *input, const int8_t *weights,
                            void *output, void *scratch) {
  const int32_t cg_in = p->in_c / p->groups;
  const int32_t cg_out = p->out_c / p->groups;
  const int32_t taps = p->kernel_h * p->kernel_w * cg_in; /* weights per output channel */
  const int32_t row_stride = p->in_w * p->in_c;
  const int32_t x_zp = p->input_zero_point;
  size_t index = 0;
  int32_t n, oh, ow, g, m, kh, kw, c;
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
        for (g = 0; g < p->groups; ++g) {
          const int8_t *in_g = in_n + (size_t)g * cg_in;
          int32_t x_sum = 0;
          if (inside && p->weight_zero_point != NULL) {
            for (kh = 0; kh < p->kernel_h; ++kh) {
              const int8_t *row = in_g + (size_t)(base_h + kh * p->dilation_h) * row_stride;
              for (kw = 0; kw < p->kernel_w; ++kw) {
                const int8_t *x = row + (base_w + kw * p->dilation_w) * p->in_c;
                for (c = 0; c < cg_in; ++c) x_sum += x[c];
              }
            }
          }
          for (m = 0; m < cg_out; ++m) {
            const int32_t oc = g * cg_out + m;
            const int8_t *w_oc = weights + (size_t)oc * taps;
            int32_t acc;
            if (inside) {
              /* The zero points are folded into folded_bias: a plain int8 MAC. */
              acc = p->folded_bias[oc];
              for (kh = 0; kh < p->kernel_h; ++kh) {
                const int8_t *row = in_g + (size_t)(base_h + kh * p->dilation_h) * row_stride;
                for (kw = 0; kw < p->kernel_w; ++kw) {
                  const int8_t *x = row + (base_w + kw * p->dilation_w) * p->in_c;
                  const int8_t *w = w_oc + (kh * p->kernel_w + kw) * cg_in;
                  for (c = 0; c < cg_in; ++c) acc += x[c] * w[c];
                }
              }
              if (p->weight_zero_point != NULL) acc -= p->weight_zero_point[oc] * x_sum;
            } else {
              /* A window over the padding: taps outside the input are the zero point. */
              const int32_t w_zp = p->weight_zero_point != NULL ? p->weight_zero_point[oc] : 0;
              acc = p->bias[oc];
              for (kh = kh0; kh < kh1; ++kh) {
                const int8_t *row = in_g + (size_t)(base_h + kh * p->dilation_h) * row_stride;
                for (kw = kw0; kw < kw1; ++kw) {
                  const int8_t *x = row + (base_w + kw * p->dilation_w) * p->in_c;
                  const int8_t *w = w_oc + (kh * p->kernel_w + kw) * cg_in;
                  for (c = 0; c < cg_in; ++c) acc += (x[c] - x_zp) * (w[c] - w_zp);
                }
              }
            }
            tinyaot_qoutput_store_at(&p->out, oc, acc, output, index + (size_t)oc);
          }
        }
        index += (size_t)p->out_c;
      }
    }
  }
}

#if TINYAOT_PATH_QCONV2D_S8 == TINYAOT_PATH_PORTABLE
void tinyaot_qconv2d_s8(const tinyaot_qconv2d_params *p, const int8_t *input, const int8_t *weights, void *output,
                        void *scratch) {
  tinyaot_qconv2d_s8_ref(p, input, weights, output, scratch);
}
#endif
