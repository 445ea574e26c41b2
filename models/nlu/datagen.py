"""Training data from the plugin manifests: template expansion, slot filling,
numbers in words and digits (both languages), free-text samples, augmentation.

Everything is driven by a `random.Random` passed in, so a fixed seed gives the
same data on every run."""

from __future__ import annotations

import glob
import os
import random
import tomllib
from dataclasses import dataclass, field

from textnorm import is_cjk, join, units

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

# --------------------------------------------------------------------------
# Template language (same syntax and tree as src/nlu/template.rs)
# --------------------------------------------------------------------------


class TemplateError(Exception):
    pass


def parse_template(text: str):
    """('lit', unit) | ('seq', [..]) | ('alt', [..]) | ('opt', t) | ('slot', name) | ('fixed', name, value)"""
    chars = list(text)
    pos = 0

    def alt():
        nonlocal pos
        alts = [seq()]
        while pos < len(chars) and chars[pos] == "|":
            pos += 1
            alts.append(seq())
        return alts[0] if len(alts) == 1 else ("alt", alts)

    def seq():
        nonlocal pos
        items = []
        lit = []

        def flush():
            for u in units("".join(lit)):
                items.append(("lit", u))
            lit.clear()

        while pos < len(chars):
            c = chars[pos]
            if c in "|)]":
                break
            if c in "([":
                flush()
                pos += 1
                inner = alt()
                close = ")" if c == "(" else "]"
                if pos >= len(chars) or chars[pos] != close:
                    raise TemplateError(f"{text!r}: missing {close!r}")
                pos += 1
                items.append(inner if c == "(" else ("opt", inner))
            elif c == "{":
                flush()
                pos += 1
                start = pos
                while pos < len(chars) and chars[pos] != "}":
                    pos += 1
                if pos >= len(chars):
                    raise TemplateError(f"{text!r}: missing '}}'")
                body = "".join(chars[start:pos]).strip()
                pos += 1
                if "=" in body:
                    n, v = body.split("=", 1)
                    items.append(("fixed", n.strip(), v.strip()))
                else:
                    items.append(("slot", body))
            elif c == "}":
                raise TemplateError(f"{text!r}: unexpected '}}'")
            else:
                lit.append(c)
                pos += 1
        flush()
        return items[0] if len(items) == 1 else ("seq", items)

    t = alt()
    if pos < len(chars):
        raise TemplateError(f"{text!r}: unexpected {chars[pos]!r}")
    return t


def top_segments(t):
    """The top-level elements of a template (for word-order variants)."""
    return t[1] if t[0] == "seq" else [t]


# --------------------------------------------------------------------------
# Manifests
# --------------------------------------------------------------------------


@dataclass
class Intent:
    name: str
    slots: dict  # slot -> {type, required, ...}
    templates: dict  # lang -> [(source text, tree)]
    types: dict  # type name -> type table (shared overlaid with the plugin's)


def load_intents(plugins_dir: str | None = None) -> tuple[list[Intent], dict]:
    plugins_dir = plugins_dir or os.path.join(ROOT, "plugins")
    with open(os.path.join(plugins_dir, "types.toml"), "rb") as f:
        shared = tomllib.load(f)
    intents = []
    for path in sorted(glob.glob(os.path.join(plugins_dir, "*", "plugin.toml"))):
        with open(path, "rb") as f:
            m = tomllib.load(f)
        types = dict(shared.get("types", {}))
        types.update(m.get("types", {}))
        for it in m.get("intents", []):
            tpls = {}
            for lang, sents in it.get("sentences", {}).items():
                tpls[lang] = [(s, parse_template(s)) for s in sents]
            intents.append(Intent(it["name"], it.get("slots", {}), tpls, types))
    return intents, shared.get("fillers", {})


# --------------------------------------------------------------------------
# Numbers in words
# --------------------------------------------------------------------------

EN_SMALL = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
            "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
            "nineteen"]
EN_TENS = {2: "twenty", 3: "thirty", 4: "forty", 5: "fifty", 6: "sixty", 7: "seventy", 8: "eighty", 9: "ninety"}
ZH_DIGITS = "零一二三四五六七八九"


def en_int(n: int, rng: random.Random) -> str:
    if n < 20:
        return EN_SMALL[n]
    if n < 100:
        t, o = divmod(n, 10)
        return EN_TENS[t] + ("" if o == 0 else " " + EN_SMALL[o])
    if n < 1000:
        h, r = divmod(n, 100)
        head = ("a hundred" if h == 1 and rng.random() < 0.3 else EN_SMALL[h] + " hundred")
        if r == 0:
            return head
        return head + (" and " if rng.random() < 0.5 else " ") + en_int(r, rng)
    th, r = divmod(n, 1000)
    return en_int(th, rng) + " thousand" + ("" if r == 0 else " " + en_int(r, rng))


def en_digits(s: str) -> str:
    names = {"0": ["zero", "oh"], ".": ["point"]}
    out = []
    for ch in s:
        if ch in names:
            out.append(names[ch][0])
        else:
            out.append(EN_SMALL[int(ch)])
    return " ".join(out)


def zh_int(n: int, rng: random.Random, liang: bool = True) -> str:
    if n == 0:
        return "零"
    if n == 2 and liang and rng.random() < 0.5:
        return "两"
    if 20 <= n < 30 and rng.random() < 0.15:
        return "廿" + ("" if n == 20 else ZH_DIGITS[n - 20])
    if n < 10:
        return ZH_DIGITS[n]
    if n < 20:
        return "十" + ("" if n == 10 else ZH_DIGITS[n - 10])
    if n < 100:
        t, o = divmod(n, 10)
        return ZH_DIGITS[t] + "十" + ("" if o == 0 else ZH_DIGITS[o])
    if n < 1000:
        h, r = divmod(n, 100)
        head = ("两" if h == 2 and rng.random() < 0.3 else ZH_DIGITS[h]) + "百"
        if r == 0:
            return head
        if r < 10:
            return head + "零" + ZH_DIGITS[r]
        t, o = divmod(r, 10)
        return head + ZH_DIGITS[t] + "十" + ("" if o == 0 else ZH_DIGITS[o])
    th, r = divmod(n, 1000)
    head = ZH_DIGITS[th] + "千"
    if r == 0:
        return head
    if r < 100:
        return head + "零" + zh_int(r, rng, liang=False)
    return head + zh_int(r, rng, liang=False)


def zh_digits(s: str, rng: random.Random) -> str:
    out = []
    for ch in s:
        if ch == ".":
            out.append("点")
        elif ch == "1" and rng.random() < 0.3:
            out.append("幺")
        else:
            out.append(ZH_DIGITS[int(ch)])
    return "".join(out)


def fmt_num(v: float) -> str:
    return str(int(v)) if v == int(v) else f"{v:g}"


def render_number(v: float, lang: str, rng: random.Random, digit_style: bool = False) -> str:
    """A number as digits or words; `digit_style` also allows digit-by-digit reading."""
    r = rng.random()
    if r < 0.4:
        return fmt_num(v)
    whole = int(v)
    frac = round(v - whole, 3)
    if lang == "en":
        if digit_style and rng.random() < 0.5:
            return en_digits(fmt_num(v))
        w = en_int(whole, rng)
        if frac == 0:
            return w
        if frac == 0.5 and rng.random() < 0.4:
            return w + " and a half"
        return w + " point " + " ".join(EN_SMALL[int(d)] for d in fmt_num(frac)[2:])
    if digit_style and rng.random() < 0.5:
        return zh_digits(fmt_num(v), rng)
    w = zh_int(whole, rng)
    if frac == 0:
        return w
    return w + "点" + "".join(ZH_DIGITS[int(d)] for d in fmt_num(frac)[2:])


# --------------------------------------------------------------------------
# Free text samples (destinations, media queries, contacts)
# --------------------------------------------------------------------------

FREE_TEXT = {
    ("destination", "en"): [
        "the airport", "the train station", "central station", "downtown", "home", "work", "the office",
        "my office", "grandma's house", "the mall", "walmart", "starbucks", "the hospital", "the beach",
        "golden gate bridge", "times square", "the stadium", "the university", "main street",
        "221 baker street", "1600 pennsylvania avenue", "the city center", "union square", "the zoo",
        "terminal 2", "the museum of modern art", "mom's place", "the dentist", "the gym", "lake tahoe",
        "san francisco", "los angeles", "the library", "central park", "the harbor", "pier 39",
        "the convention center", "heathrow", "the nearest exit", "oak street 42", "the ferry terminal",
        "jfk airport", "the bank on fifth avenue", "costco", "ikea", "the kids' school", "city hall",
    ],
    ("destination", "zh"): [
        "首都机场", "北京南站", "公司", "家", "天安门", "国贸", "西湖", "浦东机场", "虹桥火车站", "人民广场",
        "中关村", "三里屯", "故宫", "颐和园", "外滩", "市中心", "第一人民医院", "清华大学", "王府井",
        "朝阳公园", "t3航站楼", "世纪大道", "南京路", "老妈家", "学校", "单位", "体育中心", "万达广场",
        "深圳湾公园", "广州塔", "春熙路", "宽窄巷子", "西单", "望京soho", "大兴机场", "五道口", "鸟巢",
        "奥林匹克公园", "西溪湿地", "杭州东站", "陆家嘴", "环球影城", "宜家", "沃尔玛", "星巴克",
    ],
    ("query", "en"): [
        "some jazz", "taylor swift", "bohemian rhapsody", "the beatles", "classical music", "my workout playlist",
        "something relaxing", "coldplay", "hotel california", "lo-fi beats", "country music", "adele",
        "shape of you", "the latest podcast", "rock music", "billie eilish", "hip hop", "imagine dragons",
        "some chill music", "beethoven", "despacito", "my favorites", "road trip songs", "ed sheeran",
        "the weeknd", "blinding lights", "abba", "queen", "piano music", "the news podcast", "frank sinatra",
    ],
    ("query", "zh"): [
        "周杰伦的歌", "稻香", "晴天", "邓紫棋", "轻音乐", "林俊杰", "五月天", "孤勇者", "陈奕迅的十年",
        "流行音乐", "摇滚乐", "儿歌", "相声", "郭德纲的相声", "古典音乐", "钢琴曲", "王菲", "青花瓷",
        "七里香", "经典老歌", "抖音热歌", "李荣浩", "毛不易", "新闻", "评书", "薛之谦的歌", "周深",
        "告白气球", "起风了", "粤语歌", "英文歌",
    ],
    ("contact", "en"): [
        "mom", "dad", "john", "john smith", "alice", "bob", "my wife", "my husband", "grandma", "the office",
        "sarah", "mike", "dr. brown", "emily", "david", "uncle joe", "jessica", "tom", "the dentist",
        "kevin", "my boss", "jennifer lopez", "anna", "peter parker", "lisa", "chris", "maria", "james",
    ],
    ("contact", "zh"): [
        "张三", "妈妈", "老王", "李经理", "爸爸", "老婆", "老公", "王伟", "李娜", "刘总", "小明", "奶奶",
        "爷爷", "张医生", "陈老师", "王阿姨", "李四", "赵六", "小李", "领导", "哥哥", "姐姐", "弟弟",
        "妹妹", "刘德华", "客服", "老板", "孙小姐",
    ],
}

TEXT_TYPE_KEY = {"destination": "destination", "media_query": "query", "contact": "contact"}


def phone_number(lang: str, rng: random.Random) -> tuple[str, str]:
    if lang == "zh" or rng.random() < 0.3:
        digits = "1" + rng.choice("3578") + "".join(rng.choice("0123456789") for _ in range(9))
    else:
        digits = "".join(rng.choice("0123456789") for _ in range(rng.choice([7, 10])))
    r = rng.random()
    if r < 0.4:
        if lang == "en" and len(digits) == 10 and rng.random() < 0.5:
            return f"{digits[:3]} {digits[3:6]} {digits[6:]}", digits
        return digits, digits
    if lang == "en":
        return en_digits(digits), digits
    return zh_digits(digits, rng), digits


# --------------------------------------------------------------------------
# Expansion
# --------------------------------------------------------------------------


@dataclass
class Sample:
    units: list
    slots: dict = field(default_factory=dict)  # name -> value
    fixed: set = field(default_factory=set)  # slot names set by {slot=value}
    spans: dict = field(default_factory=dict)  # name -> (start, end) in units


class Expander:
    def __init__(self, intent: Intent, lang: str, rng: random.Random):
        self.intent = intent
        self.lang = lang
        self.rng = rng
        self.enum_trees = {}

    def sample(self, tree) -> Sample | None:
        s = Sample([])
        if not self._walk(tree, s):
            return None
        return s

    def _walk(self, t, s: Sample) -> bool:
        kind = t[0]
        if kind == "lit":
            s.units.append(t[1])
        elif kind == "seq":
            for c in t[1]:
                if not self._walk(c, s):
                    return False
        elif kind == "alt":
            return self._walk(self.rng.choice(t[1]), s)
        elif kind == "opt":
            if self.rng.random() < 0.5:
                return self._walk(t[1], s)
        elif kind == "fixed":
            name, value = t[1], t[2]
            if name in s.slots:
                return False
            ty = self.intent.types[self.intent.slots[name]["type"]]
            s.slots[name] = float(value) if ty["kind"] == "number" else value
            s.fixed.add(name)
        elif kind == "slot":
            name = t[1]
            if name in s.slots:
                return False
            start = len(s.units)
            value = self._fill(name, s)
            if value is None:
                return False
            s.slots[name] = value
            s.spans[name] = (start, len(s.units))
        return True

    def _fill(self, name: str, s: Sample):
        rng, lang = self.rng, self.lang
        tname = self.intent.slots[name]["type"]
        ty = self.intent.types[tname]
        k = ty["kind"]
        if k == "enum":
            vals = sorted(ty["values"])
            v = rng.choice(vals)
            syns = ty["values"][v].get(lang, [])
            if not syns:
                return None
            syn = rng.choice(syns)
            key = (tname, syn)
            if key not in self.enum_trees:
                self.enum_trees[key] = parse_template(syn)
            sub = Sample([])
            if not self._walk(self.enum_trees[key], sub) or not sub.units:
                return None
            s.units.extend(sub.units)
            return v
        if k == "number":
            return self._number(ty, s)
        if k == "text":
            pool = FREE_TEXT[(TEXT_TYPE_KEY.get(tname, tname), lang)]
            text = rng.choice(pool)
            us = units(text)
            s.units.extend(us)
            return join(us)
        if k == "digits":
            text, digits = phone_number(lang, rng)
            s.units.extend(units(text))
            return digits
        return None

    def _number(self, ty: dict, s: Sample):
        rng, lang = self.rng, self.lang
        lo, hi = float(ty["min"]), float(ty["max"])
        integer = ty.get("integer", False)
        percent = ty.get("percent", False)
        if percent:
            r = rng.random()
            if r < 0.12:
                if lang == "en":
                    s.units.extend(units(rng.choice(["half", "halfway", "half way"])))
                else:
                    s.units.extend(units("一半"))
                return 50.0
            v = float(rng.choice([10, 20, 25, 30, 40, 50, 60, 70, 75, 80, 90, 100, 15, 35, 45, 65, 85, 5])
                      if rng.random() < 0.7 else rng.randint(int(lo), int(hi)))
            v = min(max(v, lo), hi)
            if r < 0.3:
                if lang == "en":
                    s.units.extend(units(render_number(v, lang, rng) + " percent"))
                else:
                    s.units.extend(units("百分之" + zh_int(int(v), rng, liang=False)))
                return v
            if r < 0.45:
                s.units.extend(units(fmt_num(v) + "%"))
                return v
            s.units.extend(units(render_number(v, lang, rng)))
            return v
        if hi >= 500:  # radio frequencies
            if rng.random() < 0.6:
                v = round(rng.randint(875, 1080) / 10, 1)
            else:
                v = float(rng.randrange(530, 1711, 10))
            s.units.extend(units(render_number(v, lang, rng, digit_style=True)))
            return v
        if integer:
            v = float(rng.randint(int(lo), int(hi)))
        elif rng.random() < 0.25:
            v = rng.randint(int(lo * 2), int(hi * 2)) / 2
            v = min(max(v, lo), hi)
        else:
            v = float(rng.randint(int(max(lo, 1)), int(hi)))
        s.units.extend(units(render_number(v, lang, rng)))
        return v


# --------------------------------------------------------------------------
# Augmentation
# --------------------------------------------------------------------------

PREFIX = {
    "en": ["please", "can you", "could you", "would you", "hey cabin", "ok cabin", "hey cabin please",
           "i want you to", "go ahead and", "um", "uh", "hey", "cabin", "would you please", "just",
           "can you please", "could you please", "okay cabin can you"],
    "zh": ["帮我", "请", "能不能", "麻烦", "你好小舱", "小舱", "给我", "你好小舱帮我", "嗯", "那个", "请你",
           "麻烦你", "可以帮我", "小舱小舱", "嗨小舱", "你帮我", "能不能帮我", "快", "马上"],
}
SUFFIX = {
    "en": ["please", "now", "thanks", "for me", "right now", "thank you", "ok", "quickly", "please thanks"],
    "zh": ["一下", "吧", "呢", "好吗", "谢谢", "一下吧", "可以吗", "行吗", "啊", "哦", "一下谢谢"],
}
ARTICLES = {"the", "a", "an"}

EN_CONFUSIONS = {
    "to": ["two", "too"], "two": ["to"], "for": ["four"], "four": ["for"], "seat": ["sheet", "seed"],
    "fan": ["van", "fun"], "heat": ["heed", "hit"], "window": ["windows", "widow"], "windows": ["window"],
    "volume": ["volumes"], "turn": ["tern", "torn"], "off": ["of"], "on": ["in", "an"], "up": ["app"],
    "the": ["a", "da"], "temperature": ["temperatures", "temper"], "sunroof": ["sun roof"],
    "windshield": ["wind shield"], "ac": ["a c", "acc"], "call": ["cal", "cold"], "play": ["pray", "plate"],
    "music": ["musics"], "lock": ["look", "lok"], "trunk": ["drunk", "truck"], "wipers": ["vipers", "wiper"],
    "radio": ["radial"], "next": ["text", "nest"], "pause": ["paws", "pose"], "mute": ["moot"],
    "light": ["lite", "right"], "lights": ["likes"], "open": ["opened"], "close": ["clothes", "clause"],
    "navigate": ["navigation"], "cooler": ["color"], "warmer": ["warner"], "lower": ["lover"],
    "defrost": ["the frost"], "seats": ["sheets"],
}


class Noise:
    """ASR-like noise: Chinese homophones (pypinyin), English near misses."""

    def __init__(self, extra_chars: set[str]):
        from pypinyin import Style, lazy_pinyin  # imported here: only the venv has it
        vocab = set()
        for hi in range(0xB0, 0xD8):
            for lo in range(0xA1, 0xFF):
                try:
                    vocab.add(bytes([hi, lo]).decode("gb2312"))
                except UnicodeDecodeError:
                    pass
        vocab |= {c for c in extra_chars if is_cjk(c)}
        self.by_py: dict[str, list[str]] = {}
        self.py: dict[str, str] = {}
        for c in sorted(vocab):
            p = lazy_pinyin(c, style=Style.NORMAL)[0]
            if not p or not p.isalpha():
                continue
            self.py[c] = p
            self.by_py.setdefault(p, []).append(c)

    def homophone(self, c: str, rng: random.Random) -> str:
        p = self.py.get(c)
        if not p:
            return c
        others = [x for x in self.by_py[p] if x != c]
        return rng.choice(others) if others else c

    def zh(self, us: list[str], rng: random.Random, rate: float) -> list[str]:
        return [self.homophone(u, rng) if is_cjk(u[0]) and rng.random() < rate else u for u in us]

    @staticmethod
    def misspell(w: str, rng: random.Random) -> str:
        if w in EN_CONFUSIONS and rng.random() < 0.5:
            return rng.choice(EN_CONFUSIONS[w])
        if len(w) < 4 or not w.isalpha():
            return w
        i = rng.randrange(1, len(w) - 1)
        op = rng.random()
        if op < 0.3:
            return w[:i] + w[i + 1:]
        if op < 0.55:
            return w[:i] + w[i] + w[i:]
        if op < 0.8:
            return w[:i - 1] + w[i] + w[i - 1] + w[i + 1:]
        return w[:i] + rng.choice("aeiou") + w[i + 1:]

    def en(self, us: list[str], rng: random.Random, rate: float) -> list[str]:
        out = []
        for u in us:
            out.extend(units(self.misspell(u, rng)) if rng.random() < rate else [u])
        return out


def augment(us: list[str], lang: str, rng: random.Random, noise: Noise, strength: float = 1.0) -> tuple[list[str], bool]:
    """A varied copy of `us`; the flag tells whether slot spans may have moved or broken."""
    us = list(us)
    damaged = False
    if rng.random() < 0.35 * strength:
        us = units(rng.choice(PREFIX[lang])) + us
    if rng.random() < 0.25 * strength:
        us = us + units(rng.choice(SUFFIX[lang]))
    if lang == "en" and rng.random() < 0.3 * strength:
        dropped = [u for u in us if u not in ARTICLES]
        if dropped:
            us = dropped
            damaged = True
    if len(us) > 3 and rng.random() < 0.12 * strength:
        del us[rng.randrange(len(us))]
        damaged = True
    if len(us) > 3 and rng.random() < 0.06 * strength:
        k = rng.randrange(1, len(us))
        us = us[k:] + us[:k]
        damaged = True
    if lang == "zh" and rng.random() < 0.35 * strength:
        us = noise.zh(us, rng, 0.08)
        damaged = True
    if lang == "en" and rng.random() < 0.3 * strength:
        us = noise.en(us, rng, 0.08)
        damaged = True
    return us, damaged
