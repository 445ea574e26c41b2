"""Mandarin text -> Kokoro zh phonemes.

Characters become pinyin (pypinyin, with tone numbers), the pinyin syllables are
read by espeak-ng's `cmn-latn-pinyin` voice, and espeak's IPA is rewritten into the
phoneme style Kokoro's zh voices were trained on: retroflex ʈʂ ʈʂʰ ʂ ɻ, aspiration
as ʰ, the apical vowel of zhi/chi/shi/ri/zi/ci/si as ɨ, and a tone arrow after
each syllable (→ 1, ↗ 2, ↓ 3, ↘ 4, none for the neutral tone). espeak's own tone
marks are dropped: its IPA writes tones 1 and 4 alike, so tones come from pypinyin.
"""

from __future__ import annotations

import re
import subprocess

from pypinyin import Style, lazy_pinyin
from pypinyin.contrib.tone_convert import to_tone3

TONES = {"1": "→", "2": "↗", "3": "↓", "4": "↘", "5": ""}
DIGITS = "零一二三四五六七八九"

# espeak-ng 1.51 IPA fragments -> Kokoro zh symbols, longest first.
REWRITE = [
    ("ts.h", "ʈʂʰ"), ("ts.", "ʈʂ"), ("s.", "ʂ"), ("ʐ", "ɻ"),
    ("tɕh", "tɕʰ"), ("tsh", "tsʰ"), ("kh", "kʰ"), ("ph", "pʰ"), ("th", "tʰ"),
    ("i.", "ɨ"), ("i̪", "ɨ"), ("χ", "x"), ("nɡ", "ŋ"), ("ɡ", ""), ("o-", "ɤ"), ("ʲ", ""),
]
STRIP = re.compile(r"[ˈˌ0-9ɜ_|\-̪.]")


def digits_to_hanzi(text: str) -> str:
    """Arabic digits read one by one (numbers in the corpus are written in characters)."""
    return "".join(DIGITS[int(c)] if c.isascii() and c.isdigit() else c for c in text)


def pinyin(text: str) -> list[str]:
    """Toned pinyin syllables (`zhuang4`, neutral tone 5) of the Chinese characters in text."""
    out = []
    for s in lazy_pinyin(digits_to_hanzi(text), style=Style.TONE3, neutral_tone_with_five=True,
                         errors="ignore", v_to_u=False, tone_sandhi=True):
        s = to_tone3(s, neutral_tone_with_five=True) if not s[-1:].isdigit() else s
        if re.fullmatch(r"[a-z]+[1-5]", s):
            out.append(s)
    return out


def espeak_ipa(syllables: list[str]) -> list[str]:
    """espeak-ng's IPA per syllable (one espeak word per syllable)."""
    if not syllables:
        return []
    text = " ".join(s.replace("v", "ü") for s in syllables)
    res = subprocess.run(["espeak-ng", "-q", "-v", "cmn-latn-pinyin", "--ipa", text],
                         capture_output=True, text=True, check=True)
    words = res.stdout.split()
    if len(words) != len(syllables):
        raise ValueError(f"espeak-ng returned {len(words)} words for {len(syllables)} syllables: {text!r}")
    return words


def rewrite(ipa: str) -> str:
    """One syllable of espeak IPA (tone mark included) -> Kokoro style, without tone."""
    for a, b in REWRITE:
        ipa = ipa.replace(a, b)
    ipa = STRIP.sub("", ipa)
    # yi, wu: the glide letter is spelling, not a sound
    return ipa[1:] if ipa in ("ji", "wu") or ipa.startswith(("jin", "jiŋ")) else ipa


def phonemes(text: str) -> str:
    syl = pinyin(text)
    ipa = espeak_ipa(syl)
    return " ".join(rewrite(i) + TONES[s[-1]] for s, i in zip(syl, ipa))


if __name__ == "__main__":
    import sys

    for line in sys.argv[1:]:
        print(" ".join(pinyin(line)))
        print(" ".join(espeak_ipa(pinyin(line))))
        print(phonemes(line))
