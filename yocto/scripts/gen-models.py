#!/usr/bin/env python3
"""Generate the model and ONNX Runtime checksums of the Yocto layer from models/models.toml.

Writes two files of yocto/meta-cabin-voice/recipes-voice/:

  cabin-voice-models/cabin-voice-models-files.inc
      per model entry that models/install.py builds on the build host
      (whisper models, licence texts): its file under models/ and sha256, as
      flags named after the entry (the committed NLU model is not listed: the
      recipe takes it from the same git revision as the binary):
      CABIN_VOICE_MODEL_FILE[tiny.en-q5_1] / CABIN_VOICE_MODEL_SHA256[tiny.en-q5_1]
  onnxruntime/onnxruntime-prebuilt-files.inc
      per architecture (as overrides): the pinned PyPI wheel, its sha256
      (checked by the fetcher) and the library's sha256 (checked by do_install)

    python3 yocto/scripts/gen-models.py           # rewrite both
    python3 yocto/scripts/gen-models.py --check   # exit 1 (with a diff) if stale
"""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11
    sys.exit("error: gen-models.py needs Python 3.11 or newer (tomllib)")

REPO = Path(__file__).resolve().parents[2]
MANIFEST = REPO / "models/models.toml"
RECIPES = REPO / "yocto/meta-cabin-voice/recipes-voice"
MODELS_INC = RECIPES / "cabin-voice-models/cabin-voice-models-files.inc"
ORT_INC = RECIPES / "onnxruntime/onnxruntime-prebuilt-files.inc"
# Machine architecture (models.toml) -> BitBake override (TRANSLATED_TARGET_ARCH).
OVERRIDE = {"x86_64": "x86-64"}
HEADER = [
    "# Generated from models/models.toml by yocto/scripts/gen-models.py. Do not edit:",
    "# rerun `python3 yocto/scripts/gen-models.py` after changing models.toml",
    "# (tests/yocto_crates.rs fails while this file is stale).",
]


def is_ort(entry: dict) -> bool:
    groups = entry.get("group", [])
    groups = groups if isinstance(groups, list) else [groups]
    return entry["kind"] == "ort-library" or "onnxruntime" in groups


def models_inc(models: list[dict]) -> str:
    lines = HEADER + [""]
    for m in models:
        if is_ort(m) or "arch" in m or m.get("committed"):
            continue
        lines += [
            f"# {m['description']} ({m['size']} bytes, {m['licence']})",
            f'CABIN_VOICE_MODEL_FILE[{m["name"]}] = "{m["file"]}"',
            # Trained on the build machine: its bytes depend on the CPU
            # (models.toml bitwise = false): install.py checked its inputs instead.
            f'CABIN_VOICE_MODEL_SHA256[{m["name"]}] = "{"trained" if m.get("bitwise") is False else m["sha256"]}"',
        ]
    return "\n".join(lines) + "\n"


def ort_inc(sources: list[dict], models: list[dict]) -> str:
    lines = HEADER + [""]
    for m in models:
        if m["kind"] != "ort-library":
            continue
        arch = m["arch"]
        src = [s for s in sources if s["name"] == m["source"] and s.get("arch") == arch
               and s["version"] == m["source_version"]]
        if len(src) != 1:
            raise SystemExit(f"error: models.toml: no single [[source]] {m['source']} for {arch}")
        s = src[0]
        ov = OVERRIDE.get(arch, arch)
        lines += [
            f"# {arch}: {s['file']} ({s['size']} bytes)",
            f'ONNXRUNTIME_WHEEL:{ov} = "{s["file"]}"',
            f'SRC_URI[ort-{arch}.sha256sum] = "{s["sha256"]}"',
            f'ONNXRUNTIME_LIB:{ov} = "{m["source_path"]}"',
            f'ONNXRUNTIME_LIB_SHA256:{ov} = "{m["sha256"]}"',
            "",
        ]
    return "\n".join(lines).rstrip("\n") + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="compare with the existing files, change nothing")
    args = ap.parse_args(argv)
    with open(MANIFEST, "rb") as f:
        data = tomllib.load(f)
    sources, models = data.get("source", []), data.get("model", [])
    stale = False
    for path, text in ((MODELS_INC, models_inc(models)), (ORT_INC, ort_inc(sources, models))):
        if not args.check:
            path.write_text(text)
            print(f"wrote {path.relative_to(REPO)}")
            continue
        old = path.read_text() if path.exists() else ""
        if old != text:
            stale = True
            sys.stdout.writelines(difflib.unified_diff(
                old.splitlines(keepends=True), text.splitlines(keepends=True),
                str(path.relative_to(REPO)), "generated from models/models.toml", n=1))
    if stale:
        print("\nstale: run python3 yocto/scripts/gen-models.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
