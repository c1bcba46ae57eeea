"""Smoke test of bench/run.py on its smallest case: the int8 autoencoder (ad) on the
Cortex-M4. The benchmark's numbers must agree with each other and with the compiler's:
per-layer counts add up to the inference, instructions per MAC is their quotient, the MACs
and the plan are the compiler's, the flash parts add up to the image and the weights are
exactly the int8 weight matrices (one byte per MAC in a batch-1 MLP)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).absolute().parents[2]  # the checkout, or the runfiles' workspace
SCRIPT = ROOT / "bench" / "run.py"
MODEL = ROOT / "models" / "tflite" / "ad01_int8.tflite"
CORE = "cortex_m4"

sys.path.insert(0, str(ROOT / "compiler"))


def _bench_module():
    spec = importlib.util.spec_from_file_location("tinyaot_bench", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    """Runs the script as a user would; returns its JSON and its Markdown."""
    out = tmp_path_factory.mktemp("bench")
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--models", "ad", "--cores", CORE.replace("_", "-"), "--variants", "int8",
         "--no-synthetic", "--jobs", "1", "--output", str(out / "B.md"), "--json", str(out / "b.json")],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads((out / "b.json").read_text()), (out / "B.md").read_text(), result.stdout


@pytest.fixture(scope="module")
def compiled():
    from tinyaot.pipeline import CompileOptions, compile_model

    return compile_model(MODEL, CompileOptions(name="ad"))


def test_one_run_with_every_layer_counted(bench, compiled):
    from tinyaot.ops import OPS
    from tinyaot.report import node_macs

    data, _, _ = bench
    assert [(r["model"], r["variant"], r["core"]) for r in data["runs"]] == [("ad", "int8", CORE)]
    run = data["runs"][0]
    layers = run["layers"]
    nodes = [(node, mac) for node, mac in zip(compiled.graph.nodes, node_macs(compiled.graph)) if not OPS[node.op].alias]
    assert [layer["op"] for layer in layers] == [node.op for node, _ in nodes]
    assert [layer["macs"] for layer in layers] == [mac for _, mac in nodes]
    assert all(layer["instructions"] > 0 for layer in layers)  # every layer function ran
    assert run["instructions"] == sum(layer["instructions"] for layer in layers)
    assert run["outside"] > 0  # start-up and main are not part of the inference
    assert run["macs"] == sum(node_macs(compiled.graph)) > 0
    assert run["per_mac"] == pytest.approx(run["instructions"] / run["macs"])
    # A dense layer cannot take fewer instructions than MACs / 2 (one dual-MAC SMLAD each),
    # nor should a kernel of ours take 100 per MAC: the counts are instructions of this model.
    for layer in layers:
        if layer["macs"] >= 1024:
            assert 0.5 <= layer["instructions"] / layer["macs"] < 100, layer


def test_flash_and_ram_agree_with_the_compiler(bench, compiled):
    data, _, _ = bench
    run = data["runs"][0]
    flash = run["flash"]
    parts = ("weights", "model_code", "model_params", "kernel_code", "kernel_rodata", "board", "main", "c_library")
    assert sum(flash[p] for p in parts) == flash["total"]
    assert all(flash[p] >= 0 for p in parts)
    assert flash["weights"] == run["macs"]  # batch-1 MLP, int8: each weight byte is used once
    assert flash["kernel_code"] > 0 and flash["model_code"] > 0 and flash["board"] > 0
    assert flash["runtime_text"] == flash["model_code"] + flash["kernel_code"]
    assert run["workspace"] == compiled.plan.workspace_size
    assert run["workspace"] < run["data_bss"]  # the workspace is in .bss
    assert 0 < run["stack_used"] < run["stack_size"]
    assert run["ram"] == run["data_bss"] + run["stack_used"]
    (info,) = data["models"]
    assert (info["workspace"], info["naive_peak"], info["lower_bound"]) == (
        compiled.plan.workspace_size, compiled.plan.naive_peak, compiled.plan.lower_bound)
    assert info["lower_bound"] <= info["workspace"]
    assert info["compile"]["exit_code"] == 0 and info["compile"]["seconds"] > 0 and info["compile"]["peak_rss_kib"] > 0
    assert info["fits"] == {CORE: ""}


def test_markdown_and_console_show_the_same_numbers(bench):
    data, text, stdout = bench
    run = data["runs"][0]
    row = f"| ad | int8 | cortex-m4 | {run['macs']:,} | {run['instructions']:,} | {run['per_mac']:.2f} | 2.19 |"
    assert row in text
    assert f"{run['instructions']:,}" in stdout
    top = sorted(run["layers"], key=lambda layer: -layer["instructions"])[:5]
    for layer in top:
        assert f"| `{layer['symbol']}` | {layer['op']} | {layer['instructions']:,} |" in text
    # Only the M4 was measured: the M7/M55 targets say so rather than pass or fail.
    statuses = {t["what"]: t["status"] for t in data["targets"]}
    assert statuses["ad int8, Cortex-M7: instructions/MAC"] == "not measured"
    assert "| ad int8, Cortex-M7: instructions/MAC | ≤ 1.8 | CMSIS-NN 2.19 | – | not measured |" in text
    assert "arm-none-eabi-gcc" in text and "QEMU emulator version" in text


def test_synthetic_model_is_about_five_megabytes(tmp_path):
    import onnx

    bench = _bench_module()
    path = tmp_path / "mlp.onnx"
    parameters = bench.synthetic_model(path)
    assert 1_250_000 <= parameters <= 1_350_000
    model = onnx.load(str(path))
    onnx.checker.check_model(model)
    assert sum(int(t.dims[0]) * (int(t.dims[1]) if len(t.dims) > 1 else 1) for t in model.graph.initializer) == parameters
    again = tmp_path / "again.onnx"
    bench.synthetic_model(again)
    assert again.read_bytes() == path.read_bytes()  # seeded
