//! Speech recognition: a [`Clip`](crate::audio::Clip) -> [`Transcript`].

pub mod ggml;
pub mod grammar;
pub mod prompt;
pub mod steer;
pub mod whisper;

use serde::Serialize;

pub use whisper::WhisperRecognizer;

/// Errors of the recognition layer.
#[derive(Debug, thiserror::Error)]
pub enum AsrError {
    #[error("whisper model {path}: {msg}")]
    Model { path: String, msg: String },
    #[error("recognition failed: {0}")]
    Decode(String),
    #[error("unsupported language {0:?} (use auto, en or zh)")]
    Language(String),
}

/// The language to recognise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Auto,
    En,
    Zh,
}

impl std::str::FromStr for Lang {
    type Err = AsrError;
    fn from_str(s: &str) -> Result<Self, AsrError> {
        match s {
            "auto" => Ok(Lang::Auto),
            "en" => Ok(Lang::En),
            "zh" => Ok(Lang::Zh),
            other => Err(AsrError::Language(other.to_string())),
        }
    }
}

/// What was heard.
#[derive(Debug, Clone, Serialize)]
pub struct Transcript {
    pub text: String,
    /// The free transcript, when grammar-constrained decoding replaced it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub free_text: Option<String>,
    /// Regret (nats) of the grammar-constrained pass, when it ran and found a
    /// sentence; it replaced the free transcript when at most
    /// `[asr] grammar_max_regret`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grammar_regret: Option<f32>,
    pub lang: String,
    pub audio_ms: u64,
    pub asr_ms: u64,
}

/// The seam every recogniser implements.
pub trait Recognizer: Send {
    /// Transcribes 16 kHz mono samples.
    fn transcribe(&mut self, samples: &[f32], lang: Lang) -> Result<Transcript, AsrError>;
}
