"""C initializer lists for weight arrays, formatted with numpy instead of one Python call
per value.

A float model's C is mostly weights: 1.3 M floats took 3 to 5 s through
`ops.base.c_float` one value at a time (0.4 s here). Here every value becomes a fixed-width row of ASCII bytes (a column
per character it may need, 0 where it has none); dropping the zeros of the flattened rows
leaves the text. The text is byte-identical to joining `c_float` (floats) or `str(int(v))`
(integers) over the values, so existing generated files do not change:

- an integer-valued float below 2**24 in magnitude is `<int>.0f` (-0.0 is `-0.0f`),
- any other finite float is Python's `float.hex()` of its exact double value, trailing
  zeros of the fraction dropped: `[-]0x1[.hhhhhh]p(+|-)<exp>f` (float32 subnormals are
  normal doubles, so they also start with `0x1`),
- NaN and infinities go through `c_float` (rare: patched in afterwards).

Work proceeds in chunks of whole lines, so memory stays bounded (~40 bytes per value of
a chunk) whatever the array's size.
"""

from __future__ import annotations

import numpy as np

from tinyaot.ir import DType
from tinyaot.ops.base import c_float

PER_LINE = {1: 16, 2: 12, 4: 8, 8: 4}  # values per line, by element size
_LINES_PER_CHUNK = 16384
_SPECIAL = 1  # placeholder byte of a value formatted by c_float afterwards

# Columns of a float row: 0-1 "  " at the start of a line (_frame), then these, then the
# last two: "," and " " or "\n" (_frame).
_F_SIGN = 2  # "-"
_F_INT = 3  # 8 decimal digits (|v| < 2**24), then ".0f"
_F_HEX = 14  # "0x1", ".", 6 hex digits, "p", exponent sign, 3 digits, "f"
_F_WIDTH = 32

_HEX_DIGITS = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def array_literal(data: np.ndarray, dtype: DType) -> str:
    """A C initializer list of `data` as `dtype`, exact (hex floats), a few values a line."""
    flat = np.ascontiguousarray(data).reshape(-1)
    if flat.size == 0:
        return "{0}"
    per_line = PER_LINE.get(dtype.itemsize, 8)
    chunk = per_line * _LINES_PER_CHUNK
    if dtype == DType.FLOAT32:
        values = flat.astype(np.float32)
        parts = [_float_text(values[i : i + chunk], per_line) for i in range(0, values.size, chunk)]
    else:
        values = flat.astype(np.int64)
        suffix = b"LL" if dtype == DType.INT64 else b""
        parts = [_int_text(values[i : i + chunk], per_line, suffix) for i in range(0, values.size, chunk)]
    return "{\n" + "".join(parts) + "}"


def _frame(rows: np.ndarray, per_line: int) -> None:
    """Line prefix and the separator after each value: ", " within a line, ",\\n" at its end."""
    n = rows.shape[0]
    first = np.arange(n) % per_line == 0
    rows[first, 0:2] = ord(" ")
    rows[:, -2] = ord(",")
    last = (np.arange(n) % per_line == per_line - 1) | (np.arange(n) == n - 1)
    rows[:, -1] = np.where(last, ord("\n"), ord(" "))


def _text(rows: np.ndarray) -> str:
    flat = rows.reshape(-1)
    return flat[flat != 0].tobytes().decode("ascii")


def _decimal(rows: np.ndarray, column: int, width: int, magnitude: np.ndarray) -> None:
    """`magnitude` (uint64) in decimal into columns [column, column + width), no leading zeros."""
    for place in range(width):
        power = np.uint64(10**place)
        digit = (magnitude // power) % np.uint64(10)
        shown = (magnitude >= power) | (place == 0)
        rows[:, column + width - 1 - place] = np.where(shown, digit.astype(np.uint8) + ord("0"), 0)


def _float_text(values: np.ndarray, per_line: int) -> str:
    n = values.size
    bits = values.view(np.uint32)
    exponent = ((bits >> 23) & 0xFF).astype(np.int64)
    mantissa = (bits & 0x7FFFFF).astype(np.int64)
    special = exponent == 0xFF
    with np.errstate(invalid="ignore"):  # NaNs compare false; they are `special`
        integral = ~special & (np.trunc(values) == values) & (np.abs(values) < np.float32(2.0**24))
    hexa = ~special & ~integral

    rows = np.zeros((n, _F_WIDTH), dtype=np.uint8)
    _frame(rows, per_line)
    negative = ((bits >> 31) == 1) & ~special
    rows[:, _F_SIGN] = np.where(negative, ord("-"), 0)
    rows[special, _F_SIGN] = _SPECIAL

    whole = values[integral].astype(np.float64)
    digits = np.zeros((whole.size, 11), dtype=np.uint8)
    _decimal(digits, 0, 8, np.abs(whole).astype(np.uint64))
    digits[:, 8:] = np.frombuffer(b".0f", dtype=np.uint8)
    rows[integral, _F_INT : _F_INT + 11] = digits
    rows[hexa, _F_HEX : _F_HEX + 16] = _hex_columns(exponent[hexa], mantissa[hexa])

    text = _text(rows)
    if not special.any():
        return text
    pieces = text.split(chr(_SPECIAL))
    names = [c_float(v) for v in values[special]]
    return pieces[0] + "".join(name + piece for name, piece in zip(names, pieces[1:]))


def _hex_columns(exponent: np.ndarray, mantissa: np.ndarray) -> np.ndarray:
    """`0x1[.hhhhhh]p(+|-)<exp>f` of nonzero finite float32s given their exponent and
    fraction fields: the exact double's normalised form. float32 normals keep their exponent
    and the 23 fraction bits; subnormals (exponent field 0) shift their leading 1 out."""
    subnormal = exponent == 0
    top = np.frexp(np.where(subnormal, mantissa, 1).astype(np.float64))[1].astype(np.int64) - 1
    power = np.where(subnormal, top - 149, exponent - 127)
    fraction = np.where(subnormal, (mantissa - (np.int64(1) << top)) << (23 - top), mantissa) << 1  # 24 bits
    nibbles = (fraction[:, None] >> np.arange(20, -1, -4)) & 0xF  # 6 hex digits, most significant first
    significant = 6 - _trailing_zero_nibbles(fraction)
    columns = np.zeros((exponent.size, 16), dtype=np.uint8)
    columns[:, 0:3] = np.frombuffer(b"0x1", dtype=np.uint8)
    columns[:, 3] = np.where(significant > 0, ord("."), 0)
    columns[:, 4:10] = np.where(np.arange(6)[None, :] < significant[:, None], _HEX_DIGITS[nibbles], 0)
    columns[:, 10] = ord("p")
    columns[:, 11] = np.where(power < 0, ord("-"), ord("+"))
    _decimal(columns, 12, 3, np.abs(power).astype(np.uint64))
    columns[:, 15] = ord("f")
    return columns


def _trailing_zero_nibbles(fraction: np.ndarray) -> np.ndarray:
    """Hex digits of zeros at the end of each 24-bit fraction (6 for 0)."""
    lowest = np.where(fraction == 0, 1 << 24, fraction & -fraction)  # its lowest set bit
    return (np.frexp(lowest.astype(np.float64))[1] - 1) // 4


def _int_text(values: np.ndarray, per_line: int, suffix: bytes) -> str:
    n = values.size
    width = 2 + 1 + 20 + len(suffix) + 2
    rows = np.zeros((n, width), dtype=np.uint8)
    _frame(rows, per_line)
    rows[:, 2] = np.where(values < 0, ord("-"), 0)
    unsigned = values.view(np.uint64)
    magnitude = np.where(values < 0, ~unsigned + np.uint64(1), unsigned)  # exact for INT64_MIN too
    _decimal(rows, 3, 20, magnitude)
    if suffix:
        rows[:, 23 : 23 + len(suffix)] = np.frombuffer(suffix, dtype=np.uint8)
    return _text(rows)
