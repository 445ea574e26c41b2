"""English text -> Kokoro phonemes: espeak-ng's en-us / en-gb IPA in Kokoro's symbols."""

from __future__ import annotations

import re
import subprocess

# espeak-ng IPA -> Kokoro (misaki) symbols: diphthongs as single letters, affricates
# as ligatures, r as ɹ, the American flap as T; length marks and tie bars dropped.
REWRITE = [
    ("͡", ""), ("aɪ", "I"), ("aʊ", "W"), ("eɪ", "A"), ("oʊ", "O"), ("əʊ", "Q"), ("ɔɪ", "Y"),
    ("dʒ", "ʤ"), ("tʃ", "ʧ"), ("r", "ɹ"), ("ɐ", "ə"), ("ɚ", "əɹ"), ("x", "k"),
    ("ɬ", "l"), ("ː", ""), ("ʔ", "t"), ("e", "ɛ"), ("ɾ", "T"),
]


def phonemes(text: str, dialect: str = "en-us") -> str:
    res = subprocess.run(["espeak-ng", "-q", "-v", dialect, "--ipa", "--tie=͡", text],
                         capture_output=True, text=True, check=True)
    ipa = " ".join(res.stdout.split())
    for a, b in REWRITE:
        ipa = ipa.replace(a, b)
    if dialect != "en-us":  # the flap T is American
        ipa = ipa.replace("T", "t")
    return re.sub(r"\s+", " ", ipa).strip()
