#!/usr/bin/env python3
"""Generate the crate list of the cabin-voice Yocto recipe from Cargo.lock.

Writes yocto/meta-cabin-voice/recipes-voice/cabin-voice/cabin-voice-crates.inc:
one `crate://crates.io/<name>/<version>;name=<name>-<version>` SRC_URI entry per
registry package of Cargo.lock with `SRC_URI[<name>-<version>.sha256sum]` from
its checksum (what OE-core's crate fetcher verifies), and for git dependencies a
`git://` entry with `name=<crate>;destsuffix=<crate>` plus `SRCREV_<crate>`,
which OE-core's cargo class turns into a `[patch."<repo>"]` source.

    python3 yocto/scripts/gen-crates.py           # rewrite the .inc
    python3 yocto/scripts/gen-crates.py --check   # exit 1 (with a diff) if stale
    python3 yocto/scripts/gen-crates.py --lock L --stdout   # any Cargo.lock, to stdout

tests/yocto_crates.rs runs --check, so a Cargo.lock change without a
regenerated .inc fails the test suite.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path
from urllib.parse import urlsplit

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11
    sys.exit("error: gen-crates.py needs Python 3.11 or newer (tomllib)")

REPO = Path(__file__).resolve().parents[2]
LOCK = REPO / "Cargo.lock"
OUT = REPO / "yocto/meta-cabin-voice/recipes-voice/cabin-voice/cabin-voice-crates.inc"
CRATES_IO = "registry+https://github.com/rust-lang/crates.io-index"


class GenError(Exception):
    pass


def git_entry(pkg: dict) -> tuple[str, str]:
    """(SRC_URI entry, SRCREV line) for a `git+URL?query#rev` source."""
    src = pkg["source"][len("git+"):]
    url, _, rev = src.partition("#")
    if not rev:
        raise GenError(f"{pkg['name']} {pkg['version']}: git source without a revision: {pkg['source']}")
    parts = urlsplit(url)
    proto = parts.scheme or "https"
    name = pkg["name"]
    entry = (f"git://{parts.netloc}{parts.path};protocol={proto};nobranch=1;"
             f"name={name};destsuffix={name}")
    return entry, f'SRCREV_{name} = "{rev}"'


def generate(lock_path: Path) -> str:
    with open(lock_path, "rb") as f:
        lock = tomllib.load(f)
    crates, sums, gits, revs, names = [], [], [], [], []
    for pkg in sorted(lock.get("package", []), key=lambda p: (p["name"], p["version"])):
        source = pkg.get("source")
        if source is None:  # a workspace member: part of the recipe's own source
            continue
        key = f"{pkg['name']}-{pkg['version']}"
        if source == CRATES_IO:
            if "checksum" not in pkg:
                raise GenError(f"Cargo.lock: {key} has no checksum")
            crates.append(f"    crate://crates.io/{pkg['name']}/{pkg['version']};name={key} \\")
            sums.append(f'SRC_URI[{key}.sha256sum] = "{pkg["checksum"]}"')
        elif source.startswith("git+"):
            entry, rev = git_entry(pkg)
            gits.append(f"    {entry} \\")
            revs.append(rev)
            names.append(pkg["name"])
        else:
            raise GenError(f"Cargo.lock: {key}: unsupported source {source} (only crates.io and git)")
    lines = [
        "# Crates of cabin-voice, generated from Cargo.lock by yocto/scripts/gen-crates.py.",
        "# Do not edit: rerun `python3 yocto/scripts/gen-crates.py` after changing Cargo.lock",
        "# (tests/yocto_crates.rs fails while this file is stale).",
        "",
        'SRC_URI += "\\',
        *crates,
        '"',
        "",
        *sums,
    ]
    if gits:
        lines += ["", "# git dependencies (OE-core's cargo class patches them in by name and destsuffix)",
                  'SRC_URI += "\\', *gits, '"', "",
                  *[f'SRCREV_FORMAT .= "_{n}"' for n in names],
                  *revs]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lock", type=Path, default=LOCK, help="Cargo.lock to read (default: the project's)")
    ap.add_argument("-o", "--output", type=Path, default=OUT, help="the .inc to write or check")
    ap.add_argument("--check", action="store_true", help="compare with the existing file, change nothing")
    ap.add_argument("--stdout", action="store_true", help="print instead of writing")
    args = ap.parse_args(argv)
    try:
        text = generate(args.lock)
    except (GenError, OSError, tomllib.TOMLDecodeError, KeyError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    if args.stdout:
        sys.stdout.write(text)
        return 0
    if args.check:
        old = args.output.read_text() if args.output.exists() else ""
        if old == text:
            return 0
        sys.stdout.writelines(difflib.unified_diff(
            old.splitlines(keepends=True), text.splitlines(keepends=True),
            str(args.output), f"generated from {args.lock}", n=1))
        print(f"\n{args.output} is stale: run python3 yocto/scripts/gen-crates.py", file=sys.stderr)
        return 1
    args.output.write_text(text)
    print(f"wrote {args.output} ({text.count('crate://')} crates)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
