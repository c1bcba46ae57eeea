/* tinyaot_qdepthwise_conv2d_s8 on cores with the DSP extension, for 3x3 kernels (any
 * stride_h, dilation_h, padding; stride_w 1 or 2, dilation_w 1), channels a multiple of 4,
 * one output channel per input channel and no weight zero points: the depthwise layers of
 * MobileNet and DS-CNN. Everything else runs the portable kernel.
 *
 * The work goes in blocks of channels (4, or more when the scratch has room for them) and,
 * across the width, tiles of at most TINYAOT_DW_TILE output pixels, so the scratch buffer
 * holds only one block's rows of one tile (TINYAOT_QDEPTHWISE_CONV2D_S8_SCRATCH: at most a
 * few KiB, independent of the layer's channel count).
 *
 * SMLAD needs two products of the same output in one word. Here they are two horizontally
 * adjacent taps of one channel: each input row the window needs is expanded once into a
 * scratch row of words P[j][c] = (x[j + col0][c], x[j + col0 + 1][c]) (int16 pairs;
 * outside the input: the input zero point, so the folded bias stays exact and no window
 * needs a bounds check), kept in a ring of kernel_h rows while later output rows need it.
 * Per kernel row the weights are (w0, w1) and (w2, 0) words, expanded once per block. An
 * output then costs one SMLAD and one SMLABB per kernel row; blocks of 2 output pixels x 2
 * channels share every load.
 *
 * The weights are expanded doubled (2w) so the accumulator is 2 * acc, which turns TFLite's
 * rounding doubling high multiply into one SMMLAR (exact while |2 acc| < 2^31, checked per
 * call from the folded bias and the number of taps). Bit-exact with the _ref kernel. */
#include "tinyaot/simd.h"

#if TINYAOT_PATH_QDEPTHWISE_CONV2D_S8 == TINYAOT_PATH_DSP
#include <stddef.h>

#include "tinyaot/qdsp.h"

#define TINYAOT_DW_MAX_KERNEL_H 3
/* Output pixels per width tile: even (pixel pairs), and the same number as in
 * TINYAOT_QDEPTHWISE_CONV2D_S8_SCRATCH (quantized.h). */
#define TINYAOT_DW_TILE 16

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

/* Doubled weights and biases of channels c0 .. c0+block-1, per channel pair (c, c+1): for
 * each kernel row the words (w0,w1)[c], (w0,w1)[c+1], (w2,0)[c], (w2,0)[c+1], then
 * 2 folded_bias[c], 2 folded_bias[c+1]. */
static void tinyaot_dw_prepare_weights(const tinyaot_qconv2d_params *p, const int8_t *weights, int32_t c0,
                                       int32_t block, uint32_t *w) {
  const int32_t channels = p->out_c, kernel_h = p->kernel_h;
  int32_t kh, c;
  for (c = c0; c < c0 + block; c += 2, w += 4 * kernel_h + 2) {
    for (kh = 0; kh < kernel_h; ++kh) {
      const int8_t *row = weights + (size_t)kh * 3 * channels + c;
      w[4 * kh] = (uint32_t)(uint16_t)(2 * row[0]) | ((uint32_t)(uint16_t)(2 * row[channels]) << 16);
      w[4 * kh + 1] = (uint32_t)(uint16_t)(2 * row[1]) | ((uint32_t)(uint16_t)(2 * row[channels + 1]) << 16);
      w[4 * kh + 2] = (uint32_t)(uint16_t)(2 * row[2 * channels]);
      w[4 * kh + 3] = (uint32_t)(uint16_t)(2 * row[2 * channels + 1]);
    }
    w[4 * kernel_h] = (uint32_t)(2 * p->folded_bias[c]);
    w[4 * kernel_h + 1] = (uint32_t)(2 * p->folded_bias[c + 1]);
  }
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

/* The requantization of a doubled accumulator A = 2 acc (|acc| < 2^29) with e = -shift in
 * [1, 22] and the output zero point folded into add = 2^(e-1) + zero_point * 2^e:
 * TINYAOT_ROUND_TFLITE: s = SMMULR(A, m) = (acc*m + 2^30) >> 31 is the rounding doubling high
 * multiply and (s + 2^(e-1) - [s < 0]) >> e the rounding divide; [s < 0] may be read as
 * [A < 0] (m >= 0: s < 0 implies A < 0, and A < 0 with s == 0 gives zero_point either way
 * since 2^(e-1) - 1 < 2^e), so y = (SMMLAR(A, m, add) + (A >> 31)) >> e;
 * _SINGLE: (acc*m + 2^(30+e)) >> (31+e) = SMMLA(A, m, add) >> e. Saturated to int8. */
TINYAOT_DSP_INLINE int32_t tinyaot_dw_requant(int32_t doubled, int32_t multiplier, int32_t add, int32_t e,
                                              int32_t single) {
  const int32_t y = single ? tinyaot_dw_smmla(doubled, multiplier, add)
                           : tinyaot_dw_smmlar(doubled, multiplier, add) + (doubled >> 31);
  return tinyaot_ssat8(y >> e);
}

/* The words of one position: the previous column's sign-extended halves (pe, po: channels
 * (0,2) and (1,3)) paired with the next column `cur`'s. */
#define TINYAOT_DW_PUT(cur)                       \
  do {                                            \
    const uint32_t ce = tinyaot_sxtb16(cur);      \
    const uint32_t co = tinyaot_sxtb16_odd(cur);  \
    dst[0] = tinyaot_pack_bottoms(pe, ce);        \
    dst[1] = tinyaot_pack_bottoms(po, co);        \
    dst[plane] = tinyaot_pack_tops(pe, ce);       \
    dst[plane + 1] = tinyaot_pack_tops(po, co);   \
    pe = ce;                                      \
    po = co;                                      \
    dst += 2;                                     \
  } while (0)

/* One ring row for input row ih, channels c0 .. c0+block-1, band columns col0 ..
 * col0+positions: per channel pair (c, c+1) a plane of `positions` pairs of words P[j][c],
 * P[j][c+1]. */
static TINYAOT_DSP_NOINLINE void tinyaot_dw_expand_row(const tinyaot_qconv2d_params *p, const int8_t *in_n, int32_t ih,
                                                       int32_t col0, int32_t positions, int32_t c0, int32_t block,
                                                       uint32_t *dst) {
  const int32_t channels = p->in_c, in_w = p->in_w, plane = 2 * positions;
  const uint32_t zp8 = ((uint32_t)p->input_zero_point & 0xffu) * 0x01010101u;
  const int8_t *row;
  int32_t j0, j1, g;
  if (ih < 0 || ih >= p->in_h) {
    const uint32_t z = tinyaot_pack_bottoms(tinyaot_sxtb16(zp8), tinyaot_sxtb16(zp8));
    const int32_t words = positions * block;
    int32_t j;
    for (j = 0; j < words; ++j) dst[j] = z;
    return;
  }
  /* positions j in [j0, j1) pair with a next column col0 + j + 1 inside the input */
  j0 = col0 + 1 < 0 ? -(col0 + 1) : 0;
  j1 = in_w - 1 - col0 < positions ? in_w - 1 - col0 : positions;
  if (j0 > positions) j0 = positions;
  if (j1 < j0) j1 = j0;
  row = in_n + (size_t)ih * in_w * channels + c0;
  for (g = 0; g < block; g += 4, row += 4, dst += plane) { /* past the group's second plane */
    const uint32_t first = col0 >= 0 && col0 < in_w ? tinyaot_dsp_load32(row + (size_t)col0 * channels) : zp8;
    uint32_t pe = tinyaot_sxtb16(first), po = tinyaot_sxtb16_odd(first);
    int32_t j = 0;
    for (; j < j0; ++j) TINYAOT_DW_PUT(zp8);
    if (j < j1) {
      const int8_t *x = row + (size_t)(col0 + j + 1) * channels;
      for (; j < j1; ++j, x += channels) {
        const uint32_t cur = tinyaot_dsp_load32(x);
        TINYAOT_DW_PUT(cur);
      }
    }
    for (; j < positions; ++j) TINYAOT_DW_PUT(zp8);
  }
}

/* One kernel row for output pixels ow and ow+1 (stride 1), channels c and c+1: x at P[j]. */
#define TINYAOT_DW_ROW_S1(x, w)                 \
  do {                                          \
    a0 = tinyaot_smlad((x)[0], (w)[0], a0);     \
    a1 = tinyaot_smlad((x)[1], (w)[1], a1);     \
    b0 = tinyaot_smlad((x)[2], (w)[0], b0);     \
    b1 = tinyaot_smlad((x)[3], (w)[1], b1);     \
    a0 = tinyaot_smlabb((x)[4], (w)[2], a0);    \
    a1 = tinyaot_smlabb((x)[5], (w)[3], a1);    \
    b0 = tinyaot_smlatb((x)[4], (w)[2], b0);    \
    b1 = tinyaot_smlatb((x)[5], (w)[3], b1);    \
  } while (0)

/* The same with stride 2: pixel ow+1 starts at P[j+2]. */
#define TINYAOT_DW_ROW_S2(x, w)                 \
  do {                                          \
    a0 = tinyaot_smlad((x)[0], (w)[0], a0);     \
    a1 = tinyaot_smlad((x)[1], (w)[1], a1);     \
    b0 = tinyaot_smlad((x)[4], (w)[0], b0);     \
    b1 = tinyaot_smlad((x)[5], (w)[1], b1);     \
    a0 = tinyaot_smlabb((x)[4], (w)[2], a0);    \
    a1 = tinyaot_smlabb((x)[5], (w)[3], a1);    \
    b0 = tinyaot_smlabb((x)[8], (w)[2], b0);    \
    b1 = tinyaot_smlabb((x)[9], (w)[3], b1);    \
  } while (0)

/* One kernel row in the assembly below: `o1`/`o2` are the byte offsets of the second pixel's
 * (w0,w1) word and of the (w2) words from the post-incremented row pointer. */
#define TINYAOT_DW_ASM_ROW(x, wo, o1, o2, second)                 \
  "ldrd %[w0], %[w1], [%[w], #" wo "]\n\t"                         \
  "ldrd %[t0], %[t1], [%[" x "]], #" second "\n\t"                 \
  "smlad %[a0], %[t0], %[w0], %[a0]\n\t"                           \
  "smlad %[a1], %[t1], %[w1], %[a1]\n\t"                           \
  "ldrd %[t0], %[t1], [%[" x "], #" o1 "]\n\t"                     \
  "smlad %[b0], %[t0], %[w0], %[b0]\n\t"                           \
  "smlad %[b1], %[t1], %[w1], %[b1]\n\t"

/* The doubled accumulators of one output row of `count` pixels (>= 1), `pairs` channel
 * pairs: acc[cp * acc_plane + 2 * ow + 0/1]. An odd count's last pixel is computed as a
 * pair whose second half is never read: its taps are the ring's last position (stride 1)
 * or two (stride 2), which the caller expands too. 13 instructions per kernel row for 2
 * pixels x 2 channels; assembly because GCC 12 splits the LDRDs and spills. */
static TINYAOT_DSP_NOINLINE void tinyaot_dw_row3(const uint32_t *const *rows, int32_t positions, int32_t count,
                                                 int32_t stride_w, int32_t pairs, const uint32_t *w, int32_t *acc,
                                                 int32_t acc_plane) {
  const int32_t pixel_pairs = (count + 1) >> 1;
  int32_t cp;
  for (cp = 0; cp < pairs; ++cp, w += 14) {
    const size_t plane = (size_t)cp * 2 * positions;
    const uint32_t *x0 = rows[0] + plane, *x1 = rows[1] + plane, *x2 = rows[2] + plane;
    int32_t *out = acc + (size_t)cp * acc_plane;
#if TINYAOT_DSP_C_LOOPS
    int32_t i;
    for (i = 0; i < pixel_pairs; ++i, out += 4) {
      const int32_t step = 4 * stride_w;
      int32_t a0 = (int32_t)w[12], a1 = (int32_t)w[13], b0 = a0, b1 = a1;
      if (stride_w == 1) {
        TINYAOT_DW_ROW_S1(x0 + i * step, w);
        TINYAOT_DW_ROW_S1(x1 + i * step, w + 4);
        TINYAOT_DW_ROW_S1(x2 + i * step, w + 8);
      } else {
        TINYAOT_DW_ROW_S2(x0 + i * step, w);
        TINYAOT_DW_ROW_S2(x1 + i * step, w + 4);
        TINYAOT_DW_ROW_S2(x2 + i * step, w + 8);
      }
      out[0] = a0;
      out[1] = a1;
      out[2] = b0;
      out[3] = b1;
    }
#else
    int32_t n = pixel_pairs, a0, a1, b0, b1;
    uint32_t t0, t1, w0, w1;
    if (stride_w == 1) {
      /* P[j], P[j+1] (second pixel), P[j+2] (w2 taps: bottom for the first, top for the second) */
      __asm__ volatile(
          "1:\n\t"
          "ldrd %[a0], %[a1], [%[w], #48]\n\t"
          "mov %[b0], %[a0]\n\t"
          "mov %[b1], %[a1]\n\t"
          TINYAOT_DW_ASM_ROW("x0", "0", "-8", "0", "16")
          "ldrd %[w0], %[w1], [%[w], #8]\n\t"
          "ldrd %[t0], %[t1], [%[x0]]\n\t"
          "smlabb %[a0], %[t0], %[w0], %[a0]\n\t"
          "smlabb %[a1], %[t1], %[w1], %[a1]\n\t"
          "smlatb %[b0], %[t0], %[w0], %[b0]\n\t"
          "smlatb %[b1], %[t1], %[w1], %[b1]\n\t"
          TINYAOT_DW_ASM_ROW("x1", "16", "-8", "0", "16")
          "ldrd %[w0], %[w1], [%[w], #24]\n\t"
          "ldrd %[t0], %[t1], [%[x1]]\n\t"
          "smlabb %[a0], %[t0], %[w0], %[a0]\n\t"
          "smlabb %[a1], %[t1], %[w1], %[a1]\n\t"
          "smlatb %[b0], %[t0], %[w0], %[b0]\n\t"
          "smlatb %[b1], %[t1], %[w1], %[b1]\n\t"
          TINYAOT_DW_ASM_ROW("x2", "32", "-8", "0", "16")
          "ldrd %[w0], %[w1], [%[w], #40]\n\t"
          "ldrd %[t0], %[t1], [%[x2]]\n\t"
          "smlabb %[a0], %[t0], %[w0], %[a0]\n\t"
          "smlabb %[a1], %[t1], %[w1], %[a1]\n\t"
          "smlatb %[b0], %[t0], %[w0], %[b0]\n\t"
          "smlatb %[b1], %[t1], %[w1], %[b1]\n\t"
          "strd %[b0], %[b1], [%[acc], #8]\n\t"
          "strd %[a0], %[a1], [%[acc]], #16\n\t"
          "subs %[n], %[n], #1\n\t"
          "bne 1b\n\t"
          : [a0] "=&r"(a0), [a1] "=&r"(a1), [b0] "=&r"(b0), [b1] "=&r"(b1), [t0] "=&r"(t0), [t1] "=&r"(t1),
            [w0] "=&r"(w0), [w1] "=&r"(w1), [x0] "+r"(x0), [x1] "+r"(x1), [x2] "+r"(x2), [acc] "+r"(out), [n] "+r"(n)
          : [w] "r"(w)
          : "cc", "memory");
    } else {
      /* P[j], P[j+2] (second pixel; its bottom is the first pixel's w2 tap), P[j+4] */
      __asm__ volatile(
          "1:\n\t"
          "ldrd %[a0], %[a1], [%[w], #48]\n\t"
          "mov %[b0], %[a0]\n\t"
          "mov %[b1], %[a1]\n\t"
          TINYAOT_DW_ASM_ROW("x0", "0", "-16", "0", "32")
          "ldrd %[w0], %[w1], [%[w], #8]\n\t"
          "ldrd %[t0], %[t1], [%[x0], #-16]\n\t"
          "smlabb %[a0], %[t0], %[w0], %[a0]\n\t"
          "smlabb %[a1], %[t1], %[w1], %[a1]\n\t"
          "ldrd %[t0], %[t1], [%[x0]]\n\t"
          "smlabb %[b0], %[t0], %[w0], %[b0]\n\t"
          "smlabb %[b1], %[t1], %[w1], %[b1]\n\t"
          TINYAOT_DW_ASM_ROW("x1", "16", "-16", "0", "32")
          "ldrd %[w0], %[w1], [%[w], #24]\n\t"
          "ldrd %[t0], %[t1], [%[x1], #-16]\n\t"
          "smlabb %[a0], %[t0], %[w0], %[a0]\n\t"
          "smlabb %[a1], %[t1], %[w1], %[a1]\n\t"
          "ldrd %[t0], %[t1], [%[x1]]\n\t"
          "smlabb %[b0], %[t0], %[w0], %[b0]\n\t"
          "smlabb %[b1], %[t1], %[w1], %[b1]\n\t"
          TINYAOT_DW_ASM_ROW("x2", "32", "-16", "0", "32")
          "ldrd %[w0], %[w1], [%[w], #40]\n\t"
          "ldrd %[t0], %[t1], [%[x2], #-16]\n\t"
          "smlabb %[a0], %[t0], %[w0], %[a0]\n\t"
          "smlabb %[a1], %[t1], %[w1], %[a1]\n\t"
          "ldrd %[t0], %[t1], [%[x2]]\n\t"
          "smlabb %[b0], %[t0], %[w0], %[b0]\n\t"
          "smlabb %[b1], %[t1], %[w1], %[b1]\n\t"
          "strd %[b0], %[b1], [%[acc], #8]\n\t"
          "strd %[a0], %[a1], [%[acc]], #16\n\t"
          "subs %[n], %[n], #1\n\t"
          "bne 1b\n\t"
          : [a0] "=&r"(a0), [a1] "=&r"(a1), [b0] "=&r"(b0), [b1] "=&r"(b1), [t0] "=&r"(t0), [t1] "=&r"(t1),
            [w0] "=&r"(w0), [w1] "=&r"(w1), [x0] "+r"(x0), [x1] "+r"(x1), [x2] "+r"(x2), [acc] "+r"(out), [n] "+r"(n)
          : [w] "r"(w)
          : "cc", "memory");
    }
#endif
  }
}

/* Requantizes the accumulators of channels c, c+1 of `count` pixels (a: acc[c/2]) into
 * dst[ow * channels + 0/1]. */
TINYAOT_DSP_INLINE void tinyaot_dw_store_pair(const tinyaot_qconv2d_params *p, int32_t c, const int32_t *a, int8_t *dst,
                                              int32_t count, int32_t single, int32_t full_range) {
  const int32_t channels = p->out_c, lo = p->out.act_min, hi = p->out.act_max;
  const int32_t e0 = -p->out.shift[c], e1 = -p->out.shift[c + 1];
  const int32_t m0 = p->out.multiplier[c], m1 = p->out.multiplier[c + 1];
  const int32_t add0 = (1 << (e0 - 1)) + p->out.zero_point * (1 << e0);
  const int32_t add1 = (1 << (e1 - 1)) + p->out.zero_point * (1 << e1);
  int32_t ow;
  for (ow = 0; ow < count; ++ow, a += 2, dst += channels) {
    int32_t y0 = tinyaot_dw_requant(a[0], m0, add0, e0, single);
    int32_t y1 = tinyaot_dw_requant(a[1], m1, add1, e1, single);
    if (!full_range) {
      y0 = y0 < lo ? lo : (y0 > hi ? hi : y0);
      y1 = y1 < lo ? lo : (y1 > hi ? hi : y1);
    }
    dst[0] = (int8_t)y0;
    dst[1] = (int8_t)y1;
  }
}

/* Requantizes `count` pixels of channels c0 .. c0+block-1 from acc[c/2][ow][2] (planes of
 * 2 * pixels words) into NHWC `out` from `index` (pixel 0, channel c0). `fast`: every
 * channel fits tinyaot_dw_requant (else tinyaot_qoutput_store_at). */
static TINYAOT_DSP_NOINLINE void tinyaot_dw_store_block(const tinyaot_qconv2d_params *p, const int32_t *acc,
                                                        int32_t pixels, int32_t count, int32_t fast, int32_t c0,
                                                        int32_t block, int8_t *out, size_t index) {
  const int32_t channels = p->out_c, plane = 2 * pixels;
  const int32_t single = p->out.rounding == TINYAOT_ROUND_TFLITE_SINGLE;
  const int32_t full_range = p->out.act_min <= -128 && p->out.act_max >= 127;
  int32_t c, ow;
  for (c = 0; c < block; c += 2, acc += plane) {
    int8_t *dst = out + index + c;
    if (!fast) {
      for (ow = 0; ow < count; ++ow) {
        const size_t at = index + (size_t)ow * channels + (size_t)c;
        tinyaot_qoutput_store_at(&p->out, c0 + c, acc[2 * ow] >> 1, out, at);
        tinyaot_qoutput_store_at(&p->out, c0 + c + 1, acc[2 * ow + 1] >> 1, out, at + 1);
      }
    } else if (!single && full_range) { /* the common case, specialized */
      tinyaot_dw_store_pair(p, c0 + c, acc, dst, count, 0, 1);
    } else {
      tinyaot_dw_store_pair(p, c0 + c, acc, dst, count, single, full_range);
    }
  }
}

void tinyaot_qdepthwise_conv2d_s8(const tinyaot_qconv2d_params *p, const int8_t *input, const int8_t *weights,
                                  void *output, void *scratch) {
  const int32_t channels = p->out_c, kernel_h = p->kernel_h, stride_w = p->stride_w;
  const int32_t tile = p->out_w < TINYAOT_DW_TILE ? p->out_w + (p->out_w & 1) : TINYAOT_DW_TILE;
  const int32_t max_positions = (tile - 1) * stride_w + 3;
  /* Channels per block: as many 4-channel blocks as the scratch holds (the macro grants at
   * least one; more when another path's need makes it larger), which spreads the per-row
   * costs over more channels. */
  const int32_t per_block4 = TINYAOT_QDW_DSP_BYTES_(kernel_h, p->kernel_w, p->out_w, stride_w);
  const int32_t blocks4 = TINYAOT_QDEPTHWISE_CONV2D_S8_SCRATCH(kernel_h, p->kernel_w, p->out_h, p->out_w, p->stride_h,
                                                               stride_w, channels) / per_block4;
  const int32_t block_max = 4 * blocks4 < channels ? 4 * blocks4 : channels;
  /* Scratch: kernel_h ring rows of max_positions positions x block_max channels, the
   * accumulators of one tile row, the block's weights. */
  uint32_t *const ring = (uint32_t *)scratch;
  int32_t *const acc = (int32_t *)(ring + (size_t)kernel_h * max_positions * block_max);
  uint32_t *const w = (uint32_t *)(acc + (size_t)tile * block_max);
  int32_t slot_row[TINYAOT_DW_MAX_KERNEL_H];
  const uint32_t *rows[TINYAOT_DW_MAX_KERNEL_H];
  int32_t c0, ow0, n, oh, kh, k, fast;
  if (kernel_h != 3 || p->kernel_w != 3 || p->dilation_w != 1 || (stride_w != 1 && stride_w != 2) ||
      p->in_c != channels || (channels & 3) != 0 || p->weight_zero_point != NULL || !tinyaot_dw_bias_fits(p)) {
    tinyaot_qdepthwise_conv2d_s8_ref(p, input, weights, output, scratch);
    return;
  }
  fast = tinyaot_dw_requant_fits(&p->out, channels);
  for (c0 = 0; c0 < channels; c0 += block_max) {
    const int32_t block = channels - c0 < block_max ? channels - c0 : block_max;
    tinyaot_dw_prepare_weights(p, weights, c0, block, w);
    for (ow0 = 0; ow0 < p->out_w; ow0 += tile) {
      const int32_t count = p->out_w - ow0 < tile ? p->out_w - ow0 : tile;
      /* an odd count computes one more pixel, never stored: its taps are in the ring too */
      const int32_t positions = (count + (count & 1) - 1) * stride_w + 3;
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
            uint32_t *dst = ring + (size_t)slot * max_positions * block_max;
            if (slot_row[slot] != ih) {
              tinyaot_dw_expand_row(p, in_n, ih, col0, positions, c0, block, dst);
              slot_row[slot] = ih;
            }
            rows[kh] = dst;
          }
          tinyaot_dw_row3(rows, positions, count, stride_w, block / 2, w, acc, 2 * tile);
          tinyaot_dw_store_block(p, acc, tile, count, fast, c0, block, (int8_t *)output,
                                 (((size_t)n * p->out_h + (size_t)oh) * p->out_w + (size_t)ow0) * channels +
                                     (size_t)c0);
        }
      }
    }
  }
}
#else
/* Not this core's path: ISO C forbids an empty translation unit. */
typedef int tinyaot_qdepthwise_conv2d_s8_dsp_not_built;
#endif
