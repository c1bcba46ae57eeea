/* Random convolution geometries for the conv and depthwise tests (see qtest.h). */
#ifndef TINYAOT_TESTS_QCONV_CASES_H
#define TINYAOT_TESTS_QCONV_CASES_H

#include "qtest.h"

#define QCONV_MAX_INPUT 4096
#define QCONV_MAX_WEIGHTS 8192
#define QCONV_MAX_OUTPUT 8192

static int8_t qconv_input[QCONV_MAX_INPUT];
static int8_t qconv_weights[QCONV_MAX_WEIGHTS];
static int32_t qconv_bias[QTEST_MAX_C], qconv_folded[QTEST_MAX_C], qconv_wzp[QTEST_MAX_C];
static int32_t qconv_got[QCONV_MAX_OUTPUT], qconv_want[QCONV_MAX_OUTPUT];

/* Output size along one axis; 0 when the window does not fit. */
static inline int32_t qconv_out_size(int32_t in, int32_t kernel, int32_t stride, int32_t dilation,
                                     int32_t pad_begin, int32_t pad_end) {
  const int32_t span = (kernel - 1) * dilation + 1;
  return in + pad_begin + pad_end < span ? 0 : (in + pad_begin + pad_end - span) / stride + 1;
}

/* Fills the spatial geometry of p (batch, in_h/in_w, kernel, stride, dilation, pads, out_h/w)
 * at random; `kernel_w3`: a 3-wide kernel most of the time (the depthwise fast path). */
static inline void qconv_random_geometry(tinyaot_qconv2d_params *p, int32_t kernel_w3) {
  do {
    const int32_t pad_bottom = qtest_range(0, 2), pad_right = qtest_range(0, 2);
    p->batch = qtest_range(1, 2);
    p->in_h = qtest_range(1, 9);
    p->in_w = qtest_range(1, 9);
    p->kernel_h = qtest_range(1, 4);
    p->kernel_w = kernel_w3 && qtest_range(0, 4) ? 3 : qtest_range(1, 4);
    p->stride_h = qtest_range(1, 3);
    p->stride_w = qtest_range(1, 3);
    p->dilation_h = qtest_range(0, 3) ? 1 : 2;
    p->dilation_w = qtest_range(0, 3) ? 1 : 2;
    p->pad_top = qtest_range(0, 2);
    p->pad_left = qtest_range(0, 2);
    p->out_h = qconv_out_size(p->in_h, p->kernel_h, p->stride_h, p->dilation_h, p->pad_top, pad_bottom);
    p->out_w = qconv_out_size(p->in_w, p->kernel_w, p->stride_w, p->dilation_w, p->pad_left, pad_right);
  } while (p->out_h == 0 || p->out_w == 0);
}

/* Biases, weight zero points (1 case in 4) and the folded biases of `taps` weights per output
 * channel; weight(oc, t) reads the t-th weight of channel oc in the kernel's layout. A few
 * cases get biases between 2^29 and 2^31 (paths that bound the accumulator must fall back). */
static inline void qconv_random_biases(tinyaot_qconv2d_params *p, int32_t taps, const int8_t *weights,
                                       int32_t stride_oc, int32_t stride_tap) {
  const int32_t with_zp = qtest_range(0, 3) == 0, huge = qtest_range(0, 5) == 0;
  int32_t oc, t;
  p->input_zero_point = qtest_range(-128, 127);
  for (oc = 0; oc < p->out_c; ++oc) {
    int32_t sum = 0;
    qconv_wzp[oc] = with_zp ? qtest_range(-20, 20) : 0;
    qconv_bias[oc] = huge ? qtest_range(520000000, 1200000000) * (qtest_range(0, 1) ? 1 : -1)
                          : qtest_range(-50000, 50000);
    for (t = 0; t < taps; ++t) sum += weights[oc * stride_oc + t * stride_tap];
    qconv_folded[oc] = qconv_bias[oc] - p->input_zero_point * sum + taps * p->input_zero_point * qconv_wzp[oc];
  }
  p->weight_zero_point = with_zp ? qconv_wzp : NULL;
  p->bias = qconv_bias;
  p->folded_bias = qconv_folded;
}

/* log2 of a typical accumulator of `taps` random products (for the requantization scale). */
static inline int32_t qconv_scale_bits(int32_t taps) {
  int32_t bits = 13;
  while ((1 << (2 * (bits - 13))) < taps) bits++;
  return bits;
}

#endif
