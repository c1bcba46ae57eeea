"""The stages in order: model file -> Graph -> optimized Graph -> MemoryPlan -> C."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from tinyaot.codegen import GeneratedC, generate
from tinyaot.errors import TinyaotError
from tinyaot.ir import Graph
from tinyaot.passes import optimize
from tinyaot.passes.strips import STRIP_SHARES, fuse_strips
from tinyaot.planner import MemoryPlan, plan_memory, schedule_for_memory


@dataclass(frozen=True)
class CompileOptions:
    name: str | None = None  # C symbol prefix; default: the model file's stem
    input_shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)
    strips: bool = True  # strip fusion where it shrinks the workspace (see plan_graph)


@dataclass(frozen=True)
class CompiledModel:
    source: Graph  # as imported
    graph: Graph  # after passes: what the C implements
    plan: MemoryPlan
    code: GeneratedC


def load_model(path: str | os.PathLike, options: CompileOptions) -> Graph:
    suffix = Path(path).suffix.lower()
    if suffix == ".onnx":
        from tinyaot.frontends.onnx import load_onnx

        return load_onnx(path, options.input_shapes)
    if suffix == ".tflite":
        from tinyaot.frontends.tflite import load_tflite

        return load_tflite(path, options.input_shapes)
    raise TinyaotError(f"{path}: unknown model format '{suffix}' (expected .onnx or .tflite)")


def plan_graph(graph: Graph, strips: bool = True) -> tuple[Graph, MemoryPlan]:
    """Passes, schedule and memory plan: all a fit check reads, before codegen formats weights.
    Strip fusion is a memory decision: kept when it makes the workspace smaller (it costs a few
    instructions per strip), with the largest strips that keep the smallest workspace. The
    plan's naive peak stays that of one kernel per layer, the baseline the workspace is
    measured against."""
    layered = optimize(graph)
    chosen = schedule_for_memory(layered)
    plan = plan_memory(chosen)
    naive, fused_chosen = plan.naive_peak, False
    for share in STRIP_SHARES if strips else ():
        fused = fuse_strips(layered, share)
        if fused is layered:
            break
        fused = schedule_for_memory(fused)
        fused_plan = plan_memory(fused)
        # Larger strips come later and win ties with smaller ones; the unfused graph wins ties.
        if fused_plan.workspace_size < plan.workspace_size or (fused_chosen and
                                                               fused_plan.workspace_size == plan.workspace_size):
            chosen, plan, fused_chosen = fused, replace(fused_plan, naive_peak=naive), True
    return chosen, plan


def compile_graph(graph: Graph, options: CompileOptions,
                  planned: tuple[Graph, MemoryPlan] | None = None) -> CompiledModel:
    optimized, plan = planned or plan_graph(graph, options.strips)
    code = generate(optimized, plan, options.name)
    return CompiledModel(graph, optimized, plan, code)


def compile_model(path: str | os.PathLike, options: CompileOptions) -> CompiledModel:
    return compile_graph(load_model(path, options), options)


def write_c(model: CompiledModel, out_dir: str | os.PathLike) -> list[Path]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    header = out / f"{model.code.name}.h"
    source = out / f"{model.code.name}.c"
    header.write_text(model.code.header)
    source.write_text(model.code.source)
    return [header, source]
