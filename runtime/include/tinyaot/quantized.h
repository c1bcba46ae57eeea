/* int8 kernels: quantized convolution, fully connected, add/mul, average pooling, softmax,
 * 256-entry lookup tables (sigmoid, leaky relu, requantization ...), max pooling, and the
 * quantize / dequantize kernels at the borders of float islands.
 *
 * Every quantized activation is int8: the compiler re-expresses uint8 tensors as int8 with the
 * zero point minus 128 (same real values). Activations are NHWC. The arithmetic is integer
 * only, except tinyaot_quantize_s8 / tinyaot_dequantize_s8, whose job is to cross to float.
 * Every number a kernel needs beyond the data (folded biases, per-channel multipliers and
 * shifts, output ranges, tables) is computed at compile time; compiler/tinyaot/quant.py and
 * the ops' evaluate functions are the golden model, bit for bit. */
#ifndef TINYAOT_QUANTIZED_H
#define TINYAOT_QUANTIZED_H

#include <stddef.h>
#include <stdint.h>

#include "tinyaot/elementwise.h" /* tinyaot_broadcast_params */
#include "tinyaot/pool.h"        /* tinyaot_pool2d_f32_params */
#include "tinyaot/requant.h"

/* Requantized output of an accumulating kernel: per output channel c,
 * y = clamp(round(acc * multiplier[c] * 2^-shift[c]) + zero_point, act_min, act_max)
 * with onnxruntime's rounding (tinyaot_requant_ort), or TFLite's (`rounding`). act_min/act_max are the int8 range
 * narrowed by a fused Relu/Clip. multiplier == NULL: the kernel writes the int32 accumulator
 * itself (ConvInteger, MatMulInteger). */
#define TINYAOT_ROUND_ORT 0           /* tinyaot_requant_ort */
#define TINYAOT_ROUND_TFLITE 1        /* tinyaot_requant_tflite: TFLite's Q0.31 multiplier, rounding twice */
#define TINYAOT_ROUND_TFLITE_SINGLE 2 /* tinyaot_requant_tflite_single */
typedef struct {
  const int32_t *multiplier;
  const int32_t *shift;
  int32_t zero_point;
  int32_t act_min, act_max;
  int32_t rounding; /* TINYAOT_ROUND_*: how multiplier/shift encode the scale and round */
} tinyaot_qoutput;

/* Store output `index` of channel c. */
static inline void tinyaot_qoutput_store(const tinyaot_qoutput *q, int32_t c, int32_t acc, void *output, size_t index) {
  if (q->multiplier == NULL) {
    ((int32_t *)output)[index] = acc;
  } else if (q->rounding == TINYAOT_ROUND_ORT) {
    ((int8_t *)output)[index] =
        (int8_t)tinyaot_requant_ort(acc, q->multiplier[c], q->shift[c], q->zero_point, q->act_min, q->act_max);
  } else {
    int32_t y = q->rounding == TINYAOT_ROUND_TFLITE ? tinyaot_requant_tflite(acc, q->multiplier[c], q->shift[c])
                                                     : tinyaot_requant_tflite_single(acc, q->multiplier[c], q->shift[c]);
    ((int8_t *)output)[index] = (int8_t)tinyaot_clamp_s32((int64_t)y + q->zero_point, q->act_min, q->act_max);
  }
}

/* tinyaot_qoutput_store out of line (kernels/qoutput_s8.c): the convolution and fully
 * connected kernels (portable and optimized files) share this one copy of the generic
 * requantization instead of inlining it into each of them. */
void tinyaot_qoutput_store_at(const tinyaot_qoutput *q, int32_t c, int32_t acc, void *output, size_t index);

/* Convolution with int8 weights, OHWI for conv2d and 1HWO for depthwise (see conv.h).
 * acc = bias + sum over the window of (x - input_zero_point) * (w - weight_zero_point), taps
 * in the padding contributing nothing (onnxruntime pads with the input zero point). When the
 * window lies inside the input the kernels compute folded_bias + sum(x * w) - w_zp * sum(x),
 * folded_bias = bias - x_zp * sum(w) + taps * x_zp * w_zp, so the inner loop is a plain MAC. */
typedef struct {
  int32_t batch;
  int32_t in_h, in_w, in_c;
  int32_t out_h, out_w, out_c;
  int32_t kernel_h, kernel_w;
  int32_t stride_h, stride_w;
  int32_t dilation_h, dilation_w;
  int32_t pad_top, pad_left;
  int32_t groups; /* depthwise: groups == in_c, out_c = in_c * multiplier */
  int32_t input_zero_point;
  const int32_t *weight_zero_point; /* [out_c], NULL when every weight zero point is 0 */
  const int32_t *bias;              /* [out_c] */
  const int32_t *folded_bias;       /* [out_c] */
  tinyaot_qoutput out;
} tinyaot_qconv2d_params;

/* `scratch`: TINYAOT_Q*_SCRATCH bytes of workspace, 16-byte aligned, planned by the compiler
 * for the duration of the call (the same on every core). The optimized paths (simd.h) keep
 * expanded or copied activations and one block of accumulators there (per-channel
 * requantization constants are derived per block, never stored); the portable
 * depthwise and fully connected kernels copy input rows there (when it holds them; NULL: they
 * read in place), so that an output overlapping its input (planner.py) never clobbers a row
 * still to be read. */
/* Convolution (groups of taps = kernel_h * kernel_w * in_c / groups): DSP, two expanded
 * windows (16 bytes per 4 taps), one gathered int8 window (4) and one block of accumulators
 * (128); MVE, the im2col column (taps bytes). out_c does not matter: the per-channel
 * requantization constants are derived per block of channels, never stored. */
#define TINYAOT_QCONV2D_S8_SCRATCH(taps, out_c) (20 * (((taps) + 3) / 4) + 128)
/* Depthwise: the most any optimized path needs for one block of channels (independent of
 * out_c). DSP (4 channels, tiles of t = min(out_w rounded up to even, 64) output pixels: a
 * plane up to 64 wide is one tile, so every row is expanded once and the output may overlap
 * the input, see ops/qconv.py depthwise_gap):
 * kernel_h ring rows of t/2 * stride_w + 1 positions of 16 bytes (column pairs), the block's
 * weights and requantization constants, 4 zero points (164 bytes). MVE (8 channels): the
 * packed weights, a ring of kernel_h band rows of 8-byte columns with its row tags, one
 * output row of accumulators (32 bytes per pixel); when the whole padded plane (dilation 1)
 * and one row of accumulators fit in 2 KiB, 2 KiB, so that Helium copies the plane once per
 * block and requantizes several rows per run. */
#define TINYAOT_QDW_DSP_TILE_(out_w) ((out_w) < 64 ? (out_w) + ((out_w) & 1) : 64)
#define TINYAOT_QDW_DSP_BYTES_(kernel_h, kernel_w, out_w, stride_w)                                           \
  (16 * (kernel_h) * (TINYAOT_QDW_DSP_TILE_(out_w) / 2 * (stride_w) + 1) + 164)
#define TINYAOT_QDW_MVE_RING_(kernel_h, kernel_w, out_w, stride_w)                                            \
  ((8 * (kernel_h) * (kernel_w) + 8 * (kernel_h) * (((out_w) - 1) * (stride_w) + (kernel_w)) + 4 * (kernel_h) + \
    15) / 16 * 16 +                                                                                            \
   32 * (out_w))
#define TINYAOT_QDW_MVE_PLANE_(kernel_h, kernel_w, out_h, out_w, stride_h, stride_w)                          \
  ((8 * (((out_h) - 1) * (stride_h) + (kernel_h)) * (((out_w) - 1) * (stride_w) + (kernel_w)) +              \
    8 * (kernel_h) * (kernel_w) + 15) / 16 * 16 +                                                              \
   32 * (out_w))
/* The portable depthwise (one output channel per input channel) runs channel by channel with a
 * ring of kernel_h padded input rows (span = (out_w - 1) * stride_w + (kernel_w - 1) *
 * dilation_w + 1 bytes each, row tags and offsets first) when it fits in the scratch, else in raster
 * order from the input: the ring is what lets its output overlap its input (planner.py). */
#define TINYAOT_QDW_REF_RING_BYTES(kernel_h, span) (8 * (kernel_h) + (kernel_h) * (span))
#define TINYAOT_QDW_MAX_(a, b) ((a) > (b) ? (a) : (b))
#define TINYAOT_QDEPTHWISE_CONV2D_S8_SCRATCH(kernel_h, kernel_w, out_h, out_w, stride_h, stride_w, out_c)       \
  TINYAOT_QDW_MAX_(                                                                                           \
      TINYAOT_QDW_MAX_(TINYAOT_QDW_DSP_BYTES_(kernel_h, kernel_w, out_w, stride_w),                            \
                       TINYAOT_QDW_MVE_RING_(kernel_h, kernel_w, out_w, stride_w)),                            \
      (TINYAOT_QDW_MVE_PLANE_(kernel_h, kernel_w, out_h, out_w, stride_h, stride_w) <= 2048 ? 1536 : 0))
void tinyaot_qconv2d_s8(const tinyaot_qconv2d_params *p, const int8_t *input, const int8_t *weights, void *output,
                        void *scratch);
void tinyaot_qconv2d_s8_ref(const tinyaot_qconv2d_params *p, const int8_t *input, const int8_t *weights,
                            void *output, void *scratch);
void tinyaot_qdepthwise_conv2d_s8(const tinyaot_qconv2d_params *p, const int8_t *input, const int8_t *weights,
                                  void *output, void *scratch);
void tinyaot_qdepthwise_conv2d_s8_ref(const tinyaot_qconv2d_params *p, const int8_t *input, const int8_t *weights,
                                      void *output, void *scratch);

/* rows x depth input times weights [out_c][depth]: Gemm, MatMul and 1x1 convolutions.
 * acc = folded_bias + sum(a * w) - w_zp * sum(a), folded as for convolutions. */
typedef struct {
  int32_t rows, depth, out_c;
  const int32_t *weight_zero_point; /* [out_c] or NULL */
  const int32_t *folded_bias;       /* [out_c] */
  tinyaot_qoutput out;
} tinyaot_qfully_connected_params;

/* DSP: two expanded rows (16 bytes per 4 of depth) and one block of accumulators (128);
 * MVE: a run of input rows copied (16 bytes per 16 of depth, rounded up) and their
 * accumulators (16 bytes each): >= 4 rows, 16 for a depth of 64 (KWS: the 1,280-byte floor
 * keeps runs long, 0.566 instructions/MAC instead of 0.599 with runs of 8), or the rows of a
 * matrix-vector product (fewer than 4). out_c does not matter. */
#define TINYAOT_QFULLY_CONNECTED_S8_SCRATCH(depth, out_c)                                                      \
  (16 * (((depth) + 3) / 4) + 512 > 1280 ? 16 * (((depth) + 3) / 4) + 512 : 1280)
void tinyaot_qfully_connected_s8(const tinyaot_qfully_connected_params *p, const int8_t *input, const int8_t *weights,
                                 void *output, void *scratch);
void tinyaot_qfully_connected_s8_ref(const tinyaot_qfully_connected_params *p, const int8_t *input,
                                     const int8_t *weights, void *output, void *scratch);

/* Broadcasting QLinearAdd (geometry op TINYAOT_BIN_ADD) and QLinearMul (TINYAOT_BIN_MUL).
 * add: y = round((da * a_multiplier + db * b_multiplier) * 2^-shift), the exact sum of the two
 *      float32 scale ratios a_scale/y_scale and b_scale/y_scale brought to one exponent;
 * mul: y = tinyaot_requant_ort(da * db, a_multiplier, shift), scale a_scale*b_scale/y_scale;
 * with da = a - a_zero_point, db = b - b_zero_point, then + zero_point, clamped. */
typedef struct {
  int32_t a_zero_point, b_zero_point;
  int64_t a_multiplier, b_multiplier;
  int32_t shift;
  int32_t zero_point, act_min, act_max;
} tinyaot_qbinary_params;

void tinyaot_qbinary_s8(const tinyaot_broadcast_params *geom, const tinyaot_qbinary_params *q, const int8_t *a,
                        const int8_t *b, int8_t *out);

/* AveragePool as onnxruntime computes it in float between DequantizeLinear and QuantizeLinear,
 * emulated exactly with integers (compiler/tinyaot/quant.py::float_window_sum, float_average):
 * per output, sum = the float32 sum of the dequantized values fl32(x_scale * (x - x_zp)) of the
 * window's input taps, added in onnxruntime's order for the geometry (sum_order, quant.py
 * SUM_ORDERS: 0 row-major, 1 columns then their sums, 2 four lanes of a global window),
 * avg = fl32(sum / divisor) with the divisor of tinyaot_avgpool2d_f32 (pool.h),
 * t = fl32(avg / y_scale), y = round_half_even(t) + zero_point (QDQ) or
 * round_half_even(fl32(t + zero_point)) (QLinearAveragePool), clamped to [act_min, act_max].
 * Scales are mantissa * 2^-exponent. */
typedef struct {
  int32_t batch;
  int32_t in_h, in_w, channels;
  int32_t out_h, out_w;
  int32_t kernel_h, kernel_w;
  int32_t stride_h, stride_w;
  int32_t pad_top, pad_left, pad_bottom, pad_right;
  int32_t count_include_pad;
  int32_t input_zero_point;
  int32_t x_mantissa, x_exponent;
  int32_t y_mantissa, y_exponent;
  int32_t zero_point, act_min, act_max;
  int32_t zero_point_before_round;
  int32_t sum_order;
} tinyaot_qavgpool2d_params;

void tinyaot_qavgpool2d_s8(const tinyaot_qavgpool2d_params *p, const int8_t *input, int8_t *output);

/* QLinearGlobalAveragePool (onnxruntime's integer formula): input [batch][pixels][channels],
 * acc = sum(x) - pixels * input_zero_point, y = tinyaot_requant_ort(acc, out.multiplier[0], ...)
 * with the multiplier of fl32(x_scale / fl32(y_scale * pixels)). */
void tinyaot_qglobal_avgpool_s8(int32_t batch, int32_t pixels, int32_t channels, int32_t input_zero_point,
                                const tinyaot_qoutput *out, const int8_t *input, int8_t *output);

/* y[i] = table[(uint8_t)x[i]]: any function of one 8-bit value (sigmoid, leaky relu,
 * requantization, int8 <-> uint8), tables built at compile time. */
void tinyaot_qlookup_8(const uint8_t *table, const uint8_t *input, uint8_t *output, int32_t n);

/* Softmax over `axis_size` elements `inner` apart, for outer x inner rows:
 * e = exp_table[x_max - x] = round(exp(-x_scale * (x_max - x)) * 2^24) and
 * y = round_half_even(e * out_numerator / (sum(e) * out_denominator)) + zero_point, saturated,
 * where out_numerator / out_denominator == 1 / y_scale exactly. */
typedef struct {
  int32_t outer, axis_size, inner;
  const uint32_t *exp_table; /* [256] */
  int64_t out_numerator;
  int64_t out_denominator;
  int32_t zero_point;
} tinyaot_qsoftmax_params;

void tinyaot_qsoftmax_s8(const tinyaot_qsoftmax_params *p, const int8_t *input, int8_t *output);

/* onnxruntime's QLinearSoftmax kernel, emulated exactly with integers (quant.py::ort_softmax):
 * sum = float32 sum, in element order, of t = exp_table[x_max - x] (float32 bit patterns of
 * onnxruntime's table), y = min(127, round_half_even(fl32(fl32(t * y_scale_inverse) / sum))
 * + zero_point), y_scale_inverse = floor(1 / y_scale). */
typedef struct {
  int32_t outer, axis_size, inner;
  const uint32_t *exp_table; /* [256] */
  int32_t y_scale_inverse;
  int32_t zero_point;
} tinyaot_qsoftmax_ort_params;

void tinyaot_qsoftmax_ort_s8(const tinyaot_qsoftmax_ort_params *p, const int8_t *input, int8_t *output);

/* Float island borders: y = clamp(round_half_even(x / scale[c]) + zero_point[c]) and
 * y = (x - zero_point[c]) * scale[c], onnxruntime's formulas; channel c = (i / inner) % channels
 * (channels == 1: per tensor). */
typedef struct {
  int32_t size, channels, inner;
  const float *scale;
  const int32_t *zero_point;
} tinyaot_quantize_params;

void tinyaot_quantize_s8(const tinyaot_quantize_params *p, const float *input, int8_t *output);
/* input_bits: 8 (int8) or 32 (int32: an integer accumulator) */
void tinyaot_dequantize(const tinyaot_quantize_params *p, int32_t input_bits, const void *input, float *output);

/* MaxPool / GlobalMaxPool on int8 (geometry and window rules of pool.h; no fused activation):
 * max commutes with the monotonic quantization, so the values are pooled as they are. */
void tinyaot_maxpool2d_s8(const tinyaot_pool2d_f32_params *p, const int8_t *input, int8_t *output);
void tinyaot_global_maxpool_s8(int32_t batch, int32_t pixels, int32_t channels, const int8_t *input,
                               int8_t *output);

#endif
