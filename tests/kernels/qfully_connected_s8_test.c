/* tinyaot_qfully_connected_s8 (this core's path) against tinyaot_qfully_connected_s8_ref, bit
 * for bit, on random cases: odd row counts, depths that are not multiples of 4 (and below 4),
 * odd channel counts, weight zero points, every rounding mode, clamps and int32 output. */
#include "qtest.h"

#define MAX_ROWS 40 /* past the Helium path's run of rows (16 rows for a depth of 64: several runs) */
#define MAX_DEPTH 300
#define CASES 300

static int8_t input[MAX_ROWS * MAX_DEPTH];
static int8_t weights[QTEST_MAX_C * MAX_DEPTH];
static int32_t weight_zero_point[QTEST_MAX_C], folded_bias[QTEST_MAX_C];
static int32_t got[MAX_ROWS * QTEST_MAX_C], want[MAX_ROWS * QTEST_MAX_C];
static uint32_t scratch[(TINYAOT_QFULLY_CONNECTED_S8_SCRATCH(MAX_DEPTH, QTEST_MAX_C) + 3) / 4];

int main(void) {
  int32_t t, c, macs = 0;
  for (t = 0; t < CASES; ++t) {
    qtest_requant rq;
    tinyaot_qfully_connected_params p;
    const int32_t with_zp = qtest_range(0, 3) == 0;
    int32_t scale_bits;
    p.rows = t % 7 == 0 ? qtest_range(10, MAX_ROWS) : qtest_range(1, 9);
    p.depth = t % 5 == 0 ? qtest_range(1, 12) : qtest_range(1, MAX_DEPTH);
    p.out_c = qtest_range(1, QTEST_MAX_C);
    qtest_fill_s8(input, p.rows * p.depth);
    qtest_fill_s8(weights, p.out_c * p.depth);
    for (c = 0; c < p.out_c; ++c) {
      weight_zero_point[c] = with_zp ? qtest_range(-20, 20) : 0;
      folded_bias[c] = qtest_range(-100000, 100000);
    }
    p.weight_zero_point = with_zp ? weight_zero_point : NULL;
    p.folded_bias = folded_bias;
    scale_bits = 8 + 7;
    while ((1 << (scale_bits - 15)) < p.depth) scale_bits++;
    scale_bits -= 2; /* the sum of random products grows like sqrt(depth) */
    qtest_random_requant(&rq, p.out_c, scale_bits);
    p.out = rq.out;
    memset(got, 0x55, sizeof got);
    memset(want, 0x55, sizeof want);
    memset(scratch, 0xa5, sizeof scratch);
    tinyaot_qfully_connected_s8(&p, input, weights, got, scratch);
    {
      /* The kernel may use only the bytes its macro plans for these parameters. */
      const size_t planned = (size_t)TINYAOT_QFULLY_CONNECTED_S8_SCRATCH(p.depth, p.out_c);
      size_t i;
      for (i = planned; i < sizeof scratch; ++i) {
        if (((const uint8_t *)scratch)[i] != 0xa5) {
          printf("qfully_connected_s8: case %ld wrote scratch byte %lu beyond the planned %lu\n", (long)t, (unsigned long)i,
                 (unsigned long)planned);
          return 1;
        }
      }
    }
    tinyaot_qfully_connected_s8_ref(&p, input, weights, want, NULL);
    if (qtest_compare("qfully_connected_s8", t, got, want, sizeof got)) {
      printf("  rows %ld depth %ld out_c %ld rounding %ld int32 %ld zp %ld act [%ld, %ld]\n", (long)p.rows,
             (long)p.depth, (long)p.out_c, (long)p.out.rounding, (long)rq.int32_output, (long)with_zp,
             (long)p.out.act_min, (long)p.out.act_max);
      return 1;
    }
    macs += p.rows * p.depth * p.out_c;
  }
  printf("qfully_connected_s8 (%s path): %d cases, %ld MACs, bit-exact with the reference\n",
         qtest_path_name(TINYAOT_PATH_QFULLY_CONNECTED_S8), CASES, (long)macs);
  return 0;
}
