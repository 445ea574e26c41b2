#!/usr/bin/env python3
"""Render test speech with offline neural voices: 16 kHz mono s16 WAVs.

    render.py utterances.jsonl OUT_DIR [--models DIR]

Each input line is {"id", "text", "lang" (en | zh), "voice"}; the voice is a Kokoro
voice (zf_xiaoxiao, zm_yunxi, af_heart, bf_emma, ...; installed by
`python3 models/install.py --only tts`) or `piper-joe` (the Piper voice
en_US-joe-medium). OUT_DIR/<id>.wav is written for each line. Rendering is
deterministic: one thread, no sampling noise, sox resampling without dither.
`--phonemes` prints the phonemes instead of rendering.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402

import en  # noqa: E402
import zh  # noqa: E402

RATE = 16_000


def to_wav16k(audio: np.ndarray, rate: int, out: Path) -> None:
    """Trim leading/trailing silence, resample with sox (no dither), write s16 mono."""
    loud = np.flatnonzero(np.abs(audio) > 0.01)
    if loud.size:
        pad = rate * 30 // 1000
        audio = audio[max(0, loud[0] - pad): loud[-1] + pad]
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    if peak > 0.95:
        audio = audio * (0.95 / peak)
    tmp = out.with_name(f"{out.name}.{os.getpid()}.part")  # renderers may run side by side
    subprocess.run(["sox", "-D", "-t", "raw", "-r", str(rate), "-e", "floating-point", "-b", "32", "-c", "1",
                    "-L", "-", "-t", "wav", "-r", str(RATE), "-c", "1", "-b", "16", str(tmp)],
                   input=audio.astype("<f4").tobytes(), check=True)
    os.replace(tmp, out)


class Renderer:
    def __init__(self, models: Path):
        self.models = models
        self._kokoro = None
        self._piper = None

    def kokoro(self):
        if self._kokoro is None:
            from kokoro import Kokoro
            d = self.models / "tts"
            model = d / "kokoro-v1.0-int8.onnx"
            if not model.is_file():
                sys.exit(f"render.py: {model} missing; install with `python3 models/install.py --only tts`")
            self._kokoro = Kokoro(model, d / "kokoro-vocab.json", d / "kokoro-voices")
        return self._kokoro

    def piper(self):
        if self._piper is None:
            from piper import Piper
            model = self.models / "tts" / "piper" / "en_US-joe-medium.onnx"
            if not model.is_file():
                sys.exit(f"render.py: {model} missing; install with `python3 models/install.py --only tts`")
            self._piper = Piper(model)
        return self._piper

    def phonemes(self, text: str, lang: str, voice: str) -> str:
        if voice.startswith("piper"):
            return self.piper().phonemes(text)
        if lang == "zh":
            return zh.phonemes(text)
        return en.phonemes(text, "en-gb" if voice[:1] == "b" else "en-us")

    def render(self, text: str, lang: str, voice: str, out: Path) -> None:
        if voice.startswith("piper"):
            p = self.piper()
            to_wav16k(p.synthesize(text), p.sample_rate, out)
            return
        k = self.kokoro()
        from kokoro import SAMPLE_RATE
        to_wav16k(k.synthesize(self.phonemes(text, lang, voice), voice), SAMPLE_RATE, out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("jsonl", type=Path)
    ap.add_argument("out", type=Path, nargs="?")
    ap.add_argument("--models", type=Path, default=HERE.parent.parent / "models")
    ap.add_argument("--phonemes", action="store_true", help="print phonemes, render nothing")
    args = ap.parse_args()
    r = Renderer(args.models)
    lines = [json.loads(l) for l in args.jsonl.read_text(encoding="utf-8").splitlines() if l.strip()]
    if not args.phonemes:
        if args.out is None:
            ap.error("OUT_DIR is required")
        args.out.mkdir(parents=True, exist_ok=True)
    for u in lines:
        if args.phonemes:
            print(f"{u['id']}\t{r.phonemes(u['text'], u['lang'], u['voice'])}")
        else:
            r.render(u["text"], u["lang"], u["voice"], args.out / f"{u['id']}.wav")
    return 0


if __name__ == "__main__":
    sys.exit(main())
