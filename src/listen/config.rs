//! The `[audio]`, `[wake]` and `[listen]` sections of the configuration
//! (docs/CONFIG.md); part of [`crate::config::Config`].

use serde::Deserialize;

/// The microphone.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Audio {
    /// Capture device name as `cabin-voice devices` prints it; empty: the default input.
    pub device: String,
    /// First reopen delay after the device was lost; doubles up to `reconnect_max_ms`.
    pub reconnect_initial_ms: u64,
    pub reconnect_max_ms: u64,
    /// No samples for this long counts as a lost device.
    pub stall_ms: u64,
}

impl Default for Audio {
    fn default() -> Self {
        Audio {
            device: String::new(),
            reconnect_initial_ms: 250,
            reconnect_max_ms: 5000,
            stall_ms: 2000,
        }
    }
}

/// The wake word.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Wake {
    /// Listen for the wake word (push-to-talk works either way).
    pub enabled: bool,
    /// Classifier heads, relative to the models folder; each `.onnx` has a `.json`.
    pub heads: Vec<String>,
    /// Score a head needs to trigger; unset: each head's calibrated threshold.
    pub threshold: Option<f32>,
    /// After a trigger, no other trigger for this long.
    pub refractory_ms: u64,
    /// With `[asr] language = "auto"`, decode the command in the language of
    /// the wake phrase that opened it.
    pub lang_hint: bool,
}

impl Default for Wake {
    fn default() -> Self {
        Wake {
            enabled: true,
            heads: vec![
                "wakeword/hey_cabin.onnx".into(),
                "wakeword/ni_hao_xiao_cang.onnx".into(),
            ],
            threshold: None,
            refractory_ms: 2000,
            lang_hint: true,
        }
    }
}

/// Voice activity and endpointing after the wake word or push-to-talk.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Listen {
    /// Silero VAD model, relative to the models folder.
    pub vad_model: String,
    /// Speech probability that starts speech.
    pub speech_threshold: f32,
    /// Probability under which a frame counts as silence (hysteresis).
    pub silence_threshold: f32,
    /// Give up when no speech starts within this long after the wake word.
    pub speech_timeout_ms: u64,
    /// The utterance ends after this much silence.
    pub trailing_silence_ms: u64,
    /// After this much silence recognition starts on the utterance so far,
    /// while the endpointer waits for `trailing_silence_ms`; if speech comes
    /// back first, that result is dropped and the utterance goes on. 0: off.
    pub early_end_ms: u64,
    /// Hard cap on an utterance.
    pub max_utterance_ms: u64,
    /// Audio kept before the detected speech start.
    pub pre_roll_ms: u64,
    /// Speech shorter than this is ignored (clicks, coughs, the tail of the wake phrase).
    pub min_speech_ms: u64,
    /// Speech still going on when the wake word triggers is the phrase's tail,
    /// unless it lasts this long (phrase and command said in one breath).
    pub wake_tail_ms: u64,
}

impl Default for Listen {
    fn default() -> Self {
        Listen {
            vad_model: "vad/silero_vad.onnx".into(),
            speech_threshold: 0.5,
            silence_threshold: 0.35,
            speech_timeout_ms: 5000,
            trailing_silence_ms: 300,
            early_end_ms: 64,
            max_utterance_ms: 8000,
            pre_roll_ms: 400,
            min_speech_ms: 250,
            wake_tail_ms: 700,
        }
    }
}

/// Checks values serde cannot: `(key, message)` of the first bad one.
pub fn validate(audio: &Audio, wake: &Wake, listen: &Listen) -> Result<(), (String, String)> {
    let bad = |k: &str, m: &str| Err((k.to_string(), m.to_string()));
    if audio.reconnect_initial_ms == 0 || audio.reconnect_max_ms < audio.reconnect_initial_ms {
        return bad(
            "audio.reconnect_max_ms",
            "must be >= audio.reconnect_initial_ms > 0",
        );
    }
    if let Some(t) = wake.threshold {
        if !(0.0..=1.0).contains(&t) {
            return bad("wake.threshold", "must be 0..1");
        }
    }
    if wake.enabled && wake.heads.is_empty() {
        return bad("wake.heads", "at least one head when wake.enabled");
    }
    for (k, v) in [
        ("listen.speech_threshold", listen.speech_threshold),
        ("listen.silence_threshold", listen.silence_threshold),
    ] {
        if !(0.0..=1.0).contains(&v) {
            return bad(k, "must be 0..1");
        }
    }
    if listen.silence_threshold > listen.speech_threshold {
        return bad(
            "listen.silence_threshold",
            "must not exceed listen.speech_threshold",
        );
    }
    if listen.trailing_silence_ms < 32 || listen.trailing_silence_ms > 5000 {
        return bad("listen.trailing_silence_ms", "must be 32..5000");
    }
    if listen.early_end_ms != 0 && listen.early_end_ms >= listen.trailing_silence_ms {
        return bad(
            "listen.early_end_ms",
            "must be 0 (off) or less than listen.trailing_silence_ms",
        );
    }
    if listen.max_utterance_ms < 1000 || listen.max_utterance_ms > 30_000 {
        return bad("listen.max_utterance_ms", "must be 1000..30000");
    }
    if listen.speech_timeout_ms == 0 {
        return bad("listen.speech_timeout_ms", "must be > 0");
    }
    Ok(())
}
