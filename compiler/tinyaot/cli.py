"""Command line: tinyaot compile | run | info.

Every failure a user can cause is one line on stderr and exit code 2; so is any internal
error (labelled as such), so scripts and CI never see a traceback.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np

from tinyaot import __version__
from tinyaot.errors import TinyaotError

EXIT_ERROR = 2


def _add_model_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="model file (.onnx or .tflite)")
    parser.add_argument(
        "--input-shape",
        action="append",
        default=[],
        metavar="NAME=1x3x32x32",
        help="static shape for an input with dynamic dimensions (repeatable)",
    )
    parser.add_argument("--name", help="C symbol prefix (default: model file name)")
    parser.add_argument("--no-strips", action="store_true",
                        help="run every layer whole: no strip fusion of a 1x1 and a depthwise convolution "
                             "(a few instructions less, more RAM)")


class _Parser(argparse.ArgumentParser):
    """Usage mistakes follow the same rule as every other error: one line, exit code 2."""

    def error(self, message: str):
        self.exit(EXIT_ERROR, f"{self.prog}: error: {' '.join(message.split())} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="tinyaot", description="Compile neural networks to standalone C.")
    parser.add_argument("--version", action="version", version=f"tinyaot {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    compile_p = sub.add_parser("compile", help="write <name>.h/.c for a model")
    _add_model_args(compile_p)
    compile_p.add_argument("-o", "--output", required=True, help="output directory")
    compile_p.add_argument("--target", default="host",
                           help="fail unless the model fits this core's board: cortex-m0 ... cortex-m55 (default host: no check)")

    run_p = sub.add_parser("run", help="compile, run on a target, write the outputs")
    _add_model_args(run_p)
    run_p.add_argument("--inputs", required=True, help=".npz keyed by the model's input names")
    run_p.add_argument("--outputs", required=True, help=".npz to write, keyed by output names")
    run_p.add_argument("--target", default="host", help="host (default) or a core on QEMU: cortex-m0 ... cortex-m55")
    run_p.add_argument("--profile", action="store_true", help="print the instructions executed (QEMU targets)")
    run_p.add_argument("--keep", metavar="DIR", help="keep the build directory here")

    check_p = sub.add_parser("selfcheck", help="write a C main() checking the model against golden outputs")
    _add_model_args(check_p)
    check_p.add_argument("--inputs", required=True, help=".npz sample input, keyed by input names")
    check_p.add_argument("--expected", required=True, help=".npz golden outputs, keyed by output names")
    check_p.add_argument("-o", "--output", required=True, help="C file to write")
    check_p.add_argument("--label", help="model name in the printed summary (default: --name)")

    info_p = sub.add_parser("info", help="ops, shapes, MACs, parameters and planned memory")
    _add_model_args(info_p)

    quant_p = sub.add_parser("quantize", help="int8 post-training quantization of a float .onnx (onnxruntime)")
    quant_p.add_argument("model", help="float model (.onnx)")
    quant_p.add_argument("--calibration", required=True, help=".npz of calibration samples keyed by input names")
    quant_p.add_argument("-o", "--output", required=True, help="quantized .onnx to write")
    quant_p.add_argument("--format", choices=("qdq", "qoperator"), default="qdq", help="ONNX form (default qdq)")
    quant_p.add_argument("--per-tensor", action="store_true", help="one weight scale per tensor, not per channel")
    quant_p.add_argument("--activation-type", choices=("int8", "uint8"), default="int8", help="default int8")
    quant_p.add_argument("--reduce-range", action="store_true",
                         help="7-bit weights (for onnxruntime's AVX2 uint8 kernels, which saturate otherwise)")

    export_p = sub.add_parser("export", help="a Model Library Format archive or a standalone make/CMake project")
    _add_model_args(export_p)
    export_p.add_argument("--format", required=True, choices=["mlf", "project"],
                          help="mlf: a .tar (.tar.gz) archive; project: a folder that builds without Python or Bazel")
    export_p.add_argument("--target", help="project: a core on QEMU (cortex-m0 ... cortex-m55) or generic (your SDK)")
    export_p.add_argument("--inputs", help="project: .npz sample input embedded in main.c (default: random, --seed)")
    export_p.add_argument("--expected", help="project: .npz golden outputs; main.c then checks them (PASS/FAIL)")
    export_p.add_argument("--seed", type=int, default=0, help="seed of the random sample input (default 0)")
    export_p.add_argument("-o", "--output", required=True, help="mlf: archive to write; project: folder")

    report_p = sub.add_parser("report", help="HTML report: memory plan picture, per-layer table, totals")
    _add_model_args(report_p)
    report_p.add_argument("--target", help="also run on this core's QEMU board: instructions per layer, flash, RAM, stack")
    report_p.add_argument("--inputs", help="with --target: .npz input to run (default: random, --seed)")
    report_p.add_argument("--seed", type=int, default=0, help="seed of the random input (default 0)")
    report_p.add_argument("-o", "--output", required=True, help="report.html (the picture goes beside it as .png)")
    return parser


def _options(args: argparse.Namespace):
    from tinyaot.frontends.onnx import parse_input_shapes
    from tinyaot.pipeline import CompileOptions

    return CompileOptions(name=args.name, input_shapes=parse_input_shapes(args.input_shape), strips=not args.no_strips)


def _compile(args: argparse.Namespace):
    from tinyaot.pipeline import compile_model

    return compile_model(args.model, _options(args))


def cmd_compile(args: argparse.Namespace) -> int:
    from tinyaot.codegen import c_identifier
    from tinyaot.pipeline import compile_graph, load_model, plan_graph, write_c

    options = _options(args)
    source = load_model(args.model, options)
    planned = plan_graph(source, options.strips)
    if args.target != "host":
        from tinyaot.targets import check_plan_fit

        # Before codegen formats the weights (seconds for megabytes of them) and before
        # writing: a model that does not fit fails fast and leaves no C behind.
        check_plan_fit(*planned, c_identifier(options.name or planned[0].name, set()), args.target)
    model = compile_graph(source, options, planned)
    try:
        paths = write_c(model, args.output)
    except OSError as exc:
        raise TinyaotError(f"{args.output}: cannot write the generated C ({exc.strerror or type(exc).__name__})")
    for path in paths:
        print(path)
    return 0


def _load_npz(path: str) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}
    except FileNotFoundError:
        raise TinyaotError(f"{path}: no such file")
    except Exception as exc:
        raise TinyaotError(f"{path}: not a readable .npz file ({type(exc).__name__})")


def cmd_run(args: argparse.Namespace) -> int:
    inputs = _load_npz(args.inputs)
    model = _compile(args)
    if args.target != "host":
        from tinyaot.targets import run_target

        result = run_target(model, inputs, args.target, keep_dir=args.keep, profile=args.profile)
        outputs = result.outputs
    elif args.profile:
        raise TinyaotError("--profile needs a QEMU target (--target cortex-m7 ...)")
    else:
        from tinyaot.hostrun import run_host

        outputs = run_host(model, inputs, keep_dir=args.keep)
    try:
        np.savez(args.outputs, **outputs)
    except OSError as exc:
        raise TinyaotError(f"{args.outputs}: cannot write the outputs ({exc.strerror or type(exc).__name__})")
    for name, value in outputs.items():
        print(f"{name}: shape {list(value.shape)} {value.dtype}")
    if args.profile:
        print(f"instructions executed on {args.target}: {result.instructions}")
    return 0


def cmd_selfcheck(args: argparse.Namespace) -> int:
    from tinyaot.selfcheck import selfcheck_source

    inputs, expected = _load_npz(args.inputs), _load_npz(args.expected)
    source = selfcheck_source(_compile(args), inputs, expected, args.label)
    try:
        Path(args.output).write_text(source)
    except OSError as exc:
        raise TinyaotError(f"{args.output}: cannot write ({exc.strerror or type(exc).__name__})")
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from tinyaot.report import info_text

    print(info_text(_compile(args)))
    return 0


def cmd_quantize(args: argparse.Namespace) -> int:
    from tinyaot.quantize import quantize_model

    print(quantize_model(args.model, _load_npz(args.calibration), args.output, args.format, not args.per_tensor,
                         args.activation_type, args.reduce_range))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from tinyaot.export import export_mlf, export_project

    if args.format == "mlf":
        unused = [f"--{n}" for n in ("target", "inputs", "expected") if getattr(args, n)]
        if unused:
            raise TinyaotError(f"{', '.join(unused)}: only for --format project (an archive is target-independent C)")
        print(export_mlf(_compile(args), args.model, _options(args), args.output))
        return 0
    if not args.target:
        raise TinyaotError("--format project needs --target: a core (cortex-m4 ...) or generic")
    inputs = _load_npz(args.inputs) if args.inputs else None
    expected = _load_npz(args.expected) if args.expected else None
    files = export_project(_compile(args), args.model, _options(args), args.target, args.output,
                           inputs=inputs, expected=expected, seed=args.seed)
    print(f"{args.output}: {len(files)} files; build with: make -C {args.output}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from tinyaot.htmlreport import build_report, write_report

    if args.inputs and not args.target:
        raise TinyaotError("--inputs: only with --target (the report runs the model there)")
    inputs = _load_npz(args.inputs) if args.inputs else None
    report = build_report(_compile(args), args.model, _options(args), args.target, inputs, args.seed)
    for path in write_report(report, args.output):
        print(path)
    return 0


COMMANDS = {"compile": cmd_compile, "run": cmd_run, "selfcheck": cmd_selfcheck, "info": cmd_info,
            "quantize": cmd_quantize, "export": cmd_export, "report": cmd_report}


def _innermost_frame(exc: BaseException) -> str:
    """file:line where an unexpected exception was raised, for the bug report."""
    tb = exc.__traceback__
    if tb is None:
        return "?"
    while tb.tb_next is not None:
        tb = tb.tb_next
    return f"{Path(tb.tb_frame.f_code.co_filename).name}:{tb.tb_lineno}"


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        # Library warnings (numpy while folding constants, onnx) would be extra stderr lines.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return COMMANDS[args.command](args)
    except TinyaotError as exc:
        print(f"tinyaot: error: {' '.join(str(exc).split())}", file=sys.stderr)
    except OSError as exc:  # the file system said no (permissions, disk full ...)
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"tinyaot: error: {where}{exc.strerror or type(exc).__name__}", file=sys.stderr)
    except KeyboardInterrupt:
        print("tinyaot: interrupted", file=sys.stderr)
    except (MemoryError, RecursionError) as exc:
        print(f"tinyaot: error: model too large or too deep to process ({type(exc).__name__})", file=sys.stderr)
    except Exception as exc:  # a bug of ours: still one line, never a traceback
        where = _innermost_frame(exc)
        print(f"tinyaot: internal error: {type(exc).__name__}: {' '.join(str(exc).split())[:300]} ({where}); please report",
              file=sys.stderr)
    return EXIT_ERROR
