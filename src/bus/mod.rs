//! Vehicle and infotainment buses: MQTT (VSS signals) and D-Bus (media, tuner,
//! navigation, phone).

pub mod dbus;
pub mod mqtt;
pub mod topics;

pub use mqtt::MqttBus;
pub use topics::Topics;

/// Errors of the bus layer.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("MQTT broker not connected after {0} ms")]
    NotConnected(u64),
    #[error("MQTT: {0}")]
    Mqtt(String),
    #[error("{0} publish(es) not acknowledged by the broker")]
    Unacknowledged(u64),
    #[error("bad payload: {0}")]
    Payload(String),
    #[error("bus connection closed")]
    Closed,
    #[error("D-Bus: {0}")]
    DBus(String),
}
