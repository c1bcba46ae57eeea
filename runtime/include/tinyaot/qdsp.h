/* Shared pieces of the Arm DSP-extension int8 kernels (kernels/q*_s8_dsp.c); include only
 * from those files.
 *
 * Operand order. A word of 4 int8 values (k0,k1,k2,k3) splits into two words of int16 pairs
 * with SXTB16: sxtb16(w) = (k0,k2) and sxtb16(ror(w, 8)) = (k1,k3). SMLAD multiplies such
 * pairs and adds both products to an accumulator. Activations are expanded to int16 once, in
 * the same (k0,k2),(k1,k3) order, into the planner's scratch: a row of `depth` values takes
 * tinyaot_dsp_groups(depth) groups of 8 bytes. The last group of a depth that is not a
 * multiple of 4 holds values depth-4 .. depth-1 with the ones already counted zeroed, so the
 * weights of that group are the word at w + depth - 4, inside the weight row (depth >= 4).
 *
 * Requantization. Channels with TINYAOT_ROUND_TFLITE or _SINGLE and a shift <= -1 (a scale
 * below 1/2: nearly every channel of the MLPerf models) use the formulations below,
 * bit-identical with tinyaot_requant_tflite(_single) (tests/kernels/requant_test.c checks
 * them against those functions): one 64-bit multiply-accumulate and a shift of its high word.
 * Other channels and modes go through tinyaot_qoutput_store_at. */
#ifndef TINYAOT_QDSP_H
#define TINYAOT_QDSP_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tinyaot/quantized.h"

/* The per-output code must be inlined into the block loops: a call per output costs more than
 * the requantization itself. */
#if defined(__GNUC__)
#define TINYAOT_DSP_INLINE static inline __attribute__((always_inline))
#define TINYAOT_DSP_NOINLINE __attribute__((noinline, unused))
#else
#define TINYAOT_DSP_INLINE static inline
#define TINYAOT_DSP_NOINLINE
#endif

/* The hot loops are assembly when optimizing (they need 13 or 14 registers: without
 * optimization GCC keeps a frame pointer and cannot allocate them) and C otherwise, which is
 * also what the host tests run (TINYAOT_EMULATE_DSP). */
#if defined(TINYAOT_EMULATE_DSP) || !defined(__OPTIMIZE__)
#define TINYAOT_DSP_C_LOOPS 1
#else
#define TINYAOT_DSP_C_LOOPS 0
#endif

#if defined(TINYAOT_EMULATE_DSP)
/* Host builds of the tests: the instructions as plain C, so the DSP kernels' logic runs on the
 * host too. */
static inline uint32_t tinyaot_sxtb16(uint32_t x) {
  return (uint32_t)(uint16_t)(int16_t)(int8_t)(x & 0xffu) | ((uint32_t)(uint16_t)(int16_t)(int8_t)(x >> 16) << 16);
}
static inline int32_t tinyaot_smlad(uint32_t a, uint32_t b, int32_t acc) {
  return (int32_t)((uint32_t)acc + (uint32_t)((int32_t)(int16_t)a * (int16_t)b) +
                   (uint32_t)((int32_t)(int16_t)(a >> 16) * (int16_t)(b >> 16)));
}
static inline int32_t tinyaot_smlabb(uint32_t a, uint32_t b, int32_t acc) {
  return (int32_t)((uint32_t)acc + (uint32_t)((int32_t)(int16_t)a * (int16_t)b));
}
static inline int32_t tinyaot_smlatt(uint32_t a, uint32_t b, int32_t acc) {
  return (int32_t)((uint32_t)acc + (uint32_t)((int32_t)(int16_t)(a >> 16) * (int16_t)(b >> 16)));
}
static inline int32_t tinyaot_smlatb(uint32_t a, uint32_t b, int32_t acc) {
  return (int32_t)((uint32_t)acc + (uint32_t)((int32_t)(int16_t)(a >> 16) * (int16_t)b));
}
static inline int32_t tinyaot_ssat8(int32_t x) { return x < -128 ? -128 : (x > 127 ? 127 : x); }
static inline uint32_t tinyaot_pack_bottoms(uint32_t a, uint32_t b) { return (a & 0xffffu) | (b << 16); }
static inline uint32_t tinyaot_pack_tops(uint32_t a, uint32_t b) { return (a >> 16) | (b & 0xffff0000u); }
static inline int32_t tinyaot_smmul(int32_t a, int32_t b) { return (int32_t)(((int64_t)a * b) >> 32); }
static inline int32_t tinyaot_smmulr(int32_t a, int32_t b) {
  return (int32_t)(((int64_t)a * b + ((int64_t)1 << 31)) >> 32);
}
#else
#include <arm_acle.h>
static inline uint32_t tinyaot_sxtb16(uint32_t x) { return (uint32_t)__sxtb16((int32_t)x); }
static inline int32_t tinyaot_smlad(uint32_t a, uint32_t b, int32_t acc) {
  return __smlad((int32_t)a, (int32_t)b, acc);
}
static inline int32_t tinyaot_smlabb(uint32_t a, uint32_t b, int32_t acc) {
  return __smlabb((int32_t)a, (int32_t)b, acc);
}
static inline int32_t tinyaot_smlatt(uint32_t a, uint32_t b, int32_t acc) {
  return __smlatt((int32_t)a, (int32_t)b, acc);
}
static inline int32_t tinyaot_smlatb(uint32_t a, uint32_t b, int32_t acc) {
  return __smlatb((int32_t)a, (int32_t)b, acc);
}
static inline int32_t tinyaot_ssat8(int32_t x) { return __ssat(x, 8); }
/* (bottom of a, bottom of b) and (top of a, top of b): PKHBT / PKHTB, not in GCC 12's ACLE. */
static inline uint32_t tinyaot_pack_bottoms(uint32_t a, uint32_t b) {
  uint32_t r;
  __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(r) : "r"(a), "r"(b));
  return r;
}
static inline uint32_t tinyaot_pack_tops(uint32_t a, uint32_t b) {
  uint32_t r;
  __asm__("pkhtb %0, %2, %1, asr #16" : "=r"(r) : "r"(a), "r"(b));
  return r;
}
/* The high word of a * b, truncated (SMMUL) or rounded (SMMULR): not in ACLE. */
static inline int32_t tinyaot_smmul(int32_t a, int32_t b) {
  int32_t r;
  __asm__("smmul %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
  return r;
}
static inline int32_t tinyaot_smmulr(int32_t a, int32_t b) {
  int32_t r;
  __asm__("smmulr %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
  return r;
}
#endif

/* (k1,k3) of a word (k0,k1,k2,k3): SXTB16 with its built-in rotation (GCC 12's arm_acle.h has
 * no __ror and does not fuse the rotation itself). */
static inline uint32_t tinyaot_sxtb16_odd(uint32_t x) {
#if defined(TINYAOT_EMULATE_DSP)
  return tinyaot_sxtb16((x >> 8) | (x << 24));
#else
  uint32_t r;
  __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
  return r;
#endif
}

/* Unaligned little-endian word loads: one LDR on armv7e-m / armv8-m.main. */
static inline uint32_t tinyaot_dsp_load32(const int8_t *p) {
  uint32_t v;
  memcpy(&v, p, sizeof v);
  return v;
}

/* Two words of the (aligned) expanded activations: one LDRD. */
static inline uint64_t tinyaot_dsp_load64(const uint32_t *p) {
  uint64_t v;
  memcpy(&v, p, sizeof v);
  return v;
}

static inline int32_t tinyaot_dsp_groups(int32_t depth) { return (depth + 3) >> 2; }

/* Expands `depth` (>= 4) int8 values into groups of (k0,k2),(k1,k3) int16 pairs, writing
 * pair words `stride` words apart group to group (2: one row; 4: two rows interleaved). */
static inline void tinyaot_dsp_expand(const int8_t *src, int32_t depth, uint32_t *dst, int32_t stride) {
  int32_t g, full = depth >> 2, rest = depth & 3;
  for (g = 0; g < full; ++g) {
    uint32_t w = tinyaot_dsp_load32(src + 4 * g);
    dst[0] = tinyaot_sxtb16(w);
    dst[1] = tinyaot_sxtb16_odd(w);
    dst += stride;
  }
  if (rest) {
    /* Bytes depth-4 .. depth-1; the first 4 - rest were counted by the last full group. */
    uint32_t w = tinyaot_dsp_load32(src + depth - 4) & (0xffffffffu << (8 * (4 - rest)));
    dst[0] = tinyaot_sxtb16(w);
    dst[1] = tinyaot_sxtb16_odd(w);
  }
}

/* The FC / conv requantization as one multiply-accumulate (tinyaot_dsp_requant_block):
 * y = (int32)((acc * multiplier + k - fix) >> 32) >> high_shift, where fix = 2^31 for a
 * negative acc under TINYAOT_ROUND_TFLITE and 0 otherwise.
 * TFLite (double rounding, e = -shift >= 1): s = (acc*m + 2^30) >> 31 is the rounding doubling
 * high multiply for every acc (m >= 0), and the rounding divide by 2^e is
 * (s + 2^(e-1) - [s < 0]) >> e; nesting the floors gives
 * (acc*m + 2^30 + 2^(30+e) - [s < 0] * 2^31) >> (31 + e). [s < 0] may be replaced by
 * [acc < 0]: they differ only when s == 0, where both give 0.
 * Single rounding (total = 31 - shift >= 32): (acc*m + 2^(total-1)) >> total. */

/* The requantization of a doubled accumulator A = 2 acc (|acc| < 2^29) with e = -shift in
 * [1, 22] and the output zero point folded into add = 2^(e-1) + zero_point * 2^e:
 * TINYAOT_ROUND_TFLITE: s = SMMULR(A, m) = (acc*m + 2^30) >> 31 is the rounding doubling high
 * multiply, and (s + 2^(e-1) - [s < 0]) >> e the rounding divide, [s < 0] = -(s >> 31);
 * _SINGLE: (acc*m + 2^(30+e)) >> (31+e) = (SMMUL(A, m) + 2^(e-1)) >> e.
 * Returns the output before the clamp to the activation range (saturated to int8). */
TINYAOT_DSP_INLINE int32_t tinyaot_dsp_requant_doubled(int32_t doubled, int32_t multiplier, int32_t add, int32_t e,
                                                       int32_t single) {
  int32_t y;
  if (single) {
    y = tinyaot_smmul(doubled, multiplier) + add;
  } else {
    const int32_t s = tinyaot_smmulr(doubled, multiplier);
    y = s + add + (s >> 31);
  }
  return tinyaot_ssat8(y >> e);
}

/* The 2 rows x 2 channels block of tinyaot_dsp_rows2 in C (host tests, -O0): `groups` groups
 * of 4 depth values, rows a (interleaved) times weight rows w0 and w1. */
static inline void tinyaot_dsp_mac2x2(const uint32_t *a, const int8_t *w0, const int8_t *w1, int32_t groups,
                                      int32_t *acc00, int32_t *acc01, int32_t *acc10, int32_t *acc11) {
  int32_t g;
  for (g = 0; g < groups; ++g) {
    const uint32_t w = tinyaot_dsp_load32(w0 + 4 * g), v = tinyaot_dsp_load32(w1 + 4 * g);
    const uint32_t we = tinyaot_sxtb16(w), wo = tinyaot_sxtb16_odd(w);
    const uint32_t ve = tinyaot_sxtb16(v), vo = tinyaot_sxtb16_odd(v);
    const uint32_t *x = a + 4 * g;
    *acc00 = tinyaot_smlad(x[1], wo, tinyaot_smlad(x[0], we, *acc00));
    *acc01 = tinyaot_smlad(x[1], vo, tinyaot_smlad(x[0], ve, *acc01));
    *acc10 = tinyaot_smlad(x[3], wo, tinyaot_smlad(x[2], we, *acc10));
    *acc11 = tinyaot_smlad(x[3], vo, tinyaot_smlad(x[2], ve, *acc11));
  }
}

/* Channels per block of the FC / convolution kernels: their accumulators (two rows, 128
 * bytes) are all the scratch a block needs besides the expanded activations. */
#define TINYAOT_DSP_BLOCK 16
#define TINYAOT_DSP_BLOCK_BYTES_ 64 /* 4 * TINYAOT_DSP_BLOCK, for the assembly */
#define TINYAOT_DSP_STR2_(x) #x
#define TINYAOT_DSP_STR_(x) TINYAOT_DSP_STR2_(x)

/* Where a kernel's outputs go and how they are requantized. */
typedef struct {
  const tinyaot_qoutput *q;
  const int32_t *weight_zero_point; /* [out_c] or NULL */
  void *output;
  int32_t fast;      /* see tinyaot_dsp_out_init */
  uint32_t mixed[2]; /* fast == 0: bit b set when block b has channels it does not cover */
  int32_t fold;      /* every shift >= -23: tinyaot_dsp_requant_block may fold the zero point */
} tinyaot_dsp_out;

/* Whether tinyaot_dsp_requant_block covers channel c of an int8 output with TFLite's rounding:
 * a multiplier >= 0 and a shift in [-31, -2] (a scale below 1/4: nearly every channel of the
 * MLPerf models). Other channels go through tinyaot_qoutput_store_at. */
static inline int32_t tinyaot_dsp_channel_fast(const tinyaot_qoutput *q, int32_t c) {
  return q->shift[c] >= -31 && q->shift[c] <= -2 && q->multiplier[c] >= 0;
}

/* o->fast: 1 when tinyaot_dsp_requant_block covers every channel, 0 when it covers some
 * (o->mixed marks the blocks of TINYAOT_DSP_BLOCK channels with others, to check per
 * channel; blocks from the 64th on are always checked), -1 when none (onnxruntime's
 * rounding, int32 output). */
static inline void tinyaot_dsp_out_init(tinyaot_dsp_out *o, const tinyaot_qoutput *q, int32_t out_c,
                                        const int32_t *weight_zero_point, void *output) {
  int32_t c, lowest = 0, fast = q->multiplier != NULL &&
                                       (q->rounding == TINYAOT_ROUND_TFLITE || q->rounding == TINYAOT_ROUND_TFLITE_SINGLE)
                                   ? 1
                                   : -1;
  uint32_t mixed[2] = {0, 0};
  /* one pass, in locals (a matrix-vector product pays it once per output) */
  for (c = 0; c < out_c && fast >= 0; ++c) {
    const int32_t shift = q->shift[c];
    lowest = shift < lowest ? shift : lowest;
    if ((uint32_t)(shift + 31) > 29u || q->multiplier[c] < 0) {
      const int32_t b = c / TINYAOT_DSP_BLOCK;
      fast = 0;
      if (b < 64) mixed[b >> 5] |= 1u << (b & 31);
    }
  }
  o->q = q;
  o->weight_zero_point = weight_zero_point;
  o->output = output;
  o->fast = fast;
  o->mixed[0] = mixed[0];
  o->mixed[1] = mixed[1];
  o->fold = lowest >= -23 && q->zero_point >= -128 && q->zero_point <= 127;
}

/* Accumulators acc[0 .. count-1] of a row of depth < 4 (too short for a group) times `count`
 * weight rows: plain C, so that the optimized kernels never need the portable ones. */
static inline void tinyaot_dsp_rows_short(const int32_t *bias, const int8_t *a, const int8_t *weights, int32_t depth,
                                          int32_t count, int32_t *acc) {
  int32_t c, k;
  for (c = 0; c < count; ++c) {
    const int8_t *w = weights + (size_t)c * depth;
    int32_t sum = bias[c];
    for (k = 0; k < depth; ++k) sum += a[k] * w[k];
    acc[c] = sum;
  }
}

/* Sum of the values of an expanded row (`groups` groups, pair words `stride` words apart group
 * to group): the window sum weight zero points need, padding taps included. */
static inline int32_t tinyaot_dsp_expanded_sum(const uint32_t *s, int32_t groups, int32_t stride) {
  int32_t g, sum = 0;
  for (g = 0; g < groups; ++g, s += stride) {
    sum = tinyaot_smlad(s[1], 0x00010001u, tinyaot_smlad(s[0], 0x00010001u, sum));
  }
  return sum;
}

/* Sum of a row's int8 values (for weight zero points). */
static inline int32_t tinyaot_dsp_row_sum(const int8_t *a, int32_t depth) {
  int32_t k, sum = 0;
  for (k = 0; k < depth; ++k) sum += a[k];
  return sum;
}

/* Out-of-line helpers of the FC and conv kernels, one copy in the image: kernels/qoutput_s8.c
 * (which both kernels' emitters list) defines them with TINYAOT_DSP_DEFINE_SHARED, the
 * kernels see the prototypes. Host tests (TINYAOT_EMULATE_DSP) get a static copy per file. */
#if defined(TINYAOT_EMULATE_DSP) || defined(TINYAOT_DSP_DEFINE_SHARED)
#if defined(TINYAOT_EMULATE_DSP)
#define TINYAOT_DSP_SHARED static TINYAOT_DSP_NOINLINE
#else
#define TINYAOT_DSP_SHARED TINYAOT_DSP_NOINLINE
#endif

/* tinyaot_requant_tflite(_single) + zero point, saturated to int8, of the accumulators of
 * two rows, acc[j] and acc[TINYAOT_DSP_BLOCK + j] (j < count), into dst[j] and
 * dst[dst1 + j] (the second row first; `two` == 0: the first row only), for channels with a multiplier m >= 0 and a shift
 * in [-31, -2] (tinyaot_dsp_channel_fast). The multiply-accumulate above, with the constants
 * derived per channel from m and h = -shift - 1 in [1, 30]: k_hi = 2^(h-1) and k_lo = x, with
 * x = 2^30 for TFLite's rounding and 0 for single rounding. TFLite's -2^31 for a negative acc
 * is folded into k with s = x & (acc >> 31): k_hi - (s >> 30) and x ^ (s << 1), i.e.
 * k - 2^31 (h >= 1). 25 instructions per channel (both rows) in the assembly; `fold`
 * (every shift >= -23) puts the zero point into k_hi instead, 23. */
TINYAOT_DSP_SHARED void tinyaot_dsp_requant_block(const int32_t *acc, const int32_t *multiplier,
                                                           const int32_t *shift, int32_t count, int8_t *dst,
                                                           int32_t dst1, int32_t two, int32_t zero_point,
                                                           int32_t single, int32_t fold) {
  const uint32_t x = single ? 0u : 1u << 30;
#if TINYAOT_DSP_C_LOOPS
  int32_t j, row;
  for (j = 0; j < count; ++j) {
    const int32_t h = -shift[j] - 1, m = multiplier[j];
    const int32_t folded = two && fold; /* as the assembly's loops */
    const uint32_t k_hi = folded ? (uint32_t)((int32_t)((uint32_t)(2 * zero_point + 1) << h) >> 1) : (1u << h) >> 1;
    for (row = two ? 1 : 0; row >= 0; --row) {
      const int32_t a = acc[row * TINYAOT_DSP_BLOCK + j];
      const uint32_t s = x & (uint32_t)(a >> 31);
      const uint64_t k = (uint64_t)(k_hi - (s >> 30)) << 32 | (x ^ (s << 1));
      const uint64_t v = k + (uint64_t)((int64_t)a * m);
      dst[row * dst1 + j] = (int8_t)tinyaot_ssat8(((int32_t)(uint32_t)(v >> 32) >> h) + (folded ? 0 : zero_point));
    }
  }
#else
  int32_t a, m, h, k_hi, lo, hi;
  if (two && fold) {
    /* h <= 22 for every channel: the zero point goes into k_hi = ((2 zp + 1) << h) >> 1
     * = 2^(h-1) + zp * 2^h (adding zp * 2^h before the shift by h adds exactly zp;
     * |k_hi| < 2^30 and so is the high word of acc * m: no overflow), 23 per channel */
    const int32_t z = 2 * zero_point + 1;
    __asm__ volatile(
        "1:\n\t"
        "ldr %[m], [%[mult]], #4\n\t"
        "ldr %[h], [%[shift]], #4\n\t"
        "mvn %[h], %[h]\n\t"
        "lsl %[k_hi], %[z], %[h]\n\t"
        "asr %[k_hi], %[k_hi], #1\n\t"
        "ldr %[a], [%[acc], #" TINYAOT_DSP_STR_(TINYAOT_DSP_BLOCK_BYTES_) "]\n\t"
        "and %[lo], %[x], %[a], asr #31\n\t"
        "sub %[hi], %[k_hi], %[lo], lsr #30\n\t"
        "eor %[lo], %[x], %[lo], lsl #1\n\t"
        "smlal %[lo], %[hi], %[a], %[m]\n\t"
        "asr %[hi], %[hi], %[h]\n\t"
        "ssat %[hi], #8, %[hi]\n\t"
        "strb %[hi], [%[dst], %[dst1]]\n\t"
        "ldr %[a], [%[acc]], #4\n\t"
        "and %[lo], %[x], %[a], asr #31\n\t"
        "sub %[hi], %[k_hi], %[lo], lsr #30\n\t"
        "eor %[lo], %[x], %[lo], lsl #1\n\t"
        "smlal %[lo], %[hi], %[a], %[m]\n\t"
        "asr %[hi], %[hi], %[h]\n\t"
        "ssat %[hi], #8, %[hi]\n\t"
        "strb %[hi], [%[dst]], #1\n\t"
        "subs %[n], %[n], #1\n\t"
        "bne 1b\n\t"
        : [acc] "+r"(acc), [mult] "+r"(multiplier), [shift] "+r"(shift), [dst] "+r"(dst), [n] "+r"(count),
          [a] "=&r"(a), [m] "=&r"(m), [h] "=&r"(h), [k_hi] "=&r"(k_hi), [lo] "=&r"(lo), [hi] "=&r"(hi)
        : [z] "r"(z), [x] "r"(x), [dst1] "r"(dst1)
        : "cc", "memory");
    return;
  }
  if (!two) {
    /* one row (an odd last row or pixel, matrix-vector products): 17 per channel */
    __asm__ volatile(
        "1:\n\t"
        "ldr %[m], [%[mult]], #4\n\t"
        "ldr %[h], [%[shift]], #4\n\t"
        "mvn %[h], %[h]\n\t"
        "mov %[k_hi], #1\n\t"
        "lsl %[k_hi], %[k_hi], %[h]\n\t"
        "lsr %[k_hi], %[k_hi], #1\n\t"
        "ldr %[a], [%[acc]], #4\n\t"
        "and %[lo], %[x], %[a], asr #31\n\t"
        "sub %[hi], %[k_hi], %[lo], lsr #30\n\t"
        "eor %[lo], %[x], %[lo], lsl #1\n\t"
        "smlal %[lo], %[hi], %[a], %[m]\n\t"
        "asr %[hi], %[hi], %[h]\n\t"
        "add %[hi], %[hi], %[zp]\n\t"
        "ssat %[hi], #8, %[hi]\n\t"
        "strb %[hi], [%[dst]], #1\n\t"
        "subs %[n], %[n], #1\n\t"
        "bne 1b\n\t"
        : [acc] "+r"(acc), [mult] "+r"(multiplier), [shift] "+r"(shift), [dst] "+r"(dst), [n] "+r"(count),
          [a] "=&r"(a), [m] "=&r"(m), [h] "=&r"(h), [k_hi] "=&r"(k_hi), [lo] "=&r"(lo), [hi] "=&r"(hi)
        : [zp] "r"(zero_point), [x] "r"(x)
        : "cc", "memory");
    return;
  }
  __asm__ volatile(
      "1:\n\t"
      "ldr %[m], [%[mult]], #4\n\t"
      "ldr %[h], [%[shift]], #4\n\t"
      "mvn %[h], %[h]\n\t"
      "mov %[k_hi], #1\n\t"
      "lsl %[k_hi], %[k_hi], %[h]\n\t"
      "lsr %[k_hi], %[k_hi], #1\n\t"
      "ldr %[a], [%[acc], #" TINYAOT_DSP_STR_(TINYAOT_DSP_BLOCK_BYTES_) "]\n\t"
      "and %[lo], %[x], %[a], asr #31\n\t"
      "sub %[hi], %[k_hi], %[lo], lsr #30\n\t"
      "eor %[lo], %[x], %[lo], lsl #1\n\t"
      "smlal %[lo], %[hi], %[a], %[m]\n\t"
      "asr %[hi], %[hi], %[h]\n\t"
      "add %[hi], %[hi], %[zp]\n\t"
      "ssat %[hi], #8, %[hi]\n\t"
      "strb %[hi], [%[dst], %[dst1]]\n\t"
      "ldr %[a], [%[acc]], #4\n\t"
      "and %[lo], %[x], %[a], asr #31\n\t"
      "sub %[hi], %[k_hi], %[lo], lsr #30\n\t"
      "eor %[lo], %[x], %[lo], lsl #1\n\t"
      "smlal %[lo], %[hi], %[a], %[m]\n\t"
      "asr %[hi], %[hi], %[h]\n\t"
      "add %[hi], %[hi], %[zp]\n\t"
      "ssat %[hi], #8, %[hi]\n\t"
      "strb %[hi], [%[dst]], #1\n\t"
      "subs %[n], %[n], #1\n\t"
      "bne 1b\n\t"
      : [acc] "+r"(acc), [mult] "+r"(multiplier), [shift] "+r"(shift), [dst] "+r"(dst), [n] "+r"(count),
        [a] "=&r"(a), [m] "=&r"(m), [h] "=&r"(h), [k_hi] "=&r"(k_hi), [lo] "=&r"(lo), [hi] "=&r"(hi)
      : [zp] "r"(zero_point), [x] "r"(x), [dst1] "r"(dst1)
      : "cc", "memory");
#endif
}

/* Requantizes and stores channels c0 .. c0+count-1 of one or two (`two`) output rows: the
 * accumulators acc[j] and acc[TINYAOT_DSP_BLOCK + j] of channel c0 + j go to outputs
 * index0 + c0 + j and index1 + c0 + j, after subtracting w_zp[c] * a_sum0/1 when there are
 * weight zero points. The accumulators are the kernel's scratch and are modified. */
TINYAOT_DSP_SHARED void tinyaot_dsp_finish(const tinyaot_dsp_out *o, int32_t *acc, int32_t two, int32_t c0,
                                                    int32_t count, size_t index0, size_t index1, int32_t a_sum0,
                                                    int32_t a_sum1) {
  const tinyaot_qoutput *q = o->q;
  int8_t *dst0 = (int8_t *)o->output + index0 + c0;
  int32_t *acc1 = acc + TINYAOT_DSP_BLOCK;
  int32_t j;
  if (o->weight_zero_point != NULL) {
    for (j = 0; j < count; ++j) {
      acc[j] -= o->weight_zero_point[c0 + j] * a_sum0;
      if (two) acc1[j] -= o->weight_zero_point[c0 + j] * a_sum1;
    }
  }
  if (!two) index1 = index0; /* one row: the clamp below does the same bytes twice */
  if (o->fast == 1 || (o->fast == 0 && c0 % TINYAOT_DSP_BLOCK == 0 && c0 / TINYAOT_DSP_BLOCK < 64 &&
                       !((o->mixed[c0 / TINYAOT_DSP_BLOCK >> 5] >> (c0 / TINYAOT_DSP_BLOCK & 31)) & 1))) {
    tinyaot_dsp_requant_block(acc, q->multiplier + c0, q->shift + c0, count, dst0, (int32_t)(index1 - index0), two,
                              q->zero_point, q->rounding == TINYAOT_ROUND_TFLITE_SINGLE, o->fold);
  } else {
    /* runs of covered channels, the others one by one */
    for (j = 0; j < count;) {
      const int32_t c = c0 + j;
      int32_t run = 0;
      while (o->fast == 0 && j + run < count && tinyaot_dsp_channel_fast(q, c + run)) ++run;
      if (run > 0) {
        tinyaot_dsp_requant_block(acc + j, q->multiplier + c, q->shift + c, run, dst0 + j, (int32_t)(index1 - index0),
                                  two, q->zero_point, q->rounding == TINYAOT_ROUND_TFLITE_SINGLE, o->fold);
        j += run;
      } else {
        if (two) tinyaot_qoutput_store_at(q, c, acc1[j], o->output, index1 + (size_t)c);
        tinyaot_qoutput_store_at(q, c, acc[j], o->output, index0 + (size_t)c);
        ++j;
      }
    }
  }
  if (o->fast >= 0 && (q->act_min > -128 || q->act_max < 127)) {
    /* A fused activation narrower than int8 (int8 outputs; clamping the generic ones again
     * changes nothing). */
    int8_t *dst1 = (int8_t *)o->output + index1 + c0;
    for (j = 0; j < count; ++j) {
      dst0[j] = (int8_t)(dst0[j] < q->act_min ? q->act_min : (dst0[j] > q->act_max ? q->act_max : dst0[j]));
      dst1[j] = (int8_t)(dst1[j] < q->act_min ? q->act_min : (dst1[j] > q->act_max ? q->act_max : dst1[j]));
    }
  }
}

/* The full groups of every channel pair of tinyaot_dsp_rows2, the block loop included: 17
 * instructions per 16 MACs plus about 25 a block (GCC's loop around the same inner loop spilled
 * about 45). The loop state lives in `st`, whose address the assembly keeps on the stack. */
typedef struct {
  const int32_t *bias;
  int32_t *acc0, *acc1;
  const uint32_t *s;
  int32_t groups, depth, pairs;
  const int8_t *w0;
  int32_t rest; /* depth % 4: the next pair's rows start that far after the groups end */
} tinyaot_dsp_rows2_state;

#if !TINYAOT_DSP_C_LOOPS
/* The assembly addresses the fields by these offsets. */
typedef char tinyaot_dsp_rows2_state_layout[offsetof(tinyaot_dsp_rows2_state, pairs) == 24 &&
                                                    offsetof(tinyaot_dsp_rows2_state, rest) == 32
                                                ? 1
                                                : -1];
#endif

/* One group of 4 depth values of the 2 rows x 2 channels block: both weight words widened
 * with SXTB16 (even and odd bytes), each multiplied with both expanded rows. */
#define TINYAOT_DSP_ASM_GROUP_2X2                      \
  "ldr %[t], [%[w0]], #4\n\t"                          \
  "ldr %[v], [%[w1]], #4\n\t"                          \
  "ldrd %[x0], %[x1], [%[a]], #8\n\t"                  \
  "sxtb16 %[we], %[t]\n\t"                             \
  "sxtb16 %[ve], %[v]\n\t"                             \
  "smlad %[r00], %[x0], %[we], %[r00]\n\t"             \
  "smlad %[r01], %[x0], %[ve], %[r01]\n\t"             \
  "sxtb16 %[t], %[t], ror #8\n\t"                      \
  "sxtb16 %[v], %[v], ror #8\n\t"                      \
  "smlad %[r00], %[x1], %[t], %[r00]\n\t"              \
  "smlad %[r01], %[x1], %[v], %[r01]\n\t"              \
  "ldrd %[x0], %[x1], [%[a]], #8\n\t"                  \
  "smlad %[r10], %[x0], %[we], %[r10]\n\t"             \
  "smlad %[r11], %[x0], %[ve], %[r11]\n\t"             \
  "smlad %[r10], %[x1], %[t], %[r10]\n\t"              \
  "smlad %[r11], %[x1], %[v], %[r11]\n\t"

TINYAOT_DSP_SHARED void tinyaot_dsp_rows2_blocks(tinyaot_dsp_rows2_state *st) {
#if TINYAOT_DSP_C_LOOPS
  int32_t k;
  for (k = 0; k < st->pairs; ++k) {
    const int8_t *w0 = st->w0 + (size_t)2 * k * st->depth;
    int32_t a00 = st->bias[2 * k], a01 = st->bias[2 * k + 1], a10 = a00, a11 = a01;
    tinyaot_dsp_mac2x2(st->s, w0, w0 + st->depth, st->groups, &a00, &a01, &a10, &a11);
    st->acc0[2 * k] = a00;
    st->acc0[2 * k + 1] = a01;
    st->acc1[2 * k] = a10;
    st->acc1[2 * k + 1] = a11;
  }
#else
  int32_t r00, r01, r10, r11, n;
  const uint32_t *a;
  const int8_t *w0, *w1;
  uint32_t v, we, ve, x0, x1;
  void *t = st;
  __asm__ volatile(
      "push {%[t]}\n\t"
      "ldr %[w0], [%[t], #28]\n\t"
      "2:\n\t"
      "ldr %[t], [sp]\n\t"
      "ldr %[x0], [%[t], #0]\n\t"
      "ldrd %[r00], %[r01], [%[x0]], #8\n\t"
      "str %[x0], [%[t], #0]\n\t"
      "mov %[r10], %[r00]\n\t"
      "mov %[r11], %[r01]\n\t"
      "ldr %[a], [%[t], #12]\n\t"
      "ldrd %[n], %[w1], [%[t], #16]\n\t"
      "add %[w1], %[w0], %[w1]\n\t"
      /* Two groups per iteration; an odd count starts with one. */
      "lsrs %[n], %[n], #1\n\t"
      "bcc 3f\n\t"
      TINYAOT_DSP_ASM_GROUP_2X2
      "cmp %[n], #0\n\t"
      "beq 4f\n\t"
      "3:\n\t"
      TINYAOT_DSP_ASM_GROUP_2X2
      TINYAOT_DSP_ASM_GROUP_2X2
      "subs %[n], %[n], #1\n\t"
      "bne 3b\n\t"
      "4:\n\t"
      "ldr %[t], [sp]\n\t"
      "ldrd %[x0], %[x1], [%[t], #4]\n\t"
      "strd %[r00], %[r01], [%[x0]], #8\n\t"
      "strd %[r10], %[r11], [%[x1]], #8\n\t"
      "strd %[x0], %[x1], [%[t], #4]\n\t"
      "ldr %[x0], [%[t], #32]\n\t"
      "add %[w0], %[w1], %[x0]\n\t"
      "ldr %[x0], [%[t], #24]\n\t"
      "subs %[x0], %[x0], #1\n\t"
      "str %[x0], [%[t], #24]\n\t"
      "bne 2b\n\t"
      "add sp, sp, #4\n\t"
      : [t] "+r"(t), [r00] "=&r"(r00), [r01] "=&r"(r01), [r10] "=&r"(r10), [r11] "=&r"(r11), [n] "=&r"(n),
        [a] "=&r"(a), [w0] "=&r"(w0), [w1] "=&r"(w1), [v] "=&r"(v), [we] "=&r"(we), [ve] "=&r"(ve), [x0] "=&r"(x0),
        [x1] "=&r"(x1)
      :
      : "cc", "memory");
#endif
}

/* Two expanded rows (interleaved, tinyaot_dsp_expand with stride 4) times `count` weight rows
 * ([count][depth], depth >= 4): accumulators acc_row0[0 .. count-1] and acc_row1[...]. Blocks
 * of 2 rows x 2 channels reuse every activation and weight word twice. */
TINYAOT_DSP_SHARED void tinyaot_dsp_rows2(const int32_t *bias, const uint32_t *s, const int8_t *weights, int32_t depth,
                                     int32_t count, int32_t *acc_row0, int32_t *acc_row1) {
  const int32_t full = depth >> 2, rest = depth & 3, pairs = count >> 1;
  int32_t c = 2 * pairs, g;
  if (pairs > 0) {
    tinyaot_dsp_rows2_state st;
    st.bias = bias;
    st.acc0 = acc_row0;
    st.acc1 = acc_row1;
    st.s = s;
    st.groups = full;
    st.depth = depth;
    st.pairs = pairs; /* counted down to 0 by the loop */
    st.w0 = weights;
    st.rest = rest;
    tinyaot_dsp_rows2_blocks(&st);
    if (rest) {
      /* The last group: the word ending the weight row, against the zero-padded values. */
      const uint32_t *a = s + 4 * full;
      int32_t k;
      for (k = 0; k < c; ++k) {
        const uint32_t w = tinyaot_dsp_load32(weights + (size_t)k * depth + depth - 4);
        const uint32_t we = tinyaot_sxtb16(w), wo = tinyaot_sxtb16_odd(w);
        acc_row0[k] = tinyaot_smlad(a[1], wo, tinyaot_smlad(a[0], we, acc_row0[k]));
        acc_row1[k] = tinyaot_smlad(a[3], wo, tinyaot_smlad(a[2], we, acc_row1[k]));
      }
    }
  }
  if (c < count) {
    const int8_t *w0 = weights + (size_t)c * depth;
    const uint32_t *a = s;
    int32_t acc0 = bias[c], acc1 = acc0;
    for (g = 0; g < full; ++g) {
      uint32_t w = tinyaot_dsp_load32(w0), we = tinyaot_sxtb16(w), wo = tinyaot_sxtb16_odd(w);
      acc0 = tinyaot_smlad(a[0], we, acc0);
      acc0 = tinyaot_smlad(a[1], wo, acc0);
      acc1 = tinyaot_smlad(a[2], we, acc1);
      acc1 = tinyaot_smlad(a[3], wo, acc1);
      w0 += 4;
      a += 4;
    }
    if (rest) {
      uint32_t w = tinyaot_dsp_load32(w0 + rest - 4), we = tinyaot_sxtb16(w), wo = tinyaot_sxtb16_odd(w);
      acc0 = tinyaot_smlad(a[0], we, acc0);
      acc0 = tinyaot_smlad(a[1], wo, acc0);
      acc1 = tinyaot_smlad(a[2], we, acc1);
      acc1 = tinyaot_smlad(a[3], wo, acc1);
    }
    acc_row0[c] = acc0;
    acc_row1[c] = acc1;
  }
}

/* The hot loop of tinyaot_dsp_rows1: `groups` (>= 1) groups of 4 depth values of one row (a)
 * times 4 weight rows w0, w0 + depth, w0 + 2 depth, w0 + 3 depth: 23 instructions per 16 MACs.
 * Not inlined: its 13 registers must not compete with the caller's live values. */
TINYAOT_DSP_SHARED void tinyaot_dsp_mac1x4(const uint32_t *a, const int8_t *w0, int32_t depth, int32_t groups,
                                      int32_t *acc) {
#if TINYAOT_DSP_C_LOOPS
  int32_t g, k;
  for (k = 0; k < 4; ++k) {
    for (g = 0; g < groups; ++g) {
      const uint32_t w = tinyaot_dsp_load32(w0 + (size_t)k * depth + 4 * g);
      acc[k] = tinyaot_smlad(a[2 * g + 1], tinyaot_sxtb16_odd(w), tinyaot_smlad(a[2 * g], tinyaot_sxtb16(w), acc[k]));
    }
  }
#else
  int32_t r0 = acc[0], r1 = acc[1], r2 = acc[2], r3 = acc[3];
  const int8_t *w2 = w0 + 2 * depth; /* rows 1 and 3 at +depth: one register fewer */
  uint32_t x0, x1, w, we;
  __asm__ volatile(
      "1:\n\t"
      "ldrd %[x0], %[x1], [%[a]], #8\n\t"
      "ldr %[w], [%[w0], %[d]]\n\t"
      "sxtb16 %[we], %[w]\n\t"
      "sxtb16 %[w], %[w], ror #8\n\t"
      "smlad %[r1], %[x0], %[we], %[r1]\n\t"
      "smlad %[r1], %[x1], %[w], %[r1]\n\t"
      "ldr %[w], [%[w0]], #4\n\t"
      "sxtb16 %[we], %[w]\n\t"
      "sxtb16 %[w], %[w], ror #8\n\t"
      "smlad %[r0], %[x0], %[we], %[r0]\n\t"
      "smlad %[r0], %[x1], %[w], %[r0]\n\t"
      "ldr %[w], [%[w2], %[d]]\n\t"
      "sxtb16 %[we], %[w]\n\t"
      "sxtb16 %[w], %[w], ror #8\n\t"
      "smlad %[r3], %[x0], %[we], %[r3]\n\t"
      "smlad %[r3], %[x1], %[w], %[r3]\n\t"
      "ldr %[w], [%[w2]], #4\n\t"
      "sxtb16 %[we], %[w]\n\t"
      "sxtb16 %[w], %[w], ror #8\n\t"
      "smlad %[r2], %[x0], %[we], %[r2]\n\t"
      "smlad %[r2], %[x1], %[w], %[r2]\n\t"
      "subs %[n], %[n], #1\n\t"
      "bne 1b\n\t"
      : [r0] "+r"(r0), [r1] "+r"(r1), [r2] "+r"(r2), [r3] "+r"(r3), [a] "+r"(a), [w0] "+r"(w0), [w2] "+r"(w2),
        [n] "+r"(groups), [x0] "=&r"(x0), [x1] "=&r"(x1), [w] "=&r"(w), [we] "=&r"(we)
      : [d] "r"(depth)
      : "cc", "memory");
  acc[0] = r0;
  acc[1] = r1;
  acc[2] = r2;
  acc[3] = r3;
#endif
}

/* One expanded row (tinyaot_dsp_expand with stride 2) times `count` weight rows into
 * acc_row0[0 .. count-1], in blocks of 4 channels sharing each activation word (the last 1 to
 * 3 channels one by one). */
TINYAOT_DSP_SHARED void tinyaot_dsp_rows1(const int32_t *bias, const uint32_t *s, const int8_t *weights, int32_t depth,
                                     int32_t count, int32_t *acc_row0) {
  const int32_t full = depth >> 2, rest = depth & 3;
  int32_t c, g, k;
  for (c = 0; c + 3 < count && full > 0; c += 4) {
    const int8_t *w0 = weights + (size_t)c * depth;
    int32_t *acc = acc_row0 + c;
    for (k = 0; k < 4; ++k) acc[k] = bias[c + k];
    tinyaot_dsp_mac1x4(s, w0, depth, full, acc);
    if (rest) {
      const uint32_t *a = s + 2 * full;
      for (k = 0; k < 4; ++k) {
        const uint32_t w = tinyaot_dsp_load32(w0 + (size_t)k * depth + depth - 4);
        acc[k] = tinyaot_smlad(a[1], tinyaot_sxtb16_odd(w), tinyaot_smlad(a[0], tinyaot_sxtb16(w), acc[k]));
      }
    }
  }
  for (; c < count; ++c) {
    const int8_t *w0 = weights + (size_t)c * depth;
    const uint32_t *a = s;
    int32_t acc0 = bias[c];
    for (g = 0; g < full; ++g) {
      uint32_t w = tinyaot_dsp_load32(w0);
      acc0 = tinyaot_smlad(a[0], tinyaot_sxtb16(w), acc0);
      acc0 = tinyaot_smlad(a[1], tinyaot_sxtb16_odd(w), acc0);
      w0 += 4;
      a += 2;
    }
    if (rest) {
      uint32_t w = tinyaot_dsp_load32(w0 + rest - 4);
      acc0 = tinyaot_smlad(a[0], tinyaot_sxtb16(w), acc0);
      acc0 = tinyaot_smlad(a[1], tinyaot_sxtb16_odd(w), acc0);
    }
    acc_row0[c] = acc0;
  }
}

#else
void tinyaot_dsp_requant_block(const int32_t *acc, const int32_t *multiplier, const int32_t *shift, int32_t count,
                               int8_t *dst, int32_t dst1, int32_t two, int32_t zero_point, int32_t single,
                               int32_t fold);
void tinyaot_dsp_finish(const tinyaot_dsp_out *o, int32_t *acc, int32_t two, int32_t c0, int32_t count, size_t index0,
                        size_t index1, int32_t a_sum0, int32_t a_sum1);
void tinyaot_dsp_rows2(const int32_t *bias, const uint32_t *s, const int8_t *weights, int32_t depth, int32_t count,
                       int32_t *acc_row0, int32_t *acc_row1);
void tinyaot_dsp_rows1(const int32_t *bias, const uint32_t *s, const int8_t *weights, int32_t depth, int32_t count,
                       int32_t *acc_row0);
#endif

#endif
