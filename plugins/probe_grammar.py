#!/usr/bin/env python3
"""Rough reference matcher for plugin sentences (stdlib only).

Compiles every manifest sentence to a regular expression and runs utterances
through them, so manifest authors can try sentences without building the host.
It approximates the host's normaliser, filler list and number reading; the
host's grammar is authoritative.

  python3 plugins/probe_grammar.py "把副驾车窗打开一半" "turn it down"
  python3 plugins/probe_grammar.py --eval tests/data/nlu_heldout.jsonl [--show-fail]

Ranking when several sentences match: fewest characters inside free-text
slots, then most literal characters.
"""

import json
import re
import sys
import tomllib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_manifests import parse_sentence  # noqa: E402

EN_FILLERS = ["please", "can you", "could you", "would you", "pls"]
ZH_FILLERS = ["帮我", "请", "能不能", "一下", "吧", "呢", "啊", "麻烦", "哦", "呀"]

EN_UNITS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen".split())}
EN_UNITS["oh"] = 0
EN_TENS = {w: 10 * (i + 2) for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split())}
EN_NUMWORDS = sorted(set(EN_UNITS) | set(EN_TENS) | {"hundred", "thousand", "point", "and", "a", "half",
                                                     "quarter", "halfway", "max", "maximum", "min", "minimum"},
                     key=len, reverse=True)
ZH_DIGITS = {"零": 0, "〇": 0, "一": 1, "幺": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
             "七": 7, "八": 8, "九": 9}


def norm_en(s):
    s = s.lower().replace("-", " ").replace("'", "").replace("’", "")
    s = re.sub(r"[^a-z0-9.% \u4e00-\u9fff]", " ", s)
    s = re.sub(r"(?<!\d)\.|\.(?!\d)", " ", s)
    return " ".join(s.split())


def norm_zh(s):
    s = s.lower()
    s = re.sub(r"[\s，。！？、,.!?~…：:；;\"“”'‘’]", "", s)
    return s


def strip_fillers(text, lang):
    if lang == "en":
        t = " " + text + " "
        for f in EN_FILLERS:
            t = t.replace(" " + f + " ", " ")
        return " ".join(t.split())
    for f in ZH_FILLERS:
        text = text.replace(f, "")
    return text


# ---------------------------------------------------------------- numbers

def en_number(s, t):
    s = s.replace(" percent", "").replace("%", "").strip()
    if t.get("percent") and s in ("half", "halfway", "half way"):
        return 50
    if s in ("a quarter", "quarter"):
        return 25 if t.get("percent") else None
    if s in ("max", "maximum"):
        return t["max"]
    if s in ("min", "minimum"):
        return t["min"]
    if re.fullmatch(r"\d+(\.\d+)?", s):
        return float(s)
    words = s.split()
    total, cur, frac, in_frac, scale_d = 0, 0, 0.0, False, 0.1
    for w in words:
        if w in ("and", "a"):
            continue
        if w == "half":
            frac += 0.5
            continue
        if w == "point":
            in_frac = True
            continue
        if in_frac:
            if w in EN_UNITS and EN_UNITS[w] < 10:
                frac += EN_UNITS[w] * scale_d
                scale_d /= 10
                continue
            return None
        if w in EN_UNITS:
            cur += EN_UNITS[w]
        elif w in EN_TENS:
            cur += EN_TENS[w]
        elif w == "hundred":
            cur = (cur or 1) * 100
        elif w == "thousand":
            total += (cur or 1) * 1000
            cur = 0
        else:
            return None
    return total + cur + frac


def zh_int(s):
    if not s:
        return None
    s = s.replace("廿", "二十")
    if all(c in ZH_DIGITS or c.isdigit() for c in s) and len(s) > 1:
        return int("".join(str(ZH_DIGITS.get(c, c)) for c in s))
    total, cur = 0, 0
    for c in s:
        if c in ZH_DIGITS:
            cur = ZH_DIGITS[c]
        elif c.isdigit():
            cur = cur * 10 + int(c)
        elif c == "十":
            total += (cur or 1) * 10
            cur = 0
        elif c == "百":
            total += (cur or 1) * 100
            cur = 0
        elif c == "千":
            total += (cur or 1) * 1000
            cur = 0
        else:
            return None
    return total + cur


def zh_number(s, t):
    s = s.replace("%", "")
    if s in ("最大", "最高", "最强"):
        return t["max"]
    if s in ("最小", "最低"):
        return t["min"]
    if s == "一半":
        return 50 if t.get("percent") else None
    if s.startswith("百分之"):
        s = s[3:]
    if re.fullmatch(r"\d+(\.\d+)?", s):
        return float(s)
    if "点" in s:
        a, _, b = s.partition("点")
        ia = zh_int(a)
        if ia is None or not b:
            return None
        digits = "".join(str(ZH_DIGITS.get(c, c)) for c in b)
        return float(f"{ia}.{digits}") if digits.isdigit() else None
    return zh_int(s)


def digits_value(s, lang):
    if lang == "en":
        out = []
        for w in s.split():
            if w.isdigit():
                out.append(w)
            elif w in EN_UNITS and EN_UNITS[w] < 10:
                out.append(str(EN_UNITS[w]))
            else:
                return None
        return "".join(out)
    return "".join(str(ZH_DIGITS.get(c, c)) for c in s if c in ZH_DIGITS or c.isdigit())


EN_NUM_RE = r"(?:(?:\d+(?:\.\d+)?%?|" + "|".join(EN_NUMWORDS) + r") )+(?:percent |per cent )?"
ZH_NUM_RE = r"(?:百分之)?(?:[零〇一二两三四五六七八九十百千廿点\d\.]+%?|一半|最大|最高|最强|最小|最低)"
EN_DIGITS_RE = r"(?:(?:\d+|zero|oh|one|two|three|four|five|six|seven|eight|nine) )+"
ZH_DIGITS_RE = r"[\d零〇一二三四五六七八九幺两]{3,}"


# ---------------------------------------------------------------- compile

class Compiler:
    def __init__(self, lang, slots, types):
        self.lang, self.slots, self.types = lang, slots, types
        self.groups = {}   # group name -> (slot, kind, extra)
        self.n = 0

    def gname(self):
        self.n += 1
        return f"g{self.n}"

    def lit(self, text):
        if self.lang == "en":
            words = norm_en(text).split()
            return "".join(re.escape(w) + " " for w in words)
        return re.escape(norm_zh(text))

    def node(self, n):
        k = n.kind
        if k == "lit":
            return self.lit(n.text)
        if k == "seq":
            return "".join(self.node(i) for i in n.items)
        if k == "alt":
            return "(?:" + "|".join(self.node(i) for i in n.items) + ")"
        if k == "opt":
            return "(?:" + self.node(n.items[0]) + ")?"
        if k == "slot":
            g = self.gname()
            sdef = self.slots.get(n.slot, {})
            t = self.types.get(sdef.get("type"), {})
            if n.value is not None:
                self.groups[g] = (n.slot, "fixed", n.value)
                return f"(?P<{g}>)"
            kind = t.get("kind")
            if kind == "enum":
                alts = []
                for vname, v in t["values"].items():
                    vg = self.gname()
                    self.groups[vg] = (n.slot, "fixed", vname)
                    syns = [self.node(parse_sentence(s)) for s in v.get(self.lang, [])]
                    alts.append(f"(?P<{vg}>(?:" + "|".join(syns) + "))")
                return "(?:" + "|".join(alts) + ")"
            if kind == "number":
                self.groups[g] = (n.slot, "number", t)
                return f"(?P<{g}>{EN_NUM_RE if self.lang == 'en' else ZH_NUM_RE})"
            if kind == "digits":
                self.groups[g] = (n.slot, "digits", None)
                return f"(?P<{g}>{EN_DIGITS_RE if self.lang == 'en' else ZH_DIGITS_RE})"
            self.groups[g] = (n.slot, "text", None)
            return f"(?P<{g}>.+? )" if self.lang == "en" else f"(?P<{g}>.+?)"
        raise ValueError(k)


SLOT_TYPES = {}


def rules_types(intent, slot):
    return SLOT_TYPES.get((intent, slot))


def load(root):
    with open(root / "types.toml", "rb") as f:
        shared = tomllib.load(f).get("types", {})
    rules = []
    for mpath in sorted(root.glob("*/plugin.toml")):
        with open(mpath, "rb") as f:
            doc = tomllib.load(f)
        types = dict(shared)
        types.update(doc.get("types", {}))
        for intent in doc.get("intents", []):
            slots = intent.get("slots", {})
            for sname, sdef in slots.items():
                SLOT_TYPES[(intent["name"], sname)] = types.get(sdef.get("type"))
            for lang in ("en", "zh"):
                for s in intent.get("sentences", {}).get(lang, []):
                    c = Compiler(lang, slots, types)
                    rx = re.compile(c.node(parse_sentence(s)))
                    lit_chars = len(re.sub(r"[\[\]\(\)\|\{][^}]*\}|[\[\]\(\)\|]", "", s))
                    rules.append((lang, intent["name"], rx, c.groups, s, lit_chars))
    return rules


def parse(rules, text, lang):
    u = norm_en(text) if lang == "en" else norm_zh(text)
    u = strip_fillers(u, lang)
    if lang == "en":
        u = u + " "
    cands = []
    for rlang, intent, rx, groups, src, lit_chars in rules:
        if rlang != lang:
            continue
        m = rx.fullmatch(u)
        if not m:
            continue
        slots, text_chars, ok = {}, 0, True
        for g, val in m.groupdict().items():
            if val is None:
                continue
            slot, kind, extra = groups[g]
            if kind == "fixed":
                t = rules_types(intent, slot)
                if t and t.get("kind") == "number":
                    extra = float(extra)
                    extra = int(extra) if extra.is_integer() else extra
                slots[slot] = extra
            elif kind == "number":
                v = en_number(val.strip(), extra) if lang == "en" else zh_number(val, extra)
                if v is None:
                    ok = False
                    break
                slots[slot] = int(v) if float(v).is_integer() else v
            elif kind == "digits":
                v = digits_value(val.strip(), lang)
                if not v:
                    ok = False
                    break
                slots[slot] = v
            else:
                slots[slot] = val.strip()
                text_chars += len(val)
        if ok:
            cands.append((text_chars, -lit_chars, intent, slots, src))
    if not cands:
        return "none", {}, None, []
    cands.sort(key=lambda c: (c[0], c[1]))
    best = cands[0]
    return best[2], best[3], best[4], cands


def main(argv):
    root = Path(__file__).resolve().parent
    rules = load(root)
    if argv and argv[0] == "--eval":
        show = "--show-fail" in argv
        path = argv[1]
        rows = [json.loads(l) for l in open(path, encoding="utf-8") if l.strip()]
        stats = {}
        for r in rows:
            intent, slots, src, cands = parse(rules, r["text"], r["lang"])
            st = stats.setdefault(r["lang"], [0, 0, 0])
            st[0] += 1
            if intent == r["intent"]:
                st[1] += 1
                if slots == r["slots"]:
                    st[2] += 1
            if show and (intent != r["intent"] or slots != r["slots"]):
                print(f"{r['lang']} {r['text']!r}: want {r['intent']} {r['slots']} got {intent} {slots}  [{src}]")
            rivals = sorted({c[2] for c in cands} - {intent})
            if "--ambig" in argv and rivals:
                print(f"{r['lang']} {r['text']!r}: {intent} also matches {rivals}")
        for lang, (n, i, f) in sorted(stats.items()):
            print(f"{lang}: {n} utterances, intent {i / n:.1%}, intent+slots {f / n:.1%}")
        return 0
    for text in argv:
        lang = "zh" if re.search(r"[\u4e00-\u9fff]", text) else "en"
        intent, slots, src, cands = parse(rules, text, lang)
        print(f"{text!r} -> {intent} {json.dumps(slots, ensure_ascii=False)}  [{src}]")
        others = {(c[2], json.dumps(c[3], sort_keys=True, ensure_ascii=False)) for c in cands[1:]}
        others.discard((intent, json.dumps(slots, sort_keys=True, ensure_ascii=False)))
        for o in sorted(others):
            print(f"    also: {o[0]} {o[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
