#include "tinyaot/quantized.h"

void tinyaot_qoutput_store_at(const tinyaot_qoutput *q, int32_t c, int32_t acc, void *output, size_t index) {
  tinyaot_qoutput_store(q, c, acc, output, index);
}
