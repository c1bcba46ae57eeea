/* tinyaot_qdepthwise_conv2d_s8 (this core's path) against tinyaot_qdepthwise_conv2d_s8_ref, bit
 * for bit, on random cases: mostly 3-wide kernels (the fast path) with every height, stride,
 * dilation and padding, channel counts and multipliers off the fast path, weight zero points,
 * huge biases, every rounding mode, clamps and int32 output. A second series draws the DSP
 * fast path's own cases: 3x3 kernels, channels a multiple of 4, planes up to WIDE_W wide (so
 * several width tiles, odd and even pixel counts), mostly TFLite's double rounding without a
 * clamp (the assembly loop), the rest any requantization. Every case also checks that the
 * kernel leaves the scratch past its TINYAOT_QDEPTHWISE_CONV2D_S8_SCRATCH bytes alone. */
#include "qconv_cases.h"

#define CASES 500
#define WIDE_CASES 200
#define MAX_W 9
#define WIDE_W 160

/* The largest need of the cases (the macro's 2 KiB floor for small planes included), and a
 * guard band after each case's own need that the kernel must leave alone. */
#define GUARD 64
#define SCRATCH_BYTES                                                                                          \
  TINYAOT_QDW_MAX_(TINYAOT_QDW_MAX_(TINYAOT_QDEPTHWISE_CONV2D_S8_SCRATCH(4, 4, MAX_W, MAX_W, 3, 3, QTEST_MAX_C), \
                                    TINYAOT_QDEPTHWISE_CONV2D_S8_SCRATCH(3, 3, 8, WIDE_W + 2, 2, 2, QTEST_MAX_C)), \
                   2048)
static uint32_t scratch[(SCRATCH_BYTES + GUARD + 3) / 4];

/* 1 when the GUARD bytes after `need` still hold the fill pattern. */
static int guard_intact(size_t need) {
  const uint8_t *b = (const uint8_t *)scratch + need;
  size_t i;
  for (i = 0; i < GUARD; ++i) {
    if (b[i] != 0xa5) return 0;
  }
  return 1;
}

/* 1 when the case's buffers fit the test's arrays. */
static int fits(const tinyaot_qconv2d_params *p) {
  const int32_t taps = p->kernel_h * p->kernel_w;
  return p->out_c <= QTEST_MAX_C && p->batch * p->in_h * p->in_w * p->in_c <= QCONV_MAX_INPUT &&
         taps * p->out_c <= QCONV_MAX_WEIGHTS && p->batch * p->out_h * p->out_w * p->out_c <= QCONV_MAX_OUTPUT;
}

/* Fills the data and biases of geometry p, requantization rq (`fast_requant`: TFLite's
 * double rounding to int8 over the whole range), runs both kernels; 0 when they agree. */
static int run_case(int32_t t, tinyaot_qconv2d_params *p, qtest_requant *rq, int32_t fast_requant, long *macs) {
  const int32_t taps = p->kernel_h * p->kernel_w;
  const int32_t out_count = p->batch * p->out_h * p->out_w * p->out_c;
  qtest_fill_s8(qconv_input, p->batch * p->in_h * p->in_w * p->in_c);
  qtest_fill_s8(qconv_weights, taps * p->out_c);
  do {
    qconv_random_biases(p, taps, qconv_weights, 1, p->out_c);
  } while (fast_requant && p->weight_zero_point != NULL);
  do {
    qtest_random_requant(rq, p->out_c, qconv_scale_bits(taps));
  } while (fast_requant && (rq->out.rounding != TINYAOT_ROUND_TFLITE || rq->int32_output));
  if (fast_requant) {
    rq->out.act_min = -128;
    rq->out.act_max = 127;
  }
  p->out = rq->out;
  memset(qconv_got, 0x55, sizeof qconv_got);
  memset(qconv_want, 0x55, sizeof qconv_want);
  memset(scratch, 0xa5, sizeof scratch);
  tinyaot_qdepthwise_conv2d_s8(p, qconv_input, qconv_weights, qconv_got, scratch);
  tinyaot_qdepthwise_conv2d_s8_ref(p, qconv_input, qconv_weights, qconv_want, NULL);
  if (!guard_intact((size_t)TINYAOT_QDEPTHWISE_CONV2D_S8_SCRATCH(p->kernel_h, p->kernel_w, p->out_h, p->out_w,
                                                                  p->stride_h, p->stride_w, p->out_c))) {
    printf("qdepthwise_conv2d_s8: case %ld: wrote past its scratch\n", (long)t);
    return 1;
  }
  if (qtest_compare("qdepthwise_conv2d_s8", t, qconv_got, qconv_want, sizeof qconv_got)) {
    printf("  in %ldx%ldx%ldx%ld out_c %ld kernel %ldx%ld stride %ldx%ld dilation %ldx%ld pad %ld,%ld "
           "rounding %ld int32 %ld zp %d act [%ld, %ld]\n", (long)p->batch, (long)p->in_h, (long)p->in_w,
           (long)p->in_c, (long)p->out_c, (long)p->kernel_h, (long)p->kernel_w, (long)p->stride_h,
           (long)p->stride_w, (long)p->dilation_h, (long)p->dilation_w, (long)p->pad_top, (long)p->pad_left,
           (long)p->out.rounding, (long)rq->int32_output, p->weight_zero_point != NULL, (long)p->out.act_min,
           (long)p->out.act_max);
    return 1;
  }
  *macs += (long)out_count * taps;
  return 0;
}

int main(void) {
  int32_t t;
  long macs = 0;
  for (t = 0; t < CASES; ++t) {
    tinyaot_qconv2d_params p;
    qtest_requant rq;
    do {
      const int32_t multiplier = qtest_range(0, 5) ? 1 : 2;
      qconv_random_geometry(&p, 1);
      p.in_c = qtest_range(0, 4) ? 4 * qtest_range(1, 16) : qtest_range(1, 20);
      p.out_c = p.in_c * multiplier;
      p.groups = p.in_c;
    } while (!fits(&p));
    if (run_case(t, &p, &rq, 0, &macs)) return 1;
  }
  for (t = 0; t < WIDE_CASES; ++t) {
    tinyaot_qconv2d_params p;
    qtest_requant rq;
    do {
      const int32_t pad_bottom = qtest_range(0, 2), pad_right = qtest_range(0, 2);
      p.batch = qtest_range(1, 2);
      p.in_h = qtest_range(1, 6);
      p.in_w = qtest_range(1, WIDE_W);
      p.kernel_h = 3;
      p.kernel_w = 3;
      p.stride_h = qtest_range(1, 2);
      p.stride_w = qtest_range(1, 2);
      p.dilation_h = qtest_range(0, 5) ? 1 : 2;
      p.dilation_w = 1;
      p.pad_top = qtest_range(0, 2);
      p.pad_left = qtest_range(0, 2);
      p.out_h = qconv_out_size(p.in_h, 3, p.stride_h, p.dilation_h, p.pad_top, pad_bottom);
      p.out_w = qconv_out_size(p.in_w, 3, p.stride_w, 1, p.pad_left, pad_right);
      p.in_c = 4 * qtest_range(1, 16);
      p.out_c = p.in_c;
      p.groups = p.in_c;
    } while (p.out_h == 0 || p.out_w == 0 || !fits(&p));
    if (run_case(CASES + t, &p, &rq, qtest_range(0, 3) != 0, &macs)) return 1;
  }
  printf("qdepthwise_conv2d_s8 (%s path): %d cases, %ld MACs, bit-exact with the reference\n",
         qtest_path_name(TINYAOT_PATH_QDEPTHWISE_CONV2D_S8), CASES + WIDE_CASES, macs);
  return 0;
}
