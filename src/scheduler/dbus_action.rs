//! `kind = "dbus"` actions: the manifest's action table plus the slots give a
//! [`DBusCall`]; the plugin's `permissions.dbus` must cover the service.
//!
//! Fields (docs/PLUGINS.md): `bus` (`session` | `system`, default `[dbus] bus`),
//! `service`, `path`, `interface`, then either `method` + `args`, or `property`
//! with `value` (absolute; `"restore"` writes back the value saved by a write of 0)
//! or `delta` + `sign` (relative, from the current value, `base` when unknown),
//! scaled by `scale` and clamped to `min..=max` (in the property's units).
//! `lookup = "{contact}"` resolves a name in the phone book into the slot named by
//! `lookup_slot` (default `number`) when that slot was not said.

use super::action::{as_f64, Slots};
use super::{reply, ActionRecord, SchedError, Scheduler, Stop, Vehicle};
use crate::bus::dbus::{BusKind, DBusCall, DBusOp};
use crate::nlu::SlotValue;
use crate::plugin::{permissions, LoadedPlugin};
use serde_json::Value;

fn num_field(t: &toml::Table, k: &str) -> Option<f64> {
    t.get(k)
        .and_then(|v| v.as_float().or(v.as_integer().map(|i| i as f64)))
}

fn str_field<'a>(t: &'a toml::Table, k: &str) -> Result<&'a str, SchedError> {
    t.get(k)
        .and_then(|v| v.as_str())
        .ok_or_else(|| SchedError::Action(format!("dbus action without {k}")))
}

/// The concrete call of a `dbus` action for these slots.
pub fn build_call(action: &toml::Table, slots: &Slots) -> Result<DBusCall, SchedError> {
    let bus = match action.get("bus").and_then(|b| b.as_str()) {
        Some(b) => Some(
            b.parse::<BusKind>()
                .map_err(|e| SchedError::Action(e.to_string()))?,
        ),
        None => None,
    };
    let service = slots.expand_lenient(str_field(action, "service")?, false)?;
    let path = slots.expand_lenient(str_field(action, "path")?, false)?;
    let interface = slots.expand_lenient(str_field(action, "interface")?, false)?;
    let scale = num_field(action, "scale");
    let (min, max) = (num_field(action, "min"), num_field(action, "max"));
    let clamp = |v: f64| {
        let v = min.map_or(v, |m| v.max(m));
        max.map_or(v, |m| v.min(m))
    };
    let op = if let Some(method) = action.get("method").and_then(|m| m.as_str()) {
        let args = match action.get("args") {
            None => Vec::new(),
            Some(toml::Value::Array(a)) => {
                a.iter().map(|v| slots.arg(v)).collect::<Result<_, _>>()?
            }
            Some(_) => return Err(SchedError::Action("dbus args must be a list".into())),
        };
        DBusOp::Method {
            method: method.to_string(),
            args,
        }
    } else if let Some(property) = action.get("property").and_then(|p| p.as_str()) {
        let property = property.to_string();
        if let Some(v) = action.get("value") {
            let v = slots.value(v)?;
            if v.as_str() == Some("restore") {
                DBusOp::Restore {
                    property,
                    fallback: num_field(action, "base").map(|b| clamp(b * scale.unwrap_or(1.0))),
                }
            } else {
                let value = match (as_f64(&v), scale) {
                    (Some(n), Some(s)) if !v.is_boolean() => super::action::num(clamp(n * s)),
                    (Some(n), None) if v.is_number() => super::action::num(clamp(n)),
                    _ => v,
                };
                DBusOp::Set { property, value }
            }
        } else if let Some(d) = action.get("delta") {
            let delta = as_f64(&slots.value(d)?)
                .ok_or_else(|| SchedError::Action("delta is not a number".into()))?;
            let sign = match action.get("sign") {
                Some(s) => as_f64(&slots.value(s)?).unwrap_or(1.0),
                None => 1.0,
            };
            let scale = scale.unwrap_or(1.0);
            DBusOp::Adjust {
                property,
                step: delta * sign * scale,
                base: num_field(action, "base").unwrap_or(0.0) * scale,
                min,
                max,
            }
        } else {
            return Err(SchedError::Action(format!(
                "dbus property {property} without value or delta"
            )));
        }
    } else {
        return Err(SchedError::Action(
            "dbus action needs method or property".into(),
        ));
    };
    Ok(DBusCall {
        bus,
        service,
        path,
        interface,
        op,
    })
}

impl<V: Vehicle> Scheduler<V> {
    /// Runs a `dbus` action: lookup, permission check, the call.
    pub(super) async fn run_dbus(
        &self,
        plugin: &LoadedPlugin,
        action: &toml::Table,
        slots: &Slots<'_>,
        zh: bool,
    ) -> Result<(Vec<ActionRecord>, Option<String>), Stop> {
        let fail = |e: SchedError| Stop::failed(e.to_string(), reply::failed(zh));
        // A name to look up in the phone book, when the number was not said.
        let mut values = slots.values.clone();
        if let Some(tpl) = action.get("lookup").and_then(|l| l.as_str()) {
            let into = action
                .get("lookup_slot")
                .and_then(|l| l.as_str())
                .unwrap_or("number");
            if !values.contains_key(into) {
                let name = slots.expand_lenient(tpl, false).map_err(fail)?;
                if name.trim().is_empty() {
                    return Err(Stop::failed(
                        format!("neither {into} nor a name to look up"),
                        reply::missing(zh, into),
                    ));
                }
                match self.phonebook.lookup(&name) {
                    Some(c) => {
                        values.insert(into.to_string(), SlotValue::Str(c.number.clone()));
                    }
                    None => {
                        return Err(Stop::failed(
                            format!(
                                "{name:?} is not in the phone book ({} contacts)",
                                self.phonebook.len()
                            ),
                            reply::not_in_contacts(zh, &name),
                        ))
                    }
                }
            }
        }
        let slots = Slots {
            values: &values,
            intent: slots.intent,
            types: slots.types,
        };
        let call = build_call(action, &slots).map_err(fail)?;
        if !permissions::dbus_allowed(&plugin.manifest.permissions.dbus, &call.service) {
            return Err(Stop::refused(
                format!(
                    "plugin {} may not call D-Bus service {}",
                    plugin.manifest.plugin.name, call.service
                ),
                reply::cannot(zh),
            ));
        }
        let Some(dbus) = &self.dbus else {
            return Err(Stop::failed(
                format!("no D-Bus connection: cannot call {}", call.describe()),
                reply::unavailable(zh),
            ));
        };
        let done = dbus.call(&call).await.map_err(|e| fail(e.into()))?;
        tracing::info!(call = %done.target(), args = ?done.args, "d-bus action");
        Ok((
            vec![ActionRecord {
                kind: "dbus".into(),
                target: done.target(),
                payload: Value::Array(done.args),
            }],
            None,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::{IntentDef, SlotType};
    use serde_json::json;
    use std::collections::BTreeMap;

    fn intent() -> IntentDef {
        toml::from_str("name = \"x.y\"").unwrap()
    }

    fn table(s: &str) -> toml::Table {
        toml::from_str(s).unwrap()
    }

    fn call(action: &str, values: &[(&str, SlotValue)]) -> Result<DBusCall, SchedError> {
        let values: BTreeMap<String, SlotValue> = values
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        let def = intent();
        let types: BTreeMap<String, SlotType> = BTreeMap::new();
        let slots = Slots {
            values: &values,
            intent: &def,
            types: &types,
        };
        build_call(&table(action), &slots)
    }

    #[test]
    fn method_args_keep_types_and_absent_slots_are_empty() {
        let c = call(
            r#"bus = "session"
service = "org.cabinvoice.Radio"
path = "/org/cabinvoice/Radio"
interface = "org.cabinvoice.Radio1"
method = "Tune"
args = ["{frequency}", "{band}"]"#,
            &[("frequency", SlotValue::Num(101.7))],
        )
        .unwrap();
        assert_eq!(c.bus, Some(BusKind::Session));
        assert_eq!(
            c.op,
            DBusOp::Method {
                method: "Tune".into(),
                args: vec![json!(101.7), json!("")]
            }
        );
    }

    #[test]
    fn uri_args_are_encoded() {
        let c = call(
            r#"service = "org.mpris.MediaPlayer2.*"
path = "/org/mpris/MediaPlayer2"
interface = "org.mpris.MediaPlayer2.Player"
method = "OpenUri"
args = ["cabinvoice-media:play?source={source.uri}&query={query}"]"#,
            &[("query", SlotValue::Str("some jazz".into()))],
        )
        .unwrap();
        let DBusOp::Method { args, .. } = c.op else {
            panic!()
        };
        assert_eq!(
            args,
            vec![json!("cabinvoice-media:play?source=&query=some%20jazz")]
        );
        assert_eq!(c.bus, None);
    }

    #[test]
    fn properties_absolute_relative_restore() {
        let base = r#"service = "org.mpris.MediaPlayer2.*"
path = "/org/mpris/MediaPlayer2"
interface = "org.mpris.MediaPlayer2.Player"
property = "Volume"
scale = 0.01
min = 0
max = 1
"#;
        let c = call(
            &format!("{base}value = \"{{value}}\""),
            &[("value", SlotValue::Num(30.0))],
        )
        .unwrap();
        assert_eq!(
            c.op,
            DBusOp::Set {
                property: "Volume".into(),
                value: json!(0.3)
            }
        );
        let c = call(
            &format!("{base}delta = \"{{delta}}\"\nsign = \"-1\"\nbase = 50"),
            &[("delta", SlotValue::Num(10.0))],
        )
        .unwrap();
        assert_eq!(
            c.op,
            DBusOp::Adjust {
                property: "Volume".into(),
                step: -0.1,
                base: 0.5,
                min: Some(0.0),
                max: Some(1.0)
            }
        );
        let c = call(&format!("{base}value = \"restore\"\nbase = 50"), &[]).unwrap();
        assert_eq!(
            c.op,
            DBusOp::Restore {
                property: "Volume".into(),
                fallback: Some(0.5)
            }
        );
        assert!(call(base, &[]).is_err());
    }
}
