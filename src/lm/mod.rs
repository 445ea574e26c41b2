//! The language model: open requests ("I'm cold and the windscreen is fogging
//! up") turned into one or more calls of the plugins' intents.
//!
//! A quantized decoder on ONNX Runtime ([`decoder`]) continues a few-shot
//! prompt ([`prompt`]); every generated token is forced to keep the output a
//! valid JSON list of calls of the loaded schema ([`schema`], [`constrain`]),
//! so the model cannot name anything a plugin did not declare. The calls then
//! go through the scheduler like any other intent. See docs/LM.md.

pub mod config;
pub mod constrain;
pub mod decoder;
pub mod prompt;
pub mod schema;
pub mod vocab;

use crate::nlu::{normalize, Intent, SlotValue, Understand};
use crate::plugin::Registry;
use decoder::Decoder;
use schema::Schema;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};
use vocab::Vocab;

/// Errors of the language model layer.
#[derive(Debug, thiserror::Error)]
pub enum LmError {
    #[error("language model: {file}: {msg}")]
    Model { file: String, msg: String },
    #[error("language model tokenizer: {file}: {msg}")]
    Tokenizer { file: String, msg: String },
    #[error("language model: {0}")]
    Run(String),
    #[error("language model: {what} budget exhausted after {tokens} tokens ({ms} ms)")]
    Budget {
        what: &'static str,
        tokens: usize,
        ms: u64,
    },
    #[error(
        "language model: the vocabulary ({vocab}) and the model's logits ({logits}) differ in size"
    )]
    Mismatch { vocab: usize, logits: usize },
}

/// Generation limits.
#[derive(Debug, Clone)]
pub struct Budget {
    /// Most generated tokens per request.
    pub max_tokens: usize,
    /// Wall time per request (prefill of the request included).
    pub timeout: Duration,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            max_tokens: 128,
            timeout: Duration::from_millis(6000),
        }
    }
}

/// One call as generated.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub intent: String,
    pub slots: BTreeMap<String, SlotValue>,
}

/// What one request produced, with its timings.
#[derive(Debug, Clone)]
pub struct Generation {
    pub calls: Vec<Call>,
    /// The generated JSON text.
    pub text: String,
    pub prompt_tokens: usize,
    pub tokens: usize,
    /// Request start to the first generated token.
    pub first_token_ms: f64,
    pub total_ms: f64,
    /// Geometric mean of the chosen tokens' probabilities (unconstrained softmax).
    pub confidence: f32,
    /// The least probability of a chosen token: the model's least sure step,
    /// most often the choice of the intent.
    pub least: f32,
}

impl Generation {
    /// Decode rate after the first token.
    pub fn tokens_per_s(&self) -> f64 {
        let decode_ms = self.total_ms - self.first_token_ms;
        if self.tokens <= 1 || decode_ms <= 0.0 {
            return 0.0;
        }
        (self.tokens - 1) as f64 * 1000.0 / decode_ms
    }
}

/// The model, its vocabulary and the schema, ready to serve requests.
pub struct LanguageModel {
    decoder: Mutex<Box<dyn Decoder>>,
    vocab: Arc<Vocab>,
    schema: Arc<Schema>,
    budget: Budget,
    prefix_tokens: usize,
    style: prompt::Style,
    /// Below this probability at any chosen step the answer is dropped.
    min_step_p: f32,
    stream: Option<mpsc::SyncSender<String>>,
}

impl LanguageModel {
    /// Builds the model over `decoder`, computes the token strings of the
    /// vocabulary and runs the prompt prefix once (its cache is reused by every
    /// request).
    pub fn new(
        decoder: Box<dyn Decoder>,
        vocab: Vocab,
        schema: Schema,
        budget: Budget,
    ) -> Result<LanguageModel, LmError> {
        LanguageModel::with_prompt(decoder, vocab, schema, budget, prompt::Style::FewShot)
    }

    /// [`LanguageModel::new`] with the prompt style of the model.
    pub fn with_prompt(
        mut decoder: Box<dyn Decoder>,
        vocab: Vocab,
        schema: Schema,
        budget: Budget,
        style: prompt::Style,
    ) -> Result<LanguageModel, LmError> {
        if decoder.vocab_size() < vocab.len() {
            return Err(LmError::Mismatch {
                vocab: vocab.len(),
                logits: decoder.vocab_size(),
            });
        }
        let schema = Arc::new(schema);
        let t0 = Instant::now();
        let prefix = vocab.encode(&prompt::prefix(&schema, style), true)?;
        decoder.reset();
        decoder.forward(&prefix)?;
        decoder.save_prefix();
        tracing::info!(
            tokens = prefix.len(),
            prompt = style.name(),
            intents = schema.intents.len(),
            ms = t0.elapsed().as_millis() as u64,
            "language model prompt cached"
        );
        Ok(LanguageModel {
            decoder: Mutex::new(decoder),
            vocab: Arc::new(vocab),
            schema,
            budget,
            prefix_tokens: prefix.len(),
            style,
            min_step_p: 0.0,
            stream: None,
        })
    }

    /// Loads `model` (ONNX) and `tokenizer` (tokenizer.json) for the plugins of `reg`.
    pub fn load(
        model: &Path,
        tokenizer: &Path,
        env: &ort::environment::Environment,
        reg: &Registry,
        settings: &Settings,
    ) -> Result<LanguageModel, LmError> {
        let t0 = Instant::now();
        let vocab = Vocab::load(tokenizer)?;
        let decoder = decoder::OrtDecoder::load(model, env, settings.threads)?;
        let schema = Schema::from_registry(reg, settings.max_calls);
        tracing::info!(
            vocab = vocab.len(),
            ms = t0.elapsed().as_millis() as u64,
            "language model vocabulary ready"
        );
        let style =
            prompt::Style::resolve(&settings.prompt, model).map_err(|msg| LmError::Model {
                file: model.display().to_string(),
                msg,
            })?;
        LanguageModel::with_prompt(
            Box::new(decoder),
            vocab,
            schema,
            settings.budget.clone(),
            style,
        )
        .map(|m| m.with_min_step_p(settings.min_step_p))
    }

    /// Drops answers whose least sure step (the probability of a chosen
    /// token, most often the intent's) is below `p`: a request the model is
    /// unsure of is not understood rather than guessed.
    pub fn with_min_step_p(mut self, p: f32) -> Self {
        self.min_step_p = p;
        self
    }

    /// The prompt style in use.
    pub fn style(&self) -> prompt::Style {
        self.style
    }

    /// Sends every generated piece of text to `tx` as it is produced (a full
    /// channel drops pieces rather than slowing generation).
    pub fn with_stream(mut self, tx: mpsc::SyncSender<String>) -> Self {
        self.stream = Some(tx);
        self
    }

    pub fn schema(&self) -> &Arc<Schema> {
        &self.schema
    }

    pub fn vocab(&self) -> &Vocab {
        &self.vocab
    }

    /// Tokens of the cached prompt prefix.
    pub fn prefix_tokens(&self) -> usize {
        self.prefix_tokens
    }

    /// Generates the calls for `text`; `on_token` sees each piece of output.
    pub fn generate(
        &self,
        text: &str,
        on_token: &mut dyn FnMut(&str),
    ) -> Result<Generation, LmError> {
        let t0 = Instant::now();
        let ids = self.vocab.encode(&prompt::request(text), false)?;
        let mut dec = self
            .decoder
            .lock()
            .map_err(|_| LmError::Run("decoder poisoned by an earlier panic".into()))?;
        dec.reset();
        let mut state = self.schema.start();
        let mut out: Vec<u8> = Vec::new();
        let mut pending: Vec<u8> = Vec::new();
        let mut logits = dec.forward(&ids)?;
        let mut first_token_ms = 0.0;
        let mut tokens = 0usize;
        let mut logp_sum = 0.0f64;
        let mut logp_min = 0.0f64;
        let ms = |t: Instant| t.elapsed().as_secs_f64() * 1000.0;
        while !state.is_done() {
            if tokens >= self.budget.max_tokens {
                return Err(LmError::Budget {
                    what: "token",
                    tokens,
                    ms: ms(t0) as u64,
                });
            }
            if t0.elapsed() > self.budget.timeout {
                return Err(LmError::Budget {
                    what: "time",
                    tokens,
                    ms: ms(t0) as u64,
                });
            }
            let Some(tok) = constrain::pick(&self.vocab, &state, &logits) else {
                return Err(LmError::Run("no token fits the schema".into()));
            };
            let lp = log_softmax_at(&logits, tok as usize);
            logp_sum += lp;
            logp_min = logp_min.min(lp);
            let bytes = self.vocab.bytes(tok);
            if !state.feed(bytes) {
                return Err(LmError::Run("picked token refused (bug)".into()));
            }
            out.extend_from_slice(bytes);
            tokens += 1;
            if tokens == 1 {
                first_token_ms = ms(t0);
            }
            // Pieces are whole characters: a byte token may end mid-character.
            pending.extend_from_slice(bytes);
            let whole = match std::str::from_utf8(&pending) {
                Ok(_) => pending.len(),
                Err(e) => e.valid_up_to(),
            };
            if whole > 0 {
                let piece = String::from_utf8_lossy(&pending[..whole]).into_owned();
                pending.drain(..whole);
                on_token(&piece);
                if let Some(tx) = &self.stream {
                    let _ = tx.try_send(piece);
                }
            }
            if state.is_done() {
                break;
            }
            logits = dec.forward(&[tok])?;
        }
        drop(dec);
        let text_out = String::from_utf8(out)
            .map_err(|e| LmError::Run(format!("output is not UTF-8 (bug): {e}")))?;
        let calls = parse_calls(&text_out)?;
        let confidence = if tokens > 0 {
            (logp_sum / tokens as f64).exp() as f32
        } else {
            0.0
        };
        Ok(Generation {
            calls,
            text: text_out,
            prompt_tokens: self.prefix_tokens + ids.len(),
            tokens,
            first_token_ms,
            total_ms: ms(t0),
            confidence,
            least: logp_min.exp() as f32,
        })
    }

    /// The calls of `text` as intents (empty for `none`).
    pub fn intents(&self, text: &str) -> Result<Vec<Intent>, LmError> {
        let g = self.generate(text, &mut |_| {})?;
        tracing::debug!(
            output = %g.text,
            tokens = g.tokens,
            ms = g.total_ms,
            confidence = g.confidence,
            "language model"
        );
        if g.least < self.min_step_p {
            tracing::info!(
                output = %g.text,
                least = g.least,
                min = self.min_step_p,
                "language model unsure: not understood"
            );
            return Ok(Vec::new());
        }
        let lang = normalize::detect_lang(text).to_string();
        // A call said twice is done once (a small model sometimes repeats itself).
        let mut calls: Vec<Call> = Vec::with_capacity(g.calls.len());
        for c in g.calls {
            if c.intent != "none" && !calls.contains(&c) {
                calls.push(c);
            }
        }
        Ok(calls
            .into_iter()
            .map(|c| Intent {
                text: text.to_string(),
                lang: lang.clone(),
                intent: c.intent,
                slots: c.slots,
                confidence: g.confidence,
                engine: "lm".into(),
            })
            .collect())
    }
}

/// The schema guarantees the shape; this only reads it.
fn parse_calls(text: &str) -> Result<Vec<Call>, LmError> {
    let v: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| LmError::Run(format!("output not JSON (bug): {e}")))?;
    let list = v.as_array().cloned().unwrap_or_default();
    let mut calls = Vec::new();
    for c in list {
        let intent = c["intent"].as_str().unwrap_or("none").to_string();
        let mut slots = BTreeMap::new();
        if let Some(m) = c["slots"].as_object() {
            for (k, v) in m {
                let value = match v {
                    serde_json::Value::Number(n) => SlotValue::Num(n.as_f64().unwrap_or(0.0)),
                    serde_json::Value::String(s) => SlotValue::Str(s.clone()),
                    other => SlotValue::Str(other.to_string()),
                };
                slots.insert(k.clone(), value);
            }
        }
        calls.push(Call { intent, slots });
    }
    Ok(calls)
}

fn log_softmax_at(logits: &[f32], i: usize) -> f64 {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let sum: f64 = logits.iter().map(|&x| ((x as f64) - max).exp()).sum();
    (logits[i] as f64 - max) - sum.ln()
}

impl Understand for LanguageModel {
    fn understand(&self, text: &str) -> Option<Intent> {
        self.understand_all(text).and_then(|v| v.into_iter().next())
    }

    fn generative(&self) -> bool {
        true
    }

    fn understand_all(&self, text: &str) -> Option<Vec<Intent>> {
        match self.intents(text) {
            Ok(v) if !v.is_empty() => Some(v),
            Ok(_) => None,
            Err(e) => {
                tracing::warn!(error = %e, "language model gave no answer");
                None
            }
        }
    }
}

/// Load-time settings (from `[lm]` in the config).
#[derive(Debug, Clone)]
pub struct Settings {
    pub model: PathBuf,
    pub tokenizer: PathBuf,
    pub threads: usize,
    pub max_calls: usize,
    pub budget: Budget,
    /// `[lm] prompt`: auto, few-shot or tuned.
    pub prompt: String,
    /// `[lm] min_step_p`.
    pub min_step_p: f32,
}

/// The language model of the configuration, or `None` (logged) when it is
/// disabled, not installed or broken: the other engines still serve.
pub fn from_config(cfg: &crate::config::Config, reg: &Registry) -> Option<LanguageModel> {
    if !cfg.lm.enabled {
        return None;
    }
    let path = |f: &str| {
        let p = PathBuf::from(f);
        if p.is_absolute() {
            p
        } else {
            cfg.models_dir().join(p)
        }
    };
    let settings = Settings {
        model: path(&cfg.lm.model),
        tokenizer: path(&cfg.lm.tokenizer),
        threads: cfg.lm.threads,
        max_calls: cfg.lm.max_calls,
        prompt: cfg.lm.prompt.clone(),
        min_step_p: cfg.lm.min_step_p,
        budget: Budget {
            max_tokens: cfg.lm.max_tokens,
            timeout: Duration::from_millis(cfg.lm.timeout_ms),
        },
    };
    if !settings.model.is_file() || !settings.tokenizer.is_file() {
        tracing::info!(
            model = %settings.model.display(),
            "language model not installed (python3 models/install.py --only lm); open requests are not understood"
        );
        return None;
    }
    let loaded = crate::onnx::environment(&cfg.onnxruntime.library, &cfg.models_dir())
        .map_err(|e| e.to_string())
        .and_then(|env| {
            LanguageModel::load(&settings.model, &settings.tokenizer, &env, reg, &settings)
                .map_err(|e| e.to_string())
        });
    match loaded {
        Ok(m) => Some(m),
        Err(e) => {
            tracing::warn!("language model not used: {e}");
            eprintln!("warning: language model not used ({e}); the other engines still serve");
            None
        }
    }
}
