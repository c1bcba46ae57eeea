/* The DSP kernels' requantization formulations (tinyaot/qdsp.h) against tinyaot_requant_tflite
 * and tinyaot_requant_tflite_single (tinyaot/requant.h), on random and extreme accumulators,
 * every multiplier range (including 0 and 2^30) and every shift they accept:
 * - tinyaot_dsp_requant_doubled (SMMULR / SMMUL on 2 acc), shifts -22 .. -1, |acc| < 2^29,
 *   zero point folded in, compared after saturation to int8;
 * - tinyaot_dsp_requant_block (FC / convolution outputs), shifts -31 .. -2, any int32 acc,
 *   zero point added, compared after saturation to int8.
 * On a core with the DSP extension the instructions are the real ones; on the host
 * (TINYAOT_EMULATE_DSP) their C definitions. */
#include "qtest.h"

#if TINYAOT_CORE_DSP
#include "tinyaot/qdsp.h"

#define ROUNDS 200000L

static int32_t random_acc(int32_t limit_bits) {
  static const int32_t edges[] = {0, 1, -1, 2, -2, INT32_MAX, INT32_MIN, INT32_MIN + 1, 1 << 30, -(1 << 30)};
  const int32_t kind = qtest_range(0, 9);
  int32_t v;
  if (kind == 0) {
    v = edges[qtest_range(0, 9)];
  } else if (kind <= 3) {
    v = qtest_range(-70000, 70000);
  } else {
    v = (int32_t)qtest_next();
  }
  if (limit_bits < 31) v %= (int32_t)1 << limit_bits;
  return v;
}

static int32_t random_multiplier(void) {
  const int32_t kind = qtest_range(0, 9);
  if (kind == 0) return 0;
  if (kind == 1) return 1 << 30;
  if (kind == 2) return INT32_MAX;
  return (int32_t)((1u << 30) | (qtest_next() & 0x3fffffffu));
}

int main(void) {
  long i, checked = 0;
  for (i = 0; i < ROUNDS; ++i) {
    const int32_t m = random_multiplier(), single = qtest_range(0, 1);
    const int32_t acc = random_acc(31);
    int32_t got;
    {
      const int32_t e = qtest_range(1, 22), zp = qtest_range(-128, 127);
      const int32_t small = random_acc(29);
      const int32_t ref = single ? tinyaot_requant_tflite_single(small, m, -e) : tinyaot_requant_tflite(small, m, -e);
      const int32_t ref8 = tinyaot_clamp_s32((int64_t)ref + zp, -128, 127);
      got = tinyaot_dsp_requant_doubled(2 * small, m, (1 << (e - 1)) + zp * (1 << e), e, single);
      if (got != ref8) {
        printf("requant: doubled(acc %ld, m %ld, shift %ld, zp %ld, single %ld) = %ld, reference %ld\n", (long)small,
               (long)m, (long)-e, (long)zp, (long)single, (long)got, (long)ref8);
        return 1;
      }
    }
    {
      /* tinyaot_dsp_requant_block: the constants derived per channel, shifts -31 .. -2, any
       * int32 accumulators, both rows. */
      const int32_t block_shift = -qtest_range(2, 31), zp = qtest_range(-128, 127);
      int32_t acc2[2 * TINYAOT_DSP_BLOCK];
      int32_t row;
      int8_t out[2], one, folded[2];
      acc2[0] = acc;
      acc2[TINYAOT_DSP_BLOCK] = random_acc(31);
      tinyaot_dsp_requant_block(acc2, &m, &block_shift, 1, &out[0], 1, 1, zp, single, 0);
      tinyaot_dsp_requant_block(acc2, &m, &block_shift, 1, &one, 0, 0, zp, single, 0);
      if (one != out[0]) {
        printf("requant: block of one row gave %ld, of two rows %ld\n", (long)one, (long)out[0]);
        return 1;
      }
      if (block_shift >= -23) {
        tinyaot_dsp_requant_block(acc2, &m, &block_shift, 1, &folded[0], 1, 1, zp, single, 1);
        if (folded[0] != out[0] || folded[1] != out[1]) {
          printf("requant: block with the zero point folded gave %ld %ld, else %ld %ld\n", (long)folded[0],
                 (long)folded[1], (long)out[0], (long)out[1]);
          return 1;
        }
      }
      for (row = 0; row < 2; ++row) {
        const int32_t a = acc2[row * TINYAOT_DSP_BLOCK];
        const int32_t ref = single ? tinyaot_requant_tflite_single(a, m, block_shift)
                                   : tinyaot_requant_tflite(a, m, block_shift);
        const int32_t ref8 = tinyaot_clamp_s32((int64_t)ref + zp, -128, 127);
        if (out[row] != ref8) {
          printf("requant: block(acc %ld, m %ld, shift %ld, zp %ld, single %ld) = %ld, reference %ld\n",
                 (long)a, (long)m, (long)block_shift, (long)zp, (long)single, (long)out[row], (long)ref8);
          return 1;
        }
      }
    }
    checked += 3;
  }
  printf("requant (%s instructions): %ld requantizations equal to tinyaot_requant_tflite(_single)\n",
#if defined(TINYAOT_EMULATE_DSP)
         "emulated",
#else
         "DSP",
#endif
         checked);
  return 0;
}
#else
int main(void) {
  printf("requant: no DSP extension on this core, nothing to check\n");
  return 0;
}
#endif
