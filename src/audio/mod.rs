//! Audio input: whole clips from WAV files or raw PCM, as 16 kHz mono.

pub mod clip;

pub use clip::{Clip, SAMPLE_RATE};

/// Errors of the audio layer.
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    #[error("{path}: not a readable WAV file: {msg}")]
    Wav { path: String, msg: String },
    #[error("{path}: unsupported audio format: {msg}")]
    Format { path: String, msg: String },
    #[error("{path}: no audio (0 samples)")]
    Empty { path: String },
    #[error("{path}: cannot read: {err}")]
    Io { path: String, err: std::io::Error },
    #[error("resampling failed: {0}")]
    Resample(String),
}
