//! Building the listener (wake word, voice activity, endpointing) and opening
//! its audio source from the configuration.

use super::{model_path, AppError};
use crate::audio::mic::{MicSettings, MicSource};
use crate::audio::{open_input, AudioError, AudioSource};
use crate::config::Config;
use crate::listen::vad::SileroVad;
use crate::listen::{ListenSettings, Listener};
use crate::wake::{WakeDetector, WakeSettings};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// Where the listener reads audio.
#[derive(Debug, Clone)]
pub enum Input {
    /// A WAV file (`realtime`: paced like a microphone) or `-` for raw PCM on stdin.
    File { path: String, realtime: bool },
    /// The configured microphone (`[audio]`).
    Mic(MicSettings),
}

impl Input {
    /// Opens the source; call it on the thread that reads it.
    pub fn open(&self) -> Result<Box<dyn AudioSource>, AudioError> {
        match self {
            Input::File { path, realtime } => open_input(path, *realtime),
            Input::Mic(s) => Ok(Box::new(MicSource::open(s.clone())?)),
        }
    }
}

/// The microphone settings of `[audio]`.
pub fn mic_settings(cfg: &Config) -> MicSettings {
    MicSettings {
        device: cfg.audio.device.clone(),
        reconnect_initial_ms: cfg.audio.reconnect_initial_ms,
        reconnect_max_ms: cfg.audio.reconnect_max_ms,
        stall_ms: cfg.audio.stall_ms,
    }
}

/// The wake detector of `[wake]` (`None` when disabled).
pub fn build_wake(cfg: &Config) -> Result<Option<WakeDetector>, AppError> {
    if !cfg.wake.enabled {
        return Ok(None);
    }
    let env = crate::onnx::environment(&cfg.onnxruntime.library, &cfg.models_dir())?;
    let settings = WakeSettings {
        dir: cfg.models_dir().join("wakeword"),
        heads: cfg.wake.heads.iter().map(|h| model_path(cfg, h)).collect(),
        threshold: cfg.wake.threshold,
        refractory_ms: cfg.wake.refractory_ms,
    };
    WakeDetector::load(&settings, &env)
        .map(Some)
        .map_err(|e| AppError::Other(e.to_string()))
}

/// The listener of the configuration; `ptt` is the push-to-talk flag.
pub fn build_listener(cfg: &Config, ptt: Arc<AtomicBool>) -> Result<Listener, AppError> {
    let env = crate::onnx::environment(&cfg.onnxruntime.library, &cfg.models_dir())?;
    let vad = SileroVad::load(&model_path(cfg, &cfg.listen.vad_model), &env)
        .map_err(|e| AppError::Other(e.to_string()))?;
    Ok(Listener::new(
        build_wake(cfg)?,
        Box::new(vad),
        ListenSettings {
            listen: cfg.listen.clone(),
            lang_hint: cfg.wake.lang_hint,
        },
        ptt,
    ))
}
