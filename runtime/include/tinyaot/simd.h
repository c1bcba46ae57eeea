/* Which implementation of each optimized kernel this core compiles.
 *
 * A kernel with optimized paths has its portable implementation `tinyaot_<k>_ref` in
 * kernels/<k>.c (always built: the reference the optimized paths are tested against, bit for
 * bit) and optional kernels/<k>_dsp.c (Arm DSP extension: SXTB16/SMLAD, armv7e-m and
 * armv8-m.main+dsp) and kernels/<k>_mve.c (Helium, armv8.1-m.main+mve). Exactly one of the
 * files defines the public `tinyaot_<k>`, chosen by the kernel's row below. Defining
 * TINYAOT_PORTABLE makes every kernel portable (for comparisons and benchmarks). */
#ifndef TINYAOT_SIMD_H
#define TINYAOT_SIMD_H

#define TINYAOT_PATH_PORTABLE 0
#define TINYAOT_PATH_DSP 1
#define TINYAOT_PATH_MVE 2

#if defined(TINYAOT_PORTABLE)
#define TINYAOT_CORE_DSP 0
#define TINYAOT_CORE_MVE 0
#else
#if (defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP) || defined(TINYAOT_EMULATE_DSP) /* tests: tinyaot/qdsp.h */
#define TINYAOT_CORE_DSP 1
#else
#define TINYAOT_CORE_DSP 0
#endif
#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
#define TINYAOT_CORE_MVE 1
#else
#define TINYAOT_CORE_MVE 0
#endif
#endif

/* The best path a kernel has on this core: MVE if it has an MVE file, else DSP if it has a
 * DSP file, else portable. One line per optimized kernel:
 * TINYAOT_BEST_PATH(has_dsp_file, has_mve_file). */
#define TINYAOT_BEST_PATH(has_dsp, has_mve)                                                  \
  ((has_mve) && TINYAOT_CORE_MVE ? TINYAOT_PATH_MVE                                          \
                                 : ((has_dsp) && TINYAOT_CORE_DSP ? TINYAOT_PATH_DSP : TINYAOT_PATH_PORTABLE))

#define TINYAOT_PATH_QFULLY_CONNECTED_S8 TINYAOT_BEST_PATH(1, 1)
#define TINYAOT_PATH_QCONV2D_S8 TINYAOT_BEST_PATH(1, 1)
#define TINYAOT_PATH_QDEPTHWISE_CONV2D_S8 TINYAOT_BEST_PATH(1, 1)
#define TINYAOT_PATH_TFLITE_BINARY_S8 TINYAOT_BEST_PATH(1, 1)
#define TINYAOT_PATH_TFLITE_AVGPOOL_S8 TINYAOT_BEST_PATH(1, 1)

#endif
