//! The first two stages of the wake word chain, streaming: the mel model on the
//! last 1760 samples every 1280 (80 ms, 8 new mel frames), the embedding model
//! on the last 76 mel frames, and a window of the last 16 embeddings for the
//! heads. Buffers are fixed arrays; models/wakeword/train.py computes training
//! features the same way.

use super::WakeError;
use ort::environment::Environment;
use ort::session::Session;
use ort::value::TensorRef;
use std::path::Path;

/// New samples per step (80 ms).
pub const HOP: usize = 1280;
/// Samples the mel model sees per step.
pub const MEL_WINDOW: usize = 1760;
/// Mel frames per step.
const MEL_PER_STEP: usize = 8;
const MEL_BINS: usize = 32;
/// Mel frames per embedding.
const EMB_FRAMES: usize = 76;
pub const EMB_DIM: usize = 96;
/// Embeddings per head decision (~1.98 s of audio).
pub const HEAD_EMB: usize = 16;

pub(crate) fn session(path: &Path, env: &Environment) -> Result<Session, WakeError> {
    let file = path.display().to_string();
    let bad = |msg: String| WakeError::Model {
        file: file.clone(),
        msg,
    };
    if !path.is_file() {
        return Err(bad(
            "not found; install it with `python3 models/install.py --only listen`".into(),
        ));
    }
    crate::onnx::small_session_builder(env)
        .map_err(|e| bad(e.to_string()))?
        .commit_from_file(path)
        .map_err(|e| bad(format!("not a usable ONNX model: {e}")))
}

/// Called with the window of embeddings and the stream position in samples.
pub type Decide<'a> = dyn FnMut(&[f32], u64) -> Result<(), WakeError> + 'a;

/// Mel + embedding stages with their rolling buffers.
pub struct Features {
    mel: Session,
    emb: Session,
    mel_file: String,
    emb_file: String,
    /// The last MEL_WINDOW samples (int16 scale, as the mel model wants).
    audio: [f32; MEL_WINDOW],
    total: u64,
    since_step: usize,
    mel_frames: [f32; EMB_FRAMES * MEL_BINS],
    mel_count: usize,
    window: [f32; HEAD_EMB * EMB_DIM],
    emb_count: usize,
}

impl Features {
    /// Loads `<dir>/melspectrogram.onnx` and `<dir>/embedding_model.onnx`.
    pub fn load(dir: &Path, env: &Environment) -> Result<Features, WakeError> {
        let mel_p = dir.join("melspectrogram.onnx");
        let emb_p = dir.join("embedding_model.onnx");
        Ok(Features {
            mel: session(&mel_p, env)?,
            emb: session(&emb_p, env)?,
            mel_file: mel_p.display().to_string(),
            emb_file: emb_p.display().to_string(),
            audio: [0.0; MEL_WINDOW],
            total: 0,
            since_step: 0,
            mel_frames: [0.0; EMB_FRAMES * MEL_BINS],
            mel_count: 0,
            window: [0.0; HEAD_EMB * EMB_DIM],
            emb_count: 0,
        })
    }

    /// Forgets all context (the next decision needs ~2 s of new audio).
    pub fn reset(&mut self) {
        self.total = 0;
        self.since_step = 0;
        self.mel_count = 0;
        self.emb_count = 0;
    }

    /// Feeds samples; after each completed step with a full window of 16
    /// embeddings calls `decide(window, samples_so_far)`.
    pub fn push(&mut self, samples: &[i16], decide: &mut Decide<'_>) -> Result<(), WakeError> {
        let mut rest = samples;
        while !rest.is_empty() {
            let take = rest.len().min(HOP - self.since_step);
            let (now, later) = rest.split_at(take);
            self.audio.copy_within(take.., 0);
            let base = MEL_WINDOW - take;
            for (d, &s) in self.audio[base..].iter_mut().zip(now) {
                *d = s as f32;
            }
            self.total += take as u64;
            self.since_step += take;
            rest = later;
            if self.since_step == HOP {
                self.since_step = 0;
                if self.total >= MEL_WINDOW as u64 && self.step()? {
                    decide(&self.window, self.total)?;
                }
            }
        }
        Ok(())
    }

    /// One 80 ms step; true when the embedding window is full.
    fn step(&mut self) -> Result<bool, WakeError> {
        let mel_bad = |msg: String| WakeError::Model {
            file: self.mel_file.clone(),
            msg,
        };
        {
            let input = TensorRef::from_array_view(([1usize, MEL_WINDOW], &self.audio[..]))
                .map_err(|e| mel_bad(e.to_string()))?;
            let out = self
                .mel
                .run(ort::inputs!["input" => input])
                .map_err(|e| mel_bad(e.to_string()))?;
            let (_, m) = out[0]
                .try_extract_tensor::<f32>()
                .map_err(|e| mel_bad(e.to_string()))?;
            if m.len() != MEL_PER_STEP * MEL_BINS {
                return Err(mel_bad(format!(
                    "{} mel values per step, expected 256",
                    m.len()
                )));
            }
            let n = MEL_PER_STEP * MEL_BINS;
            self.mel_frames.copy_within(n.., 0);
            let base = self.mel_frames.len() - n;
            for (d, &v) in self.mel_frames[base..].iter_mut().zip(m) {
                *d = v / 10.0 + 2.0;
            }
        }
        self.mel_count += MEL_PER_STEP;
        if self.mel_count < EMB_FRAMES {
            return Ok(false);
        }
        let emb_bad = |msg: String| WakeError::Model {
            file: self.emb_file.clone(),
            msg,
        };
        let input =
            TensorRef::from_array_view(([1usize, EMB_FRAMES, MEL_BINS, 1], &self.mel_frames[..]))
                .map_err(|e| emb_bad(e.to_string()))?;
        let out = self
            .emb
            .run(ort::inputs!["input_1" => input])
            .map_err(|e| emb_bad(e.to_string()))?;
        let (_, e) = out[0]
            .try_extract_tensor::<f32>()
            .map_err(|e| emb_bad(e.to_string()))?;
        if e.len() != EMB_DIM {
            return Err(emb_bad(format!(
                "{} values per embedding, expected 96",
                e.len()
            )));
        }
        self.window.copy_within(EMB_DIM.., 0);
        let base = self.window.len() - EMB_DIM;
        self.window[base..].copy_from_slice(e);
        self.emb_count += 1;
        Ok(self.emb_count >= HEAD_EMB)
    }
}
