/* Overlapping output and input (planner.py, OpDef.overlap): tinyaot_<k> (this core's path) and
 * tinyaot_<k>_ref run with the output placed `shift` bytes below the input in one buffer
 * (shift: the gap of ops/qconv.py, mirrored below, rounded up to the step and to 16 bytes as
 * the planner does), and must write what the reference writes from separate buffers, for the
 * int8 depthwise (equal channels), fully connected / 1x1 (shrinking, equal and expanding rows,
 * int32 output) and convolution kernels, on random shapes (strides 1-3, padding, dilation,
 * channels off multiples of 4). The same placement one unit closer must break the portable
 * kernel on some cases of every kind: the gaps are tight, and the check can fail. */
#include <stdint.h>

#include "qconv_cases.h"

#define CASES 400
#define NO_OVERLAP INT32_MIN

enum { KIND_DW, KIND_FC, KIND_CONV, KINDS };
static const char *const kind_name[KINDS] = {"qdepthwise_conv2d_s8", "qfully_connected_s8", "qconv2d_s8"};

#define SCRATCH_BYTES 4096 /* cases needing more are drawn again */
static uint32_t scratch[SCRATCH_BYTES / 4];

static int32_t max32(int32_t a, int32_t b) { return a > b ? a : b; }
static int32_t clamp32(int32_t v, int32_t hi) { return v < 0 ? 0 : (v > hi ? hi : v); }

/* ---- the gaps of ops/qconv.py (pixel_gap, depthwise_row_gap, depthwise_gap, fully_connected_gap) */

static int32_t low_pixel(const tinyaot_qconv2d_params *p, int32_t q) {
  const int32_t y = q / p->out_w, x = q % p->out_w;
  const int32_t rs = clamp32(y * p->stride_h - p->pad_top, p->in_h);
  const int32_t rs_next = y + 1 < p->out_h ? clamp32((y + 1) * p->stride_h - p->pad_top, p->in_h) : p->in_h;
  const int32_t here = rs * p->in_w + clamp32(x * p->stride_w - p->pad_left, p->in_w), below = rs_next * p->in_w;
  return q == p->out_h * p->out_w ? p->in_h * p->in_w : (here < below ? here : below);
}

static int32_t pixel_gap(const tinyaot_qconv2d_params *p, int32_t ci, int32_t co, int32_t ahead) {
  const int32_t pixels = p->out_h * p->out_w, in_pixels = p->in_h * p->in_w, step = pixels * co - in_pixels * ci;
  int32_t q, b, all = NO_OVERLAP, but_last = NO_OVERLAP, worst = NO_OVERLAP;
  for (q = 0; q < pixels; ++q) {
    const int32_t term = (q + 1) * co - low_pixel(p, q + ahead) * ci;
    all = max32(all, term);
    if (q < pixels - 1) but_last = max32(but_last, term);
  }
  for (b = 0; b + 1 < p->batch; ++b) worst = max32(worst, all + b * step);
  if (!ahead) worst = max32(worst, all + (p->batch - 1) * step);
  if (ahead && pixels > 1) worst = max32(worst, but_last + (p->batch - 1) * step);
  return worst == NO_OVERLAP ? -p->batch * in_pixels * ci : worst;
}

static int32_t row_gap(const tinyaot_qconv2d_params *p, int32_t c, int32_t held) {
  int32_t b, y, worst = NO_OVERLAP;
  for (b = 0; b < p->batch; ++b) {
    for (y = 0; y < p->out_h; ++y) {
      int32_t dead;
      if (y == p->out_h - 1) {
        dead = p->in_h;
      } else if (held) {
        dead = clamp32(y * p->stride_h - p->pad_top + (p->kernel_h - 1) * p->dilation_h + 1, p->in_h);
      } else {
        dead = clamp32((y + 1) * p->stride_h - p->pad_top, p->in_h);
      }
      if (b * p->in_h + dead < p->batch * p->in_h) {
        worst = max32(worst, (b * p->out_h + y + 1) * p->out_w * c - (b * p->in_h + dead) * p->in_w * c);
      }
    }
  }
  return worst == NO_OVERLAP ? -p->batch * p->in_h * p->in_w * c : worst;
}

static int32_t dw_gap(const tinyaot_qconv2d_params *p, int32_t *step) {
  const int32_t c = p->out_c, w_zp = p->weight_zero_point != NULL, held = p->dilation_h == 1;
  const int32_t scratch_bytes = TINYAOT_QDEPTHWISE_CONV2D_S8_SCRATCH(p->kernel_h, p->kernel_w, p->out_h, p->out_w,
                                                                     p->stride_h, p->stride_w, c);
  const int32_t span = (p->out_w - 1) * p->stride_w + (p->kernel_w - 1) * p->dilation_w + 1;
  int32_t gap = TINYAOT_QDW_REF_RING_BYTES(p->kernel_h, span) <= scratch_bytes ? row_gap(p, c, held)
                                                                               : pixel_gap(p, c, c, 0);
  *step = c;
  if (p->kernel_h == 3 && p->kernel_w == 3 && p->dilation_w == 1 && (p->stride_w == 1 || p->stride_w == 2) &&
      c % 4 == 0 && !w_zp) {
    if (p->out_w > 64) return NO_OVERLAP;
    gap = max32(gap, row_gap(p, c, held));
  }
  if (c >= 4) {
    const int32_t taps = p->kernel_h * p->kernel_w;
    const int32_t ring =
        (taps * 8 + p->kernel_h * span * 8 + p->kernel_h * 4 + 15) / 16 * 16 + p->out_w * 32 <= scratch_bytes;
    int32_t group = 0, banded; /* output rows per band (dw_band_group) */
    while (group < p->out_h &&
           (taps * 8 + 15) / 16 * 16 +
                   ((group * p->stride_h + (p->kernel_h - 1) * p->dilation_h + 1) * span * 8 + 15) / 16 * 16 +
                   (group + 1) * p->out_w * 32 <=
               scratch_bytes) {
      group++;
    }
    banded = group >= 2 || (group == 1 && (p->out_h == 1 || !ring));
    if (c < 8 || w_zp || p->kernel_h > 16 || !(banded || ring)) {
      if (c % 4) return NO_OVERLAP;
      gap = max32(gap, pixel_gap(p, c, c, 1));
    } else if (c % 8) {
      return NO_OVERLAP;
    } else {
      gap = max32(gap, row_gap(p, c, banded || held));
    }
  }
  return gap;
}

static int32_t fc_rows_gap(int32_t rows, int32_t depth, int32_t co, int32_t lag) {
  const int32_t last = lag == 0 ? rows - 1 : rows;
  return last > 0 ? max32(co - (1 - lag) * depth, last * co - (last - lag) * depth) : -rows * depth;
}

static int32_t fc_gap(const tinyaot_qfully_connected_params *p, int32_t out_bytes) {
  const int32_t co = p->out_c * out_bytes;
  const int32_t copied = TINYAOT_QFULLY_CONNECTED_S8_SCRATCH(p->depth, p->out_c) >= p->depth;
  return max32(fc_rows_gap(p->rows, p->depth, co, copied ? 0 : 1), fc_rows_gap(p->rows, p->depth, co, p->depth < 4));
}

/* ---- one case: the kernel in one buffer, output `shift` bytes below the input */

typedef struct {
  int32_t kind;
  tinyaot_qconv2d_params conv;
  tinyaot_qfully_connected_params fc;
  int32_t in_bytes, out_bytes;
} ov_case;

static void run(const ov_case *k, int ref, const int8_t *in, void *out) {
  if (k->kind == KIND_FC) {
    (ref ? tinyaot_qfully_connected_s8_ref : tinyaot_qfully_connected_s8)(&k->fc, in, qconv_weights, out, scratch);
  } else if (k->kind == KIND_DW) {
    (ref ? tinyaot_qdepthwise_conv2d_s8_ref : tinyaot_qdepthwise_conv2d_s8)(&k->conv, in, qconv_weights, out, scratch);
  } else {
    (ref ? tinyaot_qconv2d_s8_ref : tinyaot_qconv2d_s8)(&k->conv, in, qconv_weights, out, scratch);
  }
}

/* 0 when the output written over the input at `shift` equals the reference's. */
static int overlapped(const ov_case *k, int ref, int32_t shift) {
  int8_t *const arena = (int8_t *)qconv_got + ((16 - ((uintptr_t)qconv_got & 15)) & 15);
  const int32_t in_off = (shift > 0 ? shift : 0) + 16, out_off = in_off - shift;
  memset(arena, 0x5a, (size_t)max32(in_off + k->in_bytes, out_off + k->out_bytes) + 16);
  memcpy(arena + in_off, qconv_input, (size_t)k->in_bytes);
  run(k, ref, arena + in_off, arena + out_off);
  return memcmp(arena + out_off, qconv_want, (size_t)k->out_bytes) != 0;
}

static int32_t round_up(int32_t gap, int32_t unit) {
  return gap >= 0 ? (gap + unit - 1) / unit * unit : -(-gap / unit * unit);
}

static void random_requant(qtest_requant *rq, int32_t out_c, int32_t scale_bits, int32_t int8_only) {
  do {
    qtest_random_requant(rq, out_c, scale_bits);
  } while (int8_only && rq->int32_output);
}

/* Fills k (and the input / weights) at random; returns the gap or NO_OVERLAP, *step the step. */
static int32_t random_case(ov_case *k, int32_t t, int32_t *step) {
  static qtest_requant rq; /* the kernels' params point into it */
  tinyaot_qconv2d_params *p = &k->conv;
  int32_t taps, gap;
  k->kind = t % KINDS;
  *step = 1;
  if (k->kind == KIND_FC) {
    tinyaot_qfully_connected_params *f = &k->fc;
    do {
      f->rows = qtest_range(1, 40);
      f->depth = qtest_range(0, 2) ? qtest_range(1, 12) : qtest_range(1, 160);
      f->out_c = qtest_range(0, 5) ? qtest_range(1, 4) : qtest_range(5, 12);
    } while (f->rows * f->depth > QCONV_MAX_INPUT || f->rows * f->out_c * 4 > QCONV_MAX_OUTPUT ||
             TINYAOT_QFULLY_CONNECTED_S8_SCRATCH(f->depth, f->out_c) > SCRATCH_BYTES);
    qtest_fill_s8(qconv_input, f->rows * f->depth);
    qtest_fill_s8(qconv_weights, f->out_c * f->depth);
    p->out_c = f->out_c;
    qconv_random_biases(p, f->depth, qconv_weights, f->depth, 1);
    random_requant(&rq, f->out_c, 13 + (f->depth > 16) + (f->depth > 64), 0);
    f->weight_zero_point = p->weight_zero_point;
    f->folded_bias = p->folded_bias;
    k->in_bytes = f->rows * f->depth;
    k->out_bytes = f->rows * f->out_c * (rq.int32_output ? 4 : 1);
    gap = fc_gap(f, rq.int32_output ? 4 : 1);
  } else {
    do {
      qconv_random_geometry(p, k->kind == KIND_DW);
      if (qtest_range(0, 3) == 0) { /* wider planes: several DSP width tiles */
        p->in_w = qtest_range(14, 160);
        p->out_w = qconv_out_size(p->in_w, p->kernel_w, p->stride_w, p->dilation_w, p->pad_left, 0);
      }
      if (k->kind == KIND_DW) {
        p->in_c = qtest_range(0, 3) ? 4 * qtest_range(1, 6) : qtest_range(1, 20);
        p->out_c = p->in_c;
        p->groups = p->in_c;
        taps = p->kernel_h * p->kernel_w;
      } else {
        p->in_c = qtest_range(1, 12);
        p->out_c = qtest_range(1, 24);
        p->groups = 1;
        taps = p->kernel_h * p->kernel_w * p->in_c;
      }
      k->in_bytes = p->batch * p->in_h * p->in_w * p->in_c;
      k->out_bytes = p->batch * p->out_h * p->out_w * p->out_c * 4;
    } while (p->out_w == 0 || p->out_c > QTEST_MAX_C || k->in_bytes > QCONV_MAX_INPUT ||
             taps * p->out_c > QCONV_MAX_WEIGHTS || k->out_bytes > QCONV_MAX_OUTPUT ||
             k->in_bytes + k->out_bytes + 64 > (int32_t)sizeof qconv_got / 2 ||
             (k->kind == KIND_DW ? TINYAOT_QDEPTHWISE_CONV2D_S8_SCRATCH(p->kernel_h, p->kernel_w, p->out_h, p->out_w,
                                                                        p->stride_h, p->stride_w, p->out_c)
                                 : TINYAOT_QCONV2D_S8_SCRATCH(taps, p->out_c)) > SCRATCH_BYTES);
    qtest_fill_s8(qconv_input, k->in_bytes);
    qtest_fill_s8(qconv_weights, taps * p->out_c);
    if (k->kind == KIND_DW) {
      qconv_random_biases(p, taps, qconv_weights, 1, p->out_c);
    } else {
      qconv_random_biases(p, taps, qconv_weights, taps, 1);
    }
    random_requant(&rq, p->out_c, qconv_scale_bits(taps), k->kind == KIND_DW);
    k->out_bytes = p->batch * p->out_h * p->out_w * p->out_c * (rq.int32_output ? 4 : 1);
    if (k->kind == KIND_DW) {
      gap = dw_gap(p, step);
    } else {
      gap = pixel_gap(p, p->in_c, p->out_c * (rq.int32_output ? 4 : 1), 0);
    }
  }
  p->out = rq.out;
  k->fc.out = rq.out;
  return gap;
}

int main(void) {
  int32_t t, tried[KINDS] = {0}, none[KINDS] = {0}, small[KINDS] = {0}, ref_broken[KINDS] = {0};
  int32_t path_broken[KINDS] = {0}, kind;
  for (t = 0; t < CASES; ++t) {
    ov_case k;
    int32_t step, gap, unit, shift, path_differs;
    memset(&k, 0, sizeof k);
    gap = random_case(&k, t, &step);
    if (gap == NO_OVERLAP) {
      none[k.kind]++;
      continue;
    }
    run(&k, 1, qconv_input, qconv_want); /* the reference from separate buffers */
    for (unit = 16; unit % step; unit += 16) { /* the planner's offsets: multiples of 16 and of the step */
    }
    shift = round_up(gap, unit);
    tried[k.kind]++;
    if (overlapped(&k, 0, k.out_bytes + 16)) { /* output wholly below the input: no shared byte */
      printf("%s: case %ld: this path differs from the reference without overlap\n", kind_name[k.kind], (long)t);
      return 1;
    }
    path_differs = overlapped(&k, 0, shift);
    if (path_differs || overlapped(&k, 1, shift)) {
      printf("%s: case %ld: output %ld bytes below its input (gap %ld) differs from the reference (%s)\n",
             kind_name[k.kind], (long)t, (long)shift, (long)gap, path_differs ? "this path" : "portable");
      printf("  in %ldx%ldx%ldx%ld out %ldx%ldx%ld kernel %ldx%ld stride %ldx%ld dilation %ldx%ld pad %ld,%ld "
             "fc %ldx%ld->%ld\n", (long)k.conv.batch, (long)k.conv.in_h, (long)k.conv.in_w, (long)k.conv.in_c,
             (long)k.conv.out_h, (long)k.conv.out_w, (long)k.conv.out_c, (long)k.conv.kernel_h, (long)k.conv.kernel_w,
             (long)k.conv.stride_h, (long)k.conv.stride_w, (long)k.conv.dilation_h, (long)k.conv.dilation_w,
             (long)k.conv.pad_top, (long)k.conv.pad_left, (long)k.fc.rows, (long)k.fc.depth, (long)k.fc.out_c);
      return 1;
    }
    /* one unit closer, while the two still share bytes */
    if (shift - unit < k.out_bytes && shift - unit > -k.in_bytes) {
      small[k.kind]++;
      ref_broken[k.kind] += overlapped(&k, 1, shift - unit);
      path_broken[k.kind] += overlapped(&k, 0, shift - unit);
    }
  }
  for (kind = 0; kind < KINDS; ++kind) {
    printf("%s (%s path): %ld cases overlapped bit-exact, %ld without overlap; one unit closer broke %ld of %ld "
           "(portable) and %ld (this path)\n",
           kind_name[kind],
           qtest_path_name(kind == KIND_FC   ? TINYAOT_PATH_QFULLY_CONNECTED_S8
                           : kind == KIND_DW ? TINYAOT_PATH_QDEPTHWISE_CONV2D_S8
                                             : TINYAOT_PATH_QCONV2D_S8),
           (long)tried[kind], (long)none[kind], (long)ref_broken[kind], (long)small[kind], (long)path_broken[kind]);
    if (tried[kind] == 0 || ref_broken[kind] == 0) {
      printf("%s: the check never ran or never failed one unit closer\n", kind_name[kind]);
      return 1;
    }
  }
  return 0;
}
