/* tinyaot_qconv2d_s8 (this core's path) against tinyaot_qconv2d_s8_ref, bit for bit, on random
 * cases: kernels 1..4, strides 1..3, dilations 1..2, padding on every side, groups, channel
 * counts that are not multiples of 4, weight zero points, every rounding mode, clamps and
 * int32 output (ConvInteger). */
#include "qconv_cases.h"

#define CASES 400

static uint32_t scratch[(TINYAOT_QCONV2D_S8_SCRATCH(4 * 4 * 12, QTEST_MAX_C) + 3) / 4];

int main(void) {
  int32_t t;
  long macs = 0;
  for (t = 0; t < CASES; ++t) {
    tinyaot_qconv2d_params p;
    qtest_requant rq;
    int32_t cg_in, taps, in_bytes, w_bytes, out_count;
    do {
      qconv_random_geometry(&p, 0);
      p.groups = qtest_range(0, 3) ? 1 : qtest_range(2, 3);
      cg_in = qtest_range(1, 12 / p.groups);
      p.in_c = cg_in * p.groups;
      p.out_c = p.groups * qtest_range(1, QTEST_MAX_C / p.groups);
      taps = p.kernel_h * p.kernel_w * cg_in;
      in_bytes = p.batch * p.in_h * p.in_w * p.in_c;
      w_bytes = p.out_c * taps;
      out_count = p.batch * p.out_h * p.out_w * p.out_c;
    } while (in_bytes > QCONV_MAX_INPUT || w_bytes > QCONV_MAX_WEIGHTS || out_count > QCONV_MAX_OUTPUT);
    qtest_fill_s8(qconv_input, in_bytes);
    qtest_fill_s8(qconv_weights, w_bytes);
    qconv_random_biases(&p, taps, qconv_weights, taps, 1);
    qtest_random_requant(&rq, p.out_c, qconv_scale_bits(taps));
    p.out = rq.out;
    memset(qconv_got, 0x55, sizeof qconv_got);
    memset(qconv_want, 0x55, sizeof qconv_want);
    memset(scratch, 0xa5, sizeof scratch);
    tinyaot_qconv2d_s8(&p, qconv_input, qconv_weights, qconv_got, scratch);
    {
      /* The kernel may use only the bytes its macro plans for these parameters. */
      const size_t planned = (size_t)TINYAOT_QCONV2D_S8_SCRATCH(taps, p.out_c);
      size_t i;
      for (i = planned; i < sizeof scratch; ++i) {
        if (((const uint8_t *)scratch)[i] != 0xa5) {
          printf("qconv2d_s8: case %ld wrote scratch byte %lu beyond the planned %lu\n", (long)t, (unsigned long)i,
                 (unsigned long)planned);
          return 1;
        }
      }
    }
    tinyaot_qconv2d_s8_ref(&p, qconv_input, qconv_weights, qconv_want, NULL);
    if (qtest_compare("qconv2d_s8", t, qconv_got, qconv_want, sizeof qconv_got)) {
      printf("  in %ldx%ldx%ldx%ld out_c %ld groups %ld kernel %ldx%ld stride %ldx%ld dilation %ldx%ld pad %ld,%ld "
             "rounding %ld int32 %ld\n", (long)p.batch, (long)p.in_h, (long)p.in_w, (long)p.in_c, (long)p.out_c,
             (long)p.groups, (long)p.kernel_h, (long)p.kernel_w, (long)p.stride_h, (long)p.stride_w,
             (long)p.dilation_h, (long)p.dilation_w, (long)p.pad_top, (long)p.pad_left, (long)p.out.rounding,
             (long)rq.int32_output);
      return 1;
    }
    macs += (long)out_count * taps;
  }
  printf("qconv2d_s8 (%s path): %d cases, %ld MACs, bit-exact with the reference\n",
         qtest_path_name(TINYAOT_PATH_QCONV2D_S8), CASES, macs);
  return 0;
}
