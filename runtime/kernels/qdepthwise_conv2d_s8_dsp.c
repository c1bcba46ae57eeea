/* tinyaot_qdepthwise_conv2d_s8 on cores with the DSP extension, for 3x3 kernels (any
 * stride_h, dilation_h, padding; stride_w 1 or 2, dilation_w 1), channels a multiple of 4,
 * one output channel per input channel and no weight zero points: the depthwise layers of
 * MobileNet and DS-CNN. Everything else runs the portable kernel.
 *
 * The work goes in blocks of channels (as many as the scratch holds, split evenly) and,
 * across the width, tiles of at most 64 output pixels (TINYAOT_QDW_DSP_TILE_), so the scratch
 * buffer holds only one block's rows of one tile (TINYAOT_QDEPTHWISE_CONV2D_S8_SCRATCH: at most a
 * few KiB, independent of the layer's channel count).
 *
 * SMLAD needs two products of the same output in one word. Here they are two horizontally
 * adjacent taps of one channel: each input row the window needs is expanded once into a
 * scratch row of words Q[k][c] = (x[col0 + 2k][c], x[col0 + 2k + 1][c]) (int16 pairs, each
 * input value once; outside the input: the input zero point, so the folded bias stays exact
 * and no window needs a bounds check), kept in a ring of kernel_h rows while later output
 * rows need it. Per kernel row the weights are the words (w0, w1) and (w1, w2). Stride 1,
 * pixels 2k and 2k+1: Q[k].(w0,w1) + Q[k+1].bottom * w2 and Q[k].top * w0 + Q[k+1].(w1,w2);
 * stride 2, pixels j and j+1: Q[j].(w0,w1) + Q[j+1].bottom * w2 and Q[j+1].(w0,w1) +
 * Q[j+2].bottom * w2. Blocks of 2 pixels x 2 channels share every load: 12 (stride 1) or 13
 * instructions per kernel row.
 *
 * The weights are expanded doubled (2w) so the accumulator is 2 * acc, which turns TFLite's
 * rounding doubling high multiply into one SMMLAR (exact while |2 acc| < 2^31, checked per
 * call from the folded bias and the number of taps). With TFLite's double rounding and no
 * clamp (the MLPerf layers) one assembly run per output row and block goes over the channel
 * pairs and their pixel pairs (an odd count's last pixel in a second, one-pixel run) and
 * requantizes in registers right after the MACs, with per-channel constants prepared once
 * per block: no accumulator goes to memory. Other requantizations take a C row (one output
 * at a time, tinyaot_qoutput_store_at unless the doubled form fits). Bit-exact with the
 * _ref kernel. */
#include "tinyaot/simd.h"

#if TINYAOT_PATH_QDEPTHWISE_CONV2D_S8 == TINYAOT_PATH_DSP
#include <stddef.h>

#include "tinyaot/qdsp.h"

#define TINYAOT_DW_MAX_KERNEL_H 3
/* One channel pair's words (c, c+1), prepared per block; the byte offsets are those the
 * assembly reads: per kernel row (w0,w1)[c], (w0,w1)[c+1], (w1,w2)[c], (w1,w2)[c+1] at 16 kh,
 * then 2 folded_bias (48), multiplier (56), add = 2^(e-1) + zero_point 2^e (64), e = -shift
 * (72), each for c and c+1 (80 bytes). */
#define TINYAOT_DW_PAIR_WORDS 20
#define TINYAOT_DW_BIAS 12
#define TINYAOT_DW_MULT 14
#define TINYAOT_DW_ADD 16
#define TINYAOT_DW_SHIFT 18

#if defined(TINYAOT_EMULATE_DSP)
static inline int32_t tinyaot_dw_smmla(int32_t a, int32_t b, int32_t add) {
  return (int32_t)((uint32_t)add + (uint32_t)(int32_t)(((int64_t)a * b) >> 32));
}
static inline int32_t tinyaot_dw_smmlar(int32_t a, int32_t b, int32_t add) {
  return (int32_t)((uint32_t)add + (uint32_t)(int32_t)(((int64_t)a * b + ((int64_t)1 << 31)) >> 32));
}
#else
/* add + the high word of a * b, truncated (SMMLA) or rounded (SMMLAR): not in ACLE. */
static inline int32_t tinyaot_dw_smmla(int32_t a, int32_t b, int32_t add) {
  int32_t r;
  __asm__("smmla %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(add));
  return r;
}
static inline int32_t tinyaot_dw_smmlar(int32_t a, int32_t b, int32_t add) {
  int32_t r;
  __asm__("smmlar %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(add));
  return r;
}
#endif

/* 1 when every folded bias leaves room for the doubled form: |acc| < 2^29. */
static int32_t tinyaot_dw_bias_fits(const tinyaot_qconv2d_params *p) {
  const int32_t limit = (1 << 29) - p->kernel_h * 3 * 16384; /* |x * w| <= 2^14 per tap */
  int32_t c;
  for (c = 0; c < p->out_c; ++c) {
    if (p->folded_bias[c] > limit || p->folded_bias[c] < -limit) return 0;
  }
  return 1;
}

/* 1 when every channel has TFLite rounding with a shift the doubled form covers. */
static int32_t tinyaot_dw_requant_fits(const tinyaot_qoutput *q, int32_t channels) {
  int32_t c;
  if (q->multiplier == NULL || (q->rounding != TINYAOT_ROUND_TFLITE && q->rounding != TINYAOT_ROUND_TFLITE_SINGLE)) {
    return 0;
  }
  for (c = 0; c < channels; ++c) {
    const int32_t e = -q->shift[c];
    if (e < 1 || e > 22 || q->multiplier[c] < 0) return 0;
  }
  return 1;
}

/* Both int16 halves of x doubled (|x| <= 128 per half: no carry out of a half). */
TINYAOT_DSP_INLINE uint32_t tinyaot_dw_double16(uint32_t x) { return (x << 1) & 0xfffeffffu; }

/* The pair words of channels c0 .. c0+block-1 (TINYAOT_DW_PAIR_WORDS each), 4 channels (two
 * pairs) at a time from words of the 1HWO weights; the requantization constants only when
 * `fast` (tinyaot_dw_requant_fits), else zeros. */
static TINYAOT_DSP_NOINLINE void tinyaot_dw_prepare(const tinyaot_qconv2d_params *p, const int8_t *weights,
                                                    int32_t c0, int32_t block, int32_t fast, uint32_t *w) {
  /* read once: the stores to w could alias them */
  const int32_t channels = p->out_c, zero_point = p->out.zero_point;
  const int32_t *const bias = p->folded_bias, *const multiplier = p->out.multiplier, *const shift = p->out.shift;
  int32_t c, i, kh;
  for (c = c0; c < c0 + block; c += 4, w += 2 * TINYAOT_DW_PAIR_WORDS) {
    for (kh = 0; kh < 3; ++kh) {
      const int8_t *row = weights + (size_t)kh * 3 * channels + c;
      const uint32_t a = tinyaot_dsp_load32(row), b = tinyaot_dsp_load32(row + channels);
      const uint32_t d = tinyaot_dsp_load32(row + 2 * channels);
      /* (w[c], w[c+2]) and (w[c+1], w[c+3]) of the three taps, doubled */
      const uint32_t ea = tinyaot_dw_double16(tinyaot_sxtb16(a)), oa = tinyaot_dw_double16(tinyaot_sxtb16_odd(a));
      const uint32_t eb = tinyaot_dw_double16(tinyaot_sxtb16(b)), ob = tinyaot_dw_double16(tinyaot_sxtb16_odd(b));
      const uint32_t ed = tinyaot_dw_double16(tinyaot_sxtb16(d)), od = tinyaot_dw_double16(tinyaot_sxtb16_odd(d));
      uint32_t *q = w + 4 * kh, *r = q + TINYAOT_DW_PAIR_WORDS;
      q[0] = tinyaot_pack_bottoms(ea, eb);
      q[1] = tinyaot_pack_bottoms(oa, ob);
      q[2] = tinyaot_pack_bottoms(eb, ed);
      q[3] = tinyaot_pack_bottoms(ob, od);
      r[0] = tinyaot_pack_tops(ea, eb);
      r[1] = tinyaot_pack_tops(oa, ob);
      r[2] = tinyaot_pack_tops(eb, ed);
      r[3] = tinyaot_pack_tops(ob, od);
    }
    for (i = 0; i < 4; ++i) {
      uint32_t *q = w + (i >> 1) * TINYAOT_DW_PAIR_WORDS + (i & 1);
      const int32_t e = fast ? -shift[c + i] : 1;
      q[TINYAOT_DW_BIAS] = (uint32_t)(2 * bias[c + i]);
      q[TINYAOT_DW_MULT] = fast ? (uint32_t)multiplier[c + i] : 0u;
      q[TINYAOT_DW_ADD] = fast ? (uint32_t)((1 << (e - 1)) + zero_point * (1 << e)) : 0u;
      q[TINYAOT_DW_SHIFT] = (uint32_t)e;
    }
  }
}

/* The requantization of a doubled accumulator A = 2 acc (|acc| < 2^29) with e = -shift in
 * [1, 22] and the output zero point folded into add = 2^(e-1) + zero_point * 2^e:
 * TINYAOT_ROUND_TFLITE: s = SMMULR(A, m) = (acc*m + 2^30) >> 31 is the rounding doubling high
 * multiply and (s + 2^(e-1) - [s < 0]) >> e the rounding divide; [s < 0] may be read as
 * [A < 0] (m >= 0: s < 0 implies A < 0, and A < 0 with s == 0 gives zero_point either way
 * since 2^(e-1) - 1 < 2^e), so y = SMMLAR(A, m, add + (A >> 31)) >> e (the addend only
 * enters the high word);
 * _SINGLE: (acc*m + 2^(30+e)) >> (31+e) = SMMLA(A, m, add) >> e. Saturated to int8. */
TINYAOT_DSP_INLINE int32_t tinyaot_dw_requant(int32_t doubled, int32_t multiplier, int32_t add, int32_t e,
                                              int32_t single) {
  const int32_t y = single ? tinyaot_dw_smmla(doubled, multiplier, add)
                           : tinyaot_dw_smmlar(doubled, multiplier, add + (doubled >> 31));
  return tinyaot_ssat8(y >> e);
}

/* Q[k] of 4 channels from the words of columns 2k (a) and 2k+1 (b): channels (0,1) into
 * d[0], d[1], channels (2,3) into the next pair's plane. The bytes are paired first
 * ((a0,a1,b0,b1) and (a2,a3,b2,b3)), then sign-extended: 6 instructions for 4 words. */
TINYAOT_DSP_INLINE void tinyaot_dw_put(uint32_t a, uint32_t b, uint32_t *d, int32_t plane) {
  const uint32_t lo = tinyaot_pack_bottoms(a, b), hi = tinyaot_pack_tops(a, b);
  d[0] = tinyaot_sxtb16(lo);
  d[1] = tinyaot_sxtb16_odd(lo);
  d[plane] = tinyaot_sxtb16(hi);
  d[plane + 1] = tinyaot_sxtb16_odd(hi);
}

/* One ring row for input row ih (inside the input), channels c0 .. c0+block-1, Q positions
 * 0 .. nq-1 from column col0: per channel pair (c, c+1) a plane of nq pairs of words
 * Q[k][c], Q[k][c+1]. Positions with a column outside the input read `zp_area` (block
 * bytes of the input zero point) for it, those with both outside are stored as constants:
 * a loop over the groups of 4 channels each, the others one loop over the positions per
 * group. */
static TINYAOT_DSP_NOINLINE void tinyaot_dw_expand_row(const tinyaot_qconv2d_params *p, const int8_t *in_n, int32_t ih,
                                                       int32_t col0, int32_t nq, int32_t c0, int32_t block,
                                                       const int8_t *zp_area, uint32_t *dst) {
  const int32_t channels = p->in_c, in_w = p->in_w, plane = 2 * nq;
  const int8_t *const row = in_n + (size_t)ih * in_w * channels + c0;
  const uint32_t zp8 = tinyaot_dsp_load32(zp_area);
  const uint32_t zz = tinyaot_pack_bottoms(tinyaot_sxtb16(zp8), tinyaot_sxtb16(zp8));
  int32_t k, k0, k1, g;
  /* positions k in [k0, k1) have both columns col0 + 2k, col0 + 2k + 1 inside the input */
  k0 = col0 >= 0 ? 0 : (1 - col0) / 2;
  k1 = in_w - col0 > 0 ? (in_w - col0) / 2 : 0;
  if (k0 > nq) k0 = nq;
  if (k1 > nq) k1 = nq;
  if (k1 < k0) k1 = k0;
  if (k1 > k0) {
    const int8_t *const first = row + (size_t)(col0 + 2 * k0) * channels;
    for (g = 0; g < block; g += 4) {
      const int8_t *x = first + g;
      uint32_t *d = dst + (size_t)(g / 2) * plane + 2 * k0, *const end = d + 2 * (k1 - k0);
      for (; d < end; d += 2, x += 2 * channels) {
        tinyaot_dw_put(tinyaot_dsp_load32(x), tinyaot_dsp_load32(x + channels), d, plane);
      }
    }
  }
  for (k = 0; k < nq; ++k) {
    const int32_t ca = col0 + 2 * k, cb = ca + 1;
    const int8_t *a = ca >= 0 && ca < in_w ? row + (size_t)ca * channels : zp_area;
    const int8_t *b = cb >= 0 && cb < in_w ? row + (size_t)cb * channels : zp_area;
    uint32_t *d = dst + 2 * k;
    if (k == k0 && k1 > k0) { /* skip the interior */
      k = k1 - 1;
      continue;
    }
    if (a == zp_area && b == zp_area) {
      for (g = 0; g < block; g += 4, d += 2 * plane) d[0] = d[1] = d[plane] = d[plane + 1] = zz;
      continue;
    }
    for (g = 0; g < block; g += 4, d += 2 * plane) {
      tinyaot_dw_put(tinyaot_dsp_load32(a + g), tinyaot_dsp_load32(b + g), d, plane);
    }
  }
}

#if !TINYAOT_DSP_C_LOOPS
/* One kernel row of a pixel pair: `x` the row's pointer (post-incremented to the next
 * pair), `wo` / `wo8` the byte offsets of its (w0,w1) and (w1,w2) words. */
#define TINYAOT_DW_ASM_ROW_S1(x, wo, wo8)       \
  "ldrd %[w0], %[w1], [%[w], #" wo "]\n\t"      \
  "ldrd %[t0], %[t1], [%[" x "]], #8\n\t"       \
  "smlad %[a0], %[t0], %[w0], %[a0]\n\t"        \
  "smlad %[a1], %[t1], %[w1], %[a1]\n\t"        \
  "smlatb %[b0], %[t0], %[w0], %[b0]\n\t"       \
  "smlatb %[b1], %[t1], %[w1], %[b1]\n\t"       \
  "ldrd %[w0], %[w1], [%[w], #" wo8 "]\n\t"     \
  "ldrd %[t0], %[t1], [%[" x "]]\n\t"           \
  "smlabt %[a0], %[t0], %[w0], %[a0]\n\t"       \
  "smlabt %[a1], %[t1], %[w1], %[a1]\n\t"       \
  "smlad %[b0], %[t0], %[w0], %[b0]\n\t"        \
  "smlad %[b1], %[t1], %[w1], %[b1]\n\t"
#define TINYAOT_DW_ASM_ROW_S2(x, wo, wo8)       \
  "ldrd %[w0], %[w1], [%[w], #" wo "]\n\t"      \
  "ldrd %[t0], %[t1], [%[" x "]], #16\n\t"      \
  "smlad %[a0], %[t0], %[w0], %[a0]\n\t"        \
  "smlad %[a1], %[t1], %[w1], %[a1]\n\t"        \
  "ldrd %[t0], %[t1], [%[" x "], #-8]\n\t"      \
  "smlad %[b0], %[t0], %[w0], %[b0]\n\t"        \
  "smlad %[b1], %[t1], %[w1], %[b1]\n\t"        \
  "ldrd %[w0], %[w1], [%[w], #" wo8 "]\n\t"     \
  "smlabt %[a0], %[t0], %[w0], %[a0]\n\t"       \
  "smlabt %[a1], %[t1], %[w1], %[a1]\n\t"       \
  "ldrd %[t0], %[t1], [%[" x "]]\n\t"           \
  "smlabt %[b0], %[t0], %[w0], %[b0]\n\t"       \
  "smlabt %[b1], %[t1], %[w1], %[b1]\n\t"
/* tinyaot_dw_requant (TFLite's double rounding) of the four sums and their stores: pixel a
 * at out, pixel b one pixel stride ([sp, #16]) later; out ends two pixels on. */
#define TINYAOT_DW_ASM_REQUANT                  \
  "ldrd %[t0], %[t1], [%[w], #56]\n\t"          \
  "ldr %[w0], [%[w], #64]\n\t"                  \
  "add %[w1], %[w0], %[a0], asr #31\n\t"        \
  "smmlar %[a0], %[a0], %[t0], %[w1]\n\t"       \
  "add %[w1], %[w0], %[b0], asr #31\n\t"        \
  "smmlar %[b0], %[b0], %[t0], %[w1]\n\t"       \
  "ldr %[w0], [%[w], #68]\n\t"                  \
  "add %[w1], %[w0], %[a1], asr #31\n\t"        \
  "smmlar %[a1], %[a1], %[t1], %[w1]\n\t"       \
  "add %[w1], %[w0], %[b1], asr #31\n\t"        \
  "smmlar %[b1], %[b1], %[t1], %[w1]\n\t"       \
  "ldrd %[t0], %[t1], [%[w], #72]\n\t"          \
  "asr %[a0], %[a0], %[t0]\n\t"                 \
  "asr %[b0], %[b0], %[t0]\n\t"                 \
  "asr %[a1], %[a1], %[t1]\n\t"                 \
  "asr %[b1], %[b1], %[t1]\n\t"                 \
  "ssat %[a0], #8, %[a0]\n\t"                   \
  "ssat %[a1], #8, %[a1]\n\t"                   \
  "ssat %[b0], #8, %[b0]\n\t"                   \
  "ssat %[b1], #8, %[b1]\n\t"                   \
  "ldr %[t0], [sp, #16]\n\t"                    \
  "add %[t1], %[out], %[t0]\n\t"                \
  "strb %[b0], [%[t1]]\n\t"                     \
  "strb %[b1], [%[t1], #1]\n\t"                 \
  "strb %[a0], [%[out]]\n\t"                    \
  "strb %[a1], [%[out], #1]\n\t"                \
  "add %[out], %[t1], %[t0]\n\t"
/* The run of one row: `pairs` channel pairs of n pixel pairs each (or of one pixel); after a
 * channel pair the ring pointers move by x_step and the output pointer by out_step bytes;
 * `stride`: the output's pixel stride in bytes. The assembly copies it to the stack ([sp] ...
 * [sp, #16]): the loops need all 14 registers. */
typedef struct {
  int32_t n, x_step, out_step, pairs, stride;
} tinyaot_dw_run;

/* One run (tinyaot_dw_run) from the ring pointers x0, x1, x2 (the first pair's plane), the
 * first pair's words w and output o: 67 (stride 1) or 70 instructions per 2 pixels x 2
 * channels, requantized in registers, plus 13 per channel pair; stride_w 0: one pixel per
 * channel pair (either stride), 41 instructions. */
static TINYAOT_DSP_NOINLINE void tinyaot_dw_run_fast(const uint32_t *x0, const uint32_t *x1, const uint32_t *x2,
                                                     const uint32_t *w, int8_t *o, const tinyaot_dw_run *run,
                                                     int32_t stride_w) {
  int32_t a0, a1, b0, b1, n;
  uint32_t t0 = (uint32_t)(uintptr_t)run, t1, w0, w1;
#define TINYAOT_DW_ASM_ENTER                    \
  "ldrd %[a0], %[a1], [%[t0]]\n\t"              \
  "ldrd %[b0], %[b1], [%[t0], #8]\n\t"          \
  "ldr %[t1], [%[t0], #16]\n\t"                 \
  "sub sp, sp, #24\n\t"                         \
  "strd %[a0], %[a1], [sp]\n\t"                 \
  "strd %[b0], %[b1], [sp, #8]\n\t"             \
  "str %[t1], [sp, #16]\n\t"                    \
  "2:\n\t"                                      \
  "ldr %[n], [sp]\n\t"                          \
  "1:\n\t"                                      \
  "ldrd %[a0], %[a1], [%[w], #48]\n\t"          \
  "ldrd %[b0], %[b1], [%[w], #48]\n\t"
#define TINYAOT_DW_ASM_LEAVE                    \
  "subs %[n], %[n], #1\n\t"                     \
  "bne 1b\n\t"                                  \
  "ldrd %[t0], %[t1], [sp, #4]\n\t"             \
  "add %[x0], %[x0], %[t0]\n\t"                 \
  "add %[x1], %[x1], %[t0]\n\t"                 \
  "add %[x2], %[x2], %[t0]\n\t"                 \
  "add %[out], %[out], %[t1]\n\t"               \
  "add %[w], %[w], #80\n\t"                     \
  "ldr %[t0], [sp, #12]\n\t"                    \
  "subs %[t0], %[t0], #1\n\t"                   \
  "str %[t0], [sp, #12]\n\t"                    \
  "bne 2b\n\t"                                  \
  "add sp, sp, #24\n\t"
/* One kernel row of a single pixel (either stride): the first half of the rows above. */
#define TINYAOT_DW_ASM_ROW_1(x, wo, wo8)        \
  "ldrd %[w0], %[w1], [%[w], #" wo "]\n\t"      \
  "ldrd %[t0], %[t1], [%[" x "]], #8\n\t"       \
  "smlad %[a0], %[t0], %[w0], %[a0]\n\t"        \
  "smlad %[a1], %[t1], %[w1], %[a1]\n\t"        \
  "ldrd %[w0], %[w1], [%[w], #" wo8 "]\n\t"     \
  "ldrd %[t0], %[t1], [%[" x "]]\n\t"           \
  "smlabt %[a0], %[t0], %[w0], %[a0]\n\t"       \
  "smlabt %[a1], %[t1], %[w1], %[a1]\n\t"
#define TINYAOT_DW_ASM_REQUANT_1                \
  "ldrd %[t0], %[t1], [%[w], #56]\n\t"          \
  "ldrd %[w0], %[w1], [%[w], #64]\n\t"          \
  "add %[w0], %[w0], %[a0], asr #31\n\t"        \
  "smmlar %[a0], %[a0], %[t0], %[w0]\n\t"       \
  "add %[w1], %[w1], %[a1], asr #31\n\t"        \
  "smmlar %[a1], %[a1], %[t1], %[w1]\n\t"       \
  "ldrd %[t0], %[t1], [%[w], #72]\n\t"          \
  "asr %[a0], %[a0], %[t0]\n\t"                 \
  "asr %[a1], %[a1], %[t1]\n\t"                 \
  "ssat %[a0], #8, %[a0]\n\t"                   \
  "ssat %[a1], #8, %[a1]\n\t"                   \
  "strb %[a0], [%[out]]\n\t"                    \
  "strb %[a1], [%[out], #1]\n\t"
#define TINYAOT_DW_ASM_OPERANDS                                                                              \
  : [a0] "=&r"(a0), [a1] "=&r"(a1), [b0] "=&r"(b0), [b1] "=&r"(b1), [t0] "+&r"(t0), [t1] "=&r"(t1),           \
    [w0] "=&r"(w0), [w1] "=&r"(w1), [x0] "+r"(x0), [x1] "+r"(x1), [x2] "+r"(x2), [out] "+r"(o), [n] "=&r"(n),  \
    [w] "+r"(w)                                                                                              \
  :                                                                                                          \
  : "cc", "memory"
  if (stride_w == 1) {
    __asm__ volatile(
        TINYAOT_DW_ASM_ENTER
        TINYAOT_DW_ASM_ROW_S1("x0", "0", "8")
        TINYAOT_DW_ASM_ROW_S1("x1", "16", "24")
        TINYAOT_DW_ASM_ROW_S1("x2", "32", "40")
        TINYAOT_DW_ASM_REQUANT
        TINYAOT_DW_ASM_LEAVE
        TINYAOT_DW_ASM_OPERANDS);
  } else if (stride_w == 0) {
    __asm__ volatile(
        TINYAOT_DW_ASM_ENTER
        TINYAOT_DW_ASM_ROW_1("x0", "0", "8")
        TINYAOT_DW_ASM_ROW_1("x1", "16", "24")
        TINYAOT_DW_ASM_ROW_1("x2", "32", "40")
        TINYAOT_DW_ASM_REQUANT_1
        TINYAOT_DW_ASM_LEAVE
        TINYAOT_DW_ASM_OPERANDS);
  } else {
    __asm__ volatile(
        TINYAOT_DW_ASM_ENTER
        TINYAOT_DW_ASM_ROW_S2("x0", "0", "8")
        TINYAOT_DW_ASM_ROW_S2("x1", "16", "24")
        TINYAOT_DW_ASM_ROW_S2("x2", "32", "40")
        TINYAOT_DW_ASM_REQUANT
        TINYAOT_DW_ASM_LEAVE
        TINYAOT_DW_ASM_OPERANDS);
  }
}

/* One output row of `count` pixels (>= 1) of a block's `pairs` channel pairs, from the ring
 * rows `rows` (planes of 2 nq words per pair) into `out` (pixel 0, the block's first
 * channel): one run over the pixel pairs and, for an odd count, one over every pair's last
 * pixel alone. */
static TINYAOT_DSP_NOINLINE void tinyaot_dw_row_fast(const uint32_t *const *rows, int32_t nq, int32_t count,
                                                     int32_t pairs, int32_t stride_w, int32_t channels,
                                                     const uint32_t *w, int8_t *out) {
  const int32_t n = count >> 1, tail = n * 2 * stride_w;
  tinyaot_dw_run run;
  run.pairs = pairs;
  if (n > 0) {
    run.n = n;
    run.x_step = 4 * (2 * nq - tail);
    run.stride = channels;
    run.out_step = 2 - 2 * n * channels;
    tinyaot_dw_run_fast(rows[0], rows[1], rows[2], w, out, &run, stride_w);
  }
  if (count & 1) {
    run.n = 1;
    run.x_step = 4 * (2 * nq - 2);
    run.stride = channels;
    run.out_step = 2;
    tinyaot_dw_run_fast(rows[0] + tail, rows[1] + tail, rows[2] + tail, w, out + (size_t)(count - 1) * channels, &run,
                        0);
  }
}
#endif

/* Stores one output (channel c, doubled accumulator A) at `index`: the doubled-form
 * requantization and the clamp when `fast`, else tinyaot_qoutput_store_at. */
TINYAOT_DSP_INLINE void tinyaot_dw_store(const tinyaot_qconv2d_params *p, int32_t c, const uint32_t *w, int32_t doubled,
                                         int32_t fast, void *output, size_t index) {
  if (fast) {
    const int32_t y = tinyaot_dw_requant(doubled, (int32_t)w[TINYAOT_DW_MULT], (int32_t)w[TINYAOT_DW_ADD],
                                         (int32_t)w[TINYAOT_DW_SHIFT], p->out.rounding == TINYAOT_ROUND_TFLITE_SINGLE);
    const int32_t lo = p->out.act_min, hi = p->out.act_max;
    ((int8_t *)output)[index] = (int8_t)(y < lo ? lo : (y > hi ? hi : y));
  } else {
    tinyaot_qoutput_store_at(&p->out, c, doubled >> 1, output, index);
  }
}

/* The doubled accumulator of pixel ow of channel c + i from the ring rows (pair plane at
 * `plane`, + i) and the pair words (+ i), two products per kernel row as in the assembly. */
TINYAOT_DSP_INLINE int32_t tinyaot_dw_pixel(const uint32_t *const *rows, size_t plane, int32_t ow, int32_t stride_w,
                                            const uint32_t *w) {
  int32_t acc = (int32_t)w[TINYAOT_DW_BIAS], r;
  for (r = 0; r < 3; ++r) {
    const uint32_t *q = rows[r] + plane, w01 = w[4 * r], w12 = w[4 * r + 2];
    if (stride_w == 2) { /* Q[ow].(w0,w1) + Q[ow+1].lo w2 */
      acc = tinyaot_smlad(q[2 * ow], w01, acc);
      acc = tinyaot_smlatb(w12, q[2 * ow + 2], acc);
    } else if ((ow & 1) == 0) { /* k = ow/2: Q[k].(w0,w1) + Q[k+1].lo w2 */
      acc = tinyaot_smlad(q[ow], w01, acc);
      acc = tinyaot_smlatb(w12, q[ow + 2], acc);
    } else { /* Q[k].hi w0 + Q[k+1].(w1,w2) */
      acc = tinyaot_smlatb(q[ow - 1], w01, acc);
      acc = tinyaot_smlad(q[ow + 1], w12, acc);
    }
  }
  return acc;
}

/* tinyaot_dw_row_fast in C, for every requantization (int8 or int32 outputs from `index`;
 * `fast`: tinyaot_dw_requant_fits), one output at a time: the other requantizations
 * (onnxruntime's, single rounding, clamps, int32 output), and every layer where the
 * assembly is not built (the hosts' tests, -O0). */
static TINYAOT_DSP_NOINLINE void tinyaot_dw_row(const tinyaot_qconv2d_params *p, const uint32_t *const *rows,
                                                int32_t nq, int32_t count, int32_t pairs, const uint32_t *w,
                                                int32_t c0, int32_t fast, void *output, size_t index) {
  int32_t cp, i, ow;
  for (cp = 0; cp < pairs; ++cp, w += TINYAOT_DW_PAIR_WORDS) {
    for (i = 0; i < 2; ++i) {
      for (ow = 0; ow < count; ++ow) {
        const int32_t acc = tinyaot_dw_pixel(rows, (size_t)cp * 2 * nq + (size_t)i, ow, p->stride_w, w + i);
        tinyaot_dw_store(p, c0 + 2 * cp + i, w + i, acc, fast, output,
                         index + (size_t)ow * p->out_c + (size_t)(2 * cp + i));
      }
    }
  }
}

void tinyaot_qdepthwise_conv2d_s8(const tinyaot_qconv2d_params *p, const int8_t *input, const int8_t *weights,
                                  void *output, void *scratch) {
  const int32_t channels = p->out_c, kernel_h = p->kernel_h, stride_w = p->stride_w;
  const int32_t tile = TINYAOT_QDW_DSP_TILE_(p->out_w);
  const int32_t max_nq = tile / 2 * stride_w + 1;
  /* Channels per block: as many 4-channel units as the scratch holds (the macro grants at
   * least one; more when another path's need makes it larger), the channels split evenly
   * between the blocks, which spreads the per-row costs over more channels. */
  const int32_t per_unit = TINYAOT_QDW_DSP_BYTES_(kernel_h, p->kernel_w, p->out_w, stride_w);
  const int32_t units = TINYAOT_QDEPTHWISE_CONV2D_S8_SCRATCH(kernel_h, p->kernel_w, p->out_h, p->out_w, p->stride_h,
                                                             stride_w, channels) / per_unit;
  const int32_t groups = channels >= 4 ? channels / 4 : 1; /* (the portable kernel takes fewer) */
  const int32_t blocks = (groups + units - 1) / units;
  const int32_t block_max = (groups + blocks - 1) / blocks * 4;
  /* Scratch: kernel_h ring rows of max_nq positions x block_max channels, the block's pair
   * words, block_max bytes of the input zero point. */
  uint32_t *const ring = (uint32_t *)scratch;
  uint32_t *const w = ring + (size_t)kernel_h * max_nq * block_max;
  int8_t *const zp_area = (int8_t *)(w + (size_t)block_max / 2 * TINYAOT_DW_PAIR_WORDS);
  const uint32_t zp8 = ((uint32_t)p->input_zero_point & 0xffu) * 0x01010101u;
  const uint32_t zz = tinyaot_pack_bottoms(tinyaot_sxtb16(zp8), tinyaot_sxtb16(zp8));
  /* per slot: the input row it holds (real rows, this tile) and how many leading words
   * hold (x_zp, x_zp) (padding rows: the same for every block and tile, filled once) */
  int32_t slot_row[TINYAOT_DW_MAX_KERNEL_H], slot_zp[TINYAOT_DW_MAX_KERNEL_H];
  const uint32_t *rows[TINYAOT_DW_MAX_KERNEL_H];
  int32_t c0, ow0, n, oh, kh, k, fast, in_registers;
  if (kernel_h != 3 || p->kernel_w != 3 || p->dilation_w != 1 || (stride_w != 1 && stride_w != 2) ||
      p->in_c != channels || (channels & 3) != 0 || p->weight_zero_point != NULL || !tinyaot_dw_bias_fits(p)) {
    tinyaot_qdepthwise_conv2d_s8_ref(p, input, weights, output, scratch);
    return;
  }
  fast = tinyaot_dw_requant_fits(&p->out, channels);
  in_registers = fast && p->out.rounding == TINYAOT_ROUND_TFLITE && p->out.act_min <= -128 && p->out.act_max >= 127;
  for (k = 0; k < block_max; ++k) zp_area[k] = (int8_t)p->input_zero_point;
  for (k = 0; k < kernel_h; ++k) slot_zp[k] = 0;
  for (c0 = 0; c0 < channels; c0 += block_max) {
    const int32_t block = channels - c0 < block_max ? channels - c0 : block_max;
    tinyaot_dw_prepare(p, weights, c0, block, fast, w);
    for (ow0 = 0; ow0 < p->out_w; ow0 += tile) {
      const int32_t count = p->out_w - ow0 < tile ? p->out_w - ow0 : tile;
      /* the Q positions the pixels read: pixel j reads Q[j/2], Q[j/2 + 1] (stride 1) or
       * Q[j], Q[j + 1] (stride 2) */
      const int32_t nq = stride_w == 1 ? (count + 1) / 2 + 1 : count + 1;
      const int32_t col0 = ow0 * stride_w - p->pad_left;
      for (n = 0; n < p->batch; ++n) {
        const int8_t *in_n = input + (size_t)n * p->in_h * p->in_w * channels;
        for (k = 0; k < kernel_h; ++k) slot_row[k] = INT32_MIN;
        for (oh = 0; oh < p->out_h; ++oh) {
          const int32_t ih0 = oh * p->stride_h - p->pad_top;
          /* dilation 1: consecutive rows, so slot (row + pad_top) mod kernel_h keeps each row
           * while the window slides down and every input row is expanded once */
          for (kh = 0; kh < kernel_h; ++kh) {
            const int32_t ih = ih0 + kh * p->dilation_h;
            const int32_t slot = p->dilation_h == 1 ? (ih + p->pad_top) % kernel_h : kh;
            uint32_t *dst = ring + (size_t)slot * max_nq * block_max;
            if (ih < 0 || ih >= p->in_h) {
              int32_t j;
              for (j = slot_zp[slot]; j < nq * block; j += 4) dst[j] = dst[j + 1] = dst[j + 2] = dst[j + 3] = zz;
              if (slot_zp[slot] < nq * block) slot_zp[slot] = nq * block;
              slot_row[slot] = INT32_MIN;
            } else if (slot_row[slot] != ih) {
              tinyaot_dw_expand_row(p, in_n, ih, col0, nq, c0, block, zp_area, dst);
              slot_row[slot] = ih;
              slot_zp[slot] = 0;
            }
            rows[kh] = dst;
          }
          {
            const size_t index =
                (((size_t)n * p->out_h + (size_t)oh) * p->out_w + (size_t)ow0) * channels + (size_t)c0;
#if !TINYAOT_DSP_C_LOOPS
            if (in_registers) {
              tinyaot_dw_row_fast(rows, nq, count, block / 2, stride_w, channels, w, (int8_t *)output + index);
              continue;
            }
#else
            (void)in_registers; /* the assembly is not built */
#endif
            tinyaot_dw_row(p, rows, nq, count, block / 2, w, c0, fast, output, index);
          }
        }
      }
    }
  }
}
#else
/* Not this core's path: ISO C forbids an empty translation unit. */
typedef int tinyaot_qdepthwise_conv2d_s8_dsp_not_built;
#endif
