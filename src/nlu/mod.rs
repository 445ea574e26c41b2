//! Understanding: transcript text -> [`Intent`] (name, typed slots, confidence).
//!
//! Routing: the grammar fast path compiled from the plugins' sentences answers
//! first; what it misses is `none` (a polite "I can't do that") rather than a guess.

pub mod clauses;
pub mod features;
pub mod fuzzy;
pub mod grammar;
pub mod model;
pub mod normalize;
pub mod numbers;
pub mod spot;
pub mod template;

use serde::Serialize;
use std::collections::BTreeMap;

pub use grammar::Grammar;

/// Errors of the understanding layer.
#[derive(Debug, thiserror::Error)]
pub enum NluError {
    #[error("grammar: {at}: {msg}")]
    Grammar { at: String, msg: String },
    #[error("intent model: {file}: {msg}")]
    Model { file: String, msg: String },
}

/// A slot value: a number (already normalised) or a string.
#[derive(Debug, Clone, PartialEq)]
pub enum SlotValue {
    Num(f64),
    Str(String),
}

impl SlotValue {
    /// As JSON: whole numbers become integers.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            SlotValue::Num(n) if n.fract() == 0.0 && n.abs() < 1e15 => (*n as i64).into(),
            SlotValue::Num(n) => serde_json::Number::from_f64(*n)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
            SlotValue::Str(s) => s.clone().into(),
        }
    }

    /// As text for reply templates.
    pub fn display(&self) -> String {
        match self.to_json() {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        }
    }
}

impl Serialize for SlotValue {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(s)
    }
}

/// What the user wants: the contract between understanding and plugins.
#[derive(Debug, Clone, Serialize)]
pub struct Intent {
    pub text: String,
    pub lang: String,
    pub intent: String,
    pub slots: BTreeMap<String, SlotValue>,
    pub confidence: f32,
    pub engine: String,
}

impl Intent {
    /// The `none` intent for `text`.
    pub fn none(text: &str) -> Intent {
        Intent {
            text: text.to_string(),
            lang: normalize::detect_lang(text).to_string(),
            intent: "none".into(),
            slots: BTreeMap::new(),
            confidence: 1.0,
            engine: "none".into(),
        }
    }
}

/// The seam every understanding engine implements.
pub trait Understand: Send + Sync {
    /// The intent of `text`, or `None` when this engine has no confident answer.
    fn understand(&self, text: &str) -> Option<Intent>;

    /// Every call of `text`, in order, for engines that split compound requests
    /// ("warmer, and defrost the windscreen"); by default the one intent.
    fn understand_all(&self, text: &str) -> Option<Vec<Intent>> {
        self.understand(text).map(|i| vec![i])
    }

    /// A generative engine (the language model): slow, so the router asks it
    /// only after the others failed on the whole request and on its clauses.
    fn generative(&self) -> bool {
        false
    }

    /// An exact matcher (the grammar): tried on the whole text before the
    /// text is split into clauses; the others after.
    fn exact(&self) -> bool {
        false
    }
}

impl Understand for Grammar {
    fn understand(&self, text: &str) -> Option<Intent> {
        self.parse(text)
    }

    fn exact(&self) -> bool {
        true
    }
}

/// True when every slot of `a` is in `b` with the same value.
fn subset(a: &BTreeMap<String, SlotValue>, b: &BTreeMap<String, SlotValue>) -> bool {
    a.iter().all(|(k, v)| b.get(k) == Some(v))
}

/// Engines tried in order; the first confident answer wins, else `none`.
pub struct Router {
    engines: Vec<Box<dyn Understand>>,
}

impl Router {
    pub fn new(engines: Vec<Box<dyn Understand>>) -> Self {
        Router { engines }
    }

    /// This router with `engine` tried last.
    pub fn with_engine(mut self, engine: Box<dyn Understand>) -> Self {
        self.engines.push(engine);
        self
    }

    /// Never fails: anything not understood is `none`.
    pub fn understand(&self, text: &str) -> Intent {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Intent::none(text);
        }
        self.engines
            .iter()
            .find_map(|e| e.understand(trimmed))
            .unwrap_or_else(|| Intent::none(trimmed))
    }

    /// Every call of `text`, in order: an exact engine (the grammar) that
    /// understands it whole; else, for a compound request, every clause
    /// understood on its own (docs/NLU.md, "Compound requests"); else the
    /// other fast engines (the intent model) on the whole text; else the first
    /// generative engine's answer; `[none]` if nothing understood it.
    pub fn understand_all(&self, text: &str) -> Vec<Intent> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return vec![Intent::none(text)];
        }
        let (fast, slow): (Vec<&dyn Understand>, Vec<&dyn Understand>) = self
            .engines
            .iter()
            .map(|e| e.as_ref())
            .partition(|e| !e.generative());
        let first = |engines: &[&dyn Understand], t: &str| {
            engines
                .iter()
                .find_map(|e| e.understand_all(t).filter(|v| !v.is_empty()))
        };
        let exact: Vec<_> = fast.iter().copied().filter(|e| e.exact()).collect();
        if let Some(v) = first(&exact, trimmed) {
            return v;
        }
        let clauses = clauses::split(trimmed);
        if clauses.len() >= 2 {
            let mut all: Vec<Intent> = Vec::new();
            for c in &clauses {
                match first(&fast, c).or_else(|| first(&slow, c)) {
                    Some(v) if v.iter().all(|i| i.intent != "none") => {
                        // "热死了，凉快点": the same call twice is one request;
                        // so is one that only adds slots to the one before
                        // ("… the windshield, it's all fogged").
                        for i in v {
                            match all.last_mut() {
                                Some(p) if p.intent == i.intent && subset(&i.slots, &p.slots) => {}
                                Some(p) if p.intent == i.intent && subset(&p.slots, &i.slots) => {
                                    *p = i
                                }
                                _ => all.push(i),
                            }
                        }
                    }
                    _ => {
                        all.clear();
                        break;
                    }
                }
            }
            if !all.is_empty() {
                tracing::debug!(
                    clauses = clauses.len(),
                    calls = all.len(),
                    "compound request"
                );
                return all;
            }
        }
        first(&fast, trimmed)
            .or_else(|| first(&slow, trimmed))
            .unwrap_or_else(|| vec![Intent::none(trimmed)])
    }
}
