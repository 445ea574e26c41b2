//! Endpointing: from speech probabilities per 32 ms frame to "speech started"
//! and "utterance ended" (trailing silence, hard cap) or "nobody spoke".
//! Pure logic over frame counts, so it is tested without audio.
//!
//! Early end: after `early_end_ms` of silence the utterance is handed over
//! [`Step::Tentative`]ly, so recognition starts while the endpointer waits for
//! the full `trailing_silence_ms`; then [`Step::End`] confirms it, or speech
//! comes back ([`Step::Resumed`]) and the utterance goes on. Recognition takes
//! longer than the rest of the trailing silence, so the wait costs no latency,
//! and a pause inside a command never cuts it short.

use super::config::Listen;
use super::vad::VAD_FRAME;

/// Why an utterance ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// Trailing silence after speech.
    Silence,
    /// The hard cap on utterance length.
    MaxLength,
}

impl EndReason {
    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::Silence => "silence",
            EndReason::MaxLength => "max_length",
        }
    }
}

/// What one frame changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Nothing,
    /// Speech began at this frame (counted from the start of listening).
    SpeechStart {
        frame: u64,
    },
    /// The utterance is frames `start..end` (end exclusive, trailing silence excluded).
    End {
        start: u64,
        end: u64,
        reason: EndReason,
    },
    /// No speech within the timeout.
    Timeout,
    /// `early_end_ms` of silence after frames `start..end`: likely the end;
    /// an [`Step::End`] with the same frames or a [`Step::Resumed`] follows.
    Tentative {
        start: u64,
        end: u64,
    },
    /// Speech came back after a [`Step::Tentative`]: the utterance goes on.
    Resumed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Idle,
    /// Right after the wake word: speech still going on is the phrase's tail.
    Settling,
    Waiting,
    Speech {
        start: u64,
        last_voiced: u64,
        /// Last frame at or above the speech threshold.
        last_strong: u64,
        voiced: u64,
        /// The end frame of the [`Step::Tentative`] that went out, if any.
        tentative: Option<u64>,
    },
}

/// The state machine; frames are [`VAD_FRAME`] samples.
#[derive(Debug, Clone)]
pub struct Endpointer {
    state: State,
    frame: u64,
    speech_on: f32,
    speech_off: f32,
    timeout: u64,
    trailing: u64,
    /// Silent frames before a tentative end; 0: none.
    early: u64,
    max_len: u64,
    min_speech: u64,
    settle: u64,
}

fn frames(ms: u64) -> u64 {
    (ms * 16).div_ceil(VAD_FRAME as u64)
}

impl Endpointer {
    pub fn new(cfg: &Listen) -> Endpointer {
        Endpointer {
            state: State::Idle,
            frame: 0,
            speech_on: cfg.speech_threshold,
            speech_off: cfg.silence_threshold,
            timeout: frames(cfg.speech_timeout_ms),
            trailing: frames(cfg.trailing_silence_ms).max(1),
            early: if cfg.early_end_ms == 0 {
                0
            } else {
                frames(cfg.early_end_ms)
            },
            max_len: frames(cfg.max_utterance_ms),
            min_speech: frames(cfg.min_speech_ms),
            settle: frames(cfg.wake_tail_ms),
        }
    }

    /// Starts listening; frame 0 is the next frame. After the wake word
    /// (`after_wake`), speech already going on is taken as the end of the wake
    /// phrase until a silent frame, unless it lasts `wake_tail_ms` (the command
    /// said without a pause): then it is the command, from frame 0.
    pub fn start(&mut self, after_wake: bool) {
        self.state = if after_wake && self.settle > 0 {
            State::Settling
        } else {
            State::Waiting
        };
        self.frame = 0;
    }

    pub fn is_listening(&self) -> bool {
        self.state != State::Idle
    }

    /// Stops listening without a result.
    pub fn cancel(&mut self) {
        self.state = State::Idle;
    }

    /// One frame's speech probability.
    pub fn push(&mut self, p: f32) -> Step {
        let f = self.frame;
        self.frame += 1;
        match self.state {
            State::Idle => Step::Nothing,
            State::Settling => {
                if p < self.speech_off {
                    self.state = State::Waiting;
                } else if f + 1 >= self.settle {
                    self.state = State::Speech {
                        start: 0,
                        last_voiced: f,
                        last_strong: f,
                        voiced: f + 1,
                        tentative: None,
                    };
                    return Step::SpeechStart { frame: 0 };
                }
                Step::Nothing
            }
            State::Waiting => {
                if p >= self.speech_on {
                    self.state = State::Speech {
                        start: f,
                        last_voiced: f,
                        last_strong: f,
                        voiced: 1,
                        tentative: None,
                    };
                    Step::SpeechStart { frame: f }
                } else if f + 1 >= self.timeout {
                    self.state = State::Idle;
                    Step::Timeout
                } else {
                    Step::Nothing
                }
            }
            State::Speech {
                start,
                mut last_voiced,
                mut last_strong,
                mut voiced,
                mut tentative,
            } => {
                // Speech again after a tentative end takes the speech threshold
                // (a decaying tail between the two thresholds does not).
                let resumed = p >= self.speech_on && tentative.take().is_some();
                if p >= self.speech_off {
                    last_voiced = f;
                    voiced += 1;
                }
                if p >= self.speech_on {
                    last_strong = f;
                }
                if f + 1 - start >= self.max_len {
                    self.state = State::Idle;
                    return Step::End {
                        start,
                        end: f + 1,
                        reason: EndReason::MaxLength,
                    };
                }
                if f - last_voiced >= self.trailing {
                    if voiced < self.min_speech {
                        // A blip, not speech: keep waiting (the timeout still runs).
                        self.state = if f + 1 >= self.timeout {
                            State::Idle
                        } else {
                            State::Waiting
                        };
                        return if self.state == State::Idle {
                            Step::Timeout
                        } else {
                            Step::Nothing
                        };
                    }
                    self.state = State::Idle;
                    return Step::End {
                        start,
                        end: tentative.unwrap_or(last_voiced + 1),
                        reason: EndReason::Silence,
                    };
                }
                // The tentative end takes the speech threshold for silence: it
                // comes early and costs only a recognition if it was wrong.
                let early = self.early > 0
                    && self.early < self.trailing
                    && tentative.is_none()
                    && !resumed
                    && f - last_strong >= self.early
                    && voiced >= self.min_speech;
                if early {
                    tentative = Some(last_voiced + 1);
                }
                self.state = State::Speech {
                    start,
                    last_voiced,
                    last_strong,
                    voiced,
                    tentative,
                };
                if resumed {
                    Step::Resumed
                } else if early {
                    Step::Tentative {
                        start,
                        end: last_voiced + 1,
                    }
                } else {
                    Step::Nothing
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> Listen {
        Listen {
            trailing_silence_ms: 320, // 10 frames
            speech_timeout_ms: 1024,  // 32 frames
            max_utterance_ms: 3200,   // 100 frames
            min_speech_ms: 96,        // 3 frames
            early_end_ms: 0,
            ..Listen::default()
        }
    }

    fn run(ep: &mut Endpointer, probs: &[f32]) -> Vec<Step> {
        probs
            .iter()
            .map(|&p| ep.push(p))
            .filter(|s| *s != Step::Nothing)
            .collect()
    }

    #[test]
    fn idle_until_started() {
        let mut ep = Endpointer::new(&cfg());
        assert!(run(&mut ep, &[0.9; 50]).is_empty());
    }

    #[test]
    fn speech_then_trailing_silence() {
        let mut ep = Endpointer::new(&cfg());
        ep.start(false);
        let mut p = vec![0.1; 5];
        p.extend([0.9; 20]);
        p.extend([0.4; 2]); // above the silence threshold: still speech
        p.extend([0.1; 12]);
        let s = run(&mut ep, &p);
        assert_eq!(
            s,
            vec![
                Step::SpeechStart { frame: 5 },
                Step::End {
                    start: 5,
                    end: 27,
                    reason: EndReason::Silence
                }
            ]
        );
        assert!(!ep.is_listening());
    }

    #[test]
    fn timeout_and_cap() {
        let mut ep = Endpointer::new(&cfg());
        ep.start(false);
        assert_eq!(run(&mut ep, &[0.0; 40]), vec![Step::Timeout]);
        ep.start(false);
        let s = run(&mut ep, &[0.9; 150]);
        assert_eq!(s.len(), 2);
        assert_eq!(
            s[1],
            Step::End {
                start: 0,
                end: 100,
                reason: EndReason::MaxLength
            }
        );
    }

    #[test]
    fn wake_phrase_tail_is_skipped() {
        let mut ep = Endpointer::new(&Listen {
            wake_tail_ms: 320,
            ..cfg()
        });
        ep.start(true);
        let mut p = vec![0.9; 4]; // the end of "hey cabin"
        p.extend([0.1; 5]);
        p.extend([0.9; 20]);
        p.extend([0.1; 12]);
        let s = run(&mut ep, &p);
        assert_eq!(s[0], Step::SpeechStart { frame: 9 });
        assert!(matches!(
            s[1],
            Step::End {
                start: 9,
                end: 29,
                ..
            }
        ));
        // Phrase and command in one breath: the command starts at frame 0.
        ep.start(true);
        let s = run(&mut ep, &[0.9; 30]);
        assert_eq!(s[0], Step::SpeechStart { frame: 0 });
    }

    #[test]
    fn blips_are_not_speech() {
        let mut ep = Endpointer::new(&cfg());
        ep.start(false);
        let mut p = vec![0.9; 1];
        p.extend([0.0; 12]);
        p.extend([0.9; 10]);
        p.extend([0.0; 12]);
        let s = run(&mut ep, &p);
        assert_eq!(s[0], Step::SpeechStart { frame: 0 });
        assert_eq!(s[1], Step::SpeechStart { frame: 13 });
        assert!(matches!(
            s[2],
            Step::End {
                start: 13,
                end: 23,
                ..
            }
        ));
    }

    #[test]
    fn early_end_then_confirmed() {
        let mut ep = Endpointer::new(&Listen {
            early_end_ms: 96, // 3 frames
            ..cfg()
        });
        ep.start(false);
        let mut p = vec![0.9; 10];
        p.extend([0.1; 12]);
        let s = run(&mut ep, &p);
        assert_eq!(
            s,
            vec![
                Step::SpeechStart { frame: 0 },
                Step::Tentative { start: 0, end: 10 },
                Step::End {
                    start: 0,
                    end: 10,
                    reason: EndReason::Silence
                }
            ]
        );
    }

    #[test]
    fn early_end_then_resumed_keeps_one_utterance() {
        let mut ep = Endpointer::new(&Listen {
            early_end_ms: 96,
            ..cfg()
        });
        ep.start(false);
        let mut p = vec![0.9; 10];
        p.extend([0.1; 5]); // a pause inside the command
        p.extend([0.9; 6]);
        p.extend([0.1; 12]);
        let s = run(&mut ep, &p);
        assert_eq!(
            s,
            vec![
                Step::SpeechStart { frame: 0 },
                Step::Tentative { start: 0, end: 10 },
                Step::Resumed,
                Step::Tentative { start: 0, end: 21 },
                Step::End {
                    start: 0,
                    end: 21,
                    reason: EndReason::Silence
                }
            ]
        );
    }

    #[test]
    fn no_tentative_end_for_blips_or_when_off() {
        let mut ep = Endpointer::new(&Listen {
            early_end_ms: 96,
            ..cfg()
        });
        ep.start(false);
        let mut p = vec![0.9; 2]; // shorter than min_speech
        p.extend([0.0; 12]);
        assert!(!run(&mut ep, &p)
            .iter()
            .any(|s| matches!(s, Step::Tentative { .. })));
        let mut ep = Endpointer::new(&cfg()); // early_end_ms = 0
        ep.start(false);
        let mut p = vec![0.9; 10];
        p.extend([0.1; 12]);
        assert!(!run(&mut ep, &p)
            .iter()
            .any(|s| matches!(s, Step::Tentative { .. } | Step::Resumed)));
    }
}
