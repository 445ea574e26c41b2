//! Per-utterance latency of understanding, per engine: reads utterances (plain
//! lines or JSONL with a "text" field) and prints p50/p99/max per engine.
//!
//! usage: nlu-bench FILE [--repeat N]

use cabin_voice::config::Config;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(file) = args.get(1) else {
        eprintln!("usage: nlu-bench FILE [--repeat N]");
        std::process::exit(2);
    };
    let repeat: usize = args
        .iter()
        .position(|a| a == "--repeat")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(20);
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{file}: {e}"));
    let lines: Vec<String> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l)
                .ok()
                .and_then(|v| v.get("text").and_then(|t| t.as_str()).map(str::to_string))
                .unwrap_or_else(|| l.to_string())
        })
        .collect();
    let cfg = Config::default();
    let reg = cabin_voice::app::load_registry(&cfg).expect("plugins");
    let t0 = Instant::now();
    let router = cabin_voice::app::build_router(&cfg, &reg).expect("router");
    println!(
        "startup: grammar compile {:.1} ms",
        t0.elapsed().as_secs_f64() * 1e3
    );
    let mut by_engine: std::collections::BTreeMap<String, Vec<f64>> = Default::default();
    let mut slowest: Vec<(f64, &str)> = Vec::new();
    for r in 0..repeat {
        for l in &lines {
            let t = Instant::now();
            let i = router.understand(l);
            let us = t.elapsed().as_secs_f64() * 1e6;
            by_engine.entry(i.engine.clone()).or_default().push(us);
            if r == 0 {
                slowest.push((us, l));
            }
        }
    }
    slowest.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (us, l) in slowest.iter().take(5) {
        println!("slow: {us:.0} us  {l}");
    }
    for (engine, mut v) in by_engine {
        v.sort_by(|a, b| a.total_cmp(b));
        let q = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize];
        println!(
            "{engine:<8} n={:<6} p50={:.1} us  p99={:.1} us  max={:.1} us",
            v.len(),
            q(0.5),
            q(0.99),
            v[v.len() - 1]
        );
    }
}
