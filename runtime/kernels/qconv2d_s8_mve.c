/* tinyaot_qconv2d_s8 with Helium (MVE). Per output pixel the window is gathered into a
 * contiguous column in the scratch buffer (im2col), taps outside the input holding the input zero
 * point: with the zero points folded into folded_bias such a tap contributes exactly what
 * the reference's (x - x_zp) * (w - w_zp) == 0 does, so padded and inner windows take the same
 * path. The column times four output channels' weights (OHWI: each channel's taps are
 * contiguous, in the column's order) is the fully connected inner loop: VMLADAVA, 16 MACs,
 * one column load for four weight loads, then one vector requantization (requant_mve.h).
 * Grouped convolutions take tinyaot_qconv2d_s8_ref.
 * Bit for bit tinyaot_qconv2d_s8_ref. */
#include "tinyaot/quantized.h"
#include "tinyaot/simd.h"

#if TINYAOT_PATH_QCONV2D_S8 == TINYAOT_PATH_MVE
#include <arm_mve.h>
#include <stddef.h>

#include "tinyaot/conv.h" /* tinyaot_window_taps */
#include "tinyaot/requant_mve.h"

static void tinyaot_mve_copy_s8(int8_t *dst, const int8_t *src, int32_t n) {
  int32_t i;
  for (i = 0; i < n; i += 16) {
    const mve_pred16_t lanes = vctp8q((uint32_t)(n - i));
    vstrbq_p_s8(dst + i, vldrbq_z_s8(src + i, lanes), lanes);
  }
}

static void tinyaot_mve_fill_s8(int8_t *dst, int8_t value, int32_t n) {
  const int8x16_t v = vdupq_n_s8(value);
  int32_t i;
  for (i = 0; i < n; i += 16) vstrbq_p_s8(dst + i, v, vctp8q((uint32_t)(n - i)));
}

void tinyaot_qconv2d_s8(const tinyaot_qconv2d_params *p, const int8_t *input, const int8_t *weights, void *output,
                        void *scratch) {
  const int32_t in_c = p->in_c;
  const int32_t row_taps = p->kernel_w * in_c;
  const int32_t taps = p->kernel_h * row_taps;
  const int32_t body = taps & ~15;
  const mve_pred16_t tail = vctp8q((uint32_t)(taps - body));
  const int32_t row_stride = p->in_w * in_c;
  const int8_t x_zp = (int8_t)p->input_zero_point;
  int8_t *const column = (int8_t *)scratch; /* taps bytes of TINYAOT_QCONV2D_S8_SCRATCH */
  size_t index = 0;
  int32_t b, oh, ow, kh, kw, n, k;
  if (p->groups != 1) {
    tinyaot_qconv2d_s8_ref(p, input, weights, output, scratch);
    return;
  }
  for (b = 0; b < p->batch; ++b) {
    const int8_t *in_b = input + (size_t)b * p->in_h * row_stride;
    for (oh = 0; oh < p->out_h; ++oh) {
      const int32_t base_h = oh * p->stride_h - p->pad_top;
      int32_t kh0, kh1;
      tinyaot_window_taps(base_h, p->dilation_h, p->kernel_h, p->in_h, &kh0, &kh1);
      for (ow = 0; ow < p->out_w; ++ow) {
        const int32_t base_w = ow * p->stride_w - p->pad_left;
        int32_t kw0, kw1, x_sum = 0;
        tinyaot_window_taps(base_w, p->dilation_w, p->kernel_w, p->in_w, &kw0, &kw1);
        for (kh = 0; kh < p->kernel_h; ++kh) {
          int8_t *dst = column + kh * row_taps;
          const int8_t *row = in_b + (size_t)(base_h + kh * p->dilation_h) * row_stride;
          if (kh < kh0 || kh >= kh1) {
            tinyaot_mve_fill_s8(dst, x_zp, row_taps);
          } else if (p->dilation_w == 1 && kw0 == 0 && kw1 == p->kernel_w) {
            tinyaot_mve_copy_s8(dst, row + base_w * in_c, row_taps); /* the window's row is contiguous */
          } else {
            for (kw = 0; kw < p->kernel_w; ++kw) {
              if (kw < kw0 || kw >= kw1) {
                tinyaot_mve_fill_s8(dst + kw * in_c, x_zp, in_c);
              } else {
                tinyaot_mve_copy_s8(dst + kw * in_c, row + (base_w + kw * p->dilation_w) * in_c, in_c);
              }
            }
          }
        }
        if (p->weight_zero_point != NULL) {
          for (k = 0; k < taps; k += 16) {
            x_sum = vaddvaq_s8(x_sum, vldrbq_z_s8(column + k, vctp8q((uint32_t)(taps - k))));
          }
        }
        for (n = 0; n < p->out_c; n += 4) {
          const int32_t count = p->out_c - n < 4 ? p->out_c - n : 4;
          const tinyaot_mve_requant rq = tinyaot_mve_requant_prepare(&p->out, n, count);
          /* Missing channels of the last block repeat the first: computed, never stored. */
          const int8_t *w0 = weights + (size_t)n * taps;
          const int8_t *w1 = count > 1 ? w0 + taps : w0;
          const int8_t *w2 = count > 2 ? w1 + taps : w0;
          const int8_t *w3 = count > 3 ? w2 + taps : w0;
          int32_t acc0 = 0, acc1 = 0, acc2 = 0, acc3 = 0;
          int32x4_t acc;
          for (k = 0; k < body; k += 16) {
            const int8x16_t x = vldrbq_s8(column + k);
            acc0 = vmladavaq_s8(acc0, x, vldrbq_s8(w0 + k));
            acc1 = vmladavaq_s8(acc1, x, vldrbq_s8(w1 + k));
            acc2 = vmladavaq_s8(acc2, x, vldrbq_s8(w2 + k));
            acc3 = vmladavaq_s8(acc3, x, vldrbq_s8(w3 + k));
          }
          if (body < taps) {
            const int8x16_t x = vldrbq_z_s8(column + body, tail);
            acc0 = vmladavaq_s8(acc0, x, vldrbq_z_s8(w0 + body, tail));
            acc1 = vmladavaq_s8(acc1, x, vldrbq_z_s8(w1 + body, tail));
            acc2 = vmladavaq_s8(acc2, x, vldrbq_z_s8(w2 + body, tail));
            acc3 = vmladavaq_s8(acc3, x, vldrbq_z_s8(w3 + body, tail));
          }
          acc = vaddq_s32(tinyaot_mve_vector4(acc0, acc1, acc2, acc3), vldrwq_z_s32(p->folded_bias + n, rq.lanes));
          if (p->weight_zero_point != NULL) {
            acc = vmlaq_n_s32(acc, vldrwq_z_s32(p->weight_zero_point + n, rq.lanes), -x_sum);
          }
          tinyaot_mve_qoutput_store4(&rq, &p->out, n, acc, output, index + (size_t)n);
        }
        index += (size_t)p->out_c;
      }
    }
  }
}
#endif
