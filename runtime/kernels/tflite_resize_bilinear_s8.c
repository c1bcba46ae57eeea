#include <stddef.h>

#include "tinyaot/tflite.h"

/* One axis: the Q10 source position of output index `o`, its lower / upper neighbours. */
static int32_t source_position(int32_t o, int32_t scale_10, int32_t half_pixel, int32_t in_size, int32_t *lower,
                               int32_t *upper) {
  const int32_t pos = half_pixel ? o * scale_10 + scale_10 / 2 - (1 << 9) : o * scale_10;
  const int32_t lo = pos / (1 << 10); /* C division truncates, as TFLite's */
  const int32_t hi = (pos + (1 << 10) - 1) / (1 << 10);
  *lower = lo > 0 ? lo : 0;
  *upper = hi < in_size - 1 ? hi : in_size - 1;
  return pos;
}

void tinyaot_tflite_resize_bilinear_s8(const tinyaot_tflite_resize_bilinear_params *p, const int8_t *input,
                                       int8_t *output) {
  int32_t n, oy, ox, c;
  for (n = 0; n < p->batch; ++n) {
    const int8_t *in_n = input + (size_t)n * p->in_h * p->in_w * p->channels;
    for (oy = 0; oy < p->out_h; ++oy) {
      int32_t y0, y1, x0, x1;
      const int32_t py = source_position(oy, p->scale_h_10, p->half_pixel_centers, p->in_h, &y0, &y1);
      const int64_t wy = py - (1 << 10) * y0; /* weight of row y1; negative above row 0 (y0 == y1) */
      for (ox = 0; ox < p->out_w; ++ox) {
        const int32_t px = source_position(ox, p->scale_w_10, p->half_pixel_centers, p->in_w, &x0, &x1);
        const int64_t wx = px - (1 << 10) * x0;
        const int8_t *r0 = in_n + (size_t)y0 * p->in_w * p->channels;
        const int8_t *r1 = in_n + (size_t)y1 * p->in_w * p->channels;
        for (c = 0; c < p->channels; ++c) {
          const int64_t total = r0[(size_t)x0 * p->channels + c] * ((1 << 10) - wy) * ((1 << 10) - wx) +
                                r1[(size_t)x0 * p->channels + c] * wy * ((1 << 10) - wx) +
                                r0[(size_t)x1 * p->channels + c] * ((1 << 10) - wy) * wx +
                                r1[(size_t)x1 * p->channels + c] * wy * wx;
          /* Halves away from zero; C division truncates. */
          *output++ = (int8_t)((total + (total > 0 ? (1 << 19) : -(1 << 19))) / (1 << 20));
        }
      }
    }
  }
}
