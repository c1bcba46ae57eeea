"""`tinyaot selfcheck`: a C main() that checks a compiled model against golden outputs.

The program embeds a sample input and the expected outputs (computed elsewhere, e.g. with
onnxruntime by tools/golden), runs one inference, prints each output compactly (all values
of a small output; the first few values and their sum for a big one), the error against
the golden values, and one summary line:

    tinyaot: kws on cortex_m7: max |err| = 1.19209e-07, PASS

and returns 0 (PASS) or 1 (FAIL). The same file builds for the host and for every core;
the core's name comes from the TINYAOT_CORE macro ("host" when undefined). Without golden
outputs (`expected=None`, e.g. `tinyaot export --format project`), it prints the outputs
and a summary line `tinyaot: kws on cortex_m4: done`, and returns 0 once the model ran.

On a tinyaot board (platforms/board), it also measures the stack: it repaints the stack
just before the inference and prints the high-water mark after it,
    stack: 1496 of 32768 bytes used
through weak references to the board's functions, so the same file links on the host
(which prints no such line) and in a vendor's SDK.

Criteria: float outputs pass when max |err| <= 1e-4 * max(1, max |ref|) (per output
tensor, computed in the firmware); integer outputs must be bit-exact.

Floats are printed with integer formatting of our own: newlib's printf("%f") allocates
from the heap, and firmware should not need one.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from tinyaot.codegen import GeneratedC, array_literal
from tinyaot.errors import TinyaotError
from tinyaot.ir import DType, Graph
from tinyaot.ops.base import c_float
from tinyaot.pipeline import CompiledModel

FLOAT_TOLERANCE = 1e-4  # relative to max(1, max |ref|)
PREVIEW = 8  # outputs with more values print only this many, plus their sum


# C helpers, plain C99 with stdio's integer formatting only. Each is emitted when used.
_PUT_NUMBER = r"""
/* Prints v with 6 significant digits as d.ddddde+XX, using integer formatting only. */
static void put_number(double v) {
  int e = 0;
  unsigned long m;
  if (v != v) {
    fputs("nan", stdout);
    return;
  }
  if (v < 0.0) {
    putchar('-');
    v = -v;
  }
  if (v > 1.0e300) {
    fputs("inf", stdout);
    return;
  }
  if (v == 0.0) {
    putchar('0');
    return;
  }
  while (v >= 10.0) {
    v /= 10.0;
    e++;
  }
  while (v < 1.0) {
    v *= 10.0;
    e--;
  }
  m = (unsigned long)(v * 100000.0 + 0.5);
  if (m >= 1000000ul) {
    m /= 10ul;
    e++;
  }
  printf("%lu.%05lue%c%02d", m / 100000ul, m % 100000ul, e < 0 ? '-' : '+', e < 0 ? -e : e);
}
"""

_SHOWN_VALUES = r"""
/* How many values of an n-value tensor are printed: all of a small one. */
static size_t shown_values(size_t n) {
  const size_t shown = n <= 2u * TINYAOT_SELFCHECK_PREVIEW ? n : TINYAOT_SELFCHECK_PREVIEW;
  if (shown < n) printf("  first %lu of %lu:", (unsigned long)shown, (unsigned long)n);
  else fputs("  values:", stdout);
  return shown;
}
"""

_FLOAT_COMPARE = r"""
/* max |out - ref| into *max_err; returns 1 when it is within the tolerance. Equal values
 * (equal infinities, two NaNs) are no error; a NaN on one side only fails. */
static int compare_float(const float *out, const float *ref, size_t n, double *max_err) {
  float ref_max = 1.0f, err_max = 0.0f, err;
  int nan_err = 0;
  size_t i;
  for (i = 0; i < n; i++) {
    const float a = ref[i] < 0.0f ? -ref[i] : ref[i];
    if (a > ref_max) ref_max = a;
  }
  for (i = 0; i < n; i++) {
    if (out[i] == ref[i] || (out[i] != out[i] && ref[i] != ref[i])) continue;
    err = out[i] > ref[i] ? out[i] - ref[i] : ref[i] - out[i];
    if (err != err) nan_err = 1;
    else if (err > err_max) err_max = err;
  }
  *max_err = nan_err ? (double)TINYAOT_NAN : (double)err_max;
  return !nan_err && err_max <= TINYAOT_SELFCHECK_TOLERANCE * ref_max;
}
"""

_FLOAT_PRINT = r"""
static void print_float_tensor(const float *v, size_t n) {
  const size_t shown = shown_values(n);
  double sum = 0.0;
  size_t i;
  for (i = 0; i < shown; i++) {
    putchar(' ');
    put_number((double)v[i]);
  }
  for (i = 0; i < n; i++) sum += (double)v[i];
  fputs("\n  sum: ", stdout);
  put_number(sum);
  putchar('\n');
}
"""

# Integer tensors of any C type are read through value_at(); they must match exactly.
_INT_HELPERS = r"""
enum { T_INT8, T_UINT8, T_INT16, T_INT32, T_INT64 };

static int64_t value_at(const void *v, int type, size_t i) {
  switch (type) {
  case T_INT8: return ((const int8_t *)v)[i];
  case T_UINT8: return ((const uint8_t *)v)[i];
  case T_INT16: return ((const int16_t *)v)[i];
  case T_INT32: return ((const int32_t *)v)[i];
  default: return ((const int64_t *)v)[i];
  }
}

static void put_integer(int64_t value) {
  char digits[24];
  int n = 0;
  uint64_t u = value < 0 ? (uint64_t)0 - (uint64_t)value : (uint64_t)value;
  if (value < 0) putchar('-');
  do {
    digits[n++] = (char)('0' + (int)(u % 10u));
    u /= 10u;
  } while (u != 0u);
  while (n > 0) putchar(digits[--n]);
}

static void print_int_tensor(const void *v, int type, size_t n) {
  const size_t shown = shown_values(n);
  int64_t sum = 0;
  size_t i;
  for (i = 0; i < shown; i++) {
    putchar(' ');
    put_integer(value_at(v, type, i));
  }
  for (i = 0; i < n; i++) sum += value_at(v, type, i);
  fputs("\n  sum: ", stdout);
  put_integer(sum);
  putchar('\n');
}
"""

_INT_COMPARE = r"""
static int compare_int(const void *out, const void *ref, int type, size_t n, double *max_err) {
  double err_max = 0.0, err;
  size_t i;
  for (i = 0; i < n; i++) {
    err = (double)value_at(out, type, i) - (double)value_at(ref, type, i);
    if (err < 0.0) err = -err;
    if (err > err_max) err_max = err;
  }
  *max_err = err_max;
  return err_max == 0.0;
}
"""

# The board support's stack meter (platforms/board/board.h), referenced weakly: on the host
# or in an SDK without it the addresses are null and nothing is measured.
_STACK_METER = r"""
#if defined(__GNUC__) && !defined(TINYAOT_NO_STACK_METER)
extern void tinyaot_board_stack_paint(void) __attribute__((weak));
extern size_t tinyaot_board_stack_used(void) __attribute__((weak));
extern size_t tinyaot_board_stack_size(void) __attribute__((weak));
#define STACK_METER 1
#else
#define STACK_METER 0
#endif
"""

_INT_TYPES = {
    DType.INT8: "T_INT8",
    DType.UINT8: "T_UINT8",
    DType.BOOL: "T_UINT8",
    DType.INT16: "T_INT16",
    DType.INT32: "T_INT32",
    DType.INT64: "T_INT64",
}


def _c_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return '"' + "".join(c if 32 <= ord(c) < 127 else "?" for c in escaped) + '"'


def check_expected(graph: Graph, expected: Mapping[str, np.ndarray]) -> list[np.ndarray]:
    """The golden outputs in graph order, shapes checked, converted to the output dtypes."""
    missing = [n for n in graph.outputs if n not in expected]
    if missing:
        raise TinyaotError(
            f"expected outputs do not match the model: missing {missing}; expected keys {list(graph.outputs)}"
        )
    arrays = []
    for name in graph.outputs:
        tensor = graph.tensor(name)
        value = np.asarray(expected[name])
        if value.size != tensor.size:
            raise TinyaotError(
                f"expected output '{name}': shape {list(value.shape)}, but the model gives {list(tensor.shape)}"
            )
        if value.dtype.kind != tensor.dtype.numpy.kind:
            raise TinyaotError(f"expected output '{name}': dtype {value.dtype}, but the model gives {tensor.dtype.value}")
        arrays.append(value.astype(tensor.dtype.numpy).reshape(tensor.shape))
    return arrays


def selfcheck_source(
    model: CompiledModel,
    inputs: Mapping[str, np.ndarray],
    expected: Mapping[str, np.ndarray],
    label: str | None = None,
) -> str:
    """`tinyaot selfcheck`: the main() for `model`, from inputs/golden outputs keyed by name."""
    from tinyaot.hostrun import check_inputs

    graph = model.graph
    return selfcheck_main(graph, model.code, check_inputs(graph, inputs), check_expected(graph, expected), label)


def selfcheck_main(
    graph: Graph,
    code: GeneratedC,
    inputs: list[np.ndarray],
    expected: list[np.ndarray] | None,
    label: str | None = None,
) -> str:
    """C source of the self-checking main; `inputs`/`expected` in graph order (see
    hostrun.check_inputs and check_expected). expected=None: print the outputs only."""
    prefix, upper = code.name, code.name.upper()
    label = label or prefix
    check = expected is not None
    purpose = (
        [" * sample input and compares with embedded golden outputs. Exit status 0: PASS. */"]
        if check
        else [" * sample input and prints the outputs. Exit status 0: the model ran. */"]
    )
    lines = [
        f"/* Generated by tinyaot selfcheck for {_comment(label)}: runs the model on an embedded",
        *purpose,
        "#include <stdint.h>",
        "#include <stdio.h>",
        "",
        f'#include "{prefix}.h"',
        "",
        "#ifndef TINYAOT_CORE",
        '#define TINYAOT_CORE "host"',
        "#endif",
        f"#define TINYAOT_SELFCHECK_TOLERANCE {c_float(FLOAT_TOLERANCE)}",
        f"#define TINYAOT_SELFCHECK_PREVIEW {PREVIEW}u",
        "",
        f"static uint8_t workspace[{upper}_WORKSPACE_SIZE + 1u] TINYAOT_ALIGNED(TINYAOT_WORKSPACE_ALIGN);",
        *([f"static {prefix}_state state;"] if graph.states else []),
        "",
    ]
    # Inputs and golden outputs are const (flash on a microcontroller); outputs are RAM.
    for i, (name, value) in enumerate(zip(graph.inputs, inputs)):
        tensor = graph.tensor(name)
        lines.append(f"/* input '{_comment(name)}' */")
        lines.append(
            f"static const {tensor.dtype.c_type} sample_in{i}[{max(tensor.size, 1)}] "
            f"TINYAOT_ALIGNED(16) = {array_literal(value, tensor.dtype)};"
        )
    for i, name in enumerate(graph.outputs):
        tensor = graph.tensor(name)
        if check:
            lines.append(f"/* golden output '{_comment(name)}' */")
            lines.append(
                f"static const {tensor.dtype.c_type} golden{i}[{max(tensor.size, 1)}] = "
                f"{array_literal(expected[i], tensor.dtype)};"
            )
        lines.append(f"static {tensor.dtype.c_type} out{i}[{max(tensor.size, 1)}] TINYAOT_ALIGNED(16);")

    dtypes = {graph.tensor(n).dtype for n in graph.outputs}
    if check or DType.FLOAT32 in dtypes:  # printing only int outputs needs no float formatting
        lines += _PUT_NUMBER.splitlines()
    lines += _SHOWN_VALUES.splitlines()
    if DType.FLOAT32 in dtypes:
        lines += (_FLOAT_COMPARE if check else "").splitlines() + _FLOAT_PRINT.splitlines()
    if dtypes - {DType.FLOAT32}:
        lines += _INT_HELPERS.splitlines() + (_INT_COMPARE if check else "").splitlines()
    lines += _STACK_METER.splitlines()
    lines.append("")
    lines += [
        "int main(void) {",
        f"  {prefix}_inputs in;",
        f"  {prefix}_outputs out;",
        *(["  double err, max_err = 0.0;", "  int pass = 1, rc;"] if check else ["  int rc;"]),
        "#if STACK_METER",
        "  size_t stack_used = 0;",
        "#endif",
    ]
    for i, name in enumerate(graph.inputs):
        lines.append(f"  in.{code.io_fields[name]} = sample_in{i};")
    for i, name in enumerate(graph.outputs):
        lines.append(f"  out.{code.io_fields[name]} = out{i};")
    lines += [
        "#if STACK_METER",
        "  /* Repaint below this frame: the mark then is what the inference needs from main. */",
        "  if (tinyaot_board_stack_paint != NULL) tinyaot_board_stack_paint();",
        "#endif",
        # A streaming model: one step from its initial state.
        *([f"  {prefix}_reset(&state);", f"  rc = {prefix}_run(&in, &out, &state, workspace);"] if graph.states
          else [f"  rc = {prefix}_run(&in, &out, workspace);"]),
        "#if STACK_METER",
        "  if (tinyaot_board_stack_used != NULL) stack_used = tinyaot_board_stack_used();",
        "#endif",
        "  if (rc != TINYAOT_OK) {",
        f'    printf("tinyaot: %s on %s: {prefix}_run failed with %d, FAIL\\n", {_c_string(label)}, TINYAOT_CORE, rc);',
        "    return 1;",
        "  }",
    ]
    for i, name in enumerate(graph.outputs):
        tensor = graph.tensor(name)
        shape = "x".join(str(d) for d in tensor.shape) or "scalar"
        title = _c_string(f"output '{name}' {tensor.dtype.value}[{shape}]:\n")
        if tensor.dtype == DType.FLOAT32:
            printer = f"print_float_tensor(out{i}, {tensor.size}u)"
            compare = f"compare_float(out{i}, golden{i}, {tensor.size}u, &err)"
        else:
            kind = _INT_TYPES[tensor.dtype]
            printer = f"print_int_tensor(out{i}, {kind}, {tensor.size}u)"
            compare = f"compare_int(out{i}, golden{i}, {kind}, {tensor.size}u, &err)"
        lines += [f"  fputs({title}, stdout);", f"  {printer};"]
        if check:
            lines += [
                f"  if (!{compare}) pass = 0;",
                '  fputs("  max |err|: ", stdout);',
                "  put_number(err);",
                "  putchar('\\n');",
                "  if (err != err || err > max_err) max_err = err;",
            ]
    lines += [
        "#if STACK_METER",
        "  if (stack_used != 0 && tinyaot_board_stack_size != NULL)",
        '    printf("stack: %lu of %lu bytes used\\n", (unsigned long)stack_used, (unsigned long)tinyaot_board_stack_size());',
        "#endif",
    ]
    if check:
        lines += [
            f'  printf("tinyaot: %s on %s: max |err| = ", {_c_string(label)}, TINYAOT_CORE);',
            "  put_number(max_err);",
            '  puts(pass ? ", PASS" : ", FAIL");',
            "  return pass ? 0 : 1;",
        ]
    else:
        lines += [f'  printf("tinyaot: %s on %s: done\\n", {_c_string(label)}, TINYAOT_CORE);', "  return 0;"]
    lines += ["}", ""]
    return "\n".join(lines)


def _comment(text: str) -> str:
    return text.replace("*/", "* /")
