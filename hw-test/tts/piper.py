"""The Piper voice en_US-joe-medium (VITS, ONNX) from espeak-ng phonemes, 22.05 kHz."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import onnxruntime as ort


class Piper:
    def __init__(self, model: Path):
        cfg = json.loads(Path(f"{model}.json").read_text(encoding="utf-8"))
        self.sample_rate = cfg["audio"]["sample_rate"]
        self.espeak_voice = cfg["espeak"]["voice"]
        self.ids = cfg["phoneme_id_map"]
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(model), sess_options=opts, providers=["CPUExecutionProvider"])

    def phonemes(self, text: str) -> str:
        res = subprocess.run(["espeak-ng", "-q", "-v", self.espeak_voice, "--ipa", text],
                             capture_output=True, text=True, check=True)
        return " ".join(res.stdout.split())

    def synthesize(self, text: str, length_scale: float = 1.0, noise_scale: float = 0.0,
                   noise_w: float = 0.0) -> np.ndarray:
        # Piper's id sequence: ^, then each phoneme followed by the pad _, then $.
        ids = list(self.ids["^"]) + list(self.ids["_"])
        for c in self.phonemes(text):
            if c in self.ids:
                ids += self.ids[c] + self.ids["_"]
        ids += self.ids["$"]
        # Noise scales 0 (the default): the same text always gives the same samples. With
        # noise, the samples depend on the session's random state (onnxruntime.set_seed
        # before the session is made, and the runs since).
        audio = self.session.run(None, {
            "input": np.array([ids], dtype=np.int64),
            "input_lengths": np.array([len(ids)], dtype=np.int64),
            "scales": np.array([noise_scale, length_scale, noise_w], dtype=np.float32),
        })[0]
        return np.asarray(audio, dtype=np.float32).ravel()
