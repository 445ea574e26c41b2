//! Assistant events: one JSON object each, printed with `--json` and published on
//! `<prefix>/assistant/events` (docs/PROTOCOL.md).

use serde::Serialize;
use serde_json::{json, Value};

/// Per-stage timings of one command, in milliseconds.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Timings {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audio_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asr_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nlu_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub act_ms: Option<f64>,
    pub total_ms: f64,
}

/// One event.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    /// `transcript`, `intent`, `action`, `reply` or `error`.
    pub event: &'static str,
    pub ts_ms: u64,
    /// Identifies the command the event belongs to.
    pub turn: u64,
    #[serde(flatten)]
    pub data: Value,
    pub timings: Timings,
}

impl Event {
    pub fn new(event: &'static str, turn: u64, data: Value, timings: &Timings) -> Self {
        Event {
            event,
            ts_ms: crate::bus::mqtt::now_ms(),
            turn,
            data,
            timings: timings.clone(),
        }
    }

    pub fn error(turn: u64, msg: &str, timings: &Timings) -> Self {
        Event::new("error", turn, json!({ "message": msg }), timings)
    }

    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}
