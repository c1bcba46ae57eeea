"""Helpers of the int8 tests: build QOperator / QDQ models, run them with onnxruntime, with
tinyaot's C on the host and with tinyaot's integer golden (the ops' evaluate), and compare.

The acceptance: C == golden on 100% of elements; tinyaot vs onnxruntime exact on >= 99.5%
of elements and never more than one quantization step off.

onnxruntime reference modes: "default" (graph optimizations on, what users get) and
"disable" (ORT_DISABLE_ALL: a QDQ model computes in float between its Q/DQ nodes, the ONNX
definition of QDQ). On x86 AVX2 without VNNI, onnxruntime's uint8 x int8 QLinearConv /
QLinearMatMul / QGemm kernels saturate pairs of products in int16 (vpmaddubsw), so tests of
uint8 activations use uint8 weights (or 7-bit int8 weights), which its kernels compute exactly.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

from opcheck import model_from_graph
from tinyaot.frontends.onnx import import_model
import subprocess
import tempfile
from pathlib import Path

from tinyaot.hostrun import build_host, check_inputs, read_outputs
from tinyaot.ir import Graph
from tinyaot.ops import OPS
from tinyaot.pipeline import CompiledModel, CompileOptions, compile_graph
from tinyaot.reference import evaluate as evaluate_graph

ONNX_TYPES = {np.dtype("float32"): TensorProto.FLOAT, np.dtype("int8"): TensorProto.INT8,
              np.dtype("uint8"): TensorProto.UINT8, np.dtype("int32"): TensorProto.INT32}
QRANGE = {np.dtype("int8"): (-128, 127), np.dtype("uint8"): (0, 255)}


def run_ort(model: onnx.ModelProto, feeds: Mapping[str, np.ndarray], mode: str = "default") -> dict[str, np.ndarray]:
    options = ort.SessionOptions()
    options.log_severity_level = 3
    if mode == "disable":
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(names, dict(feeds))))


def compile_onnx(model: onnx.ModelProto, name: str = "model") -> CompiledModel:
    return compile_graph(import_model(model, name, {}), CompileOptions())


class HostModel:
    """A compiled model built once for the host and run on several inputs."""

    def __init__(self, compiled: CompiledModel) -> None:
        self.compiled = compiled
        self._dir = tempfile.TemporaryDirectory(prefix="tinyaot-int8-")
        self.exe = build_host(compiled, Path(self._dir.name))

    def run(self, feed: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        directory = Path(self._dir.name)
        ins = []
        for i, value in enumerate(check_inputs(self.compiled.graph, feed)):
            path = directory / f"in{i}.bin"
            path.write_bytes(value.tobytes())
            ins.append(str(path))
        outs = [str(directory / f"out{i}.bin") for i in range(len(self.compiled.graph.outputs))]
        subprocess.run([str(self.exe), *ins, *outs], check=True, capture_output=True, timeout=120)
        return read_outputs(self.compiled.graph, outs)


def steps(a: np.ndarray, b: np.ndarray, scale: float | None = None) -> np.ndarray:
    """|a - b| in quantization steps: integers as they are, dequantized floats in units of
    their scale, other floats 0 when equal and "many" otherwise."""
    if a.dtype.kind == "f" and scale is None:
        return np.where(a == b, 0, 1 << 20).astype(np.int64).reshape(-1)
    if a.dtype.kind == "f":
        return np.rint(np.abs(a.astype(np.float64) - b.astype(np.float64)) / scale).astype(np.int64).reshape(-1)
    return np.abs(a.astype(np.int64) - b.astype(np.int64)).reshape(-1)


def output_scale(graph: Graph, name: str) -> float | None:
    """The scale of a float output computed by a DequantizeLinear (None otherwise)."""
    producer = graph.producers().get(name)
    while producer is not None and OPS[producer.op].alias:
        producer = graph.producers().get(producer.inputs[0])
    if producer is None or producer.op != "DequantizeLinear":
        return None
    return float(producer.attrs["x_quant"].scale[0])


class Comparison:
    """Accumulates |tinyaot - reference| over several runs."""

    def __init__(self) -> None:
        self.diffs: list[np.ndarray] = []

    def add(self, actual: np.ndarray, expected: np.ndarray, what: str, scale: float | None = None) -> None:
        assert actual.shape == expected.shape and actual.dtype == expected.dtype, (
            f"{what}: {actual.dtype}{list(actual.shape)} vs {expected.dtype}{list(expected.shape)}")
        self.diffs.append(steps(actual, expected, scale))

    @property
    def exact(self) -> float:
        d = np.concatenate(self.diffs)
        return float(np.mean(d == 0)) if d.size else 1.0

    @property
    def max_steps(self) -> int:
        return int(max((d.max(initial=0) for d in self.diffs), default=0))

    def check(self, what: str, exact: float = 0.995, max_steps: int = 1) -> None:
        assert self.max_steps <= max_steps and self.exact >= exact, (
            f"{what}: {100 * self.exact:.3f}% exact (need {100 * exact:.1f}%), max {self.max_steps} steps "
            f"(allowed {max_steps})")


def check_int8(model: onnx.ModelProto, feeds: Sequence[Mapping[str, np.ndarray]], what: str = "",
               modes: Sequence[str] = ("default",), exact: float = 0.995, max_steps: int = 1) -> CompiledModel:
    """C == golden exactly, and tinyaot vs onnxruntime within the acceptance, over `feeds`."""
    compiled = compile_onnx(model)
    host = HostModel(compiled)
    versus = {mode: Comparison() for mode in modes}
    for feed in feeds:
        actual = host.run(feed)
        golden = evaluate_graph(compiled.graph, feed)
        for name, value in actual.items():
            np.testing.assert_array_equal(value, golden[name], err_msg=f"{what}: C vs golden, output {name}")
        for mode in modes:
            expected = run_ort(model, feed, mode)
            for name, value in expected.items():
                versus[mode].add(actual[name], value, f"{what} output {name}", output_scale(compiled.graph, name))
    for mode, comparison in versus.items():
        comparison.check(f"{what} vs onnxruntime ({mode})", exact, max_steps)
    return compiled


# ----------------------------------------------------------------------------- model building


def const(name: str, value: np.ndarray) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(value), name)


def scalar(value, dtype) -> np.ndarray:
    return np.array(value, dtype=dtype)


def graph_model(nodes: Sequence[onnx.NodeProto], inputs: Mapping[str, np.ndarray], outputs: Sequence[str],
                initializers: Mapping[str, np.ndarray], opset: int = 17, ms_domain: bool = False) -> onnx.ModelProto:
    graph = helper.make_graph(
        list(nodes), "int8_test",
        [helper.make_tensor_value_info(k, ONNX_TYPES[v.dtype], v.shape) for k, v in inputs.items()],
        [helper.make_empty_tensor_value_info(o) for o in outputs],
        [const(k, v) for k, v in initializers.items()],
    )
    model = model_from_graph(graph, opset)
    if ms_domain:
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    return model


def random_q(rng: np.random.Generator, dtype, scale_range=(0.005, 0.05), zp_spread: int = 40) -> tuple[np.float32, int]:
    lo, hi = QRANGE[np.dtype(dtype)]
    mid = (lo + hi) // 2
    return np.float32(rng.uniform(*scale_range)), int(rng.integers(mid - zp_spread, mid + zp_spread + 1))


def random_tensor(rng: np.random.Generator, shape, dtype) -> np.ndarray:
    lo, hi = QRANGE[np.dtype(dtype)]
    return rng.integers(lo, hi + 1, shape).astype(dtype)


class Builder:
    """A small model: graph inputs, initializers and nodes."""

    def __init__(self, seed: int, dtype=np.int8) -> None:
        self.rng = np.random.default_rng(seed)
        self.dtype = np.dtype(dtype)
        self.nodes, self.inits, self.inputs = [], {}, {}
        self.count = 0

    def name(self, base: str) -> str:
        self.count += 1
        return f"{base}{self.count}"

    def init(self, base: str, value) -> str:
        name = self.name(base)
        self.inits[name] = np.asarray(value)
        return name

    def qparams(self, scales=(0.01, 0.1), zero_point: int | None = None) -> tuple[str, str]:
        s, z = random_q(self.rng, self.dtype, scales)
        return self.init("s", scalar(s, np.float32)), self.init("z", scalar(z if zero_point is None else zero_point, self.dtype))

    def input(self, shape) -> str:
        name = self.name("x")
        self.inputs[name] = random_tensor(self.rng, shape, self.dtype)
        return name

    def node(self, op: str, inputs, n_out: int = 1, **attrs) -> str:
        outs = [self.name(op.lower()) for _ in range(n_out)]
        domain = "com.microsoft" if op.startswith("Q") and op not in ("QuantizeLinear", "QLinearConv",
                                                                    "QLinearMatMul") else ""
        self.nodes.append(helper.make_node(op, list(inputs), outs, domain=domain, **attrs))
        return outs[0]

    def weights(self, shape, axis: int | None, wdtype=np.int8, bits: int = 8) -> tuple[str, str, str]:
        """(weights, scale, zero point) constants; per-channel along `axis` or per tensor."""
        lo, hi = QRANGE[np.dtype(wdtype)]
        if bits < 8:
            lo, hi = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
        w = self.rng.integers(lo, hi + 1, shape).astype(wdtype)
        n = shape[axis] if axis is not None else 1
        scale = self.rng.uniform(0.001, 0.01, n).astype(np.float32)
        zp = (np.zeros(n, wdtype) if np.dtype(wdtype) == np.int8 else self.rng.integers(100, 156, n).astype(wdtype))
        if axis is None:
            scale, zp = scale.reshape(()), zp.reshape(())
        return self.init("w", w), self.init("ws", scale), self.init("wz", zp)

    def model(self, outputs, opset: int = 17):
        ms = any(n.domain == "com.microsoft" for n in self.nodes)
        return graph_model(self.nodes, self.inputs, list(outputs), self.inits, opset, ms_domain=ms)

    def feeds(self, count: int = 3):
        return [{k: random_tensor(self.rng, v.shape, v.dtype) if v.dtype.kind != "f"
                 else self.rng.standard_normal(v.shape).astype(np.float32) for k, v in self.inputs.items()}
                for _ in range(count)]
