/* tinyaot_tflite_avgpool_s8 with Helium (MVE): windows of up to 256 taps, any geometry. Per
 * output pixel and block of 16 channels, each tap is two VLDRB.S16 (8 channels widened to
 * int16; the channel tail under a VCTP16 predicate, predicated-off lanes load 0) and two
 * VADD.I16; the int16 sums are exact (TINYAOT_TFLITE_AVGPOOL_MAX_TAPS). The rounded division
 * by the tap count is scalar, once per output. */
#include "tinyaot/simd.h"

#if TINYAOT_PATH_TFLITE_AVGPOOL_S8 == TINYAOT_PATH_MVE
#include <arm_mve.h>
#include <stddef.h>

#include "tinyaot/tflite.h"

void tinyaot_tflite_avgpool_s8(const tinyaot_tflite_avgpool_params *p, const int8_t *input, int8_t *output) {
  const int32_t channels = p->channels, lo = p->act_min, hi = p->act_max;
  const size_t row_stride = (size_t)p->in_w * channels;
  int32_t n, oh, ow, y, x, c, i;
  int16_t sums[16];
  if (p->kernel_h * p->kernel_w > TINYAOT_TFLITE_AVGPOOL_MAX_TAPS) {
    tinyaot_tflite_avgpool_s8_ref(p, input, output);
    return;
  }
  for (n = 0; n < p->batch; ++n) {
    const int8_t *in_n = input + (size_t)n * p->in_h * row_stride;
    for (oh = 0; oh < p->out_h; ++oh) {
      const int32_t y0 = oh * p->stride_h - p->pad_top;
      const int32_t ys = y0 < 0 ? 0 : y0;
      const int32_t ye = y0 + p->kernel_h < p->in_h ? y0 + p->kernel_h : p->in_h;
      for (ow = 0; ow < p->out_w; ++ow, output += channels) {
        const int32_t x0 = ow * p->stride_w - p->pad_left;
        const int32_t xs = x0 < 0 ? 0 : x0;
        const int32_t xe = x0 + p->kernel_w < p->in_w ? x0 + p->kernel_w : p->in_w;
        const int32_t count = (ye - ys) * (xe - xs), width = xe - xs;
        const int8_t *window = in_n + (size_t)ys * row_stride + (size_t)xs * channels;
        for (c = 0; c < channels; c += 16) {
          const int32_t left = channels - c, block = left < 16 ? left : 16;
          const mve_pred16_t p0 = vctp16q((uint32_t)left), p1 = vctp16q((uint32_t)(left > 8 ? left - 8 : 0));
          int16x8_t s0 = vdupq_n_s16(0), s1 = vdupq_n_s16(0);
          const int8_t *row = window + c;
          for (y = ys; y < ye; ++y, row += row_stride) {
            const int8_t *tap = row;
            for (x = 0; x < width; ++x, tap += channels) {
              s0 = vaddq_s16(s0, vldrbq_z_s16(tap, p0));
              s1 = vaddq_s16(s1, vldrbq_z_s16(tap + 8, p1));
            }
          }
          vst1q_s16(sums, s0);
          vst1q_s16(sums + 8, s1);
          for (i = 0; i < block; ++i) {
            output[c + i] = (int8_t)tinyaot_clamp_s32(tinyaot_tflite_average(sums[i], count), lo, hi);
          }
        }
      }
    }
  }
}
#endif
