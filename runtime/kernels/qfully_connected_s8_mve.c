/* tinyaot_qfully_connected_s8 with Helium (MVE): four output channels at a time, each input
 * vector of 16 bytes loaded once for the four weight rows (VMLADAVA: 16 MACs), the depth's
 * tail under a VCTP predicate. Per block of four channels the scratch buffer holds the four
 * weight rows interleaved chunk by chunk (16 bytes of each row in turn), so one pointer and
 * immediate offsets address them, then the int32 accumulators of a run of input rows, which
 * tinyaot_mve_requantize_run (requant_mve.h) requantizes as one vector per row: the
 * accumulation loop keeps its sums in general registers and the requantization constants
 * stay in vector registers, neither spilling. Fewer than 4 rows: fc_direct. Bit for bit
 * tinyaot_qfully_connected_s8_ref. */
#include "tinyaot/quantized.h"
#include "tinyaot/simd.h"

#if TINYAOT_PATH_QFULLY_CONNECTED_S8 == TINYAOT_PATH_MVE
#include <arm_mve.h>
#include <stddef.h>

#include "tinyaot/requant_mve.h"
#include "tinyaot/tinyaot.h" /* TINYAOT_NOINLINE */

/* One block of four channels. */
typedef struct {
  const int8_t *packed;  /* chunks x 64 bytes: 16 bytes of each of the 4 rows per chunk, the
                          * last chunk zero-padded past depth */
  int32_t chunks, depth; /* chunks = ceil(depth / 16) */
  int32_t bias[4];       /* folded_bias */
  int32_t w_zp[4];       /* weight zero points (has_w_zp) */
  int32_t has_w_zp;
} fc_block;

/* Adds input chunk x (16 bytes, or the predicated tail) times the 4 packed weight rows at w. */
#define FC_CHUNK(S0, S1, S2, S3, XV, W)                \
  do {                                                 \
    S0 = vmladavaq_s8(S0, XV, vldrbq_s8((W)));         \
    S1 = vmladavaq_s8(S1, XV, vldrbq_s8((W) + 16));    \
    S2 = vmladavaq_s8(S2, XV, vldrbq_s8((W) + 32));    \
    S3 = vmladavaq_s8(S3, XV, vldrbq_s8((W) + 48));    \
  } while (0)

/* Rows input and input + depth times the block's 4 weight rows into acc[0..7]. VMLADAVA wants
 * its sum in an even register and the 8 sums need all of them (r0 ... r12, lr), which GCC
 * does not manage (it spills a sum to the stack on every chunk), hence the assembly: per 16
 * bytes of depth 6 loads, 8 VMLADAVA and the loop's 2 instructions. Without optimization
 * (-O0 keeps a frame pointer, the constraints cannot be met) the loop is C. */
static inline void fc_pair(const fc_block *f, const int8_t *input, int32_t *acc) {
  const int32_t depth = f->depth, full = depth / 16;
  const int8_t *x = input, *y = input + depth, *w = f->packed;
#if defined(__OPTIMIZE__)
  register int32_t s0 __asm__("r0") = f->bias[0];
  register int32_t s1 __asm__("r2") = f->bias[1];
  register int32_t s2 __asm__("r4") = f->bias[2];
  register int32_t s3 __asm__("r6") = f->bias[3];
  register int32_t t0 __asm__("r8") = s0;
  register int32_t t1 __asm__("r10") = s1;
  register int32_t t2 __asm__("r12") = s2;
  register int32_t t3 __asm__("lr") = s3;
  int32_t n = full;
  if (n > 0) {
    __asm__ volatile("1:\n\t"
                     "vldrb.8 q0, [%[x]], #16\n\t"
                     "vldrb.8 q1, [%[y]], #16\n\t"
                     "vldrb.8 q2, [%[w]], #64\n\t"
                     "vmladava.s8 %[s0], q0, q2\n\t"
                     "vmladava.s8 %[t0], q1, q2\n\t"
                     "vldrb.8 q2, [%[w], #-48]\n\t"
                     "vmladava.s8 %[s1], q0, q2\n\t"
                     "vmladava.s8 %[t1], q1, q2\n\t"
                     "vldrb.8 q2, [%[w], #-32]\n\t"
                     "vmladava.s8 %[s2], q0, q2\n\t"
                     "vmladava.s8 %[t2], q1, q2\n\t"
                     "vldrb.8 q2, [%[w], #-16]\n\t"
                     "vmladava.s8 %[s3], q0, q2\n\t"
                     "vmladava.s8 %[t3], q1, q2\n\t"
                     "subs %[n], %[n], #1\n\t"
                     "bne 1b\n"
                     : [s0] "+r"(s0), [s1] "+r"(s1), [s2] "+r"(s2), [s3] "+r"(s3), [t0] "+r"(t0), [t1] "+r"(t1),
                       [t2] "+r"(t2), [t3] "+r"(t3), [x] "+r"(x), [y] "+r"(y), [w] "+r"(w), [n] "+r"(n)
                     :
                     : "q0", "q1", "q2", "cc", "memory");
  }
  if (full < f->chunks) {
    /* the tail under a VCTP8 predicate: off lanes read nothing and give 0 (the packed
     * weights there are 0 too) */
    const mve_pred16_t tail = vctp8q((uint32_t)(depth - full * 16));
    const int8x16_t xv = vldrbq_z_s8(x, tail), yv = vldrbq_z_s8(y, tail);
    int8x16_t wv;
    __asm__ volatile("vldrb.8 %q[wv], [%[w]]\n\t"
                     "vmladava.s8 %[s0], %q[xv], %q[wv]\n\t"
                     "vmladava.s8 %[t0], %q[yv], %q[wv]\n\t"
                     "vldrb.8 %q[wv], [%[w], #16]\n\t"
                     "vmladava.s8 %[s1], %q[xv], %q[wv]\n\t"
                     "vmladava.s8 %[t1], %q[yv], %q[wv]\n\t"
                     "vldrb.8 %q[wv], [%[w], #32]\n\t"
                     "vmladava.s8 %[s2], %q[xv], %q[wv]\n\t"
                     "vmladava.s8 %[t2], %q[yv], %q[wv]\n\t"
                     "vldrb.8 %q[wv], [%[w], #48]\n\t"
                     "vmladava.s8 %[s3], %q[xv], %q[wv]\n\t"
                     "vmladava.s8 %[t3], %q[yv], %q[wv]\n"
                     : [s0] "+r"(s0), [s1] "+r"(s1), [s2] "+r"(s2), [s3] "+r"(s3), [t0] "+r"(t0), [t1] "+r"(t1),
                       [t2] "+r"(t2), [t3] "+r"(t3), [wv] "=&w"(wv)
                     : [xv] "w"(xv), [yv] "w"(yv), [w] "r"(w)
                     : "memory");
  }
#else
  const mve_pred16_t tail = vctp8q((uint32_t)(depth - full * 16));
  int32_t s0 = f->bias[0], s1 = f->bias[1], s2 = f->bias[2], s3 = f->bias[3];
  int32_t t0 = s0, t1 = s1, t2 = s2, t3 = s3;
  int32_t k;
  for (k = 0; k < f->chunks; ++k, x += 16, y += 16, w += 64) {
    const mve_pred16_t lanes = k < full ? vctp8q(16) : tail;
    const int8x16_t xv = vldrbq_z_s8(x, lanes), yv = vldrbq_z_s8(y, lanes);
    FC_CHUNK(s0, s1, s2, s3, xv, w);
    FC_CHUNK(t0, t1, t2, t3, yv, w);
  }
#endif
  acc[0] = s0;
  acc[1] = s1;
  acc[2] = s2;
  acc[3] = s3;
  acc[4] = t0;
  acc[5] = t1;
  acc[6] = t2;
  acc[7] = t3;
}

/* acc[4 * i + j] = bias + row i of `input` times weight row j, for `rows` rows. The last chunk
 * loads the input under a VCTP8 predicate (off lanes read nothing and give 0; the weights
 * there are 0 too). */
static TINYAOT_NOINLINE void fc_accumulate4(const fc_block *f, const int8_t *input, int32_t rows, int32_t *acc) {
  const int32_t depth = f->depth, full = depth / 16;
  const mve_pred16_t tail = vctp8q((uint32_t)(depth - full * 16));
  const int8_t *w_tail = f->packed + full * 64;
  /* two rows at a time (no weight zero points): one weight load feeds two VMLADAVA */
  const int32_t pairs = f->has_w_zp ? 0 : rows & ~1;
  int32_t i, k;
  for (i = 0; i < pairs; i += 2, input += 2 * depth, acc += 8) fc_pair(f, input, acc);
  for (; i < rows; ++i, input += depth, acc += 4) {
    const int8_t *x = input, *w = f->packed;
    int32_t s0 = f->bias[0], s1 = f->bias[1], s2 = f->bias[2], s3 = f->bias[3];
    for (k = 0; k < full; ++k, x += 16, w += 64) {
      const int8x16_t xv = vldrbq_s8(x);
      FC_CHUNK(s0, s1, s2, s3, xv, w);
    }
    if (full < f->chunks) {
      const int8x16_t xv = vldrbq_z_s8(x, tail);
      FC_CHUNK(s0, s1, s2, s3, xv, w_tail);
    }
    if (f->has_w_zp) {
      /* - w_zp * sum(a) */
      int32_t a_sum = 0;
      for (k = 0; k < depth; k += 16) a_sum = vaddvaq_s8(a_sum, vldrbq_z_s8(input + k, vctp8q((uint32_t)(depth - k))));
      s0 -= f->w_zp[0] * a_sum;
      s1 -= f->w_zp[1] * a_sum;
      s2 -= f->w_zp[2] * a_sum;
      s3 -= f->w_zp[3] * a_sum;
    }
    acc[0] = s0;
    acc[1] = s1;
    acc[2] = s2;
    acc[3] = s3;
  }
}

/* Few rows (a matrix-vector product): per block and row, the four weight rows read where they
 * are and the four channels requantized at once (requant_mve.h); packing the weights and a
 * second loop would cost more than they save. */
static void fc_direct(const tinyaot_qfully_connected_params *p, const int8_t *input, const int8_t *weights,
                      void *output) {
  const int32_t depth = p->depth, rows = p->rows, out_c = p->out_c;
  const tinyaot_qoutput q = p->out; /* a copy: the output stores cannot alias it */
  const int32_t body = depth & ~15;
  const mve_pred16_t tail = vctp8q((uint32_t)(depth - body));
  int32_t n, r, k;
  for (n = 0; n < out_c; n += 4) {
    const int32_t count = out_c - n < 4 ? out_c - n : 4;
    const tinyaot_mve_requant rq = tinyaot_mve_requant_prepare(&q, n, count);
    const int32x4_t bias = vldrwq_z_s32(p->folded_bias + n, rq.lanes);
    const int32x4_t w_zp =
        p->weight_zero_point != NULL ? vldrwq_z_s32(p->weight_zero_point + n, rq.lanes) : vdupq_n_s32(0);
    /* Missing channels of the last block repeat the first row: computed, never stored. */
    const int8_t *w0 = weights + (size_t)n * depth;
    const int8_t *w1 = count > 1 ? w0 + depth : w0;
    const int8_t *w2 = count > 2 ? w1 + depth : w0;
    const int8_t *w3 = count > 3 ? w2 + depth : w0;
    for (r = 0; r < rows; ++r) {
      const int8_t *a = input + (size_t)r * depth;
      int32_t acc0 = 0, acc1 = 0, acc2 = 0, acc3 = 0;
      int32x4_t acc;
      for (k = 0; k < body; k += 16) {
        const int8x16_t x = vldrbq_s8(a + k);
        acc0 = vmladavaq_s8(acc0, x, vldrbq_s8(w0 + k));
        acc1 = vmladavaq_s8(acc1, x, vldrbq_s8(w1 + k));
        acc2 = vmladavaq_s8(acc2, x, vldrbq_s8(w2 + k));
        acc3 = vmladavaq_s8(acc3, x, vldrbq_s8(w3 + k));
      }
      if (body < depth) {
        /* Predicated-off lanes load zeros: they add nothing. */
        const int8x16_t x = vldrbq_z_s8(a + body, tail);
        acc0 = vmladavaq_s8(acc0, x, vldrbq_z_s8(w0 + body, tail));
        acc1 = vmladavaq_s8(acc1, x, vldrbq_z_s8(w1 + body, tail));
        acc2 = vmladavaq_s8(acc2, x, vldrbq_z_s8(w2 + body, tail));
        acc3 = vmladavaq_s8(acc3, x, vldrbq_z_s8(w3 + body, tail));
      }
      acc = vaddq_s32(tinyaot_mve_vector4(acc0, acc1, acc2, acc3), bias);
      if (p->weight_zero_point != NULL) {
        int32_t a_sum = 0;
        for (k = 0; k < depth; k += 16) a_sum = vaddvaq_s8(a_sum, vldrbq_z_s8(a + k, vctp8q((uint32_t)(depth - k))));
        acc = vmlaq_n_s32(acc, w_zp, -a_sum);
      }
      tinyaot_mve_qoutput_store4(&rq, &q, n, acc, output, (size_t)r * out_c + (size_t)n);
    }
  }
}

void tinyaot_qfully_connected_s8(const tinyaot_qfully_connected_params *p, const int8_t *input, const int8_t *weights,
                                 void *output, void *scratch) {
  const int32_t depth = p->depth, rows = p->rows, out_c = p->out_c;
  const tinyaot_qoutput q = p->out; /* a copy: the output stores cannot alias it */
  const int32_t chunks = (depth + 15) / 16;
  /* with today's macro 64 * chunks <= 16 * ceil(depth / 4) + 48, so the accumulators get
   * >= 24 * out_c - 48 bytes; too few for one row (out_c 1 or 2, or a smaller macro) takes
   * fc_direct (run < 1) */
  const size_t packed_bytes = (size_t)chunks * 64;
  const size_t scratch_bytes = (size_t)TINYAOT_QFULLY_CONNECTED_S8_SCRATCH(depth, out_c);
  const int32_t run = scratch_bytes > packed_bytes ? (int32_t)((scratch_bytes - packed_bytes) / 16) : 0;
  int8_t *packed = (int8_t *)scratch;
  int32_t *acc = (int32_t *)(void *)(packed + packed_bytes);
  fc_block f;
  int32_t n, r, j, k;
  if (rows < 4 || run < 1) {
    fc_direct(p, input, weights, output);
    return;
  }
  f.packed = packed;
  f.chunks = chunks;
  f.depth = depth;
  f.has_w_zp = p->weight_zero_point != NULL;
  for (n = 0; n < out_c; n += 4) {
    const int32_t count = out_c - n < 4 ? out_c - n : 4;
    for (j = 0; j < 4; ++j) {
      /* Missing channels of the last block repeat the first: computed, never stored. */
      const int32_t c = j < count ? n + j : n;
      const int8_t *w = weights + (size_t)c * depth;
      for (k = 0; k < chunks; ++k) {
        vstrbq_s8(packed + k * 64 + j * 16, vldrbq_z_s8(w + k * 16, vctp8q((uint32_t)(depth - k * 16))));
      }
      f.bias[j] = p->folded_bias[c];
      f.w_zp[j] = f.has_w_zp ? p->weight_zero_point[c] : 0;
    }
    for (r = 0; r < rows; r += run) {
      const int32_t m = rows - r < run ? rows - r : run;
      fc_accumulate4(&f, input + (size_t)r * depth, m, acc);
      tinyaot_mve_requantize_run(&q, n, count, acc, 4, m, out_c, output, (size_t)r * out_c + (size_t)n);
    }
  }
}
#endif
