//! Building the assistant from the configuration, and the CLI's commands.

pub mod demo;
pub mod devices;
pub mod doctor;
pub mod listen;

use crate::asr::grammar::ByteGrammar;
use crate::asr::prompt::domain_prompt;
use crate::asr::whisper::WhisperSettings;
use crate::asr::WhisperRecognizer;
use crate::config::Config;
use crate::nlu::model::IntentModel;
use crate::nlu::{Grammar, Router};
use crate::plugin::Registry;
use std::path::PathBuf;
use std::sync::Arc;

/// Errors of the application layer: each wraps the layer it came from.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Plugin(#[from] crate::plugin::PluginError),
    #[error(transparent)]
    Nlu(#[from] crate::nlu::NluError),
    #[error(transparent)]
    Asr(#[from] crate::asr::AsrError),
    #[error(transparent)]
    Audio(#[from] crate::audio::AudioError),
    #[error(transparent)]
    Bus(#[from] crate::bus::BusError),
    #[error(transparent)]
    Onnx(#[from] crate::onnx::OnnxError),
    #[error("{0}")]
    Other(String),
}

/// Loads the plugins of the configured folder; bad plugins are logged and skipped.
pub fn load_registry(cfg: &Config) -> Result<Arc<Registry>, AppError> {
    let dir = cfg.plugins_dir();
    let reg = Registry::load(&dir)?;
    for e in &reg.errors {
        eprintln!("warning: plugin skipped: {e}");
    }
    if reg.plugins.is_empty() {
        return Err(AppError::Other(format!(
            "no plugins loaded from {} (set [general] plugins_dir)",
            dir.display()
        )));
    }
    Ok(Arc::new(reg))
}

/// The understanding router: the grammar fast path, then the intent model
/// (`<models>/nlu`) for what the grammar misses, then `none`. A missing or broken
/// model is a warning: the grammar alone still serves. Last, when installed,
/// the language model (docs/LM.md) for open and compound requests.
pub fn build_router(cfg: &Config, reg: &Registry) -> Result<Router, AppError> {
    configure_onnx(cfg);
    let grammar = Grammar::compile(reg)?.with_near(cfg.nlu.near_homophones);
    tracing::info!(sentences = grammar.len(), "grammar compiled");
    let mut engines: Vec<Box<dyn crate::nlu::Understand>> = vec![Box::new(grammar)];
    if cfg.nlu.model {
        let dir = cfg.models_dir().join("nlu");
        let loaded = crate::onnx::environment(&cfg.onnxruntime.library, &cfg.models_dir())
            .map_err(|e| e.to_string())
            .and_then(|env| IntentModel::load_with_env(&dir, &env).map_err(|e| e.to_string()));
        match loaded {
            Ok(m) => {
                let m = match cfg.nlu.threshold {
                    Some(t) => m.with_threshold(t),
                    None => m,
                };
                engines.push(Box::new(m.with_registry(reg)));
            }
            Err(e) => eprintln!("warning: intent model not used ({e}); the grammar alone serves"),
        }
    }
    // Last: the language model, for open and compound requests.
    if let Some(lm) = crate::lm::from_config(cfg, reg) {
        engines.push(Box::new(lm));
    }
    Ok(Router::new(engines))
}

/// Sets the process-wide ONNX execution provider order from the config (the
/// list was checked by [`Config::validate`]); every ONNX session built after this
/// registers them (see [`crate::onnx::ep`]).
pub fn configure_onnx(cfg: &Config) {
    match crate::onnx::ep::parse_list(&cfg.onnxruntime.execution_providers) {
        Ok(eps) => crate::onnx::ep::configure(&eps),
        Err(e) => tracing::warn!("onnxruntime.execution_providers: {e}; using the CPU"),
    }
}

/// A model path: absolute as given, else relative to the models folder.
pub fn model_path(cfg: &Config, file: &str) -> PathBuf {
    let p = PathBuf::from(file);
    if p.is_absolute() {
        p
    } else {
        cfg.models_dir().join(p)
    }
}

/// The whisper recogniser of the configuration (models load on first use).
pub fn build_recognizer(cfg: &Config, reg: Option<&Registry>) -> WhisperRecognizer {
    let (prompt_en, prompt_zh) = match reg {
        Some(r) if cfg.asr.domain_prompt => (domain_prompt(r, "en"), domain_prompt(r, "zh")),
        _ => (String::new(), String::new()),
    };
    let grammar = |lang: &str| {
        reg.filter(|_| cfg.asr.grammar)
            .and_then(|r| ByteGrammar::compile(r, lang))
            .map(|g| Arc::new(g.with_near(cfg.asr.grammar_near)))
    };
    WhisperRecognizer::new(WhisperSettings {
        model: model_path(cfg, &cfg.asr.model),
        model_en: (!cfg.asr.model_en.is_empty()).then(|| model_path(cfg, &cfg.asr.model_en)),
        threads: cfg.asr.threads,
        prompt_en,
        prompt_zh,
        fit_audio_ctx: cfg.asr.fit_audio_ctx,
        fit_min_ms: cfg.asr.fit_min_ms,
        denoise: cfg.asr.denoise,
        use_gpu: cfg.asr.backend == "gpu",
        beam_size: cfg.asr.beam_size,
        grammar_en: grammar("en"),
        grammar_zh: grammar("zh"),
        grammar_max_regret: cfg.asr.grammar_max_regret,
    })
}
