//! The MQTT connection: one task owns rumqttc's event loop, reconnects with
//! backoff, keeps the retained vehicle state, and counts unacknowledged QoS 1
//! publishes so a command is never dropped on exit ([`MqttBus::flush`]).

use super::topics::Topics;
use super::BusError;
use crate::config;
use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, Packet, QoS};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::{mpsc, watch};

/// Largest MQTT packet accepted or sent.
pub const MAX_PACKET_BYTES: usize = 256 * 1024;
/// Capacity of the request queue between callers and the event loop.
pub const REQUEST_CAPACITY: usize = 64;
/// Capacity of the channel of incoming non-state messages (e.g. `say`).
pub const INCOMING_CAPACITY: usize = 32;
/// How long [`MqttBus::wait_connected`] waits for the retained vehicle state
/// (the sync round trip) before going on without it.
pub const STATE_SYNC_TIMEOUT: Duration = Duration::from_millis(1000);

/// Vehicle state learnt from retained `<prefix>/state/<path>` messages.
pub type StateCache = Arc<RwLock<HashMap<String, Value>>>;

/// A message on a subscribed topic other than vehicle state.
#[derive(Debug, Clone)]
pub struct Incoming {
    pub topic: String,
    pub payload: Vec<u8>,
}

/// Handle to the MQTT connection; cheap to clone.
#[derive(Clone)]
pub struct MqttBus {
    client: AsyncClient,
    topics: Topics,
    state: StateCache,
    connected: watch::Receiver<bool>,
    requested: Arc<AtomicU64>,
    acked: watch::Receiver<u64>,
    seq: Arc<AtomicU64>,
    sync_topic: String,
    synced: watch::Receiver<u64>,
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl MqttBus {
    /// Starts the connection task. Never fails for a broker that is down: the
    /// task keeps retrying with backoff and logs each failure.
    pub fn start(
        cfg: &config::Mqtt,
        extra_subscriptions: Vec<String>,
    ) -> (MqttBus, mpsc::Receiver<Incoming>) {
        let client_id = format!("{}-{}", cfg.client_id, std::process::id());
        let sync_topic = Topics::new(&cfg.prefix).sync(&client_id);
        let mut opts = MqttOptions::new(client_id, cfg.host.clone(), cfg.port);
        opts.set_keep_alive(Duration::from_secs(cfg.keep_alive_s.max(5)));
        opts.set_clean_session(true);
        // Vehicle state and events can exceed rumqttc's 10 KiB default.
        opts.set_max_packet_size(MAX_PACKET_BYTES, MAX_PACKET_BYTES);
        let (client, eventloop) = AsyncClient::new(opts, REQUEST_CAPACITY);
        let topics = Topics::new(&cfg.prefix);
        let state: StateCache = Arc::default();
        let (conn_tx, conn_rx) = watch::channel(false);
        let (ack_tx, ack_rx) = watch::channel(0u64);
        let (in_tx, in_rx) = mpsc::channel(INCOMING_CAPACITY);
        let (sync_tx, sync_rx) = watch::channel(0u64);
        // The sync topic last: its marker comes back after the retained state.
        let mut subs = vec![topics.state_filter()];
        subs.extend(extra_subscriptions);
        subs.push(sync_topic.clone());
        let task = EventTask {
            client: client.clone(),
            topics: topics.clone(),
            state: state.clone(),
            connected: conn_tx,
            acked: ack_tx,
            incoming: in_tx,
            subs,
            backoff: (cfg.retry_initial_ms, cfg.retry_max_ms),
            addr: format!("{}:{}", cfg.host, cfg.port),
            sync_topic: sync_topic.clone(),
            synced: sync_tx,
        };
        tokio::spawn(task.run(eventloop));
        (
            MqttBus {
                client,
                topics,
                state,
                connected: conn_rx,
                requested: Arc::default(),
                acked: ack_rx,
                seq: Arc::default(),
                sync_topic,
                synced: sync_rx,
            },
            in_rx,
        )
    }

    pub fn topics(&self) -> &Topics {
        &self.topics
    }

    /// The last known value of a VSS signal.
    pub fn state(&self, vss_path: &str) -> Option<Value> {
        self.state.read().ok()?.get(vss_path).cloned()
    }

    /// True once connected (and after every reconnect).
    pub fn is_connected(&self) -> bool {
        *self.connected.borrow()
    }

    /// Waits until connected, at most `timeout`, then until the retained
    /// vehicle state has arrived (at most [`STATE_SYNC_TIMEOUT`] more), so a
    /// command handled right after start sees the real speed.
    pub async fn wait_connected(&self, timeout: Duration) -> Result<(), BusError> {
        let mut rx = self.connected.clone();
        tokio::time::timeout(timeout, rx.wait_for(|c| *c))
            .await
            .map_err(|_| BusError::NotConnected(timeout.as_millis() as u64))?
            .map_err(|_| BusError::Closed)?;
        if !self.sync_state(STATE_SYNC_TIMEOUT).await {
            tracing::warn!(topic = %self.sync_topic, "broker did not echo the sync marker; vehicle state may be incomplete");
        }
        Ok(())
    }

    /// A round trip through the broker on this client's own sync topic. The
    /// broker queues retained messages for a subscription before anything
    /// published after it, so once the marker is back the retained vehicle state
    /// has been received. False when the marker did not come back in time.
    pub async fn sync_state(&self, timeout: Duration) -> bool {
        let mut rx = self.synced.clone();
        let seen = *rx.borrow();
        // QoS 1 like the state subscription: the broker queues the marker behind
        // the retained messages (a QoS 0 message may overtake queued QoS 1 ones).
        self.requested.fetch_add(1, Ordering::SeqCst);
        if self
            .client
            .publish(self.sync_topic.clone(), QoS::AtLeastOnce, false, Vec::new())
            .await
            .is_err()
        {
            return false;
        }
        let back = tokio::time::timeout(timeout, rx.wait_for(|n| *n > seen)).await;
        matches!(back, Ok(Ok(_)))
    }

    /// A unique id for an actuation request.
    pub fn next_id(&self) -> String {
        format!(
            "{}-{}-{}",
            std::process::id(),
            now_ms(),
            self.seq.fetch_add(1, Ordering::Relaxed)
        )
    }

    /// Publishes an actuation request (QoS 1); returns its id and payload.
    pub async fn actuate(&self, vss_path: &str, value: Value) -> Result<(String, Value), BusError> {
        let id = self.next_id();
        let payload = serde_json::json!({"value": value, "id": id, "ts_ms": now_ms()});
        self.publish(&self.topics.actuate(vss_path), &payload, false)
            .await?;
        Ok((id, payload))
    }

    /// Publishes JSON with QoS 1.
    pub async fn publish(
        &self,
        topic: &str,
        payload: &Value,
        retain: bool,
    ) -> Result<(), BusError> {
        let bytes = serde_json::to_vec(payload).map_err(|e| BusError::Payload(e.to_string()))?;
        self.requested.fetch_add(1, Ordering::SeqCst);
        self.client
            .publish(topic, QoS::AtLeastOnce, retain, bytes)
            .await
            .map_err(|e| BusError::Mqtt(e.to_string()))
    }

    /// Waits until the broker acknowledged every publish so far, at most `timeout`.
    pub async fn flush(&self, timeout: Duration) -> Result<(), BusError> {
        let want = self.requested.load(Ordering::SeqCst);
        let mut rx = self.acked.clone();
        tokio::time::timeout(timeout, rx.wait_for(|a| *a >= want))
            .await
            .map_err(|_| BusError::Unacknowledged(want - *self.acked.borrow()))?
            .map_err(|_| BusError::Closed)?;
        Ok(())
    }

    /// Subscribes to one more topic filter.
    pub async fn subscribe(&self, filter: &str) -> Result<(), BusError> {
        self.client
            .subscribe(filter, QoS::AtLeastOnce)
            .await
            .map_err(|e| BusError::Mqtt(e.to_string()))
    }

    /// Disconnects politely.
    pub async fn disconnect(&self) {
        let _ = self.client.disconnect().await;
    }
}

struct EventTask {
    client: AsyncClient,
    topics: Topics,
    state: StateCache,
    connected: watch::Sender<bool>,
    acked: watch::Sender<u64>,
    incoming: mpsc::Sender<Incoming>,
    subs: Vec<String>,
    backoff: (u64, u64),
    addr: String,
    sync_topic: String,
    synced: watch::Sender<u64>,
}

impl EventTask {
    async fn run(self, mut eventloop: EventLoop) {
        let mut delay = self.backoff.0;
        loop {
            match eventloop.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(_))) => {
                    delay = self.backoff.0;
                    tracing::info!(broker = %self.addr, "mqtt connected");
                    for s in &self.subs {
                        if let Err(e) = self.client.subscribe(s.clone(), QoS::AtLeastOnce).await {
                            tracing::warn!(topic = %s, error = %e, "mqtt subscribe failed");
                        }
                    }
                    let _ = self.connected.send(true);
                }
                Ok(Event::Incoming(Packet::PubAck(_))) => {
                    self.acked.send_modify(|a| *a += 1);
                }
                Ok(Event::Incoming(Packet::Publish(p))) => self.on_publish(&p.topic, &p.payload),
                Ok(Event::Outgoing(rumqttc::Outgoing::Disconnect)) => {
                    let _ = self.connected.send(false);
                    return;
                }
                Ok(_) => {}
                Err(e) => {
                    let was = *self.connected.borrow();
                    let _ = self.connected.send(false);
                    if self.connected.is_closed() && self.incoming.is_closed() {
                        return;
                    }
                    if was {
                        tracing::warn!(broker = %self.addr, error = %e, "mqtt connection lost; reconnecting");
                    } else {
                        tracing::warn!(broker = %self.addr, error = %e, retry_ms = delay, "mqtt broker not reachable; retrying");
                    }
                    tokio::time::sleep(Duration::from_millis(delay)).await;
                    delay = (delay * 2).min(self.backoff.1);
                }
            }
        }
    }

    fn on_publish(&self, topic: &str, payload: &[u8]) {
        if topic == self.sync_topic {
            self.synced.send_modify(|n| *n += 1);
            return;
        }
        if let Some(path) = self.topics.state_path(topic) {
            match parse_state(payload) {
                Ok(v) => {
                    if let Ok(mut s) = self.state.write() {
                        s.insert(path.to_string(), v);
                    }
                }
                Err(e) => tracing::warn!(%topic, error = %e, "ignored malformed vehicle state"),
            }
            return;
        }
        let msg = Incoming {
            topic: topic.to_string(),
            payload: payload.to_vec(),
        };
        if self.incoming.try_send(msg).is_err() {
            tracing::warn!(%topic, "incoming message dropped: consumer is behind");
        }
    }
}

/// Parses a state payload `{"value": <json>}`.
pub fn parse_state(payload: &[u8]) -> Result<Value, BusError> {
    let v: Value =
        serde_json::from_slice(payload).map_err(|e| BusError::Payload(format!("not JSON: {e}")))?;
    match v {
        Value::Object(mut m) => m
            .remove("value")
            .filter(|v| !v.is_null())
            .ok_or_else(|| BusError::Payload("no \"value\" field".into())),
        _ => Err(BusError::Payload(
            "expected an object {\"value\": ...}".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_payloads() {
        assert_eq!(
            parse_state(br#"{"value": 42.5}"#).unwrap(),
            serde_json::json!(42.5)
        );
        assert_eq!(
            parse_state(br#"{"value": true}"#).unwrap(),
            serde_json::json!(true)
        );
        assert!(parse_state(b"42").is_err());
        assert!(parse_state(b"{not json").is_err());
        assert!(parse_state(br#"{"val": 1}"#).is_err());
        assert!(parse_state(br#"{"value": null}"#).is_err());
    }
}
