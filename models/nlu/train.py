#!/usr/bin/env python3
"""Train cabin-voice's intent model (the second understanding engine).

    python3 models/nlu/train.py            # everything: data, training, export, checks
    python3 models/nlu/train.py --quick    # smaller data and fewer epochs (a smoke run)

Runs itself in a private virtualenv (models/.cache/nlu-venv: numpy, onnx,
onnxruntime, pypinyin, pinned below), generates training data from the plugin
manifests (plugins/*/plugin.toml, plugins/types.toml) plus out-of-domain
utterances (ood.py), trains a hashed-feature MLP with numpy, exports it to
ONNX, quantizes it to INT8 and writes into models/nlu/:

    intent-int8.onnx        the model (input `features` [N, D] f32 -> `probs` [N, C] f32)
    labels.json             classes, feature config, threshold, slot cue lexicon
    feature_fixtures.json   featuriser and model outputs that the Rust tests compare with
    gen_heldout.jsonl       generated held-out utterances (template families never trained on)
    report.json             the numbers printed at the end

and records the sha256 of the model and labels in models/models.toml.
Seeds are fixed and the computation is single-process: the same inputs give the
same files. docs/NLU.md describes the features and the model.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import time
import venv
from pathlib import Path

HERE = Path(__file__).resolve().parent
MODELS = HERE.parent
ROOT = MODELS.parent
VENV = MODELS / ".cache" / "nlu-venv"
REQUIREMENTS = ["numpy==2.4.6", "onnx==1.23.2", "onnxruntime==1.32.0", "pypinyin==0.55.0"]

SEED = 20240607
DIM = 1 << 14
HIDDEN = 128
VERSION = 1


def ensure_venv() -> None:
    """Re-executes this script inside the private virtualenv (created on first use)."""
    py = VENV / "bin" / "python"
    if Path(sys.prefix).resolve() == VENV.resolve():
        return
    marker = VENV / "requirements.txt"
    if not (py.exists() and marker.exists() and marker.read_text().split() == REQUIREMENTS):
        print(f"setting up {VENV.relative_to(ROOT)} ({' '.join(REQUIREMENTS)})", flush=True)
        try:
            venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
        except Exception as e:
            sys.exit(f"error: cannot create a virtualenv in {VENV}: {e}\n  fix: apt-get install python3-venv")
        subprocess.run([str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *REQUIREMENTS],
                       check=True)
        marker.write_text("\n".join(REQUIREMENTS) + "\n")
    env = dict(os.environ)
    # One BLAS thread: the same float summation order on every machine.
    env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONHASHSEED="0")
    os.execve(str(py), [str(py), __file__, *sys.argv[1:]], env)


def log(msg: str) -> None:
    print(msg, flush=True)


# --------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small data, few epochs (smoke run; writes nothing)")
    ap.add_argument("--no-write", action="store_true", help="train and report, write nothing")
    args = ap.parse_args()
    ensure_venv()

    import random

    import numpy as np

    sys.path.insert(0, str(HERE))
    import datagen
    import ood
    from textnorm import features, join, units

    t_start = time.time()
    rng = random.Random(SEED)
    intents, _ = datagen.load_intents()
    classes = sorted(i.name for i in intents) + ["none"]
    cidx = {c: k for k, c in enumerate(classes)}
    NONE = cidx["none"]
    log(f"{len(intents)} intents, {len(classes)} classes")

    per_lang = 300 if args.quick else 1400  # training utterances per intent and language
    per_lang_ho = 60 if args.quick else 150
    none_train_n = 2000 if args.quick else 14000  # per language
    none_ho_n = 300 if args.quick else 1200
    epochs = 3 if args.quick else 10

    # ---------------------------------------------------------------- split
    held = {}
    for it in intents:
        for lang, tpls in it.templates.items():
            n = len(tpls)
            k = max(1, round(0.2 * n)) if n >= 4 else 0
            order = list(range(n))
            rng.shuffle(order)
            held[(it.name, lang)] = set(order[:k])

    allchars = set()
    for it in intents:
        for lang, tpls in it.templates.items():
            for s, _ in tpls:
                allchars.update(s)
    noise = datagen.Noise(allchars)

    def expand(it, lang, tpl_ids, n, r):
        ex = datagen.Expander(it, lang, r)
        tpls = it.templates[lang]
        out, tries = [], 0
        while len(out) < n and tries < n * 20:
            tries += 1
            k = r.choice(tpl_ids)
            s = ex.sample(tpls[k][1])
            if s is None or not s.units:
                continue
            missing = [name for name, d in it.slots.items() if d.get("required") and name not in s.slots]
            if missing:  # some sentences leave a required slot to a default elsewhere; keep them
                pass
            s.tpl = k
            out.append(s)
        return out

    # ---------------------------------------------------------------- data
    log("generating data ...")
    train_rows, ho_rows, clean_train = [], [], []
    for it in intents:
        for lang in ("en", "zh"):
            if lang not in it.templates:
                continue
            ids = list(range(len(it.templates[lang])))
            h = held[(it.name, lang)]
            tr_ids = [k for k in ids if k not in h]
            for s in expand(it, lang, ids, per_lang, rng):
                clean_train.append((it, lang, s))
            # model A (held-out evaluation) sees only tr_ids; model B sees all.
            for s in expand(it, lang, ids, per_lang, rng):
                us, dmg = datagen.augment(s.units, lang, rng, noise)
                train_rows.append((join(us), lang, it.name, s.tpl in h))
            if h:
                for s in expand(it, lang, sorted(h), per_lang_ho, rng):
                    noisy = rng.random() < 0.5
                    if noisy:
                        us, dmg = datagen.augment(s.units, lang, rng, noise)
                    else:
                        us, dmg = datagen.augment(s.units, lang, rng, noise, strength=0.0)
                        if rng.random() < 0.4:
                            us = units(rng.choice(datagen.PREFIX[lang])) + us
                    slots = {} if dmg else s.slots
                    ho_rows.append((join(us), lang, it.name, noisy, slots))

    none_train, none_ho = [], []
    for lang in ("en", "zh"):
        pairs = ood.templates(lang)
        order = list(range(len(pairs)))
        rng.shuffle(order)
        k = round(0.2 * len(pairs))
        ho_pairs = [pairs[i] for i in sorted(order[:k])]
        tr_pairs = [pairs[i] for i in sorted(order[k:])]
        for text in ood.generate(tr_pairs, lang, none_train_n, rng):
            us, _ = datagen.augment(units(text), lang, rng, noise, strength=0.7)
            none_train.append((join(us), lang))
        for text in ood.generate(ho_pairs, lang, none_ho_n, rng):
            noisy = rng.random() < 0.5
            us, _ = datagen.augment(units(text), lang, rng, noise, strength=0.7 if noisy else 0.0)
            none_ho.append((join(us), lang, noisy))

    # dedupe (keeps first occurrence: deterministic)
    def dedupe(rows, key=lambda r: r[0]):
        seen, out = set(), []
        for r in rows:
            if key(r) not in seen:
                seen.add(key(r))
                out.append(r)
        return out

    train_rows = dedupe(train_rows)
    none_train = dedupe(none_train)
    log(f"  in-domain training rows {len(train_rows)}, none {len(none_train)}; "
        f"held-out in-domain {len(ho_rows)}, none {len(none_ho)} ({time.time() - t_start:.0f} s)")

    # ---------------------------------------------------------------- features
    def featurise(texts):
        idx, val, ptr = [], [], [0]
        for t in texts:
            i, v = features(t, DIM)
            idx.extend(i)
            val.extend(v)
            ptr.append(len(idx))
        return (np.asarray(idx, np.int64), np.asarray(val, np.float32), np.asarray(ptr, np.int64))

    def dense(sp, rows):
        idx, val, ptr = sp
        X = np.zeros((len(rows), DIM), np.float32)
        for r, k in enumerate(rows):
            a, b = ptr[k], ptr[k + 1]
            X[r, idx[a:b]] = val[a:b]
        return X

    def dense_cols(sp, rows):
        """The batch restricted to the feature columns it uses: (X[:, U], U)."""
        idx, val, ptr = sp
        parts = [idx[ptr[k]:ptr[k + 1]] for k in rows]
        U = np.unique(np.concatenate(parts)) if parts else np.zeros(0, np.int64)
        X = np.zeros((len(rows), len(U)), np.float32)
        for r, k in enumerate(rows):
            a, b = ptr[k], ptr[k + 1]
            X[r, np.searchsorted(U, idx[a:b])] = val[a:b]
        return X, U

    # ---------------------------------------------------------------- model
    def train(texts, labels, seed, n_epochs):
        r = np.random.default_rng(seed)
        sp = featurise(texts)
        y = np.asarray(labels, np.int64)
        C = len(classes)
        counts = np.bincount(y, minlength=C).astype(np.float64)
        cw = (len(y) / (C * np.maximum(counts, 1))) ** 0.5  # softened balancing
        cw[NONE] *= 1.5  # a wrong actuation is worse than a refusal
        cw = cw.astype(np.float32)
        W1 = (r.standard_normal((DIM, HIDDEN)) * 0.05).astype(np.float32)
        b1 = np.zeros(HIDDEN, np.float32)
        W2 = (r.standard_normal((HIDDEN, C)) * (1.0 / np.sqrt(HIDDEN))).astype(np.float32)
        b2 = np.zeros(C, np.float32)
        params = [W1, b1, W2, b2]
        m = [np.zeros_like(p) for p in params]
        v = [np.zeros_like(p) for p in params]
        lr0, b1m, b2m, eps, wd, smooth, drop = 3e-3, 0.9, 0.999, 1e-8, 1e-5, 0.02, 0.15
        bs = 512
        n = len(y)
        steps = n_epochs * ((n + bs - 1) // bs)
        step = 0
        for ep in range(n_epochs):
            perm = r.permutation(n)
            tot, t0 = 0.0, time.time()
            for s0 in range(0, n, bs):
                rows = perm[s0:s0 + bs]
                X, U = dense_cols(sp, rows)
                W1u = W1[U]
                Y = np.full((len(rows), C), smooth / C, np.float32)
                Y[np.arange(len(rows)), y[rows]] += 1.0 - smooth
                w = cw[y[rows]]
                Hp = X @ W1u + b1
                H = np.maximum(Hp, 0)
                mask = (r.random(H.shape) >= drop).astype(np.float32) / (1 - drop)
                Hd = H * mask
                Z = Hd @ W2 + b2
                Z -= Z.max(axis=1, keepdims=True)
                P = np.exp(Z)
                P /= P.sum(axis=1, keepdims=True)
                loss = -(w[:, None] * Y * np.log(P + 1e-9)).sum() / w.sum()
                tot += float(loss) * len(rows)
                dZ = (P - Y) * (w[:, None] / w.sum())
                gW2 = Hd.T @ dZ
                gb2 = dZ.sum(0)
                dH = (dZ @ W2.T) * mask * (Hp > 0)
                gW1 = np.zeros_like(W1)
                gW1[U] = X.T @ dH
                gb1 = dH.sum(0)
                step += 1
                lr = lr0 * 0.5 * (1 + np.cos(np.pi * step / steps))
                for p, g, mm, vv in zip(params, [gW1, gb1, gW2, gb2], m, v):
                    mm *= b1m
                    mm += (1 - b1m) * g
                    vv *= b2m
                    vv += (1 - b2m) * g * g
                    mh = mm / (1 - b1m ** step)
                    vh = vv / (1 - b2m ** step)
                    p -= (lr * (mh / (np.sqrt(vh) + eps) + wd * p)).astype(np.float32)
            log(f"    epoch {ep + 1}/{n_epochs}: loss {tot / n:.4f} ({time.time() - t0:.0f} s)")
        return [p.copy() for p in params]

    def predict_np(params, texts):
        W1, b1, W2, b2 = params
        sp = featurise(texts)
        out = []
        for s0 in range(0, len(texts), 1024):
            rows = np.arange(s0, min(len(texts), s0 + 1024))
            H = np.maximum(dense(sp, rows) @ W1 + b1, 0)
            Z = H @ W2 + b2
            Z -= Z.max(axis=1, keepdims=True)
            P = np.exp(Z)
            out.append(P / P.sum(axis=1, keepdims=True))
        return np.concatenate(out) if out else np.zeros((0, len(classes)), np.float32)

    # Model A: without the held-out template families (in-domain and none).
    log("training model A (held-out families excluded) ...")
    a_rows = [r for r in train_rows if not r[3]]
    a_texts = [r[0] for r in a_rows] + [t for t, _ in none_train]
    a_labels = [cidx[r[2]] for r in a_rows] + [NONE] * len(none_train)
    params_a = train(a_texts, a_labels, SEED + 1, epochs)

    ho_texts = [r[0] for r in ho_rows] + [t for t, _, _ in none_ho]
    ho_y = np.asarray([cidx[r[2]] for r in ho_rows] + [NONE] * len(none_ho))
    ho_lang = [r[1] for r in ho_rows] + [l for _, l, _ in none_ho]
    ho_noisy = [r[3] for r in ho_rows] + [nz for _, _, nz in none_ho]
    P_a = predict_np(params_a, ho_texts)

    def decide(P, t):
        top = P.argmax(1)
        pm = P.max(1)
        return np.where((top != NONE) & (pm >= t), top, NONE)

    COST = 8.0  # a wrong actuation (or an out-of-domain request acted on) costs 8 refusals

    def calibrate(P, y, texts):
        """The threshold that maximises recall(in-domain) - COST * (wrong actuations +
        out-of-domain accepts), as rates over distinct texts of the held-out families;
        never below 0.5, and only where fewer than 3% of out-of-domain texts pass."""
        seen, keep = set(), []
        for k, t in enumerate(texts):
            if t not in seen:
                seen.add(t)
                keep.append(k)
        keep = np.asarray(keep)
        P, y = P[keep], y[keep]
        is_none = y == NONE
        best, best_score, curve = 0.95, -1e9, []
        for t in np.round(np.arange(0.50, 0.951, 0.05), 2):
            d = decide(P, t)
            recall = float((d[~is_none] == y[~is_none]).mean())
            wrong = float(((d[~is_none] != y[~is_none]) & (d[~is_none] != NONE)).mean())
            far = float((d[is_none] != NONE).mean())
            score = recall - COST * (wrong + far)
            curve.append({"t": float(t), "recall": recall, "wrong": wrong, "far": far})
            if far < 0.03 and score > best_score:
                best, best_score = float(t), score
        return best, curve

    # ---------------------------------------------------------------- model B
    threshold, curve = calibrate(P_a, ho_y, ho_texts)
    log(f"threshold {threshold:.2f} (from model A on the held-out families)")
    for row in curve:
        log("    t={t:.2f}: in-domain accepted right {recall:.3f}, wrong {wrong:.4f}; none accepted {far:.4f}".format(**row))

    # Model B, the one shipped: every family, in-domain and none.
    log("training model B (everything) ...")
    none_ho_texts = [t for t, _, _ in none_ho]
    b_texts = [r[0] for r in train_rows] + [t for t, _ in none_train] + none_ho_texts
    b_labels = [cidx[r[2]] for r in train_rows] + [NONE] * (len(none_train) + len(none_ho_texts))
    params_b = train(b_texts, b_labels, SEED + 2, epochs)

    def metrics(P, y, langs, noisy, t):
        d = decide(P, t)
        res = {}
        for lang in ("en", "zh", "all"):
            for kind in ("clean", "noisy", "all"):
                sel = np.array([(lang == "all" or l == lang) and (kind == "all" or (nz == (kind == "noisy")))
                                for l, nz in zip(langs, noisy)])
                if not sel.any():
                    continue
                ind = sel & (y != NONE)
                ood_sel = sel & (y == NONE)
                res[f"{lang}/{kind}"] = {
                    "n_in": int(ind.sum()), "n_none": int(ood_sel.sum()),
                    "intent_acc_in": float((d[ind] == y[ind]).mean()) if ind.any() else None,
                    "argmax_acc_in": float((P[ind].argmax(1) == y[ind]).mean()) if ind.any() else None,
                    "none_acc": float((d[ood_sel] == NONE).mean()) if ood_sel.any() else None,
                    "wrong_actuation_in": float(((d[ind] != y[ind]) & (d[ind] != NONE)).mean()) if ind.any() else None,
                }
        return res

    report = {"classes": len(classes), "dim": DIM, "hidden": HIDDEN, "threshold": threshold,
              "train_rows": len(b_texts), "heldout_families": metrics(P_a, ho_y, ho_lang, ho_noisy, threshold),
              "threshold_curve": curve}

    # ---------------------------------------------------------------- external sets (report only)
    ext = {}
    for name, path in [("nlu_heldout", ROOT / "tests" / "data" / "nlu_heldout.jsonl"),
                       ("nlu_dev", ROOT.parent / "shared" / "eval" / "nlu_dev.jsonl")]:
        if path.is_file():
            rows = [json.loads(l) for l in path.read_text(encoding="utf-8").splitlines() if l.strip()]
            ext[name] = rows

    # ---------------------------------------------------------------- ONNX export + quantization
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper
    from onnxruntime.quantization import QuantType, quantize_dynamic

    W1, b1, W2, b2 = params_b
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["features", "W1"], ["h0"]),
            helper.make_node("Add", ["h0", "b1"], ["h1"]),
            helper.make_node("Relu", ["h1"], ["h"]),
            helper.make_node("MatMul", ["h", "W2"], ["z0"]),
            helper.make_node("Add", ["z0", "b2"], ["logits"]),
            helper.make_node("Softmax", ["logits"], ["probs"], axis=-1),
        ],
        "cabin_voice_intent",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", DIM])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["N", len(classes)])],
        [numpy_helper.from_array(W1, "W1"), numpy_helper.from_array(b1, "b1"),
         numpy_helper.from_array(W2, "W2"), numpy_helper.from_array(b2, "b2")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="cabin-voice-train",
                              producer_version=str(VERSION))
    model.ir_version = 8
    onnx.checker.check_model(model)
    tmp = MODELS / ".cache" / "nlu-build"
    tmp.mkdir(parents=True, exist_ok=True)
    f32_path = tmp / "intent-f32.onnx"
    onnx.save(model, str(f32_path))
    q_paths = {}
    for pc in (False, True):
        qp = tmp / f"intent-int8{'-pc' if pc else ''}.onnx"
        quantize_dynamic(str(f32_path), str(qp), weight_type=QuantType.QInt8, per_channel=pc)
        q_paths[pc] = qp

    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1

    def ort_predict(path, texts):
        # One utterance per run, as the engine does: dynamic quantization scales
        # the input per tensor, so a batch would change the numbers slightly.
        sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
        sp = featurise(texts)
        out = [sess.run(["probs"], {"features": dense(sp, [k])})[0] for k in range(len(texts))]
        return np.concatenate(out) if out else np.zeros((0, len(classes)), np.float32)

    # Evaluate float and int8 on B's view: never-seen none families + external sets.
    def ext_metrics(P, rows, t):
        d = decide(P, t)
        y = np.asarray([cidx.get(r["intent"], NONE) for r in rows])
        res = {}
        for lang in ("en", "zh"):
            sel = np.array([r["lang"] == lang for r in rows])
            if sel.any():
                res[lang] = {"n": int(sel.sum()), "intent_acc": float((d[sel] == y[sel]).mean()),
                             "wrong_actuation": float(((d[sel] != y[sel]) & (d[sel] != NONE)).mean())}
        return res

    variants = {"float32": f32_path, "int8": q_paths[False], "int8-per-channel": q_paths[True]}
    quant = {}
    for vname, path in variants.items():
        P_none = ort_predict(path, none_ho_texts)
        entry = {"bytes": path.stat().st_size,
                 "none_heldout_acc (trained on)": float((decide(P_none, threshold) == NONE).mean())}
        for name, rows in ext.items():
            entry[name] = ext_metrics(ort_predict(path, [r["text"] for r in rows]), rows, threshold)
        quant[vname] = entry
        log(f"  {vname}: {entry['bytes'] / 1e6:.2f} MB, "
            + ", ".join(f"{n} " + " ".join(f"{l}={v['intent_acc']:.3f}" for l, v in entry[n].items()) for n in ext))
    # Agreement float vs int8 on the held-out rows.
    P_f = ort_predict(f32_path, ho_texts[:2000])
    for pc in (False, True):
        P_q = ort_predict(q_paths[pc], ho_texts[:2000])
        quant["int8-per-channel" if pc else "int8"]["argmax_agreement_with_float"] = float(
            (P_f.argmax(1) == P_q.argmax(1)).mean())
        quant["int8-per-channel" if pc else "int8"]["max_abs_prob_diff"] = float(np.abs(P_f - P_q).max())
    pick = True if quant["int8-per-channel"]["argmax_agreement_with_float"] > quant["int8"]["argmax_agreement_with_float"] + 0.002 else False
    chosen = q_paths[pick]
    report["quantization"] = quant
    report["chosen"] = "int8-per-channel" if pick else "int8"
    log(f"  chosen: {report['chosen']}")

    # ---------------------------------------------------------------- slot cue lexicon
    lex = build_lexicon(intents, clean_train)

    report["seconds"] = round(time.time() - t_start, 1)
    print(json.dumps({k: report[k] for k in ("threshold", "chosen")}, indent=1))
    print(json.dumps(report["heldout_families"], indent=1))
    if args.quick or args.no_write:
        log("not writing (--quick / --no-write)")
        return 0

    # ---------------------------------------------------------------- write
    out_model = HERE / "intent-int8.onnx"
    out_model.write_bytes(chosen.read_bytes())
    labels = {
        "version": VERSION,
        "classes": classes,
        "none": "none",
        "threshold": threshold,
        "features": {"dim": DIM, "hash": "fnv1a64", "unigram_prefix": "u:", "bigram_prefix": "b:",
                     "bigram_join": "|", "bos": "<s>", "eos": "</s>", "trigram_prefix": "c:",
                     "word_start": "^", "word_end": "$", "digit_shape": "0", "max_units": 128,
                     "value": "count, L2-normalised"},
        "input": "features", "output": "probs",
        "slots": lex,
    }
    (HERE / "labels.json").write_text(json.dumps(labels, ensure_ascii=False, indent=1, sort_keys=False) + "\n",
                                      encoding="utf-8")

    fixtures_text = [
        "turn on the ac", "set the temperature to 21.5 degrees please", "Open the Driver's window 30%",
        "打开空调", "温度调到二十一点五度", "把副驾车窗打开一半", "你好小舱，帮我导航去首都机场",
        "what's the weather like tomorrow", "今天股市怎么样", "play Taylor Swift on spotify", "去T3航站楼",
        "ｓｅｔ　ｆａｎ　ｔｏ　３", "I'm cold", "", "?!", "hey cabin 我有点冷", "résumé naïve café",
    ]
    P_fix = ort_predict(out_model, fixtures_text)
    fx = []
    for t, p in zip(fixtures_text, P_fix):
        i, v = features(t, DIM)
        fx.append({"text": t, "units": units(t), "features": [[a, round(float(b), 7)] for a, b in zip(i, v)],
                   "top": classes[int(p.argmax())], "prob": round(float(p.max()), 6)})
    (HERE / "feature_fixtures.json").write_text(
        json.dumps({"dim": DIM, "fixtures": fx}, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")

    with open(HERE / "gen_heldout.jsonl", "w", encoding="utf-8") as f:
        sub = random.Random(SEED + 3)
        picked = sorted(sub.sample(range(len(ho_rows)), min(1200, len(ho_rows))))
        for k in picked:
            text, lang, intent, noisy, slots = ho_rows[k]
            f.write(json.dumps({"text": text, "lang": lang, "intent": intent, "noisy": noisy,
                                "slots": {a: (int(b) if isinstance(b, float) and b == int(b) else b)
                                          for a, b in slots.items()}}, ensure_ascii=False) + "\n")
        for k in sorted(sub.sample(range(len(none_ho)), min(400, len(none_ho)))):
            text, lang, noisy = none_ho[k]
            f.write(json.dumps({"text": text, "lang": lang, "intent": "none", "noisy": noisy, "slots": {}},
                               ensure_ascii=False) + "\n")

    report["size_float32"] = f32_path.stat().st_size
    report["size_int8"] = out_model.stat().st_size
    (HERE / "report.json").write_text(json.dumps(report, indent=1) + "\n")
    update_models_toml(out_model, HERE / "labels.json")
    log(f"wrote {out_model.relative_to(ROOT)} ({out_model.stat().st_size / 1e6:.2f} MB), labels.json, "
        f"feature_fixtures.json, gen_heldout.jsonl, report.json in {time.time() - t_start:.0f} s")
    return 0


# --------------------------------------------------------------------------
# Slot cue lexicon: n-grams that, within one intent, say which value a slot has
# --------------------------------------------------------------------------


def build_lexicon(intents, clean_train, max_n=3, min_support=4, min_precision=0.97):
    """For each intent, language and enum-like slot (enum type, or values fixed by
    `{slot=value}` in its sentences): n-grams (n <= 3 units) found with one value in
    at least `min_precision` of the intent's generated sentences that contain
    them, and n-grams of enum synonyms that are ambiguous within the intent."""
    from collections import Counter, defaultdict

    from textnorm import units

    by = defaultdict(list)
    for it, lang, s in clean_train:
        by[(it.name, lang)].append(s)
    lex = {}
    for it in intents:
        for lang in ("en", "zh"):
            samples = by.get((it.name, lang), [])
            if not samples:
                continue
            positions = []
            for s in samples:
                pos = defaultdict(list)
                for n in range(1, max_n + 1):
                    for i in range(len(s.units) - n + 1):
                        pos[" ".join(s.units[i:i + n])].append(i)
                positions.append(pos)
            for slot, d in sorted(it.slots.items()):
                ty = it.types[d["type"]]
                is_enum = ty["kind"] == "enum"
                has_fixed = any(slot in s.fixed for s in samples)
                if not (is_enum or has_fixed):
                    continue
                cg, cgv = Counter(), Counter()
                for s in samples:
                    grams = set()
                    for n in range(1, max_n + 1):
                        for i in range(len(s.units) - n + 1):
                            grams.add(" ".join(s.units[i:i + n]))
                    val = s.slots.get(slot) if (is_enum or slot in s.fixed) else None
                    for g in grams:
                        cg[g] += 1
                        if val is not None:
                            cgv[(g, val)] += 1
                cues = []
                for (g, val), c in cgv.items():
                    prec = c / cg[g]
                    if c >= min_support and prec >= min_precision:
                        cues.append((g, val, c))
                # drop a cue when a shorter cue inside it already says the same
                keep = {}
                for g, val, c in sorted(cues, key=lambda x: (len(x[0].split()), -x[2], x[0])):
                    parts = g.split()
                    sub = any(" ".join(parts[i:j]) in keep and keep[" ".join(parts[i:j])][0] == val
                              for i in range(len(parts)) for j in range(i + 1, len(parts) + 1)
                              if (i, j) != (0, len(parts)))
                    if not sub:
                        keep[g] = (val, c)
                # A synonym is ambiguous within the intent when, in at least 10% of its
                # occurrences, it stands outside the slot in a sentence whose value for
                # the slot is another one or none ("热" in 好热{direction=down}).
                amb = []
                if is_enum:
                    for vname, v in sorted(ty["values"].items()):
                        for syn in v.get(lang, []):
                            if any(ch in syn for ch in "()[]|{"):
                                continue
                            gu = units(syn)
                            g = " ".join(gu)
                            if not g or len(gu) > max_n or g in keep:
                                continue
                            total = contra = 0
                            for s, pos in zip(samples, positions):
                                for i in pos.get(g, ()):
                                    total += 1
                                    span = s.spans.get(slot)
                                    inside = span is not None and span[0] <= i and i + len(gu) <= span[1]
                                    if not inside and s.slots.get(slot) != vname:
                                        contra += 1
                            if total and contra / total >= 0.1:
                                amb.append(g)
                items = sorted(keep.items(), key=lambda kv: (-kv[1][1], kv[0]))[:400]
                entry = lex.setdefault(it.name, {}).setdefault(slot, {})
                entry[lang] = {"cues": [[g, (int(v) if isinstance(v, float) and v == int(v) else v)]
                                        for g, (v, c) in sorted(items)],
                               "ambiguous": sorted(set(amb))}
    return lex


# --------------------------------------------------------------------------
# models.toml
# --------------------------------------------------------------------------


def update_models_toml(model: Path, labels: Path) -> None:
    """Adds or updates the [[model]] entries of the committed intent model and labels."""
    path = MODELS / "models.toml"
    text = path.read_text()

    def entry(name, kind, file, desc):
        p = MODELS / file
        sha = hashlib.sha256(p.read_bytes()).hexdigest()
        return (f'[[model]]\nname = "{name}"\ngroup = "nlu"\nkind = "{kind}"\nfile = "{file}"\n'
                f'sha256 = "{sha}"\nsize = {p.stat().st_size}\nlicence = "Apache-2.0"\n'
                f'description = "{desc}"\ncommitted = true\n')

    block = ("# Intent model: committed to the repository (not built by install.py),\n"
             "# written by `python3 models/nlu/train.py`, which updates these entries.\n\n"
             + entry("nlu-intent", "nlu-onnx", "nlu/intent-int8.onnx",
                     "Intent classifier (hashed n-gram MLP, INT8), the second understanding engine")
             + "\n"
             + entry("nlu-labels", "nlu-onnx", "nlu/labels.json",
                     "Classes, feature config, threshold and slot cues of nlu/intent-int8.onnx"))
    begin, end = "# --- nlu (generated by models/nlu/train.py) ---\n", "# --- end nlu ---\n"
    if begin in text and end in text:
        text = re.sub(re.escape(begin) + r".*?" + re.escape(end), lambda _: begin + block + end, text, flags=re.S)
    else:
        text = text.rstrip("\n") + "\n\n" + begin + block + end
    path.write_text(text)


if __name__ == "__main__":
    sys.exit(main())
