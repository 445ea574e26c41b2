"""Kokoro-82M (int8 ONNX) speech from phonemes, 24 kHz float32."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnxruntime as ort

SAMPLE_RATE = 24_000
MAX_TOKENS = 510


class Kokoro:
    def __init__(self, model: Path, vocab: Path, voices: Path):
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1  # deterministic and polite on a shared machine
        opts.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(model), sess_options=opts, providers=["CPUExecutionProvider"])
        self.vocab = json.loads(vocab.read_text(encoding="utf-8"))["vocab"]
        self.voices_dir = voices
        self._styles: dict[str, np.ndarray] = {}

    def style(self, voice: str) -> np.ndarray:
        """A voice pack of kokoro-js: float32 [510, 1, 256], one style per token count."""
        if voice not in self._styles:
            path = self.voices_dir / f"{voice}.bin"
            if not path.is_file():
                have = sorted(p.stem for p in self.voices_dir.glob("*.bin"))
                raise ValueError(f"unknown Kokoro voice {voice!r} (installed: {', '.join(have)})")
            self._styles[voice] = np.fromfile(path, dtype="<f4").reshape(-1, 256)
        return self._styles[voice]

    def tokens(self, phonemes: str) -> list[int]:
        return [self.vocab[c] for c in phonemes if c in self.vocab][:MAX_TOKENS]

    def synthesize(self, phonemes: str, voice: str, speed: float = 1.0) -> np.ndarray:
        tokens = self.tokens(phonemes)
        if not tokens:
            raise ValueError(f"no Kokoro phonemes in {phonemes!r}")
        styles = self.style(voice)
        ref = styles[min(len(tokens), len(styles) - 1)]
        audio = self.session.run(None, {
            "tokens": np.array([[0, *tokens, 0]], dtype=np.int64),
            "style": ref.reshape(1, 256).astype(np.float32),
            "speed": np.array([speed], dtype=np.float32),
        })[0]
        return np.asarray(audio, dtype=np.float32).ravel()
