/* tinyaot_tflite_avgpool_s8 on cores with the DSP extension: windows of up to 256 taps, any
 * geometry. Per output pixel and block of 8 channels, each tap is two word loads and four
 * SXTAB16, which sign-extend bytes (k0,k2) or (k1,k3) of a word and add them to two int16
 * sums at once; the int16 sums are exact (TINYAOT_TFLITE_AVGPOOL_MAX_TAPS). Channels beyond
 * the last multiple of 8 take a 4-channel block and scalar sums. */
#include "tinyaot/simd.h"

#if TINYAOT_PATH_TFLITE_AVGPOOL_S8 == TINYAOT_PATH_DSP
#include <stddef.h>

#include "tinyaot/qdsp.h"
#include "tinyaot/tflite.h"

/* acc + (k0,k2) and acc + (k1,k3) of w, lane by lane in int16 (SXTAB16, SXTAB16 ROR #8). */
static inline uint32_t tflite_sxtab16(uint32_t acc, uint32_t w) {
#if defined(TINYAOT_EMULATE_DSP)
  const uint32_t x = tinyaot_sxtb16(w);
  return ((acc + x) & 0xffffu) | (((acc >> 16) + (x >> 16)) << 16);
#else
  uint32_t r;
  __asm__("sxtab16 %0, %1, %2" : "=r"(r) : "r"(acc), "r"(w));
  return r;
#endif
}

static inline uint32_t tflite_sxtab16_odd(uint32_t acc, uint32_t w) {
#if defined(TINYAOT_EMULATE_DSP)
  return tflite_sxtab16(acc, (w >> 8) | (w << 24));
#else
  uint32_t r;
  __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(acc), "r"(w));
  return r;
#endif
}

typedef struct {
  int32_t lo, hi;
  int32_t count;
} tflite_pool_out;

static void tflite_pool_store(int8_t *y, int32_t sum, const tflite_pool_out *o) {
  *y = (int8_t)tinyaot_clamp_s32(tinyaot_tflite_average(sum, o->count), o->lo, o->hi);
}

/* The int16 sums of `words` packed words (1, 2 or 4) of a block starting at channel y[0]:
 * word i holds channels (i / 2) * 4 + i % 2 (low lane) and that + 2 (high lane), the SXTAB16
 * order. One out-of-line copy: the division per output would otherwise be inlined 16 times
 * for a layer that runs once per inference. */
static TINYAOT_DSP_NOINLINE void tflite_pool_store_block(int8_t *y, const uint32_t *acc, int32_t words,
                                                         const tflite_pool_out *o) {
  int32_t i;
  for (i = 0; i < words; ++i) {
    int8_t *lane = y + (i >> 1) * 4 + (i & 1);
    tflite_pool_store(lane, (int16_t)(acc[i] & 0xffffu), o);
    tflite_pool_store(lane + 2, (int16_t)(acc[i] >> 16), o);
  }
}

void tinyaot_tflite_avgpool_s8(const tinyaot_tflite_avgpool_params *p, const int8_t *input, int8_t *output) {
  const int32_t channels = p->channels;
  const size_t row_stride = (size_t)p->in_w * channels;
  int32_t n, oh, ow, y, x, c;
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
        const int8_t *window = in_n + (size_t)ys * row_stride + (size_t)xs * channels;
        tflite_pool_out o;
        o.lo = p->act_min;
        o.hi = p->act_max;
        o.count = (ye - ys) * (xe - xs);
        for (c = 0; c + 8 <= channels; c += 8) {
          uint32_t s[4] = {0, 0, 0, 0};
          const int8_t *row = window + c;
          for (y = ys; y < ye; ++y, row += row_stride) {
            const int8_t *tap = row;
            for (x = xs; x < xe; ++x, tap += channels) {
              const uint32_t w0 = tinyaot_dsp_load32(tap), w1 = tinyaot_dsp_load32(tap + 4);
              s[0] = tflite_sxtab16(s[0], w0);
              s[1] = tflite_sxtab16_odd(s[1], w0);
              s[2] = tflite_sxtab16(s[2], w1);
              s[3] = tflite_sxtab16_odd(s[3], w1);
            }
          }
          tflite_pool_store_block(output + c, s, 4, &o);
        }
        if (c + 4 <= channels) {
          uint32_t s[2] = {0, 0};
          const int8_t *row = window + c;
          for (y = ys; y < ye; ++y, row += row_stride) {
            const int8_t *tap = row;
            for (x = xs; x < xe; ++x, tap += channels) {
              const uint32_t w0 = tinyaot_dsp_load32(tap);
              s[0] = tflite_sxtab16(s[0], w0);
              s[1] = tflite_sxtab16_odd(s[1], w0);
            }
          }
          tflite_pool_store_block(output + c, s, 2, &o);
          c += 4;
        }
        for (; c < channels; ++c) {
          int32_t sum = 0;
          const int8_t *row = window + c;
          for (y = ys; y < ye; ++y, row += row_stride) {
            for (x = 0; x < xe - xs; ++x) sum += row[(size_t)x * channels];
          }
          tflite_pool_store(output + c, sum, &o);
        }
      }
    }
  }
}
#endif
