//! Recognition and understanding accuracy from speech, in one process: renders
//! the corpus (see docs/BENCH.md), loads the recogniser once per decoding variant
//! and prints, per variant, language and noise condition, the word error rate
//! (character error rate for Mandarin), intent and frame accuracy, and the
//! recognition time. The language is forced to the utterance's.
//!
//!   speech-eval [--corpus small|full] [--langs zh,en] [--snrs clean,10dB]
//!               [--voices kokoro:zf_xiaoxiao,...] [--variants default,plain,...]
//!               [--limit N] [--out FILE.json]
//!
//! Variants (comma-separated `+` combinations of): `default` (the configuration's
//! defaults), `plain` (no prompt, greedy, no grammar), `prompt`, `beam5`, `grammar`, `nogrammar`,
//! `regretN` (the grammar pass's largest regret), `fit` / `nofit` (encoder window sized
//! to the clip or the full 30 s).

use cabin_voice::app;
use cabin_voice::asr::{Lang, Recognizer};
use cabin_voice::config::Config;
use cabin_voice_hw_test::{corpus, metrics};
use serde_json::{json, Value};
use std::time::Instant;

fn fail(msg: impl std::fmt::Display) -> ! {
    eprintln!("speech-eval: {msg}");
    std::process::exit(1)
}

fn list(args: &[String], name: &str, default: &str) -> Vec<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
        .unwrap_or(default)
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// The configuration of a variant: `plain` switches every lever off, the others on.
fn variant_config(base: &Config, variant: &str) -> Config {
    let mut cfg = base.clone();
    for part in variant.split('+') {
        match part {
            "default" => {}
            "plain" => {
                cfg.asr.domain_prompt = false;
                cfg.asr.beam_size = 1;
                cfg.asr.grammar = false;
            }
            "grammar" => cfg.asr.grammar = true,
            "nogrammar" => cfg.asr.grammar = false,
            r if r.starts_with("regret") => {
                cfg.asr.grammar_max_regret = r[6..]
                    .parse()
                    .unwrap_or_else(|_| fail(format!("bad variant part {r:?}")))
            }
            "prompt" => cfg.asr.domain_prompt = true,
            "noprompt" => cfg.asr.domain_prompt = false,
            "greedy" => cfg.asr.beam_size = 1,
            "beam5" => cfg.asr.beam_size = 5,
            "fit" => cfg.asr.fit_audio_ctx = true,
            // fitN: the fitted window, at least N seconds.
            f if f.starts_with("fit") && f[3..].parse::<u32>().is_ok() => {
                cfg.asr.fit_audio_ctx = true;
                cfg.asr.fit_min_ms = f[3..].parse::<u32>().unwrap_or(3) * 1000;
            }
            "nofit" => cfg.asr.fit_audio_ctx = false,
            "denoise" => cfg.asr.denoise = true,
            "nodenoise" => cfg.asr.denoise = false,
            "near" => cfg.asr.grammar_near = true,
            "nonear" => cfg.asr.grammar_near = false,
            other => fail(format!("unknown variant part {other:?}")),
        }
    }
    cfg
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let size = corpus::Size::parse(&list(&args, "--corpus", "small")[0])
        .unwrap_or_else(|| fail("--corpus: tiny, small or full"));
    let langs = list(&args, "--langs", "zh,en");
    let snrs = list(&args, "--snrs", "clean,10dB");
    let variants = list(&args, "--variants", "default");
    let limit: usize = list(&args, "--limit", "100000")[0]
        .parse()
        .unwrap_or_else(|e| fail(e));
    let out = list(&args, "--out", "")
        .first()
        .cloned()
        .map(std::path::PathBuf::from);

    let utts = corpus::load(&corpus::corpus_file()).unwrap_or_else(|e| fail(e));
    let dir = cabin_voice_hw_test::workspace_root().join("target/speech-eval/corpus");
    let opts = corpus::RenderOpts {
        size,
        wake: false,
        seed: 42,
        voices: list(&args, "--voices", ""),
    };
    let items = corpus::render(&utts, &dir, &opts).unwrap_or_else(|e| fail(e));
    let mut items: Vec<_> = items
        .into_iter()
        .filter(|i| i.wav.is_some() && langs.contains(&i.utt.lang) && snrs.contains(&i.condition))
        .collect();
    // Interleave languages so that --limit keeps both.
    items.sort_by_key(|i| {
        (
            i.condition.clone(),
            i.utt.id[2..].to_string(),
            i.utt.lang.clone(),
        )
    });
    items.truncate(limit);
    eprintln!("speech-eval: {} files", items.len());

    let base = Config::default();
    let reg = app::load_registry(&base).unwrap_or_else(|e| fail(e));
    let router = app::build_router(&base, &reg).unwrap_or_else(|e| fail(e));
    let mut results = Vec::new();
    for variant in &variants {
        let cfg = variant_config(&base, variant);
        let mut rec = app::build_recognizer(&cfg, Some(&reg));
        let mut rows = Vec::new();
        for item in &items {
            let wav = item.wav.as_deref().unwrap_or_else(|| fail("no wav"));
            let clip = cabin_voice::audio::Clip::from_wav(wav).unwrap_or_else(|e| fail(e));
            let lang = if item.utt.lang == "zh" {
                Lang::Zh
            } else {
                Lang::En
            };
            let t0 = Instant::now();
            let t = rec
                .transcribe(&clip.samples, lang)
                .unwrap_or_else(|e| fail(e));
            let ms = t0.elapsed().as_millis() as u64;
            let intent = router.understand(&t.text);
            let slots = serde_json::to_value(&intent.slots).unwrap_or(Value::Null);
            let (errs, n) = metrics::word_errors(&item.reference, &t.text);
            let intent_ok = intent.intent == item.utt.intent;
            let frame_ok = intent_ok && metrics::slot_errors(&item.utt.slots, &slots).is_empty();
            eprintln!(
                "{variant}\t{}\t{}\t{}\t{}\t{}{}\t{errs}/{n}\t{}\t{ms} ms",
                item.utt.id,
                item.voice.as_deref().unwrap_or(""),
                item.condition,
                item.reference,
                t.text,
                match (&t.free_text, t.grammar_regret) {
                    (Some(f), Some(r)) => {
                        let fi = router.understand(f);
                        let fs = serde_json::to_value(&fi.slots).unwrap_or(Value::Null);
                        let fok = fi.intent == item.utt.intent
                            && metrics::slot_errors(&item.utt.slots, &fs).is_empty();
                        format!(
                            " (free: {f} {}; regret {r:.2})",
                            if fok { "ok" } else { "WRONG" }
                        )
                    }
                    (None, Some(r)) => format!(" (regret {r:.2})"),
                    _ => String::new(),
                },
                if frame_ok { "ok" } else { "WRONG" }
            );
            rows.push((item, errs, n, intent_ok, frame_ok, ms, t.text));
        }
        for lang in &langs {
            for cond in &snrs {
                let g: Vec<_> = rows
                    .iter()
                    .filter(|r| &r.0.utt.lang == lang && &r.0.condition == cond)
                    .collect();
                if g.is_empty() {
                    continue;
                }
                let n = g.len() as f64;
                let errs: usize = g.iter().map(|r| r.1).sum();
                let words: usize = g.iter().map(|r| r.2).sum();
                let mut ms: Vec<f64> = g.iter().map(|r| r.5 as f64).collect();
                ms.sort_by(|a, b| a.total_cmp(b));
                let r = json!({
                    "variant": variant, "lang": lang, "condition": cond, "n": g.len(),
                    "error_rate": errs as f64 / words.max(1) as f64,
                    "intent_accuracy": g.iter().filter(|r| r.3).count() as f64 / n,
                    "frame_accuracy": g.iter().filter(|r| r.4).count() as f64 / n,
                    "asr_ms_p50": metrics::percentile(&ms, 50.0),
                    "asr_ms_mean": ms.iter().sum::<f64>() / n,
                });
                println!("{r}");
                results.push(r);
            }
        }
    }
    if let Some(p) = out {
        std::fs::write(
            &p,
            serde_json::to_string_pretty(&results).unwrap_or_default(),
        )
        .unwrap_or_else(|e| fail(format!("{}: {e}", p.display())));
    }
}
