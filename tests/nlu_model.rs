//! The intent model engine (models/nlu): loading, paraphrases the grammar misses,
//! out-of-domain refusals, agreement with the training script, hostile input.
//! Needs the ONNX Runtime library (`python3 models/install.py`, run by setup.sh).

use cabin_voice::nlu::model::IntentModel;
use cabin_voice::nlu::{Grammar, Intent, Router, SlotValue, Understand};
use cabin_voice::plugin::Registry;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

struct Engines {
    grammar: Arc<Grammar>,
    model: Arc<IntentModel>,
}

struct Shared<T: Understand>(Arc<T>);
impl<T: Understand> Understand for Shared<T> {
    fn understand(&self, text: &str) -> Option<Intent> {
        self.0.understand(text)
    }
}

fn engines() -> &'static Engines {
    static E: OnceLock<Engines> = OnceLock::new();
    E.get_or_init(|| {
        let reg = Registry::load(&root().join("plugins")).expect("plugins load");
        let grammar = Grammar::compile(&reg).expect("grammar compiles");
        let model = IntentModel::load(&root().join("models/nlu"))
            .unwrap_or_else(|e| {
                panic!("{e}\n(install the ONNX Runtime library with `python3 models/install.py`)")
            })
            .with_registry(&reg);
        Engines {
            grammar: Arc::new(grammar),
            model: Arc::new(model),
        }
    })
}

fn router() -> Router {
    let e = engines();
    Router::new(vec![
        Box::new(Shared(e.grammar.clone())),
        Box::new(Shared(e.model.clone())),
    ])
}

#[test]
fn model_loads_with_labels() {
    let m = &engines().model;
    let labels = m.labels();
    assert!(
        labels.classes.len() >= 30,
        "{} classes",
        labels.classes.len()
    );
    assert!(labels.classes.iter().any(|c| c == "none"));
    assert!(
        m.threshold() > 0.3 && m.threshold() < 1.0,
        "threshold {}",
        m.threshold()
    );
    let (intent, p) = m.predict("please turn on the air conditioning");
    assert_eq!(intent, "climate.ac");
    assert!(p > m.threshold());
}

/// Hand-written probe lines (models/nlu/probe.jsonl, never trained on): paraphrases
/// and transcripts with recognition slips that the grammar mostly misses, and
/// out-of-domain lines.
fn probe() -> Vec<(String, String, serde_json::Map<String, serde_json::Value>)> {
    let text = std::fs::read_to_string(root().join("models/nlu/probe.jsonl"))
        .expect("models/nlu/probe.jsonl");
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("probe line");
            (
                v["text"].as_str().unwrap().to_string(),
                v["intent"].as_str().unwrap().to_string(),
                v["slots"].as_object().cloned().unwrap_or_default(),
            )
        })
        .collect()
}

fn slot_matches(i: &Intent, k: &str, want: &serde_json::Value) -> bool {
    match (i.slots.get(k), want) {
        (Some(SlotValue::Num(g)), w) if w.is_number() => (g - w.as_f64().unwrap()).abs() < 1e-6,
        (Some(SlotValue::Str(g)), serde_json::Value::String(w)) => {
            let strip = |s: &str| s.trim().trim_start_matches("the ").to_lowercase();
            let (g, w) = (strip(g), strip(w));
            g == w
                || (matches!(k, "destination" | "contact" | "query")
                    && (g.contains(&w) || w.contains(&g)))
        }
        _ => false,
    }
}

#[test]
fn paraphrases_come_out_right() {
    let r = router();
    let g = &engines().grammar;
    let (mut n, mut ok, mut grammar_ok, mut model_wrong) = (0, 0, 0, 0);
    let (mut missed, mut rescued) = (0, 0);
    let mut fails = Vec::new();
    for (text, intent, slots) in probe().iter().filter(|p| p.1 != "none") {
        n += 1;
        let by_grammar = g.parse(text);
        if by_grammar.as_ref().is_some_and(|i| i.intent == *intent) {
            grammar_ok += 1;
        }
        let got = r.understand(text);
        if got.intent == *intent && slots.iter().all(|(k, v)| slot_matches(&got, k, v)) {
            ok += 1;
            if by_grammar.is_none() {
                rescued += 1;
            }
        } else {
            fails.push(format!(
                "{text:?}: want {intent} {slots:?}, got {} {:?} ({})",
                got.intent, got.slots, got.engine
            ));
        }
        if by_grammar.is_none() {
            missed += 1;
        }
        if got.engine == "model" && got.intent != *intent {
            model_wrong += 1;
        }
    }
    eprintln!("probe paraphrases: {ok}/{n} right with the model, {grammar_ok}/{n} by the grammar alone; {rescued} of the {missed} the grammar misses");
    for f in &fails {
        eprintln!("  {f}");
    }
    assert!(ok * 100 >= n * 75, "only {ok}/{n} paraphrases right");
    assert!(
        missed < 10 || rescued * 2 >= missed,
        "the model rescues only {rescued} of the {missed} lines the grammar misses"
    );
    assert!(
        model_wrong <= 1,
        "the model acted wrongly {model_wrong} times"
    );
}

#[test]
fn out_of_domain_stays_none() {
    let m = &engines().model;
    let g = &engines().grammar;
    let r = router();
    let mut lines: Vec<String> = probe()
        .into_iter()
        .filter(|p| p.1 == "none")
        .map(|p| p.0)
        .collect();
    lines.extend(
        [
            "what's the weather going to be like on saturday",
            "how tall is the eiffel tower",
            "who painted the sistine chapel",
            "明天上海天气怎么样",
            "给我讲个笑话吧",
        ]
        .map(String::from),
    );
    assert!(lines.len() >= 40);
    for l in &lines {
        assert!(
            m.understand(l).is_none(),
            "{l:?}: the model answered {:?}",
            m.predict(l)
        );
        if g.parse(l).is_none() {
            let got = r.understand(l);
            assert_eq!(
                got.intent, "none",
                "{l:?} -> {} {:?} ({})",
                got.intent, got.slots, got.engine
            );
        }
    }
}

#[test]
fn negation_is_refused() {
    let m = &engines().model;
    for l in [
        "no need to open the trunk",
        "don't open the window",
        "please do not turn on the ac",
        "不要打开空调",
        "别开天窗",
        "不用开后备箱",
    ] {
        assert!(m.understand(l).is_none(), "{l:?}: the model answered");
    }
    // Negative intents stay possible.
    assert_eq!(m.predict("nope don't").0, "dialog.deny");
}

#[test]
fn model_engine_marks_itself() {
    let got = engines()
        .model
        .understand("could we get some air conditioning")
        .expect("the model answers");
    assert_eq!(got.intent, "climate.ac");
    assert_eq!(got.engine, "model");
    assert_eq!(got.slots.get("state"), Some(&SlotValue::Str("on".into())));
    assert!(got.confidence >= engines().model.threshold());
    // The grammar still answers what it knows.
    assert_eq!(router().understand("turn on the ac").engine, "grammar");
}

/// The Rust pipeline (units -> features -> ONNX Runtime) gives what the training
/// script's onnxruntime gave for the same text.
#[test]
fn agrees_with_training_script() {
    let path = root().join("models/nlu/feature_fixtures.json");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let m = &engines().model;
    for fx in v["fixtures"].as_array().unwrap() {
        let text = fx["text"].as_str().unwrap();
        if cabin_voice::nlu::normalize::units(text).is_empty() {
            continue; // predict() does not run the model on nothing
        }
        let probs = m.probs(text).unwrap();
        let (k, p) = probs
            .iter()
            .enumerate()
            .fold((0, f32::MIN), |b, (k, &p)| if p > b.1 { (k, p) } else { b });
        assert_eq!(
            m.labels().classes[k],
            fx["top"].as_str().unwrap(),
            "{text:?}"
        );
        assert!(
            (p - fx["prob"].as_f64().unwrap() as f32).abs() < 1e-3,
            "{text:?}: {p} vs {}",
            fx["prob"]
        );
    }
}

#[test]
fn hostile_input_never_panics() {
    let m = &engines().model;
    let r = router();
    let long = "turn on the ac ".repeat(700);
    let long_zh = "打开空调".repeat(2500);
    let inputs: Vec<String> = vec![
        String::new(),
        " \t\n ".into(),
        "?!...,,,".into(),
        "\u{0}\u{1}\u{7f}".into(),
        "🚗🔥❄️🎵".into(),
        "ＯＰＥＮ　ＴＨＥ　ＷＩＮＤＯＷ".into(),
        "open 窗户 please 一下 ac".into(),
        "hey cabin 我有点冷 turn it up".into(),
        "مرحبا كيف حالك".into(),
        "こんにちは、窓を開けて".into(),
        "e\u{301}\u{301}\u{301}".into(),
        "9999999999999999999999999999999999999".into(),
        "1.2.3.4.5.6 %%% °°°".into(),
        long.clone(),
        long_zh.clone(),
        "x".repeat(10_000),
    ];
    for s in &inputs {
        let _ = m.predict(s);
        let _ = m.understand(s);
        let got = r.understand(s);
        assert!(!got.intent.is_empty());
    }
    assert_eq!(
        m.predict(&long).0,
        "none",
        "over-long input is not a command"
    );
    assert!(m.understand(&long_zh).is_none());
    assert!(m.understand("").is_none());
}

#[test]
fn missing_or_corrupt_files_are_named() {
    let dir = std::env::temp_dir().join(format!("cv-nlu-model-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let e = IntentModel::load(&dir).unwrap_err().to_string();
    assert!(e.contains("labels.json") && e.contains("train.py"), "{e}");

    std::fs::copy(
        root().join("models/nlu/labels.json"),
        dir.join("labels.json"),
    )
    .unwrap();
    let e = IntentModel::load(&dir).unwrap_err().to_string();
    assert!(e.contains("intent-int8.onnx"), "{e}");

    std::fs::write(dir.join("intent-int8.onnx"), b"not a model at all").unwrap();
    let e = IntentModel::load(&dir).unwrap_err().to_string();
    assert!(
        e.contains("intent-int8.onnx") && e.contains("not a usable ONNX model"),
        "{e}"
    );

    std::fs::write(dir.join("labels.json"), b"{\"classes\": 3}").unwrap();
    let e = IntentModel::load(&dir).unwrap_err().to_string();
    assert!(
        e.contains("labels.json") && e.contains("not valid labels"),
        "{e}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
