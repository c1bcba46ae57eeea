"""QPointwiseDepthwise: an int8 1x1 convolution and the depthwise convolution that reads its
output, run in strips of rows so that the 1x1's output never exists whole.

MobileNet-style networks expand channels with a 1x1 convolution and then shrink the plane
with a strided depthwise one: in VWW the 48x48x16 tensor between the two (36,864 bytes) is
larger than the 1x1's input and the depthwise output together, and it alone sets the
workspace. passes/strips.py fuses such pairs. The fused node computes a few output rows of the
depthwise convolution at a time: the 1x1 convolution writes the input rows they need into a
strip in the scratch, the rows the next strip shares are moved to the strip's top instead of
being computed again, and the depthwise kernel reads the strip with the padding of its
position. Both kernels are the ordinary ones (tinyaot_qfully_connected_s8 over the strip's
pixels, tinyaot_qdepthwise_conv2d_s8 with the strip's geometry), so every output is the same
integer arithmetic as unfused, bit for bit.

IR form: QPointwiseDepthwise(x, w1, b1, w2, b2) with attrs["pointwise"] / ["depthwise"] the two
QLinearConv nodes' attrs (NHWC), attrs["middle"] the shape and quantization of the tensor
between them, attrs["rows"] the depthwise output rows per strip. A missing bias is "".
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np

from tinyaot.ir import DType, Node, Tensor
from tinyaot.ops import qconv
from tinyaot.ops.base import EmitContext, OpDef, Overlap, TensorType, fail
from tinyaot.ops.conv import as_2d

OP = "QPointwiseDepthwise"


def pointwise_node(node: Node) -> Node:
    """The fused 1x1 convolution as a QLinearConv node (its output named "<name>:middle")."""
    return Node("QLinearConv", f"{node.name}:pointwise", tuple(node.inputs[0:3]), (f"{node.name}:middle",),
                node.attrs["pointwise"])


def depthwise_node(node: Node) -> Node:
    return Node("QLinearConv", f"{node.name}:depthwise", (f"{node.name}:middle", *node.inputs[3:5]), node.outputs,
                node.attrs["depthwise"])


def middle_tensor(node: Node, rows: int | None = None) -> Tensor:
    """The tensor between the two convolutions, or a strip of `rows` of its rows."""
    shape, quant = node.attrs["middle"]
    if rows is not None:
        shape = (shape[0], rows, *shape[2:])
    return Tensor(f"{node.name}:middle", tuple(shape), DType.INT8, quant=quant)


def _split(node: Node, inputs: Sequence[Tensor | None]) -> tuple[list[Tensor | None], list[Tensor | None]]:
    if len(inputs) != 5:
        raise fail(node, f"{len(inputs)} inputs, the fused op takes 5")
    return list(inputs[0:3]), [middle_tensor(node), *inputs[3:5]]


def _infer(node: Node, inputs: Sequence[Tensor | None]) -> list[TensorType]:
    first, second = _split(node, inputs)
    if qconv.OPS["QLinearConv"].infer(pointwise_node(node), first)[0][0] != second[0].shape:
        raise fail(node, "internal: the middle tensor's shape disagrees with the 1x1 convolution")
    return qconv.OPS["QLinearConv"].infer(depthwise_node(node), second)


def _evaluate(node: Node, values: Sequence[np.ndarray | None]) -> list[np.ndarray]:
    middle = qconv.OPS["QLinearConv"].evaluate(pointwise_node(node), values[0:3])[0]
    return qconv.OPS["QLinearConv"].evaluate(depthwise_node(node), [middle, *values[3:5]])


def _macs(node: Node, inputs: Sequence[Tensor | None], outputs: Sequence[Tensor]) -> int:
    first, second = _split(node, inputs)
    opdef = qconv.OPS["QLinearConv"]
    return opdef.macs(pointwise_node(node), first, [second[0]]) + opdef.macs(depthwise_node(node), second, outputs)


# ------------------------------------------------------------------------- the strips


@dataclass(frozen=True)
class Strip:
    """One run of the two kernels: depthwise output rows [out_row, out_row + out_rows), from
    middle rows [first, end) held in the strip buffer. The `kept` rows at its top were moved
    there from row `kept_from` of the previous strip; the 1x1 convolution computes the others,
    input rows [first + kept, end)."""

    out_row: int
    out_rows: int
    first: int
    end: int
    kept: int
    kept_from: int

    @property
    def new_rows(self) -> int:
        return self.end - self.first - self.kept


def strip_rows_needed(node: Node, rows: int) -> int:
    """Rows of the middle tensor that `rows` depthwise output rows read at most."""
    attrs = node.attrs["depthwise"]
    (kh, _), (sh, _), (dh, _) = (as_2d(attrs[k], 1) for k in ("kernel_shape", "strides", "dilations"))
    return (rows - 1) * sh + (kh - 1) * dh + 1


def strips(node: Node) -> list[Strip]:
    """The strips of the fused node, top to bottom."""
    attrs = node.attrs["depthwise"]
    height = node.attrs["middle"][0][1]
    out_h = as_2d(attrs["output_spatial"], 1)[0]
    (kh, _), (sh, _), (dh, _) = (as_2d(attrs[k], 1) for k in ("kernel_shape", "strides", "dilations"))
    pad_top = as_2d(attrs["pads"][:2], 0)[0]
    per_strip = node.attrs["rows"]
    result: list[Strip] = []
    prev_first = prev_end = 0
    for out_row in range(0, out_h, per_strip):
        out_rows = min(per_strip, out_h - out_row)
        first = min(max(0, out_row * sh - pad_top), height)
        end = max(first, min(height, (out_row + out_rows - 1) * sh - pad_top + (kh - 1) * dh + 1))
        kept = max(0, min(prev_end, end) - first) if first >= prev_first else 0
        result.append(Strip(out_row, out_rows, first, end, kept, first - prev_first if kept else 0))
        prev_first, prev_end = first, end
    return result


def _strip_pad_top(node: Node, strip: Strip) -> int:
    """The depthwise padding above the strip: rows of its first window above the strip's first row."""
    attrs = node.attrs["depthwise"]
    return strip.first - (strip.out_row * as_2d(attrs["strides"], 1)[0] - attrs["pads"][0])


def _strip_nodes(node: Node, x: Tensor, strip: Strip) -> tuple[Node, Tensor, Node, Tensor]:
    """The two kernels' nodes and data inputs for one strip: the 1x1 convolution over its new
    rows, the depthwise convolution over the strip with the padding of the strip's position."""
    attrs = node.attrs["depthwise"]
    width = node.attrs["middle"][0][2]
    (kh, _), (sh, _), (dh, _) = (as_2d(attrs[k], 1) for k in ("kernel_shape", "strides", "dilations"))
    pads = list(attrs["pads"])
    rows = strip.end - strip.first
    top = _strip_pad_top(node, strip)
    pads[0], pads[2] = top, (strip.out_rows - 1) * sh + (kh - 1) * dh + 1 - rows - top
    out_w = as_2d(attrs["output_spatial"], 1)[1]
    second = replace(depthwise_node(node), attrs={**attrs, "pads": pads, "output_spatial": [strip.out_rows, out_w]})
    x_strip = Tensor(x.name, (x.shape[0], strip.new_rows, width, x.shape[3]), DType.INT8, quant=x.quant)
    first = replace(pointwise_node(node),
                    attrs={**node.attrs["pointwise"], "output_spatial": [strip.new_rows, width]})
    return first, x_strip, second, middle_tensor(node, rows)


def _variant_key(node: Node, strip: Strip) -> tuple[int, ...]:
    return (strip.out_rows, strip.end - strip.first, strip.kept, _strip_pad_top(node, strip))


def _variants(node: Node) -> dict[tuple[int, ...], Strip]:
    """The distinct strip geometries (typically the first strip, the many alike, the last):
    each gets its own pair of kernel parameter structs."""
    result: dict[tuple[int, ...], Strip] = {}
    for strip in strips(node):
        result.setdefault(_variant_key(node, strip), strip)
    return result


def strip_bytes(node: Node) -> int:
    shape = node.attrs["middle"][0]
    return (strip_rows_needed(node, node.attrs["rows"]) * shape[2] * shape[3] + 15) // 16 * 16


def _scratch(node: Node, inputs: Sequence[Tensor | None]) -> int:
    """The strip, then the larger of the two kernels' scratch over every strip geometry."""
    opdef = qconv.OPS["QLinearConv"]
    kernels = 0
    for strip in _variants(node).values():
        first, x_strip, second, middle = _strip_nodes(node, inputs[0], strip)
        if strip.new_rows:
            kernels = max(kernels, opdef.scratch(first, [x_strip, *inputs[1:3]]))
        kernels = max(kernels, opdef.scratch(second, [middle, *inputs[3:5]]))
    return strip_bytes(node) + kernels


def _overlap(node: Node, inputs: Sequence[Tensor | None]) -> Overlap:
    """The output may sit over the 1x1's input: a strip's depthwise call writes its output rows
    after the 1x1 convolution has read input rows [.., end) and later strips read only rows
    from `end` on, so output bytes must end by input row `end` (only the last strip, which
    reads to the bottom, is free)."""
    x, y = inputs[0], middle_tensor(node)
    height, x_row = x.shape[1], x.shape[2] * x.shape[3]
    y_shape = qconv.OPS["QLinearConv"].infer(depthwise_node(node), [y, *inputs[3:5]])[0][0]
    y_row = y_shape[2] * y_shape[3]
    return Overlap(max([(s.out_row + s.out_rows) * y_row - s.end * x_row for s in strips(node) if s.end < height],
                       default=-x.nbytes))


class _StripContext:
    """The codegen context seen by the two kernels' emitters: the strip's tensors are local
    pointers of the layer function, their scratch follows the strip."""

    def __init__(self, ctx: EmitContext, tensors: dict[str, Tensor], pointers: dict[str, str]) -> None:
        self._ctx, self._tensors, self._pointers = ctx, tensors, pointers

    def tensor(self, name: str) -> Tensor:
        return self._tensors.get(name) or self._ctx.tensor(name)

    def ptr(self, name: str) -> str:
        return self._pointers.get(name) or self._ctx.ptr(name)

    def static(self, c_type: str, initializer: str) -> str:
        return self._ctx.static(c_type, initializer)

    def use_kernel(self, source: str) -> None:
        self._ctx.use_kernel(source)

    def scratch(self) -> str:
        return "fused_scratch"


def _emit(node: Node, ctx: EmitContext) -> list[str]:
    x_tensor = ctx.tensor(node.inputs[0])
    _, _, width, channels = node.attrs["middle"][0]
    row_bytes = width * channels
    y_shape = ctx.tensor(node.outputs[0]).shape
    opdef = qconv.OPS["QLinearConv"]
    variants = _variants(node)
    index = {key: i for i, key in enumerate(variants)}
    branches: list[str] = []
    for key, strip in variants.items():
        first, x_strip, second, middle = _strip_nodes(node, x_tensor, strip)
        calls = []
        if strip.new_rows:
            sub = _StripContext(ctx, {x_strip.name: x_strip, middle.name: middle_tensor(node, strip.new_rows)},
                                {x_strip.name: "fused_x", middle.name: f"(fused_strip + {strip.kept * row_bytes})"})
            calls += opdef.emit(first, sub)
        sub = _StripContext(ctx, {middle.name: middle}, {middle.name: "fused_strip", node.outputs[0]: "fused_y"})
        calls += opdef.emit(second, sub)
        branches += [f"  {'if' if not branches else '} else if'} (fused_row[3] == {index[key]}) {{",
                     *(f"    {call}" for call in calls)]
    table = [[s.kept_from, s.kept, s.first + s.kept, index[_variant_key(node, s)], s.out_row] for s in strips(node)]
    rows = ctx.static(f"struct {{ int16_t v[{len(table)}][5]; }}",
                      "{{" + ", ".join("{" + ", ".join(str(v) for v in row) + "}" for row in table) + "}}")
    return [
        f"int8_t *const fused_strip = (int8_t *){ctx.scratch()};",
        f"void *const fused_scratch = fused_strip + {strip_bytes(node)};",
        "int32_t fused_i;",
        f"for (fused_i = 0; fused_i < {len(table)}; ++fused_i) {{",
        f"  const int16_t *const fused_row = {rows}.v[fused_i];",
        f"  const int8_t *const fused_x = (const int8_t *){ctx.ptr(node.inputs[0])} + "
        f"(size_t)fused_row[2] * {width * x_tensor.shape[3]};",
        f"  int8_t *const fused_y = (int8_t *){ctx.ptr(node.outputs[0])} + (size_t)fused_row[4] * "
        f"{y_shape[2] * y_shape[3]};",
        f"  memmove(fused_strip, fused_strip + (size_t)fused_row[0] * {row_bytes}, (size_t)fused_row[1] * {row_bytes});",
        *branches,
        "  }",
        "}",
    ]


OPS: dict[str, OpDef] = {
    OP: OpDef(_infer, _evaluate, _emit, macs=_macs, data_inputs=(0,), scratch=_scratch, overlap=_overlap),
}
