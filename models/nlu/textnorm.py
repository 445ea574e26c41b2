"""Text normalisation and features, mirrored exactly by src/nlu/normalize.rs
(`units`) and src/nlu/features.rs. docs/NLU.md holds the specification; the
fixtures written by train.py (feature_fixtures.json) keep both sides equal."""

from __future__ import annotations

import math

FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3
MASK64 = (1 << 64) - 1

# Units beyond this many are ignored by the featuriser (a command is short).
MAX_FEATURE_UNITS = 128


def is_cjk(c: str) -> bool:
    o = ord(c)
    return (0x3400 <= o <= 0x4DBF or 0x4E00 <= o <= 0x9FFF or 0xF900 <= o <= 0xFAFF
            or 0x20000 <= o <= 0x2FA1F or o == 0x3007)


def _fold(c: str) -> str:
    o = ord(c)
    if 0xFF01 <= o <= 0xFF5E:
        return chr(o - 0xFEE0)
    if o == 0x3000:
        return " "
    return c


def _ascii_digit(c: str) -> bool:
    return "0" <= c <= "9"


def units(text: str) -> list[str]:
    """Port of normalize::units (English words lower case, digit numbers, one unit
    per CJK character, % and degree signs, punctuation dropped, full width folded)."""
    chars = [_fold(c) for c in text]
    out: list[str] = []
    word: list[str] = []

    def flush():
        if word:
            w = "".join(word).strip("'")
            if w:
                out.append(w)
            word.clear()

    for i, c in enumerate(chars):
        if is_cjk(c):
            flush()
            out.append(c)
        elif _ascii_digit(c):
            word.append(c)
        elif c in ".,":
            prev_digit = bool(word) and _ascii_digit(word[-1][-1])
            next_digit = i + 1 < len(chars) and _ascii_digit(chars[i + 1])
            if c == "." and prev_digit and next_digit:
                word.append(".")
            else:
                flush()
        elif c.isalpha():
            if word and _ascii_digit(word[-1][-1]):
                flush()
            word.append(c.lower())
        elif c in "'\u2019" and word:
            word.append("'")
        elif c in "%\u00b0":
            flush()
            out.append(c)
        else:
            flush()
    flush()
    return out


def join(us: list[str]) -> str:
    """Port of normalize::join: spaces between non-CJK units only."""
    s = []
    prev_cjk = True
    for u in us:
        cjk = bool(u) and is_cjk(u[0])
        if s and not (cjk or prev_cjk):
            s.append(" ")
        s.append(u)
        prev_cjk = cjk
    return "".join(s)


def fnv1a64(data: bytes) -> int:
    h = FNV_OFFSET
    for b in data:
        h ^= b
        h = (h * FNV_PRIME) & MASK64
    return h


def shape(u: str) -> str:
    """A number unit stands for its shape: every ASCII digit becomes 0 (21.5 -> 00.0)."""
    if u and _ascii_digit(u[0]):
        return "".join("0" if _ascii_digit(c) else c for c in u)
    return u


def is_word(u: str) -> bool:
    """A unit that gets character trigrams: not CJK, has an alphabetic character."""
    return bool(u) and not is_cjk(u[0]) and any(c.isalpha() for c in u)


def feature_strings(us: list[str]) -> list[str]:
    us = [shape(u) for u in us[:MAX_FEATURE_UNITS]]
    if not us:
        return []
    out = ["u:" + u for u in us]
    padded = ["<s>"] + us + ["</s>"]
    out += ["b:" + padded[i] + "|" + padded[i + 1] for i in range(len(padded) - 1)]
    for u in us:
        if is_word(u):
            w = "^" + u + "$"
            out += ["c:" + w[i:i + 3] for i in range(len(w) - 2)]
    return out


def features(text: str, dim: int) -> tuple[list[int], list[float]]:
    """Sparse feature vector of `text`: sorted bucket indices and L2-normalised counts."""
    counts: dict[int, float] = {}
    for f in feature_strings(units(text)):
        k = fnv1a64(f.encode("utf-8")) % dim
        counts[k] = counts.get(k, 0.0) + 1.0
    if not counts:
        return [], []
    norm = math.sqrt(sum(v * v for v in counts.values()))
    idx = sorted(counts)
    return idx, [counts[k] / norm for k in idx]
