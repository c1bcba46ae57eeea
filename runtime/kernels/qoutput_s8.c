#include "tinyaot/quantized.h"
#include "tinyaot/simd.h"
#include "tinyaot/tinyaot.h" /* TINYAOT_NOINLINE */

/* The DSP fully connected and conv kernels' shared helpers (tinyaot/qdsp.h), defined once
 * here: both kernels list this file, so an image holds one copy (on Helium cores, where those
 * kernels take their MVE paths, only tests/kernels/requant_test.c calls them; the linker
 * drops them from images). */
#if TINYAOT_CORE_DSP && !defined(TINYAOT_EMULATE_DSP)
#define TINYAOT_DSP_DEFINE_SHARED
#include "tinyaot/qdsp.h"
#endif

/* Not inlined into the helpers above: tinyaot_qoutput_store is inlined here, once. */
TINYAOT_NOINLINE void tinyaot_qoutput_store_at(const tinyaot_qoutput *q, int32_t c, int32_t acc, void *output,
                                               size_t index) {
  tinyaot_qoutput_store(q, c, acc, output, index);
}
