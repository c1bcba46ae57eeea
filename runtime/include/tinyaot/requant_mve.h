/* Requantization of four output channels at once with Helium (MVE), for the kernels/<k>_mve.c
 * files: bit for bit tinyaot_qoutput_store (quantized.h) on each lane.
 *
 * TINYAOT_ROUND_TFLITE: y = rdbpot(srdhm(acc << left, m), right). VQRDMULH is srdhm exactly
 * (floor((acc * m + 2^30) / 2^31), saturating the one overflowing case). rdbpot rounds halves
 * away from zero while VRSHL (a rounding shift by a negative amount) rounds them up; taking 1
 * from a negative value first turns one into the other: floor((x - 1 + 2^(n-1)) / 2^n) is
 * rdbpot(x, n) for x < 0, n > 0 (and saturating x - 1 at INT32_MIN changes nothing).
 *
 * TINYAOT_ROUND_TFLITE_SINGLE: y = floor((acc * m + 2^(t-1)) / 2^t), t = 31 - shift. For
 * t >= 33, with h = floor(acc * m / 2^32) (VMULH), y = floor((h + 2^(t-33)) / 2^(t-32)): VRSHL
 * of h by shift + 1 (the low 32 bits of the product cannot carry into the rounding term, a
 * multiple of 2^32). Channels with t < 33 (a scale of 1/4 or more, rare) take the scalar path.
 *
 * TINYAOT_ROUND_ORT (onnxruntime's float emulation) stays scalar. */
#ifndef TINYAOT_REQUANT_MVE_H
#define TINYAOT_REQUANT_MVE_H

#include <arm_mve.h>
#include <stddef.h>
#include <stdint.h>

#include "tinyaot/quantized.h"
#include "tinyaot/tinyaot.h" /* TINYAOT_NOINLINE */

/* What the requantization of channels c .. c + count - 1 needs, loaded once per block. */
typedef struct {
  int32_t count;           /* 1..4 channels present */
  mve_pred16_t lanes;      /* their 32-bit lanes */
  int32_t vector;          /* 0: lane by lane with tinyaot_qoutput_store */
  int32x4_t multiplier;
  int32x4_t left;          /* TFLITE: max(shift, 0); SINGLE: shift + 1 (negative) */
  int32x4_t right;         /* TFLITE: min(shift, 0), minus the right shift */
  int32x4_t act_min, act_max;
} tinyaot_mve_requant;

static inline tinyaot_mve_requant tinyaot_mve_requant_prepare(const tinyaot_qoutput *q, int32_t c, int32_t count) {
  tinyaot_mve_requant r;
  r.count = count;
  r.lanes = vctp32q((uint32_t)count);
  r.vector = 0;
  r.multiplier = vdupq_n_s32(0);
  r.left = vdupq_n_s32(0);
  r.right = vdupq_n_s32(0);
  r.act_min = vdupq_n_s32(q->act_min);
  r.act_max = vdupq_n_s32(q->act_max);
  if (q->multiplier != NULL && q->rounding != TINYAOT_ROUND_ORT) {
    const int32x4_t shift = vldrwq_z_s32(q->shift + c, r.lanes);
    r.multiplier = vldrwq_z_s32(q->multiplier + c, r.lanes);
    if (q->rounding == TINYAOT_ROUND_TFLITE) {
      r.left = vmaxq_s32(shift, vdupq_n_s32(0));
      r.right = vminq_s32(shift, vdupq_n_s32(0));
      r.vector = 1;
    } else {
      r.left = vaddq_n_s32(shift, 1);
      /* every present channel needs t = 31 - shift >= 33 */
      r.vector = vmaxvq_p_s32(INT32_MIN, shift, r.lanes) <= -2;
    }
  }
  return r;
}

/* Stores the four accumulators of channels c.. at output index `index` (int8, or int32 when
 * q->multiplier is NULL), lanes beyond r->count untouched. */
static inline void tinyaot_mve_qoutput_store4(const tinyaot_mve_requant *r, const tinyaot_qoutput *q, int32_t c,
                                              int32x4_t acc, void *output, size_t index) {
  int32x4_t y;
  if (q->multiplier == NULL) {
    vstrwq_p_s32((int32_t *)output + index, acc, r->lanes);
    return;
  }
  if (!r->vector) {
    int32_t lane[4];
    int32_t i;
    vstrwq_s32(lane, acc);
    for (i = 0; i < r->count; ++i) tinyaot_qoutput_store(q, c + i, lane[i], output, index + (size_t)i);
    return;
  }
  if (q->rounding == TINYAOT_ROUND_TFLITE) {
    y = vqrdmulhq_s32(vshlq_s32(acc, r->left), r->multiplier);
    y = vqaddq_s32(y, vshrq_n_s32(vandq_s32(y, r->right), 31));
    y = vrshlq_s32(y, r->right);
  } else {
    y = vrshlq_s32(vmulhq_s32(acc, r->multiplier), r->left);
  }
  y = vqaddq_n_s32(y, q->zero_point);
  y = vminq_s32(vmaxq_s32(y, r->act_min), r->act_max);
  vstrbq_p_s32((int8_t *)output + index, y, r->lanes);
}

/* Requantizes n accumulator vectors of channels c .. c + count - 1 (count 1..4; all 4 lanes
 * of each vector readable): vector i at acc + i * acc_stride, stored at output index
 * index + i * out_stride. For the kernels that accumulate a run of outputs into their
 * scratch buffer first: one call per run, its loops (11 or 12 instructions per vector) keep
 * the constants in vector registers, the accumulation loops have all 8 to themselves. */
/* Not inlined (its loops want the vector registers the caller's loops hold); `unused`: not
 * every <k>_mve.c calls it. */
__attribute__((unused)) static TINYAOT_NOINLINE void tinyaot_mve_requantize_run(const tinyaot_qoutput *q, int32_t c,
                                                                                int32_t count, const int32_t *acc,
                                                                                int32_t acc_stride, int32_t n,
                                                                                int32_t out_stride, void *output,
                                                                                size_t index) {
  const tinyaot_mve_requant r = tinyaot_mve_requant_prepare(q, c, count);
  const int32_t zero_point = q->zero_point;
  int8_t *out = (int8_t *)output + index;
  int32_t i;
  if (count < 4 || q->multiplier == NULL || !r.vector) {
    for (i = 0; i < n; ++i, acc += acc_stride, index += (size_t)out_stride) {
      tinyaot_mve_qoutput_store4(&r, q, c, vldrwq_s32(acc), output, index);
    }
  } else if (q->rounding == TINYAOT_ROUND_TFLITE && vmaxvq_s32(0, r.left) == 0) {
    /* no left shift (scales below 1, the usual case) */
    for (i = 0; i < n; ++i, acc += acc_stride, out += out_stride) {
      int32x4_t y = vqrdmulhq_s32(vldrwq_s32(acc), r.multiplier);
      y = vqaddq_s32(y, vshrq_n_s32(vandq_s32(y, r.right), 31));
      y = vqaddq_n_s32(vrshlq_s32(y, r.right), zero_point);
      vstrbq_s32(out, vminq_s32(vmaxq_s32(y, r.act_min), r.act_max));
    }
  } else if (q->rounding == TINYAOT_ROUND_TFLITE) {
    for (i = 0; i < n; ++i, acc += acc_stride, out += out_stride) {
      int32x4_t y = vqrdmulhq_s32(vshlq_s32(vldrwq_s32(acc), r.left), r.multiplier);
      y = vqaddq_s32(y, vshrq_n_s32(vandq_s32(y, r.right), 31));
      y = vqaddq_n_s32(vrshlq_s32(y, r.right), zero_point);
      vstrbq_s32(out, vminq_s32(vmaxq_s32(y, r.act_min), r.act_max));
    }
  } else {
    for (i = 0; i < n; ++i, acc += acc_stride, out += out_stride) {
      int32x4_t y = vqaddq_n_s32(vrshlq_s32(vmulhq_s32(vldrwq_s32(acc), r.multiplier), r.left), zero_point);
      vstrbq_s32(out, vminq_s32(vmaxq_s32(y, r.act_min), r.act_max));
    }
  }
}

/* Four scalar accumulators as one vector. */
static inline int32x4_t tinyaot_mve_vector4(int32_t a0, int32_t a1, int32_t a2, int32_t a3) {
  int32x4_t v = vdupq_n_s32(a0);
  v = vsetq_lane_s32(a1, v, 1);
  v = vsetq_lane_s32(a2, v, 2);
  return vsetq_lane_s32(a3, v, 3);
}

#endif
