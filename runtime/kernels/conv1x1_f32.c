#include <stddef.h>

#include "tinyaot/conv.h"

/* A matrix product over pixels, register-blocked as in conv2d_f32.c: 4 pixels x 4 output
 * channels share one sweep over the input channels, so every activation loaded feeds 4
 * multiply-adds and every weight 4, in 16 accumulators that stay in FPU registers. The
 * sweep reads through post-incremented pointers (vldmia rN!, so no address arithmetic) and
 * is deliberately not unrolled: gcc turns an unrolled body into offset loads plus pointer
 * adds, which costs more. Each accumulator sums its products in channel order: host and
 * target agree bit for bit. */

/* y[0..3] = act(a0..a3): the block's accumulators go straight from registers to the output. */
static inline void store_4(float *y, float a0, float a1, float a2, float a3, const tinyaot_act_f32 *act) {
  y[0] = tinyaot_act_f32_apply(a0, act);
  y[1] = tinyaot_act_f32_apply(a1, act);
  y[2] = tinyaot_act_f32_apply(a2, act);
  y[3] = tinyaot_act_f32_apply(a3, act);
}

/* Output channels o..o+3 (weights at w + o * cin, bias b[o]) of pixels p = 0..3 (input at
 * x + p * cin, output at y + p * cout). */
static void block_4x4(const float *x, const float *w, int32_t cin, const float *b, float *y, int32_t cout,
                      const tinyaot_act_f32 *act) {
  const float *restrict x0 = x;
  const float *restrict x1 = x0 + cin;
  const float *restrict x2 = x1 + cin;
  const float *restrict x3 = x2 + cin;
  const float *restrict w0 = w;
  const float *restrict w1 = w0 + cin;
  const float *restrict w2 = w1 + cin;
  const float *restrict w3 = w2 + cin;
  float a00 = b[0], a01 = b[1], a02 = b[2], a03 = b[3];
  float a10 = a00, a11 = a01, a12 = a02, a13 = a03;
  float a20 = a00, a21 = a01, a22 = a02, a23 = a03;
  float a30 = a00, a31 = a01, a32 = a02, a33 = a03;
  int32_t k;
  for (k = cin; k > 0; --k) {
    const float xa = *x0++, xb = *x1++, xc = *x2++, xd = *x3++;
    const float wa = *w0++, wb = *w1++, wc = *w2++, wd = *w3++;
    a00 += xa * wa; a01 += xa * wb; a02 += xa * wc; a03 += xa * wd;
    a10 += xb * wa; a11 += xb * wb; a12 += xb * wc; a13 += xb * wd;
    a20 += xc * wa; a21 += xc * wb; a22 += xc * wc; a23 += xc * wd;
    a30 += xd * wa; a31 += xd * wb; a32 += xd * wc; a33 += xd * wd;
  }
  store_4(y, a00, a01, a02, a03, act);
  store_4(y + cout, a10, a11, a12, a13, act);
  store_4(y + 2 * (size_t)cout, a20, a21, a22, a23, act);
  store_4(y + 3 * (size_t)cout, a30, a31, a32, a33, act);
}

/* One pixel x 4 output channels (the last pixels when their count is not a multiple of 4). */
static void block_1x4(const float *x, const float *w, int32_t cin, const float *b, float *y,
                      const tinyaot_act_f32 *act) {
  const float *restrict w0 = w;
  const float *restrict w1 = w0 + cin;
  const float *restrict w2 = w1 + cin;
  const float *restrict w3 = w2 + cin;
  float a0 = b[0], a1 = b[1], a2 = b[2], a3 = b[3];
  int32_t c;
  for (c = 0; c < cin; ++c) {
    const float xv = x[c];
    a0 += xv * w0[c];
    a1 += xv * w1[c];
    a2 += xv * w2[c];
    a3 += xv * w3[c];
  }
  store_4(y, a0, a1, a2, a3, act);
}

static float dot_f32(const float *restrict x, const float *restrict w, int32_t n, float acc) {
  int32_t i;
  for (i = 0; i < n; ++i) acc += x[i] * w[i];
  return acc;
}

void tinyaot_conv1x1_f32(const tinyaot_conv2d_f32_params *p, const float *input, const float *weights,
                         const float *bias, float *output) {
  static const float zeros[4] = {0.0f, 0.0f, 0.0f, 0.0f};
  const int32_t pixels = p->batch * p->in_h * p->in_w;
  const int32_t cin = p->in_c;
  const int32_t cout = p->out_c;
  int32_t px, o, i;
  for (px = 0; px < pixels;) {
    const int32_t npx = pixels - px >= 4 ? 4 : 1;
    const float *x = input + (size_t)px * cin;
    float *y = output + (size_t)px * cout;
    for (o = 0; o + 4 <= cout; o += 4) {
      const float *w = weights + (size_t)o * cin;
      const float *b = bias != NULL ? bias + o : zeros;
      if (npx == 4) {
        block_4x4(x, w, cin, b, y + o, cout, &p->act);
      } else {
        block_1x4(x, w, cin, b, y + o, &p->act);
      }
    }
    for (; o < cout; ++o) {
      const float *w = weights + (size_t)o * cin;
      for (i = 0; i < npx; ++i) {
        const float acc = dot_f32(x + (size_t)i * cin, w, cin, bias != NULL ? bias[o] : 0.0f);
        y[(size_t)i * cout + o] = tinyaot_act_f32_apply(acc, &p->act);
      }
    }
    px += npx;
  }
}
