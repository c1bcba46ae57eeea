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

/* Per output channel, the requantization as one multiply-accumulate:
 * y = (int32)((acc * multiplier + k - fix) >> 32) >> high_shift, where fix = 2^31 for a
 * negative acc under TINYAOT_ROUND_TFLITE and 0 otherwise.
 * TFLite (double rounding, e = -shift >= 1): s = (acc*m + 2^30) >> 31 is the rounding doubling
 * high multiply for every acc (m >= 0), and the rounding divide by 2^e is
 * (s + 2^(e-1) - [s < 0]) >> e; nesting the floors gives
 * (acc*m + 2^30 + 2^(30+e) - [s < 0] * 2^31) >> (31 + e). [s < 0] may be replaced by
 * [acc < 0]: they differ only when s == 0, where both give 0.
 * Single rounding (total = 31 - shift >= 32): (acc*m + 2^(total-1)) >> total. */
typedef struct {
  int32_t multiplier;
  int32_t high_shift;
  uint32_t k_lo;
  int32_t k_hi;
} tinyaot_dsp_requant;

/* Fills rq[0 .. out_c-1] and lists in generic[] the channels the formulation does not cover
 * (a shift >= 0: scales from 1/2 up; they go through tinyaot_qoutput_store_at after the fast
 * loop has written them). Returns that count, or -1 when no channel is covered (onnxruntime's
 * rounding, int32 output). */
static inline int32_t tinyaot_dsp_requant_prepare(const tinyaot_qoutput *q, int32_t out_c, tinyaot_dsp_requant *rq,
                                                  int32_t *generic) {
  int32_t c, n = 0;
  if (q->multiplier == NULL || (q->rounding != TINYAOT_ROUND_TFLITE && q->rounding != TINYAOT_ROUND_TFLITE_SINGLE)) {
    return -1;
  }
  for (c = 0; c < out_c; ++c) {
    const int32_t shift = q->shift[c];
    uint64_t k;
    if (shift > -1 || shift < -31 || q->multiplier[c] < 0) {
      generic[n++] = c;
      rq[c].multiplier = 0;
      rq[c].high_shift = 0;
      rq[c].k_lo = 0;
      rq[c].k_hi = 0;
      continue;
    }
    k = (uint64_t)1 << (30 - shift);
    if (q->rounding == TINYAOT_ROUND_TFLITE) k += (uint64_t)1 << 30;
    rq[c].multiplier = q->multiplier[c];
    rq[c].high_shift = -shift - 1;
    rq[c].k_lo = (uint32_t)k;
    rq[c].k_hi = (int32_t)(k >> 32);
  }
  return n;
}

/* The requantized int8 value (before the clamp to the activation range). `negative_fix` is
 * 1 for TINYAOT_ROUND_TFLITE, 0 for _SINGLE. */
TINYAOT_DSP_INLINE int32_t tinyaot_dsp_requant_apply(int32_t acc, const tinyaot_dsp_requant *r, uint32_t negative_fix) {
  int64_t v = (int64_t)(((uint64_t)(uint32_t)r->k_hi << 32) | r->k_lo) + (int64_t)acc * r->multiplier;
  v -= (int64_t)((uint32_t)acc & (negative_fix << 31));
  return (int32_t)((uint64_t)v >> 32) >> r->high_shift;
}

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

/* Where a kernel's outputs go and how they are requantized. */
typedef struct {
  const tinyaot_qoutput *q;
  const tinyaot_dsp_requant *rq; /* NULL: tinyaot_qoutput_store_at for every channel */
  const int32_t *generic;        /* channels the fast formulation leaves to tinyaot_qoutput_store_at */
  int32_t generic_count;
  const int32_t *weight_zero_point; /* [out_c] or NULL */
  void *output;
} tinyaot_dsp_out;

/* rq: out_c records, generic: out_c indices (the kernel's scratch). */
static inline void tinyaot_dsp_out_prepare(tinyaot_dsp_out *o, const tinyaot_qoutput *q, int32_t out_c,
                                           tinyaot_dsp_requant *rq, int32_t *generic,
                                           const int32_t *weight_zero_point, void *output) {
  const int32_t n = tinyaot_dsp_requant_prepare(q, out_c, rq, generic);
  o->q = q;
  o->rq = n < 0 ? NULL : rq;
  o->generic = generic;
  o->generic_count = n < 0 ? 0 : n;
  o->weight_zero_point = weight_zero_point;
  o->output = output;
}

/* Requantizes and stores the accumulators of channels c0 .. c1-1 of one output row (outputs
 * index + c), first subtracting w_zp[c] * a_sum when there are weight zero points. */
static inline void tinyaot_dsp_finish(const tinyaot_dsp_out *o, int32_t *acc, int32_t c0, int32_t c1, size_t index,
                                      int32_t a_sum) {
  const tinyaot_qoutput *q = o->q;
  int32_t c;
  if (o->weight_zero_point != NULL) {
    for (c = c0; c < c1; ++c) acc[c] -= o->weight_zero_point[c] * a_sum;
  }
  if (o->rq == NULL) {
    for (c = c0; c < c1; ++c) tinyaot_qoutput_store_at(q, c, acc[c], o->output, index + (size_t)c);
    return;
  }
  {
    const tinyaot_dsp_requant *r = o->rq + c0;
    const uint32_t negative_fix = q->rounding == TINYAOT_ROUND_TFLITE ? 1u : 0u;
    const int32_t zero_point = q->zero_point, lo = q->act_min, hi = q->act_max;
    int8_t *dst = (int8_t *)o->output + index + c0;
    const int32_t *a = acc + c0, *end = acc + c1;
    if (lo <= -128 && hi >= 127) {
      /* The whole int8 range (no activation, or a ReLU whose zero point is -128): one SSAT. */
      for (; a < end; ++a, ++r) {
        *dst++ = (int8_t)tinyaot_ssat8(tinyaot_dsp_requant_apply(*a, r, negative_fix) + zero_point);
      }
    } else {
      for (; a < end; ++a, ++r) {
        int32_t y = tinyaot_ssat8(tinyaot_dsp_requant_apply(*a, r, negative_fix) + zero_point);
        if (y < lo) y = lo;
        if (y > hi) y = hi;
        *dst++ = (int8_t)y;
      }
    }
  }
  for (c = 0; c < o->generic_count; ++c) {
    const int32_t channel = o->generic[c];
    if (channel >= c0 && channel < c1) {
      tinyaot_qoutput_store_at(q, channel, acc[channel], o->output, index + (size_t)channel);
    }
  }
}

/* Accumulators of a row of depth < 4 (too short for a group) times the weight rows c0 .. c1-1:
 * plain C, so that the optimized kernels never need the portable ones. */
static inline void tinyaot_dsp_rows_short(const int32_t *bias, const int8_t *a, const int8_t *weights, int32_t depth,
                                          int32_t c0, int32_t c1, int32_t *acc) {
  int32_t c, k;
  for (c = c0; c < c1; ++c) {
    const int8_t *w = weights + (size_t)c * depth;
    int32_t sum = bias[c];
    for (k = 0; k < depth; ++k) sum += a[k] * w[k];
    acc[c] = sum;
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

static TINYAOT_DSP_NOINLINE void tinyaot_dsp_rows2_blocks(tinyaot_dsp_rows2_state *st) {
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
      "ldr %[t], [%[w0]], #4\n\t"
      "ldr %[v], [%[w1]], #4\n\t"
      "ldrd %[x0], %[x1], [%[a]], #8\n\t"
      "sxtb16 %[we], %[t]\n\t"
      "sxtb16 %[ve], %[v]\n\t"
      "smlad %[r00], %[x0], %[we], %[r00]\n\t"
      "smlad %[r01], %[x0], %[ve], %[r01]\n\t"
      "sxtb16 %[t], %[t], ror #8\n\t"
      "sxtb16 %[v], %[v], ror #8\n\t"
      "smlad %[r00], %[x1], %[t], %[r00]\n\t"
      "smlad %[r01], %[x1], %[v], %[r01]\n\t"
      "ldrd %[x0], %[x1], [%[a]], #8\n\t"
      "smlad %[r10], %[x0], %[we], %[r10]\n\t"
      "smlad %[r11], %[x0], %[ve], %[r11]\n\t"
      "smlad %[r10], %[x1], %[t], %[r10]\n\t"
      "smlad %[r11], %[x1], %[v], %[r11]\n\t"
      "cmp %[n], #0\n\t"
      "beq 4f\n\t"
      "3:\n\t"
      "ldr %[t], [%[w0]], #4\n\t"
      "ldr %[v], [%[w1]], #4\n\t"
      "ldrd %[x0], %[x1], [%[a]], #8\n\t"
      "sxtb16 %[we], %[t]\n\t"
      "sxtb16 %[ve], %[v]\n\t"
      "smlad %[r00], %[x0], %[we], %[r00]\n\t"
      "smlad %[r01], %[x0], %[ve], %[r01]\n\t"
      "sxtb16 %[t], %[t], ror #8\n\t"
      "sxtb16 %[v], %[v], ror #8\n\t"
      "smlad %[r00], %[x1], %[t], %[r00]\n\t"
      "smlad %[r01], %[x1], %[v], %[r01]\n\t"
      "ldrd %[x0], %[x1], [%[a]], #8\n\t"
      "smlad %[r10], %[x0], %[we], %[r10]\n\t"
      "smlad %[r11], %[x0], %[ve], %[r11]\n\t"
      "smlad %[r10], %[x1], %[t], %[r10]\n\t"
      "smlad %[r11], %[x1], %[v], %[r11]\n\t"
      "ldr %[t], [%[w0]], #4\n\t"
      "ldr %[v], [%[w1]], #4\n\t"
      "ldrd %[x0], %[x1], [%[a]], #8\n\t"
      "sxtb16 %[we], %[t]\n\t"
      "sxtb16 %[ve], %[v]\n\t"
      "smlad %[r00], %[x0], %[we], %[r00]\n\t"
      "smlad %[r01], %[x0], %[ve], %[r01]\n\t"
      "sxtb16 %[t], %[t], ror #8\n\t"
      "sxtb16 %[v], %[v], ror #8\n\t"
      "smlad %[r00], %[x1], %[t], %[r00]\n\t"
      "smlad %[r01], %[x1], %[v], %[r01]\n\t"
      "ldrd %[x0], %[x1], [%[a]], #8\n\t"
      "smlad %[r10], %[x0], %[we], %[r10]\n\t"
      "smlad %[r11], %[x0], %[ve], %[r11]\n\t"
      "smlad %[r10], %[x1], %[t], %[r10]\n\t"
      "smlad %[r11], %[x1], %[v], %[r11]\n\t"
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

/* Two expanded rows (interleaved, tinyaot_dsp_expand with stride 4) times the weight rows
 * c0 .. c1-1 ([c][depth], depth >= 4): outputs at index0 + c and index1 + c. Blocks of 2 rows
 * x 2 channels reuse every activation and weight word twice. a_sum0/1: the rows' sums when
 * there are weight zero points. */
static inline void tinyaot_dsp_rows2(const int32_t *bias, const uint32_t *s, const int8_t *weights, int32_t depth,
                                     int32_t c0, int32_t c1, int32_t *acc_row0, int32_t *acc_row1) {
  const int32_t full = depth >> 2, rest = depth & 3, pairs = (c1 - c0) >> 1;
  int32_t c = c0 + 2 * pairs, g;
  if (pairs > 0) {
    tinyaot_dsp_rows2_state st;
    st.bias = bias + c0;
    st.acc0 = acc_row0 + c0;
    st.acc1 = acc_row1 + c0;
    st.s = s;
    st.groups = full;
    st.depth = depth;
    st.pairs = pairs; /* counted down to 0 by the loop */
    st.w0 = weights + (size_t)c0 * depth;
    st.rest = rest;
    tinyaot_dsp_rows2_blocks(&st);
    if (rest) {
      /* The last group: the word ending the weight row, against the zero-padded values. */
      const uint32_t *a = s + 4 * full;
      int32_t k;
      for (k = c0; k < c; ++k) {
        const uint32_t w = tinyaot_dsp_load32(weights + (size_t)k * depth + depth - 4);
        const uint32_t we = tinyaot_sxtb16(w), wo = tinyaot_sxtb16_odd(w);
        acc_row0[k] = tinyaot_smlad(a[1], wo, tinyaot_smlad(a[0], we, acc_row0[k]));
        acc_row1[k] = tinyaot_smlad(a[3], wo, tinyaot_smlad(a[2], we, acc_row1[k]));
      }
    }
  }
  if (c < c1) {
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
static TINYAOT_DSP_NOINLINE void tinyaot_dsp_mac1x4(const uint32_t *a, const int8_t *w0, int32_t depth, int32_t groups,
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

/* One expanded row (tinyaot_dsp_expand with stride 2) times the weight rows c0 .. c1-1, in
 * blocks of 4 channels sharing each activation word (the last 1 to 3 channels one by one). */
static inline void tinyaot_dsp_rows1(const int32_t *bias, const uint32_t *s, const int8_t *weights, int32_t depth,
                                     int32_t c0, int32_t c1, int32_t *acc_row0) {
  const int32_t full = depth >> 2, rest = depth & 3;
  int32_t c, g, k;
  for (c = c0; c + 3 < c1 && full > 0; c += 4) {
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
  for (; c < c1; ++c) {
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

#endif
