//! Wake word detection, openWakeWord-style: mel spectrogram -> speech
//! embeddings ([`features`]) -> one small classifier head per phrase
//! (`models/wakeword/<name>.onnx` + `<name>.json`, trained by
//! models/wakeword/train.py). A trigger is a head's score at or above its
//! threshold; after a trigger every head is quiet for the refractory period.

pub mod features;

use features::{Features, EMB_DIM, HEAD_EMB};
use ort::environment::Environment;
use ort::session::Session;
use ort::value::TensorRef;
use std::path::{Path, PathBuf};

/// Errors of the wake word layer.
#[derive(Debug, thiserror::Error)]
pub enum WakeError {
    #[error("wake word model {file}: {msg}")]
    Model { file: String, msg: String },
    #[error("wake word head {file}: {msg}")]
    Head { file: String, msg: String },
}

/// What a head's sidecar JSON says about it.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct HeadInfo {
    pub phrase: String,
    /// `en` or `zh`: the language the phrase is spoken in.
    pub lang: String,
    /// Calibrated threshold (used unless the config sets one).
    pub threshold: f32,
}

/// One phrase's classifier.
pub struct Head {
    pub info: HeadInfo,
    pub threshold: f32,
    session: Session,
    file: String,
}

impl Head {
    /// Loads `<path>` (.onnx) and its `.json` next to it.
    pub fn load(path: &Path, env: &Environment) -> Result<Head, WakeError> {
        let file = path.display().to_string();
        let meta = path.with_extension("json");
        let bad = |msg: String| WakeError::Head {
            file: file.clone(),
            msg,
        };
        let text = std::fs::read_to_string(&meta)
            .map_err(|e| bad(format!("cannot read {}: {e}", meta.display())))?;
        let info: HeadInfo =
            serde_json::from_str(&text).map_err(|e| bad(format!("{}: {e}", meta.display())))?;
        let session = features::session(path, env)?;
        Ok(Head {
            threshold: info.threshold,
            info,
            session,
            file,
        })
    }

    /// Score of the current window of embeddings.
    pub fn score(&mut self, window: &[f32]) -> Result<f32, WakeError> {
        let bad = |msg: String| WakeError::Head {
            file: self.file.clone(),
            msg,
        };
        let input = TensorRef::from_array_view(([1usize, HEAD_EMB, EMB_DIM], window))
            .map_err(|e| bad(e.to_string()))?;
        let out = self
            .session
            .run(ort::inputs![input])
            .map_err(|e| bad(e.to_string()))?;
        let (_, s) = out[0]
            .try_extract_tensor::<f32>()
            .map_err(|e| bad(e.to_string()))?;
        Ok(s.first().copied().unwrap_or(0.0))
    }
}

/// A detection.
#[derive(Debug, Clone, PartialEq)]
pub struct Trigger {
    /// Index of the head in [`WakeDetector::heads`].
    pub head: usize,
    pub score: f32,
    /// Stream position of the decision (samples at 16 kHz).
    pub at_sample: u64,
}

/// Settings of the detector.
#[derive(Debug, Clone)]
pub struct WakeSettings {
    /// Folder of the feature models.
    pub dir: PathBuf,
    /// Head files (.onnx, each with its .json).
    pub heads: Vec<PathBuf>,
    /// Overrides every head's calibrated threshold.
    pub threshold: Option<f32>,
    /// Quiet time after a trigger, in ms.
    pub refractory_ms: u64,
}

/// Feature stages plus every head.
pub struct WakeDetector {
    features: Features,
    pub heads: Vec<Head>,
    refractory: u64,
    quiet_until: u64,
    /// Highest score of each head since the last [`WakeDetector::take_peaks`].
    peaks: Vec<f32>,
}

impl WakeDetector {
    pub fn load(s: &WakeSettings, env: &Environment) -> Result<WakeDetector, WakeError> {
        let features = Features::load(&s.dir, env)?;
        let mut heads = Vec::new();
        for p in &s.heads {
            let mut h = Head::load(p, env)?;
            if let Some(t) = s.threshold {
                h.threshold = t;
            }
            heads.push(h);
        }
        Ok(WakeDetector {
            features,
            peaks: vec![0.0; heads.len()],
            heads,
            refractory: s.refractory_ms * 16,
            quiet_until: 0,
        })
    }

    /// Feeds samples; returns the first trigger among them, if any.
    pub fn push(&mut self, samples: &[i16]) -> Result<Option<Trigger>, WakeError> {
        let mut found: Option<Trigger> = None;
        let heads = &mut self.heads;
        let peaks = &mut self.peaks;
        let quiet_until = &mut self.quiet_until;
        let refractory = self.refractory;
        self.features.push(samples, &mut |window, at| {
            if at < *quiet_until || found.is_some() {
                return Ok(());
            }
            for (i, h) in heads.iter_mut().enumerate() {
                let s = h.score(window)?;
                peaks[i] = peaks[i].max(s);
                if s >= h.threshold && found.as_ref().is_none_or(|f| s > f.score) {
                    found = Some(Trigger {
                        head: i,
                        score: s,
                        at_sample: at,
                    });
                }
            }
            if found.is_some() {
                *quiet_until = at + refractory;
            }
            Ok(())
        })?;
        Ok(found)
    }

    /// Starts the refractory period now (e.g. after push-to-talk or a command).
    pub fn quiet_from(&mut self, at_sample: u64) {
        self.quiet_until = self.quiet_until.max(at_sample + self.refractory);
    }

    /// The highest score per head since the last call (for benches and logs).
    pub fn take_peaks(&mut self) -> Vec<f32> {
        let p = self.peaks.clone();
        self.peaks.iter_mut().for_each(|x| *x = 0.0);
        p
    }
}
