//! The language model on this machine: load time, first-token latency,
//! tokens/s, end-to-end time of a 2-call request, peak memory, and the frame
//! accuracy gain on held-out paraphrases the grammar misses
//! (hw-test/corpus/lm_heldout.jsonl, never used in the prompt or tests).
//!
//! usage: lm-bench [--corpus FILE] [--text "request"]...
//!
//! Needs the installed model (`python3 models/install.py --only lm`).

use cabin_voice::config::Config;
use cabin_voice::lm::LanguageModel;
use cabin_voice::nlu::{Intent, SlotValue};
use serde_json::Value;
use std::time::Instant;

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Does `got` match the expected calls (intent names in order, and every
/// expected slot value)?
fn frame_ok(got: &[Intent], want: &[Value]) -> bool {
    if got.len() != want.len() {
        return false;
    }
    got.iter().zip(want).all(|(g, w)| {
        if w["intent"].as_str() != Some(g.intent.as_str()) {
            return false;
        }
        let Some(slots) = w["slots"].as_object() else {
            return true;
        };
        slots.iter().all(|(k, v)| match (g.slots.get(k), v) {
            (Some(SlotValue::Num(n)), Value::Number(m)) => Some(*n) == m.as_f64(),
            (Some(SlotValue::Str(s)), Value::String(t)) => s == t,
            _ => false,
        })
    })
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let corpus = args
        .iter()
        .position(|a| a == "--corpus")
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| {
            concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/lm_heldout.jsonl").to_string()
        });
    let texts: Vec<String> = args
        .iter()
        .enumerate()
        .filter(|(_, a)| *a == "--text")
        .filter_map(|(i, _)| args.get(i + 1).cloned())
        .collect();
    let mut cfg = Config::default();
    cfg.lm.enabled = true;
    let reg = cabin_voice::app::load_registry(&cfg).expect("plugins");
    let rss0 = peak_rss_mb();
    let t0 = Instant::now();
    let Some(lm) = cabin_voice::lm::from_config(&cfg, &reg) else {
        eprintln!("language model not installed: python3 models/install.py --only lm");
        std::process::exit(1);
    };
    println!(
        "load: {:.0} ms (prompt prefix {} tokens cached), peak RSS {:.0} MB (before: {:.0} MB)",
        t0.elapsed().as_secs_f64() * 1e3,
        lm.prefix_tokens(),
        peak_rss_mb(),
        rss0
    );
    if args.iter().any(|a| a == "--prompt") {
        print!(
            "{}",
            cabin_voice::lm::prompt::prefix(lm.schema(), lm.style())
        );
        return;
    }
    if !texts.is_empty() {
        for t in &texts {
            show(&lm, t);
        }
        return;
    }
    // Speed: a 2-call request, three times (the first warms the caches).
    let two = "I'm cold and the windscreen is fogging up";
    let mut runs = Vec::new();
    for _ in 0..3 {
        match lm.generate(two, &mut |_| {}) {
            Ok(g) => runs.push(g),
            Err(e) => println!("2-call request: {two:?}: {e}"),
        }
    }
    if let Some(g) = runs.last() {
        println!("2-call request: {two:?} -> {}", g.text);
    }
    for (i, r) in runs.iter().enumerate() {
        println!(
            "  run {}: {} request tokens, {} generated, first token {:.0} ms, {:.1} tokens/s, end to end {:.0} ms",
            i + 1,
            r.prompt_tokens - lm.prefix_tokens(),
            r.tokens,
            r.first_token_ms,
            r.tokens_per_s(),
            r.total_ms
        );
    }
    // Accuracy: held-out paraphrases, router without and with the model.
    let text = std::fs::read_to_string(&corpus).unwrap_or_else(|e| panic!("{corpus}: {e}"));
    let mut no_lm_cfg = cfg.clone();
    no_lm_cfg.lm.enabled = false;
    let base = cabin_voice::app::build_router(&no_lm_cfg, &reg).expect("router");
    let full = cabin_voice::app::build_router(&no_lm_cfg, &reg)
        .expect("router")
        .with_engine(Box::new(lm));
    for _ in 0..2 {
        let t = Instant::now();
        let got = full.understand_all(two);
        let names = describe(&got);
        println!(
            "2-call request through the router (whole, then per clause): {} in {:.0} ms",
            names.join(" + "),
            t.elapsed().as_secs_f64() * 1e3
        );
    }
    let (mut n, mut ok_base, mut ok_lm, mut ms) = (0, 0, 0, Vec::new());
    // (lines, right without the model, right with it): en requests, zh requests, chatter.
    let mut groups = [(0usize, 0usize, 0usize); 3];
    let (mut wrong_base, mut wrong_lm) = (0usize, 0usize);
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let item: Value = serde_json::from_str(line).expect("corpus line is JSON");
        let utt = item["text"].as_str().unwrap_or_default();
        let want = item["calls"].as_array().cloned().unwrap_or_default();
        let b: Vec<Intent> = base
            .understand_all(utt)
            .into_iter()
            .filter(|i| i.intent != "none")
            .collect();
        let base_ok = frame_ok(&b, &want);
        // The assistant's order: the earlier engines first (whole, then per
        // clause), the model when they have nothing.
        let l = if b.is_empty() {
            let t = Instant::now();
            let l: Vec<Intent> = full
                .understand_all(utt)
                .into_iter()
                .filter(|i| i.intent != "none")
                .collect();
            ms.push(t.elapsed().as_secs_f64() * 1e3);
            l
        } else {
            b.clone()
        };
        let lm_ok = frame_ok(&l, &want);
        n += 1;
        ok_base += base_ok as usize;
        ok_lm += lm_ok as usize;
        let zh = utt.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
        let group = match (want.is_empty(), zh) {
            (true, _) => &mut groups[2],
            (false, false) => &mut groups[0],
            (false, true) => &mut groups[1],
        };
        group.0 += 1;
        group.1 += base_ok as usize;
        group.2 += lm_ok as usize;
        // A call where none or another call was wanted: a wrong actuation.
        wrong_base += (!b.is_empty() && !base_ok) as usize;
        wrong_lm += (!l.is_empty() && !lm_ok) as usize;
        let names = describe(&l);
        println!(
            "{} {} {:<48} -> {}",
            if base_ok { "G" } else { "-" },
            if lm_ok { "L" } else { "-" },
            utt,
            names.join(" + ")
        );
    }
    ms.sort_by(f64::total_cmp);
    let pct = |k: usize| 100.0 * k as f64 / n.max(1) as f64;
    println!(
        "frame accuracy on {n} held-out paraphrases: without the model {:.0}% ({ok_base}/{n}), with it {:.0}% ({ok_lm}/{n}), gain {:+.0} points; language model on {} of them, p50 {:.0} ms, max {:.0} ms",
        pct(ok_base),
        pct(ok_lm),
        pct(ok_lm) - pct(ok_base),
        ms.len(),
        ms.get(ms.len() / 2).copied().unwrap_or(0.0),
        ms.last().copied().unwrap_or(0.0)
    );
    for (name, (k, b, l)) in ["English requests", "Mandarin requests", "chatter (none)"]
        .iter()
        .zip(groups)
    {
        println!("  {name}: {b}/{k} without the model, {l}/{k} with it");
    }
    println!("  wrong calls (a call where none or another was wanted): {wrong_base} without the model, {wrong_lm} with it");
    println!("peak RSS {:.0} MB", peak_rss_mb());
}

/// "intent {slots}" of each call.
fn describe(calls: &[Intent]) -> Vec<String> {
    calls
        .iter()
        .map(|i| {
            format!(
                "{} {}",
                i.intent,
                cabin_voice::scheduler::slots_json(&i.slots)
            )
        })
        .collect()
}

fn show(lm: &LanguageModel, text: &str) {
    let t = Instant::now();
    let mut first = None;
    let g = lm.generate(text, &mut |p| {
        if first.is_none() {
            first = Some(t.elapsed());
        }
        print!("{p}");
    });
    println!();
    match g {
        Ok(g) => println!(
            "  {} tokens, first {:.0} ms, {:.1} tok/s, total {:.0} ms, confidence {:.2}, least sure step {:.2}",
            g.tokens,
            g.first_token_ms,
            g.tokens_per_s(),
            g.total_ms,
            g.confidence,
            g.least
        ),
        Err(e) => println!("  error: {e}"),
    }
}
