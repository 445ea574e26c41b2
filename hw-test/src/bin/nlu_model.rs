//! The intent model engine from the command line: evaluation, latency, a line filter.
//!
//!     cargo run --release -p cabin-voice-hw-test --bin nlu-model -- eval tests/data/nlu_heldout.jsonl ../shared/eval/nlu_dev.jsonl
//!     cargo run --release -p cabin-voice-hw-test --bin nlu-model -- bench
//!     echo "could we get some air conditioning" | cargo run --release -p cabin-voice-hw-test --bin nlu-model -- lines
//!     ... -- lines --grammar-only     (the grammar alone, for comparison)
//!
//! `lines` prints one JSON intent per input line, like `cabin-voice nlu`, so
//! `shared/eval/score_nlu.py SET.jsonl -- target/release/nlu-model lines` scores it.
//! Paths are relative to the repository root (run it from there).

use cabin_voice::nlu::model::IntentModel;
use cabin_voice::nlu::{Grammar, Intent, Router, SlotValue, Understand};
use cabin_voice::plugin::Registry;
use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::Path;
use std::time::Instant;

fn load() -> (Grammar, IntentModel) {
    let reg = Registry::load(Path::new("plugins")).expect("plugins/");
    let grammar = Grammar::compile(&reg).expect("grammar");
    let t0 = Instant::now();
    let model = IntentModel::load(Path::new("models/nlu")).unwrap_or_else(|e| {
        eprintln!("error: {e}");
        std::process::exit(1)
    });
    let model = model.with_registry(&reg);
    if std::env::var_os("NLU_MODEL_TIMING").is_some() {
        eprintln!("model loaded in {:.1} ms", t0.elapsed().as_secs_f64() * 1e3);
    }
    (grammar, model)
}

fn norm_text(s: &str) -> String {
    let mut s = s.to_lowercase().trim().to_string();
    for art in ["the ", "a ", "an ", "my "] {
        if let Some(rest) = s.strip_prefix(art) {
            s = rest.to_string();
        }
    }
    s.trim_matches(|c: char| " .,!?。，！？".contains(c))
        .to_string()
}

/// Same rules as shared/eval/score_nlu.py.
fn slot_ok(key: &str, want: &serde_json::Value, got: Option<&SlotValue>) -> bool {
    let Some(got) = got else { return false };
    if let Some(w) = want.as_f64() {
        return match got {
            SlotValue::Num(g) => (g - w).abs() < 1e-6,
            SlotValue::Str(g) => g.parse::<f64>().is_ok_and(|g| (g - w).abs() < 1e-6),
        };
    }
    let w = want.as_str().unwrap_or_default();
    let g = got.display();
    if key == "number" {
        return g.chars().filter(char::is_ascii_digit).collect::<String>() == w;
    }
    let (w, g) = (norm_text(w), norm_text(&g));
    if matches!(key, "destination" | "query" | "contact") {
        let (lw, lg) = (w.chars().count(), g.chars().count());
        return !g.is_empty()
            && (w.contains(&g) || g.contains(&w))
            && lw.min(lg) as f64 / lw.max(lg) as f64 >= 0.5;
    }
    w == g
}

#[derive(Default, Clone, Copy)]
struct Tally {
    n: usize,
    intent: usize,
    frame: usize,
    wrong_actuation: usize,
}

fn score(it: &Intent, row: &serde_json::Value, t: &mut Tally) {
    let want = row["intent"].as_str().unwrap_or("none");
    t.n += 1;
    if it.intent == want {
        t.intent += 1;
        let slots = row["slots"].as_object().cloned().unwrap_or_default();
        if slots.iter().all(|(k, v)| slot_ok(k, v, it.slots.get(k))) {
            t.frame += 1;
        }
    } else if it.intent != "none" {
        t.wrong_actuation += 1;
    }
}

fn eval(files: &[String]) {
    let (grammar, model) = load();
    let router = Router::new(vec![Box::new(grammar), Box::new(model)]);
    let (grammar, model) = load();
    for f in files {
        let text = std::fs::read_to_string(f).unwrap_or_else(|e| panic!("{f}: {e}"));
        let rows: Vec<serde_json::Value> = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let mut table: BTreeMap<(String, &str), Tally> = BTreeMap::new();
        for row in &rows {
            let utt = row["text"].as_str().unwrap_or_default();
            let lang = row["lang"].as_str().unwrap_or("?").to_string();
            let g = grammar.understand(utt).unwrap_or_else(|| Intent::none(utt));
            let m = model.understand(utt).unwrap_or_else(|| Intent::none(utt));
            let r = router.understand(utt);
            for (name, it) in [("grammar", &g), ("model alone", &m), ("grammar+model", &r)] {
                score(it, row, table.entry((lang.clone(), name)).or_default());
                score(it, row, table.entry(("all".into(), name)).or_default());
            }
        }
        println!("{f} ({} rows)", rows.len());
        println!(
            "  {:4} {:14} {:>5} {:>9} {:>9} {:>15}",
            "lang", "engine", "n", "intent", "frame", "wrong actuation"
        );
        for ((lang, name), t) in &table {
            println!(
                "  {:4} {:14} {:5} {:9.3} {:9.3} {:15}",
                lang,
                name,
                t.n,
                t.intent as f64 / t.n as f64,
                t.frame as f64 / t.n as f64,
                t.wrong_actuation
            );
        }
    }
}

fn bench() {
    let (grammar, model) = load();
    let utts = [
        "could we get some air conditioning",
        "shut the a c off",
        "it's like an icebox in here",
        "slide the sunroof open",
        "seat heating level one for the rear left",
        "its too loud",
        "把副驾的窗户摇下来一点",
        "空调温度调到二十二度",
        "我有点冷",
        "帮我导航去首都机场",
        "下一首歌",
        "what's the weather like tomorrow",
        "今天股市怎么样",
        "tell me a joke",
        "open the driver window halfway",
        "给老王打个电话",
        "音量调到三十",
        "turn the fan up to level 4",
        "lock the doors",
        "关闭后备箱",
    ];
    for (name, eng) in [
        (
            "model (features + ONNX + spotter)",
            &model as &dyn Understand,
        ),
        ("grammar", &grammar),
    ] {
        for u in &utts {
            let _ = eng.understand(u); // warm up
        }
        let mut times = Vec::new();
        for _ in 0..50 {
            for u in &utts {
                let t0 = Instant::now();
                std::hint::black_box(eng.understand(u));
                times.push(t0.elapsed().as_secs_f64() * 1e3);
            }
        }
        times.sort_by(|a, b| a.total_cmp(b));
        let q = |p: f64| times[((times.len() - 1) as f64 * p).round() as usize];
        println!(
            "{name}: n={} p50={:.3} ms p90={:.3} ms p99={:.3} ms max={:.3} ms",
            times.len(),
            q(0.5),
            q(0.9),
            q(0.99),
            q(1.0)
        );
    }
}

fn lines(grammar_only: bool) {
    let (grammar, model) = load();
    let mut engines: Vec<Box<dyn Understand>> = vec![Box::new(grammar)];
    if !grammar_only {
        engines.push(Box::new(model));
    }
    let router = Router::new(engines);
    for line in std::io::stdin().lock().lines() {
        let line = line.unwrap_or_default();
        println!(
            "{}",
            serde_json::to_string(&router.understand(&line)).unwrap()
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("eval") => eval(&args[1..]),
        Some("bench") => bench(),
        Some("lines") => lines(args.iter().any(|a| a == "--grammar-only")),
        _ => {
            eprintln!("usage: nlu_model eval FILE.jsonl... | bench | lines [--grammar-only]");
            std::process::exit(2);
        }
    }
}
