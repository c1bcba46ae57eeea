"""The stages in order: model file -> Graph -> optimized Graph -> MemoryPlan -> C."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from tinyaot.codegen import GeneratedC, generate
from tinyaot.errors import TinyaotError
from tinyaot.ir import Graph
from tinyaot.passes import optimize
from tinyaot.planner import MemoryPlan, plan_memory, schedule_for_memory


@dataclass(frozen=True)
class CompileOptions:
    name: str | None = None  # C symbol prefix; default: the model file's stem
    input_shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)


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


def plan_graph(graph: Graph) -> tuple[Graph, MemoryPlan]:
    """Passes, schedule and memory plan: all a fit check reads, before codegen formats weights."""
    optimized = schedule_for_memory(optimize(graph))
    return optimized, plan_memory(optimized)


def compile_graph(graph: Graph, options: CompileOptions,
                  planned: tuple[Graph, MemoryPlan] | None = None) -> CompiledModel:
    optimized, plan = planned or plan_graph(graph)
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
