//! `kind = "external"` actions: the intent goes to a plugin process over MQTT
//! and its answer comes back (docs/PROTOCOL.md, "External plugins").
//!
//! The host publishes `{"id", "intent", "slots", "lang", "text", "ts_ms"}` on
//! `<prefix>/plugin/<name>/request` (QoS 1, `<name>` is always the manifest's own
//! plugin name) and waits up to `timeout_ms` (default 2000) for
//! `{"id", "ok", "reply"?, "error"?}` with the same `id` on
//! `<prefix>/plugin/<name>/response`. Responses reach [`ExternalPlugins::deliver`]
//! from the MQTT incoming channel ([`ExternalPlugins::route`]); a malformed one is
//! logged and ignored, so the request then times out.
//!
//! A circuit breaker per plugin: after `breaker_failures` (default 3) consecutive
//! timeouts or publish failures the plugin is considered down for
//! `breaker_cooldown_ms` (default 30000): requests are refused at once, then one
//! trial request is let through; its success closes the breaker, its failure
//! opens it for another cool-down. An answer with `"ok": false` is a plugin that
//! works (it said no), so it resets the count.

use super::{reply, slots_json, ActionRecord, Scheduler, Stop, Vehicle};
use crate::bus::mqtt::{now_ms, Incoming, INCOMING_CAPACITY};
use crate::bus::{BusError, MqttBus, Topics};
use crate::nlu::Intent;
use crate::plugin::{IntentDef, LoadedPlugin};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

/// How long the host waits for an answer unless the action says `timeout_ms`.
pub const DEFAULT_TIMEOUT_MS: u64 = 2000;
/// Consecutive failures that open a plugin's breaker (`breaker_failures`).
pub const DEFAULT_BREAKER_FAILURES: u32 = 3;
/// How long an open breaker refuses requests (`breaker_cooldown_ms`).
pub const DEFAULT_BREAKER_COOLDOWN_MS: u64 = 30_000;

/// A plugin's answer on `<prefix>/plugin/<name>/response`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Response {
    pub id: String,
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Parses a response payload; `id` must be a non-empty string and `ok` a boolean.
pub fn parse_response(payload: &[u8]) -> Result<Response, String> {
    let r: Response = serde_json::from_slice(payload).map_err(|e| e.to_string())?;
    if r.id.is_empty() {
        return Err("empty id".into());
    }
    Ok(r)
}

/// The timeout and breaker settings of an `external` action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    pub timeout: Duration,
    pub failures: u32,
    pub cooldown: Duration,
}

impl Settings {
    /// From `timeout_ms`, `breaker_failures`, `breaker_cooldown_ms` of the action table.
    pub fn from_action(action: &toml::Table) -> Settings {
        let int = |k: &str, d: u64| {
            action
                .get(k)
                .and_then(|v| v.as_integer())
                .filter(|v| *v >= 0)
                .map_or(d, |v| v as u64)
        };
        Settings {
            timeout: Duration::from_millis(int("timeout_ms", DEFAULT_TIMEOUT_MS).max(1)),
            failures: int("breaker_failures", DEFAULT_BREAKER_FAILURES as u64).max(1) as u32,
            cooldown: Duration::from_millis(int(
                "breaker_cooldown_ms",
                DEFAULT_BREAKER_COOLDOWN_MS,
            )),
        }
    }
}

/// Why a request got no usable answer.
#[derive(Debug, thiserror::Error)]
pub enum ExternalError {
    #[error("plugin {plugin} is not responding (breaker open after {failures} failures, {left_ms} ms of cool-down left)")]
    Open {
        plugin: String,
        failures: u32,
        left_ms: u64,
    },
    #[error("plugin {plugin}: no response within {ms} ms")]
    Timeout { plugin: String, ms: u64 },
    #[error("plugin {plugin}: request not published: {err}")]
    Publish { plugin: String, err: BusError },
}

/// One plugin's circuit breaker.
#[derive(Debug, Default)]
struct Breaker {
    failures: u32,
    open_until: Option<Instant>,
    trial: bool,
}

impl Breaker {
    /// Whether a request may go now (a trial once the cool-down is over).
    fn admit(&mut self, now: Instant) -> Result<(), Duration> {
        match self.open_until {
            None => Ok(()),
            Some(t) if now < t => Err(t - now),
            Some(_) if self.trial => Err(Duration::ZERO),
            Some(_) => {
                self.trial = true;
                Ok(())
            }
        }
    }

    fn success(&mut self) {
        *self = Breaker::default();
    }

    /// Counts a failure; true when this opened the breaker.
    fn failure(&mut self, now: Instant, s: &Settings) -> bool {
        self.failures = self.failures.saturating_add(1);
        if self.trial || self.failures >= s.failures {
            self.open_until = Some(now + s.cooldown);
            self.trial = false;
            return true;
        }
        false
    }
}

/// Publishes a JSON payload on a topic (QoS 1).
pub type Publish = Arc<
    dyn Fn(String, Value) -> Pin<Box<dyn Future<Output = Result<(), BusError>> + Send>>
        + Send
        + Sync,
>;

/// Requests to external plugins, their pending answers and breakers.
pub struct ExternalPlugins {
    topics: Topics,
    publish: Publish,
    /// Correlation id -> (plugin name, where its answer goes).
    pending: Mutex<HashMap<String, (String, oneshot::Sender<Response>)>>,
    breakers: Mutex<HashMap<String, Breaker>>,
    seq: AtomicU64,
}

impl ExternalPlugins {
    pub fn new(topics: Topics, publish: Publish) -> ExternalPlugins {
        ExternalPlugins {
            topics,
            publish,
            pending: Mutex::default(),
            breakers: Mutex::default(),
            seq: AtomicU64::new(0),
        }
    }

    /// Requests published on this MQTT connection. Its answers must be fed to
    /// [`ExternalPlugins::deliver`] (see [`ExternalPlugins::route`]); the
    /// connection must subscribe to [`Topics::plugin_response_filter`].
    pub fn mqtt(bus: MqttBus) -> ExternalPlugins {
        let topics = bus.topics().clone();
        ExternalPlugins::new(
            topics,
            Arc::new(move |topic, payload| {
                let bus = bus.clone();
                Box::pin(async move { bus.publish(&topic, &payload, false).await })
            }),
        )
    }

    pub fn topics(&self) -> &Topics {
        &self.topics
    }

    /// Takes plugin responses out of `raw` and passes everything else on in the
    /// returned channel (e.g. `say` messages), from a task of its own.
    pub fn route(self: Arc<Self>, mut raw: mpsc::Receiver<Incoming>) -> mpsc::Receiver<Incoming> {
        let (tx, rx) = mpsc::channel(INCOMING_CAPACITY);
        tokio::spawn(async move {
            while let Some(m) = raw.recv().await {
                if self.deliver(&m.topic, &m.payload) {
                    continue;
                }
                if let Err(mpsc::error::TrySendError::Full(m)) = tx.try_send(m) {
                    tracing::warn!(topic = %m.topic, "incoming message dropped: consumer is behind");
                }
            }
        });
        rx
    }

    /// Hands a response to the request waiting for it. False when `topic` is not
    /// a plugin response topic (the message is someone else's).
    pub fn deliver(&self, topic: &str, payload: &[u8]) -> bool {
        let Some(plugin) = self.topics.response_plugin(topic) else {
            return false;
        };
        let r = match parse_response(payload) {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(%topic, error = %e, "ignored malformed plugin response");
                return true;
            }
        };
        let Ok(mut pending) = self.pending.lock() else {
            return true;
        };
        match pending.remove(&r.id) {
            Some((want, tx)) if want == plugin => {
                let _ = tx.send(r);
            }
            Some(entry) => {
                tracing::warn!(%topic, id = %r.id, owner = %entry.0, "ignored plugin response for another plugin's request");
                pending.insert(r.id, entry);
            }
            None => {
                tracing::info!(%topic, id = %r.id, "ignored plugin response: no request waiting (late or unknown id)")
            }
        }
        true
    }

    /// A unique correlation id.
    fn next_id(&self) -> String {
        format!(
            "{}-{}-{}",
            std::process::id(),
            now_ms(),
            self.seq.fetch_add(1, Ordering::Relaxed)
        )
    }

    /// The request payload for an intent.
    pub fn request_payload(&self, id: &str, intent: &Intent) -> Value {
        serde_json::json!({
            "id": id,
            "intent": intent.intent,
            "slots": slots_json(&intent.slots),
            "lang": intent.lang,
            "text": intent.text,
            "ts_ms": now_ms(),
        })
    }

    /// Sends `intent` to `plugin` and waits for its answer. Returns the request
    /// topic and payload with the answer.
    pub async fn call(
        &self,
        plugin: &str,
        settings: &Settings,
        intent: &Intent,
    ) -> Result<(String, Value, Response), ExternalError> {
        {
            let mut b = self.breakers.lock().unwrap_or_else(|e| e.into_inner());
            let br = b.entry(plugin.to_string()).or_default();
            if let Err(left) = br.admit(Instant::now()) {
                return Err(ExternalError::Open {
                    plugin: plugin.to_string(),
                    failures: br.failures,
                    left_ms: left.as_millis() as u64,
                });
            }
        }
        let id = self.next_id();
        let topic = self.topics.plugin_request(plugin);
        let payload = self.request_payload(&id, intent);
        let (tx, rx) = oneshot::channel();
        self.lock_pending()
            .insert(id.clone(), (plugin.to_string(), tx));
        let result = match (self.publish)(topic.clone(), payload.clone()).await {
            Err(err) => Err(ExternalError::Publish {
                plugin: plugin.to_string(),
                err,
            }),
            Ok(()) => match tokio::time::timeout(settings.timeout, rx).await {
                Ok(Ok(r)) => Ok(r),
                _ => Err(ExternalError::Timeout {
                    plugin: plugin.to_string(),
                    ms: settings.timeout.as_millis() as u64,
                }),
            },
        };
        self.lock_pending().remove(&id);
        let mut b = self.breakers.lock().unwrap_or_else(|e| e.into_inner());
        let br = b.entry(plugin.to_string()).or_default();
        match result {
            Ok(r) => {
                br.success();
                Ok((topic, payload, r))
            }
            Err(e) => {
                if br.failure(Instant::now(), settings) {
                    tracing::warn!(
                        plugin,
                        failures = br.failures,
                        cooldown_ms = settings.cooldown.as_millis() as u64,
                        "external plugin not responding; breaker open"
                    );
                }
                Err(e)
            }
        }
    }

    fn lock_pending(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<String, (String, oneshot::Sender<Response>)>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// True for an intent whose action is `kind = "external"`.
pub fn is_external(def: &IntentDef) -> bool {
    def.action
        .as_ref()
        .and_then(|a| a.get("kind"))
        .and_then(|k| k.as_str())
        == Some("external")
}

fn not_responding(zh: bool) -> String {
    if zh {
        "这个技能暂时没有响应。".into()
    } else {
        "That skill isn't responding right now.".into()
    }
}

fn too_slow(zh: bool) -> String {
    if zh {
        "抱歉，这个技能没有及时响应。".into()
    } else {
        "Sorry, that skill didn't answer in time.".into()
    }
}

impl<V: Vehicle> Scheduler<V> {
    /// Runs a `kind = "external"` action: the plugin's `reply` (if any) is the
    /// answer, spoken instead of the manifest's template.
    pub(super) async fn run_external(
        &self,
        plugin: &LoadedPlugin,
        action: &toml::Table,
        intent: &Intent,
    ) -> Result<(Vec<ActionRecord>, Option<String>), Stop> {
        let zh = intent.lang == "zh";
        let Some(ext) = &self.external else {
            return Err(Stop::failed(
                "external plugins need the MQTT connection".into(),
                reply::unavailable(zh),
            ));
        };
        let name = &plugin.manifest.plugin.name;
        let settings = Settings::from_action(action);
        match ext.call(name, &settings, intent).await {
            Ok((topic, payload, r)) => {
                if !r.ok {
                    let why = r.error.as_deref().unwrap_or("no reason given");
                    return Err(Stop::failed(
                        format!("plugin {name} failed: {why}"),
                        r.reply.unwrap_or_else(|| reply::failed(zh)),
                    ));
                }
                let record = ActionRecord {
                    kind: "external".into(),
                    target: topic,
                    payload,
                };
                Ok((vec![record], r.reply.filter(|s| !s.trim().is_empty())))
            }
            Err(e @ ExternalError::Open { .. }) => {
                Err(Stop::refused(e.to_string(), not_responding(zh)))
            }
            Err(e @ ExternalError::Timeout { .. }) => {
                Err(Stop::failed(e.to_string(), too_slow(zh)))
            }
            Err(e @ ExternalError::Publish { .. }) => {
                Err(Stop::failed(e.to_string(), reply::failed(zh)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn intent() -> Intent {
        Intent {
            text: "check my tires".into(),
            lang: "en".into(),
            intent: "vehicle.tire_check".into(),
            slots: BTreeMap::new(),
            confidence: 1.0,
            engine: "grammar".into(),
        }
    }

    /// A plugin host whose publishes go to `answer`, which may answer through
    /// `deliver` (or not).
    fn host(
        answer: impl Fn(&ExternalPlugins, &str, &Value) + Send + Sync + 'static,
    ) -> Arc<ExternalPlugins> {
        let cell: Arc<std::sync::OnceLock<std::sync::Weak<ExternalPlugins>>> = Arc::default();
        let c2 = cell.clone();
        let answer = Arc::new(answer);
        let ext = Arc::new(ExternalPlugins::new(
            Topics::new("cabin"),
            Arc::new(move |topic, payload| {
                let ext = c2.get().and_then(|w| w.upgrade());
                let answer = answer.clone();
                Box::pin(async move {
                    if let Some(ext) = ext {
                        answer(&ext, &topic, &payload);
                    }
                    Ok(())
                })
            }),
        ));
        cell.set(Arc::downgrade(&ext)).unwrap();
        ext
    }

    fn settings(cooldown_ms: u64) -> Settings {
        Settings {
            timeout: Duration::from_millis(50),
            failures: 3,
            cooldown: Duration::from_millis(cooldown_ms),
        }
    }

    #[test]
    fn settings_defaults_and_overrides() {
        let s = Settings::from_action(&toml::Table::new());
        assert_eq!(s.timeout, Duration::from_millis(2000));
        assert_eq!(s.failures, 3);
        assert_eq!(s.cooldown, Duration::from_millis(30_000));
        let t: toml::Table =
            toml::from_str("timeout_ms = 300\nbreaker_failures = 2\nbreaker_cooldown_ms = 500")
                .unwrap();
        let s = Settings::from_action(&t);
        assert_eq!(
            (s.timeout, s.failures, s.cooldown),
            (Duration::from_millis(300), 2, Duration::from_millis(500))
        );
    }

    #[test]
    fn responses_are_validated() {
        assert!(parse_response(br#"{"id": "a", "ok": true, "reply": "hi"}"#).is_ok());
        assert!(parse_response(br#"{"id": "a", "ok": false}"#).is_ok());
        assert!(parse_response(br#"{"id": "", "ok": true}"#).is_err());
        assert!(parse_response(br#"{"id": "a"}"#).is_err());
        assert!(parse_response(br#"{"id": 3, "ok": true}"#).is_err());
        assert!(parse_response(b"not json").is_err());
    }

    #[tokio::test]
    async fn answer_is_matched_by_id_and_plugin() {
        let ext = host(|ext, topic, payload| {
            assert_eq!(topic, "cabin/plugin/tirecheck/request");
            let id = payload["id"].as_str().unwrap();
            // Noise first: malformed, another plugin's topic, an unknown id.
            assert!(ext.deliver("cabin/plugin/tirecheck/response", b"{oops"));
            let other = format!(r#"{{"id": "{id}", "ok": true, "reply": "wrong"}}"#);
            assert!(ext.deliver("cabin/plugin/other/response", other.as_bytes()));
            assert!(ext.deliver(
                "cabin/plugin/tirecheck/response",
                br#"{"id": "nope", "ok": true}"#
            ));
            assert!(!ext.deliver("cabin/assistant/say", b"hello"));
            let good = format!(r#"{{"id": "{id}", "ok": true, "reply": "All four at 2.4 bar."}}"#);
            assert!(ext.deliver("cabin/plugin/tirecheck/response", good.as_bytes()));
        });
        let (topic, payload, r) = ext
            .call("tirecheck", &settings(1000), &intent())
            .await
            .unwrap();
        assert_eq!(topic, "cabin/plugin/tirecheck/request");
        assert_eq!(payload["intent"], "vehicle.tire_check");
        assert_eq!(payload["text"], "check my tires");
        assert_eq!(r.reply.as_deref(), Some("All four at 2.4 bar."));
        assert!(ext.lock_pending().is_empty());
    }

    #[tokio::test]
    async fn breaker_opens_after_three_timeouts_then_lets_a_trial_through() {
        let answering = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let a2 = answering.clone();
        let ext = host(move |ext, _topic, payload| {
            if a2.load(Ordering::SeqCst) {
                let id = payload["id"].as_str().unwrap();
                let r = format!(r#"{{"id": "{id}", "ok": true}}"#);
                ext.deliver("cabin/plugin/p/response", r.as_bytes());
            }
        });
        let s = settings(200);
        for _ in 0..3 {
            assert!(matches!(
                ext.call("p", &s, &intent()).await,
                Err(ExternalError::Timeout { .. })
            ));
        }
        let t0 = Instant::now();
        assert!(matches!(
            ext.call("p", &s, &intent()).await,
            Err(ExternalError::Open { failures: 3, .. })
        ));
        assert!(t0.elapsed() < Duration::from_millis(40), "refused at once");
        // Another plugin is not affected.
        assert!(matches!(
            ext.call("q", &s, &intent()).await,
            Err(ExternalError::Timeout { .. })
        ));
        // After the cool-down a failing trial opens it again ...
        tokio::time::sleep(Duration::from_millis(220)).await;
        assert!(matches!(
            ext.call("p", &s, &intent()).await,
            Err(ExternalError::Timeout { .. })
        ));
        assert!(matches!(
            ext.call("p", &s, &intent()).await,
            Err(ExternalError::Open { .. })
        ));
        // ... and a good one closes it.
        answering.store(true, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(220)).await;
        assert!(ext.call("p", &s, &intent()).await.is_ok());
        assert!(ext.call("p", &s, &intent()).await.is_ok());
    }
}
