"""The MLPerf Tiny reference models as tinyaot targets, from one table.

MODELS[model][variant] = {"src": model file, relative to models/, "cores": cores the image
fits}. Variants: "float" (the ONNX float model, checked against onnxruntime), "int8" (the
published int8 .tflite, checked bit-exactly against LiteRT's reference kernels) and
"onnx_int8" (the ONNX QDQ conversion of the int8 model: its firmware is checked bit-exactly
against the compiler's integer golden, `reference = "tinyaot"`, because onnxruntime is no
bit-exact reference for it; tests/compiler/test_int8_models.py compares that golden with
onnxruntime). A variant is built only when it is in VARIANTS. "cores"
follow from the model's plan and weights against the boards' memory
(tinyaot.targets.fits; models/README.md has the numbers, and
//tests/models:models_table_test checks that the lists agree with the compiler).

The table is plain literals so that Python can read it too (ast.literal_eval).
"""

load("//:defs.bzl", "tinyaot_firmware", "tinyaot_model")

MODELS = {
    "kws": {
        "float": {"src": "kws_ref_model_float32_dq.onnx", "cores": ["cortex_m3", "cortex_m4", "cortex_m7", "cortex_m33", "cortex_m55"]},
        "int8": {"src": "tflite/kws_ref_model.tflite", "cores": ["cortex_m3", "cortex_m4", "cortex_m7", "cortex_m33", "cortex_m55"]},
        "onnx_int8": {"src": "kws_ref_model.onnx", "cores": ["cortex_m3", "cortex_m4", "cortex_m7", "cortex_m33", "cortex_m55"]},
    },
    "vww": {
        "float": {"src": "vww_96_float.onnx", "cores": ["cortex_m3", "cortex_m4", "cortex_m7", "cortex_m33", "cortex_m55"]},
        "int8": {"src": "tflite/vww_96_int8.tflite", "cores": ["cortex_m3", "cortex_m4", "cortex_m7", "cortex_m33", "cortex_m55"]},
        "onnx_int8": {"src": "vww_96_int8.onnx", "cores": ["cortex_m3", "cortex_m4", "cortex_m7", "cortex_m33", "cortex_m55"]},
    },
    "ic": {
        "float": {"src": "pretrainedResnet.onnx", "cores": ["cortex_m3", "cortex_m4", "cortex_m7", "cortex_m33", "cortex_m55"]},
        "int8": {"src": "tflite/pretrainedResnet_quant.tflite", "cores": ["cortex_m3", "cortex_m4", "cortex_m7", "cortex_m33", "cortex_m55"]},
        "onnx_int8": {"src": "pretrainedResnet_quant.onnx", "cores": ["cortex_m3", "cortex_m4", "cortex_m7", "cortex_m33", "cortex_m55"]},
    },
    "ad": {
        "float": {"src": "ad01_fp32.onnx", "cores": ["cortex_m3", "cortex_m4", "cortex_m7", "cortex_m33", "cortex_m55"]},
        "int8": {"src": "tflite/ad01_int8.tflite", "cores": ["cortex_m3", "cortex_m4", "cortex_m7", "cortex_m33", "cortex_m55"]},
        "onnx_int8": {"src": "ad01_int8.onnx", "cores": ["cortex_m3", "cortex_m4", "cortex_m7", "cortex_m33", "cortex_m55"]},
    },
}

# Variants that are built. `//models:<model>_<core>` is int8 where it fits, else float.
VARIANTS = ["float", "int8", "onnx_int8"]

def model_file(src):
    """The label of a table entry's file: "x.onnx" -> //models:x.onnx,
    "tflite/x.tflite" -> //models/tflite:x.tflite."""
    package, _, name = src.rpartition("/")
    return str(Label("//models/%s:%s" % (package, name) if package else "//models:" + name))

def default_variant(model, core):
    """The variant `//models:<model>_<core>` stands for: int8 once it is built, else float."""
    for variant in ["int8", "float"]:
        if variant in VARIANTS and core in MODELS[model][variant]["cores"]:
            return variant
    return None

def mlperf_tiny_models():
    """Declares, for each model and built variant, `<model>_<variant>` (tinyaot_model)
    and `<model>_<variant>_<core>` (tinyaot_firmware, runnable), and the aliases
    `<model>_<core>`."""
    for model, variants in MODELS.items():
        cores = {}
        for variant in VARIANTS:
            entry = variants[variant]
            name = "%s_%s" % (model, variant)
            tinyaot_model(
                name = name,
                src = model_file(entry["src"]),
                reference = "tinyaot" if variant == "onnx_int8" else "auto",
            )
            for core in entry["cores"]:
                tinyaot_firmware(name = "%s_%s" % (name, core), model = ":" + name, core = core)
                cores[core] = True
        for core in cores:
            variant = default_variant(model, core)
            if variant:
                native.alias(
                    name = "%s_%s" % (model, core),
                    actual = ":%s_%s_%s" % (model, variant, core),
                )
