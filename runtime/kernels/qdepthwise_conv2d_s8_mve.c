/* tinyaot_qdepthwise_conv2d_s8 with Helium (MVE). The main path (8 or more channels, no
 * weight zero points) takes eight channels at a time in int16 lanes, see below. Fewer than 8
 * channels, weight zero points, or a scratch buffer too small for it take dw_s32x4: four
 * channels per int32 vector (VLDRB.S32), taps outside the input counted as the input zero
 * point through the folded bias. Channel multipliers other than 1 and fewer than 4 channels
 * take tinyaot_qdepthwise_conv2d_s8_ref. Bit for bit tinyaot_qdepthwise_conv2d_s8_ref. */
#include "tinyaot/quantized.h"
#include "tinyaot/simd.h"

#if TINYAOT_PATH_QDEPTHWISE_CONV2D_S8 == TINYAOT_PATH_MVE
#include <arm_mve.h>
#include <stddef.h>
#include <string.h> /* memmove */

#include "tinyaot/conv.h" /* tinyaot_window_taps */
#include "tinyaot/requant_mve.h"
#include "tinyaot/tinyaot.h" /* TINYAOT_NOINLINE */

/* The 8-channel path keeps a pointer per kernel row on the stack. */
#define TINYAOT_DW_MAX_KERNEL_H 16

/* Four channels per int32 vector: fewer than eight channels or weight zero points. */
static void dw_s32x4(const tinyaot_qconv2d_params *p, const int8_t *input, const int8_t *weights, void *output) {
  const int32_t channels = p->out_c;
  const int32_t row_stride = p->in_w * channels;
  const int32_t x_zp = p->input_zero_point;
  const int32_t dil_w = p->dilation_w * channels;
  const int32_t dil_h = p->dilation_h * row_stride;
  int32_t c, b, oh, ow, kh, kw, t;
  /* The last block overlaps the one before when channels % 4 != 0: every load is whole and
   * the channels computed twice get the same value twice. */
  for (c = 0; c < channels; c += 4) {
    const int32_t c0 = c + 4 <= channels ? c : channels - 4;
    const tinyaot_mve_requant rq = tinyaot_mve_requant_prepare(&p->out, c0, 4);
    const int32x4_t bias = vldrwq_s32(p->folded_bias + c0);
    const int8_t *w_c = weights + c0;
    int32x4_t w_all = vdupq_n_s32(0), bias_padded;
    size_t index = (size_t)c0;
    for (t = 0; t < p->kernel_h * p->kernel_w; ++t) w_all = vaddq_s32(w_all, vldrbq_s32(w_c + t * channels));
    /* A window over the padding: taps outside count as x_zp, so
     * acc = folded_bias + x_zp * sum(w) + sum over the inner taps of (x - x_zp) * w. */
    bias_padded = vmlaq_n_s32(bias, w_all, x_zp);
    for (b = 0; b < p->batch; ++b) {
      const int8_t *in_c = input + (size_t)b * p->in_h * row_stride + c0;
      for (oh = 0; oh < p->out_h; ++oh) {
        const int32_t base_h = oh * p->stride_h - p->pad_top;
        int32_t kh0, kh1;
        tinyaot_window_taps(base_h, p->dilation_h, p->kernel_h, p->in_h, &kh0, &kh1);
        for (ow = 0; ow < p->out_w; ++ow) {
          const int32_t base_w = ow * p->stride_w - p->pad_left;
          int32_t kw0, kw1;
          int32x4_t acc;
          tinyaot_window_taps(base_w, p->dilation_w, p->kernel_w, p->in_w, &kw0, &kw1);
          if (kh0 == 0 && kh1 == p->kernel_h && kw0 == 0 && kw1 == p->kernel_w) {
            const int8_t *x_row = in_c + (size_t)base_h * row_stride + base_w * channels;
            const int8_t *w = w_c; /* the taps' weights follow each other */
            acc = bias;
            for (kh = 0; kh < p->kernel_h; ++kh, x_row += dil_h) {
              const int8_t *x = x_row;
              for (kw = 0; kw < p->kernel_w; ++kw, x += dil_w, w += channels) {
                acc = vaddq_s32(acc, vmulq_s32(vldrbq_s32(x), vldrbq_s32(w)));
              }
            }
          } else {
            acc = bias_padded;
            for (kh = kh0; kh < kh1; ++kh) {
              const int8_t *x =
                  in_c + (size_t)(base_h + kh * p->dilation_h) * row_stride + (base_w + kw0 * p->dilation_w) * channels;
              const int8_t *w = w_c + (size_t)(kh * p->kernel_w + kw0) * channels;
              for (kw = kw0; kw < kw1; ++kw) {
                acc = vaddq_s32(acc, vmulq_s32(vsubq_s32(vldrbq_s32(x), vdupq_n_s32(x_zp)), vldrbq_s32(w)));
                x += dil_w;
                w += channels;
              }
            }
          }
          if (p->weight_zero_point != NULL) {
            /* - w_zp * sum(x), the taps outside counting x_zp */
            int32x4_t x_sum = vdupq_n_s32((p->kernel_h * p->kernel_w - (kh1 - kh0) * (kw1 - kw0)) * x_zp);
            for (kh = kh0; kh < kh1; ++kh) {
              const int8_t *x =
                  in_c + (size_t)(base_h + kh * p->dilation_h) * row_stride + (base_w + kw0 * p->dilation_w) * channels;
              for (kw = kw0; kw < kw1; ++kw, x += dil_w) x_sum = vaddq_s32(x_sum, vldrbq_s32(x));
            }
            acc = vsubq_s32(acc, vmulq_s32(vldrwq_s32(p->weight_zero_point + c0), x_sum));
          }
          tinyaot_mve_qoutput_store4(&rq, &p->out, c0, acc, output, index);
          index += (size_t)channels;
        }
      }
    }
  }
}
/* Eight channels, int16 lanes: VLDRB.S16 widens 8 input and 8 weight bytes, VMULLB/VMULLT
 * multiply the even and the odd channels into two int32 vectors (6 instructions per tap and
 * 8 channels, against 4 per tap and 4 channels with int32 lanes). Per 8-channel block the
 * scratch buffer (TINYAOT_QDEPTHWISE_CONV2D_S8_SCRATCH bytes) holds, in this order:
 * - the block's weights, tap after tap (8 bytes each), so that a tap's offset is an immediate;
 * - a band of input rows, 8 bytes per column, the padding columns and rows holding the input
 *   zero point: a tap there adds x_zp * w, which folded_bias (= bias - x_zp * sum(w) when the
 *   weight zero points are 0) cancels, so every window is a plain sum of x * w with no bounds
 *   check. The band holds the consecutive rows of a group of output rows, as many as fit
 *   next to their accumulators (the whole padded plane when it fits: one accumulation call
 *   for many output rows, so small planes like KWS's 25x5 pay the per-call costs rarely);
 *   the rows the next group shares move to the band's top, so each input row is copied once
 *   and never read again after the outputs over it are written (planner.py's overlap). When
 *   the band holds fewer than two output rows: a ring of kernel_h rows if it fits, slot
 *   (row + pad_top) mod kernel_h, so that with dilation 1 each input row is copied once;
 * - the int32 accumulators of a run of output pixels, 8 per pixel in channel order (VST2),
 *   which tinyaot_mve_requantize_run then requantizes four channels at a time: each loop has
 *   the 8 vector registers to itself.
 * 3x3 windows with dilation 1 and stride 1 or 2 (the MobileNet / DS-CNN case) run an inline
 * assembly loop: 60 instructions per pixel and 8 channels (72 MACs). */
typedef struct {
  int32_t channels, in_h, in_w, kernel_h, kernel_w, dil_h, dil_w, stride_w, pad_left, x_zp;
  int32_t span; /* band columns: input columns -pad_left .. (out_w - 1) * stride_w + (kernel_w - 1) * dil_w - pad_left */
} dw_geometry;

/* Sets `columns` band columns from dst to the input zero point. */
static TINYAOT_NOINLINE void dw_fill(int8_t *dst, int32_t columns, int32_t x_zp) {
  const int16x8_t zp = vdupq_n_s16((int16_t)x_zp);
  int32_t j;
  for (j = 0; j < columns; ++j, dst += 8) vstrbq_s16(dst, zp);
}

/* Copies input rows first .. first + n - 1 (inside the input; channels c0 .. c0 + 7 of in_c)
 * into consecutive band rows from dst. Only the band columns over the input are written: the
 * padding columns keep the zero point dw_fill gave them. */
static TINYAOT_NOINLINE void dw_copy_rows(const dw_geometry *g, const int8_t *in_c, int32_t first, int32_t n,
                                          int8_t *dst) {
  const int32_t channels = g->channels, span = g->span, pad_left = g->pad_left;
  /* band columns [left, right) hold input columns 0 .. right - left - 1 */
  const int32_t left = pad_left < span ? pad_left : span;
  const int32_t right = g->in_w + pad_left < span ? g->in_w + pad_left : span;
  const int8_t *row = in_c + (size_t)first * g->in_w * channels;
  int32_t r, j;
  for (r = 0; r < n; ++r, row += (size_t)g->in_w * channels, dst += span * 8) {
    const int8_t *x = row;
    int8_t *d = dst + left * 8;
    for (j = left; j < right; ++j, d += 8, x += channels) vstrbq_s16(d, vldrbq_s16(x));
  }
}

/* One tap of eight channels: x (widened) times the weights at w. The empty asm statement
 * keeps the taps in order, each one's loads after the previous one's sums: GCC's scheduler
 * otherwise hoists a window's loads (or products) first and spills them (Helium has 8
 * vector registers). */
static inline void dw_tap8(int32x4_t *even, int32x4_t *odd, const int8_t *x, const int8_t *w) {
  int16x8_t xv, wv;
  int32x4_t e = *even, o = *odd;
  __asm__ volatile("" : "+w"(e), "+w"(o));
  xv = vldrbq_s16(x);
  wv = vldrbq_s16(w);
  *even = vaddq_s32(e, vmullbq_int_s16(xv, wv));
  *odd = vaddq_s32(o, vmulltq_int_s16(xv, wv));
}

/* The 3x3 window (dilation 1, stride 1 or 2) of `count` pixels in inline assembly: GCC
 * does not keep this loop in the 8 vector registers (it hoists loads and addresses, then
 * spills or copies them). Per pixel: the bias (q6, q7: even and odd channels) as the
 * accumulators q0/q1, per tap VLDRB.S16 of 8 inputs (q2) and 8 weights (q3), VMULLB/VMULLT
 * into q4/q5 and two VADD, then VST20/VST21 put the 8 accumulators back in channel order.
 * The first tap of a kernel row post-increments its row pointer by the stride, the other
 * two read relative to the incremented pointer. Widening loads take a low base register
 * (constraint "l"). */
#define DW_TAP(X, W)                        \
  "vldrb.s16 q2, " X "\n\t"                 \
  "vldrb.s16 q3, [%[w], #" W "]\n\t"        \
  "vmullb.s16 q4, q2, q3\n\t"               \
  "vmullt.s16 q5, q2, q3\n\t"               \
  "vadd.i32 q0, q0, q4\n\t"                 \
  "vadd.i32 q1, q1, q5\n\t"
#define DW_ROW(R, STEP, OFF1, OFF2, W0, W1, W2) \
  DW_TAP("[%[" R "]], #" STEP, W0) DW_TAP("[%[" R "], #" OFF1 "]", W1) DW_TAP("[%[" R "], #" OFF2 "]", W2)
#define DW_3X3_LOOP(STEP, OFF1, OFF2)                                                                          \
  __asm__ volatile("vld20.32 {q6, q7}, [%[bias]]\n\t"                                                          \
                   "vld21.32 {q6, q7}, [%[bias]]\n"                                                            \
                   "1:\n\t"                                                                                    \
                   "vmov q0, q6\n\t"                                                                           \
                   "vmov q1, q7\n\t" DW_ROW("x0", STEP, OFF1, OFF2, "0", "8", "16")                           \
                       DW_ROW("x1", STEP, OFF1, OFF2, "24", "32", "40") DW_ROW("x2", STEP, OFF1, OFF2, "48", "56", \
                                                                            "64") "vst20.32 {q0, q1}, [%[acc]]\n\t" \
                   "vst21.32 {q0, q1}, [%[acc]]!\n\t"                                                          \
                   "subs %[n], %[n], #1\n\t"                                                                   \
                   "bne 1b\n"                                                                                  \
                   : [x0] "+l"(x0), [x1] "+l"(x1), [x2] "+l"(x2), [acc] "+r"(acc), [n] "+r"(n)                 \
                   : [w] "l"(w), [bias] "r"(bias)                                                              \
                   : "q0", "q1", "q2", "q3", "q4", "q5", "q6", "q7", "cc", "memory")

static void dw_3x3_row(const int8_t *x0, const int8_t *x1, const int8_t *x2, const int8_t *w, const int32_t *bias,
                       int32_t n, int32_t *acc, int32_t stride) {
  if (stride == 1) {
    DW_3X3_LOOP("8", "0", "8");
  } else {
    DW_3X3_LOOP("16", "-8", "0");
  }
}

/* Accumulators of `n_rows` output rows of `count` pixels into acc[8 * i ..], pixel by pixel:
 * the first pixel's window starts at band column 0 of rows[0 .. kernel_h - 1], the next
 * output row's `row_step` bytes further. w: the packed weights, bias: folded_bias in channel
 * order. */
static TINYAOT_NOINLINE void dw_accumulate8(const dw_geometry *g, const int8_t *const *rows, const int8_t *w,
                                            const int32_t *bias, int32_t count, int32_t n_rows, int32_t row_step,
                                            int32_t *acc) {
  const int32x4x2_t b = vld2q_s32(bias);
  int32_t r, i, kh, kw;
  if (g->kernel_h == 3 && g->kernel_w == 3 && g->dil_w == 1 && g->stride_w <= 2 && count > 0) {
    for (r = 0; r < n_rows; ++r, acc += 8 * count) {
      const int32_t at = r * row_step;
      dw_3x3_row(rows[0] + at, rows[1] + at, rows[2] + at, w, bias, count, acc, g->stride_w);
    }
    return;
  }
  for (r = 0; r < n_rows; ++r) {
    for (i = 0; i < count; ++i, acc += 8) {
      int32x4x2_t a = b;
      const int8_t *wt = w;
      for (kh = 0; kh < g->kernel_h; ++kh) {
        const int8_t *x = rows[kh] + r * row_step + i * g->stride_w * 8;
        for (kw = 0; kw < g->kernel_w; ++kw, x += g->dil_w * 8, wt += 8) dw_tap8(&a.val[0], &a.val[1], x, wt);
      }
      vst2q_s32(acc, a);
    }
  }
}

/* Output rows per band (0: the band of one row's window does not fit): the band holds
 * (group - 1) * stride_h + (kernel_h - 1) * dilation_h + 1 rows after the packed weights,
 * then the accumulators of group output rows. */
static int32_t dw_band_group(const tinyaot_qconv2d_params *p, const dw_geometry *g, size_t scratch_bytes) {
  const size_t weights = ((size_t)p->kernel_h * p->kernel_w * 8 + 15) & ~(size_t)15;
  int32_t group = 0;
  while (group < p->out_h) {
    const size_t rows = (size_t)group * p->stride_h + (size_t)(p->kernel_h - 1) * g->dil_h + 1;
    if (weights + ((rows * (size_t)g->span * 8 + 15) & ~(size_t)15) + (size_t)(group + 1) * p->out_w * 32 >
        scratch_bytes) {
      break;
    }
    group++;
  }
  return group;
}

void tinyaot_qdepthwise_conv2d_s8(const tinyaot_qconv2d_params *p, const int8_t *input, const int8_t *weights,
                                  void *output, void *scratch) {
  const int32_t channels = p->out_c;
  const tinyaot_qoutput q = p->out; /* a copy: the output stores cannot alias it */
  const int32_t batch = p->batch, out_h = p->out_h, out_w = p->out_w, kernel_h = p->kernel_h;
  const int32_t taps = kernel_h * p->kernel_w;
  const size_t scratch_bytes = (size_t)TINYAOT_QDEPTHWISE_CONV2D_S8_SCRATCH(kernel_h, p->kernel_w, out_h, out_w,
                                                                            p->stride_h, p->stride_w, channels);
  dw_geometry g;
  int8_t *w_packed = (int8_t *)scratch, *band;
  int32_t *tags, *acc;
  const int8_t *rows[TINYAOT_DW_MAX_KERNEL_H];
  size_t band_bytes, row_bytes, fixed;
  int32_t group, banded, ring_fits, band_rows, c, b, oh, t, k;
  if (p->out_c != p->in_c || channels < 4) {
    tinyaot_qdepthwise_conv2d_s8_ref(p, input, weights, output, scratch);
    return;
  }
  g.channels = channels;
  g.in_h = p->in_h;
  g.in_w = p->in_w;
  g.kernel_h = kernel_h;
  g.kernel_w = p->kernel_w;
  g.dil_h = p->dilation_h;
  g.dil_w = p->dilation_w;
  g.stride_w = p->stride_w;
  g.pad_left = p->pad_left;
  g.x_zp = p->input_zero_point;
  g.span = (out_w - 1) * g.stride_w + (g.kernel_w - 1) * g.dil_w + 1;
  row_bytes = (size_t)g.span * 8;
  /* the band: consecutive input rows for a group of output rows (the whole padded plane when
   * it fits), else a ring of kernel_h rows (tags: the input row each slot holds); either
   * leaves room for at least one output row of accumulators, or the block takes dw_s32x4 */
  group = dw_band_group(p, &g, scratch_bytes);
  ring_fits = (((size_t)taps * 8 + (size_t)kernel_h * row_bytes + (size_t)kernel_h * 4 + 15) & ~(size_t)15) +
                  (size_t)out_w * 32 <=
              scratch_bytes;
  /* a band of one output row moves kernel_h - 1 rows per row where the ring copies one: the
   * band's one accumulation call per group pays from two rows (or the whole plane) on */
  banded = group >= 2 || (group == 1 && (out_h == 1 || !ring_fits));
  band_rows = banded ? (group - 1) * p->stride_h + (kernel_h - 1) * g.dil_h + 1 : kernel_h;
  band_bytes = banded ? (size_t)band_rows * row_bytes : (size_t)kernel_h * row_bytes;
  fixed = banded ? ((((size_t)taps * 8 + 15) & ~(size_t)15) + ((band_bytes + 15) & ~(size_t)15))
                    : (((size_t)taps * 8 + band_bytes + (size_t)kernel_h * 4) + 15) & ~(size_t)15;
  if (channels < 8 || p->weight_zero_point != NULL || kernel_h > TINYAOT_DW_MAX_KERNEL_H ||
      fixed + (size_t)out_w * 32 > scratch_bytes) {
    dw_s32x4(p, input, weights, output);
    return;
  }
  band = w_packed + (banded ? (((size_t)taps * 8 + 15) & ~(size_t)15) : (size_t)taps * 8);
  tags = (int32_t *)(void *)(band + band_bytes);
  acc = (int32_t *)(void *)((int8_t *)scratch + fixed);
  /* The last block overlaps the one before when channels % 8 != 0: every load is whole and
   * the channels computed twice get the same value twice. */
  /* the padding columns are the same for every block and row: dw_copy_rows leaves them */
  dw_fill(band, (banded ? band_rows : kernel_h) * g.span, g.x_zp);
  if (!banded) group = (int32_t)((scratch_bytes - fixed) / 32) / out_w; /* ring: rows per run */
  for (c = 0; c < channels; c += 8) {
    const int32_t c0 = c + 8 <= channels ? c : channels - 8;
    for (t = 0; t < taps; ++t) vstrbq_s16(w_packed + t * 8, vldrbq_s16(weights + (size_t)t * channels + c0));
    for (b = 0; b < batch; ++b) {
      const int8_t *in_c = input + (size_t)b * g.in_h * g.in_w * channels + c0;
      if (banded) {
        /* band: each input row is copied once; the rows the next group shares with this one
         * move to the band's top (never read from the input again) */
        int32_t held_top = 0, held = 0;
        for (oh = 0; oh < out_h; oh += group) {
          const int32_t rows_here = out_h - oh < group ? out_h - oh : group;
          const int32_t top = oh * p->stride_h - p->pad_top;
          const int32_t count = (rows_here - 1) * p->stride_h + (kernel_h - 1) * g.dil_h + 1;
          const size_t row_index = ((size_t)(b * out_h + oh) * out_w) * channels + c0;
          int32_t keep = held > 0 ? held_top + held - top : 0, r;
          if (keep > count) keep = count;
          if (keep > 0 && top > held_top) {
            memmove(band, band + (size_t)(top - held_top) * row_bytes, (size_t)keep * row_bytes);
          }
          for (r = keep > 0 ? keep : 0; r < count;) {
            const int32_t row = top + r;
            if (row < 0 || row >= g.in_h) {
              dw_fill(band + (size_t)r * row_bytes, g.span, g.x_zp);
              ++r;
            } else {
              const int32_t n = count - r < g.in_h - row ? count - r : g.in_h - row;
              dw_copy_rows(&g, in_c, row, n, band + (size_t)r * row_bytes);
              r += n;
            }
          }
          held_top = top;
          held = count;
          for (k = 0; k < kernel_h; ++k) rows[k] = band + (size_t)k * g.dil_h * row_bytes;
          dw_accumulate8(&g, rows, w_packed, p->folded_bias + c0, out_w, rows_here,
                         p->stride_h * (int32_t)row_bytes, acc);
          tinyaot_mve_requantize_run(&q, c0, 4, acc, 8, rows_here * out_w, channels, output, row_index);
          tinyaot_mve_requantize_run(&q, c0 + 4, 4, acc + 4, 8, rows_here * out_w, channels, output, row_index + 4);
        }
        continue;
      }
      for (k = 0; k < kernel_h; ++k) tags[k] = INT32_MIN; /* no row held */
      for (oh = 0; oh < out_h; oh += group) {
        /* output rows oh .. oh + group - 1 are consecutive pixels of the output */
        const int32_t rows_here = out_h - oh < group ? out_h - oh : group;
        const size_t row_index = ((size_t)(b * out_h + oh) * out_w) * channels + c0;
        int32_t r;
        for (r = 0; r < rows_here; ++r) {
          const int32_t base_h = (oh + r) * p->stride_h - p->pad_top;
          for (k = 0; k < kernel_h; ++k) {
            const int32_t row = base_h + k * g.dil_h;
            /* dilation 1: the rows are consecutive, so (row + pad_top) mod kernel_h are distinct
             * slots and a row stays in its slot while the window slides down */
            const int32_t slot = g.dil_h == 1 ? (row + p->pad_top) % kernel_h : k;
            int8_t *dst = band + (size_t)slot * g.span * 8;
            if (tags[slot] != row) {
              if (row >= 0 && row < g.in_h) {
                dw_copy_rows(&g, in_c, row, 1, dst);
              } else {
                dw_fill(dst, g.span, g.x_zp);
              }
              tags[slot] = row;
            }
            rows[k] = dst;
          }
          dw_accumulate8(&g, rows, w_packed, p->folded_bias + c0, out_w, 1, 0, acc + 8 * r * out_w);
        }
        tinyaot_mve_requantize_run(&q, c0, 4, acc, 8, rows_here * out_w, channels, output, row_index);
        tinyaot_mve_requantize_run(&q, c0 + 4, 4, acc + 4, 8, rows_here * out_w, channels, output, row_index + 4);
      }
    }
  }
}
#endif
