#!/usr/bin/env python3
"""Convert a CTranslate2 Whisper checkpoint (model.bin) to whisper.cpp's ggml format.

The output is byte-for-byte the layout written by whisper.cpp's
``models/convert-pt-to-ggml.py`` (f16) and, with ``--quantize``, by its
``quantize`` tool (q5_1 / q8_0):

    int32 magic 0x67676d6c ("ggml")
    int32 n_vocab, n_audio_ctx, n_audio_state, n_audio_head, n_audio_layer,
          n_text_ctx, n_text_state, n_text_head, n_text_layer, n_mels, ftype
    int32 n_mel, int32 n_fft, float32[n_mel * n_fft]     mel filter bank
    int32 n_tokens, then per token: int32 length, bytes     tiktoken vocabulary
    per tensor: int32 n_dims, int32 name_len, int32 ggml_type,
                int32 ne[n_dims] (innermost first), name, data

CTranslate2 names are mapped to the OpenAI names that whisper.cpp looks up
(``encoder.blocks.N.attn.query.weight`` ...).  CTranslate2 fuses the
attention projections (self-attention q|k|v, cross-attention k|v); they are
split again here.  Whisper's key projection has no bias: the converter that
produced the checkpoint stores zeros there, and the bias is dropped (a key
bias only adds a per-query constant to the attention scores, which softmax
cancels, so dropping it is exact in any case).

Requires numpy; ``--quantize`` additionally requires the ``gguf`` package
(its numpy quantizers reproduce ggml's reference block quantizers).

Usage:
    convert_ct2_to_ggml.py MODEL_DIR_OR_BIN --assets WHISPER_ASSETS_DIR -o OUT.bin
                           [--quantize f16|q5_1|q8_0]
    convert_ct2_to_ggml.py --info OUT.bin
"""

from __future__ import annotations

import argparse
import base64
import os
import re
import struct
import sys
import tempfile
from pathlib import Path

import numpy as np

GGML_FILE_MAGIC = 0x67676D6C

# ggml_type (ggml/include/ggml.h, enum ggml_type)
GGML_TYPE_F32 = 0
GGML_TYPE_F16 = 1
GGML_TYPE_Q5_1 = 7
GGML_TYPE_Q8_0 = 8

# ggml_ftype (ggml/include/ggml.h, enum ggml_ftype)
GGML_FTYPE_MOSTLY_F16 = 1
GGML_FTYPE_MOSTLY_Q8_0 = 7
GGML_FTYPE_MOSTLY_Q5_1 = 9

# The quantize tool stores ftype + GGML_QNT_VERSION * GGML_QNT_VERSION_FACTOR;
# whisper_model_load() takes ftype % GGML_QNT_VERSION_FACTOR.
GGML_QNT_VERSION = 2
GGML_QNT_VERSION_FACTOR = 1000

# name -> (hparam ftype, ggml_type of the quantized 2-D weights, block size, bytes per block)
OUTPUT_TYPES = {
    "f16": (GGML_FTYPE_MOSTLY_F16, GGML_TYPE_F16, 1, 2),
    "q5_1": (GGML_QNT_VERSION * GGML_QNT_VERSION_FACTOR + GGML_FTYPE_MOSTLY_Q5_1, GGML_TYPE_Q5_1, 32, 24),
    "q8_0": (GGML_QNT_VERSION * GGML_QNT_VERSION_FACTOR + GGML_FTYPE_MOSTLY_Q8_0, GGML_TYPE_Q8_0, 32, 34),
}

GGML_TYPE_NAMES = {GGML_TYPE_F32: "f32", GGML_TYPE_F16: "f16", GGML_TYPE_Q5_1: "q5_1", GGML_TYPE_Q8_0: "q8_0"}

# Tensors whisper.cpp's quantize tool never quantizes (examples/quantize/quantize.cpp).
QUANTIZE_SKIP = (
    "encoder.conv1.bias",
    "encoder.conv2.bias",
    "encoder.positional_embedding",
    "decoder.positional_embedding",
)

# Tensors convert-pt-to-ggml.py writes as f32 although they are 2-D.
F32_2D = QUANTIZE_SKIP


class ConversionError(Exception):
    pass


# --------------------------------------------------------------------------
# CTranslate2 model.bin reader
# --------------------------------------------------------------------------

# CTranslate2 DataType enum (include/ctranslate2/types.h)
CT2_DTYPES = {
    0: np.dtype("<f4"),  # FLOAT32
    1: np.dtype("i1"),  # INT8
    2: np.dtype("<i2"),  # INT16
    3: np.dtype("<i4"),  # INT32
    4: np.dtype("<f2"),  # FLOAT16
    5: "bfloat16",  # BFLOAT16
}


class CT2Model:
    """Minimal reader for CTranslate2's binary model format (versions 4-6)."""

    def __init__(self, path: Path):
        self.path = path
        self._data = path.read_bytes()
        self._pos = 0
        self.variables: dict[str, np.ndarray] = {}
        self.aliases: dict[str, str] = {}
        self._parse()

    def _take(self, n: int) -> memoryview:
        if self._pos + n > len(self._data):
            raise ConversionError(f"{self.path}: truncated CTranslate2 model (need {n} bytes at offset {self._pos})")
        view = memoryview(self._data)[self._pos : self._pos + n]
        self._pos += n
        return view

    def _unpack(self, fmt: str):
        return struct.unpack("<" + fmt, self._take(struct.calcsize("<" + fmt)))[0]

    def _string(self) -> str:
        n = self._unpack("H")
        raw = bytes(self._take(n))
        if not raw.endswith(b"\0"):
            raise ConversionError(f"{self.path}: malformed string at offset {self._pos - n}")
        return raw[:-1].decode("utf-8")

    def _parse(self):
        self.version = self._unpack("I")
        if not 4 <= self.version <= 6:
            raise ConversionError(f"{self.path}: unsupported CTranslate2 binary version {self.version} (expected 4..6)")
        self.spec = self._string()
        self.revision = self._unpack("I")
        if self.spec != "WhisperSpec":
            raise ConversionError(f"{self.path}: model spec is {self.spec!r}, not a Whisper model")
        for _ in range(self._unpack("I")):
            name = self._string()
            rank = self._unpack("B")
            shape = tuple(self._unpack("I") for _ in range(rank))
            dtype_id = self._unpack("B")
            nbytes = self._unpack("I")
            raw = self._take(nbytes)
            dtype = CT2_DTYPES.get(dtype_id)
            if dtype is None:
                raise ConversionError(f"{self.path}: variable {name} has unknown data type {dtype_id}")
            if dtype == "bfloat16":
                arr = (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
            else:
                arr = np.frombuffer(raw, dtype=dtype)
            count = int(np.prod(shape)) if shape else 1
            if arr.size != count:
                raise ConversionError(f"{self.path}: variable {name} has {arr.size} values, shape {shape} needs {count}")
            self.variables[name] = arr.reshape(shape)
        for _ in range(self._unpack("I")):
            alias = self._string()
            self.aliases[alias] = self._string()
        if self._pos != len(self._data):
            raise ConversionError(f"{self.path}: {len(self._data) - self._pos} unexpected trailing bytes")

    def __contains__(self, name: str) -> bool:
        return name in self.variables or name in self.aliases

    def get(self, name: str) -> np.ndarray:
        seen = set()
        while name in self.aliases:
            if name in seen:
                raise ConversionError(f"{self.path}: alias loop at {name}")
            seen.add(name)
            name = self.aliases[name]
        try:
            return self.variables[name]
        except KeyError:
            raise ConversionError(f"{self.path}: missing variable {name}") from None

    def scalar(self, name: str) -> int:
        return int(self.get(name).reshape(-1)[0])

    def weight(self, name: str) -> np.ndarray:
        """A float tensor as float16 (2-D+) / float32 (1-D) like the OpenAI checkpoints."""
        arr = self.get(name)
        if arr.dtype.kind != "f":
            if name + "_scale" in self:
                raise ConversionError(
                    f"{self.path}: {name} is int8-quantized; convert a float16/float32 CTranslate2 checkpoint instead"
                )
            raise ConversionError(f"{self.path}: {name} has non-float type {arr.dtype}")
        return arr


# --------------------------------------------------------------------------
# Name mapping
# --------------------------------------------------------------------------


def _count_layers(model: CT2Model, prefix: str) -> int:
    pat = re.compile(re.escape(prefix) + r"/layer_(\d+)/")
    ids = {int(m.group(1)) for name in model.variables for m in [pat.match(name)] if m}
    if ids != set(range(len(ids))):
        raise ConversionError(f"{model.path}: non-contiguous {prefix} layers {sorted(ids)}")
    return len(ids)


def _split_rows(arr: np.ndarray, parts: int, what: str) -> list[np.ndarray]:
    if arr.shape[0] % parts:
        raise ConversionError(f"cannot split {what} of shape {arr.shape} into {parts}")
    return np.split(arr, parts, axis=0)


def _attention(model: CT2Model, src: str, dst: str, cross: bool):
    """Yield (name, array) for one attention block in OpenAI order."""
    if cross:
        q_w, q_b = model.weight(f"{src}/linear_0/weight"), model.weight(f"{src}/linear_0/bias")
        k_w, v_w = _split_rows(model.weight(f"{src}/linear_1/weight"), 2, f"{src}/linear_1/weight")
        _, v_b = _split_rows(model.weight(f"{src}/linear_1/bias"), 2, f"{src}/linear_1/bias")
        out = "linear_2"
    else:
        q_w, k_w, v_w = _split_rows(model.weight(f"{src}/linear_0/weight"), 3, f"{src}/linear_0/weight")
        q_b, _, v_b = _split_rows(model.weight(f"{src}/linear_0/bias"), 3, f"{src}/linear_0/bias")
        out = "linear_1"
    yield f"{dst}.query.weight", q_w
    yield f"{dst}.query.bias", q_b
    yield f"{dst}.key.weight", k_w
    yield f"{dst}.value.weight", v_w
    yield f"{dst}.value.bias", v_b
    yield f"{dst}.out.weight", model.weight(f"{src}/{out}/weight")
    yield f"{dst}.out.bias", model.weight(f"{src}/{out}/bias")


def _layer_norm(model: CT2Model, src: str, dst: str):
    yield f"{dst}.weight", model.weight(f"{src}/gamma")
    yield f"{dst}.bias", model.weight(f"{src}/beta")


def _mlp(model: CT2Model, src: str, dst: str):
    for i, j in ((0, 0), (1, 2)):
        yield f"{dst}.mlp.{j}.weight", model.weight(f"{src}/linear_{i}/weight")
        yield f"{dst}.mlp.{j}.bias", model.weight(f"{src}/linear_{i}/bias")
    yield from _layer_norm(model, f"{src}/layer_norm", f"{dst}.mlp_ln")


def whisper_tensors(model: CT2Model, n_audio_layer: int, n_text_layer: int):
    """All tensors in the order of OpenAI's state_dict (as convert-pt-to-ggml.py writes them)."""
    yield "encoder.positional_embedding", model.weight("encoder/position_encodings/encodings")
    for c in ("conv1", "conv2"):
        yield f"encoder.{c}.weight", model.weight(f"encoder/{c}/weight")
        yield f"encoder.{c}.bias", model.weight(f"encoder/{c}/bias")
    for i in range(n_audio_layer):
        src, dst = f"encoder/layer_{i}", f"encoder.blocks.{i}"
        yield from _attention(model, f"{src}/self_attention", f"{dst}.attn", cross=False)
        yield from _layer_norm(model, f"{src}/self_attention/layer_norm", f"{dst}.attn_ln")
        yield from _mlp(model, f"{src}/ffn", dst)
    yield from _layer_norm(model, "encoder/layer_norm", "encoder.ln_post")

    yield "decoder.positional_embedding", model.weight("decoder/position_encodings/encodings")
    yield "decoder.token_embedding.weight", model.weight("decoder/embeddings/weight")
    for i in range(n_text_layer):
        src, dst = f"decoder/layer_{i}", f"decoder.blocks.{i}"
        yield from _attention(model, f"{src}/self_attention", f"{dst}.attn", cross=False)
        yield from _layer_norm(model, f"{src}/self_attention/layer_norm", f"{dst}.attn_ln")
        yield from _attention(model, f"{src}/attention", f"{dst}.cross_attn", cross=True)
        yield from _layer_norm(model, f"{src}/attention/layer_norm", f"{dst}.cross_attn_ln")
        yield from _mlp(model, f"{src}/ffn", dst)
    yield from _layer_norm(model, "decoder/layer_norm", "decoder.ln")


def whisper_hparams(model: CT2Model) -> dict[str, int]:
    emb = model.get("decoder/embeddings/weight")
    enc_pos = model.get("encoder/position_encodings/encodings")
    dec_pos = model.get("decoder/position_encodings/encodings")
    conv1 = model.get("encoder/conv1/weight")
    hp = {
        "n_vocab": emb.shape[0],
        "n_audio_ctx": enc_pos.shape[0],
        "n_audio_state": enc_pos.shape[1],
        "n_audio_head": model.scalar("encoder/num_heads"),
        "n_audio_layer": _count_layers(model, "encoder"),
        "n_text_ctx": dec_pos.shape[0],
        "n_text_state": emb.shape[1],
        "n_text_head": model.scalar("decoder/num_heads"),
        "n_text_layer": _count_layers(model, "decoder"),
        "n_mels": conv1.shape[1],
    }
    # Sanity checks: the architecture whisper.cpp implements.
    if hp["n_audio_state"] != hp["n_text_state"]:
        raise ConversionError("encoder and decoder widths differ; not a Whisper model")
    if conv1.shape != (hp["n_audio_state"], hp["n_mels"], 3):
        raise ConversionError(f"unexpected encoder/conv1/weight shape {conv1.shape}")
    if "decoder/projection/weight" in model and model.get("decoder/projection/weight") is not emb:
        if not np.array_equal(model.get("decoder/projection/weight"), emb):
            raise ConversionError("output projection is not tied to the token embedding (whisper.cpp requires it)")
    for flag, want in (("decoder/pre_norm", 1), ("decoder/scale_embeddings", 0), ("decoder/alibi", 0)):
        if flag in model and model.scalar(flag) != want:
            raise ConversionError(f"{flag} = {model.scalar(flag)}, whisper.cpp expects {want}")
    return {k: int(v) for k, v in hp.items()}


# --------------------------------------------------------------------------
# ggml writer
# --------------------------------------------------------------------------


def load_tokens(path: Path) -> list[bytes]:
    tokens = []
    for line in path.read_bytes().splitlines():
        if not line:
            continue
        tok, rank = line.split()
        if int(rank) != len(tokens):
            raise ConversionError(f"{path}: rank {int(rank)} out of order (expected {len(tokens)})")
        tokens.append(base64.b64decode(tok))
    return tokens


def load_mel_filters(assets: Path, n_mels: int) -> np.ndarray:
    with np.load(assets / "mel_filters.npz") as f:
        key = f"mel_{n_mels}"
        if key not in f:
            raise ConversionError(f"{assets / 'mel_filters.npz'} has no {key}")
        return np.ascontiguousarray(f[key], dtype="<f4")


def _quantize(data: np.ndarray, qtype: int) -> bytes:
    try:
        from gguf import quants, GGMLQuantizationType
    except ImportError:
        raise ConversionError("quantization needs the 'gguf' Python package (pip install gguf)") from None
    gtype = {GGML_TYPE_Q5_1: GGMLQuantizationType.Q5_1, GGML_TYPE_Q8_0: GGMLQuantizationType.Q8_0}[qtype]
    return quants.quantize(data, gtype).tobytes()


def convert(model_path: Path, assets: Path, out: Path, out_type: str = "f16", verbose: bool = False) -> dict:
    if model_path.is_dir():
        model_path = model_path / "model.bin"
    ftype, qtype, block, _ = OUTPUT_TYPES[out_type]
    model = CT2Model(model_path)
    hp = whisper_hparams(model)
    multilingual = hp["n_vocab"] >= 51865  # same rule as whisper.cpp
    tokens = load_tokens(assets / ("multilingual.tiktoken" if multilingual else "gpt2.tiktoken"))
    filters = load_mel_filters(assets, hp["n_mels"])

    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=out.name + ".", suffix=".tmp", dir=out.parent)
    n_tensors = 0
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(struct.pack("<I", GGML_FILE_MAGIC))
            for key in (
                "n_vocab", "n_audio_ctx", "n_audio_state", "n_audio_head", "n_audio_layer",
                "n_text_ctx", "n_text_state", "n_text_head", "n_text_layer", "n_mels",
            ):
                f.write(struct.pack("<i", hp[key]))
            f.write(struct.pack("<i", ftype))

            f.write(struct.pack("<ii", *filters.shape))
            f.write(filters.tobytes())

            f.write(struct.pack("<i", len(tokens)))
            for tok in tokens:
                f.write(struct.pack("<i", len(tok)))
                f.write(tok)

            for name, data in whisper_tensors(model, hp["n_audio_layer"], hp["n_text_layer"]):
                if name in ("encoder.conv1.bias", "encoder.conv2.bias"):
                    data = data.reshape(data.shape[0], 1)
                n_dims = data.ndim
                # convert-pt-to-ggml.py: f16 for 2-D+ weights, f32 for 1-D, conv biases, positions
                if n_dims < 2 or name in F32_2D:
                    ttype, payload = GGML_TYPE_F32, data.astype("<f4")
                else:
                    ttype, payload = GGML_TYPE_F16, data.astype("<f2")
                # quantize tool: 2-D tensors except the skip list, from the f16 values
                if qtype != GGML_TYPE_F16 and n_dims == 2 and name not in QUANTIZE_SKIP:
                    if payload.shape[-1] % block:
                        raise ConversionError(
                            f"{name}: row length {payload.shape[-1]} is not a multiple of {block}; "
                            f"whisper.cpp needs every 2-D weight in {out_type}, use f16 for this model"
                        )
                    ttype, raw = qtype, _quantize(payload.astype(np.float32), qtype)
                else:
                    raw = np.ascontiguousarray(payload).tobytes()
                name_b = name.encode("utf-8")
                f.write(struct.pack("<iii", n_dims, len(name_b), ttype))
                f.write(struct.pack(f"<{n_dims}i", *reversed(data.shape)))
                f.write(name_b)
                f.write(raw)
                n_tensors += 1
                if verbose:
                    print(f"  {name:48s} {str(tuple(data.shape)):16s} {GGML_TYPE_NAMES[ttype]}")
        # whisper_model_load(): 7 encoder + 15 per encoder layer + 4 decoder + 24 per decoder layer
        expected = 7 + 15 * hp["n_audio_layer"] + 4 + 24 * hp["n_text_layer"]
        if n_tensors != expected:
            raise ConversionError(f"wrote {n_tensors} tensors, whisper.cpp expects {expected}")
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, out)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise
    return {"hparams": hp, "ftype": ftype, "n_tokens": len(tokens), "n_tensors": n_tensors, "multilingual": multilingual}


# --------------------------------------------------------------------------
# Reader (for --info and tests)
# --------------------------------------------------------------------------

_TYPE_SIZES = {GGML_TYPE_F32: (1, 4), GGML_TYPE_F16: (1, 2), GGML_TYPE_Q5_1: (32, 24), GGML_TYPE_Q8_0: (32, 34)}


def read_ggml(path: Path) -> dict:
    with open(path, "rb") as f:
        def i32(n=1):
            vals = struct.unpack(f"<{n}i", f.read(4 * n))
            return vals if n > 1 else vals[0]

        if struct.unpack("<I", f.read(4))[0] != GGML_FILE_MAGIC:
            raise ConversionError(f"{path}: bad magic")
        keys = ("n_vocab", "n_audio_ctx", "n_audio_state", "n_audio_head", "n_audio_layer",
                "n_text_ctx", "n_text_state", "n_text_head", "n_text_layer", "n_mels", "ftype")
        hp = dict(zip(keys, i32(len(keys))))
        n_mel, n_fft = i32(2)
        f.seek(4 * n_mel * n_fft, 1)
        n_tokens = i32()
        for _ in range(n_tokens):
            f.seek(i32(), 1)
        tensors = []
        while True:
            head = f.read(12)
            if not head:
                break
            n_dims, name_len, ttype = struct.unpack("<iii", head)
            ne = i32(n_dims) if n_dims > 1 else (i32(),)
            name = f.read(name_len).decode()
            blk, size = _TYPE_SIZES[ttype]
            n = int(np.prod(ne))
            f.seek(n // blk * size, 1)
            tensors.append((name, tuple(ne), ttype))
        if f.tell() != os.fstat(f.fileno()).st_size:
            raise ConversionError(f"{path}: truncated")
    return {"hparams": hp, "n_mel": n_mel, "n_fft": n_fft, "n_tokens": n_tokens, "tensors": tensors}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model", nargs="?", type=Path, help="CTranslate2 model directory or model.bin")
    ap.add_argument("--assets", type=Path, help="directory with mel_filters.npz, gpt2.tiktoken, multilingual.tiktoken "
                    "(whisper/assets of the openai-whisper package)")
    ap.add_argument("-o", "--out", type=Path, help="output ggml file")
    ap.add_argument("--quantize", choices=sorted(OUTPUT_TYPES), default="f16",
                    help="type of the 2-D weights (default f16, like convert-pt-to-ggml.py)")
    ap.add_argument("--info", type=Path, metavar="GGML_BIN", help="print the header and tensor table of a ggml file")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    try:
        if args.info:
            info = read_ggml(args.info)
            for k, v in info["hparams"].items():
                print(f"{k:14s} {v}")
            print(f"{'mel filters':14s} {info['n_mel']} x {info['n_fft']}")
            print(f"{'tokens':14s} {info['n_tokens']}")
            counts: dict[str, int] = {}
            for name, ne, t in info["tensors"]:
                counts[GGML_TYPE_NAMES[t]] = counts.get(GGML_TYPE_NAMES[t], 0) + 1
                if args.verbose:
                    print(f"  {name:48s} {str(ne):20s} {GGML_TYPE_NAMES[t]}")
            print(f"{'tensors':14s} {len(info['tensors'])} " + " ".join(f"{k}={v}" for k, v in sorted(counts.items())))
            return 0
        if not (args.model and args.assets and args.out):
            ap.error("model, --assets and --out are required")
        res = convert(args.model, args.assets, args.out, args.quantize, args.verbose)
        hp = res["hparams"]
        print(f"{args.out}: n_vocab={hp['n_vocab']} ({'multilingual' if res['multilingual'] else 'English-only'}) "
              f"layers={hp['n_audio_layer']}/{hp['n_text_layer']} state={hp['n_audio_state']} "
              f"ftype={res['ftype']} tensors={res['n_tensors']} tokens={res['n_tokens']}")
        return 0
    except ConversionError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
