/* Convolutions: Conv (1-D/2-D, groups, depthwise, dilation) and ConvTranspose.
 *
 * Activations are NHWC; 1-D convolutions run with in_h == out_h == kernel_h == 1. Weights are
 * re-laid at compile time:
 *   conv2d, conv1x1, conv_transpose2d: [out_c][kernel_h][kernel_w][in_c / groups] (OHWI)
 *   depthwise_conv2d:                  [kernel_h][kernel_w][out_c]               (1HWO)
 * bias is [out_c] or NULL. pad_top/pad_left may be negative (the window then starts inside
 * the input); bottom/right padding is implied by out_h/out_w. */
#ifndef TINYAOT_CONV_H
#define TINYAOT_CONV_H

#include <stdint.h>

#include "tinyaot/activation.h"

typedef struct {
  int32_t batch;
  int32_t in_h, in_w, in_c;
  int32_t out_h, out_w, out_c;
  int32_t kernel_h, kernel_w;
  int32_t stride_h, stride_w;
  int32_t dilation_h, dilation_w;
  int32_t pad_top, pad_left;
  int32_t groups; /* depthwise: groups == in_c, out_c = in_c * multiplier */
  tinyaot_act_f32 act;
} tinyaot_conv2d_f32_params;

/* Any groups, strides, dilations and pads. */
void tinyaot_conv2d_f32(const tinyaot_conv2d_f32_params *p, const float *input, const float *weights,
                        const float *bias, float *output);

/* groups == in_c; output channel c * multiplier + m reads input channel c. */
void tinyaot_depthwise_conv2d_f32(const tinyaot_conv2d_f32_params *p, const float *input,
                                  const float *weights, const float *bias, float *output);

/* 1x1 kernel, stride 1, no padding, groups == 1: a matrix product over pixels. */
void tinyaot_conv1x1_f32(const tinyaot_conv2d_f32_params *p, const float *input, const float *weights,
                         const float *bias, float *output);

/* Transposed convolution; in_* is the (small) input, out_* the (upsampled) output, pads are
 * the ONNX pads cropped from the full result. */
void tinyaot_conv_transpose2d_f32(const tinyaot_conv2d_f32_params *p, const float *input,
                                  const float *weights, const float *bias, float *output);

/* Kernel taps [*first, *last) whose input position base + tap * dilation lies in [0, size):
 * hoists every bounds check out of the inner loops of windowed kernels. */
static inline void tinyaot_window_taps(int32_t base, int32_t dilation, int32_t taps, int32_t size,
                                       int32_t *first, int32_t *last) {
  int32_t lo = base >= 0 ? 0 : (-base + dilation - 1) / dilation;
  int32_t hi = base >= size ? 0 : (size - base + dilation - 1) / dilation;
  if (hi > taps) hi = taps;
  if (lo > hi) lo = hi;
  *first = lo;
  *last = hi;
}

/* Output positions [*first, *last) of `outputs` whose every tap (position o * stride - pad +
 * tap * dilation) lies in [0, size): the windows the register-blocked fast paths take
 * without any clipping. */
static inline void tinyaot_interior_outputs(int32_t pad, int32_t stride, int32_t dilation, int32_t taps,
                                            int32_t size, int32_t outputs, int32_t *first, int32_t *last) {
  const int32_t span = (taps - 1) * dilation + 1;
  int32_t lo = pad > 0 ? (pad + stride - 1) / stride : 0;
  int32_t hi = size + pad >= span ? (size + pad - span) / stride + 1 : 0;
  if (hi > outputs) hi = outputs;
  if (lo > hi) lo = hi;
  *first = lo;
  *last = hi;
}

#endif
