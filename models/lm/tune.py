#!/usr/bin/env python3
"""Teach the language model the plugins' calls: a short fine-tune on requests
generated from the manifests' own sentences (both languages), compound requests
and out-of-domain chatter (answered `none`).

Runs inside models/.cache/lm-venv, between the GGUF loading and the ONNX model
builder (models/lm/convert.py `--tune`):

    tune.py HF_DIR [--steps N]

The base model continues patterns, it does not follow instructions: with a few
worked examples in the prompt it answered almost every open request `none`.
After this step the model maps a request straight to its calls with a short
prompt (`Request: ...\\nCalls:\\n`), and its general knowledge of words
("freezing", "refuel", "oven") carries over to requests the sentences never
named. Constrained decoding still decides which bytes are possible.

Training data (fixed seed, so every run sees the same rows):
  * every intent and language: requests expanded from the manifest sentences
    (models/nlu/datagen.py) with their slot values;
  * compound requests: two such requests joined ("and", "，然后") -> two calls;
  * chatter and questions (models/nlu/ood.py) -> `none`;
  * a few hand-written open requests (OPEN below).

Cost: the loss is computed over the vocabulary of the targets only (a few
thousand tokens instead of 262k) and the lower layers and the embedding stay
frozen, which keeps a CPU run to minutes. Writes the tuned weights back into
HF_DIR and `tune.json` (rows, steps, loss) next to them.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "models" / "nlu"))

SEED = 20261130
PER_INTENT = 26  # requests per intent and language
COMPOUND = 360
NONE_PER_LANG = 220
# Fixed, not the machine's core count: the same threads give the same sums.
THREADS = 2

# Open requests (not grammar sentences): how people talk when they do not
# name the function. Never the lines of the evaluation set
# (hw-test/corpus/lm_heldout.jsonl).
OPEN = [
    ("it's way too hot in here", [("climate.change_temperature", {"direction": "down"})]),
    ("I'm sweating like crazy", [("climate.change_temperature", {"direction": "down"})]),
    ("my hands are ice cold", [("climate.change_temperature", {"direction": "up"})]),
    ("我好冷啊", [("climate.change_temperature", {"direction": "up"})]),
    ("热得我满头大汗", [("climate.change_temperature", {"direction": "down"})]),
    ("the front glass is all misty", [("climate.defrost", {"target": "front", "state": "on"})]),
    ("后窗看不清了", [("climate.defrost", {"target": "rear", "state": "on"})]),
    ("put on some jazz", [("media.play", {"query": "jazz"})]),
    ("来点摇滚乐", [("media.play", {"query": "摇滚乐"})]),
    ("I'm sick of this track", [("media.next", {})]),
    ("这首不好听", [("media.next", {})]),
    ("the battery is almost empty", [("nav.find_poi", {"category": "charging_station"})]),
    ("电快用光了", [("nav.find_poi", {"category": "charging_station"})]),
    ("the tank is nearly empty", [("nav.find_poi", {"category": "gas_station"})]),
    ("I could eat a horse", [("nav.find_poi", {"category": "restaurant"})]),
    ("肚子咕咕叫了", [("nav.find_poi", {"category": "restaurant"})]),
    ("I really need a bathroom", [("nav.find_poi", {"category": "restroom"})]),
    ("I need somewhere to put the car", [("nav.find_poi", {"category": "parking"})]),
    ("车停哪儿好呢", [("nav.find_poi", {"category": "parking"})]),
    ("get my mum on the line", [("phone.call", {"contact": "mum"})]),
    ("帮我联系一下老王", [("phone.call", {"contact": "老王"})]),
    ("I can't hear the music", [("media.change_volume", {"direction": "up"})]),
    ("吵死了", [("media.change_volume", {"direction": "down"})]),
    ("my back is cold", [("seat.heat", {})]),
    ("后背好凉", [("seat.heat", {})]),
    ("my back is all sweaty", [("seat.ventilate", {})]),
    ("it's starting to drizzle", [("wipers.set", {"state": "on"})]),
    ("开始下雨了", [("wipers.set", {"state": "on"})]),
    ("it's stuffy in here", [("window.open", {})]),
    ("有点闷", [("window.open", {})]),
    ("it's getting dark in here", [("lights.ambient", {"state": "on"})]),
    ("车里太暗了", [("lights.ambient", {"state": "on"})]),
    ("is there enough fuel to get home", [("vehicle.query", {"signal": "range"})]),
    ("tell me a joke", []),
    ("今天星期几", []),
    ("what's the meaning of life", []),
    ("你觉得我今天穿得怎么样", []),
]


def log(msg: str) -> None:
    print(f"[lm-tune] {msg}", flush=True)


def fmt_num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


def calls_json(calls) -> str:
    """The output language of src/lm/schema.rs: compact JSON, `none` for nothing."""
    if not calls:
        return '[{"intent":"none","slots":{}}]'
    parts = []
    for name, slots in calls:
        body = []
        for k, v in slots.items():
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                body.append(f'"{k}":{fmt_num(float(v))}')
            else:
                body.append(f'"{k}":{json.dumps(str(v), ensure_ascii=False)}')
        parts.append('{"intent":"%s","slots":{%s}}' % (name, ",".join(body)))
    return "[" + ",".join(parts) + "]"


def usable(slots: dict, intent) -> bool:
    """Free text must fit the schema (at most 48 bytes, no quotes or backslashes)."""
    for k, v in slots.items():
        kind = intent.types[intent.slots[k]["type"]]["kind"]
        if kind == "text" and (len(str(v).encode()) > 48 or '"' in str(v) or "\\" in str(v)):
            return False
    return True


def make_rows(rng: random.Random) -> list[tuple[str, str]]:
    import datagen
    import ood
    from textnorm import join

    intents, _ = datagen.load_intents()
    intents = [it for it in intents if not it.name.startswith("dialog.")]
    singles: dict[str, list] = {"en": [], "zh": []}
    for it in intents:
        for lang in ("en", "zh"):
            tpls = it.templates.get(lang)
            if not tpls:
                continue
            ex = datagen.Expander(it, lang, rng)
            seen, tries = set(), 0
            while len(seen) < PER_INTENT and tries < PER_INTENT * 30:
                tries += 1
                s = ex.sample(rng.choice(tpls)[1])
                if s is None or not s.units:
                    continue
                text = join(s.units)
                if text in seen or not usable(s.slots, it):
                    continue
                seen.add(text)
                singles[lang].append((text, [(it.name, dict(s.slots))]))
    rows = []
    for lang in ("en", "zh"):
        rows.extend(singles[lang])
    for _ in range(COMPOUND):
        lang = rng.choice(("en", "zh"))
        (a, ca), (b, cb) = rng.sample(singles[lang], 2)
        if ca[0][0] == cb[0][0]:
            continue
        glue = rng.choice([" and ", " and then ", ", then ", " and also "]) if lang == "en" else \
            rng.choice(["，然后", "，再", "，顺便", "，还有", "然后"])
        rows.append((a + glue + b, ca + cb))
    for lang in ("en", "zh"):
        for text in ood.generate(ood.templates(lang), lang, NONE_PER_LANG, rng):
            rows.append((text, []))
    for text, calls in OPEN:
        for _ in range(3):  # the few open requests weigh a little more
            rows.append((text, calls))
    rng.shuffle(rows)
    return [(f"Request: {t}\nCalls:\n", calls_json(c)) for t, c in rows]


def train(hf_dir: Path, steps: int | None, threads: int) -> dict:
    import torch
    from transformers import AutoModelForCausalLM
    from tokenizers import Tokenizer

    torch.set_num_threads(threads)
    tk = Tokenizer.from_file(str(hf_dir / "tokenizer.json"))
    model = AutoModelForCausalLM.from_pretrained(str(hf_dir), dtype=torch.float32)
    report = tune_model(model, tk, steps)
    model.save_pretrained(str(hf_dir))
    (hf_dir / "tune.json").write_text(json.dumps(report, indent=1))
    return report


def tune_model(model, tk, steps: int | None) -> dict:
    """Fine-tunes `model` in place on the generated rows; returns a report."""
    import torch

    torch.manual_seed(SEED)
    rng = random.Random(SEED)
    rows = make_rows(rng)
    bos = tk.token_to_id("<bos>")
    enc = []
    for prompt, target in rows:
        p = [bos] + tk.encode(prompt, add_special_tokens=False).ids
        t = tk.encode(target, add_special_tokens=False).ids
        enc.append((p, t))
    # The loss is over the targets' own vocabulary: decisions the constraint
    # leaves open (intent, slot, value, text copied from the request) all use it.
    sub = sorted({i for _, t in enc for i in t})
    remap = {v: k for k, v in enumerate(sub)}
    log(f"{len(rows)} rows, target vocabulary {len(sub)} tokens")

    model.train()
    layers = model.model.layers
    frozen = len(layers) // 3
    for p in model.parameters():
        p.requires_grad = False
    params = []
    for layer in layers[frozen:]:
        params += list(layer.parameters())
    params += list(model.model.norm.parameters())
    for p in params:
        p.requires_grad = True
    head = model.lm_head.weight.detach()[sub]  # tied embedding rows, frozen
    batch = 16
    steps = steps or math.ceil(len(enc) / batch)
    opt = torch.optim.AdamW(params, lr=8e-5, weight_decay=0.0)
    warm = max(1, steps // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * max(0.0, (steps - s) / steps))
    t0, losses = time.time(), []
    for step in range(steps):
        chunk = [enc[(step * batch + k) % len(enc)] for k in range(batch)]
        seqs = [p + t for p, t in chunk]
        n = max(map(len, seqs))
        ids = torch.zeros(batch, n, dtype=torch.long)
        mask = torch.zeros(batch, n, dtype=torch.long)
        pos, labels = [], []
        for b, ((p, t), s) in enumerate(zip(chunk, seqs)):
            ids[b, : len(s)] = torch.tensor(s)
            mask[b, : len(s)] = 1
            for j, tok in enumerate(t):
                pos.append((b, len(p) - 1 + j))
                labels.append(remap[tok])
        hidden = model.model(input_ids=ids, attention_mask=mask).last_hidden_state
        h = hidden[[b for b, _ in pos], [j for _, j in pos]]
        logits = h @ head.T
        cap = getattr(model.config, "final_logit_softcapping", None)
        if cap:
            logits = torch.tanh(logits / cap) * cap
        loss = torch.nn.functional.cross_entropy(logits, torch.tensor(labels))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        opt.zero_grad()
        losses.append(loss.item())
        if step % 10 == 0 or step == steps - 1:
            log(f"step {step + 1}/{steps} loss {sum(losses[-10:]) / len(losses[-10:]):.4f} "
                f"({time.time() - t0:.0f} s)")
    model.eval()
    for p in model.parameters():
        p.requires_grad = False
    return {"rows": len(rows), "steps": steps, "batch": batch, "target_vocab": len(sub),
              "frozen_layers": frozen, "loss_first": losses[0], "loss_last10": sum(losses[-10:]) / 10,
              "seconds": round(time.time() - t0)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("hf_dir", type=Path)
    ap.add_argument("--steps", type=int, default=None, help="default: one pass over the rows")
    ap.add_argument("--threads", type=int, default=THREADS)
    args = ap.parse_args()
    log(json.dumps(train(args.hf_dir, args.steps, args.threads)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
