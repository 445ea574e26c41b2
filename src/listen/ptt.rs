//! Push-to-talk (the steering-wheel button): a flag the listener polls once per
//! frame, set by an MQTT message on `<prefix>/assistant/ptt` or by the D-Bus
//! method `org.cabinvoice.Assistant1.PushToTalk` (docs/PROTOCOL.md).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Well-known name and object path of the assistant on D-Bus.
pub const DBUS_NAME: &str = "org.cabinvoice.Assistant";
pub const DBUS_PATH: &str = "/org/cabinvoice/Assistant";

/// The shared button state.
#[derive(Debug, Clone, Default)]
pub struct PushToTalk(Arc<AtomicBool>);

impl PushToTalk {
    pub fn press(&self) {
        self.0.store(true, Ordering::Release);
    }

    /// The flag the listener takes presses from.
    pub fn flag(&self) -> Arc<AtomicBool> {
        self.0.clone()
    }
}

struct Service(PushToTalk);

#[zbus::interface(name = "org.cabinvoice.Assistant1")]
impl Service {
    /// Starts listening for a command now, without the wake word.
    fn push_to_talk(&self) {
        tracing::info!("push-to-talk over D-Bus");
        self.0.press();
    }
}

/// Owns `org.cabinvoice.Assistant` on the configured bus and serves
/// `PushToTalk()`. Not reachable: one warning, and push-to-talk stays on MQTT.
pub async fn serve_dbus(bus: &str, ptt: PushToTalk) -> Option<zbus::Connection> {
    let result = async {
        let builder = match bus {
            "system" => zbus::connection::Builder::system(),
            _ => zbus::connection::Builder::session(),
        };
        builder
            .name(DBUS_NAME)
            .serve_at(DBUS_PATH, Service(ptt))
            .build()
            .await
    }
    .await;
    match result {
        Ok(c) => Some(c),
        Err(e) => {
            tracing::warn!(error = %e, "push-to-talk not offered on D-Bus ({bus} bus)");
            None
        }
    }
}
