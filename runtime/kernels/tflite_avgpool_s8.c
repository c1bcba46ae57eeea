#include <stddef.h>

#include "tinyaot/simd.h"
#include "tinyaot/tflite.h"

void tinyaot_tflite_avgpool_s8_ref(const tinyaot_tflite_avgpool_params *p, const int8_t *input, int8_t *output) {
  int32_t n, oh, ow, y, x, c;
  for (n = 0; n < p->batch; ++n) {
    const int8_t *in_n = input + (size_t)n * p->in_h * p->in_w * p->channels;
    for (oh = 0; oh < p->out_h; ++oh) {
      const int32_t y0 = oh * p->stride_h - p->pad_top;
      const int32_t ys = y0 < 0 ? 0 : y0;
      const int32_t ye = y0 + p->kernel_h < p->in_h ? y0 + p->kernel_h : p->in_h;
      for (ow = 0; ow < p->out_w; ++ow) {
        const int32_t x0 = ow * p->stride_w - p->pad_left;
        const int32_t xs = x0 < 0 ? 0 : x0;
        const int32_t xe = x0 + p->kernel_w < p->in_w ? x0 + p->kernel_w : p->in_w;
        const int32_t count = (ye - ys) * (xe - xs);
        for (c = 0; c < p->channels; ++c) {
          int32_t acc = 0;
          for (y = ys; y < ye; ++y) {
            const int8_t *row = in_n + ((size_t)y * p->in_w) * p->channels + c;
            for (x = xs; x < xe; ++x) acc += row[(size_t)x * p->channels];
          }
          *output++ = (int8_t)tinyaot_clamp_s32(tinyaot_tflite_average(acc, count), p->act_min, p->act_max);
        }
      }
    }
  }
}

#if TINYAOT_PATH_TFLITE_AVGPOOL_S8 == TINYAOT_PATH_PORTABLE
void tinyaot_tflite_avgpool_s8(const tinyaot_tflite_avgpool_params *p, const int8_t *input, int8_t *output) {
  tinyaot_tflite_avgpool_s8_ref(p, input, output);
}
#endif
