//! The installed language model (Gemma 3 270M, INT8 ONNX from
//! `python3 models/install.py --only lm`) on the documented open requests of
//! docs/LM.md, in English and Mandarin, through the full router (grammar,
//! intent model, then the language model). Skipped with a note when the model
//! is not installed, unless CABIN_VOICE_REQUIRE_LM=1 (set by CI once setup.sh
//! installs it).

use cabin_voice::config::Config;
use cabin_voice::nlu::{Intent, Router, SlotValue};
use std::path::PathBuf;
use std::sync::OnceLock;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The default configuration with the language model on, over this checkout.
fn config() -> Config {
    let mut cfg = Config::default();
    cfg.lm.enabled = true;
    cfg.general.plugins_dir = root().join("plugins").display().to_string();
    cfg.general.models_dir = root().join("models").display().to_string();
    cfg
}

fn router() -> Option<&'static Router> {
    static R: OnceLock<Option<Router>> = OnceLock::new();
    R.get_or_init(|| {
        let cfg = config();
        let model = root().join("models").join(&cfg.lm.model);
        if !model.is_file() {
            if std::env::var("CABIN_VOICE_REQUIRE_LM").is_ok_and(|v| v == "1") {
                panic!(
                    "{} missing: python3 models/install.py --only lm",
                    model.display()
                );
            }
            eprintln!(
                "skipped: language model not installed (python3 models/install.py --only lm)"
            );
            return None;
        }
        let reg = cabin_voice::app::load_registry(&cfg).expect("plugins");
        let router = cabin_voice::app::build_router(&cfg, &reg).expect("router");
        Some(router)
    })
    .as_ref()
}

fn calls(text: &str) -> Option<Vec<Intent>> {
    router().map(|r| r.understand_all(text))
}

fn names(v: &[Intent]) -> Vec<&str> {
    v.iter().map(|i| i.intent.as_str()).collect()
}

fn slot<'a>(i: &'a Intent, name: &str) -> Option<&'a SlotValue> {
    i.slots.get(name)
}

fn s(v: &str) -> SlotValue {
    SlotValue::Str(v.into())
}

/// "I'm cold and the windscreen is fogging up": warmer, then defrost on.
fn assert_warmer_then_defrost(v: &[Intent]) {
    assert_eq!(
        names(v),
        ["climate.change_temperature", "climate.defrost"],
        "{v:?}"
    );
    assert_eq!(slot(&v[0], "direction"), Some(&s("up")));
    assert_eq!(slot(&v[1], "state"), Some(&s("on")));
}

/// A compound request: the router splits it into clauses and understands each.
#[test]
fn cold_and_fogging_up_is_two_calls_in_order() {
    let Some(v) = calls("I'm cold and the windscreen is fogging up") else {
        return;
    };
    assert_warmer_then_defrost(&v);
}

#[test]
fn hungry_finds_a_restaurant() {
    let Some(v) = calls("I'm starving, is there somewhere to eat nearby") else {
        return;
    };
    assert_eq!(names(&v), ["nav.find_poi"], "{v:?}");
    assert_eq!(slot(&v[0], "category"), Some(&s("restaurant")));
}

#[test]
fn mandarin_too_hot_cools_down() {
    let Some(v) = calls("热死了，凉快点") else {
        return;
    };
    assert_eq!(names(&v), ["climate.change_temperature"], "{v:?}");
    assert_eq!(slot(&v[0], "direction"), Some(&s("down")));
}

#[test]
fn small_talk_is_not_a_call() {
    let Some(v) = calls("what do you think about the weather in general") else {
        return;
    };
    assert_eq!(names(&v), ["none"], "{v:?}");
}

#[test]
fn grammar_commands_never_reach_the_language_model() {
    let Some(v) = calls("turn on the ac") else {
        return;
    };
    assert_eq!(names(&v), ["climate.ac"]);
    assert_ne!(v[0].engine, "lm");
}

/// A request, the intent it must give and a slot (name, value) to check.
type Case = (
    &'static str,
    &'static str,
    Option<(&'static str, &'static str)>,
);

/// Open requests that neither the grammar nor the intent model understands:
/// the tuned language model answers them itself (engine "lm").
#[test]
fn the_language_model_answers_open_requests_in_both_languages() {
    let cases: [Case; 6] = [
        ("let's have some classical music", "media.play", None),
        ("this song is terrible, skip it", "media.next", None),
        (
            "where can I leave the car around here",
            "nav.find_poi",
            Some(("category", "parking")),
        ),
        ("the rain is getting heavy", "wipers.set", None),
        (
            "找个地方把车停一下",
            "nav.find_poi",
            Some(("category", "parking")),
        ),
        ("这破歌换掉", "media.next", None),
    ];
    for (text, intent, want_slot) in cases {
        let Some(v) = calls(text) else {
            return;
        };
        assert_eq!(names(&v), [intent], "{text}: {v:?}");
        assert_eq!(v[0].engine, "lm", "{text}: answered by {}", v[0].engine);
        if let Some((name, value)) = want_slot {
            assert_eq!(slot(&v[0], name), Some(&s(value)), "{text}: {v:?}");
        }
    }
}

/// The model alone (no clause splitting) writes both calls of a compound
/// request, in order.
#[test]
fn the_model_alone_writes_two_calls_for_a_compound_request() {
    if router().is_none() {
        return;
    }
    let cfg = config();
    let reg = cabin_voice::app::load_registry(&cfg).expect("plugins");
    let lm = cabin_voice::lm::from_config(&cfg, &reg).expect("the installed model loads");
    let v = lm
        .intents("I'm cold and the windscreen is fogging up")
        .expect("an answer within the budget");
    assert_warmer_then_defrost(&v);
}
