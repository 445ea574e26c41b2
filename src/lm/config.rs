//! `[lm]` in the configuration file (documented in docs/CONFIG.md).

use serde::Deserialize;

/// The language model fallback for open requests.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Lm {
    /// Use the language model when the grammar and the intent model have no
    /// answer. Off by default: it is opt-in (its own licence, `install.py
    /// --only lm`) and takes tens of seconds and ~2 GB to load.
    pub enabled: bool,
    /// ONNX decoder, relative to the models folder.
    pub model: String,
    /// tokenizer.json of the model, relative to the models folder.
    pub tokenizer: String,
    /// Inference threads; 0: all cores.
    pub threads: usize,
    /// Most generated tokens per request.
    pub max_tokens: usize,
    /// Wall-time budget per request, prefill included.
    pub timeout_ms: u64,
    /// Most calls one request may make.
    pub max_calls: usize,
    /// Prompt style: `auto` (what the installed export declares), `few-shot`
    /// (catalogue and worked examples, for the base model) or `tuned` (the
    /// request alone, for a model tuned on the calls).
    pub prompt: String,
    /// An answer with any chosen token less probable than this is dropped
    /// (not understood) instead of acted on. 0 keeps every answer.
    pub min_step_p: f32,
}

impl Default for Lm {
    fn default() -> Self {
        Lm {
            enabled: false,
            model: "lm/model.onnx".into(),
            tokenizer: "lm/tokenizer.json".into(),
            threads: 0,
            max_tokens: 128,
            timeout_ms: 8000,
            max_calls: 4,
            prompt: "auto".into(),
            min_step_p: 0.2,
        }
    }
}

impl Lm {
    /// Values serde cannot check: (key, message).
    pub fn validate(&self) -> Result<(), (String, String)> {
        if self.max_tokens < 16 {
            return Err(("lm.max_tokens".into(), "must be at least 16".into()));
        }
        if self.timeout_ms == 0 {
            return Err(("lm.timeout_ms".into(), "must be > 0".into()));
        }
        if !(1..=16).contains(&self.max_calls) {
            return Err(("lm.max_calls".into(), "must be 1..16".into()));
        }
        if !(0.0..1.0).contains(&self.min_step_p) {
            return Err((
                "lm.min_step_p".into(),
                format!("{}: must be in 0..1", self.min_step_p),
            ));
        }
        if !["auto", "few-shot", "tuned"].contains(&self.prompt.as_str()) {
            return Err((
                "lm.prompt".into(),
                format!("{:?}: must be auto, few-shot or tuned", self.prompt),
            ));
        }
        if self.model.trim().is_empty() || self.tokenizer.trim().is_empty() {
            return Err(("lm.model".into(), "model and tokenizer must be set".into()));
        }
        Ok(())
    }
}
