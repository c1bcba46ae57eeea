"""tinyaot benchmark: the MLPerf Tiny models on the emulated Cortex-M cores, measured.

    python3 bench/run.py                      # everything; writes BENCHMARKS.md at the repo root
    python3 bench/run.py --quick              # int8 on the Cortex-M7 only (prints, writes nothing)
    python3 bench/run.py --models kws,ad --cores cortex-m7 --output /tmp/b.md --json /tmp/b.json
    ./bazelw run //bench -- --quick

For every model (models/models.bzl: kws, vww, ic = ResNet-8, ad; int8 from the published
.tflite, float from the ONNX file) and core:
- instructions of one inference, counted exactly by our QEMU plugin (tools/qemu_plugin/
  insn_count.c) as the sum over the layer functions (start-up, main and printing excluded),
  per MAC (MACs from the compiler's OpDefs, as `tinyaot info` prints them), and the five
  layers that execute the most;
- flash from the link map (build_firmware writes <elf>.map): weights (the <name>_w<k>
  constants), the model's code and layer parameters, the runtime kernels, board support,
  the self-check main with its embedded sample input, and the C library;
- RAM: the planned workspace, .data + .bss (workspace and outputs included) and the stack's
  high-water mark measured by stack painting during the inference.
Per model: compile time (wall clock, the only one) and peak memory of `tinyaot compile` as a
subprocess (wait4's rusage), the planner's workspace vs the naive in-order peak vs the lower
bound, and the same compile and fit check (`tinyaot compile --target`) for a synthetic float
MLP with ~1.3 M weights (~5 MB) generated here from a fixed seed.

Instruction counts are deterministic: the same tree gives the same numbers. This is a
benchmark, not a test: nothing here fails when a target is not met (tests/bench has the
smoke test). A (model, core) pair whose firmware does not build or run is reported as such,
the others are still measured, and the exit status is then 1.
"""

from __future__ import annotations

import argparse
import ast
import datetime
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

_HERE = Path(__file__).absolute().parent
_COMPILER = _HERE.parent / "compiler"
if _COMPILER.is_dir() and str(_COMPILER) not in sys.path:
    sys.path.insert(0, str(_COMPILER))

from tinyaot.errors import TinyaotError  # noqa: E402  (after the path set-up)
from tinyaot.targets import load_boards, repo_root  # noqa: E402

ALL_CORES = ("cortex_m4", "cortex_m7", "cortex_m33", "cortex_m55")
ALL_VARIANTS = ("int8", "float")
QUICK_CORE = "cortex_m7"  # the core of most of the targets below
MAX_JOBS = 2  # the machine has 2 cores, shared
SEED = 0  # sample inputs (tinyaot.export.sample_inputs) and the synthetic model's weights
TOP_LAYERS = 5

# Synthetic float MLP: 1024 -> 1024 -> 256 -> 10, 1,313,290 parameters, 5.25 MB of float32.
SYNTHETIC_LAYERS = (1024, 1024, 256, 10)

# CMSIS-NN on Cortex-M4/M7 running the MLPerf Tiny int8 models, instructions per MAC.
CMSIS_NN = {"kws": 2.84, "vww": 3.17, "ic": 2.38, "ad": 2.19}
CMSIS_NN_DEPTHWISE = 7.7
SMLAD_FLOOR = 1.25  # an SMLAD inner loop: two MACs per SMLAD plus the loads, per MAC


# --- Results ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Layer:
    symbol: str
    op: str
    instructions: int
    macs: int
    depthwise: bool
    node: str  # the IR node's name

    @property
    def per_mac(self) -> float | None:
        return self.instructions / self.macs if self.macs else None


@dataclass(frozen=True)
class Flash:
    """Bytes of the image in flash, by origin (from the link map). `total` is exact (the ELF's
    section sizes); `c_library` is what remains, so the parts add up to it."""

    total: int  # .vectors, .text (code + .rodata), unwind tables, init arrays, .data's load image
    weights: int  # <name>_w<k>: the model's constants
    model_code: int  # the layer functions and <name>_run
    model_params: int  # the layers' static const parameter structs and other model .rodata
    kernel_code: int  # runtime/kernels/*.c, .text
    kernel_rodata: int  # runtime/kernels/*.c, .rodata (lookup tables)
    board: int  # platforms/board: startup, fault handler, syscalls
    main: int  # the self-check main and its embedded sample input
    c_library: int  # newlib, libm, libgcc, semihosting, and .data's initial values

    @property
    def runtime_text(self) -> int:
        """Runtime + kernel code: what tinyaot adds to a product's .text for this model."""
        return self.model_code + self.kernel_code


@dataclass(frozen=True)
class Run:
    """One model on one core."""

    model: str
    variant: str
    core: str
    macs: int
    instructions: int  # one inference: the sum over the layer functions
    outside: int  # the rest of the image's run: start-up, main, <name>_run itself, printing
    layers: list[Layer]
    flash: Flash
    workspace: int
    data_bss: int  # .data + .bss: workspace, outputs, board and C library state
    stack_used: int
    stack_size: int
    # The depthwise layers that strip fusion (ops/qfused.py) merged with their 1x1 conv,
    # measured whole in a build without it (--no-strips), for the per-layer depthwise target.
    fused_depthwise: list[Layer] = field(default_factory=list)

    @property
    def per_mac(self) -> float:
        return self.instructions / self.macs if self.macs else 0.0

    @property
    def ram(self) -> int:
        return self.data_bss + self.stack_used


@dataclass(frozen=True)
class Compile:
    """`tinyaot compile` of one model file: the only wall-clock numbers here."""

    seconds: float
    peak_rss_kib: int
    exit_code: int
    message: str = ""  # the error line, when it failed


@dataclass(frozen=True)
class ModelInfo:
    model: str
    variant: str
    source: str  # path relative to the repository
    macs: int
    weights: int
    workspace: int
    naive_peak: int
    lower_bound: int
    heuristic: str
    compile: Compile
    fits: dict[str, str]  # core -> "" when it fits, else why not (targets.fit)


@dataclass(frozen=True)
class Synthetic:
    parameters: int
    weight_bytes: int
    file_bytes: int
    compile: Compile
    fit_checks: dict[str, Compile]  # core -> `tinyaot compile --target <core>`


@dataclass
class Results:
    date: str
    machine: dict[str, str]
    models: list[ModelInfo] = field(default_factory=list)
    runs: list[Run] = field(default_factory=list)
    failures: list[tuple[str, str, str, str]] = field(default_factory=list)  # model, variant, core, error
    synthetic: Synthetic | None = None


# --- The model table -------------------------------------------------------------------------

def model_table() -> dict[str, dict[str, dict]]:
    """models/models.bzl's MODELS (plain literals, readable with ast)."""
    tree = ast.parse((repo_root() / "models" / "models.bzl").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "MODELS" for t in node.targets):
            return ast.literal_eval(node.value)
    raise SystemExit("models/models.bzl has no MODELS table")


def model_path(model: str, variant: str) -> Path:
    return repo_root() / "models" / model_table()[model][variant]["src"]


# --- Measuring -------------------------------------------------------------------------------

# Runs `python3 -m tinyaot ARGS` and prints its wall-clock time, peak resident memory and exit
# code. A fresh small interpreter starts it: a child's peak memory (Linux's ru_maxrss) counts
# the memory of the process it was forked from, which for this script runs into hundreds of MB
# once it has compiled models; the launcher adds about 10 MB at most.
_LAUNCHER = """
import json, os, sys, time
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.execv(sys.executable, [sys.executable, "-m", "tinyaot", *sys.argv[1:]])
_, status, usage = os.wait4(pid, 0)
print(json.dumps([time.perf_counter() - start, usage.ru_maxrss, os.waitstatus_to_exitcode(status)]))
"""


def timed_compile(model_file: Path, out_dir: Path, target: str = "host") -> Compile:
    """`tinyaot compile` as its own process: wall-clock time, peak resident memory (its
    rusage from wait4, in KiB) and the error line when it fails."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(_tinyaot_parent()), os.environ.get("PYTHONPATH")])))
    command = [sys.executable, "-c", _LAUNCHER, "compile", str(model_file), "-o", str(out_dir), "--target", target]
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0 or not result.stdout.strip():
        raise RuntimeError(f"bench: could not time tinyaot compile {model_file}: {result.stderr[-2000:]}")
    seconds, peak_kib, code = json.loads(result.stdout.splitlines()[-1])
    return Compile(round(seconds, 2), int(peak_kib), int(code), " ".join(result.stderr.split()))


def _tinyaot_parent() -> Path:
    import tinyaot

    return Path(tinyaot.__file__).absolute().parents[1]


def flash_breakdown(elf: Path, model_name: str, kernels: set[str], board: set[str]) -> Flash:
    """Splits the image's flash by where each input section came from (the link map)."""
    from tinyaot.profile import FLASH_SECTIONS, section_sizes
    from tinyaot.targets import link_map_sections

    total = sum(section_sizes(elf).get(s, 0) for s in FLASH_SECTIONS)
    parts = dict(weights=0, model_code=0, model_params=0, kernel_code=0, kernel_rodata=0, board=0, main=0)
    weight = re.compile(rf"^\.rodata\.{re.escape(model_name)}_w\d+$")
    for section in link_map_sections(elf.with_suffix(".map")):
        if section.output not in FLASH_SECTIONS or not section.source:
            continue
        obj = Path(section.source)
        stem = obj.stem.rsplit("-", 1)[0]  # the object cache names kernels <source stem>-<hash>.o
        code = section.name.startswith(".text")
        if obj.parent == elf.parent and obj.stem == model_name:
            key = "weights" if weight.match(section.name) else "model_code" if code else "model_params"
        elif obj.parent == elf.parent and obj.stem == "main":
            key = "main"
        elif stem in kernels:
            key = "kernel_code" if code else "kernel_rodata"
        elif stem in board:
            key = "board"
        else:
            continue
        parts[key] += section.size
    return Flash(total=total, c_library=total - sum(parts.values()), **parts)


def measure(model: str, variant: str, core: str) -> Run:
    """Compiles the model, runs one inference on the core's QEMU board with the counting
    plugin, and reads the image's link map."""
    from tinyaot.codegen import layer_symbol
    from tinyaot.export import sample_inputs
    from tinyaot.ops import OPS, qfused
    from tinyaot.pipeline import CompileOptions, compile_model
    from tinyaot.profile import profile_model, section_sizes
    from tinyaot.report import node_macs
    from tinyaot.runtime_files import kernel_sources
    from tinyaot.targets import BOARD_SOURCES

    def run(strips: bool):
        compiled = compile_model(model_path(model, variant), CompileOptions(name=model, strips=strips))
        graph = compiled.graph
        macs = node_macs(graph)
        build = Path(tempfile.mkdtemp(prefix=f"tinyaot-bench-{model}-{variant}-{core}-"))
        try:
            profile = profile_model(compiled, core, sample_inputs(graph, SEED), keep_dir=str(build))
            elf = build / f"{compiled.code.name}_{core}.elf"
            kernels = {Path(k).stem for k in kernel_sources(compiled.code.kernels)}
            board = {Path(b).stem for b in BOARD_SOURCES}
            flash = flash_breakdown(elf, compiled.code.name, kernels, board)
            sections = section_sizes(elf)
        finally:
            shutil.rmtree(build, ignore_errors=True)
        layers = []
        for index, (node, mac) in enumerate(zip(graph.nodes, macs)):
            if OPS[node.op].alias:
                continue
            symbol = layer_symbol(compiled.code.name, index, node.op)
            depthwise = "Conv" in node.op and int(node.attrs.get("group", 1)) > 1
            layers.append(Layer(symbol, node.op, profile.layers.get(symbol, 0), int(mac), depthwise, node.name))
        return compiled, profile, flash, sections, layers

    compiled, profile, flash, sections, layers = run(strips=True)
    fused = {name for node in compiled.graph.nodes if node.op == qfused.OP for name in node.name.split("+")}
    fused_depthwise = []
    if fused and variant == "int8" and core == "cortex_m7":
        fused_depthwise = [layer for layer in run(strips=False)[4] if layer.depthwise and layer.node in fused]
    return Run(
        model=model, variant=variant, core=core, macs=sum(node_macs(compiled.graph)),
        instructions=sum(profile.layers.values()), outside=profile.outside, layers=layers, flash=flash,
        workspace=compiled.plan.workspace_size, data_bss=sections.get(".data", 0) + sections.get(".bss", 0),
        stack_used=profile.stack_used, stack_size=profile.stack_size, fused_depthwise=fused_depthwise,
    )


def model_info(model: str, variant: str, cores: list[str], scratch: Path) -> ModelInfo:
    from tinyaot.pipeline import CompileOptions, compile_model
    from tinyaot.report import node_macs, parameter_bytes
    from tinyaot.targets import fit

    path = model_path(model, variant)
    timing = timed_compile(path, scratch / f"{model}_{variant}")
    compiled = compile_model(path, CompileOptions(name=model))
    plan = compiled.plan
    fits = {}
    for core in cores:
        verdict = fit(compiled, core)
        fits[core] = "" if verdict.ok else verdict.misfit_message(model)
    return ModelInfo(
        model=model, variant=variant, source=str(path.relative_to(repo_root())), macs=sum(node_macs(compiled.graph)),
        weights=parameter_bytes(compiled.graph), workspace=plan.workspace_size, naive_peak=plan.naive_peak,
        lower_bound=plan.lower_bound, heuristic=plan.heuristic, compile=timing, fits=fits,
    )


def synthetic_model(path: Path, seed: int = SEED) -> int:
    """Writes a float MLP (Gemm + Relu, SYNTHETIC_LAYERS wide) with seeded weights;
    returns its parameter count."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper, save

    rng = np.random.default_rng(seed)
    nodes, inits = [], []
    previous = "x"
    for k, (fan_in, fan_out) in enumerate(zip(SYNTHETIC_LAYERS, SYNTHETIC_LAYERS[1:])):
        w = (rng.standard_normal((fan_in, fan_out)) / np.sqrt(fan_in)).astype(np.float32)
        b = (0.01 * rng.standard_normal(fan_out)).astype(np.float32)
        inits += [numpy_helper.from_array(w, f"w{k}"), numpy_helper.from_array(b, f"b{k}")]
        last = k == len(SYNTHETIC_LAYERS) - 2
        out = "y" if last else f"h{k}"
        nodes.append(helper.make_node("Gemm", [previous, f"w{k}", f"b{k}"], [out if last else f"g{k}"], name=f"fc{k}"))
        if not last:
            nodes.append(helper.make_node("Relu", [f"g{k}"], [out], name=f"relu{k}"))
        previous = out
    graph = helper.make_graph(
        nodes, "synthetic_mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, SYNTHETIC_LAYERS[0]])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, SYNTHETIC_LAYERS[-1]])],
        inits,
    )
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    return sum(int(np.prod(i.dims)) for i in inits)


def measure_synthetic(cores: list[str], scratch: Path) -> Synthetic:
    path = scratch / "synthetic_mlp.onnx"
    parameters = synthetic_model(path)
    timing = timed_compile(path, scratch / "synthetic")
    checks = {core: timed_compile(path, scratch / f"synthetic_{core}", core.replace("_", "-")) for core in cores}
    return Synthetic(parameters, 4 * parameters, path.stat().st_size, timing, checks)


def machine_info() -> dict[str, str]:
    def first_line(command: list[str]) -> str:
        try:
            out = subprocess.run(command, capture_output=True, text=True).stdout
        except FileNotFoundError:
            return "not found"
        return out.splitlines()[0].strip() if out else "?"

    import numpy
    import onnx

    cpu = "?"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        found = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.M)
        cpu = found.group(1).strip() if found else cpu
    workspace = Path(os.environ.get("BUILD_WORKSPACE_DIRECTORY") or repo_root())
    commit = first_line(["git", "-C", str(workspace), "rev-parse", "--short=12", "HEAD"])
    dirty = subprocess.run(["git", "-C", str(workspace), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return {
        "commit": commit + (" (with uncommitted changes)" if dirty else ""),
        "arm-none-eabi-gcc": first_line(["arm-none-eabi-gcc", "--version"]),
        "qemu-system-arm": first_line(["qemu-system-arm", "--version"]),
        "python": platform.python_version(),
        "numpy / onnx": f"{numpy.__version__} / {onnx.__version__}",
        "host": f"{platform.system()} {platform.release()} {platform.machine()}, {os.cpu_count()} CPUs ({cpu})",
    }


# --- The targets of issue #6 ----------------------------------------------------------------

@dataclass(frozen=True)
class Target:
    what: str
    goal: str
    reference: str
    ours: str
    status: str  # met, not met, not measured


def _find(runs: list[Run], model: str, core: str, variant: str = "int8") -> Run | None:
    return next((r for r in runs if (r.model, r.variant, r.core) == (model, variant, core)), None)


def targets(results: Results) -> list[Target]:
    rows = []

    def verdict(value: float | None, limit: float) -> str:
        return "not measured" if value is None else ("met" if value <= limit else "not met")

    for model, limit in (("kws", 1.5), ("vww", 1.5), ("ic", 1.5), ("ad", 1.8)):
        run = _find(results.runs, model, "cortex_m7")
        value = run.per_mac if run else None
        rows.append(Target(f"{model} int8, Cortex-M7: instructions/MAC", f"≤ {limit}", f"CMSIS-NN {CMSIS_NN[model]}",
                           f"{value:.2f}" if value is not None else "–", verdict(value, limit)))
    depthwise = [(layer.per_mac, r.model, layer.symbol) for r in results.runs if r.core == "cortex_m7" and r.variant == "int8"
                 for layer in r.layers + r.fused_depthwise if layer.depthwise and layer.per_mac is not None]
    worst = max(depthwise) if depthwise else None
    rows.append(Target("every int8 depthwise layer, Cortex-M7: instructions/MAC", "≤ 2.5",
                       f"CMSIS-NN ≈ {CMSIS_NN_DEPTHWISE}",
                       f"worst {worst[0]:.2f} ({worst[2]}), {len(depthwise)} layers" if worst else "–",
                       verdict(worst[0] if worst else None, 2.5)))
    run = _find(results.runs, "kws", "cortex_m55")
    value = run.per_mac if run else None
    rows.append(Target("kws int8, Cortex-M55: instructions/MAC", "≤ 0.6", "–",
                       f"{value:.2f}" if value is not None else "–", verdict(value, 0.6)))
    for model in ("kws", "vww"):
        info = next((m for m in results.models if (m.model, m.variant) == (model, "int8")), None)
        ratio = info.workspace / info.naive_peak if info and info.naive_peak else None
        rows.append(Target(f"{model} int8: workspace / naive in-order peak", "≤ 0.6", "–",
                           f"{ratio:.2f} ({info.workspace:,} / {info.naive_peak:,} B)" if ratio is not None else "–",
                           verdict(ratio, 0.6)))
    run = _find(results.runs, "kws", "cortex_m7")
    text = run.flash.runtime_text if run else None
    rows.append(Target("kws int8, Cortex-M7: runtime + kernel .text", "≤ 12 KB (12,288 B)", "–",
                       f"{text:,} B" if text is not None else "–", verdict(text, 12 * 1024)))
    return rows


# --- Output ------------------------------------------------------------------------------------

def _table(head: list[str], rows: list[list[str]], right: set[int] | None = None) -> list[str]:
    right = right if right is not None else set(range(1, len(head)))
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---:" if i in right else "---" for i in range(len(head))) + "|"]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def _core(core: str) -> str:
    return core.replace("_", "-")


def _ratio(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def _kb(n: int) -> str:
    return f"{n / 1024:.1f}"


def markdown(results: Results) -> str:
    out = [
        "# tinyaot benchmarks",
        "",
        "Generated by `python3 bench/run.py` (also `./bazelw run //bench`); do not edit by hand.",
        f"Measured {results.date} at commit {results.machine['commit']}.",
        "",
        "Instructions are counted exactly by our QEMU plugin (`tools/qemu_plugin/insn_count.c`): one inference "
        "of a seeded random input (`tinyaot.export.sample_inputs`, seed 0), summed over the layer functions "
        "(start-up, `main` and printing excluded). QEMU has no cycle model: these are instructions, not cycles. "
        "MACs come from the compiler (`tinyaot info`). int8 models are the published `.tflite` files, float "
        "models the ONNX ones (`models/models.bzl`). Flash comes from the ELF and its link map, the stack from "
        "stack painting during the inference.",
        "",
        "## Targets (issue #6)",
        "",
        *_table(["target", "goal", "reference", "tinyaot", "status"],
                [[t.what, t.goal, t.reference, t.ours, t.status] for t in targets(results)], right=set()),
        "",
        f"References: CMSIS-NN kernels run the MLPerf Tiny int8 models at about 2.2 to 3.2 instructions per MAC on "
        f"Cortex-M4/M7 (KWS {CMSIS_NN['kws']}, VWW {CMSIS_NN['vww']}, ResNet-8 {CMSIS_NN['ic']}, FC autoencoder "
        f"{CMSIS_NN['ad']}), their depthwise convolution about {CMSIS_NN_DEPTHWISE}; the floor of an SMLAD inner "
        f"loop is about {SMLAD_FLOOR} instructions per MAC. A depthwise layer that strip fusion runs together with "
        f"the 1x1 convolution before it (`QPointwiseDepthwise`) counts in the depthwise target as measured in a "
        f"build without the fusion (`--no-strips`), on its own.",
        "",
    ]
    if results.failures:
        out += [
            "## Builds that failed",
            "",
            "These (model, core) pairs did not build or run at the time of the measurement; targets that need "
            "them say \"not measured\".",
            "",
            *_table(["model", "variant", "core", "error"],
                    [[m, v, _core(c), e.replace("|", "\\|")[:400]] for m, v, c, e in results.failures], right=set()),
            "",
        ]
    if results.runs:
        rows = []
        for r in results.runs:
            ref = f"{CMSIS_NN[r.model]}" if r.variant == "int8" and r.model in CMSIS_NN and r.core in ("cortex_m4", "cortex_m7") else ""
            rows.append([r.model, r.variant, _core(r.core), f"{r.macs:,}", f"{r.instructions:,}", f"{r.per_mac:.2f}", ref,
                         _kb(r.flash.total), _kb(r.flash.weights), _kb(r.flash.runtime_text), _kb(r.workspace),
                         _kb(r.data_bss), f"{r.stack_used:,}", _kb(r.ram)])
        out += [
            "## Instructions, flash and RAM per model and core",
            "",
            "instr = instructions of one inference; ref = CMSIS-NN's instructions/MAC (Cortex-M4/M7, int8). "
            "Flash and RAM in KiB: flash = the whole image (code, weights, sample input, C library); "
            "runtime .text = the model's layer functions + the runtime kernels' code; RAM = .data + .bss "
            "(workspace and outputs included) + the stack's high-water mark (bytes).",
            "",
            *_table(["model", "variant", "core", "MACs", "instr", "instr/MAC", "ref", "flash", "weights",
                     "runtime .text", "workspace", ".data+.bss", "stack B", "RAM"], rows, right=set(range(3, 14))),
            "",
            "### Flash by origin (bytes)",
            "",
            *_table(["model", "variant", "core", "total", "weights", "model code", "layer params", "kernel code",
                     "kernel rodata", "board", "main + sample", "C library"],
                    [[r.model, r.variant, _core(r.core), *(f"{v:,}" for v in (
                        r.flash.total, r.flash.weights, r.flash.model_code, r.flash.model_params, r.flash.kernel_code,
                        r.flash.kernel_rodata, r.flash.board, r.flash.main, r.flash.c_library))] for r in results.runs],
                    right=set(range(3, 12))),
            "",
            "### Top layers by instructions",
            "",
        ]
        for r in results.runs:
            top = sorted(r.layers, key=lambda layer: -layer.instructions)[:TOP_LAYERS]
            out += [f"**{r.model} {r.variant} on {_core(r.core)}** ({r.instructions:,} instructions, "
                    f"{r.outside:,} outside the layers)", ""]
            out += _table(["layer", "op", "instructions", "share", "MACs", "instr/MAC"],
                          [[f"`{layer.symbol}`", layer.op + (" (depthwise)" if layer.depthwise else ""),
                            f"{layer.instructions:,}", f"{100 * layer.instructions / max(r.instructions, 1):.1f} %",
                            f"{layer.macs:,}", f"{layer.per_mac:.2f}" if layer.per_mac is not None else "–"] for layer in top],
                          right={2, 3, 4, 5})
            out.append("")
    if results.models:
        out += [
            "## Compiler and planner per model",
            "",
            "Compile time is wall-clock (the only one here; the machine is shared, expect noise) and peak memory "
            "the resident set of the `tinyaot compile` process. The naive peak is an in-order planner that "
            "reuses memory only between layers; the lower bound is the most bytes alive at one step.",
            "",
            *_table(["model", "variant", "source", "MACs", "weights KiB", "workspace", "naive peak", "lower bound",
                     "workspace/naive", "compile s", "peak MiB", "fits"],
                    [[m.model, m.variant, f"`{m.source}`", f"{m.macs:,}", _kb(m.weights), f"{m.workspace:,}",
                      f"{m.naive_peak:,}", f"{m.lower_bound:,}",
                      f"{m.workspace / m.naive_peak:.2f}" if m.naive_peak else "–", f"{m.compile.seconds:.2f}",
                      f"{m.compile.peak_rss_kib / 1024:.0f}",
                      ", ".join(_core(c) for c, why in m.fits.items() if not why) or "none"] for m in results.models],
                    right={3, 4, 5, 6, 7, 8, 9, 10}),
            "",
        ]
    if results.synthetic:
        s = results.synthetic
        out += [
            "## A large model: compile only",
            "",
            f"A float MLP generated by the script (Gemm + Relu, {' → '.join(map(str, SYNTHETIC_LAYERS))}, seed {SEED}): "
            f"{s.parameters:,} parameters, {s.weight_bytes / 1e6:.2f} MB of weights, {s.file_bytes / 1e6:.2f} MB of ONNX. "
            f"`tinyaot compile`: {s.compile.seconds:.2f} s wall-clock, {s.compile.peak_rss_kib / 1024:.0f} MiB peak "
            f"(exit {s.compile.exit_code}). The fit check, `tinyaot compile --target <core>`:",
            "",
            *_table(["core", "fits", "exit", "wall s", "peak MiB", "message"],
                    [[_core(core), "yes" if c.exit_code == 0 else "no", str(c.exit_code), f"{c.seconds:.2f}",
                      f"{c.peak_rss_kib / 1024:.0f}", c.message.replace("|", "\\|") or "–"] for core, c in s.fit_checks.items()],
                    right={2, 3, 4}),
            "",
        ]
    out += ["## Machine and tools", "", *_table(["", ""], [[k, v] for k, v in results.machine.items()], right=set()), ""]
    return "\n".join(out)


def summary(results: Results) -> str:
    """The console table."""
    lines = [f"{'model':<5} {'var':<5} {'core':<11} {'MACs':>11} {'instructions':>13} {'i/MAC':>6} {'flash KiB':>9} "
             f"{'weights':>8} {'rt .text':>8} {'RAM KiB':>8} {'stack':>6}  top layer"]
    for r in results.runs:
        top = max(r.layers, key=lambda layer: layer.instructions)
        lines.append(f"{r.model:<5} {r.variant:<5} {_core(r.core):<11} {r.macs:>11,} {r.instructions:>13,} {r.per_mac:>6.2f} "
                     f"{_kb(r.flash.total):>9} {_kb(r.flash.weights):>8} {_kb(r.flash.runtime_text):>8} {_kb(r.ram):>8} "
                     f"{r.stack_used:>6}  {top.symbol} {_ratio(top.per_mac)}")
    for m in results.models:
        lines.append(f"{m.model} {m.variant}: workspace {m.workspace:,} B, naive peak {m.naive_peak:,}, lower bound "
                     f"{m.lower_bound:,}; compile {m.compile.seconds:.2f} s (wall clock), {m.compile.peak_rss_kib / 1024:.0f} MiB")
    if results.synthetic:
        s = results.synthetic
        fits = ", ".join(f"{_core(c)} {'fits' if v.exit_code == 0 else 'no'} ({v.seconds:.1f} s)" for c, v in s.fit_checks.items())
        lines.append(f"synthetic MLP {s.parameters:,} params: compile {s.compile.seconds:.2f} s, "
                     f"{s.compile.peak_rss_kib / 1024:.0f} MiB; {fits}")
    lines += [f"FAILED: {m} {v} {_core(c)}: {e[:300]}" for m, v, c, e in results.failures]
    lines += ["", *(f"{t.status:>12}: {t.what} {t.goal}: {t.ours}" for t in targets(results))]
    return "\n".join(lines)


def to_json(results: Results) -> dict:
    data = asdict(results)
    for run, raw in zip(results.runs, data["runs"]):
        raw["per_mac"] = run.per_mac
        raw["ram"] = run.ram
        raw["flash"]["runtime_text"] = run.flash.runtime_text
    data["targets"] = [asdict(t) for t in targets(results)]
    return data


# --- Command line ------------------------------------------------------------------------------

def _names(text: str | None, allowed: tuple[str, ...], what: str, normalise=lambda s: s) -> list[str]:
    if not text:
        return list(allowed)
    names = [normalise(n.strip()) for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in allowed]
    if unknown:
        raise SystemExit(f"bench: unknown {what}: {', '.join(unknown)} (available: {', '.join(allowed)})")
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/run.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"int8 on {_core(QUICK_CORE)} only, no synthetic model")
    parser.add_argument("--models", help="comma-separated: kws,vww,ic,ad (default all)")
    parser.add_argument("--cores", help="comma-separated: cortex-m4,cortex-m7,cortex-m33,cortex-m55 (default all)")
    parser.add_argument("--variants", help="comma-separated: int8,float (default both)")
    parser.add_argument("--no-synthetic", action="store_true", help="skip the ~5 MB synthetic model")
    parser.add_argument("--jobs", type=int, default=MAX_JOBS, help=f"parallel builds, 1 or {MAX_JOBS} (default {MAX_JOBS})")
    parser.add_argument("--output", help="Markdown to write (default: BENCHMARKS.md at the repo root, full runs only)")
    parser.add_argument("--json", help="also write the results as JSON here")
    args = parser.parse_args(argv)

    table = model_table()
    models = _names(args.models, tuple(table), "model")
    cores = _names(args.cores, ALL_CORES, "core", lambda s: s.replace("-", "_"))
    variants = _names(args.variants, ALL_VARIANTS, "variant")
    if args.quick:
        cores, variants = [QUICK_CORE] if not args.cores else cores, ["int8"]
    synthetic = not (args.no_synthetic or args.quick)
    full = not (args.quick or args.models or args.cores or args.variants or args.no_synthetic)
    jobs = max(1, min(MAX_JOBS, args.jobs))
    boards = load_boards()

    results = Results(date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), machine=machine_info())
    scratch = Path(tempfile.mkdtemp(prefix="tinyaot-bench-"))
    try:
        # Compile timings first, one at a time, so the profiling runs do not disturb them.
        for model in models:
            for variant in variants:
                print(f"bench: compiling {model} {variant}", file=sys.stderr, flush=True)
                results.models.append(model_info(model, variant, cores, scratch))
        if synthetic:
            print("bench: synthetic model", file=sys.stderr, flush=True)
            results.synthetic = measure_synthetic(cores, scratch)
        work = [(m, v, c) for m in models for v in variants for c in cores
                if c in boards and not next(i for i in results.models if (i.model, i.variant) == (m, v)).fits[c]]
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(measure, *job) for job in work]
            for job, future in zip(work, futures):
                try:
                    run = future.result()
                except TinyaotError as exc:  # the tree may hold a kernel that does not build yet
                    results.failures.append((*job, " ".join(str(exc).split())))
                    print(f"bench: {job[0]} {job[1]} {_core(job[2])}: FAILED: {exc}", file=sys.stderr, flush=True)
                    continue
                print(f"bench: {job[0]} {job[1]} {_core(job[2])}: {run.instructions:,} instructions, "
                      f"{run.per_mac:.2f}/MAC", file=sys.stderr, flush=True)
                results.runs.append(run)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    print(summary(results))
    # `bazel run` starts us in the runfiles tree: paths given by the user are relative to
    # where they typed the command, and BENCHMARKS.md belongs in their checkout.
    here = Path(os.environ.get("BUILD_WORKING_DIRECTORY") or Path.cwd())
    output = here / args.output if args.output else None
    if output is None and full:
        output = Path(os.environ.get("BUILD_WORKSPACE_DIRECTORY") or repo_root()) / "BENCHMARKS.md"
    if output:
        output.write_text(markdown(results))
        print(f"bench: wrote {output}", file=sys.stderr)
    if args.json:
        (here / args.json).write_text(json.dumps(to_json(results), indent=1))
    return 1 if results.failures else 0


if __name__ == "__main__":
    sys.exit(main())
