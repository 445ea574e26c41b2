//! Listening events on `--json` and `<prefix>/assistant/events`: `wake`,
//! `listening`, `speech_start`, `speech_end`, `speech_resumed`, `timeout`, `overrun`
//! (docs/CLI.md, "Events"). `stream_ms` is the position in the audio stream.

use super::Heard;
use crate::events::{Event, Timings};
use serde_json::json;

/// The event of a listener report (`None` for the utterance itself and the end).
pub fn event_of(h: &Heard, turn: u64) -> Option<Event> {
    let t = Timings::default();
    let (name, data) = match h {
        Heard::Wake {
            phrase,
            lang,
            score,
            at_ms,
        } => (
            "wake",
            json!({"phrase": phrase, "lang": lang, "score": (*score as f64 * 1e4).round() / 1e4, "stream_ms": at_ms}),
        ),
        Heard::Listening { trigger, at_ms } => {
            ("listening", json!({"trigger": trigger, "stream_ms": at_ms}))
        }
        Heard::SpeechStart { at_ms } => ("speech_start", json!({"stream_ms": at_ms})),
        Heard::SpeechEnd {
            at_ms,
            speech_ms,
            reason,
        } => (
            "speech_end",
            json!({"stream_ms": at_ms, "speech_ms": speech_ms, "reason": reason}),
        ),
        Heard::Resumed { at_ms } => ("speech_resumed", json!({"stream_ms": at_ms})),
        Heard::Timeout { at_ms } => ("timeout", json!({"stream_ms": at_ms})),
        Heard::Overrun { overruns, dropped } => (
            "overrun",
            json!({"overruns": overruns, "dropped_samples": dropped}),
        ),
        Heard::Utterance { .. } | Heard::Confirmed { .. } | Heard::End { .. } => return None,
    };
    Some(Event::new(name, turn, data, &t))
}

/// Whether `event` is one of the listening events.
pub fn is_listen_event(event: &str) -> bool {
    matches!(
        event,
        "wake"
            | "listening"
            | "speech_start"
            | "speech_end"
            | "speech_resumed"
            | "timeout"
            | "overrun"
    )
}

/// One line for a human.
pub fn human(ev: &Event) -> String {
    let d = &ev.data;
    let g = |k: &str| d.get(k).map(|v| v.to_string()).unwrap_or_default();
    match ev.event {
        "wake" => format!("wake       {} (score {})", g("phrase"), g("score")),
        "listening" => format!("listening  ({})", g("trigger")),
        "speech_start" => "speech     started".to_string(),
        "speech_end" => format!("speech     ended ({} ms, {})", g("speech_ms"), g("reason")),
        "speech_resumed" => "speech     resumed (the command goes on)".to_string(),
        "timeout" => "timeout    nothing said".to_string(),
        _ => format!("overrun    {} samples dropped", g("dropped_samples")),
    }
}
