//! The SDK for cabin-voice external plugins (`kind = "external"` in the manifest;
//! docs/PROTOCOL.md, "External plugins").
//!
//! A plugin process connects to the vehicle's MQTT broker, subscribes to
//! `<prefix>/plugin/<name>/request`, and answers each [`Request`] with a
//! [`Response`] on `<prefix>/plugin/<name>/response`. The SDK does the MQTT part
//! and copies the correlation id; the plugin only writes the handler:
//!
//! ```no_run
//! use cabin_voice_plugin_sdk::{Plugin, Response};
//!
//! let conn = Plugin::new("hello").broker("127.0.0.1", 1883).connect().unwrap();
//! conn.serve(|req| {
//!     if req.lang == "zh" {
//!         Response::reply("你好！")
//!     } else {
//!         Response::reply(format!("Hello! You said: {}", req.text))
//!     }
//! })
//! .unwrap();
//! ```

use rumqttc::{Client, Connection as MqttConnection, Event, MqttOptions, Packet, QoS};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// A request from the assistant: one understood command for this plugin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    /// Correlation id; the SDK copies it into the response.
    pub id: String,
    /// The intent, e.g. `vehicle.tire_check`.
    pub intent: String,
    /// Slot values (numbers, strings) by slot name.
    #[serde(default)]
    pub slots: Map<String, Value>,
    /// `en` or `zh`: the language to answer in.
    pub lang: String,
    /// What the user said.
    #[serde(default)]
    pub text: String,
    /// When the request was made (Unix ms).
    #[serde(default)]
    pub ts_ms: u64,
}

impl Request {
    /// A slot as text (numbers formatted), if it was said.
    pub fn slot(&self, name: &str) -> Option<String> {
        match self.slots.get(name)? {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        }
    }

    /// True when the user spoke Chinese.
    pub fn is_zh(&self) -> bool {
        self.lang == "zh"
    }
}

/// The plugin's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Response {
    /// Set by the SDK to the request's id.
    #[serde(default)]
    pub id: String,
    /// Whether the command was carried out.
    pub ok: bool,
    /// What the assistant says (else the manifest's reply template when `ok`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<String>,
    /// Why it failed (logged by the host, not spoken).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Response {
    /// Done; the assistant says the manifest's reply template.
    pub fn ok() -> Response {
        Response {
            id: String::new(),
            ok: true,
            reply: None,
            error: None,
        }
    }

    /// Done; the assistant says `text`.
    pub fn reply(text: impl Into<String>) -> Response {
        Response {
            reply: Some(text.into()),
            ..Response::ok()
        }
    }

    /// Not done, for `error` (logged); the assistant says its generic failure.
    pub fn fail(error: impl Into<String>) -> Response {
        Response {
            ok: false,
            error: Some(error.into()),
            ..Response::ok()
        }
    }

    /// Not done; the assistant says `text`.
    pub fn fail_with_reply(error: impl Into<String>, text: impl Into<String>) -> Response {
        Response {
            reply: Some(text.into()),
            ..Response::fail(error)
        }
    }
}

/// Errors of the SDK.
#[derive(Debug)]
pub enum Error {
    /// The broker could not be reached or the connection broke.
    Connection(String),
    /// The plugin name is not `[a-z0-9_]+`.
    BadName(String),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Connection(e) => write!(f, "MQTT: {e}"),
            Error::BadName(n) => write!(f, "plugin name {n:?}: expected [a-z0-9_]+"),
        }
    }
}

impl std::error::Error for Error {}

/// The request topic of a plugin.
pub fn request_topic(prefix: &str, plugin: &str) -> String {
    format!("{}/plugin/{plugin}/request", prefix.trim_end_matches('/'))
}

/// The response topic of a plugin.
pub fn response_topic(prefix: &str, plugin: &str) -> String {
    format!("{}/plugin/{plugin}/response", prefix.trim_end_matches('/'))
}

/// A plugin's connection settings.
#[derive(Debug, Clone)]
pub struct Plugin {
    name: String,
    host: String,
    port: u16,
    prefix: String,
    connect_timeout: Duration,
}

impl Plugin {
    /// A plugin named as in its manifest (`[plugin] name`), for a broker on
    /// `localhost:1883` with the prefix `cabin`.
    pub fn new(name: &str) -> Plugin {
        Plugin {
            name: name.to_string(),
            host: "localhost".into(),
            port: 1883,
            prefix: "cabin".into(),
            connect_timeout: Duration::from_secs(10),
        }
    }

    pub fn broker(mut self, host: &str, port: u16) -> Plugin {
        self.host = host.to_string();
        self.port = port;
        self
    }

    /// The topic prefix (`[mqtt] prefix` of the assistant).
    pub fn prefix(mut self, prefix: &str) -> Plugin {
        self.prefix = prefix.to_string();
        self
    }

    /// How long [`Plugin::connect`] waits for the broker.
    pub fn connect_timeout(mut self, t: Duration) -> Plugin {
        self.connect_timeout = t;
        self
    }

    /// Connects and subscribes; returns once the broker acknowledged the
    /// subscription, so no request published afterwards is missed.
    pub fn connect(self) -> Result<Connection, Error> {
        if self.name.is_empty()
            || !self
                .name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(Error::BadName(self.name));
        }
        static N: AtomicU32 = AtomicU32::new(0);
        let id = format!(
            "plugin-{}-{}-{}",
            self.name,
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let mut opts = MqttOptions::new(id, self.host.clone(), self.port);
        opts.set_keep_alive(Duration::from_secs(10));
        let (client, mut conn) = Client::new(opts, 16);
        let requests = request_topic(&self.prefix, &self.name);
        client
            .subscribe(requests.clone(), QoS::AtLeastOnce)
            .map_err(|e| Error::Connection(e.to_string()))?;
        loop {
            match conn.recv_timeout(self.connect_timeout) {
                Ok(Ok(Event::Incoming(Packet::SubAck(_)))) => break,
                Ok(Ok(_)) => {}
                Ok(Err(e)) => {
                    return Err(Error::Connection(format!(
                        "{}:{}: {e}",
                        self.host, self.port
                    )))
                }
                Err(_) => {
                    return Err(Error::Connection(format!(
                        "{}:{}: no answer within {} ms",
                        self.host,
                        self.port,
                        self.connect_timeout.as_millis()
                    )))
                }
            }
        }
        Ok(Connection {
            responses: response_topic(&self.prefix, &self.name),
            requests,
            client,
            conn,
        })
    }
}

/// A connected plugin, subscribed to its requests.
pub struct Connection {
    requests: String,
    responses: String,
    client: Client,
    conn: MqttConnection,
}

/// Stops a [`Connection::serve`] loop from another thread.
#[derive(Clone)]
pub struct Stopper(Client);

impl Stopper {
    pub fn stop(&self) {
        let _ = self.0.disconnect();
    }
}

impl Connection {
    /// A handle that ends [`Connection::serve`].
    pub fn stopper(&self) -> Stopper {
        Stopper(self.client.clone())
    }

    /// Answers requests with `handler` until the connection is closed (by a
    /// [`Stopper`]: `Ok`) or lost (`Err`). A request that is not valid JSON of
    /// the protocol is skipped with a message on stderr.
    pub fn serve(mut self, handler: impl Fn(Request) -> Response) -> Result<(), Error> {
        for ev in self.conn.iter() {
            match ev {
                Ok(Event::Incoming(Packet::Publish(p))) if p.topic == self.requests => {
                    let req: Request = match serde_json::from_slice(&p.payload) {
                        Ok(r) => r,
                        Err(e) => {
                            eprintln!("plugin: ignored malformed request: {e}");
                            continue;
                        }
                    };
                    let id = req.id.clone();
                    let mut resp = handler(req);
                    resp.id = id;
                    let bytes = serde_json::to_vec(&resp).expect("response serialises");
                    self.client
                        .publish(self.responses.clone(), QoS::AtLeastOnce, false, bytes)
                        .map_err(|e| Error::Connection(e.to_string()))?;
                }
                Ok(Event::Outgoing(rumqttc::Outgoing::Disconnect)) => return Ok(()),
                Ok(_) => {}
                Err(e) => return Err(Error::Connection(e.to_string())),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_format() {
        let r: Request = serde_json::from_str(
            r#"{"id": "1-2-3", "intent": "hello.greet", "slots": {"name": "Ada", "n": 2},
                "lang": "en", "text": "say hello to ada", "ts_ms": 17}"#,
        )
        .unwrap();
        assert_eq!(r.slot("name").as_deref(), Some("Ada"));
        assert_eq!(r.slot("n").as_deref(), Some("2"));
        assert_eq!(r.slot("missing"), None);
        assert!(!r.is_zh());
        let mut resp = Response::reply("Hi Ada.");
        resp.id = r.id.clone();
        assert_eq!(
            serde_json::to_value(&resp).unwrap(),
            serde_json::json!({"id": "1-2-3", "ok": true, "reply": "Hi Ada."})
        );
        assert_eq!(
            serde_json::to_value(Response::fail("no sensor")).unwrap(),
            serde_json::json!({"id": "", "ok": false, "error": "no sensor"})
        );
        assert_eq!(
            request_topic("cabin/", "hello"),
            "cabin/plugin/hello/request"
        );
        assert_eq!(response_topic("car", "hello"), "car/plugin/hello/response");
        assert!(matches!(
            Plugin::new("Bad/Name").connect(),
            Err(Error::BadName(_))
        ));
    }
}
