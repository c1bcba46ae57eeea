/* tinyaot_qdepthwise_conv2d_s8 (this core's path) against tinyaot_qdepthwise_conv2d_s8_ref, bit
 * for bit, on random cases: mostly 3-wide kernels (the fast path) with every height, stride,
 * dilation and padding, channel counts and multipliers off the fast path, weight zero points,
 * huge biases, every rounding mode, clamps and int32 output. */
#include "qconv_cases.h"

#define CASES 500
#define MAX_W 9

static uint32_t scratch[(TINYAOT_QDEPTHWISE_CONV2D_S8_SCRATCH(4, 4, MAX_W, MAX_W, 3, 3, QTEST_MAX_C) + 3) / 4];

int main(void) {
  int32_t t;
  long macs = 0;
  for (t = 0; t < CASES; ++t) {
    tinyaot_qconv2d_params p;
    qtest_requant rq;
    int32_t multiplier, taps, in_bytes, w_bytes, out_count;
    do {
      qconv_random_geometry(&p, 1);
      multiplier = qtest_range(0, 5) ? 1 : 2;
      p.in_c = qtest_range(0, 4) ? 4 * qtest_range(1, 16) : qtest_range(1, 20);
      p.out_c = p.in_c * multiplier;
      p.groups = p.in_c;
      taps = p.kernel_h * p.kernel_w;
      in_bytes = p.batch * p.in_h * p.in_w * p.in_c;
      w_bytes = taps * p.out_c;
      out_count = p.batch * p.out_h * p.out_w * p.out_c;
    } while (p.out_c > QTEST_MAX_C || in_bytes > QCONV_MAX_INPUT || w_bytes > QCONV_MAX_WEIGHTS ||
             out_count > QCONV_MAX_OUTPUT);
    qtest_fill_s8(qconv_input, in_bytes);
    qtest_fill_s8(qconv_weights, w_bytes);
    qconv_random_biases(&p, taps, qconv_weights, 1, p.out_c);
    qtest_random_requant(&rq, p.out_c, qconv_scale_bits(taps));
    p.out = rq.out;
    memset(qconv_got, 0x55, sizeof qconv_got);
    memset(qconv_want, 0x55, sizeof qconv_want);
    memset(scratch, 0xa5, sizeof scratch);
    tinyaot_qdepthwise_conv2d_s8(&p, qconv_input, qconv_weights, qconv_got, scratch);
    tinyaot_qdepthwise_conv2d_s8_ref(&p, qconv_input, qconv_weights, qconv_want, NULL);
    if (qtest_compare("qdepthwise_conv2d_s8", t, qconv_got, qconv_want, sizeof qconv_got)) {
      printf("  in %ldx%ldx%ldx%ld out_c %ld kernel %ldx%ld stride %ldx%ld dilation %ldx%ld pad %ld,%ld "
             "rounding %ld int32 %ld zp %d act [%ld, %ld]\n", (long)p.batch, (long)p.in_h, (long)p.in_w, (long)p.in_c,
             (long)p.out_c, (long)p.kernel_h, (long)p.kernel_w, (long)p.stride_h, (long)p.stride_w,
             (long)p.dilation_h, (long)p.dilation_w, (long)p.pad_top, (long)p.pad_left, (long)p.out.rounding,
             (long)rq.int32_output, p.weight_zero_point != NULL, (long)p.out.act_min, (long)p.out.act_max);
      return 1;
    }
    macs += (long)out_count * taps;
  }
  printf("qdepthwise_conv2d_s8 (%s path): %d cases, %ld MACs, bit-exact with the reference\n",
         qtest_path_name(TINYAOT_PATH_QDEPTHWISE_CONV2D_S8), CASES, macs);
  return 0;
}
