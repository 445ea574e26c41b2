#!/usr/bin/env python3
"""Generate the example mosquitto ACL for cabin-voice from the plugins' manifests.

The assistant publishes actuation requests on `<prefix>/actuate/<VSS path>`, one
MQTT topic level per VSS path (docs/PROTOCOL.md). MQTT wildcards cannot match
VSS segments (`Vehicle.Cabin.Door.*.*.Window.Position`), so the ACL lists every
concrete path the plugins' `kind = "vss"` actions can produce: each path
template with its `{slot}` / `{slot.attr}` placeholders expanded over the enum
values of the slot's type, kept only where the plugin's `[permissions] vss`
allows it (the same rule the assistant enforces, src/plugin/permissions.rs).

    python3 yocto/scripts/gen-mosquitto-acl.py           # rewrite the ACL
    python3 yocto/scripts/gen-mosquitto-acl.py --check   # exit 1 (with a diff) if stale
    python3 yocto/scripts/gen-mosquitto-acl.py --prefix car --stdout
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11
    sys.exit("error: gen-mosquitto-acl.py needs Python 3.11 or newer (tomllib)")

REPO = Path(__file__).resolve().parents[2]
PLUGINS = REPO / "plugins"
OUT = REPO / "yocto/meta-cabin-voice/recipes-voice/cabin-voice/files/mosquitto-cabin-voice.acl"
PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


class GenError(Exception):
    pass


def vss_matches(pattern: str, path: str) -> bool:
    """src/plugin/permissions.rs: `*` one segment, `**` the rest (one or more)."""
    pat, segs = pattern.split("."), path.split(".")
    for i, p in enumerate(pat):
        if i >= len(segs):
            return False
        if p == "**":
            return True
        if p != "*" and p != segs[i]:
            return False
    return len(pat) == len(segs)


def as_list(v) -> list[str]:
    return [str(x) for x in v] if isinstance(v, list) else [str(v)]


def expand(tpl: str, slots: dict, types: dict, where: str) -> list[str]:
    m = PLACEHOLDER.search(tpl)
    if not m:
        return [tpl]
    body = m.group(1)
    name, _, attr = body.partition(".")
    slot = slots.get(name)
    if slot is None:
        raise GenError(f"{where}: {{{body}}}: no slot {name!r}")
    typ = types.get(slot["type"])
    if typ is None or typ.get("kind") != "enum":
        raise GenError(f"{where}: {{{body}}}: slot {name!r} is not an enum, its VSS paths cannot be listed")
    values = []
    for vname, v in typ.get("values", {}).items():
        if not attr:
            values.append(vname)
        elif attr in v:
            values += as_list(v[attr])
    out = []
    for val in dict.fromkeys(values):
        out += expand(tpl[:m.start()] + val + tpl[m.end():], slots, types, where)
    return out


def plugin_topics(manifest: Path, shared_types: dict) -> tuple[str, list[str], list[str], list[str]]:
    with open(manifest, "rb") as f:
        p = tomllib.load(f)
    name = p["plugin"]["name"]
    perms = p.get("permissions", {})
    allowed = perms.get("vss", [])
    types = {**shared_types, **p.get("types", {})}
    paths = []
    for intent in p.get("intents", []):
        action = intent.get("action", {})
        if action.get("kind") != "vss":
            continue
        where = f"{manifest.relative_to(REPO)}: {intent['name']}"
        for s in action.get("set", []):
            for path in expand(s["path"], intent.get("slots", {}), types, where):
                if any(vss_matches(a, path) for a in allowed):
                    paths.append(path)
    return name, allowed, sorted(set(paths)), list(perms.get("mqtt", []))


def generate(prefix: str) -> str:
    with open(PLUGINS / "types.toml", "rb") as f:
        shared = tomllib.load(f).get("types", {})
    lines = [
        "# Mosquitto ACL for cabin-voice, generated from plugins/*/plugin.toml by",
        "# yocto/scripts/gen-mosquitto-acl.py (do not edit: rerun it after changing a",
        "# plugin; tests/yocto_crates.rs fails while this file is stale).",
        f"# Topic prefix: {prefix} ([mqtt] prefix).",
        "#",
        "# cabin-voice has no MQTT credentials settings yet and connects anonymously, so",
        "# these first rules are the anonymous ones: give it a loopback listener and",
        "# authenticate every other client, e.g. in mosquitto.conf",
        "#   listener 1883 127.0.0.1",
        "#   allow_anonymous true",
        "#   password_file /etc/mosquitto/passwd",
        "#   acl_file /etc/mosquitto/cabin-voice.acl",
        "",
        "# Vehicle state (retained) and typed commands in; events out; the client's",
        "# own marker topic (a round trip after subscribing).",
        f"topic read {prefix}/state/#",
        f"topic read {prefix}/assistant/say",
        f"topic write {prefix}/assistant/events",
        f"topic readwrite {prefix}/assistant/sync/#",
        "",
        "# Actuation: exactly the VSS signals the plugins may set.",
    ]
    for manifest in sorted(PLUGINS.glob("*/plugin.toml")):
        name, allowed, paths, mqtt = plugin_topics(manifest, shared)
        if not paths and not mqtt:
            continue
        lines.append(f"# {name} (vss: {', '.join(allowed) or '-'})")
        lines += [f"topic write {prefix}/actuate/{p}" for p in paths]
        lines += [f"topic write {t}" for t in mqtt]
    lines += [
        "",
        "# The vehicle side (example): a gateway that applies actuation requests and",
        "# publishes state, with its own username (mosquitto_passwd).",
        "user vehicle-gateway",
        f"topic read {prefix}/actuate/#",
        f"topic write {prefix}/state/#",
        f"topic read {prefix}/assistant/events",
        f"topic write {prefix}/assistant/say",
    ]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--prefix", default="cabin")
    ap.add_argument("-o", "--output", type=Path, default=OUT)
    ap.add_argument("--check", action="store_true", help="compare with the existing file, change nothing")
    ap.add_argument("--stdout", action="store_true", help="print instead of writing")
    args = ap.parse_args(argv)
    try:
        text = generate(args.prefix)
    except (GenError, OSError, KeyError, tomllib.TOMLDecodeError) as e:
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
            str(args.output.relative_to(REPO)), "generated from plugins/", n=1))
        print("\nstale: run python3 yocto/scripts/gen-mosquitto-acl.py", file=sys.stderr)
        return 1
    args.output.write_text(text)
    n = sum(1 for line in text.splitlines() if line.startswith(f"topic write {args.prefix}/actuate/"))
    print(f"wrote {args.output.relative_to(REPO)} ({n} actuation topics)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
