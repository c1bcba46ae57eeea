/* The DSP kernels' requantization formulations (tinyaot/qdsp.h) against tinyaot_requant_tflite
 * and tinyaot_requant_tflite_single (tinyaot/requant.h), on random and extreme accumulators,
 * every multiplier range (including 0 and 2^30) and every shift they accept:
 * - tinyaot_dsp_requant_apply (64-bit multiply-accumulate), shifts -31 .. -1, any int32 acc;
 * - tinyaot_dsp_requant_doubled (SMMULR / SMMUL on 2 acc), shifts -22 .. -1, |acc| < 2^29,
 *   zero point folded in, compared after saturation to int8.
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
    const int32_t shift = -qtest_range(1, 31);
    const int32_t acc = random_acc(31);
    const int32_t want = single ? tinyaot_requant_tflite_single(acc, m, shift) : tinyaot_requant_tflite(acc, m, shift);
    tinyaot_qoutput q;
    tinyaot_dsp_requant r;
    int32_t got, generic;
    q.multiplier = &m;
    q.shift = &shift;
    q.zero_point = 0;
    q.act_min = -128;
    q.act_max = 127;
    q.rounding = single ? TINYAOT_ROUND_TFLITE_SINGLE : TINYAOT_ROUND_TFLITE;
    if (tinyaot_dsp_requant_prepare(&q, 1, &r, &generic) != 0) {
      printf("requant: prepare refused multiplier %ld shift %ld\n", (long)m, (long)shift);
      return 1;
    }
    got = tinyaot_dsp_requant_apply(acc, &r, single ? 0u : 1u);
    if (got != want) {
      printf("requant: apply(acc %ld, m %ld, shift %ld, single %ld) = %ld, reference %ld\n", (long)acc, (long)m,
             (long)shift, (long)single, (long)got, (long)want);
      return 1;
    }
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
    checked += 2;
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
