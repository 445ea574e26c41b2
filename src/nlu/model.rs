//! The model engine: a small quantized ONNX classifier for what the grammar misses
//! (paraphrases it has never seen, transcripts damaged by speech recognition).
//!
//! `models/nlu/intent-int8.onnx` maps hashed n-gram features ([`super::features`])
//! to one probability per class (every intent plus `none`); `labels.json` names
//! the classes and carries the feature configuration, the confidence threshold
//! and the slot cue lexicon. Both are written by `models/nlu/train.py`
//! (docs/NLU.md). Above the threshold the predicted intent's slots are found by
//! the [`Spotter`]; anything else is no answer, so the router falls back to `none`.
//!
//! ```no_run
//! # use cabin_voice::nlu::{model::IntentModel, Grammar, Router};
//! # use cabin_voice::plugin::Registry;
//! # fn demo(reg: &Registry) -> Result<(), Box<dyn std::error::Error>> {
//! let model = IntentModel::load(std::path::Path::new("models/nlu"))?.with_registry(reg);
//! let router = Router::new(vec![Box::new(Grammar::compile(reg)?), Box::new(model)]);
//! # Ok(()) }
//! ```

use super::features::{FeatureBuf, Featurizer};
use super::normalize::{self, MAX_UNITS};
use super::spot::{Lexicon, Spotter};
use super::{Intent, NluError, Understand};
use crate::plugin::Registry;
use ort::environment::Environment;
use ort::session::Session;
use ort::value::TensorRef;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// File names inside the model folder.
pub const MODEL_FILE: &str = "intent-int8.onnx";
pub const LABELS_FILE: &str = "labels.json";

/// `labels.json`.
#[derive(Debug, Clone, Deserialize)]
pub struct Labels {
    pub version: u32,
    pub classes: Vec<String>,
    #[serde(default = "default_none")]
    pub none: String,
    pub threshold: f32,
    pub features: FeatureConfig,
    #[serde(default = "default_input")]
    pub input: String,
    #[serde(default = "default_output")]
    pub output: String,
    #[serde(default)]
    pub slots: Lexicon,
}

/// The feature configuration the model was trained with.
#[derive(Debug, Clone, Deserialize)]
pub struct FeatureConfig {
    pub dim: usize,
    pub hash: String,
}

fn default_none() -> String {
    "none".into()
}
fn default_input() -> String {
    "features".into()
}
fn default_output() -> String {
    "probs".into()
}

struct Runner {
    session: Session,
    buf: FeatureBuf,
}

/// The intent classifier and its slot spotter.
pub struct IntentModel {
    runner: Mutex<Runner>,
    featurizer: Featurizer,
    labels: Labels,
    threshold: f32,
    spotter: Option<Spotter>,
    dir: PathBuf,
}

impl std::fmt::Debug for IntentModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntentModel")
            .field("dir", &self.dir)
            .field("classes", &self.labels.classes.len())
            .field("threshold", &self.threshold)
            .field("spotter", &self.spotter.is_some())
            .finish()
    }
}

/// The process's ONNX Runtime environment (see [`crate::onnx::environment`]): the
/// library found next to `models_dir` unless it was loaded already.
pub fn environment(models_dir: &Path) -> Result<Environment, NluError> {
    crate::onnx::environment("", models_dir).map_err(|e| NluError::Model {
        file: models_dir.join("lib").display().to_string(),
        msg: format!("ONNX Runtime: {e}"),
    })
}

impl IntentModel {
    /// Loads `dir/intent-int8.onnx` and `dir/labels.json` (`dir` is usually
    /// `<models>/nlu`), creating the ONNX Runtime environment if needed.
    pub fn load(dir: &Path) -> Result<IntentModel, NluError> {
        let models_dir = dir.parent().unwrap_or(Path::new("."));
        // Check the files first: a missing model is reported as such, not as a runtime problem.
        let labels = read_labels(dir)?;
        let bytes = read_model(dir)?;
        let env = environment(models_dir)?;
        Self::build(dir, &env, labels, &bytes)
    }

    /// Like [`IntentModel::load`], with an environment the caller already created.
    pub fn load_with_env(dir: &Path, env: &Environment) -> Result<IntentModel, NluError> {
        let labels = read_labels(dir)?;
        let bytes = read_model(dir)?;
        Self::build(dir, env, labels, &bytes)
    }

    fn build(
        dir: &Path,
        env: &Environment,
        labels: Labels,
        bytes: &[u8],
    ) -> Result<IntentModel, NluError> {
        let model_path = dir.join(MODEL_FILE);
        let bad = |msg: String| NluError::Model {
            file: model_path.display().to_string(),
            msg,
        };
        let session = crate::onnx::small_session_builder(env)
            .map_err(|e| bad(e.to_string()))?
            .commit_from_memory(bytes)
            .map_err(|e| bad(format!("not a usable ONNX model: {e}")))?;
        let input_ok = session.inputs().iter().any(|i| i.name() == labels.input);
        let output_ok = session.outputs().iter().any(|o| o.name() == labels.output);
        if !input_ok || !output_ok {
            return Err(bad(format!(
                "expected input {:?} and output {:?} (labels.json); the model has inputs {:?}, outputs {:?}",
                labels.input,
                labels.output,
                session.inputs().iter().map(|i| i.name().to_string()).collect::<Vec<_>>(),
                session.outputs().iter().map(|o| o.name().to_string()).collect::<Vec<_>>()
            )));
        }
        let featurizer = Featurizer::new(labels.features.dim);
        let buf = featurizer.buffer();
        let mut model = IntentModel {
            runner: Mutex::new(Runner { session, buf }),
            featurizer,
            threshold: labels.threshold,
            labels,
            spotter: None,
            dir: dir.to_path_buf(),
        };
        // One run proves the shapes agree with labels.json.
        let probs = model
            .probs("turn on the air conditioning")
            .map_err(|e| bad(e.to_string()))?;
        if probs.len() != model.labels.classes.len() {
            return Err(bad(format!(
                "the model gives {} probabilities, labels.json names {} classes",
                probs.len(),
                model.labels.classes.len()
            )));
        }
        model.threshold = model.threshold.clamp(0.0, 1.0);
        Ok(model)
    }

    /// Attaches the slot spotter for the loaded plugins; without it
    /// [`Understand::understand`] answers nothing (only [`IntentModel::predict`] works).
    pub fn with_registry(mut self, reg: &Registry) -> IntentModel {
        self.spotter = Some(Spotter::new(reg, &self.labels.slots));
        self
    }

    /// Overrides the confidence threshold of `labels.json`.
    pub fn with_threshold(mut self, threshold: f32) -> IntentModel {
        self.threshold = threshold.clamp(0.0, 1.0);
        self
    }

    pub fn threshold(&self) -> f32 {
        self.threshold
    }

    pub fn labels(&self) -> &Labels {
        &self.labels
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The probability of every class (in [`Labels::classes`] order) for `text`.
    pub fn probs(&self, text: &str) -> Result<Vec<f32>, NluError> {
        self.probs_units(&normalize::units(text))
    }

    fn probs_units(&self, units: &[String]) -> Result<Vec<f32>, NluError> {
        self.run(units, |p| p.to_vec())
    }

    /// Runs the model on `units` and hands the probabilities to `f` (no copy).
    fn run<R>(&self, units: &[String], f: impl FnOnce(&[f32]) -> R) -> Result<R, NluError> {
        let err = |msg: String| NluError::Model {
            file: self.dir.join(MODEL_FILE).display().to_string(),
            msg,
        };
        let mut guard = self.runner.lock().unwrap_or_else(|p| p.into_inner());
        let Runner { session, buf } = &mut *guard;
        self.featurizer.fill_units(units, buf);
        let input = TensorRef::from_array_view(([1usize, self.featurizer.dim()], buf.dense()))
            .map_err(|e| err(e.to_string()))?;
        let outputs = session
            .run(ort::inputs![self.labels.input.as_str() => input])
            .map_err(|e| err(e.to_string()))?;
        let (_, probs) = outputs[self.labels.output.as_str()]
            .try_extract_tensor::<f32>()
            .map_err(|e| err(e.to_string()))?;
        Ok(f(probs))
    }

    /// The most likely class of `text` and its probability. Never fails: empty or
    /// over-long input (more than [`MAX_UNITS`] units) and runtime errors give `("none", 0.0)`.
    pub fn predict(&self, text: &str) -> (&str, f32) {
        self.predict_units(&normalize::units(text))
    }

    fn predict_units(&self, units: &[String]) -> (&str, f32) {
        let none = self.labels.none.as_str();
        if units.is_empty() || units.len() > MAX_UNITS {
            return (none, 0.0);
        }
        let best = |p: &[f32]| {
            p.iter().enumerate().fold(
                (usize::MAX, f32::MIN),
                |b, (k, &v)| if v > b.1 { (k, v) } else { b },
            )
        };
        match self.run(units, best) {
            Ok((k, v)) => match self.labels.classes.get(k) {
                Some(c) => (c.as_str(), v),
                None => (none, 0.0),
            },
            Err(e) => {
                tracing::warn!(error = %e, "intent model failed");
                (none, 0.0)
            }
        }
    }
}

impl Understand for IntentModel {
    fn understand(&self, text: &str) -> Option<Intent> {
        let spotter = self.spotter.as_ref()?;
        let units = normalize::units(text);
        let (intent, prob) = self.predict_units(&units);
        if intent == self.labels.none || prob < self.threshold {
            return None;
        }
        // A bag of n-grams hardly sees negation ("no need to open the trunk"):
        // refuse rather than act, except for the intents that are negative themselves.
        if negated(&units) && !NEGATIVE_INTENTS.contains(&intent) {
            return None;
        }
        let lang = normalize::detect_lang(text);
        let slots = spotter.spot(intent, &units, lang)?;
        Some(Intent {
            text: text.to_string(),
            lang: lang.to_string(),
            intent: intent.to_string(),
            slots,
            confidence: prob,
            engine: "model".into(),
        })
    }
}

/// Intents whose sentences are negative by nature.
const NEGATIVE_INTENTS: &[&str] = &["dialog.deny", "dialog.cancel"];

/// Characters before 别 that make it part of a word (特别 "especially", 区别, 分别 ...).
const BIE_WORDS: &[&str] = &[
    "特", "区", "分", "告", "识", "级", "类", "性", "派", "差", "个", "送", "辨",
];

/// True when the utterance negates ("don't", "no need", 不要, 不用, 别 ...).
fn negated(units: &[String]) -> bool {
    let w = |i: usize| units.get(i).map(String::as_str).unwrap_or("");
    (0..units.len()).any(|i| match w(i) {
        "don't" | "dont" | "never" | "not" | "doesn't" | "shouldn't" | "won't" => true,
        "do" | "does" => w(i + 1) == "not",
        "no" => matches!(w(i + 1), "need" | "longer"),
        "不" => matches!(w(i + 1), "要" | "用" | "需" | "想" | "必"),
        "没" => w(i + 1) == "必",
        "甭" => true,
        "别" => i == 0 || !BIE_WORDS.contains(&w(i - 1)),
        _ => false,
    })
}

fn read_labels(dir: &Path) -> Result<Labels, NluError> {
    let path = dir.join(LABELS_FILE);
    let bad = |msg: String| NluError::Model {
        file: path.display().to_string(),
        msg,
    };
    let text = std::fs::read_to_string(&path).map_err(|e| {
        bad(format!("cannot read: {e} (the intent model ships in models/nlu/; retrain with `python3 models/nlu/train.py`)"))
    })?;
    let labels: Labels =
        serde_json::from_str(&text).map_err(|e| bad(format!("not valid labels: {e}")))?;
    if labels.classes.is_empty() {
        return Err(bad("no classes".into()));
    }
    if labels.features.hash != "fnv1a64"
        || labels.features.dim == 0
        || labels.features.dim > 1 << 24
    {
        return Err(bad(format!(
            "unsupported feature config (hash {:?}, dim {})",
            labels.features.hash, labels.features.dim
        )));
    }
    if !labels.classes.contains(&labels.none) {
        return Err(bad(format!("the classes do not include {:?}", labels.none)));
    }
    Ok(labels)
}

fn read_model(dir: &Path) -> Result<Vec<u8>, NluError> {
    let path = dir.join(MODEL_FILE);
    std::fs::read(&path).map_err(|e| NluError::Model {
        file: path.display().to_string(),
        msg: format!("cannot read: {e} (the intent model ships in models/nlu/; retrain with `python3 models/nlu/train.py`)"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negation_cues() {
        let neg = |t: &str| negated(&normalize::units(t));
        assert!(neg("don't open the window"));
        assert!(neg("please do not turn on the ac"));
        assert!(neg("no need to open the trunk"));
        assert!(neg("不要打开空调"));
        assert!(neg("别开窗"));
        assert!(neg("窗户别开了"));
        assert!(!neg("open the window"));
        assert!(!neg("我觉得特别冷"));
        assert!(!neg("do it now"));
        assert!(!neg("打开空调"));
    }
}
