//! Speech recognition: a [`Clip`](crate::audio::Clip) -> [`Transcript`].

pub mod ggml;
pub mod prompt;
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
    pub lang: String,
    pub audio_ms: u64,
    pub asr_ms: u64,
}

/// The seam every recogniser implements.
pub trait Recognizer: Send {
    /// Transcribes 16 kHz mono samples.
    fn transcribe(&mut self, samples: &[f32], lang: Lang) -> Result<Transcript, AsrError>;
}
