//! A vehicle simulator on MQTT (`cabin-voice sim`): the other end of the VSS
//! protocol (docs/PROTOCOL.md) for demos and tests.
//!
//! It holds the state of the signals the built-in plugins use, publishes each
//! one retained on `<prefix>/state/<path>` as `{"value": ...}`, takes actuation
//! requests from `<prefix>/actuate/#` (`{"value","id","ts_ms"}`), applies them and
//! republishes the state. `<prefix>/sim/speed` (`{"value": <km/h>}`) sets the
//! speed. A malformed request is logged and ignored; the simulator keeps serving.

use crate::bus::mqtt::parse_state;
use crate::bus::{BusError, Topics};
use crate::config;
use crate::scheduler::action::num;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;
use tokio::sync::mpsc;

/// Capacity of the request queue to the MQTT event loop.
pub const REQUEST_CAPACITY: usize = 256;
/// Capacity of the queue from the event loop to the simulator.
pub const INBOX_CAPACITY: usize = 64;

const SIDES: [&str; 4] = [
    "Row1.DriverSide",
    "Row1.PassengerSide",
    "Row2.DriverSide",
    "Row2.PassengerSide",
];
const STATIONS: [&str; 4] = [
    "Row1.Driver",
    "Row1.Passenger",
    "Row2.Driver",
    "Row2.Passenger",
];
const WHEELS: [&str; 4] = [
    "Row1.Wheel.Left",
    "Row1.Wheel.Right",
    "Row2.Wheel.Left",
    "Row2.Wheel.Right",
];

/// The state a parked car starts with (speed 0 unless told otherwise).
pub fn initial_state(speed_kmh: f64) -> BTreeMap<String, Value> {
    let mut s: BTreeMap<String, Value> = BTreeMap::new();
    let mut put = |k: String, v: Value| {
        s.insert(k, v);
    };
    put("Vehicle.Speed".into(), num(speed_kmh));
    for st in STATIONS {
        put(
            format!("Vehicle.Cabin.HVAC.Station.{st}.Temperature"),
            json!(22),
        );
        put(
            format!("Vehicle.Cabin.HVAC.Station.{st}.FanSpeed"),
            json!(30),
        );
    }
    for k in [
        "IsAirConditioningActive",
        "IsFrontDefrosterActive",
        "IsRearDefrosterActive",
        "IsRecirculationActive",
    ] {
        put(format!("Vehicle.Cabin.HVAC.{k}"), json!(false));
    }
    for side in SIDES {
        put(
            format!("Vehicle.Cabin.Door.{side}.Window.Position"),
            json!(0),
        );
        put(format!("Vehicle.Cabin.Door.{side}.IsLocked"), json!(true));
        put(format!("Vehicle.Cabin.Door.{side}.IsOpen"), json!(false));
        put(
            format!("Vehicle.Cabin.Seat.{side}.HeatingCooling"),
            json!(0),
        );
        put(
            format!("Vehicle.Cabin.Light.AmbientLight.{side}.IsLightOn"),
            json!(false),
        );
        put(
            format!("Vehicle.Cabin.Light.AmbientLight.{side}.Color"),
            json!("#FFFFFF"),
        );
        put(
            format!("Vehicle.Cabin.Light.AmbientLight.{side}.Intensity"),
            json!(50),
        );
        put(
            format!("Vehicle.Cabin.Light.Spotlight.{side}.IsLightOn"),
            json!(false),
        );
    }
    put("Vehicle.Cabin.Sunroof.Position".into(), json!(0));
    put("Vehicle.Body.Trunk.Rear.IsOpen".into(), json!(false));
    put(
        "Vehicle.Body.Windshield.Front.Wiping.Mode".into(),
        json!("OFF"),
    );
    put("Vehicle.Powertrain.Range".into(), json!(420));
    put(
        "Vehicle.Powertrain.FuelSystem.RelativeLevel".into(),
        json!(63),
    );
    put(
        "Vehicle.Powertrain.TractionBattery.StateOfCharge.Displayed".into(),
        json!(80),
    );
    for w in WHEELS {
        put(
            format!("Vehicle.Chassis.Axle.{w}.Tire.Pressure"),
            json!(240),
        );
    }
    put("Vehicle.Exterior.AirTemperature".into(), json!(12));
    s
}

/// Why an actuation request was not applied.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Rejected {
    #[error("not a VSS path: {0:?}")]
    Path(String),
    #[error("payload: {0}")]
    Payload(String),
    #[error("{path}: expected a {want}, got {got}")]
    Type {
        path: String,
        want: &'static str,
        got: Value,
    },
}

/// An actuation request that passed validation.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub value: Value,
    pub id: String,
    pub ts_ms: u64,
}

/// Validates `{"value": <json>, "id": "<text>", "ts_ms": <ms>}`.
pub fn parse_request(payload: &[u8]) -> Result<Request, Rejected> {
    let bad = |m: &str| Rejected::Payload(m.to_string());
    let v: Value =
        serde_json::from_slice(payload).map_err(|e| Rejected::Payload(format!("not JSON: {e}")))?;
    let Value::Object(m) = v else {
        return Err(bad("expected an object {\"value\", \"id\", \"ts_ms\"}"));
    };
    let value = m
        .get("value")
        .filter(|v| !v.is_null())
        .cloned()
        .ok_or_else(|| bad("no \"value\""))?;
    if value.is_object() || value.is_array() {
        return Err(bad("\"value\" must be a number, boolean or string"));
    }
    let id = m
        .get("id")
        .and_then(|i| i.as_str())
        .filter(|i| !i.is_empty())
        .ok_or_else(|| bad("no \"id\" string"))?
        .to_string();
    let ts_ms = m
        .get("ts_ms")
        .and_then(|t| t.as_u64())
        .ok_or_else(|| bad("no \"ts_ms\" number"))?;
    Ok(Request { value, id, ts_ms })
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        _ => "value",
    }
}

/// The simulated vehicle.
#[derive(Debug, Clone)]
pub struct Vehicle {
    pub state: BTreeMap<String, Value>,
}

impl Vehicle {
    pub fn new(speed_kmh: f64) -> Vehicle {
        Vehicle {
            state: initial_state(speed_kmh),
        }
    }

    /// Applies a request to `path`; a known signal keeps its type. Returns the new value.
    pub fn apply(&mut self, path: &str, value: Value) -> Result<Value, Rejected> {
        let ok_path = path.starts_with("Vehicle.")
            && path
                .split('.')
                .all(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
        if !ok_path {
            return Err(Rejected::Path(path.to_string()));
        }
        if let Some(old) = self.state.get(path) {
            if kind(old) != kind(&value) {
                return Err(Rejected::Type {
                    path: path.to_string(),
                    want: kind(old),
                    got: value,
                });
            }
        }
        self.state.insert(path.to_string(), value.clone());
        Ok(value)
    }
}

enum Inbox {
    Connected,
    Message(String, Vec<u8>),
}

/// Runs the simulator until SIGINT/SIGTERM. `out` gets one line per applied
/// actuation or speed change.
pub async fn run(
    cfg: &config::Mqtt,
    speed_kmh: f64,
    mut out: impl Write + Send,
) -> Result<(), BusError> {
    let topics = Topics::new(&cfg.prefix);
    let mut opts = MqttOptions::new(
        format!("cabin-voice-sim-{}", std::process::id()),
        cfg.host.clone(),
        cfg.port,
    );
    opts.set_keep_alive(Duration::from_secs(cfg.keep_alive_s.max(5)));
    opts.set_clean_session(true);
    let (client, mut eventloop) = AsyncClient::new(opts, REQUEST_CAPACITY);
    let (tx, mut rx) = mpsc::channel::<Inbox>(INBOX_CAPACITY);
    let subs = [topics.actuate_filter(), topics.sim_speed()];
    let addr = format!("{}:{}", cfg.host, cfg.port);
    let sub_client = client.clone();
    let backoff = (cfg.retry_initial_ms, cfg.retry_max_ms);
    // The event loop: connects, resubscribes after every reconnect, forwards messages.
    let events = tokio::spawn(async move {
        let mut delay = backoff.0;
        loop {
            match eventloop.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(_))) => {
                    delay = backoff.0;
                    tracing::info!(broker = %addr, "sim connected");
                    for s in &subs {
                        if let Err(e) = sub_client.subscribe(s.clone(), QoS::AtLeastOnce).await {
                            tracing::warn!(topic = %s, error = %e, "sim subscribe failed");
                        }
                    }
                    if tx.send(Inbox::Connected).await.is_err() {
                        return;
                    }
                }
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    if tx
                        .send(Inbox::Message(p.topic.clone(), p.payload.to_vec()))
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
                Ok(Event::Outgoing(rumqttc::Outgoing::Disconnect)) => return,
                Ok(_) => {}
                Err(e) => {
                    if tx.is_closed() {
                        return;
                    }
                    tracing::warn!(broker = %addr, error = %e, retry_ms = delay, "sim: broker not reachable; retrying");
                    tokio::time::sleep(Duration::from_millis(delay)).await;
                    delay = (delay * 2).min(backoff.1);
                }
            }
        }
    });
    let mut car = Vehicle::new(speed_kmh);
    let publish = |path: String, v: Value| {
        let client = client.clone();
        let topic = topics.state(&path);
        async move {
            let body = json!({ "value": v }).to_string();
            client
                .publish(topic, QoS::AtLeastOnce, true, body)
                .await
                .map_err(|e| BusError::Mqtt(e.to_string()))
        }
    };
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).map_err(|e| BusError::Mqtt(e.to_string()))?;
    let _ = writeln!(
        out,
        "sim: {} signals, speed {speed_kmh} km/h, broker {}:{}",
        car.state.len(),
        cfg.host,
        cfg.port
    );
    let _ = out.flush();
    loop {
        let msg = tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            _ = term.recv() => break,
            m = rx.recv() => match m { Some(m) => m, None => break },
        };
        match msg {
            Inbox::Connected => {
                for (k, v) in &car.state {
                    publish(k.clone(), v.clone()).await?;
                }
            }
            Inbox::Message(topic, payload) => {
                if topic == topics.sim_speed() {
                    match parse_state(&payload).map(|v| v.as_f64()) {
                        Ok(Some(kmh)) if kmh.is_finite() && (0.0..=400.0).contains(&kmh) => {
                            car.state.insert("Vehicle.Speed".into(), num(kmh));
                            publish("Vehicle.Speed".into(), num(kmh)).await?;
                            let _ = writeln!(out, "speed Vehicle.Speed = {kmh}");
                            let _ = out.flush();
                        }
                        _ => {
                            tracing::warn!(%topic, payload = %String::from_utf8_lossy(&payload), "sim: ignored speed: expected {{\"value\": 0..400}}")
                        }
                    }
                    continue;
                }
                let Some(path) = topics.actuate_path(&topic) else {
                    continue;
                };
                let applied = parse_request(&payload)
                    .and_then(|r| car.apply(path, r.value.clone()).map(|v| (r, v)));
                match applied {
                    Ok((req, v)) => {
                        publish(path.to_string(), v.clone()).await?;
                        let _ = writeln!(out, "applied {path} = {v} (id {})", req.id);
                        let _ = out.flush();
                    }
                    Err(e) => tracing::warn!(%topic, error = %e, "sim: ignored actuation request"),
                }
            }
        }
    }
    let _ = client.disconnect().await;
    events.abort();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_validated() {
        let r = parse_request(br#"{"value": 50, "id": "a-1", "ts_ms": 1}"#).unwrap();
        assert_eq!(r.value, json!(50));
        assert!(parse_request(b"50").is_err());
        assert!(parse_request(b"{bad").is_err());
        assert!(parse_request(br#"{"value": 50, "ts_ms": 1}"#).is_err());
        assert!(parse_request(br#"{"value": null, "id": "a", "ts_ms": 1}"#).is_err());
        assert!(parse_request(br#"{"value": {"x": 1}, "id": "a", "ts_ms": 1}"#).is_err());
        assert!(parse_request(br#"{"value": 1, "id": "a", "ts_ms": -4}"#).is_err());
    }

    #[test]
    fn the_car_keeps_types() {
        let mut car = Vehicle::new(0.0);
        assert_eq!(car.state["Vehicle.Powertrain.Range"], json!(420));
        assert_eq!(
            car.state["Vehicle.Cabin.HVAC.Station.Row1.Driver.Temperature"],
            json!(22)
        );
        let p = "Vehicle.Cabin.Door.Row1.DriverSide.Window.Position";
        assert_eq!(car.apply(p, json!(50)).unwrap(), json!(50));
        assert_eq!(car.state[p], json!(50));
        assert!(car.apply(p, json!(true)).is_err());
        assert!(car.apply("Vehicle.Cabin.#", json!(1)).is_err());
        assert!(car.apply("Other.Thing", json!(1)).is_err());
        assert!(car.apply("Vehicle.New.Signal", json!("x")).is_ok());
    }
}
