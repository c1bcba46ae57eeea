"""IR Graph + MemoryPlan -> <name>.h / <name>.c (C99).

The generated API:
    typedef struct { const float *x; ... } <name>_inputs;
    typedef struct { float *y; ... } <name>_outputs;
    int <name>_run(const <name>_inputs *in, <name>_outputs *out, void *workspace);
plus <NAME>_WORKSPACE_SIZE and per-I/O size/rank/shape/dtype macros. A streaming model
(Graph.states) also has a `<name>_state` struct of its persistent tensors, owned by the
caller, `void <name>_reset(<name>_state *state)` setting their initial values, and a state
argument: `int <name>_run(in, out, state, workspace)`. Weights are
`static const` arrays (flash); every activation lives at a planned workspace offset or in
the caller's buffers. Output is a pure function of the graph: byte-identical across runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from tinyaot import __version__
from tinyaot.errors import TinyaotError
from tinyaot.ir import Graph, Node, Tensor
from tinyaot.literals import array_literal  # re-exported: selfcheck writes its arrays alike
from tinyaot.ops import OPS
from tinyaot.ops.base import c_float
from tinyaot.planner import ALIGN, MemoryPlan


@dataclass(frozen=True)
class GeneratedC:
    name: str
    header: str  # contents of <name>.h
    source: str  # contents of <name>.c
    kernels: tuple[str, ...]  # runtime/kernels/<k>.c files the model needs
    io_fields: dict[str, str]  # graph I/O tensor name -> C field name
    state_fields: dict[str, str] = field(default_factory=dict)  # state tensor -> <name>_state field


def c_identifier(name: str, used: set[str]) -> str:
    ident = re.sub(r"[^0-9A-Za-z_]", "_", name) or "t"
    if ident[0].isdigit():
        ident = f"t_{ident}"
    base, n = ident, 1
    while ident in used:
        n += 1
        ident = f"{base}_{n}"
    used.add(ident)
    return ident


class _Context:
    def __init__(self, graph: Graph, plan: MemoryPlan, prefix: str, io_fields: dict[str, str],
                 state_fields: dict[str, str]):
        self.graph = graph
        self.plan = plan
        self.prefix = prefix
        self.io_fields = io_fields
        self.state_fields = state_fields
        self.statics: list[str] = []
        self.kernels: set[str] = set()
        self.const_symbols: dict[str, str] = {}
        self._used_symbols: set[str] = set()
        self._node_symbol = ""
        self._step = -1
        self._node_statics = 0

    def start_node(self, index: int, node: Node) -> None:
        self._node_symbol = f"{self.prefix}_l{index}"
        self._step = index
        self._node_statics = 0

    def tensor(self, name: str) -> Tensor:
        return self.graph.tensor(name)

    def ptr(self, name: str) -> str:
        tensor = self.graph.tensor(name)
        if tensor.is_const:
            # Exported tensor names can be hundreds of characters long: index the symbol
            # and keep the name in a comment.
            return self.const_symbols.setdefault(name, f"{self.prefix}_w{len(self.const_symbols)}")
        root = self.plan.roots.get(name, name)
        ctype = tensor.dtype.c_type
        if root in self.graph.inputs:
            return f"(const {ctype} *)in->{self.io_fields[root]}"
        if root in self.plan.output_roots:
            return f"({ctype} *)out->{self.io_fields[self.plan.output_roots[root]]}"
        if root in self.state_fields:
            return f"({ctype} *)state->{self.state_fields[root]}"
        buffer = self.plan.buffer(root)
        if buffer is None:
            raise TinyaotError(f"internal: tensor '{name}' has no storage")
        return f"({ctype} *)(ws + {buffer.offset})"

    def static(self, c_type: str, initializer: str) -> str:
        self._node_statics += 1
        symbol = f"{self._node_symbol}_p{self._node_statics}"
        self.statics.append(f"static const {c_type} {symbol} = {initializer};")
        return symbol

    def use_kernel(self, source: str) -> None:
        self.kernels.add(source)

    def scratch(self) -> str:
        buffer = self.plan.scratch(self._step)
        return "NULL" if buffer is None else f"(void *)(ws + {buffer.offset})"


def generate(graph: Graph, plan: MemoryPlan, name: str | None = None) -> GeneratedC:
    prefix = c_identifier(name or graph.name, set())
    upper = prefix.upper()
    used_fields: set[str] = set()
    io_fields = {t: c_identifier(t, used_fields) for t in graph.inputs}
    used_out: set[str] = set()
    io_fields.update({t: c_identifier(t, used_out) for t in graph.outputs})
    used_states: set[str] = set()
    state_fields = {t: c_identifier(t, used_states) for t in graph.states}
    ctx = _Context(graph, plan, prefix, io_fields, state_fields)
    # Layer functions and _run take the state only in streaming models: a stateless model's
    # API is unchanged.
    state_param = f", {prefix}_state *state" if state_fields else ""
    state_arg = ", state" if state_fields else ""

    # One non-inlined function per layer: a profiler attributes instructions to layers by
    # the entry addresses of these symbols, and a debugger's backtrace names the layer.
    layers: list[str] = []
    calls: list[str] = []
    for index, node in enumerate(graph.nodes):
        opdef = OPS[node.op]
        if opdef.alias:
            continue
        if opdef.emit is None:
            raise TinyaotError(
                f"node '{node.name}' ({node.op}): has no kernel; its inputs must be constants"
            )
        ctx.start_node(index, node)
        shapes = ", ".join(
            "x".join(str(d) for d in graph.tensor(o).shape) or "scalar" for o in node.outputs if o
        )
        function = layer_symbol(prefix, index, node.op)
        statements = opdef.emit(node, ctx)
        text = "\n".join(statements)
        layers += [
            f"/* {index}: {node.op} {_comment_safe(node.name)} -> {shapes} */",
            f"static TINYAOT_NOINLINE void {function}(const {prefix}_inputs *in, {prefix}_outputs *out{state_param}, "
            "uint8_t *ws) {",
            *[f"  (void){arg};" for arg in ("in", "out", *(("state",) if state_fields else ()), "ws")
              if not re.search(rf"\b{arg}\b", text)],
            *("  " + line for line in statements),
            "}",
            "",
        ]
        calls.append(f"  {function}(in, out{state_arg}, ws);")

    # Only constants the emitted code refers to (some inputs, like a Pow exponent a kernel
    # specialises on, are read at compile time only; a layer with no elements emits no call),
    # in order of first use.
    referenced = "\n".join(layers + ctx.statics)
    consts: list[str] = []
    for tname, symbol in ctx.const_symbols.items():
        if not re.search(rf"\b{symbol}\b", referenced):
            continue
        tensor = graph.tensor(tname)
        data = tensor.data if tensor.size else np.zeros(1, tensor.dtype.numpy)
        shape = "x".join(str(d) for d in tensor.shape) or "scalar"
        consts.append(f"/* {_comment_safe(tname)}: {tensor.dtype.value}[{shape}] */")
        consts.append(
            f"static const {tensor.dtype.c_type} {symbol}[{max(tensor.size, 1)}] TINYAOT_ALIGNED({ALIGN}) = "
            f"{array_literal(data, tensor.dtype)};"
        )

    header = _header(graph, plan, prefix, upper, io_fields, state_fields)
    source_lines = [
        f"/* Generated by tinyaot {__version__}. Do not edit. */",
        f'#include "{prefix}.h"',
        "",
        "#include <string.h>",
        "",
        '#include "tinyaot/kernels.h"',
        "",
        *consts,
        "",
        *ctx.statics,
        "",
        *layers,
        *_reset_function(graph, prefix, state_fields),
        f"int {prefix}_run(const {prefix}_inputs *in, {prefix}_outputs *out{state_param}, void *workspace) {{",
        "  uint8_t *ws = (uint8_t *)workspace;",
        "  if (in == NULL || out == NULL || (workspace == NULL && "
        f"{upper}_WORKSPACE_SIZE > 0)) return TINYAOT_ERR_NULL_ARG;",
        *(["  if (state == NULL) return TINYAOT_ERR_NULL_ARG;"] if state_fields else []),
        "  if (((uintptr_t)workspace % TINYAOT_WORKSPACE_ALIGN) != 0u) return TINYAOT_ERR_ALIGNMENT;",
        *[
            f"  if (in->{io_fields[t]} == NULL) return TINYAOT_ERR_NULL_ARG;"
            for t in graph.inputs
        ],
        *[
            f"  if (out->{io_fields[t]} == NULL) return TINYAOT_ERR_NULL_ARG;"
            for t in graph.outputs
        ],
        *_canaries_on("  ws += TINYAOT_CANARY_BYTES;", "  tinyaot_canary_fill(ws - TINYAOT_CANARY_BYTES);",
                      f"  tinyaot_canary_fill(ws + {plan.workspace_size}u);"),
        *(calls or ["  (void)ws;"]),
        *_canaries_on(f"  if (!tinyaot_canary_intact(ws - TINYAOT_CANARY_BYTES) || !tinyaot_canary_intact(ws + "
                      f"{plan.workspace_size}u)) return TINYAOT_ERR_CANARY;"),
        "  return TINYAOT_OK;",
        "}",
        "",
    ]
    return GeneratedC(prefix, header, "\n".join(source_lines), tuple(sorted(ctx.kernels)), io_fields, state_fields)


def _reset_function(graph: Graph, prefix: str, state_fields: dict[str, str]) -> list[str]:
    """<name>_reset: each state's initial value (copied from flash, or zeros)."""
    if not state_fields:
        return []
    tables: list[str] = []
    body: list[str] = []
    for index, (tname, fname) in enumerate(state_fields.items()):
        tensor = graph.tensor(tname)
        init = np.asarray(graph.states[tname]).astype(tensor.dtype.numpy).reshape(tensor.shape)
        if not init.any():
            body.append(f"  memset(state->{fname}, 0, sizeof(state->{fname}));")
            continue
        symbol = f"{prefix}_s{index}_init"
        tables.append(f"/* initial value of state '{_comment_safe(tname)}' */")
        tables.append(f"static const {tensor.dtype.c_type} {symbol}[{max(tensor.size, 1)}] = "
                      f"{array_literal(init, tensor.dtype)};")
        body.append(f"  memcpy(state->{fname}, {symbol}, sizeof({symbol}));")
    return [
        *tables,
        "",
        f"void {prefix}_reset({prefix}_state *state) {{",
        "  if (state == NULL) return;",
        *body,
        "}",
        "",
    ]


def _canaries_on(*lines: str) -> list[str]:
    """Lines compiled only with -DTINYAOT_CANARIES (runtime/include/tinyaot/tinyaot.h): without
    it, the preprocessed code is what it was before canaries existed."""
    return ["#ifdef TINYAOT_CANARIES", *lines, "#endif"]


def layer_symbol(prefix: str, index: int, op: str) -> str:
    """The C function of schedule step `index` (profilers map symbols back to layers)."""
    return f"{prefix}_l{index}_{re.sub(r'[^0-9A-Za-z]', '', op).lower()}"


def _comment_safe(text: str) -> str:
    return text.replace("*/", "* /")


def _header(graph: Graph, plan: MemoryPlan, prefix: str, upper: str, io_fields: dict[str, str],
            state_fields: dict[str, str]) -> str:
    guard = f"{upper}_H"
    lines = [
        f"/* Generated by tinyaot {__version__}. Do not edit. */",
        f"#ifndef {guard}",
        f"#define {guard}",
        "",
        '#include "tinyaot/tinyaot.h"',
        "",
        "#ifdef __cplusplus",
        'extern "C" {',
        "#endif",
        "",
        "/* Scratch memory for one inference; pass a buffer aligned to TINYAOT_WORKSPACE_ALIGN.",
        " * Built with -DTINYAOT_CANARIES, it includes the guard bytes on both sides. */",
        "#ifdef TINYAOT_CANARIES",
        f"#define {upper}_WORKSPACE_SIZE ({plan.workspace_size}u + 2u * TINYAOT_CANARY_BYTES)",
        "#else",
        f"#define {upper}_WORKSPACE_SIZE {plan.workspace_size}u",
        "#endif",
        f"#define {upper}_NUM_INPUTS {len(graph.inputs)}",
        f"#define {upper}_NUM_OUTPUTS {len(graph.outputs)}",
        *([f"#define {upper}_NUM_STATES {len(state_fields)}"] if state_fields else []),
        "",
    ]
    for kind, names in (("INPUT", graph.inputs), ("OUTPUT", graph.outputs)):
        for tname in names:
            tensor = graph.tensor(tname)
            macro = f"{upper}_{kind}_{io_fields[tname].upper()}"
            lines.append(f"/* {kind.lower()} '{_comment_safe(tname)}' */")
            lines.append(f"#define {macro}_SIZE {tensor.size}u")
            lines.append(f"#define {macro}_BYTES {tensor.nbytes}u")
            lines.append(f"#define {macro}_RANK {len(tensor.shape)}")
            lines.append(f"#define {macro}_SHAPE {{{', '.join(str(d) for d in tensor.shape)}}}")
            lines.append(f"#define {macro}_DTYPE \"{tensor.dtype.value}\"")
            if tensor.quant is not None and len(tensor.quant.scale) == 1:
                lines.append(f"#define {macro}_SCALE {c_float(tensor.quant.scale[0])}")
                lines.append(f"#define {macro}_ZERO_POINT {tensor.quant.zero_point[0]}")
            lines.append("")
    lines.append("typedef struct {")
    for tname in graph.inputs:
        lines.append(f"  const {graph.tensor(tname).dtype.c_type} *{io_fields[tname]};")
    if not graph.inputs:
        lines.append("  int unused;")
    lines.append(f"}} {prefix}_inputs;")
    lines.append("")
    lines.append("typedef struct {")
    for tname in graph.outputs:
        lines.append(f"  {graph.tensor(tname).dtype.c_type} *{io_fields[tname]};")
    lines.append(f"}} {prefix}_outputs;")
    if state_fields:
        lines += [
            "",
            "/* Streaming model: its persistent state, owned by the caller and kept between runs.",
            f" * Call {prefix}_reset() once before the first run (and to restart the stream). */",
            "typedef struct {",
        ]
        for tname, fname in state_fields.items():
            tensor = graph.tensor(tname)
            shape = "x".join(str(d) for d in tensor.shape) or "scalar"
            lines.append(f"  {tensor.dtype.c_type} {fname}[{max(tensor.size, 1)}] TINYAOT_ALIGNED(16); "
                         f"/* '{_comment_safe(tname)}' {tensor.dtype.value}[{shape}] */")
        lines += [
            f"}} {prefix}_state;",
            "",
            f"void {prefix}_reset({prefix}_state *state);",
        ]
        run_doc = "/* Runs one step: reads and updates *state. Returns TINYAOT_OK (0) or a TINYAOT_ERR_* code. */"
        run_decl = (f"int {prefix}_run(const {prefix}_inputs *in, {prefix}_outputs *out, {prefix}_state *state, "
                    "void *workspace);")
    else:
        run_doc = "/* Runs one inference. Returns TINYAOT_OK (0) or a TINYAOT_ERR_* code. */"
        run_decl = f"int {prefix}_run(const {prefix}_inputs *in, {prefix}_outputs *out, void *workspace);"
    lines.extend(
        [
            "",
            run_doc,
            run_decl,
            "",
            "#ifdef __cplusplus",
            "}",
            "#endif",
            "",
            f"#endif /* {guard} */",
            "",
        ]
    )
    return "\n".join(lines)
