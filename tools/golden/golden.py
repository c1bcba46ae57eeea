"""Golden outputs for a model's self-check, computed with the model's reference runtime.

    golden.py MODEL.onnx|MODEL.tflite --sample sample.npz --golden golden.npz
              [--inputs given.npz] [--seed 0] [--input-shape NAME=1x3x32x32]...

Writes `--sample`: the model's inputs (from --inputs, or seeded random data of each
input's shape and dtype) and `--golden`: the reference's outputs for them, both keyed by
tensor name. The reference of a .onnx model is onnxruntime (no graph optimizations); that
of a .tflite model is LiteRT with its reference kernels (OpResolverType.BUILTIN_REF, the
closest to TFLite Micro; tinyaot's int8 kernels match them bit-exactly). `--reference tinyaot`
is the compiler's integer golden (tinyaot.reference), for int8 ONNX models: onnxruntime is
no bit-exact reference for those, so tests/compiler/test_int8_models.py compares that golden
with onnxruntime, and the firmware with the golden. Used at build
time by tinyaot_model (//:defs.bzl); the tinyaot compiler itself never imports either.

Random inputs: float ~ N(0, 1); quantized int8/uint8 inputs (.tflite) real values ~ N(0, 1)
through their scale and zero point, other int8/uint8 over their whole range; other integers in
[0, 10); bool fair coin. The seed makes the files reproducible, so builds are too.
"""

from __future__ import annotations

import argparse
import re
import sys

import numpy as np

_DTYPES = {
    "tensor(float)": np.float32,
    "tensor(int8)": np.int8,
    "tensor(uint8)": np.uint8,
    "tensor(int16)": np.int16,
    "tensor(int32)": np.int32,
    "tensor(int64)": np.int64,
    "tensor(bool)": np.bool_,
}


class GoldenError(Exception):
    pass


def parse_shapes(specs: list[str]) -> dict[str, tuple[int, ...]]:
    shapes = {}
    for spec in specs:
        name, _, dims = spec.rpartition("=")
        if not name or not re.fullmatch(r"\d+(x\d+)*", dims):
            raise GoldenError(f"--input-shape '{spec}' is not of the form NAME=1x3x32x32")
        shapes[name] = tuple(int(d) for d in dims.split("x"))
    return shapes


def random_input(
    shape: tuple[int, ...], dtype: np.dtype, rng: np.random.Generator, quant: tuple[float, int] | None = None
) -> np.ndarray:
    dtype = np.dtype(dtype)
    if quant is not None and quant[0] > 0 and dtype.itemsize == 1 and dtype.kind in "iu":
        # Real values ~ N(0, 1) through the input's quantization: full-range random bytes
        # drive typical models into saturation, so every output would be -128 or 127.
        info = np.iinfo(dtype)
        scale, zero_point = quant
        q = np.round(rng.standard_normal(shape) / scale) + zero_point
        return np.clip(q, info.min, info.max).astype(dtype)
    if dtype.kind == "f":
        return rng.standard_normal(shape).astype(dtype)
    if dtype == np.bool_:
        return rng.integers(0, 2, shape).astype(np.bool_)
    if dtype.itemsize == 1:
        info = np.iinfo(dtype)
        return rng.integers(info.min, info.max, shape, endpoint=True).astype(dtype)
    return rng.integers(0, 10, shape).astype(dtype)


def sample_inputs(session, shapes: dict[str, tuple[int, ...]], seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    inputs = {}
    for arg in session.get_inputs():
        if arg.type not in _DTYPES:
            raise GoldenError(f"input '{arg.name}' has type {arg.type}, which golden.py cannot generate")
        shape = shapes.get(arg.name) or tuple(arg.shape)
        if not all(isinstance(d, int) and d > 0 for d in shape):
            raise GoldenError(f"input '{arg.name}' has dynamic shape {list(arg.shape)}: pass --input-shape {arg.name}=...")
        inputs[arg.name] = random_input(shape, _DTYPES[arg.type], rng)
    return inputs


def _random_inputs(specs, shapes: dict[str, tuple[int, ...]], seed: int) -> dict[str, np.ndarray]:
    """specs: (name, shape, numpy dtype, (scale, zero point) or None) per model input, in order."""
    rng = np.random.default_rng(seed)
    inputs = {}
    for name, shape, dtype, quant in specs:
        shape = shapes.get(name) or tuple(shape)
        if not all(isinstance(d, (int, np.integer)) and d > 0 for d in shape):
            raise GoldenError(f"input '{name}' has dynamic shape {list(shape)}: pass --input-shape {name}=...")
        inputs[name] = random_input(tuple(int(d) for d in shape), dtype, rng, quant)
    return inputs


def run_onnxruntime(model: str, given: dict[str, np.ndarray] | None, shapes, seed: int):
    import onnxruntime as ort

    options = ort.SessionOptions()
    # No graph rewrites: the reference is the model's own arithmetic.
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    inputs = given if given is not None else sample_inputs(session, shapes, seed)
    names = [o.name for o in session.get_outputs()]
    return inputs, dict(zip(names, session.run(names, inputs)))


def run_litert(model: str, given: dict[str, np.ndarray] | None, shapes, seed: int):
    from ai_edge_litert import interpreter as litert

    it = litert.Interpreter(model_path=model, experimental_op_resolver_type=litert.OpResolverType.BUILTIN_REF)
    details = it.get_input_details()
    for detail in details:
        if detail["name"] in shapes:
            it.resize_tensor_input(detail["index"], list(shapes[detail["name"]]))
    unknown = sorted(set(shapes) - {d["name"] for d in details})
    if unknown:
        raise GoldenError(f"--input-shape names unknown input(s) {', '.join(unknown)}")
    it.allocate_tensors()
    details = it.get_input_details()
    if given is not None:
        inputs = given
    else:
        # The shapes LiteRT allocated (a dynamic batch, -1 in the signature, is 1 there as in
        # tinyaot's importer; --input-shape resized the others above).
        specs = [
            (d["name"], [int(x) for x in d["shape"]], np.dtype(d["dtype"]), tuple(d["quantization"]))
            for d in details
        ]
        inputs = _random_inputs(specs, shapes, seed)
    missing = [d["name"] for d in details if d["name"] not in inputs]
    if missing:
        raise GoldenError(f"no value for input(s) {', '.join(missing)}")
    for d in details:
        it.set_tensor(d["index"], np.asarray(inputs[d["name"]]).astype(d["dtype"]))
    it.invoke()
    return inputs, {d["name"]: it.get_tensor(d["index"]).copy() for d in it.get_output_details()}


def run_tinyaot(model: str, given: dict[str, np.ndarray] | None, shapes, seed: int):
    """The compiler's own integer golden (tinyaot.reference): for int8 ONNX models, whose
    reference runtime is no bit-exact oracle (tests compare this golden with onnxruntime)."""
    from tinyaot.errors import TinyaotError
    from tinyaot.pipeline import CompileOptions, compile_model
    from tinyaot.reference import evaluate

    try:
        graph = compile_model(model, CompileOptions(input_shapes=shapes)).graph
        if given is None:
            specs = []
            for name in graph.inputs:
                t = graph.tensors[name]
                quant = None
                if t.quant is not None and len(t.quant.scale) == 1:
                    quant = (float(t.quant.scale[0]), int(t.quant.zero_point[0]))
                specs.append((name, t.shape, t.dtype.numpy, quant))
            given = _random_inputs(specs, shapes, seed)
        return given, evaluate(graph, given)
    except TinyaotError as exc:
        raise GoldenError(str(exc)) from exc


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="golden.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("model")
    parser.add_argument("--sample", required=True, help=".npz to write the inputs to")
    parser.add_argument("--golden", required=True, help=".npz to write the reference's outputs to")
    parser.add_argument("--inputs", help=".npz of inputs to use instead of random ones")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--input-shape", action="append", default=[], metavar="NAME=1x3x32x32")
    parser.add_argument("--reference", choices=["auto", "tinyaot"], default="auto",
                        help="auto: onnxruntime for .onnx, LiteRT for .tflite; tinyaot: the compiler's integer golden")
    args = parser.parse_args(argv)

    if args.reference == "tinyaot":
        run = run_tinyaot
    else:
        run = run_litert if args.model.lower().endswith(".tflite") else run_onnxruntime
    try:
        given = None
        if args.inputs:
            with np.load(args.inputs, allow_pickle=False) as data:
                given = {key: data[key] for key in data.files}
        inputs, outputs = run(args.model, given, parse_shapes(args.input_shape), args.seed)
    except GoldenError as exc:
        print(f"golden.py: error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # the runtime's own errors: one line is enough
        print(f"golden.py: error: {args.model}: {type(exc).__name__}: {' '.join(str(exc).split())[:500]}", file=sys.stderr)
        return 2
    np.savez(args.sample, **inputs)
    np.savez(args.golden, **outputs)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
