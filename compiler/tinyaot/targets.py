"""`tinyaot run --target cortex-m7`: the model as firmware on a core's QEMU board, no Bazel.

The cores, their compiler flags, QEMU machines and memory maps come from
platforms/boards.json, the table Bazel's toolchains and linker scripts are made from; the
linker script is rendered from platforms/board/firmware.ld.tpl with the same substitutions
as //platforms:defs.bzl (tests/models/test_targets.py checks that both agree). The image is
the board support (platforms/board/*.c), the runtime kernels the model uses, the model and
the file-I/O main of `--target host` (harness.file_io_main), built with arm-none-eabi-gcc
with the flags of the Bazel toolchain. QEMU runs it with semihosting: the firmware fopen()s
in<i>.bin and writes out<i>.bin in QEMU's working directory, the build directory.

`profile=True` loads our instruction-counting TCG plugin (tools/qemu_plugin/insn_count.c,
compiled with the host gcc on first use and cached) and reports the instructions executed
by the whole image: startup, file I/O and the inference. `profile_layers` counts them per
layer: the plugin attributes every instruction to the layer function (<name>_l<k>_<op>,
codegen.layer_symbol) entered last, until execution is back in <name>_run.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import numpy as np

from tinyaot.errors import TinyaotError
from tinyaot.harness import file_io_main
from tinyaot.ir import Graph
from tinyaot.pipeline import CompiledModel, write_c
from tinyaot.planner import MemoryPlan
from tinyaot.runtime_files import include_dir, kernel_sources

GCC = "arm-none-eabi-gcc"
NM = "arm-none-eabi-nm"
QEMU = "qemu-system-arm"
# The Bazel toolchain's flags (toolchains/arm_none_eabi.bzl), plus -Werror as on every
# firmware source of ours. fastbuild and opt both compile with -O2.
COMMON_CFLAGS = ("-mthumb", "-ffunction-sections", "-fdata-sections", "-Wall", "-Wextra", "-Werror", "-std=c99", "-O2")
LINK_FLAGS = ("--specs=rdimon.specs", "-nostartfiles", "-Wl,--gc-sections", "-Wl,--no-warn-rwx-segments")
BOARD_SOURCES = ("startup.c", "fault.c", "syscalls.c")
FAULT_EXIT = 250  # TINYAOT_EXIT_FAULT in platforms/board/board.h
DEFAULT_TIMEOUT = 600.0


# --- Files of the repository -------------------------------------------------------------

def repo_root() -> Path:
    """The folder holding platforms/ and tools/ next to compiler/ (a checkout, or Bazel's
    runfiles tree: absolute(), not resolve(), so the declared runfiles are used)."""
    env = os.environ.get("TINYAOT_REPO")
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).absolute().parents[2])
    for candidate in candidates:
        if (candidate / "platforms" / "boards.json").is_file():
            return candidate
    raise TinyaotError("cannot find platforms/boards.json; set TINYAOT_REPO to the tinyaot checkout")


def load_boards() -> dict[str, dict]:
    """platforms/boards.json's cores, in table order."""
    return json.loads((repo_root() / "platforms" / "boards.json").read_text())["cores"]


def resolve_core(target: str) -> str:
    """'cortex-m7' (the CLI spelling) or 'cortex_m7' (the table's) -> 'cortex_m7'."""
    boards = load_boards()
    core = target.replace("-", "_")
    if core not in boards:
        names = ", ".join(["host", *(c.replace("_", "-") for c in boards)])
        raise TinyaotError(f"unknown target '{target}' (available: {names})")
    return core


# --- Linker script -------------------------------------------------------------------------

def linker_substitutions(core: str, board: Mapping) -> dict[str, str]:
    """The template's placeholders, exactly as //platforms:defs.bzl fills them."""
    return {
        "%{core}": core,
        "%{board}": board["board"],
        "%{flash_memory}": board["flash"]["memory"],
        "%{ram_memory}": board["ram"]["memory"],
        "%{flash_origin}": board["flash"]["origin"],
        "%{flash_size}": "%dK" % board["flash"]["size_kib"],
        "%{ram_origin}": board["ram"]["origin"],
        "%{ram_size}": "%dK" % board["ram"]["size_kib"],
        "%{stack_size}": "%dK" % board["stack_kib"],
        **_boot_substitutions(board),
    }


def _boot_substitutions(board: Mapping) -> dict[str, str]:
    """Where the vector table goes: a board's optional "boot" region, else FLASH."""
    boot = board.get("boot")
    if not boot:
        return {"%{boot_comment}": "", "%{boot_memory}": "", "%{vectors_region}": "FLASH"}
    return {
        "%{boot_comment}": "\n * BOOT:  " + boot["memory"],
        "%{boot_memory}": "\n  BOOT  (rx)  : ORIGIN = %s, LENGTH = %dK" % (boot["origin"], boot["size_kib"]),
        "%{vectors_region}": "BOOT",
    }


def render_linker_script(core: str, board: Mapping | None = None, template: str | None = None) -> str:
    board = board if board is not None else load_boards()[core]
    text = template if template is not None else (repo_root() / "platforms" / "board" / "firmware.ld.tpl").read_text()
    for key, value in linker_substitutions(core, board).items():
        text = text.replace(key, value)
    return text


# --- Does a model fit a board? -------------------------------------------------------------

# What a self-check image needs besides the model's own bytes, measured on the MLPerf Tiny
# images (board support, newlib's stdio and soft-float helpers, the kernels, the main):
# under 24 KiB of flash and 3.3 KiB of RAM (.data, .bss: KWS int8, 20.9 KiB with its 17.6 KiB
# workspace) besides the stack. Rounded up (2 KiB let KWS int8 pass for the Cortex-M0's 16 KiB
# and then fail to link once its workspace shrank to 9.5 KiB).
CODE_ALLOWANCE = 32 * 1024
RAM_ALLOWANCE = 4 * 1024


@dataclass(frozen=True)
class Footprint:
    """Bytes of a model image that scale with the model (from the plan and the weights)."""

    weights: int  # constants in flash
    workspace: int  # planned scratch RAM
    inputs: int
    outputs: int

    def flash(self, embedded_io: bool = True) -> int:
        """Flash for weights (+ the self-check's embedded input and golden outputs) + code."""
        return self.weights + (self.inputs + self.outputs if embedded_io else 0) + CODE_ALLOWANCE

    def ram(self, stack: int, inputs_in_ram: bool = False) -> int:
        """RAM for workspace, output buffers (+ input buffers), stack and the C library."""
        return self.workspace + self.outputs + (self.inputs if inputs_in_ram else 0) + stack + RAM_ALLOWANCE


def footprint(model: CompiledModel) -> Footprint:
    return plan_footprint(model.graph, model.plan)


def plan_footprint(graph: Graph, plan: MemoryPlan) -> Footprint:
    from tinyaot.report import parameter_bytes

    return Footprint(
        weights=parameter_bytes(graph),
        workspace=plan.workspace_size,
        inputs=sum(graph.tensor(n).nbytes for n in graph.inputs),
        outputs=sum(graph.tensor(n).nbytes for n in graph.outputs),
    )


@dataclass(frozen=True)
class Fit:
    """A model's self-check image against one core's board: bytes needed and available."""

    core: str
    board: Mapping
    need: Footprint
    flash_need: int
    flash_size: int
    ram_need: int
    ram_size: int
    stack: int
    largest_buffers: tuple[tuple[str, int], ...]  # planned workspace buffers, largest first
    largest_weights: tuple[tuple[str, int], ...]  # constants, largest first

    @property
    def ok(self) -> bool:
        return self.flash_need <= self.flash_size and self.ram_need <= self.ram_size

    def summary(self) -> str:
        return (f"needs ~{self.flash_need / 1024:.0f} KiB flash of {self.flash_size // 1024}, "
                f"~{self.ram_need / 1024:.0f} KiB RAM of {self.ram_size // 1024}")

    def misfit_message(self, model_name: str) -> str:
        """One line: needed vs available for each memory, and the biggest contributors."""
        def items(pairs):
            return ", ".join(f"{_short(name)} {size:,} B" for name, size in pairs[:3])

        n = self.need
        ram = (f"RAM needs {self.ram_need:,} B of {self.ram_size:,} B (workspace {n.workspace:,} B, "
               f"outputs {n.outputs:,} B, stack {self.stack:,} B, runtime {RAM_ALLOWANCE:,} B")
        ram += f"; largest buffers: {items(self.largest_buffers)})" if self.largest_buffers else ")"
        flash = (f"flash needs {self.flash_need:,} B of {self.flash_size:,} B (weights {n.weights:,} B, "
                 f"embedded sample I/O {n.inputs + n.outputs:,} B, code {CODE_ALLOWANCE:,} B")
        flash += f"; largest weights: {items(self.largest_weights)})" if self.largest_weights else ")"
        ram_over, flash_over = self.ram_need > self.ram_size, self.flash_need > self.flash_size
        ram = ram if ram_over else f"RAM fits ({self.ram_need:,} B of {self.ram_size:,} B)"
        flash = flash if flash_over else f"flash fits ({self.flash_need:,} B of {self.flash_size:,} B)"
        parts = [flash, ram] if flash_over and not ram_over else [ram, flash]  # what does not fit first
        where = f"{self.core.replace('_', '-')} ({self.board['qemu_machine']})"
        return f"model '{model_name}' does not fit {where}: " + "; ".join(parts)


def _short(tensor: str, limit: int = 48) -> str:
    """A tensor name for a one-line message: TFLite's ';'-joined names cut to the first."""
    name = tensor.split(";", 1)[0] + ("..." if ";" in tensor else "")
    return name if len(name) <= limit else name[: limit - 3] + "..."


def fit(model: CompiledModel, core: str) -> Fit:
    """The model's self-check image against the core's board (platforms/boards.json)."""
    return plan_fit(model.graph, model.plan, core)


def plan_fit(graph: Graph, plan: MemoryPlan, core: str) -> Fit:
    """fit() from the optimized graph and its plan alone: no generated C needed."""
    board = load_boards()[core]
    need = plan_footprint(graph, plan)
    stack = board["stack_kib"] * 1024
    referenced = {i for node in graph.nodes for i in node.inputs if i}
    weights = sorted(((t, graph.tensor(t).nbytes) for t in referenced if graph.tensor(t).is_const),
                     key=lambda pair: (-pair[1], pair[0]))
    buffers = sorted(((b.name, b.size) for b in plan.buffers), key=lambda pair: (-pair[1], pair[0]))
    return Fit(core, board, need, need.flash(), board["flash"]["size_kib"] * 1024, need.ram(stack),
               board["ram"]["size_kib"] * 1024, stack, tuple(buffers), tuple(weights))


def fits(model: CompiledModel, core: str) -> tuple[bool, str]:
    """Whether the model's self-check image fits the core's board, and why (not)."""
    verdict = fit(model, core)
    return verdict.ok, verdict.summary()


def check_fit(model: CompiledModel, target: str) -> Fit:
    """`tinyaot compile --target <core>` and tinyaot_firmware's build action: raises a
    one-line TinyaotError with the numbers when the model does not fit the core's board."""
    return check_plan_fit(model.graph, model.plan, model.code.name, target)


def check_plan_fit(graph: Graph, plan: MemoryPlan, name: str, target: str) -> Fit:
    """check_fit() before codegen (`name`: the C prefix the message calls the model by)."""
    verdict = plan_fit(graph, plan, resolve_core(target))
    if not verdict.ok:
        raise TinyaotError(verdict.misfit_message(name))
    return verdict


# --- Building ------------------------------------------------------------------------------

def _digest(*parts: bytes | str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode() if isinstance(part, str) else part)
        digest.update(b"\0")
    return digest.hexdigest()


class _ObjectCache:
    """Objects of sources that do not depend on the model (board support, runtime kernels),
    compiled once per process into a private directory removed at exit; keyed by the
    source, every header it may include, and the flags."""

    def __init__(self) -> None:
        self._dir: Path | None = None
        self._lock = threading.Lock()

    def path(self, source: Path, flags: tuple[str, ...], headers: str) -> Path:
        with self._lock:
            if self._dir is None:
                self._dir = Path(tempfile.mkdtemp(prefix="tinyaot-fw-objects-"))
                atexit.register(shutil.rmtree, self._dir, True)
        return self._dir / f"{source.stem}-{_digest(source.read_bytes(), headers, *flags)[:32]}.o"


_OBJECTS = _ObjectCache()


def _headers_digest(*folders: Path) -> str:
    parts: list[bytes | str] = []
    for folder in folders:
        for header in sorted(folder.rglob("*.h")):
            parts += [str(header.relative_to(folder)), header.read_bytes()]
    return _digest(*parts)


def _run_tool(command: list[str], what: str) -> None:
    try:
        result = subprocess.run(command, capture_output=True, text=True)
    except FileNotFoundError:
        raise TinyaotError(f"{command[0]} not found (./bazelw installs gcc-arm-none-eabi and qemu-system-arm)")
    if result.returncode != 0:
        output = " | ".join(line for line in (result.stdout + result.stderr).splitlines() if line.strip())
        overflow = re.search(r"region `?(\w+)'? overflowed by (\d+) bytes", output)
        if overflow:
            raise TinyaotError(f"the firmware does not fit: {what}: {overflow.group(1)} overflowed by {overflow.group(2)} bytes")
        raise TinyaotError(f"{what} failed (this is a tinyaot bug): {output[:2000]}")


def firmware_cflags(core: str) -> tuple[str, ...]:
    """C compiler flags for `core`: the Bazel toolchain's, with the table's copts."""
    return (*COMMON_CFLAGS[:1], *load_boards()[core]["copts"], *COMMON_CFLAGS[1:])


def build_firmware(model: CompiledModel, core: str, build_dir: Path, main_source: str | None = None,
                   model_cflags: tuple[str, ...] = ()) -> Path:
    """Writes the model's C, a main (default: the file-I/O main of `tinyaot run`) and the
    linker script into build_dir, compiles and links them for `core`; returns the ELF.
    `model_cflags` go to the model's C and the main only, not to the shared objects:
    ("-DTINYAOT_CANARIES",) builds the workspace guards (both must see the same
    <NAME>_WORKSPACE_SIZE)."""
    boards = load_boards()
    board = boards[core]
    root = repo_root()
    include = include_dir()
    build_dir = build_dir.absolute()  # the file prefix maps below match absolute paths
    board_dir = root / "platforms" / "board"
    cflags = firmware_cflags(core)
    # Debug info (-g in model_cflags) and __FILE__ name files relative to fixed prefixes, so
    # the same model gives the same ELF from any checkout, build or working directory. GCC
    # tries the last matching map first: the most specific folders go last.
    prefix_maps = [f"-ffile-prefix-map={folder}={name}" for folder, name in
                   ((Path.cwd(), "."), (root, "."), (include.parent, "runtime"), (build_dir, "."))]
    compile_cmd = [GCC, *cflags, *prefix_maps, "-I", str(include), "-I", str(root), "-I", str(build_dir), "-c"]

    build_dir.mkdir(parents=True, exist_ok=True)
    model_c = write_c(model, build_dir)[1]
    main_c = build_dir / "main.c"
    if main_source is None:
        # The file-I/O main takes argv; the board's startup calls main(void). Rename it and
        # call it with the file names fixed (semihosting opens them in QEMU's cwd).
        main_c.write_text(file_io_main(model.graph, model.code))
        entry_c = build_dir / "entry.c"
        entry_c.write_text(_entry_source(len(model.graph.inputs), len(model.graph.outputs)))
        model_jobs = [(model_c, model_cflags), (main_c, (*model_cflags, "-Dmain=tinyaot_file_main")),
                      (entry_c, model_cflags)]
    else:
        main_c.write_text(main_source)
        model_jobs = [(model_c, model_cflags), (main_c, (*model_cflags, f'-DTINYAOT_CORE="{core}"'))]
    script = build_dir / f"{core}.ld"
    script.write_text(render_linker_script(core, board))

    headers = _headers_digest(include, board_dir)
    shared = [board_dir / s for s in BOARD_SOURCES] + kernel_sources(model.code.kernels)
    cache_key = (GCC, *cflags, str(include), str(root))  # not build_dir: it varies
    jobs: list[tuple[Path, list[str], Path, Path]] = []  # source, command, output, final name
    objects: list[Path] = []
    for source in shared:
        if not source.is_file():
            raise TinyaotError(f"{source} is missing (this is a tinyaot bug)")
        obj = _OBJECTS.path(source, cache_key, headers)
        objects.append(obj)
        if not obj.is_file():
            # Compile next to the final name, then rename: a half-written object is never used.
            partial = obj.with_name(f"{obj.stem}.{os.getpid()}.{threading.get_ident()}.tmp.o")
            jobs.append((source, [*compile_cmd, str(source), "-o", str(partial)], partial, obj))
    for source, extra in model_jobs:
        obj = build_dir / f"{source.stem}.o"
        objects.append(obj)
        jobs.append((source, [*compile_cmd, *extra, str(source), "-o", str(obj)], obj, obj))

    def compile_one(job: tuple[Path, list[str], Path, Path]) -> None:
        source, command, output, final = job
        _run_tool(command, f"compiling {source.name} for {core}")
        if output != final:
            os.replace(output, final)

    with ThreadPoolExecutor(max_workers=max(1, os.cpu_count() or 1)) as pool:
        list(pool.map(compile_one, jobs))
    elf = build_dir / f"{model.code.name}_{core}.elf"
    # The link map beside the ELF says which object every byte of flash came from
    # (link_map_sections: code vs weights, runtime vs board vs C library).
    link = [GCC, "-mthumb", *board["copts"], *LINK_FLAGS, "-T", str(script), f"-Wl,-Map={elf.with_suffix('.map')}",
            *map(str, objects), "-lm", "-o", str(elf)]
    _run_tool(link, f"linking for {core} ({board['flash']['size_kib']} KiB flash, {board['ram']['size_kib']} KiB RAM)")
    return elf


def _entry_source(n_in: int, n_out: int) -> str:
    names = ["model", *(f"in{i}.bin" for i in range(n_in)), *(f"out{i}.bin" for i in range(n_out))]
    lines = [
        "/* Generated by tinyaot: firmware entry of `tinyaot run`. The board's startup calls",
        " * main(void); the file-I/O main (renamed) gets its file names from here. */",
        "int tinyaot_file_main(int argc, char **argv);",
        "int main(void);",
        "",
    ]
    lines += [f'static char arg{i}[] = "{name}";' for i, name in enumerate(names)]
    lines += [
        "",
        "int main(void) {",
        f"  static char *argv[] = {{{', '.join(f'arg{i}' for i in range(len(names)))}, 0}};",
        f"  return tinyaot_file_main({len(names)}, argv);",
        "}",
        "",
    ]
    return "\n".join(lines)


# --- Running -------------------------------------------------------------------------------

@dataclass(frozen=True)
class QemuRun:
    exit_code: int
    output: str  # the firmware's stdout (semihosting) and QEMU's messages
    instructions: int | None  # with the counting plugin
    regions: dict[str, int] | None = None  # with a regions file: instructions per region name


def plugin_library() -> Path:
    """tools/qemu_plugin/insn_count.c as a shared library, built with the host compiler
    on first use and cached under ~/.cache/tinyaot (or TINYAOT_CACHE) by source hash."""
    source = repo_root() / "tools" / "qemu_plugin" / "insn_count.c"
    if not source.is_file():
        raise TinyaotError(f"{source} is missing: cannot profile")
    cc = os.environ.get("CC", "cc")
    flags = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC"]
    cache = Path(os.environ.get("TINYAOT_CACHE") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "tinyaot")
    library = cache / "qemu_plugin" / f"insn_count-{_digest(source.read_bytes(), cc, *flags)[:16]}.so"
    if library.is_file():
        return library
    try:
        library.parent.mkdir(parents=True, exist_ok=True)
    except OSError:  # read-only home (a sandbox): build in a private directory
        library = Path(tempfile.mkdtemp(prefix="tinyaot-plugin-")) / library.name
    partial = library.with_name(f"{library.stem}.{os.getpid()}.tmp.so")
    _run_tool([cc, *flags, str(source), "-o", str(partial)], "building the QEMU plugin")
    os.replace(partial, library)
    return library


def qemu_command(core: str, elf: str | os.PathLike) -> list[str]:
    """The command line that runs an image on the core's board, as //tools/qemu:run_qemu.sh
    starts it: semihosting carries stdout and the exit status."""
    board = load_boards()[core]
    return [
        QEMU, "-M", board["qemu_machine"], "-nographic", "-monitor", "none", "-serial", "none",
        "-semihosting-config", "enable=on,target=native", "-kernel", str(elf), *board["qemu_args"],
    ]


def run_qemu(
    elf: Path,
    core: str,
    cwd: Path,
    timeout: float = DEFAULT_TIMEOUT,
    profile: bool = False,
    regions: Path | None = None,
) -> QemuRun:
    """Runs an image on the core's board as //tools/qemu:run_qemu.sh does. profile=True
    counts the instructions; `regions` (a file for the plugin, see write_layer_regions)
    also counts them per region."""
    board = load_boards()[core]
    command = qemu_command(core, elf)
    log = cwd / "plugin.log"
    if profile or regions is not None:
        log.unlink(missing_ok=True)
        plugin = str(plugin_library()) + (f",regions={regions}" if regions is not None else "")
        command += ["-plugin", plugin, "-d", "plugin", "-D", str(log)]
    try:
        result = subprocess.run(command, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, errors="replace", timeout=timeout)
    except FileNotFoundError:
        raise TinyaotError(f"{QEMU} not found (./bazelw installs qemu-system-arm)")
    except subprocess.TimeoutExpired:
        raise TinyaotError(f"{core} ({board['qemu_machine']}): no exit after {timeout:g} s")
    instructions = None
    counts = None
    if profile or regions is not None:
        text = log.read_text() if log.is_file() else ""
        found = re.search(r"insn_count: instructions (\d+)", text)
        if found is None:
            why = " ".join(line for line in text.splitlines() if line.startswith("insn_count:"))[:500]
            raise TinyaotError(f"the QEMU plugin reported no instruction count (exit code {result.returncode}) {why}".strip())
        instructions = int(found.group(1))
        if regions is not None:
            counts = {}
            for name, count in re.findall(r"^insn_count: region (\S+) (\d+)$", text, re.M):
                counts[name] = counts.get(name, 0) + int(count)
    return QemuRun(result.returncode, result.stdout, instructions, counts)


# --- What the image is made of ------------------------------------------------------------

@dataclass(frozen=True)
class MapSection:
    """One input section the linker placed (GNU ld's map file, -Wl,-Map)."""

    output: str  # the output section holding it: .text (code and .rodata), .data, .bss ...
    name: str  # the input section: .text.tinyaot_qconv2d_s8, .rodata.kws_w0, *fill* ...
    size: int
    source: str  # the object file or archive(member) it came from; "" for padding


def link_map_sections(map_file: Path) -> list[MapSection]:
    """Every input section of the image's link map (build_firmware writes <elf>.map), so
    flash can be split by origin: weights, model code, kernels, board support, C library.
    Only the memory map counts: the discarded sections listed before it are skipped."""
    sections: list[MapSection] = []
    output = ""
    pending = ""  # a long section name: ld puts its address, size and file on the next line
    started = False
    for line in map_file.read_text(errors="replace").splitlines():
        if not started:
            started = line.startswith("Linker script and memory map")
            continue
        if pending:
            line, pending = pending + line, ""
        top = re.match(r"^(\.\S+|/DISCARD/)(\s|$)", line)
        if top:
            output = top.group(1)
            continue
        if re.match(r"^ (\.\S+|COMMON)$", line):
            pending = line
            continue
        entry = re.match(r"^ (\.\S+|COMMON|\*fill\*)\s+0x[0-9a-fA-F]+\s+0x([0-9a-fA-F]+)(?:\s+(.*))?$", line)
        if entry and output:
            sections.append(MapSection(output, entry.group(1), int(entry.group(2), 16), (entry.group(3) or "").strip()))
    return sections


# --- Per-layer profile ---------------------------------------------------------------------

def layer_symbols(model: CompiledModel) -> list[str]:
    """The layer functions of the generated C, in schedule order (alias ops have none)."""
    from tinyaot.codegen import layer_symbol
    from tinyaot.ops import OPS

    return [
        layer_symbol(model.code.name, index, node.op)
        for index, node in enumerate(model.graph.nodes)
        if not OPS[node.op].alias
    ]


def write_layer_regions(elf: Path, model: CompiledModel, path: Path) -> list[str]:
    """Writes the plugin's regions file for `elf` (tools/qemu_plugin/insn_count.c): an
    `enter` line per layer function and a `leave` range for <name>_run, their only caller.
    Addresses come from the ELF's symbol table; GCC may rename a static function it
    specialises (kws_l2_conv.constprop.0), and those clones count as the layer. Returns
    the layer symbols found, in schedule order."""
    try:
        result = subprocess.run([NM, "--defined-only", "-S", str(elf)], capture_output=True, text=True)
    except FileNotFoundError:
        raise TinyaotError(f"{NM} not found (./bazelw installs gcc-arm-none-eabi)")
    if result.returncode != 0:
        raise TinyaotError(f"{NM} failed on {elf.name}: {result.stderr.strip()[:500]}")
    symbols: dict[str, list[tuple[int, int]]] = {}
    for line in result.stdout.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[2] in "tT":
            base = parts[3].split(".", 1)[0]
            symbols.setdefault(base, []).append((int(parts[0], 16), int(parts[1], 16)))
    run = f"{model.code.name}_run"
    if run not in symbols:
        raise TinyaotError(f"{elf.name} has no symbol {run} (this is a tinyaot bug)")
    start, size = symbols[run][0]
    lines = [f"# layer functions of {model.code.name} (tinyaot.targets.write_layer_regions)", f"leave {start:x} {start + size:x}"]
    found = []
    for symbol in layer_symbols(model):
        for address, _ in symbols.get(symbol, []):
            lines.append(f"enter {address:x} {symbol}")
        if symbol in symbols:
            found.append(symbol)
    path.write_text("\n".join(lines) + "\n")
    return found


def profile_layers(
    model: CompiledModel,
    core: str,
    inputs: Mapping[str, np.ndarray],
    timeout: float = DEFAULT_TIMEOUT,
) -> dict[str, int]:
    """Instructions executed per layer for one inference on `core` (QEMU), keyed by the
    layer function's symbol (codegen.layer_symbol), in schedule order. Each count covers
    the layer function and everything it calls (kernels, libm). tinyaot.profile has the
    whole picture (total, outside the layers, stack, image size)."""
    from tinyaot.profile import profile_model

    return profile_model(model, core, inputs, timeout=timeout).layers


@dataclass(frozen=True)
class TargetRun:
    outputs: dict[str, np.ndarray]
    instructions: int | None  # executed by the whole image, with profile=True


def run_target(
    model: CompiledModel,
    inputs: Mapping[str, np.ndarray],
    target: str,
    keep_dir: str | None = None,
    profile: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
) -> TargetRun:
    """`tinyaot run --target <core>`: same contract as hostrun.run_host."""
    from tinyaot.hostrun import check_inputs, read_outputs, stream_steps

    core = resolve_core(target)
    arrays = check_inputs(model.graph, inputs)
    build_dir = Path(keep_dir) if keep_dir else Path(tempfile.mkdtemp(prefix="tinyaot-fw-"))
    build_dir.mkdir(parents=True, exist_ok=True)
    try:
        elf = build_firmware(model, core, build_dir)
        for i, value in enumerate(arrays):
            (build_dir / f"in{i}.bin").write_bytes(value.tobytes())
        out_files = [build_dir / f"out{i}.bin" for i in range(len(model.graph.outputs))]
        for path in out_files:
            path.unlink(missing_ok=True)
        run = run_qemu(elf, core, build_dir, timeout, profile)
        if run.exit_code != 0:
            raise TinyaotError(_failure(core, run))
        outputs = read_outputs(model.graph, [str(p) for p in out_files], stream_steps(model.graph, inputs))
        return TargetRun(outputs, run.instructions)
    finally:
        if not keep_dir:
            shutil.rmtree(build_dir, ignore_errors=True)


def _failure(core: str, run: QemuRun) -> str:
    lines = [line for line in run.output.splitlines() if line.strip()]
    if run.exit_code == FAULT_EXIT:
        fault = next((line for line in lines if " at pc=" in line or "unusable stack frame" in line), "a fault")
        return f"firmware on {core} crashed: {fault.strip()}"
    detail = lines[-1].strip() if lines else "no output"
    return f"firmware on {core} failed with exit code {run.exit_code}: {detail}"
