//! The assistant: transcript -> understanding -> scheduler -> vehicle -> reply,
//! with one event per stage (see [`crate::events`]).

use crate::asr::{Lang, Recognizer, Transcript};
use crate::audio::Clip;
use crate::bus::MqttBus;
use crate::events::{Event, Timings};
use crate::nlu::Router;
use crate::scheduler::{slots_json, Outcome, Scheduler};
use serde_json::json;
use std::io::Write;
use std::time::Instant;

/// How events are shown on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// One JSON object per line.
    Json,
    /// Short human-readable lines.
    Text,
    /// Nothing on stdout.
    Quiet,
}

/// The assistant from transcript on.
/// A recognised clip not yet acted on ([`Assistant::recognize`]).
#[derive(Debug)]
pub struct Recognized {
    /// The transcript, or the error message.
    pub result: Result<Transcript, String>,
    timings: Timings,
    t0: Instant,
}

pub struct Assistant<R: Recognizer> {
    router: Router,
    scheduler: Scheduler<MqttBus>,
    recognizer: Option<R>,
    bus: MqttBus,
    output: Output,
    turn: u64,
}

impl<R: Recognizer> Assistant<R> {
    pub fn new(
        router: Router,
        scheduler: Scheduler<MqttBus>,
        recognizer: Option<R>,
        bus: MqttBus,
        output: Output,
    ) -> Self {
        Assistant {
            router,
            scheduler,
            recognizer,
            bus,
            output,
            turn: 0,
        }
    }

    pub fn bus(&self) -> &MqttBus {
        &self.bus
    }

    /// The number of the last command (the next one is this + 1).
    pub fn turn(&self) -> u64 {
        self.turn
    }

    /// Prints `ev` (per the output mode) and publishes it on the events topic.
    pub async fn emit(&self, ev: Event) {
        match self.output {
            Output::Json => {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{}", ev.to_json());
                let _ = out.flush();
            }
            Output::Text => println!("{}", human(&ev)),
            Output::Quiet => {}
        }
        let topic = self.bus.topics().events();
        if let Err(e) = self.bus.publish(&topic, &ev.to_json(), false).await {
            tracing::warn!(error = %e, "event not published");
        }
    }

    /// Recognises a clip, then handles the transcript. `None` when nothing was said.
    pub async fn handle_clip(&mut self, clip: &Clip, lang: Lang) -> Option<Outcome> {
        let heard = self.recognize(clip, lang);
        self.finish_clip(heard).await
    }

    /// Speech recognition of `clip` alone: no event, no action yet. The
    /// listener hands over a command after a short silence and confirms it
    /// later; [`Assistant::finish_clip`] acts on it once confirmed, and a
    /// result whose command went on is dropped.
    pub fn recognize(&mut self, clip: &Clip, lang: Lang) -> Recognized {
        let t0 = Instant::now();
        let mut timings = Timings {
            audio_ms: Some(clip.duration_ms()),
            ..Default::default()
        };
        let result = match self.recognizer.as_mut() {
            None => Err("no speech recogniser configured".to_string()),
            Some(rec) => tokio::task::block_in_place(|| rec.transcribe(&clip.samples, lang))
                .map_err(|e| e.to_string()),
        };
        timings.total_ms = ms(t0);
        Recognized {
            result,
            timings,
            t0,
        }
    }

    /// Everything after speech recognition: the transcript event, then
    /// understanding and actions (or the error event).
    pub async fn finish_clip(&mut self, heard: Recognized) -> Option<Outcome> {
        self.turn += 1;
        let Recognized {
            result,
            mut timings,
            t0,
        } = heard;
        match result {
            Ok(t) => {
                timings.asr_ms = Some(t.asr_ms);
                let ev = Event::new(
                    "transcript",
                    self.turn,
                    json!({"text": t.text, "lang": t.lang}),
                    &timings,
                );
                self.emit(ev).await;
                if t.text.trim().is_empty() {
                    let ev = Event::error(self.turn, "no speech recognised", &timings);
                    self.emit(ev).await;
                    return None;
                }
                Some(self.handle_turn(&t.text, timings, t0).await)
            }
            Err(e) => {
                let ev = Event::error(self.turn, &e, &timings);
                self.emit(ev).await;
                None
            }
        }
    }

    /// Handles one typed command (everything after speech recognition).
    pub async fn handle_text(&mut self, text: &str) -> Outcome {
        self.turn += 1;
        self.handle_turn(text, Timings::default(), Instant::now())
            .await
    }

    async fn handle_turn(&mut self, text: &str, mut timings: Timings, t0: Instant) -> Outcome {
        let t_nlu = Instant::now();
        // A compound request may be several calls (from the language model):
        // each goes through the scheduler in order, with its own events.
        let intents = self.router.understand_all(text);
        timings.nlu_ms = Some(ms(t_nlu));
        let mut last = None;
        for intent in intents {
            last = Some(self.handle_intent(intent, timings.clone(), t0).await);
        }
        match last {
            Some(outcome) => outcome,
            None => {
                self.handle_intent(crate::nlu::Intent::none(text), timings, t0)
                    .await
            }
        }
    }

    async fn handle_intent(
        &mut self,
        intent: crate::nlu::Intent,
        mut timings: Timings,
        t0: Instant,
    ) -> Outcome {
        timings.total_ms = ms(t0);
        let ev = Event::new(
            "intent",
            self.turn,
            json!({"text": intent.text, "lang": intent.lang, "intent": intent.intent,
                   "slots": slots_json(&intent.slots), "confidence": intent.confidence,
                   "engine": intent.engine}),
            &timings,
        );
        self.emit(ev).await;
        let t_act = Instant::now();
        let outcome = self.scheduler.handle(intent).await;
        timings.act_ms = Some(ms(t_act));
        timings.total_ms = ms(t0);
        for a in &outcome.actions {
            let ev = Event::new(
                "action",
                self.turn,
                if a.kind == "mqtt" {
                    json!({"intent": outcome.intent, "kind": a.kind, "target": a.target,
                           "topic": self.bus.topics().actuate(&a.target), "payload": a.payload})
                } else {
                    json!({"intent": outcome.intent, "kind": a.kind, "target": a.target,
                           "payload": a.payload})
                },
                &timings,
            );
            self.emit(ev).await;
        }
        if let Some(reason) = &outcome.reason {
            let ev = Event::new(
                "error",
                self.turn,
                json!({"intent": outcome.intent, "status": outcome.status, "message": reason}),
                &timings,
            );
            self.emit(ev).await;
        }
        let ev = Event::new(
            "reply",
            self.turn,
            json!({"intent": outcome.intent, "status": outcome.status, "text": outcome.reply, "lang": outcome.lang}),
            &timings,
        );
        self.emit(ev).await;
        outcome
    }
}

fn ms(t: Instant) -> f64 {
    (t.elapsed().as_secs_f64() * 1e6).round() / 1e3
}

/// One line for a human.
fn human(ev: &Event) -> String {
    let d = &ev.data;
    let s = |k: &str| d.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
    match ev.event {
        "transcript" => format!(
            "heard      [{}] \"{}\" ({} ms audio, {} ms asr)",
            s("lang"),
            s("text"),
            ev.timings.audio_ms.unwrap_or(0),
            ev.timings.asr_ms.unwrap_or(0)
        ),
        "intent" => format!(
            "understood {} {} ({}, {:.2} ms)",
            s("intent"),
            d.get("slots").map(|v| v.to_string()).unwrap_or_default(),
            s("engine"),
            ev.timings.nlu_ms.unwrap_or(0.0)
        ),
        "action" => format!(
            "actuated   {} {}",
            if d.get("topic").is_some() {
                s("topic")
            } else {
                s("target")
            },
            d.get("payload").map(|v| v.to_string()).unwrap_or_default()
        ),
        "reply" => format!("reply      [{}] {}", s("status"), s("text")),
        e if crate::listen::events::is_listen_event(e) => crate::listen::events::human(ev),
        _ => format!("error      {}", s("message")),
    }
}
