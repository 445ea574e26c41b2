//! Listening: audio source -> wake word / push-to-talk -> voice activity ->
//! endpointing -> one trimmed utterance per command, for the recogniser.
//!
//! The [`Listener`] runs on a thread of its own and reports [`Heard`] items
//! through a bounded channel. Per 32 ms frame it works in fixed buffers:
//! nothing is allocated until an utterance is complete.

pub mod config;
pub mod endpoint;
pub mod events;
pub mod ptt;
pub mod vad;

use crate::audio::{AudioError, AudioSource, SourceStats};
use crate::wake::{WakeDetector, WakeError};
use endpoint::{Endpointer, Step};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use vad::{VoiceActivity, VAD_FRAME};

/// Errors of the listening layer.
#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    #[error("voice activity model {file}: {msg}")]
    Model { file: String, msg: String },
    #[error(transparent)]
    Wake(#[from] WakeError),
    #[error(transparent)]
    Audio(#[from] AudioError),
}

/// Bounded capacity of the channel from the listener to the assistant.
pub const HEARD_CAPACITY: usize = 64;

/// What the listener reports. `at_ms` is the stream position (ms of audio read).
#[derive(Debug, Clone, PartialEq)]
pub enum Heard {
    Wake {
        phrase: String,
        lang: String,
        score: f32,
        at_ms: u64,
    },
    /// Listening for a command started (`trigger`: `wake` or `ptt`).
    Listening {
        trigger: &'static str,
        at_ms: u64,
    },
    SpeechStart {
        at_ms: u64,
    },
    /// The command ended; `speech_ms` is its length without trailing silence.
    SpeechEnd {
        at_ms: u64,
        speech_ms: u64,
        reason: &'static str,
    },
    /// Nobody spoke after the wake word / push-to-talk.
    Timeout {
        at_ms: u64,
    },
    /// The trimmed command audio (16 kHz mono); `lang` from the wake phrase.
    /// A `tentative` one (early end) is followed by [`Heard::Confirmed`] (act
    /// on it) or [`Heard::Resumed`] (drop it: a longer one follows).
    Utterance {
        samples: Vec<i16>,
        lang: Option<String>,
        at_ms: u64,
        tentative: bool,
    },
    /// The full trailing silence passed: the tentative utterance stands.
    Confirmed {
        at_ms: u64,
    },
    /// Speech came back after a tentative end: that utterance is void.
    Resumed {
        at_ms: u64,
    },
    /// Capture overruns since the start (reported when they grow).
    Overrun {
        overruns: u64,
        dropped: u64,
    },
    /// The source ended (file or stdin at EOF) or failed.
    End {
        at_ms: u64,
        stats: SourceStats,
        error: Option<String>,
    },
}

/// Settings of the listener.
#[derive(Debug, Clone)]
pub struct ListenSettings {
    pub listen: config::Listen,
    /// Use the wake phrase's language for the command.
    pub lang_hint: bool,
}

/// The listening loop's state.
pub struct Listener {
    wake: Option<WakeDetector>,
    vad: Box<dyn VoiceActivity + Send>,
    ep: Endpointer,
    settings: ListenSettings,
    ptt: Arc<AtomicBool>,
    /// Audio since listening started (capacity: the cap plus margin).
    utt: Vec<i16>,
    frame: [i16; VAD_FRAME],
    fill: usize,
    total: u64,
    listen_start: u64,
    lang: Option<String>,
    reported_overruns: u64,
    /// Frames of the tentative utterance handed out, awaiting confirmation.
    pending: Option<(u64, u64)>,
}

fn ms(samples: u64) -> u64 {
    samples / 16
}

impl Listener {
    pub fn new(
        wake: Option<WakeDetector>,
        vad: Box<dyn VoiceActivity + Send>,
        settings: ListenSettings,
        ptt: Arc<AtomicBool>,
    ) -> Listener {
        let cap = (settings.listen.max_utterance_ms as usize + 1000) * 16;
        Listener {
            wake,
            vad,
            ep: Endpointer::new(&settings.listen),
            settings,
            ptt,
            utt: Vec::with_capacity(cap),
            frame: [0; VAD_FRAME],
            fill: 0,
            total: 0,
            listen_start: 0,
            lang: None,
            reported_overruns: 0,
            pending: None,
        }
    }

    /// Reads `source` to its end, reporting through `out` (returns false to stop).
    pub fn run(
        &mut self,
        source: &mut dyn AudioSource,
        out: &mut dyn FnMut(Heard) -> bool,
    ) -> Result<(), ListenError> {
        let mut buf = [0i16; 1024];
        loop {
            let n = match source.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => {
                    out(Heard::End {
                        at_ms: ms(self.total),
                        stats: source.stats(),
                        error: Some(e.to_string()),
                    });
                    return Err(e.into());
                }
            };
            if !self.push(&buf[..n], out)? {
                return Ok(());
            }
            let st = source.stats();
            if st.overruns > self.reported_overruns {
                self.reported_overruns = st.overruns;
                tracing::warn!(
                    overruns = st.overruns,
                    dropped = st.dropped_samples,
                    "audio capture overrun"
                );
                if !out(Heard::Overrun {
                    overruns: st.overruns,
                    dropped: st.dropped_samples,
                }) {
                    return Ok(());
                }
            }
        }
        // The audio ended during the trailing silence: nothing more can come.
        if self.pending.take().is_some() {
            self.ep.cancel();
            self.lang = None;
            if !out(Heard::Confirmed {
                at_ms: ms(self.total),
            }) {
                return Ok(());
            }
        }
        out(Heard::End {
            at_ms: ms(self.total),
            stats: source.stats(),
            error: None,
        });
        Ok(())
    }

    /// Feeds samples; returns false when `out` asked to stop.
    pub fn push(
        &mut self,
        samples: &[i16],
        out: &mut dyn FnMut(Heard) -> bool,
    ) -> Result<bool, ListenError> {
        let mut rest = samples;
        while !rest.is_empty() {
            let take = rest.len().min(VAD_FRAME - self.fill);
            self.frame[self.fill..self.fill + take].copy_from_slice(&rest[..take]);
            self.fill += take;
            rest = &rest[take..];
            if self.fill == VAD_FRAME {
                self.fill = 0;
                if !self.frame_done(out)? {
                    return Ok(false);
                }
            }
        }
        Ok(true)
    }

    /// The command audio of frames `start..end`, with the pre-roll before and
    /// a little after the last voiced frame (word endings are soft).
    fn segment(&self, start: u64, end: u64) -> Vec<i16> {
        let pre = self.settings.listen.pre_roll_ms as usize * 16;
        let a = (start as usize * VAD_FRAME).saturating_sub(pre);
        let b = (end as usize * VAD_FRAME + 160 * 16).min(self.utt.len());
        self.utt[a.min(b)..b].to_vec()
    }

    fn start_listening(
        &mut self,
        trigger: &'static str,
        out: &mut dyn FnMut(Heard) -> bool,
    ) -> bool {
        // Push-to-talk during the trailing silence: the command before it stands.
        if self.pending.take().is_some()
            && !out(Heard::Confirmed {
                at_ms: ms(self.total),
            })
        {
            return false;
        }
        self.ep.start(trigger == "wake");
        self.vad.reset();
        self.utt.clear();
        self.listen_start = self.total;
        out(Heard::Listening {
            trigger,
            at_ms: ms(self.total),
        })
    }

    fn frame_done(&mut self, out: &mut dyn FnMut(Heard) -> bool) -> Result<bool, ListenError> {
        let frame = self.frame;
        self.total += VAD_FRAME as u64;
        // The wake word always sees the audio (its context stays continuous);
        // triggers count only while not already listening.
        if let Some(w) = self.wake.as_mut() {
            if let Some(t) = w.push(&frame)? {
                if !self.ep.is_listening() {
                    let h = &w.heads[t.head].info;
                    let (phrase, lang) = (h.phrase.clone(), h.lang.clone());
                    tracing::info!(%phrase, score = t.score, "wake word");
                    self.lang = self.settings.lang_hint.then(|| lang.clone());
                    if !out(Heard::Wake {
                        phrase,
                        lang,
                        score: t.score,
                        at_ms: ms(t.at_sample),
                    }) || !self.start_listening("wake", out)
                    {
                        return Ok(false);
                    }
                    return Ok(true); // listening starts with the next frame
                }
            }
        }
        if self.ptt.swap(false, Ordering::AcqRel) {
            self.lang = None;
            if let Some(w) = self.wake.as_mut() {
                w.quiet_from(self.total);
            }
            if !self.start_listening("ptt", out) {
                return Ok(false);
            }
            return Ok(true);
        }
        if !self.ep.is_listening() {
            return Ok(true);
        }
        if self.utt.len() + VAD_FRAME <= self.utt.capacity() {
            self.utt.extend_from_slice(&frame);
        }
        let p = self.vad.probability(&frame)?;
        let frame_ms = |f: u64| ms(self.listen_start + f * VAD_FRAME as u64);
        let keep = match self.ep.push(p) {
            Step::Nothing => true,
            Step::SpeechStart { frame } => out(Heard::SpeechStart {
                at_ms: frame_ms(frame),
            }),
            Step::Timeout => out(Heard::Timeout {
                at_ms: ms(self.total),
            }),
            Step::Tentative { start, end } => {
                self.pending = Some((start, end));
                let samples = self.segment(start, end);
                out(Heard::SpeechEnd {
                    at_ms: ms(self.total),
                    speech_ms: (end - start) * VAD_FRAME as u64 / 16,
                    reason: "silence",
                }) && out(Heard::Utterance {
                    samples,
                    lang: self.lang.clone(),
                    at_ms: ms(self.total),
                    tentative: true,
                })
            }
            Step::Resumed => {
                self.pending = None;
                out(Heard::Resumed {
                    at_ms: ms(self.total),
                })
            }
            Step::End { start, end, reason } => match self.pending.take() {
                Some(p) if p == (start, end) => {
                    self.lang = None;
                    out(Heard::Confirmed {
                        at_ms: ms(self.total),
                    })
                }
                pending => {
                    let samples = self.segment(start, end);
                    (pending.is_none()
                        || out(Heard::Resumed {
                            at_ms: ms(self.total),
                        }))
                        && out(Heard::SpeechEnd {
                            at_ms: ms(self.total),
                            speech_ms: (end - start) * VAD_FRAME as u64 / 16,
                            reason: reason.as_str(),
                        })
                        && out(Heard::Utterance {
                            samples,
                            lang: self.lang.take(),
                            at_ms: ms(self.total),
                            tentative: false,
                        })
                }
            },
        };
        Ok(keep)
    }
}
