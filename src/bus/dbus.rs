//! D-Bus actions: method calls and property writes on infotainment services
//! (MPRIS media players, the tuner, navigation, oFono), with zbus.
//!
//! A [`DBusCall`] is what a manifest's `kind = "dbus"` action resolves to once
//! its slot templates are filled. [`DBusActions`] is the seam the scheduler
//! calls; [`ZbusActions`] is the real implementation: one cached connection per
//! bus (session, system), a timeout on every call, wildcard service names
//! (`org.mpris.MediaPlayer2.*`) and the oFono modem path (`*`) resolved on the bus.

use super::BusError;
use crate::config;
use serde_json::Value;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use zbus::wire::StructureBuilder;
use zbus::{Connection, OwnedObjectPath, OwnedVariant, Variant};

/// Well-known names and interfaces the host itself talks to.
pub mod names {
    pub const DBUS: &str = "org.freedesktop.DBus";
    pub const DBUS_PATH: &str = "/org/freedesktop/DBus";
    pub const PROPERTIES: &str = "org.freedesktop.DBus.Properties";
    pub const MPRIS_PREFIX: &str = "org.mpris.MediaPlayer2.";
    pub const MPRIS_PLAYER: &str = "org.mpris.MediaPlayer2.Player";
    pub const OFONO: &str = "org.ofono";
    pub const OFONO_MANAGER: &str = "org.ofono.Manager";
    pub const OFONO_VOICECALL_MANAGER: &str = "org.ofono.VoiceCallManager";
    pub const OFONO_VOICECALL: &str = "org.ofono.VoiceCall";
}

/// Which message bus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BusKind {
    Session,
    System,
}

impl BusKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BusKind::Session => "session",
            BusKind::System => "system",
        }
    }
}

impl std::str::FromStr for BusKind {
    type Err = BusError;
    fn from_str(s: &str) -> Result<Self, BusError> {
        match s {
            "session" => Ok(BusKind::Session),
            "system" => Ok(BusKind::System),
            other => Err(BusError::DBus(format!(
                "unknown bus {other:?}: use session or system"
            ))),
        }
    }
}

/// What to do on the object.
#[derive(Debug, Clone, PartialEq)]
pub enum DBusOp {
    /// Call `method` with `args`: JSON strings become D-Bus strings (`s`), numbers
    /// doubles (`d`), booleans `b`.
    Method { method: String, args: Vec<Value> },
    /// Write a property with `org.freedesktop.DBus.Properties.Set`. The value is
    /// converted to the D-Bus type the property currently has (a number written
    /// to an `i` property is rounded); a property that cannot be read gets a double.
    /// Writing 0 over a non-zero value remembers the old value for [`DBusOp::Restore`].
    Set { property: String, value: Value },
    /// Add `step` to a numeric property (`base` when it cannot be read), clamped
    /// to `min..=max`.
    Adjust {
        property: String,
        step: f64,
        base: f64,
        min: Option<f64>,
        max: Option<f64>,
    },
    /// Write back the value remembered when the property was last set to 0 (mute);
    /// with nothing remembered keep a non-zero current value, else write `fallback`.
    Restore {
        property: String,
        fallback: Option<f64>,
    },
}

/// One D-Bus action, templates filled.
#[derive(Debug, Clone, PartialEq)]
pub struct DBusCall {
    /// `None`: the configured default bus (`[dbus] bus`).
    pub bus: Option<BusKind>,
    /// A well-known name; a trailing `*` picks a name on the bus with that prefix
    /// (for MPRIS: the player that is playing, else the first in name order).
    pub service: String,
    /// An object path; `*` is resolved on the bus (oFono: the first modem with
    /// `org.ofono.VoiceCallManager`, for `org.ofono.VoiceCall` its incoming call).
    pub path: String,
    pub interface: String,
    pub op: DBusOp,
}

impl DBusCall {
    /// The member called: the method, or `Set` of the properties interface.
    pub fn member(&self) -> String {
        match &self.op {
            DBusOp::Method { method, .. } => format!("{}.{method}", self.interface),
            DBusOp::Set { property, .. }
            | DBusOp::Adjust { property, .. }
            | DBusOp::Restore { property, .. } => {
                format!("{}.{property}", self.interface)
            }
        }
    }

    /// `<service> <path> <interface>.<member>`, for logs and errors.
    pub fn describe(&self) -> String {
        format!("{} {} {}", self.service, self.path, self.member())
    }
}

/// What was done on the bus, names resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct DBusDone {
    pub bus: BusKind,
    pub service: String,
    pub path: String,
    /// Interface of the member actually called (`org.freedesktop.DBus.Properties`
    /// for property writes).
    pub interface: String,
    pub method: String,
    /// The arguments sent, as JSON.
    pub args: Vec<Value>,
    /// The reply body as JSON (`null` when empty, the value when one, else an array).
    pub reply: Value,
}

impl DBusDone {
    /// `<service> <path> <interface>.<method>`.
    pub fn target(&self) -> String {
        format!(
            "{} {} {}.{}",
            self.service, self.path, self.interface, self.method
        )
    }
}

/// A boxed future (the seam is object-safe so the scheduler can hold any implementation).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The seam between the scheduler and D-Bus.
pub trait DBusActions: Send + Sync {
    /// Runs one action; errors name the service, path and member.
    fn call<'a>(&'a self, call: &'a DBusCall) -> BoxFuture<'a, Result<DBusDone, BusError>>;
}

/// Key of a remembered property value: service, path, interface.property.
type SavedKey = (String, String, String);

/// D-Bus actions over zbus: one cached connection per bus.
pub struct ZbusActions {
    default_bus: BusKind,
    timeout: Duration,
    conns: tokio::sync::Mutex<HashMap<BusKind, Connection>>,
    saved: Mutex<HashMap<SavedKey, f64>>,
}

impl ZbusActions {
    /// Connects to the configured bus now (so a missing bus is known at start);
    /// the other bus is connected when an action first needs it.
    pub async fn connect(cfg: &config::DBus) -> Result<ZbusActions, BusError> {
        let default_bus: BusKind = cfg.bus.parse()?;
        let actions = ZbusActions {
            default_bus,
            timeout: Duration::from_millis(cfg.call_timeout_ms.max(1)),
            conns: Default::default(),
            saved: Default::default(),
        };
        let _connected = actions.conn(default_bus).await?;
        Ok(actions)
    }

    /// The configured default bus.
    pub fn default_bus(&self) -> BusKind {
        self.default_bus
    }

    /// The cached connection to `bus`, (re)connected when needed.
    async fn conn(&self, bus: BusKind) -> Result<Connection, BusError> {
        let mut conns = self.conns.lock().await;
        if let Some(c) = conns.get(&bus).filter(|c| !c.is_closed()) {
            return Ok(c.clone());
        }
        let builder = match bus {
            BusKind::Session => zbus::connection::Builder::session(),
            BusKind::System => zbus::connection::Builder::system(),
        };
        // zbus's own method timeout is a backstop: the per-action timeout in
        // `call` fires first, with a message naming the call.
        let c = tokio::time::timeout(
            self.timeout,
            builder.method_timeout(self.timeout * 2).build(),
        )
        .await
        .map_err(|_| {
            BusError::DBus(format!(
                "{} bus: no connection within {} ms",
                bus.as_str(),
                self.timeout.as_millis()
            ))
        })?
        .map_err(|e| BusError::DBus(format!("{} bus not reachable: {e}", bus.as_str())))?;
        tracing::info!(bus = bus.as_str(), "d-bus connected");
        conns.insert(bus, c.clone());
        Ok(c)
    }

    async fn run(&self, call: &DBusCall) -> Result<DBusDone, BusError> {
        let bus = call.bus.unwrap_or(self.default_bus);
        let conn = self.conn(bus).await?;
        let service = resolve_service(&conn, call).await?;
        let path = resolve_path(&conn, &service, call).await?;
        let (interface, method, args) = match &call.op {
            DBusOp::Method { method, args } => {
                (call.interface.clone(), method.clone(), args.clone())
            }
            DBusOp::Set { property, value } => {
                let old = get_property(&conn, &service, &path, &call.interface, property)
                    .await
                    .ok();
                let old_num = old.as_ref().and_then(|v| variant_f64(v));
                if value_f64(value) == Some(0.0) {
                    if let Some(o) = old_num.filter(|o| *o != 0.0) {
                        self.remember(&service, &path, call, property, o);
                    }
                }
                let v = like(value, old.as_deref())?;
                set_property(&conn, &service, &path, &call.interface, property, v).await?;
                (
                    names::PROPERTIES.to_string(),
                    "Set".to_string(),
                    set_args(call, property, value),
                )
            }
            DBusOp::Adjust {
                property,
                step,
                base,
                min,
                max,
            } => {
                let old = get_property(&conn, &service, &path, &call.interface, property)
                    .await
                    .ok();
                let current = old.as_ref().and_then(|v| variant_f64(v)).unwrap_or(*base);
                let mut n = current + step;
                if let Some(m) = min {
                    n = n.max(*m);
                }
                if let Some(m) = max {
                    n = n.min(*m);
                }
                let n = (n * 1e6).round() / 1e6;
                let value = Value::from(n);
                let v = like(&value, old.as_deref())?;
                set_property(&conn, &service, &path, &call.interface, property, v).await?;
                (
                    names::PROPERTIES.to_string(),
                    "Set".to_string(),
                    set_args(call, property, &value),
                )
            }
            DBusOp::Restore { property, fallback } => {
                let old = get_property(&conn, &service, &path, &call.interface, property)
                    .await
                    .ok();
                let current = old.as_ref().and_then(|v| variant_f64(v));
                let saved = self.take_saved(&service, &path, call, property);
                let n = saved
                    .or(current.filter(|c| *c != 0.0))
                    .or(*fallback)
                    .ok_or_else(|| {
                        BusError::DBus(format!("{}: no saved value to restore", call.describe()))
                    })?;
                let value = Value::from(n);
                let v = like(&value, old.as_deref())?;
                set_property(&conn, &service, &path, &call.interface, property, v).await?;
                (
                    names::PROPERTIES.to_string(),
                    "Set".to_string(),
                    set_args(call, property, &value),
                )
            }
        };
        let reply = match &call.op {
            DBusOp::Method { .. } => {
                call_method(&conn, &service, &path, &interface, &method, &args).await?
            }
            _ => Value::Null,
        };
        Ok(DBusDone {
            bus,
            service,
            path,
            interface,
            method,
            args,
            reply,
        })
    }

    fn remember(&self, service: &str, path: &str, call: &DBusCall, property: &str, v: f64) {
        if let Ok(mut s) = self.saved.lock() {
            s.insert(
                (
                    service.into(),
                    path.into(),
                    format!("{}.{property}", call.interface),
                ),
                v,
            );
        }
    }

    fn take_saved(
        &self,
        service: &str,
        path: &str,
        call: &DBusCall,
        property: &str,
    ) -> Option<f64> {
        self.saved.lock().ok()?.remove(&(
            service.into(),
            path.into(),
            format!("{}.{property}", call.interface),
        ))
    }
}

impl DBusActions for ZbusActions {
    fn call<'a>(&'a self, call: &'a DBusCall) -> BoxFuture<'a, Result<DBusDone, BusError>> {
        Box::pin(async move {
            match tokio::time::timeout(self.timeout, self.run(call)).await {
                Ok(r) => r,
                Err(_) => Err(BusError::DBus(format!(
                    "{}: no reply within {} ms",
                    call.describe(),
                    self.timeout.as_millis()
                ))),
            }
        })
    }
}

/// Connects to the configured bus for the assistant. `None` (after one warning)
/// when it is not reachable: D-Bus actions then fail with a spoken reason.
pub async fn connect(cfg: &config::DBus) -> Option<Arc<ZbusActions>> {
    match ZbusActions::connect(cfg).await {
        Ok(a) => Some(Arc::new(a)),
        Err(e) => {
            tracing::warn!(bus = %cfg.bus, error = %e, "D-Bus not available; media, radio, navigation and phone actions are off");
            None
        }
    }
}

fn set_args(call: &DBusCall, property: &str, value: &Value) -> Vec<Value> {
    vec![
        Value::from(call.interface.clone()),
        Value::from(property),
        value.clone(),
    ]
}

fn err(target: &str, e: impl std::fmt::Display) -> BusError {
    BusError::DBus(format!("{target}: {e}"))
}

/// Picks the concrete service for a name ending in `*`.
async fn resolve_service(conn: &Connection, call: &DBusCall) -> Result<String, BusError> {
    let Some(prefix) = call.service.strip_suffix('*') else {
        return Ok(call.service.clone());
    };
    let target = format!("{} {}.ListNames", names::DBUS, names::DBUS);
    let reply = conn
        .call_method(
            Some(names::DBUS),
            names::DBUS_PATH,
            Some(names::DBUS),
            "ListNames",
            &(),
        )
        .await
        .map_err(|e| err(&target, e))?;
    let mut found: Vec<String> = reply
        .body()
        .deserialize::<Vec<String>>()
        .map_err(|e| err(&target, e))?
        .into_iter()
        .filter(|n| n.starts_with(prefix) && n.len() > prefix.len())
        .collect();
    found.sort();
    if found.is_empty() {
        return Err(BusError::DBus(format!(
            "{}: no service named {} on the bus",
            call.describe(),
            call.service
        )));
    }
    if call.service.starts_with(names::MPRIS_PREFIX) {
        for name in &found {
            let status = get_property(
                conn,
                name,
                "/org/mpris/MediaPlayer2",
                names::MPRIS_PLAYER,
                "PlaybackStatus",
            )
            .await;
            if matches!(status.as_deref(), Ok(Variant::Str(s)) if s.as_str() == "Playing") {
                return Ok(name.clone());
            }
        }
    }
    Ok(found.swap_remove(0))
}

/// oFono's `a(oa{sv})` lists (modems, calls).
type ObjectList = Vec<(OwnedObjectPath, HashMap<String, OwnedVariant>)>;

/// Resolves a `*` path (only oFono objects can be found this way).
async fn resolve_path(
    conn: &Connection,
    service: &str,
    call: &DBusCall,
) -> Result<String, BusError> {
    if call.path != "*" {
        return Ok(call.path.clone());
    }
    if service != names::OFONO {
        return Err(BusError::DBus(format!(
            "{}: path \"*\" can only be resolved for {}",
            call.describe(),
            names::OFONO
        )));
    }
    let target = format!("{} / {}.GetModems", names::OFONO, names::OFONO_MANAGER);
    let reply = conn
        .call_method(
            Some(names::OFONO),
            "/",
            Some(names::OFONO_MANAGER),
            "GetModems",
            &(),
        )
        .await
        .map_err(|e| err(&target, e))?;
    let modems: ObjectList = reply.body().deserialize().map_err(|e| err(&target, e))?;
    let has_calls = |props: &HashMap<String, OwnedVariant>| {
        props
            .get("Interfaces")
            .and_then(|v| match &**v {
                Variant::Array(a) => Some(
                    a.inner()
                        .iter()
                        .any(|i| matches!(i, Variant::Str(s) if s.as_str() == names::OFONO_VOICECALL_MANAGER)),
                ),
                _ => None,
            })
            .unwrap_or(false)
    };
    let modem = modems
        .iter()
        .find(|(_, p)| has_calls(p))
        .or(modems.first())
        .map(|(p, _)| p.as_str().to_string())
        .ok_or_else(|| {
            BusError::DBus(format!(
                "{}: no modem (is a phone connected?)",
                call.describe()
            ))
        })?;
    if call.interface != names::OFONO_VOICECALL {
        return Ok(modem);
    }
    let target = format!(
        "{} {modem} {}.GetCalls",
        names::OFONO,
        names::OFONO_VOICECALL_MANAGER
    );
    let reply = conn
        .call_method(
            Some(names::OFONO),
            modem.as_str(),
            Some(names::OFONO_VOICECALL_MANAGER),
            "GetCalls",
            &(),
        )
        .await
        .map_err(|e| err(&target, e))?;
    let calls: ObjectList = reply.body().deserialize().map_err(|e| err(&target, e))?;
    let state = |p: &HashMap<String, OwnedVariant>| match p.get("State").map(|v| &**v) {
        Some(Variant::Str(s)) => s.as_str().to_string(),
        _ => String::new(),
    };
    ["incoming", "waiting"]
        .iter()
        .find_map(|want| calls.iter().find(|(_, p)| state(p) == *want))
        .map(|(p, _)| p.as_str().to_string())
        .ok_or_else(|| BusError::DBus(format!("{}: no incoming call", call.describe())))
}

/// A JSON argument as a D-Bus value.
pub fn json_to_variant(v: &Value) -> Result<Variant<'static>, BusError> {
    match v {
        Value::String(s) => Ok(Variant::from(s.clone())),
        Value::Bool(b) => Ok(Variant::Bool(*b)),
        Value::Number(n) => n
            .as_f64()
            .map(Variant::F64)
            .ok_or_else(|| BusError::DBus(format!("number {n} is not representable"))),
        other => Err(BusError::DBus(format!(
            "unsupported D-Bus argument {other}"
        ))),
    }
}

/// A D-Bus value as JSON (containers recursively; dictionaries with string keys
/// become objects).
pub fn variant_to_json(v: &Variant<'_>) -> Value {
    match v {
        Variant::U8(n) => (*n).into(),
        Variant::Bool(b) => (*b).into(),
        Variant::I16(n) => (*n).into(),
        Variant::U16(n) => (*n).into(),
        Variant::I32(n) => (*n).into(),
        Variant::U32(n) => (*n).into(),
        Variant::I64(n) => (*n).into(),
        Variant::U64(n) => (*n).into(),
        Variant::F64(n) => serde_json::Number::from_f64(*n)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        Variant::Str(s) => s.as_str().into(),
        Variant::Signature(s) => s.to_string().into(),
        Variant::ObjectPath(p) => p.as_str().into(),
        Variant::Variant(inner) => variant_to_json(inner),
        Variant::Array(a) => Value::Array(a.inner().iter().map(variant_to_json).collect()),
        Variant::Dict(d) => {
            let mut m = serde_json::Map::new();
            for (k, v) in d.iter() {
                let key = match variant_to_json(k) {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                m.insert(key, variant_to_json(v));
            }
            Value::Object(m)
        }
        Variant::Structure(s) => Value::Array(s.fields().iter().map(variant_to_json).collect()),
        #[cfg(unix)]
        Variant::Fd(_) => Value::Null,
    }
}

/// A number out of a JSON value.
fn value_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        _ => None,
    }
}

/// A number out of a D-Bus value (variants unwrapped).
pub fn variant_f64(v: &Variant<'_>) -> Option<f64> {
    match v {
        Variant::U8(n) => Some(*n as f64),
        Variant::I16(n) => Some(*n as f64),
        Variant::U16(n) => Some(*n as f64),
        Variant::I32(n) => Some(*n as f64),
        Variant::U32(n) => Some(*n as f64),
        Variant::I64(n) => Some(*n as f64),
        Variant::U64(n) => Some(*n as f64),
        Variant::F64(n) => Some(*n),
        Variant::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        Variant::Variant(inner) => variant_f64(inner),
        _ => None,
    }
}

/// `value` as a D-Bus value of the same type as `current` (when known).
pub fn like(value: &Value, current: Option<&Variant<'_>>) -> Result<Variant<'static>, BusError> {
    let bad = || BusError::DBus(format!("value {value} does not fit the property's type"));
    let n = value_f64(value);
    Ok(match current {
        Some(Variant::Variant(inner)) => return like(value, Some(inner)),
        Some(Variant::F64(_)) => Variant::F64(n.ok_or_else(bad)?),
        Some(Variant::Bool(_)) => Variant::Bool(match value {
            Value::Bool(b) => *b,
            _ => n.ok_or_else(bad)? != 0.0,
        }),
        Some(Variant::U8(_)) => {
            Variant::U8(n.ok_or_else(bad)?.round().clamp(0.0, u8::MAX as f64) as u8)
        }
        Some(Variant::I16(_)) => Variant::I16(
            n.ok_or_else(bad)?
                .round()
                .clamp(i16::MIN as f64, i16::MAX as f64) as i16,
        ),
        Some(Variant::U16(_)) => {
            Variant::U16(n.ok_or_else(bad)?.round().clamp(0.0, u16::MAX as f64) as u16)
        }
        Some(Variant::I32(_)) => Variant::I32(
            n.ok_or_else(bad)?
                .round()
                .clamp(i32::MIN as f64, i32::MAX as f64) as i32,
        ),
        Some(Variant::U32(_)) => {
            Variant::U32(n.ok_or_else(bad)?.round().clamp(0.0, u32::MAX as f64) as u32)
        }
        Some(Variant::I64(_)) => Variant::I64(n.ok_or_else(bad)?.round() as i64),
        Some(Variant::U64(_)) => Variant::U64(n.ok_or_else(bad)?.round().max(0.0) as u64),
        Some(Variant::Str(_)) => Variant::from(match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }),
        _ => json_to_variant(value)?,
    })
}

async fn get_property(
    conn: &Connection,
    service: &str,
    path: &str,
    interface: &str,
    property: &str,
) -> Result<OwnedVariant, BusError> {
    let target = format!("{service} {path} {interface}.{property} (Get)");
    let reply = conn
        .call_method(
            Some(service),
            path,
            Some(names::PROPERTIES),
            "Get",
            &(interface, property),
        )
        .await
        .map_err(|e| err(&target, e))?;
    reply
        .body()
        .deserialize::<OwnedVariant>()
        .map_err(|e| err(&target, e))
}

async fn set_property(
    conn: &Connection,
    service: &str,
    path: &str,
    interface: &str,
    property: &str,
    value: Variant<'static>,
) -> Result<(), BusError> {
    let target = format!("{service} {path} {interface}.{property} (Set)");
    conn.call_method(
        Some(service),
        path,
        Some(names::PROPERTIES),
        "Set",
        &(interface, property, value),
    )
    .await
    .map_err(|e| err(&target, e))?;
    Ok(())
}

async fn call_method(
    conn: &Connection,
    service: &str,
    path: &str,
    interface: &str,
    method: &str,
    args: &[Value],
) -> Result<Value, BusError> {
    let target = format!("{service} {path} {interface}.{method}");
    let reply = if args.is_empty() {
        conn.call_method(Some(service), path, Some(interface), method, &())
            .await
    } else {
        let mut b = StructureBuilder::new();
        for a in args {
            b = b.append_field(json_to_variant(a).map_err(|e| err(&target, e))?);
        }
        let body = b.build().map_err(|e| err(&target, e))?;
        conn.call_method(Some(service), path, Some(interface), method, &body)
            .await
    }
    .map_err(|e| err(&target, e))?;
    let body = reply.body();
    if body.is_empty() {
        return Ok(Value::Null);
    }
    match body.deserialize::<zbus::Structure<'_>>() {
        Ok(s) => {
            let mut fields: Vec<Value> = s.fields().iter().map(variant_to_json).collect();
            Ok(if fields.len() == 1 {
                fields.remove(0)
            } else {
                Value::Array(fields)
            })
        }
        Err(_) => Ok(body
            .deserialize::<Variant<'_>>()
            .map(|v| variant_to_json(&v))
            .unwrap_or(Value::Null)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_arguments() {
        assert_eq!(json_to_variant(&json!("fm")).unwrap(), Variant::from("fm"));
        assert_eq!(json_to_variant(&json!(101.7)).unwrap(), Variant::F64(101.7));
        assert_eq!(json_to_variant(&json!(100)).unwrap(), Variant::F64(100.0));
        assert_eq!(json_to_variant(&json!(true)).unwrap(), Variant::Bool(true));
        assert!(json_to_variant(&json!([1])).is_err());
    }

    #[test]
    fn property_values_keep_their_type() {
        assert_eq!(
            like(&json!(0.3), Some(&Variant::F64(1.0))).unwrap(),
            Variant::F64(0.3)
        );
        assert_eq!(
            like(&json!(30.4), Some(&Variant::I32(5))).unwrap(),
            Variant::I32(30)
        );
        assert_eq!(
            like(&json!(0), Some(&Variant::Bool(true))).unwrap(),
            Variant::Bool(false)
        );
        assert_eq!(like(&json!(7), None).unwrap(), Variant::F64(7.0));
        assert!(like(&json!("x"), Some(&Variant::F64(1.0))).is_err());
    }

    #[test]
    fn replies_as_json() {
        let v = Variant::from(vec!["a".to_string(), "b".to_string()]);
        assert_eq!(variant_to_json(&v), json!(["a", "b"]));
        assert_eq!(
            variant_f64(&Variant::Variant(Box::new(Variant::F64(0.5)))),
            Some(0.5)
        );
    }

    #[test]
    fn describe_names_service_path_member() {
        let c = DBusCall {
            bus: None,
            service: "org.cabinvoice.Radio".into(),
            path: "/org/cabinvoice/Radio".into(),
            interface: "org.cabinvoice.Radio1".into(),
            op: DBusOp::Method {
                method: "Tune".into(),
                args: vec![json!(101.7), json!("fm")],
            },
        };
        assert_eq!(
            c.describe(),
            "org.cabinvoice.Radio /org/cabinvoice/Radio org.cabinvoice.Radio1.Tune"
        );
        assert_eq!("system".parse::<BusKind>().unwrap(), BusKind::System);
        assert!("bogus".parse::<BusKind>().is_err());
    }
}
