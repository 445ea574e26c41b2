#!/usr/bin/env python3
"""Validate plugins/types.toml and every plugins/*/plugin.toml (stdlib only).

Checks:
  * every file parses (tomllib), [plugin] name matches its folder
  * slot types exist (shared types.toml or the plugin's own [types]), type
    definitions are well formed, type names are not defined twice
  * intent names are unique and equal the catalogue (docs: shared/spec/intents.md),
    slot names equal the catalogue's, enum value spellings equal the catalogue's
  * every intent has `en` and `zh` sentences and `reply.en` / `reply.zh`
  * sentence syntax: balanced ( ) [ ] { }, no empty alternatives, no stray
    characters such as `?` or `*`
  * every {slot} / {slot=value} in sentences, replies and actions is declared;
    fixed values exist (enum) or are in range (number); {slot.attr} names an
    attribute every value of the enum carries
  * each required slot is filled on every path of every sentence, and no path
    fills a slot twice
  * slot defaults are valid values
  * actions: kind is vss / dbus / query / none; VSS paths (expanded over enum
    attributes) are covered by [permissions].vss; D-Bus services by
    [permissions].dbus

Usage:  python3 plugins/check_manifests.py [--counts] [plugins_dir]
Exit status 1 when any error is found.
"""

import json
import re
import sys
import tomllib
from pathlib import Path

# --------------------------------------------------------------------------
# The catalogue (v1): intent -> slot names. Keep in sync with intents.md.
CATALOGUE = {
    "climate.set_temperature": {"zone", "value"},
    "climate.change_temperature": {"zone", "direction", "delta"},
    "climate.set_fan_speed": {"zone", "level", "direction"},
    "climate.ac": {"state"},
    "climate.defrost": {"target", "state"},
    "climate.recirculation": {"state"},
    "window.open": {"position", "percent"},
    "window.close": {"position"},
    "sunroof.open": {"percent"},
    "sunroof.close": set(),
    "seat.heat": {"seat", "level"},
    "seat.ventilate": {"seat", "level"},
    "lights.ambient": {"color", "brightness", "state"},
    "lights.reading": {"seat", "state"},
    "media.play": {"query", "source"},
    "media.pause": set(),
    "media.resume": set(),
    "media.next": set(),
    "media.previous": set(),
    "media.set_volume": {"value"},
    "media.change_volume": {"direction", "delta"},
    "media.mute": {"state"},
    "radio.tune": {"frequency", "band"},
    "nav.navigate": {"destination"},
    "nav.find_poi": {"category"},
    "nav.cancel": set(),
    "phone.call": {"contact", "number"},
    "phone.answer": set(),
    "phone.hang_up": set(),
    "vehicle.query": {"signal"},
    "trunk.open": set(),
    "trunk.close": set(),
    "wipers.set": {"state", "level"},
    "doors.lock": set(),
    "doors.unlock": set(),
    "dialog.confirm": set(),
    "dialog.deny": set(),
    "dialog.cancel": set(),
}

ZONES = {"driver", "passenger", "rear_left", "rear_right", "rear", "front", "all"}
ON_OFF = {"on", "off"}
UP_DOWN = {"up", "down"}
# (intent, slot) -> exact enum value set the catalogue prescribes
CATALOGUE_ENUMS = {
    ("climate.set_temperature", "zone"): ZONES,
    ("climate.change_temperature", "zone"): ZONES,
    ("climate.change_temperature", "direction"): UP_DOWN,
    ("climate.set_fan_speed", "zone"): ZONES,
    ("climate.set_fan_speed", "direction"): UP_DOWN,
    ("climate.ac", "state"): ON_OFF,
    ("climate.defrost", "target"): {"front", "rear"},
    ("climate.defrost", "state"): ON_OFF,
    ("climate.recirculation", "state"): ON_OFF,
    ("window.open", "position"): ZONES,
    ("window.close", "position"): ZONES,
    ("seat.heat", "seat"): ZONES,
    ("seat.ventilate", "seat"): ZONES,
    ("lights.ambient", "state"): ON_OFF,
    ("lights.reading", "seat"): ZONES,
    ("lights.reading", "state"): ON_OFF,
    ("media.play", "source"): {"radio", "bluetooth", "usb", "online"},
    ("media.change_volume", "direction"): UP_DOWN,
    ("media.mute", "state"): ON_OFF,
    ("radio.tune", "band"): {"fm", "am"},
    ("nav.find_poi", "category"): {"charging_station", "gas_station", "parking",
                                   "restaurant", "restroom", "hotel"},
    ("vehicle.query", "signal"): {"fuel_level", "range", "battery_level", "tire_pressure",
                                  "speed", "outside_temperature"},
    ("wipers.set", "state"): ON_OFF,
    ("wipers.set", "level"): {"low", "high", "auto"},
}
# (intent, slot) -> kind the catalogue implies
CATALOGUE_KINDS = {
    ("climate.set_temperature", "value"): "number",
    ("climate.change_temperature", "delta"): "number",
    ("climate.set_fan_speed", "level"): "number",
    ("window.open", "percent"): "number",
    ("sunroof.open", "percent"): "number",
    ("seat.heat", "level"): "number",
    ("seat.ventilate", "level"): "number",
    ("lights.ambient", "brightness"): "number",
    ("lights.ambient", "color"): "enum",
    ("media.set_volume", "value"): "number",
    ("media.change_volume", "delta"): "number",
    ("media.play", "query"): "text",
    ("radio.tune", "frequency"): "number",
    ("nav.navigate", "destination"): "text",
    ("phone.call", "contact"): "text",
    ("phone.call", "number"): "digits",
}

KINDS = {"number", "enum", "text", "digits"}
ACTION_KINDS = {"vss", "dbus", "query", "none"}
# Template variables the host provides besides slots.
HOST_VARS = {"answer"}
SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")
PLUGIN_NAME = re.compile(r"^[a-z0-9_]+$")
TEMPLATE_REF = re.compile(r"\{([^{}]*)\}")


class Report:
    def __init__(self):
        self.errors = []
        self.warnings = []

    def err(self, where, msg):
        self.errors.append(f"{where}: {msg}")

    def warn(self, where, msg):
        self.warnings.append(f"{where}: {msg}")


# --------------------------------------------------------------------------
# Sentence parsing

class Node:
    __slots__ = ("kind", "items", "text", "slot", "value")

    def __init__(self, kind, items=None, text=None, slot=None, value=None):
        self.kind = kind        # seq | alt | opt | lit | slot
        self.items = items or []
        self.text = text
        self.slot = slot
        self.value = value      # None for a consuming slot, str for {slot=value}


class SyntaxErr(Exception):
    pass


SPECIAL = set("()[]|{}")
FORBIDDEN = set("?*+<>\\\"")


def parse_sentence(src):
    """Parse a sentence / fragment into a Node tree."""
    pos = 0

    def parse_alts(closer):
        nonlocal pos
        alts = [parse_seq()]
        while pos < len(src) and src[pos] == "|":
            pos += 1
            alts.append(parse_seq())
        if closer is not None:
            if pos >= len(src) or src[pos] != closer:
                raise SyntaxErr(f"missing '{closer}' at {pos}")
            pos += 1
        for a in alts:
            if not a.items:
                raise SyntaxErr(f"empty alternative before position {pos}")
        return alts

    def parse_seq():
        nonlocal pos
        items = []
        buf = []

        def flush():
            if buf:
                t = "".join(buf)
                if t.strip():
                    items.append(Node("lit", text=t))
                buf.clear()

        while pos < len(src):
            c = src[pos]
            if c in "|)]":
                break
            if c in FORBIDDEN:
                raise SyntaxErr(f"stray character '{c}' at {pos}")
            if c == "(":
                flush()
                pos += 1
                items.append(Node("alt", items=parse_alts(")")))
            elif c == "[":
                flush()
                pos += 1
                items.append(Node("opt", items=[Node("alt", items=parse_alts("]"))]))
            elif c == "{":
                flush()
                end = src.find("}", pos)
                if end < 0:
                    raise SyntaxErr(f"unclosed '{{' at {pos}")
                body = src[pos + 1:end]
                pos = end + 1
                if "=" in body:
                    name, _, val = body.partition("=")
                    name, val = name.strip(), val.strip()
                    if not val:
                        raise SyntaxErr(f"empty fixed value in {{{body}}}")
                    items.append(Node("slot", slot=name, value=val))
                else:
                    items.append(Node("slot", slot=body.strip()))
                if not SNAKE.match(items[-1].slot or ""):
                    raise SyntaxErr(f"bad slot name in {{{body}}}")
            elif c == "}":
                raise SyntaxErr(f"unbalanced '}}' at {pos}")
            else:
                buf.append(c)
                pos += 1
        flush()
        return Node("seq", items=items)

    alts = parse_alts(None)
    if pos != len(src):
        raise SyntaxErr(f"unbalanced '{src[pos]}' at {pos}")
    root = Node("alt", items=alts) if len(alts) > 1 else alts[0]
    return root


def walk_slots(node):
    """Yield every slot node."""
    if node.kind == "slot":
        yield node
    for it in node.items:
        yield from walk_slots(it)


def guaranteed(node):
    """Slots filled on every path."""
    k = node.kind
    if k == "slot":
        return {node.slot}
    if k == "lit":
        return set()
    if k == "opt":
        return set()
    if k == "seq":
        s = set()
        for it in node.items:
            s |= guaranteed(it)
        return s
    if k == "alt":
        sets = [guaranteed(it) for it in node.items]
        return set.intersection(*sets) if sets else set()
    return set()


def max_fills(node):
    """slot -> maximum times it can be filled on one path."""
    k = node.kind
    if k == "slot":
        return {node.slot: 1}
    if k == "lit":
        return {}
    if k == "opt":
        return max_fills(node.items[0])
    if k == "seq":
        out = {}
        for it in node.items:
            for s, n in max_fills(it).items():
                out[s] = out.get(s, 0) + n
        return out
    if k == "alt":
        out = {}
        for it in node.items:
            for s, n in max_fills(it).items():
                out[s] = max(out.get(s, 0), n)
        return out
    return {}


def can_be_empty(node):
    k = node.kind
    if k == "lit":
        return False
    if k == "slot":
        return node.value is not None
    if k == "opt":
        return True
    if k == "seq":
        return all(can_be_empty(i) for i in node.items)
    if k == "alt":
        return any(can_be_empty(i) for i in node.items)
    return True


# --------------------------------------------------------------------------
# Types

def check_type(rep, where, name, t):
    if not isinstance(t, dict):
        rep.err(where, f"type {name}: not a table")
        return
    kind = t.get("kind")
    if kind not in KINDS:
        rep.err(where, f"type {name}: kind must be one of {sorted(KINDS)}, got {kind!r}")
        return
    if kind == "number":
        mn, mx = t.get("min"), t.get("max")
        if not isinstance(mn, (int, float)) or not isinstance(mx, (int, float)):
            rep.err(where, f"type {name}: number needs numeric min and max")
        elif mn > mx:
            rep.err(where, f"type {name}: min > max")
        for k in ("integer", "percent"):
            if k in t and not isinstance(t[k], bool):
                rep.err(where, f"type {name}: {k} must be a boolean")
    if kind == "enum":
        vals = t.get("values")
        if not isinstance(vals, dict) or not vals:
            rep.err(where, f"type {name}: enum needs [types.{name}.values.*]")
            return
        attrs = None
        for vname, v in vals.items():
            w = f"{where}: type {name}.{vname}"
            if not SNAKE.match(vname):
                rep.err(w, "value name must be snake_case")
            if not isinstance(v, dict):
                rep.err(w, "not a table")
                continue
            for lang in ("en", "zh"):
                syns = v.get(lang)
                if not isinstance(syns, list) or not syns or not all(isinstance(s, str) and s.strip() for s in syns):
                    rep.err(w, f"needs a non-empty {lang} synonym list")
                    continue
                for s in syns:
                    try:
                        n = parse_sentence(s)
                        if any(True for _ in walk_slots(n)):
                            rep.err(w, f"synonym {s!r} may not contain slots")
                    except SyntaxErr as e:
                        rep.err(w, f"synonym {s!r}: {e}")
                dup = {s for s in syns if syns.count(s) > 1}
                if dup:
                    rep.warn(w, f"duplicate {lang} synonyms {sorted(dup)}")
            extra = {k for k in v if k not in ("en", "zh")}
            for k in extra:
                a = v[k]
                ok = isinstance(a, str) or (isinstance(a, list) and all(isinstance(x, str) for x in a))
                if not ok:
                    rep.err(w, f"attribute {k} must be a string or list of strings")
            attrs = extra if attrs is None else attrs
            if extra != attrs:
                rep.warn(w, f"attributes {sorted(extra)} differ from other values {sorted(attrs)}")
        # same synonym for two values of one enum is ambiguous
        for lang in ("en", "zh"):
            seen = {}
            for vname, v in vals.items():
                for s in v.get(lang, []) if isinstance(v, dict) else []:
                    if s in seen and seen[s] != vname:
                        rep.err(f"{where}: type {name}", f"{lang} synonym {s!r} used by both {seen[s]} and {vname}")
                    seen[s] = vname


def enum_attrs(t):
    """Attributes present on every value of an enum type."""
    sets = [set(v) - {"en", "zh"} for v in t["values"].values() if isinstance(v, dict)]
    return set.intersection(*sets) if sets else set()


def number_ok(t, raw):
    try:
        x = float(raw)
    except (TypeError, ValueError):
        return False
    if t.get("integer") and x != int(x):
        return False
    return t["min"] <= x <= t["max"]


def value_ok(t, raw):
    kind = t["kind"]
    if kind == "enum":
        return raw in t["values"]
    if kind == "number":
        return number_ok(t, raw)
    if kind == "digits":
        return str(raw).isdigit()
    return isinstance(raw, str) and raw.strip() != ""


# --------------------------------------------------------------------------
# Templates

def template_refs(s):
    return [m.group(1) for m in TEMPLATE_REF.finditer(s)]


def check_template(rep, where, tmpl, slots, types_of, allow_host=False):
    if not isinstance(tmpl, str):
        return
    if tmpl.count("{") != tmpl.count("}"):
        rep.err(where, f"unbalanced braces in {tmpl!r}")
    for ref in template_refs(tmpl):
        name, _, attr = ref.partition(".")
        if name in HOST_VARS and allow_host and not attr:
            continue
        if name not in slots:
            rep.err(where, f"{{{ref}}} refers to undeclared slot {name!r}")
            continue
        if attr:
            t = types_of(slots[name].get("type"))
            if t is None:
                continue
            if t["kind"] != "enum":
                rep.err(where, f"{{{ref}}}: attributes only exist on enum slots")
            elif attr not in enum_attrs(t):
                rep.err(where, f"{{{ref}}}: not every value of type {slots[name]['type']} has attribute {attr!r}")


def expand_template(tmpl, slots, types_of):
    """All concrete strings a path template can expand to (attributes of every
    enum value; plain slot refs become a placeholder segment)."""
    results = [tmpl]
    for ref in template_refs(tmpl):
        name, _, attr = ref.partition(".")
        options = ["X"]
        if name in slots:
            t = types_of(slots[name].get("type"))
            if t and t["kind"] == "enum":
                options = []
                for v in t["values"].values():
                    a = v.get(attr) if attr else None
                    if a is None:
                        continue
                    options.extend([a] if isinstance(a, str) else a)
                options = options or ["X"]
        results = [r.replace("{" + ref + "}", o, 1) for r in results for o in options]
    return results


def vss_pattern_match(pattern, path):
    p, s = pattern.split("."), path.split(".")
    i = 0
    for i, seg in enumerate(p):
        if seg == "**":
            return len(s) >= i + 1 if i < len(p) - 1 else len(s) > i
        if i >= len(s):
            return False
        if seg != "*" and seg != s[i]:
            return False
    return len(p) == len(s)


def dbus_name_match(pattern, name):
    if pattern.endswith(".*"):
        return name.startswith(pattern[:-1]) or name == pattern
    return pattern == name


# --------------------------------------------------------------------------

def main(argv):
    show_counts = "--counts" in argv
    args = [a for a in argv if not a.startswith("--")]
    root = Path(args[0]) if args else Path(__file__).resolve().parent
    rep = Report()

    shared_path = root / "types.toml"
    shared = {}
    try:
        with open(shared_path, "rb") as f:
            shared = tomllib.load(f).get("types", {})
    except (OSError, tomllib.TOMLDecodeError) as e:
        rep.err(str(shared_path), f"cannot load: {e}")
    for name, t in shared.items():
        check_type(rep, "types.toml", name, t)

    defined_in = {name: "types.toml" for name in shared}
    intents_seen = {}
    counts = {}

    manifests = sorted(root.glob("*/plugin.toml"))
    if not manifests:
        rep.err(str(root), "no */plugin.toml found")

    for mpath in manifests:
        folder = mpath.parent.name
        where = f"{folder}/plugin.toml"
        try:
            with open(mpath, "rb") as f:
                doc = tomllib.load(f)
        except tomllib.TOMLDecodeError as e:
            rep.err(where, f"TOML parse error: {e}")
            continue

        plugin = doc.get("plugin", {})
        pname = plugin.get("name")
        if not isinstance(pname, str) or not PLUGIN_NAME.match(pname):
            rep.err(where, f"[plugin] name must match [a-z0-9_]+, got {pname!r}")
        elif pname != folder:
            rep.err(where, f"[plugin] name {pname!r} differs from folder {folder!r}")
        for k in ("version", "description"):
            if not isinstance(plugin.get(k), str):
                rep.err(where, f"[plugin] {k} missing")

        perms = doc.get("permissions", {})
        for k in ("vss", "mqtt", "dbus"):
            v = perms.get(k, [])
            if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                rep.err(where, f"[permissions] {k} must be a list of strings")
        vss_perms = perms.get("vss", []) or []
        dbus_perms = perms.get("dbus", []) or []

        local = doc.get("types", {})
        for name, t in local.items():
            check_type(rep, where, name, t)
            if name in defined_in:
                rep.err(where, f"type {name!r} already defined in {defined_in[name]}")
            else:
                defined_in[name] = where

        def types_of(name, _local=local):
            t = _local.get(name, shared.get(name))
            if not isinstance(t, dict) or t.get("kind") not in KINDS:
                return None
            if t["kind"] == "enum" and not isinstance(t.get("values"), dict):
                return None
            if t["kind"] == "number" and not ("min" in t and "max" in t):
                return None
            return t

        used_vss, used_dbus = set(), set()
        intents = doc.get("intents", [])
        if not intents:
            rep.err(where, "no [[intents]]")
        for intent in intents:
            iname = intent.get("name")
            iw = f"{where}: {iname}"
            if not isinstance(iname, str):
                rep.err(where, "intent without a name")
                continue
            if iname in intents_seen:
                rep.err(iw, f"intent also declared in {intents_seen[iname]}")
            intents_seen[iname] = where

            slots = intent.get("slots", {})
            for sname, sdef in slots.items():
                sw = f"{iw}: slot {sname}"
                if not SNAKE.match(sname):
                    rep.err(sw, "slot name must be snake_case")
                if not isinstance(sdef, dict) or "type" not in sdef:
                    rep.err(sw, "needs { type = ... }")
                    continue
                t = types_of(sdef["type"])
                if t is None:
                    rep.err(sw, f"unknown or malformed type {sdef['type']!r}")
                    continue
                if "default" in sdef and not value_ok(t, sdef["default"]):
                    rep.err(sw, f"default {sdef['default']!r} is not a valid {sdef['type']}")
                if "required" in sdef and not isinstance(sdef["required"], bool):
                    rep.err(sw, "required must be a boolean")
                if sdef.get("required") and "default" in sdef:
                    rep.warn(sw, "required slot with a default")
                want = CATALOGUE_ENUMS.get((iname, sname))
                if want is not None:
                    if t["kind"] != "enum":
                        rep.err(sw, f"catalogue lists values {sorted(want)}; type {sdef['type']} is not an enum")
                    elif set(t["values"]) != want:
                        rep.err(sw, f"values {sorted(t['values'])} differ from catalogue {sorted(want)}")
                kind = CATALOGUE_KINDS.get((iname, sname))
                if kind and t["kind"] != kind:
                    rep.err(sw, f"catalogue implies a {kind} slot, type {sdef['type']} is {t['kind']}")

            if iname in CATALOGUE and set(slots) != CATALOGUE[iname]:
                rep.err(iw, f"slots {sorted(slots)} differ from catalogue {sorted(CATALOGUE[iname])}")

            required = {s for s, d in slots.items() if isinstance(d, dict) and d.get("required")}
            sentences = intent.get("sentences", {})
            for lang in ("en", "zh"):
                lst = sentences.get(lang)
                if not isinstance(lst, list) or not lst:
                    rep.err(iw, f"no {lang} sentences")
                    continue
                counts.setdefault(folder, {}).setdefault(lang, 0)
                counts[folder][lang] += len(lst)
                seen = set()
                for s in lst:
                    sw = f"{iw}: {lang} {s!r}"
                    if not isinstance(s, str) or not s.strip():
                        rep.err(iw, f"empty {lang} sentence")
                        continue
                    if s in seen:
                        rep.warn(sw, "duplicate sentence")
                    seen.add(s)
                    if lang == "zh" and re.search(r"[，。！？、]", s):
                        rep.err(sw, "punctuation is dropped by the normaliser; remove it")
                    if lang == "en" and re.search(r"[A-Z]", s):
                        rep.err(sw, "English sentences are matched in lower case")
                    try:
                        node = parse_sentence(s)
                    except SyntaxErr as e:
                        rep.err(sw, str(e))
                        continue
                    if can_be_empty(node):
                        rep.err(sw, "sentence can match the empty utterance")
                    for sl in walk_slots(node):
                        if sl.slot not in slots:
                            rep.err(sw, f"slot {sl.slot!r} not declared")
                            continue
                        t = types_of(slots[sl.slot].get("type"))
                        if t is not None and sl.value is not None and not value_ok(t, sl.value):
                            rep.err(sw, f"{{{sl.slot}={sl.value}}}: not a valid {slots[sl.slot]['type']} value")
                    missing = required - guaranteed(node)
                    if missing:
                        rep.err(sw, f"required slot(s) {sorted(missing)} not filled on every path")
                    twice = [k for k, n in max_fills(node).items() if n > 1]
                    if twice:
                        rep.err(sw, f"slot(s) {twice} can be filled twice on one path")

            reply = intent.get("reply", {})
            for lang in ("en", "zh"):
                r = reply.get(lang)
                if not isinstance(r, str) or not r.strip():
                    rep.err(iw, f"no reply.{lang}")
                    continue
                action_kind = intent.get("action", {}).get("kind")
                check_template(rep, f"{iw}: reply.{lang}", r, slots, types_of,
                               allow_host=(action_kind == "query"))

            action = intent.get("action")
            if not isinstance(action, dict):
                rep.err(iw, "no [intents.action]")
                continue
            kind = action.get("kind")
            if kind not in ACTION_KINDS:
                rep.err(iw, f"action kind must be one of {sorted(ACTION_KINDS)}, got {kind!r}")
                continue
            aw = f"{iw}: action"
            if kind == "vss":
                sets = action.get("set")
                if not isinstance(sets, list) or not sets:
                    rep.err(aw, "vss action needs [[intents.action.set]] entries")
                    sets = []
                for i, entry in enumerate(sets):
                    ew = f"{aw}.set[{i}]"
                    path = entry.get("path")
                    if not isinstance(path, str):
                        rep.err(ew, "missing path")
                        continue
                    has_value = "value" in entry
                    has_delta = "delta" in entry or "sign" in entry
                    if has_value == has_delta:
                        rep.err(ew, "needs either value or delta/sign")
                    if has_delta and not ("delta" in entry and "sign" in entry):
                        rep.err(ew, "relative change needs both delta and sign")
                    for k in ("path", "value", "delta", "sign"):
                        if k in entry:
                            check_template(rep, ew, entry[k], slots, types_of)
                    for k in ("value",):
                        v = entry.get(k)
                        if isinstance(v, str) and not template_refs(v):
                            try:
                                json.loads(v)
                            except ValueError:
                                rep.err(ew, f"{k} {v!r} is neither a template nor JSON")
                    for k in ("scale", "base"):
                        if k in entry and not isinstance(entry[k], (int, float)):
                            rep.err(ew, f"{k} must be a number")
                    for concrete in expand_template(path, slots, types_of):
                        used_vss.add(concrete)
                        if not any(vss_pattern_match(p, concrete) for p in vss_perms):
                            rep.err(ew, f"VSS path {concrete} not covered by [permissions].vss")
            elif kind == "query":
                path = action.get("path")
                if not isinstance(path, str):
                    rep.err(aw, "query action needs path")
                else:
                    check_template(rep, aw, path, slots, types_of)
                    for concrete in expand_template(path, slots, types_of):
                        used_vss.add(concrete)
                        if not any(vss_pattern_match(p, concrete) for p in vss_perms):
                            rep.err(aw, f"VSS path {concrete} not covered by [permissions].vss")
            elif kind == "dbus":
                for k in ("bus", "service", "path", "interface"):
                    if not isinstance(action.get(k), str):
                        rep.err(aw, f"dbus action needs {k}")
                if action.get("bus") not in ("session", "system"):
                    rep.err(aw, "bus must be session or system")
                if ("method" in action) == ("property" in action):
                    rep.err(aw, "dbus action needs exactly one of method / property")
                if "method" in action and not isinstance(action.get("args", []), list):
                    rep.err(aw, "args must be a list")
                for k, v in action.items():
                    if isinstance(v, str):
                        check_template(rep, aw, v, slots, types_of)
                    elif isinstance(v, list):
                        for x in v:
                            check_template(rep, aw, x, slots, types_of)
                svc = action.get("service", "")
                used_dbus.add(svc)
                if not any(dbus_name_match(p, svc) or p == svc for p in dbus_perms):
                    rep.err(aw, f"D-Bus service {svc} not in [permissions].dbus")

        # permissions declared but never used
        for p in vss_perms:
            if not any(vss_pattern_match(p, u) for u in used_vss):
                rep.warn(where, f"[permissions].vss {p} is not used by any action")
        for p in dbus_perms:
            if p not in used_dbus:
                rep.warn(where, f"[permissions].dbus {p} is not used by any action")

    got = set(intents_seen)
    for name in sorted(set(CATALOGUE) - got):
        rep.err("catalogue", f"intent {name} is not served by any plugin")
    for name in sorted(got - set(CATALOGUE)):
        # A new skill beyond the v1 catalogue: allowed, but worth a look.
        rep.warn("catalogue", f"intent {name} is not in the v1 catalogue (a new skill?)")

    for w in rep.warnings:
        print("warning:", w)
    for e in rep.errors:
        print("error:", e)
    if show_counts or not rep.errors:
        print()
        print(f"{'plugin':<12} {'en':>5} {'zh':>5}")
        te = tz = 0
        for folder in sorted(counts):
            e, z = counts[folder].get("en", 0), counts[folder].get("zh", 0)
            te, tz = te + e, tz + z
            print(f"{folder:<12} {e:>5} {z:>5}")
        print(f"{'total':<12} {te:>5} {tz:>5}")
        print(f"\n{len(got)} intents in {len(manifests)} plugins; "
              f"{len(rep.errors)} errors, {len(rep.warnings)} warnings")
    return 1 if rep.errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
