/* tinyaot_tflite_avgpool_s8 (the path the core compiles, simd.h) against
 * tinyaot_tflite_avgpool_s8_ref, bit for bit: random NHWC geometries (channels 1 .. 70, so
 * every block size and tail; kernels up to 16 x 16 = 256 taps, the optimized paths' limit,
 * and beyond, which they hand to the portable kernel; strides, padding, batch 2; global
 * pooling), inputs random or all -128 / all 127 (the int16 sums' extremes) and clamps. */
#include <stddef.h>

#include "qtest.h"
#include "tinyaot/tflite.h"

#define MAX_IN 12000
#define MAX_OUT 6000
#define CASES 300

static int8_t input[MAX_IN], got[MAX_OUT], want[MAX_OUT];

static int32_t out_size(int32_t in, int32_t kernel, int32_t stride, int32_t pad) {
  return (in + 2 * pad - kernel) / stride + 1;
}

int main(void) {
  int32_t t, wide = 0;
  for (t = 0; t < CASES; ++t) {
    tinyaot_tflite_avgpool_params p;
    const int32_t kind = qtest_range(0, 9), fill = qtest_range(0, 9);
    size_t in_bytes, out_bytes;
    p.batch = qtest_range(1, 2);
    p.channels = qtest_range(0, 2) == 0 ? qtest_range(1, 70) : 8 * qtest_range(1, 8);
    if (kind == 0) { /* global pooling, up to 256 taps or beyond */
      p.in_h = qtest_range(1, 20);
      p.in_w = qtest_range(1, 17);
      p.channels = qtest_range(1, 20);
      p.kernel_h = p.in_h;
      p.kernel_w = p.in_w;
      p.stride_h = p.stride_w = 1;
      p.pad_top = p.pad_left = 0;
    } else {
      p.in_h = qtest_range(1, 12);
      p.in_w = qtest_range(1, 12);
      p.kernel_h = qtest_range(1, p.in_h < 4 ? p.in_h : 4);
      p.kernel_w = qtest_range(1, p.in_w < 4 ? p.in_w : 4);
      p.stride_h = qtest_range(1, 3);
      p.stride_w = qtest_range(1, 3);
      p.pad_top = qtest_range(0, p.kernel_h - 1);
      p.pad_left = qtest_range(0, p.kernel_w - 1);
    }
    /* Padding on both sides, as SAME does; every window overlaps the input. */
    p.out_h = out_size(p.in_h, p.kernel_h, p.stride_h, p.pad_top);
    p.out_w = out_size(p.in_w, p.kernel_w, p.stride_w, p.pad_left);
    in_bytes = (size_t)p.batch * p.in_h * p.in_w * p.channels;
    out_bytes = (size_t)p.batch * p.out_h * p.out_w * p.channels;
    if (in_bytes > MAX_IN || out_bytes > MAX_OUT) {
      --t;
      continue;
    }
    if (qtest_range(0, 2) == 0) {
      p.act_min = -128;
      p.act_max = 127;
    } else {
      p.act_min = qtest_range(-128, 0);
      p.act_max = qtest_range(p.act_min, 127);
    }
    if (fill == 0) {
      memset(input, 0x80, in_bytes); /* -128 everywhere */
    } else if (fill == 1) {
      memset(input, 0x7f, in_bytes);
    } else {
      qtest_fill_s8(input, (int32_t)in_bytes);
    }
    memset(got, 0x55, sizeof got);
    memset(want, 0x55, sizeof want);
    tinyaot_tflite_avgpool_s8(&p, input, got);
    tinyaot_tflite_avgpool_s8_ref(&p, input, want);
    if (qtest_compare("tflite_avgpool_s8", t, got, want, MAX_OUT)) return 1;
    wide += p.kernel_h * p.kernel_w > TINYAOT_TFLITE_AVGPOOL_MAX_TAPS;
  }
  printf("tflite_avgpool_s8 (%s path): %ld cases (%ld beyond %d taps) equal to the reference\n",
         qtest_path_name(TINYAOT_PATH_TFLITE_AVGPOOL_S8), (long)CASES, (long)wide, TINYAOT_TFLITE_AVGPOOL_MAX_TAPS);
  return 0;
}
