//! Silero VAD v6 (`models/vad/silero_vad.onnx`), streaming: every 512 new
//! samples at 16 kHz (32 ms) with the previous 64 as context, and the
//! recurrent state carried between calls.

use super::ListenError;
use ort::environment::Environment;
use ort::session::Session;
use ort::value::TensorRef;
use std::path::Path;

/// New samples per VAD step.
pub const VAD_FRAME: usize = 512;
const CONTEXT: usize = 64;
const STATE: usize = 2 * 128;

/// Speech probability per 32 ms frame.
pub trait VoiceActivity {
    /// `frame`: [`VAD_FRAME`] samples. Returns P(speech) in 0..1.
    fn probability(&mut self, frame: &[i16]) -> Result<f32, ListenError>;
    /// Forgets the recurrent state (a new utterance).
    fn reset(&mut self);
}

/// The silero model on ONNX Runtime.
pub struct SileroVad {
    session: Session,
    file: String,
    input: [f32; CONTEXT + VAD_FRAME],
    state: [f32; STATE],
    sr: [i64; 1],
}

impl SileroVad {
    pub fn load(path: &Path, env: &Environment) -> Result<SileroVad, ListenError> {
        let file = path.display().to_string();
        let bad = |msg: String| ListenError::Model {
            file: file.clone(),
            msg,
        };
        if !path.is_file() {
            return Err(bad(
                "not found; install it with `python3 models/install.py --only listen`".into(),
            ));
        }
        let session = crate::onnx::small_session_builder(env)
            .map_err(|e| bad(e.to_string()))?
            .commit_from_file(path)
            .map_err(|e| bad(format!("not a usable ONNX model: {e}")))?;
        let names: Vec<&str> = session.inputs().iter().map(|i| i.name()).collect();
        if names != ["input", "state", "sr"] {
            return Err(bad(format!(
                "expected inputs input, state, sr (silero VAD v5/v6); found {names:?}"
            )));
        }
        Ok(SileroVad {
            session,
            file,
            input: [0.0; CONTEXT + VAD_FRAME],
            state: [0.0; STATE],
            sr: [16_000],
        })
    }
}

impl VoiceActivity for SileroVad {
    fn probability(&mut self, frame: &[i16]) -> Result<f32, ListenError> {
        let bad = |msg: String| ListenError::Model {
            file: self.file.clone(),
            msg,
        };
        if frame.len() != VAD_FRAME {
            return Err(bad(format!(
                "frame of {} samples, expected {VAD_FRAME}",
                frame.len()
            )));
        }
        // Context: the last 64 samples of the previous frame.
        self.input.copy_within(VAD_FRAME.., 0);
        for (d, &s) in self.input[CONTEXT..].iter_mut().zip(frame) {
            *d = s as f32 / 32768.0;
        }
        let (p, new_state) = {
            let input =
                TensorRef::from_array_view(([1usize, CONTEXT + VAD_FRAME], &self.input[..]))
                    .map_err(|e| bad(e.to_string()))?;
            let state = TensorRef::from_array_view(([2usize, 1, 128], &self.state[..]))
                .map_err(|e| bad(e.to_string()))?;
            let sr =
                TensorRef::from_array_view(((), &self.sr[..])).map_err(|e| bad(e.to_string()))?;
            let out = self
                .session
                .run(ort::inputs!["input" => input, "state" => state, "sr" => sr])
                .map_err(|e| bad(e.to_string()))?;
            let (_, p) = out[0]
                .try_extract_tensor::<f32>()
                .map_err(|e| bad(e.to_string()))?;
            let (_, st) = out[1]
                .try_extract_tensor::<f32>()
                .map_err(|e| bad(e.to_string()))?;
            let mut ns = [0.0f32; STATE];
            if st.len() == STATE {
                ns.copy_from_slice(st);
            }
            (p.first().copied().unwrap_or(0.0), ns)
        };
        self.state = new_state;
        Ok(p)
    }

    fn reset(&mut self) {
        self.state = [0.0; STATE];
        self.input = [0.0; CONTEXT + VAD_FRAME];
    }
}
