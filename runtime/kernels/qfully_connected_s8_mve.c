/* tinyaot_qfully_connected_s8 with Helium (MVE). The memory planner may place the output over
 * the dying input (docs/ARCHITECTURE.md, overlap contract), so the kernel copies a run of input
 * rows to the scratch (rows ascending) and computes all channels of the run from the copy:
 * outputs are written only after their rows were read, and later runs read only later rows.
 * The copy interleaves each pair of rows chunk by chunk (16 bytes of each row in turn, the last
 * chunk zero-padded past depth), so one pointer and immediate offsets address both, leaving
 * registers for the 4 weight rows read in place: four output channels at a time, each 16-byte
 * weight vector loaded once for two rows (VMLADAVA: 16 MACs), the depth's tail under a VCTP
 * predicate. The int32 sums of the run are requantized by tinyaot_mve_requantize_run
 * (requant_mve.h) as one vector per row. Fewer than 4 rows: fc_direct on a plain copy. Bit for
 * bit tinyaot_qfully_connected_s8_ref. */
#include "tinyaot/quantized.h"
#include "tinyaot/simd.h"

#if TINYAOT_PATH_QFULLY_CONNECTED_S8 == TINYAOT_PATH_MVE
#include <arm_mve.h>
#include <stddef.h>

#include "tinyaot/requant_mve.h"
#include "tinyaot/tinyaot.h" /* TINYAOT_NOINLINE */

/* One block of four channels over the pairs of a run, laid out for fc_pairs' assembly (word
 * offsets fixed there). */
typedef struct {
  int32_t bias[8];     /* folded_bias of the 4 channels, twice (the sums of both rows) */
  const int8_t *w[4];  /* the weight rows (missing channels repeat the first) */
  int32_t full;        /* depth / 16 */
  int32_t tail;        /* depth % 16 != 0 */
  int32_t *acc;        /* the next pair's 8 sums: acc[4 * i + j] row i, channel j */
  int32_t pairs;       /* > 0 */
  int32_t predicate;   /* VCTP8 of depth % 16, for the tail */
} fc_block;

/* The block's 4 weight rows times the run's interleaved pairs from xy into f->acc (advanced).
 * VMLADAVA wants its sum in an even register and the 8 sums need all of them (r0 ... r12,
 * lr), the 4 weight pointers, xy and the count the odd ones, which GCC does not manage, hence
 * the assembly: per 16 bytes of depth 6 loads, 8 VMLADAVA and the loop's 2 instructions; per
 * pair 18 more (the block reloaded from memory through its pointer kept on the stack: one LDM
 * sets the 8 sums to the biases, one STM stores them in acc order). Without optimization
 * (-O0 keeps a frame pointer in r7) the loop is C. */
static void fc_pairs(fc_block *f, const int8_t *xy) {
#if defined(__OPTIMIZE__)
  register fc_block *block __asm__("r11") = f;
  register const int8_t *x __asm__("r1") = xy;
  __asm__ volatile("push {r11}\n\t"
                   "ldr r0, [r11, #64]\n\t"
                   "vmsr p0, r0\n"
                   "2:\n\t"
                   "ldm r11, {r0, r2, r4, r6, r8, r10, r12, lr}\n\t"
                   "ldrd r3, r5, [r11, #32]\n\t"
                   "ldrd r7, r9, [r11, #40]\n\t"
                   "ldr r11, [r11, #48]\n\t"
                   "cmp r11, #0\n\t"
                   "beq 3f\n"
                   "1:\n\t"
                   "vldrb.8 q0, [r1], #32\n\t"
                   "vldrb.8 q1, [r1, #-16]\n\t"
                   "vldrb.8 q2, [r3], #16\n\t"
                   "vmladava.s8 r0, q0, q2\n\t"
                   "vmladava.s8 r8, q1, q2\n\t"
                   "vldrb.8 q2, [r5], #16\n\t"
                   "vmladava.s8 r2, q0, q2\n\t"
                   "vmladava.s8 r10, q1, q2\n\t"
                   "vldrb.8 q2, [r7], #16\n\t"
                   "vmladava.s8 r4, q0, q2\n\t"
                   "vmladava.s8 r12, q1, q2\n\t"
                   "vldrb.8 q2, [r9], #16\n\t"
                   "vmladava.s8 r6, q0, q2\n\t"
                   "vmladava.s8 lr, q1, q2\n\t"
                   "subs r11, r11, #1\n\t"
                   "bne 1b\n"
                   "3:\n\t"
                   "ldr r11, [sp]\n\t"
                   "ldr r11, [r11, #52]\n\t"
                   "cmp r11, #0\n\t"
                   "beq 4f\n\t"
                   /* the tail: the weights under the predicate (off lanes read nothing and
                    * give 0; the copied inputs there are 0 too) */
                   "vldrb.8 q0, [r1], #32\n\t"
                   "vldrb.8 q1, [r1, #-16]\n\t"
                   "vpst\n\t"
                   "vldrbt.8 q2, [r3]\n\t"
                   "vmladava.s8 r0, q0, q2\n\t"
                   "vmladava.s8 r8, q1, q2\n\t"
                   "vpst\n\t"
                   "vldrbt.8 q2, [r5]\n\t"
                   "vmladava.s8 r2, q0, q2\n\t"
                   "vmladava.s8 r10, q1, q2\n\t"
                   "vpst\n\t"
                   "vldrbt.8 q2, [r7]\n\t"
                   "vmladava.s8 r4, q0, q2\n\t"
                   "vmladava.s8 r12, q1, q2\n\t"
                   "vpst\n\t"
                   "vldrbt.8 q2, [r9]\n\t"
                   "vmladava.s8 r6, q0, q2\n\t"
                   "vmladava.s8 lr, q1, q2\n"
                   "4:\n\t"
                   "ldr r11, [sp]\n\t"
                   "ldr r3, [r11, #56]\n\t"
                   "stmia r3!, {r0, r2, r4, r6, r8, r10, r12, lr}\n\t"
                   "str r3, [r11, #56]\n\t"
                   "ldr r3, [r11, #60]\n\t"
                   "subs r3, r3, #1\n\t"
                   "str r3, [r11, #60]\n\t"
                   "bne 2b\n\t"
                   "pop {r11}\n"
                   : "+r"(block), "+r"(x)
                   :
                   : "r0", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r12", "lr", "q0", "q1", "q2",
                     "cc", "memory");
#else
  const mve_pred16_t tail = (mve_pred16_t)f->predicate;
  const int32_t chunks = f->full + f->tail;
  int32_t k, j;
  for (; f->pairs > 0; --f->pairs, f->acc += 8) {
    int32_t s[8];
    for (j = 0; j < 8; ++j) s[j] = f->bias[j];
    for (k = 0; k < chunks; ++k, xy += 32) {
      const mve_pred16_t lanes = k < f->full ? vctp8q(16) : tail;
      const int8x16_t xv = vldrbq_s8(xy), yv = vldrbq_s8(xy + 16);
      for (j = 0; j < 4; ++j) {
        const int8x16_t wv = vldrbq_z_s8(f->w[j] + 16 * k, lanes);
        s[j] = vmladavaq_s8(s[j], xv, wv);
        s[4 + j] = vmladavaq_s8(s[4 + j], yv, wv);
      }
    }
    for (j = 0; j < 8; ++j) f->acc[j] = s[j];
  }
#endif
}

/* Few rows (a matrix-vector product): per block and row, the four weight rows read where they
 * are and the four channels requantized at once (requant_mve.h); interleaving the rows and a
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

/* Copies `bytes` bytes from `from` to `to`, the last 16 under a VCTP8 predicate. */
static void fc_copy(int8_t *to, const int8_t *from, int32_t bytes) {
  int32_t k;
  for (k = 0; k < bytes; k += 16) {
    const mve_pred16_t lanes = vctp8q((uint32_t)(bytes - k));
    vstrbq_p_s8(to + k, vldrbq_z_s8(from + k, lanes), lanes);
  }
}

void tinyaot_qfully_connected_s8(const tinyaot_qfully_connected_params *p, const int8_t *input, const int8_t *weights,
                                 void *output, void *scratch) {
  const int32_t depth = p->depth, rows = p->rows, out_c = p->out_c;
  const tinyaot_qoutput q = p->out; /* a copy: the output stores cannot alias it */
  const int32_t chunks = (depth + 15) / 16;
  /* per row 16 * chunks <= depth + 15 bytes of copied input and 16 of sums: the macro's
   * 16 * ceil(depth / 4) + 512 bytes hold >= 4 rows (an even number: whole pairs) */
  const int32_t row_bytes = 16 * chunks;
  const size_t scratch_bytes = (size_t)TINYAOT_QFULLY_CONNECTED_S8_SCRATCH(depth, out_c);
  const int32_t run = (int32_t)(scratch_bytes / (size_t)(row_bytes + 16)) & ~1;
  int8_t *xs = (int8_t *)scratch;
  int32_t *acc = (int32_t *)(void *)(xs + (size_t)run * row_bytes);
  fc_block f;
  int32_t n, r, i, j, k;
  if (rows < 4) {
    /* rows * depth <= 16 * ceil(depth / 4) bytes: the scratch holds them */
    fc_copy(xs, input, rows * depth);
    fc_direct(p, xs, weights, output);
    return;
  }
  f.full = depth / 16;
  f.tail = f.full < chunks;
  f.predicate = (int32_t)vctp8q((uint32_t)(depth - f.full * 16));
  for (r = 0; r < rows; r += run) {
    const int32_t m = rows - r < run ? rows - r : run;
    const int8_t *in = input + (size_t)r * depth;
    /* the run's rows, pairs interleaved chunk by chunk; an odd run's last pair ends in zeros */
    for (i = 0; i < (m + 1) / 2 * 2; ++i) {
      int8_t *d = xs + (i / 2) * 2 * row_bytes + (i & 1) * 16;
      for (k = 0; k < chunks; ++k, d += 32) {
        const mve_pred16_t lanes = vctp8q(i < m ? (uint32_t)(depth - k * 16) : 0u);
        vstrbq_s8(d, vldrbq_z_s8(in + (size_t)i * depth + k * 16, lanes));
      }
    }
    for (n = 0; n < out_c; n += 4) {
      const int32_t count = out_c - n < 4 ? out_c - n : 4;
      for (j = 0; j < 4; ++j) {
        /* Missing channels of the last block repeat the first: computed, never stored. */
        const int32_t c = j < count ? n + j : n;
        f.w[j] = weights + (size_t)c * depth;
        f.bias[j] = f.bias[4 + j] = p->folded_bias[c];
      }
      f.acc = acc;
      f.pairs = (m + 1) / 2;
      fc_pairs(&f, xs);
      if (p->weight_zero_point != NULL) {
        /* - w_zp * sum(a), the copied rows summed whole (zero past depth) */
        for (i = 0; i < m; ++i) {
          const int8_t *x = xs + (i / 2) * 2 * row_bytes + (i & 1) * 16;
          int32_t a_sum = 0;
          for (k = 0; k < chunks; ++k) a_sum = vaddvaq_s8(a_sum, vldrbq_s8(x + k * 32));
          for (j = 0; j < 4; ++j) acc[4 * i + j] -= p->weight_zero_point[j < count ? n + j : n] * a_sum;
        }
      }
      tinyaot_mve_requantize_run(&q, n, count, acc, 4, m, out_c, output, (size_t)r * out_c + (size_t)n);
    }
  }
}
#endif
