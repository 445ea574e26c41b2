//! Audio input: whole clips ([`Clip`]) and streaming sources ([`AudioSource`]:
//! WAV file, raw PCM on stdin, microphone), all as 16 kHz mono.

pub mod clip;
pub mod denoise;
pub mod mic;
pub mod resample;
pub mod ring;
pub mod source;

pub use clip::{Clip, SAMPLE_RATE};
pub use source::{open_input, AudioSource, SourceStats};

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
    #[error("audio device {device:?}: {msg}")]
    Device { device: String, msg: String },
}
