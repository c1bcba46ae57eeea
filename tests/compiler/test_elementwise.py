"""Elementwise ops against onnxruntime: broadcasting binary arithmetic, variadic ops, fused
activations, unary math/activations, comparisons/logic/Where, Cast, integer constant
folding, transpose sinking, and error reporting."""

from __future__ import annotations

import shutil
import subprocess
import zlib
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from opcheck import check_model, model_from_graph, single_node_model
from tinyaot.errors import TinyaotError
from tinyaot.frontends.onnx import import_model
from tinyaot.ir import Node
from tinyaot.ops.elementwise import broadcast_geometry
from tinyaot.pipeline import CompileOptions, compile_graph

RUNTIME = Path(__file__).resolve().parents[2] / "runtime"


def rng_for(*key) -> np.random.Generator:
    """A generator seeded by the test's parameters: reproducible in any test order."""
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def typed_model(op, inputs, attrs=None, initializers=None, opset=17, **kwargs) -> onnx.ModelProto:
    """single_node_model with output types filled in by ONNX shape inference (onnxruntime
    refuses outputs of undefined element type)."""
    model = onnx.shape_inference.infer_shapes(single_node_model(op, inputs, attrs, initializers, opset=opset, **kwargs))
    assert all(o.type.tensor_type.elem_type for o in model.graph.output), f"no output type for {op} opset {opset}"
    return model


def check(op, inputs, attrs=None, initializers=None, opset=17, **kwargs) -> None:
    model = typed_model(op, inputs, attrs, initializers, opset, **kwargs)
    what = f"{op} opset {opset} attrs={dict(attrs or {})} shapes={[np.shape(v) for v in {**inputs, **(initializers or {})}.values()]}"
    check_model(model, inputs, what)


def compiled_ops(model: onnx.ModelProto) -> list[str]:
    return [n.op for n in compile_graph(import_model(model, "m", {}), CompileOptions()).graph.nodes]


def normal(rng, shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


# ------------------------------------------------------------------------- binary arithmetic

# (a shape, b shape, which operands are constants): same shape, rank difference, scalars on
# either side, NHWC per-channel, two-sided broadcasting, unit dims, rank 7 that collapses.
BROADCAST_CASES = [
    ((2, 3, 4, 5), (2, 3, 4, 5), ()),
    ((2, 3, 4, 5), (3, 1, 5), ("b",)),
    ((2, 3, 4), (), ("b",)),
    ((), (3, 2), ("a",)),
    ((1, 4, 4, 8), (8,), ("b",)),
    ((4, 1, 3), (1, 5, 1), ()),
    ((1, 1, 1), (1,), ()),
    ((1, 6, 1, 1), (2, 1, 3, 5), ()),
    ((2, 1, 3, 1, 2, 1, 2), (1, 1, 3, 1, 1, 1, 2), ("b",)),
]


def operand(rng, op, which, shape):
    if op == "Div" and which == "b":  # keep denominators away from 0
        return (rng.choice([-1.0, 1.0], shape) * rng.uniform(0.5, 2.0, shape)).astype(np.float32)
    if op == "Pow":  # positive base, moderate exponent
        return (rng.uniform(0.5, 2.0, shape) if which == "a" else rng.uniform(-2.0, 2.0, shape)).astype(np.float32)
    return normal(rng, shape, 2.0)


def split_inputs(values: dict, constants: tuple):
    """Graph inputs, initializers (the names in `constants`) and the node's input order."""
    inputs = {k: v for k, v in values.items() if k not in constants}
    inits = {k: v for k, v in values.items() if k in constants}
    return inputs, inits, list(values)


@pytest.mark.parametrize("case", range(len(BROADCAST_CASES)))
@pytest.mark.parametrize("op", ["Add", "Sub", "Mul", "Div", "Pow", "Max", "Min"])
def test_binary_broadcasting(op, case):
    a_shape, b_shape, consts = BROADCAST_CASES[case]
    rng = rng_for(op, case)
    values = {"a": operand(rng, op, "a", a_shape), "b": operand(rng, op, "b", b_shape)}
    inputs, inits, order = split_inputs(values, consts)
    check(op, inputs, initializers=inits, input_order=order, opset=14)


@pytest.mark.parametrize("opset", [7, 13])
@pytest.mark.parametrize("op", ["Add", "Mul", "Div", "Sub"])
def test_binary_old_opsets(op, opset):
    rng = rng_for(op, opset)
    check(op, {"a": normal(rng, (3, 4, 5))}, initializers={"b": operand(rng, op, "b", (4, 1))}, opset=opset)


@pytest.mark.parametrize(
    "exponent",
    [np.float32(2.0), np.float32(0.5), np.float32(3.0), np.array([2], np.int64), np.array(3, np.int32)],
    ids=["f2", "f0.5", "f3", "i64", "i32"],
)
def test_pow_constant_exponent(exponent):
    x = rng_for("pow", str(exponent.dtype)).uniform(0.1, 3.0, (2, 3, 4)).astype(np.float32)
    check("Pow", {"x": x}, initializers={"e": np.asarray(exponent)}, opset=15)


# ------------------------------------------------------------------------------ variadic ops

VARIADIC_SHAPES = [(2, 3, 4), (3, 1), (4,), (1, 3, 1)]


@pytest.mark.parametrize("count", [1, 2, 3, 4])
@pytest.mark.parametrize("op", ["Sum", "Mean", "Max", "Min"])
def test_variadic(op, count):
    rng = rng_for(op, count)
    names = [f"x{i}" for i in range(count)]
    values = {n: normal(rng, VARIADIC_SHAPES[i]) for i, n in enumerate(names)}
    # The last input of the longer lists is a constant: a mix of activations and weights.
    inputs, inits, order = split_inputs(values, (names[-1],) if count > 2 else ())
    check(op, inputs, initializers=inits, input_order=order, opset=13)


def test_variadic_broadcast_first_input_small():
    """The first operands broadcast up to the output: the in-place fold must start full-size."""
    rng = rng_for("variadic-small")
    check("Sum", {"a": normal(rng, (4,)), "b": normal(rng, (3, 1)), "c": normal(rng, (2, 3, 4))})


# ----------------------------------------------------------------------- fused activations

FUSED = [
    ("Add", "Relu", {}, 13),
    ("Mul", "Clip", {"min": -0.5, "max": 0.75}, 13),
    ("Sub", "Clip", {"max": 0.5}, 11),
    ("Div", "LeakyRelu", {"alpha": 0.2}, 13),
    ("Sum", "Relu", {}, 13),
    ("Mean", "Clip", {"min": 0.0}, 13),
    ("Max", "Clip", {"min": -0.3, "max": 0.3}, 8),  # Clip bounds are attributes before opset 11
]


@pytest.mark.parametrize("index", range(len(FUSED)))
def test_fused_activation(index):
    op, act, bounds, opset = FUSED[index]
    rng = rng_for("fused", index)
    inits = {"c": operand(rng, "Div", "b", (3, 1))}
    nodes_inputs = ["x", "c"] + (["x"] if op in ("Sum", "Mean") else [])
    act_inputs, act_attrs = ["t"], {}
    if act == "Clip" and opset >= 11:
        for key in ("min", "max"):
            if key in bounds:
                inits[key] = np.float32(bounds[key])
        act_inputs = ["t", "min" if "min" in bounds else "", "max" if "max" in bounds else ""]
    elif act == "Clip":
        act_attrs = dict(bounds)
    elif act == "LeakyRelu":
        act_attrs = {"alpha": 0.2}
    graph = helper.make_graph(
        [helper.make_node(op, nodes_inputs, ["t"]), helper.make_node(act, act_inputs, ["y"], **act_attrs)],
        "fused",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3, 4])],
        [numpy_helper.from_array(v, k) for k, v in inits.items()],
    )
    model = model_from_graph(graph, opset)
    assert act not in compiled_ops(model), "the activation was not fused"
    check_model(model, {"x": normal(rng, (2, 3, 4))}, f"{op}+{act}")


def test_fused_activation_single_input_variadic():
    """A one-input Sum is a copy; with a fused LeakyRelu it becomes the unary kernel."""
    rng = rng_for("fused-single")
    graph = helper.make_graph(
        [helper.make_node("Sum", ["x"], ["t"]), helper.make_node("LeakyRelu", ["t"], ["y"], alpha=0.3)],
        "fused1",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 5])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3, 5])],
    )
    model = model_from_graph(graph, 13)
    assert compiled_ops(model) == ["Sum"]
    check_model(model, {"x": normal(rng, (3, 5))}, "Sum+LeakyRelu")


# ------------------------------------------------------------------------ unary activations


def unary_input(op, rng, shape):
    if op in ("Log", "Sqrt"):
        return rng.uniform(0.01, 5.0, shape).astype(np.float32)
    if op == "Reciprocal":
        return (rng.choice([-1.0, 1.0], shape) * rng.uniform(0.2, 4.0, shape)).astype(np.float32)
    if op == "Exp":
        return rng.uniform(-8.0, 8.0, shape).astype(np.float32)
    if op in ("Round", "Floor", "Ceil", "Sign"):  # halves and integers: ties and exact zeros
        return (rng.integers(-12, 13, shape) / 2.0).astype(np.float32)
    # Wide range to reach the saturating branches (sigmoid tails, softplus overflow guard).
    return (rng.standard_normal(shape) * 4.0).astype(np.float32)


UNARY = [
    ("Relu", {}, 14),
    ("LeakyRelu", {}, 16),
    ("LeakyRelu", {"alpha": 0.3}, 16),
    ("Elu", {}, 13),
    ("Elu", {"alpha": 0.5}, 13),
    ("Selu", {}, 13),
    ("Selu", {"alpha": 1.2, "gamma": 0.9}, 13),
    ("Celu", {}, 12),
    ("Celu", {"alpha": 2.5}, 12),
    ("Sigmoid", {}, 13),
    ("HardSigmoid", {}, 13),
    ("HardSigmoid", {"alpha": 0.3, "beta": 0.4}, 13),
    ("HardSwish", {}, 14),
    ("Tanh", {}, 13),
    ("Softplus", {}, 13),
    ("Softsign", {}, 13),
    ("Exp", {}, 13),
    ("Log", {}, 13),
    ("Sqrt", {}, 13),
    ("Abs", {}, 13),
    ("Neg", {}, 13),
    ("Reciprocal", {}, 13),
    ("Floor", {}, 13),
    ("Ceil", {}, 13),
    ("Erf", {}, 13),
    ("Gelu", {}, 20),
    ("Gelu", {"approximate": "tanh"}, 20),
    ("Mish", {}, 18),
    ("ThresholdedRelu", {}, 10),
    ("ThresholdedRelu", {"alpha": 0.5}, 10),
    ("Sign", {}, 13),
    ("Round", {}, 11),
    ("Shrink", {}, 9),
    ("Shrink", {"lambd": 1.5, "bias": 0.7}, 9),
]


@pytest.mark.parametrize("index", range(len(UNARY)), ids=[f"{op}{'-' + str(a) if a else ''}" for op, a, _ in UNARY])
def test_unary(index):
    op, attrs, opset = UNARY[index]
    rng = rng_for(op, index)
    shape = tuple(int(d) for d in rng.integers(1, 6, size=rng.integers(1, 5)))
    check(op, {"x": unary_input(op, rng, shape)}, attrs, opset=opset)


# ------------------------------------------------------------------------------------- Clip

CLIPS = [
    (6, {"min": -0.5, "max": 1.5}, {}),  # opset 6 (upgraded to 7 on import): attributes
    (7, {"max": 0.25}, {}),  # schema default for the absent min
    (7, {}, {}),
    (11, {}, {"min": -1.0, "max": 1.0}),
    (11, {}, {"min": 0.5}),  # max absent => +inf
    (12, {}, {"max": -0.5}),  # min absent (empty input name) => -inf
    (13, {}, {}),
    (13, {}, {"min": 0.0, "max": 6.0}),
    (13, {}, {"min": 1.0, "max": -1.0}),  # min > max: everything becomes max
]


@pytest.mark.parametrize("index", range(len(CLIPS)))
def test_clip(index):
    opset, attrs, bounds = CLIPS[index]
    rng = rng_for("clip", index)
    inits = {k: np.float32(v) for k, v in bounds.items()}
    order = ["x"] + (["min" if "min" in bounds else "", "max" if "max" in bounds else ""] if bounds else [])
    while order[-1] == "":
        order.pop()
    check("Clip", {"x": normal(rng, (2, 5, 3), 2.0)}, attrs, inits, opset=opset, input_order=order)


# ------------------------------------------------------------------------------------ PRelu

PRELUS = [
    ((1, 4, 5, 6), (4, 1, 1), 9),  # PyTorch's per-channel slope
    ((2, 3, 4), (4,), 16),  # numpy broadcasting: [C] aligns with the last axis
    ((2, 3, 4, 5), (1,), 7),
    ((3, 4), (3, 4), 16),
    ((1, 6, 2, 2), (1, 6, 1, 1), 16),
]


@pytest.mark.parametrize("index", range(len(PRELUS)))
def test_prelu(index):
    x_shape, slope_shape, opset = PRELUS[index]
    rng = rng_for("prelu", index)
    slope = rng.uniform(-0.5, 0.5, slope_shape).astype(np.float32)
    check("PRelu", {"x": normal(rng, x_shape)}, initializers={"slope": slope}, opset=opset)


def test_prelu_data_slope():
    rng = rng_for("prelu-data")
    check("PRelu", {"x": normal(rng, (2, 3, 4)), "slope": normal(rng, (3, 1))}, opset=16)


# ------------------------------------------------------------------------------------- Cast

FLOAT_TO = [
    (TensorProto.INT8, (-128.0, 127.0)),
    (TensorProto.UINT8, (0.0, 255.0)),
    (TensorProto.INT16, (-3000.0, 3000.0)),
    (TensorProto.INT32, (-1e6, 1e6)),
    (TensorProto.INT64, (-1e9, 1e9)),
    (TensorProto.BOOL, (-2.0, 2.0)),
]


@pytest.mark.parametrize("opset", [13, 21])
@pytest.mark.parametrize("index", range(len(FLOAT_TO)))
def test_cast_from_float(index, opset):
    to, (lo, hi) = FLOAT_TO[index]
    rng = rng_for("cast", index, opset)
    x = rng.uniform(lo, hi, (3, 7)).astype(np.float32)
    x[0, :4] = [0.0, -0.0, 0.75, -0.75]  # truncation toward zero; +-0 -> false
    if lo >= 0:
        x[0, :4] = np.abs(x[0, :4])
    check("Cast", {"x": x}, {"to": to}, opset=opset)


@pytest.mark.parametrize(
    "dtype,to",
    [
        (np.int8, TensorProto.FLOAT),
        (np.uint8, TensorProto.FLOAT),
        (np.int32, TensorProto.FLOAT),
        (np.int64, TensorProto.FLOAT),
        (np.bool_, TensorProto.FLOAT),
        (np.int64, TensorProto.INT32),
        (np.int32, TensorProto.INT8),
        (np.bool_, TensorProto.INT64),
        (np.int64, TensorProto.BOOL),
        (np.float32, TensorProto.FLOAT),
    ],
)
def test_cast_other(dtype, to):
    rng = rng_for("cast-other", np.dtype(dtype).name, to)
    if dtype == np.bool_:
        x = rng.integers(0, 2, (4, 5)).astype(np.bool_)
    elif np.dtype(dtype).kind == "f":
        x = normal(rng, (4, 5))
    else:
        info = np.iinfo(dtype)
        x = rng.integers(max(info.min, -1000), min(info.max, 1000), (4, 5), endpoint=True).astype(dtype)
    check("Cast", {"x": x}, {"to": to}, opset=19)


def test_castlike():
    rng = rng_for("castlike")
    x = rng.uniform(-100, 100, (2, 6)).astype(np.float32)
    check("CastLike", {"x": x}, initializers={"like": np.zeros((1,), np.int32)}, opset=15)


# ----------------------------------------------------------- comparisons, logic and Where


@pytest.mark.parametrize("op", ["Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual"])
def test_compare(op):
    rng = rng_for(op)
    # Small integers as floats: plenty of exact ties for Equal / *OrEqual.
    a = rng.integers(-2, 3, (2, 3, 4)).astype(np.float32)
    b = rng.integers(-2, 3, (3, 1)).astype(np.float32)
    check(op, {"a": a, "b": b}, opset=16 if op.endswith("Equal") and op != "Equal" else 13)


@pytest.mark.parametrize("op", ["And", "Or", "Xor"])
def test_logic(op):
    rng = rng_for(op)
    a = rng.integers(0, 2, (2, 3, 4)).astype(np.bool_)
    b = rng.integers(0, 2, (4,)).astype(np.bool_)
    check(op, {"a": a, "b": b}, opset=7)


def test_not():
    check("Not", {"x": rng_for("not").integers(0, 2, (3, 5)).astype(np.bool_)}, opset=7)


@pytest.mark.parametrize(
    "shapes", [((2, 3, 4), (2, 3, 4), (2, 3, 4)), ((3, 1), (4,), (1, 1, 4)), ((), (2, 5), (5,))]
)
def test_where(shapes):
    rng = rng_for("where", shapes)
    cond = rng.integers(0, 2, shapes[0]).astype(np.bool_)
    check("Where", {"c": cond, "x": normal(rng, shapes[1]), "y": normal(rng, shapes[2])}, opset=16)


def test_compare_where_chain():
    """A mask built from a comparison and logic, then selected with Where (all with kernels)."""
    rng = rng_for("chain")
    graph = helper.make_graph(
        [
            helper.make_node("Greater", ["x", "lo"], ["g"]),
            helper.make_node("LessOrEqual", ["x", "hi"], ["l"]),
            helper.make_node("And", ["g", "l"], ["m"]),
            helper.make_node("Not", ["m"], ["n"]),
            helper.make_node("Where", ["n", "x", "zero"], ["y"]),
        ],
        "chain",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 6])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 6])],
        [
            numpy_helper.from_array(np.float32(-0.5), "lo"),
            numpy_helper.from_array(rng.uniform(0, 1, (6,)).astype(np.float32), "hi"),
            numpy_helper.from_array(np.float32(0.0), "zero"),
        ],
    )
    check_model(model_from_graph(graph, 16), {"x": normal(rng, (4, 6))}, "compare/where chain")


# ------------------------------------------------------------------------ integer kernels

INT_TYPES = [np.int8, np.uint8, np.int32, np.int64]


def int_values(rng, dtype, shape, nonzero=False):
    info = np.iinfo(dtype)
    values = rng.integers(max(info.min, -100), min(info.max, 100), shape, endpoint=True).astype(dtype)
    if nonzero:
        values[values == 0] = 3
    return values


@pytest.mark.parametrize("dtype", INT_TYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("op", ["Add", "Sub", "Mul", "Div", "Max", "Min"])
def test_integer_kernels(op, dtype):
    """Wrapping arithmetic (int8/uint8 values up to 100 overflow), Div truncating toward zero."""
    rng = rng_for("int", op, np.dtype(dtype).name)
    a = int_values(rng, dtype, (2, 3, 4))
    b = int_values(rng, dtype, (3, 1), nonzero=op == "Div")
    check(op, {"a": a, "b": b}, opset=14)


def test_integer_variadic_and_scalar_constant():
    rng = rng_for("int-variadic")
    values = {f"x{i}": int_values(rng, np.int64, s) for i, s in enumerate([(4,), (3, 1), (2, 3, 4)])}
    check("Max", values, opset=13)
    check("Div", {"a": int_values(rng, np.int32, (5, 6))}, initializers={"b": np.array(-4, np.int32)}, opset=14)


@pytest.mark.parametrize(
    "op,dtype", [("Equal", np.int64), ("Less", np.int8), ("GreaterOrEqual", np.uint8), ("Greater", np.int32),
                 ("Equal", np.bool_)],
)
def test_compare_integer(op, dtype):
    rng = rng_for("cmp-int", op, np.dtype(dtype).name)
    if dtype == np.bool_:
        a, b = rng.integers(0, 2, (3, 4)).astype(np.bool_), rng.integers(0, 2, (4,)).astype(np.bool_)
    else:
        a, b = rng.integers(0, 4, (3, 4)).astype(dtype), rng.integers(0, 4, (4,)).astype(dtype)
    check(op, {"a": a, "b": b}, opset=16)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8], ids=lambda d: np.dtype(d).name)
def test_where_types(dtype):
    rng = rng_for("where-type", np.dtype(dtype).name)
    cond = rng.integers(0, 2, (3, 1, 4)).astype(np.bool_)
    x, y = (rng.integers(0, 100, s).astype(dtype) for s in [(1, 5, 4), (5, 1)])
    check("Where", {"c": cond, "x": x, "y": y}, opset=16)


# ---------------------------------------------------------------- integer constant folding


def folded_model(nodes, outputs, initializers, opset=17):
    """A graph whose named outputs are computed from constants only (folded at import), plus
    a data path so the model has an input."""
    graph = helper.make_graph(
        [*nodes, helper.make_node("Relu", ["x"], ["x_out"])],
        "folded",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
        [helper.make_tensor_value_info(name, dtype, None) for name, dtype in outputs]
        + [helper.make_tensor_value_info("x_out", TensorProto.FLOAT, [2])],
        [numpy_helper.from_array(np.asarray(v), k) for k, v in initializers.items()],
    )
    return model_from_graph(graph, opset)


@pytest.mark.parametrize("dtype", [np.int64, np.int32])
@pytest.mark.parametrize("op", ["Add", "Sub", "Mul", "Div", "Max", "Min", "Pow"])
def test_integer_folding(op, dtype):
    a = np.array([7, -7, 7, -7, 0, 9, -9, 12], dtype)
    b = np.array([2, 2, -2, -2, 3, 4, 5, -7], dtype)
    if op == "Pow":
        a = np.array([2, -3, 5, 1, -1, 0, 4, -2], dtype)
        b = np.array([3, 3, -1, -4, -1, 2, 0, 1], dtype)
    proto = TensorProto.INT64 if dtype == np.int64 else TensorProto.INT32
    model = folded_model([helper.make_node(op, ["a", "b"], ["y"])], [("y", proto)], {"a": a, "b": b}, opset=15)
    check_model(model, {"x": np.array([1.0, -1.0], np.float32)}, f"int {op}")


def test_integer_folding_misc():
    """Comparisons, logic, Where, Clip, Cast, Not and Neg on int64 shape-like constants."""
    nodes = [
        helper.make_node("Equal", ["s", "t"], ["eq"]),
        helper.make_node("Less", ["s", "t"], ["lt"]),
        helper.make_node("GreaterOrEqual", ["s", "t"], ["ge"]),
        helper.make_node("Or", ["eq", "lt"], ["or"]),
        helper.make_node("Not", ["or"], ["not"]),
        helper.make_node("Where", ["eq", "s", "t"], ["where"]),
        helper.make_node("Clip", ["s", "lo", "hi"], ["clip"]),
        helper.make_node("Cast", ["s"], ["f"], to=TensorProto.FLOAT),
        helper.make_node("Cast", ["fr"], ["trunc"], to=TensorProto.INT64),
        helper.make_node("Cast", ["fr"], ["dbl"], to=TensorProto.DOUBLE),
        helper.make_node("Cast", ["dbl"], ["back"], to=TensorProto.INT32),
        helper.make_node("Neg", ["s"], ["neg"]),
        helper.make_node("Abs", ["neg"], ["abs"]),
        helper.make_node("Mean", ["f", "f2"], ["mean"]),
    ]
    outputs = [
        ("eq", TensorProto.BOOL), ("lt", TensorProto.BOOL), ("ge", TensorProto.BOOL), ("not", TensorProto.BOOL),
        ("where", TensorProto.INT64), ("clip", TensorProto.INT64), ("trunc", TensorProto.INT64),
        ("back", TensorProto.INT32), ("abs", TensorProto.INT64), ("mean", TensorProto.FLOAT),
    ]
    inits = {
        "s": np.array([1, 3, -2, 8, 0], np.int64),
        "t": np.array([1, 2, 5, 8, -1], np.int64),
        "lo": np.array(-1, np.int64),
        "hi": np.array(4, np.int64),
        "fr": np.array([2.9, -2.9, 0.5, -0.5, 7.0], np.float32),
        "f2": np.array([1.5, 2.0, 3.0, 0.25, 1.0], np.float32),
    }
    model = folded_model(nodes, outputs, inits, opset=13)
    check_model(model, {"x": np.array([3.0, -2.0], np.float32)}, "int folding")


def test_shape_arithmetic_feeds_reshape():
    """PyTorch-style shape subgraph: Shape -> Div/Mul/Concat-free arithmetic -> Reshape."""
    graph = helper.make_graph(
        [
            helper.make_node("Shape", ["x"], ["s"]),
            helper.make_node("Div", ["s", "two"], ["half"]),
            helper.make_node("Mul", ["half", "mask"], ["m"]),
            helper.make_node("Sub", ["m", "fix"], ["shape"]),
            helper.make_node("Reshape", ["x", "shape"], ["r"]),
            helper.make_node("Add", ["r", "r"], ["y"]),
        ],
        "shapes",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 6, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [
            numpy_helper.from_array(np.array([1, 2, 2], np.int64), "two"),
            numpy_helper.from_array(np.array([2, 2, 4], np.int64), "mask"),
            numpy_helper.from_array(np.array([2, 0, 8], np.int64), "fix"),
        ],
    )
    # shape = [2, 3, 2] * [2, 2, 4] - [2, 0, 8] = [2, 6, 0] -> Reshape keeps the dim for 0.
    check_model(model_from_graph(graph, 13), {"x": normal(rng_for("shape-arith"), (2, 6, 4))}, "shape arithmetic")


# ------------------------------------------------------------------ layout: transpose sinking


def test_transposes_sink_through_elementwise_chain():
    """NHWC input viewed as NCHW, per-channel PRelu/Add/Mul, activations, a comparison mask
    and back to NHWC: the permute hooks move both transposes together and they cancel."""
    rng = rng_for("layout")
    c = 5
    graph = helper.make_graph(
        [
            helper.make_node("Transpose", ["x"], ["t"], perm=[0, 3, 1, 2]),
            helper.make_node("PRelu", ["t", "slope"], ["p"]),
            helper.make_node("Add", ["p", "bias"], ["a"]),
            helper.make_node("Sigmoid", ["a"], ["s"]),
            helper.make_node("Mul", ["s", "a"], ["m"]),
            helper.make_node("Clip", ["m", "lo"], ["k"]),
            helper.make_node("Greater", ["k", "thr"], ["g"]),
            helper.make_node("Where", ["g", "k", "p"], ["w"]),
            helper.make_node("Max", ["w", "a", "bias"], ["mx"]),
            helper.make_node("Transpose", ["mx"], ["y"], perm=[0, 2, 3, 1]),
        ],
        "layout",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 3, c])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 3, c])],
        [
            numpy_helper.from_array(rng.uniform(0.0, 0.5, (c, 1, 1)).astype(np.float32), "slope"),
            numpy_helper.from_array(normal(rng, (c, 1, 1)), "bias"),
            numpy_helper.from_array(np.float32(-0.2), "lo"),
            numpy_helper.from_array(normal(rng, (1, 1, 3)), "thr"),
        ],
    )
    model = model_from_graph(graph, 16)
    assert "Transpose" not in compiled_ops(model)
    check_model(model, {"x": normal(rng, (1, 4, 3, c))}, "transpose sinking")


def test_no_sinking_when_a_constant_has_higher_rank():
    rng = rng_for("rank-up")
    graph = helper.make_graph(
        [
            helper.make_node("Transpose", ["x"], ["t"], perm=[0, 2, 1]),
            helper.make_node("Add", ["t", "c"], ["y"]),
        ],
        "rankup",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(normal(rng, (2, 1, 4, 3)), "c")],
    )
    check_model(model_from_graph(graph, 13), {"x": normal(rng, (2, 3, 4))}, "higher-rank constant")


# ------------------------------------------------------------------------- kernel geometry


def test_geometry_collapses_axes():
    node = Node("Add", "n", ("a", "b"), ("y",))
    assert broadcast_geometry(node, (2, 3, 4), [(2, 3, 4), (2, 3, 4)]) == ([1] * 5 + [24], [[0] * 5 + [1], [0] * 5 + [1]])
    assert broadcast_geometry(node, (1, 4, 4, 8), [(1, 4, 4, 8), (8,)]) == ([1] * 4 + [16, 8], [[0] * 4 + [8, 1], [0] * 4 + [0, 1]])
    assert broadcast_geometry(node, (2, 3), [(2, 3), ()]) == ([1] * 5 + [6], [[0] * 5 + [1], [0] * 6])
    assert broadcast_geometry(node, (1, 8, 5, 5), [(1, 8, 5, 5), (8, 1, 1)]) == ([1] * 4 + [8, 25], [[0] * 4 + [25, 1], [0] * 4 + [1, 0]])
    with pytest.raises(TinyaotError, match="kernels support 6"):
        broadcast_geometry(node, (2,) * 7, [(2, 1) * 3 + (2,), (1, 2) * 3 + (1,)])


@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="arm-none-eabi-gcc not installed")
def test_kernels_build_for_cortex_m(tmp_path):
    kernels = ["binary_f32", "pow_f32", "binary_int", "unary_f32", "unary_math_f32", "compare", "logical", "where", "cast"]
    sources = [str(RUNTIME / "kernels" / f"{k}.c") for k in kernels]
    for cpu in (["-mcpu=cortex-m0"], ["-mcpu=cortex-m4", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"]):
        cmd = ["arm-none-eabi-gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-mthumb", *cpu, "-O2",
               f"-I{RUNTIME / 'include'}", "-c", *sources]
        result = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path)
        assert result.returncode == 0, result.stderr


# ---------------------------------------------------------------------------------- errors


def compile_model(model):
    return compile_graph(import_model(model, "m", {}), CompileOptions())


def test_error_shapes_do_not_broadcast():
    model = single_node_model("Add", {"a": np.zeros((3,), np.float32)}, initializers={"b": np.zeros((4,), np.float32)})
    with pytest.raises(TinyaotError, match=r"\(Add\): shapes \[3\] and \[4\] do not broadcast"):
        compile_model(model)


def test_error_integer_kernel():
    model = single_node_model("Pow", {"a": np.zeros((3,), np.int64)}, initializers={"b": np.ones((3,), np.int64)})
    with pytest.raises(TinyaotError, match=r"\(Pow\): int64 inputs have no kernel"):
        compile_model(model)
    model = single_node_model("Relu", {"a": np.zeros((3,), np.int32)}, opset=14)
    with pytest.raises(TinyaotError, match=r"\(Relu\): int32 inputs have no kernel"):
        compile_model(model)


def test_error_gelu_approximation():
    model = single_node_model("Gelu", {"x": np.zeros((3,), np.float32)}, {"approximate": "erf"}, opset=20)
    with pytest.raises(TinyaotError, match=r"\(Gelu\): approximate='erf' is not supported"):
        compile_model(model)


def test_error_cast_to_double_at_runtime():
    model = single_node_model("Cast", {"x": np.zeros((3,), np.float32)}, {"to": TensorProto.DOUBLE})
    with pytest.raises(TinyaotError, match=r"\(Cast\): cast to double is not supported"):
        compile_model(model)


def test_error_prelu_slope_grows_output():
    model = single_node_model("PRelu", {"x": np.zeros((3, 1), np.float32)}, initializers={"s": np.zeros((3, 4), np.float32)})
    with pytest.raises(TinyaotError, match=r"\(PRelu\): slope \[3, 4\] does not broadcast to X \[3, 1\]"):
        compile_model(model)
