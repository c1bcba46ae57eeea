/* tinyaot runtime: the public header every generated model includes.
 * C99, freestanding apart from <string.h>, <stdint.h> and <math.h> (float kernels only). */
#ifndef TINYAOT_TINYAOT_H
#define TINYAOT_TINYAOT_H

#include <stddef.h>
#include <stdint.h>

#define TINYAOT_OK 0
#define TINYAOT_ERR_NULL_ARG 1      /* inputs, outputs or workspace pointer is NULL */
#define TINYAOT_ERR_ALIGNMENT 2     /* workspace is not TINYAOT_WORKSPACE_ALIGN-aligned */
#define TINYAOT_ERR_CANARY 3        /* -DTINYAOT_CANARIES: a layer wrote outside the planned workspace */

/* Every planned tensor offset is a multiple of this, so the workspace must be too. */
#define TINYAOT_WORKSPACE_ALIGN 16

#if defined(__GNUC__) || defined(__clang__)
#define TINYAOT_ALIGNED(n) __attribute__((aligned(n)))
#define TINYAOT_NOINLINE __attribute__((noinline))
#else
#define TINYAOT_ALIGNED(n)
#define TINYAOT_NOINLINE
#endif

#ifdef TINYAOT_CANARIES
/* Built with -DTINYAOT_CANARIES, a model's <NAME>_WORKSPACE_SIZE adds this many guard bytes
 * before and after the planned workspace (a multiple of the alignment, so every planned
 * offset stays aligned). <name>_run writes the pattern into both guards before the first
 * layer and returns TINYAOT_ERR_CANARY if a layer changed any of it. Each byte depends on
 * its position, so a shifted copy of the guard does not pass for it either. */
#define TINYAOT_CANARY_BYTES 16u

static inline uint8_t tinyaot_canary_byte(size_t i) { return (uint8_t)(0xA5u ^ (i * 0x3Bu)); }

static inline void tinyaot_canary_fill(uint8_t *guard) {
  size_t i;
  for (i = 0; i < TINYAOT_CANARY_BYTES; ++i) guard[i] = tinyaot_canary_byte(i);
}

static inline int tinyaot_canary_intact(const uint8_t *guard) {
  size_t i;
  for (i = 0; i < TINYAOT_CANARY_BYTES; ++i) {
    if (guard[i] != tinyaot_canary_byte(i)) return 0;
  }
  return 1;
}
#endif

/* Float special values without depending on <math.h> macros in generated code. */
#define TINYAOT_INF (__builtin_inff())
#define TINYAOT_NAN (__builtin_nanf(""))

#endif
