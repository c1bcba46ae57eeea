/* tinyaot_tflite_binary_s8 (the path the core compiles, simd.h) against tinyaot_tflite_binary_s8_ref,
 * bit for bit, and _ref against TFLite's arithmetic written out here with tinyaot_srdhm /
 * tinyaot_rdbpot (requant.h), so that the per-layer constant form of tflite.h is checked too:
 * ADD, SUB and MUL; same shapes (the optimized loop) of odd lengths and broadcast shapes (a
 * scalar, a channel vector, an outer broadcast); random zero points, input / output scales
 * (multipliers and shifts as tflite_quant.py::add_params derives them: the larger input's
 * ratio exactly 1/2, shift 0), and clamps (whole range, ReLU, narrow). */
#include "qtest.h"
#include "tinyaot/tflite.h"

#define MAX_N 300
#define CASES 400

static int8_t a[MAX_N], b[MAX_N], got[MAX_N], want[MAX_N];

/* TFLite's int8 ADD / SUB / MUL of one element, straight from its definition. */
static int8_t oracle(int32_t op, const tinyaot_tflite_binary_params *q, int32_t x, int32_t y) {
  int32_t v;
  if (op == TINYAOT_BIN_MUL) {
    v = tinyaot_requant_tflite((x - q->a_zero_point) * (y - q->b_zero_point), q->out_multiplier, q->out_shift);
  } else {
    const int32_t va = tinyaot_rdbpot(tinyaot_srdhm((x - q->a_zero_point) * (1 << 20), q->a_multiplier), -q->a_shift);
    const int32_t vb = tinyaot_rdbpot(tinyaot_srdhm((y - q->b_zero_point) * (1 << 20), q->b_multiplier), -q->b_shift);
    v = tinyaot_rdbpot(tinyaot_srdhm(op == TINYAOT_BIN_SUB ? va - vb : va + vb, q->out_multiplier), -q->out_shift);
  }
  return (int8_t)tinyaot_clamp_s32((int64_t)v + q->zero_point, q->act_min, q->act_max);
}

/* A Q0.31 multiplier in [2^30, 2^31) and its exponent for a real ratio 2^-k * (1 + frac). */
static void random_multiplier(int32_t *multiplier, int32_t *shift, int32_t lo_shift, int32_t hi_shift) {
  *multiplier = qtest_range(0, 7) == 0 ? 1 << 30 : (int32_t)((1u << 30) | (qtest_next() & 0x3fffffffu));
  *shift = qtest_range(lo_shift, hi_shift);
}

/* Fills q; returns 1 or 2 for a sensitive case (the exact input, a or b, is to hold its zero
 * point: the output is then the other input's term divided by 4 to 8, so an error of one unit
 * in that term shows), else 0. */
static int32_t random_params(int32_t op, tinyaot_tflite_binary_params *q) {
  const int32_t act = qtest_range(0, 3);
  int32_t sensitive = 0;
  q->a_zero_point = qtest_range(-128, 127);
  q->b_zero_point = qtest_range(-128, 127);
  q->zero_point = qtest_range(-128, 127);
  if (op == TINYAOT_BIN_MUL) {
    q->a_multiplier = q->b_multiplier = q->a_shift = q->b_shift = 0;
    random_multiplier(&q->out_multiplier, &q->out_shift, -14, -4);
  } else {
    /* One input has the larger scale: ratio exactly 1/2 (2^30, shift 0); the other's is at
     * most 1/2, rarely far smaller. Output: 2 max_scale / (2^20 y_scale), shifts around -19. */
    int32_t *m_small = &q->b_multiplier, *s_small = &q->b_shift;
    q->a_multiplier = 1 << 30;
    q->a_shift = 0;
    q->b_multiplier = 1 << 30;
    q->b_shift = 0;
    if (qtest_range(0, 1)) {
      m_small = &q->a_multiplier;
      s_small = &q->a_shift;
    }
    if (qtest_range(0, 4) != 0) random_multiplier(m_small, s_small, qtest_range(0, 5) == 0 ? -25 : -3, 0);
    if (qtest_range(0, 9) == 0) { /* both general */
      random_multiplier(&q->a_multiplier, &q->a_shift, -3, 0);
      random_multiplier(&q->b_multiplier, &q->b_shift, -3, 0);
    }
    random_multiplier(&q->out_multiplier, &q->out_shift, -22, -16);
    if (qtest_range(0, 9) == 0) q->out_shift = qtest_range(-31, -1); /* outside the DSP loop's range too */
    if (qtest_range(0, 3) == 0) { /* power-of-two scales: outputs land exactly on halves */
      q->out_multiplier = 1 << 30;
      q->out_shift = qtest_range(-20, -17);
    }
    if (qtest_range(0, 4) == 0) {
      const int32_t exact_b = qtest_range(0, 1);
      q->a_multiplier = q->b_multiplier = 1 << 30;
      q->a_shift = q->b_shift = 0;
      random_multiplier(exact_b ? &q->a_multiplier : &q->b_multiplier, exact_b ? &q->a_shift : &q->b_shift, -22, -18);
      if (qtest_range(0, 1)) { /* the other term lands on halves too: its rounding shows */
        *(exact_b ? &q->a_multiplier : &q->b_multiplier) = 1 << 30;
      }
      random_multiplier(&q->out_multiplier, &q->out_shift, -2, -1);
      sensitive = 1 + exact_b;
    }
  }
  if (act == 0) {
    q->act_min = -128;
    q->act_max = 127;
  } else if (act == 1) {
    q->act_min = q->zero_point;
    q->act_max = 127;
  } else {
    q->act_min = qtest_range(-128, 0);
    q->act_max = qtest_range(q->act_min, 127);
  }
  return sensitive;
}

/* Geometry: kind 0 same shapes (flat), 1 b scalar, 2 b a channel vector, 3 a broadcast
 * over rows of b. Returns the output size. */
static int32_t random_geometry(int32_t op, tinyaot_broadcast_params *g, int32_t kind) {
  const int32_t rows = qtest_range(1, 12), cols = qtest_range(1, 23);
  int32_t k;
  for (k = 0; k < 6; ++k) {
    g->shape[k] = 1;
    g->a_stride[k] = 0;
    g->b_stride[k] = 0;
  }
  g->op = op;
  if (kind == 0) {
    g->shape[5] = qtest_range(1, MAX_N);
    g->a_stride[5] = g->b_stride[5] = 1;
    return g->shape[5];
  }
  g->shape[4] = rows;
  g->shape[5] = cols;
  g->a_stride[4] = cols;
  g->a_stride[5] = 1;
  if (kind == 2) g->b_stride[5] = 1;
  if (kind == 3) { /* a [1, cols] against b [rows, cols] */
    g->a_stride[4] = 0;
    g->b_stride[4] = cols;
    g->b_stride[5] = 1;
  }
  return rows * cols;
}

/* tflite.h's constant form of the terms against tinyaot_srdhm / tinyaot_rdbpot: every input
 * value and zero point for random multipliers of every exponent 0 .. 31, and output totals up
 * to 2^29 in magnitude. */
static int check_terms(void) {
  int32_t round, zp, x;
  for (round = 0; round < 64; ++round) {
    tinyaot_tflite_add_term t;
    int32_t m, shift;
    random_multiplier(&m, &shift, -31, 0);
    if (round < 32) shift = -round;
    if (round == 32) {
      m = 1 << 30;
      shift = 0;
    }
    for (zp = -128; zp <= 127; zp += round < 8 ? 1 : 17) {
      if (!tinyaot_tflite_add_term_prepare(zp, m, shift, &t)) return 1;
      for (x = -128; x <= 127; ++x) {
        const int32_t want = tinyaot_rdbpot(tinyaot_srdhm((x - zp) * (1 << 20), m), -shift);
        if (shift < 0 && tinyaot_tflite_add_input_e1(x, &t) != want) {
          printf("tflite add input term (exponent >= 1 form): x %ld zp %ld m %ld shift %ld differs\n", (long)x,
                 (long)zp, (long)m, (long)shift);
          return 1;
        }
        if (m == 1 << 30 && shift == 0 && want != (x - zp) * (1 << 19)) {
          printf("tflite add input term: ratio 1/2 is not exact for x %ld zp %ld\n", (long)x, (long)zp);
          return 1;
        }
        if (tinyaot_tflite_add_input(x, &t) != want) {
          printf("tflite add input term: x %ld zp %ld m %ld shift %ld: %ld, reference %ld\n", (long)x, (long)zp,
                 (long)m, (long)shift, (long)tinyaot_tflite_add_input(x, &t), (long)want);
          return 1;
        }
      }
    }
    if (!tinyaot_tflite_add_term_prepare(0, m, shift, &t)) return 1;
    for (x = 0; x < 4000; ++x) {
      const int32_t total = x < 8 ? (x & 1 ? -1 : 1) * ((1 << 29) - 1 - x / 2) : (int32_t)(qtest_next() >> 2) - (1 << 29);
      const int32_t want = tinyaot_rdbpot(tinyaot_srdhm(total, m), -shift);
      if (tinyaot_tflite_add_round(tinyaot_tflite_smmulr(2 * total, m), &t) != want) {
        printf("tflite add output term: total %ld m %ld shift %ld differs\n", (long)total, (long)m, (long)shift);
        return 1;
      }
    }
  }
  return 0;
}

int main(void) {
  static const int32_t ops[3] = {TINYAOT_BIN_ADD, TINYAOT_BIN_SUB, TINYAOT_BIN_MUL};
  int32_t t, i, flat = 0;
  if (check_terms()) return 1;
  for (t = 0; t < CASES; ++t) {
    const int32_t op = ops[qtest_range(0, 2)], kind = qtest_range(0, 4) < 2 ? 0 : qtest_range(1, 3);
    tinyaot_broadcast_params g;
    tinyaot_tflite_binary_params q;
    int32_t r, c, sensitive;
    random_geometry(op, &g, kind);
    sensitive = random_params(op, &q);
    qtest_fill_s8(a, MAX_N);
    qtest_fill_s8(b, MAX_N);
    if (sensitive) memset(sensitive == 1 ? a : b, sensitive == 1 ? q.a_zero_point : q.b_zero_point, MAX_N);
    if (!sensitive && qtest_range(0, 5) == 0) { /* extremes: |x - zp| = 255 */
      for (i = 0; i < MAX_N; ++i) a[i] = (int8_t)(q.a_zero_point >= 0 ? -128 : 127);
    }
    memset(got, 0x55, sizeof got);
    memset(want, 0x55, sizeof want);
    tinyaot_tflite_binary_s8(&g, &q, a, b, got);
    tinyaot_tflite_binary_s8_ref(&g, &q, a, b, want);
    if (qtest_compare("tflite_binary_s8", t, got, want, MAX_N)) return 1;
    for (r = 0; r < g.shape[4]; ++r) {
      for (c = 0; c < g.shape[5]; ++c) {
        const int32_t o = r * g.shape[5] + c;
        const int8_t v = oracle(op, &q, a[r * g.a_stride[4] + c * g.a_stride[5]], b[r * g.b_stride[4] + c * g.b_stride[5]]);
        if (want[o] != v) {
          printf("tflite_binary_s8_ref: case %ld (op %ld): output %ld = %d, TFLite's arithmetic %d\n", (long)t, (long)op,
                 (long)o, want[o], v);
          return 1;
        }
      }
    }
    flat += kind == 0;
  }
  printf("tflite_binary_s8 (%s path): %ld cases (%ld same-shape) equal to the reference and TFLite's arithmetic\n",
         qtest_path_name(TINYAOT_PATH_TFLITE_BINARY_S8), (long)CASES, (long)flat);
  return 0;
}
