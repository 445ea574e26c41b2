//! The scheduler: intent -> validated, safe actions on the vehicle -> reply.
//!
//! Order of checks: known intent, slots against the schema (defaults, required,
//! ranges), the safety policy (vehicle speed from retained state), confirmation,
//! plugin permissions, then the declarative action. Every refusal has a spoken
//! reason in the user's language. Nothing is actuated unless every check passed.

pub mod action;
pub mod dbus_action;
pub mod external;
pub mod phonebook;
pub mod reply;

use crate::bus::dbus::DBusActions;
use crate::config::Safety;
use crate::nlu::{Intent, SlotValue};
use crate::plugin::{permissions, IntentDef, LoadedPlugin, Registry, SlotType};
use action::{as_f64, num, Slots};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Errors of the scheduler layer.
#[derive(Debug, thiserror::Error)]
pub enum SchedError {
    #[error("missing slot {0}")]
    MissingSlot(String),
    #[error("action: {0}")]
    Action(String),
    #[error("bus: {0}")]
    Bus(#[from] crate::bus::BusError),
}

/// The vehicle as the scheduler sees it (MQTT in production, a fake in unit tests).
pub trait Vehicle: Send + Sync {
    /// Last known value of a VSS signal.
    fn state(&self, path: &str) -> Option<Value>;
    /// Requests an actuation; returns the published payload.
    fn actuate(
        &self,
        path: &str,
        value: Value,
    ) -> impl Future<Output = Result<Value, crate::bus::BusError>> + Send;
}

impl Vehicle for crate::bus::MqttBus {
    fn state(&self, path: &str) -> Option<Value> {
        crate::bus::MqttBus::state(self, path)
    }
    async fn actuate(&self, path: &str, value: Value) -> Result<Value, crate::bus::BusError> {
        crate::bus::MqttBus::actuate(self, path, value)
            .await
            .map(|(_, p)| p)
    }
}

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Done,
    Refused,
    NeedsConfirmation,
    Cancelled,
    NotUnderstood,
    Failed,
}

/// One thing done on a bus.
#[derive(Debug, Clone, Serialize)]
pub struct ActionRecord {
    pub kind: String,
    pub target: String,
    pub payload: Value,
}

/// The result of one command.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub intent: String,
    pub status: Status,
    pub actions: Vec<ActionRecord>,
    pub reply: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub lang: String,
}

struct Pending {
    intent: Intent,
    since: Instant,
}

/// Why an action did not run: how the command ends, the reason for logs and
/// events, and what the user hears.
#[derive(Debug)]
struct Stop {
    status: Status,
    reason: String,
    said: String,
}

impl Stop {
    fn failed(reason: String, said: String) -> Stop {
        Stop {
            status: Status::Failed,
            reason,
            said,
        }
    }
    fn refused(reason: String, said: String) -> Stop {
        Stop {
            status: Status::Refused,
            reason,
            said,
        }
    }
}

/// The scheduler; one per assistant, driven by one task.
pub struct Scheduler<V: Vehicle> {
    reg: Arc<Registry>,
    safety: Safety,
    vehicle: V,
    pending: Option<Pending>,
    dbus: Option<Arc<dyn DBusActions>>,
    phonebook: phonebook::Phonebook,
    external: Option<Arc<external::ExternalPlugins>>,
}

impl<V: Vehicle> Scheduler<V> {
    pub fn new(reg: Arc<Registry>, safety: Safety, vehicle: V) -> Self {
        Scheduler {
            reg,
            safety,
            vehicle,
            pending: None,
            dbus: None,
            phonebook: Default::default(),
            external: None,
        }
    }

    /// Runs `kind = "dbus"` actions through `dbus`; without it they fail with a
    /// spoken reason.
    pub fn with_dbus(mut self, dbus: Arc<dyn DBusActions>) -> Self {
        self.dbus = Some(dbus);
        self
    }

    /// Runs `kind = "external"` actions through `external`; without it they fail
    /// with a spoken reason.
    pub fn with_external(mut self, external: Arc<external::ExternalPlugins>) -> Self {
        self.external = Some(external);
        self
    }

    /// The phone book for actions with `lookup` (calls by name).
    pub fn with_phonebook(mut self, phonebook: phonebook::Phonebook) -> Self {
        self.phonebook = phonebook;
        self
    }

    pub fn vehicle(&self) -> &V {
        &self.vehicle
    }

    fn outcome(
        &self,
        intent: &Intent,
        status: Status,
        reply: String,
        reason: Option<String>,
    ) -> Outcome {
        Outcome {
            intent: intent.intent.clone(),
            status,
            actions: Vec::new(),
            reply,
            reason,
            lang: intent.lang.clone(),
        }
    }

    /// Handles one understood command.
    pub async fn handle(&mut self, intent: Intent) -> Outcome {
        let zh = intent.lang == "zh";
        match intent.intent.as_str() {
            "none" => {
                return self.outcome(
                    &intent,
                    Status::NotUnderstood,
                    reply::not_understood(zh),
                    None,
                )
            }
            "dialog.confirm" => {
                return match self.take_pending() {
                    Some(p) => Box::pin(self.execute(p.intent)).await,
                    None => self.outcome(
                        &intent,
                        Status::NotUnderstood,
                        reply::nothing_pending(zh),
                        None,
                    ),
                }
            }
            "dialog.deny" | "dialog.cancel" => {
                let had = self.pending.take().is_some();
                let r = if had || intent.intent == "dialog.cancel" {
                    reply::cancelled(zh)
                } else {
                    reply::nothing_pending(zh)
                };
                return self.outcome(&intent, Status::Cancelled, r, None);
            }
            _ => {}
        }
        let Some((_, def)) = self.reg.intent(&intent.intent) else {
            return self.outcome(
                &intent,
                Status::NotUnderstood,
                reply::not_understood(zh),
                Some(format!("no plugin serves {}", intent.intent)),
            );
        };
        // Validate before asking for a confirmation, so the question is never wrong.
        if let Err((reason, said)) = self.check(&intent, def) {
            return self.outcome(&intent, Status::Refused, said, Some(reason));
        }
        if self.safety.confirm.contains(&intent.intent) {
            let r = reply::confirm_question(zh, &intent.intent);
            self.pending = Some(Pending {
                intent: intent.clone(),
                since: Instant::now(),
            });
            return self.outcome(&intent, Status::NeedsConfirmation, r, None);
        }
        self.execute(intent).await
    }

    fn take_pending(&mut self) -> Option<Pending> {
        let p = self.pending.take()?;
        let limit = Duration::from_secs(self.safety.confirm_timeout_s);
        (p.since.elapsed() <= limit).then_some(p)
    }

    /// Slots and safety; the error carries (reason for logs, reply for the user).
    fn check(&self, intent: &Intent, def: &IntentDef) -> Result<(), (String, String)> {
        let zh = intent.lang == "zh";
        let Some((plugin, _)) = self.reg.intent(&intent.intent) else {
            return Ok(());
        };
        for (name, v) in &intent.slots {
            let Some(sdef) = def.slots.get(name) else {
                return Err((
                    format!("slot {name} is not part of {}", intent.intent),
                    reply::cannot(zh),
                ));
            };
            if let (Some(SlotType::Number { min, max, .. }), SlotValue::Num(n)) =
                (plugin.types.get(&sdef.ty), v)
            {
                if (*n < *min || *n > *max) && self.safety.out_of_range == "refuse" {
                    return Err((
                        format!("{name} = {n} is outside {min}..{max}"),
                        reply::out_of_range(zh, *n, *min, *max),
                    ));
                }
            }
        }
        for (name, sdef) in &def.slots {
            if sdef.required && sdef.default.is_none() && !intent.slots.contains_key(name) {
                return Err((
                    format!("required slot {name} missing"),
                    reply::missing(zh, name),
                ));
            }
        }
        let speed = self
            .vehicle
            .state("Vehicle.Speed")
            .as_ref()
            .and_then(as_f64);
        if self.safety.refuse_while_moving.contains(&intent.intent) {
            match speed {
                Some(v) if v > 0.0 => {
                    return Err((
                        format!("refused while moving ({v} km/h)"),
                        reply::moving(zh),
                    ))
                }
                // Safety first: without a known speed the car may be moving.
                None => {
                    return Err((
                        "refused: vehicle speed unknown (no Vehicle.Speed state)".into(),
                        reply::speed_unknown(zh),
                    ))
                }
                Some(_) => {}
            }
        }
        let speed = speed.unwrap_or(0.0);
        if speed > self.safety.max_open_speed_kmh
            && self.safety.limit_at_speed.contains(&intent.intent)
        {
            return Err((
                format!(
                    "refused above {} km/h ({speed} km/h)",
                    self.safety.max_open_speed_kmh
                ),
                reply::too_fast(zh, self.safety.max_open_speed_kmh),
            ));
        }
        Ok(())
    }

    /// Runs the plugin's action for an intent that passed every check.
    async fn execute(&mut self, mut intent: Intent) -> Outcome {
        let zh = intent.lang == "zh";
        let Some((plugin, def)) = self
            .reg
            .intent(&intent.intent)
            .map(|(p, d)| (p.clone(), d.clone()))
        else {
            return self.outcome(
                &intent,
                Status::NotUnderstood,
                reply::not_understood(zh),
                None,
            );
        };
        // Fill defaults and clamp (when configured) before acting.
        for (name, sdef) in &def.slots {
            if !intent.slots.contains_key(name) {
                if let Some(d) = &sdef.default {
                    let v = match d {
                        toml::Value::Integer(i) => SlotValue::Num(*i as f64),
                        toml::Value::Float(f) => SlotValue::Num(*f),
                        toml::Value::String(s) => SlotValue::Str(s.clone()),
                        other => SlotValue::Str(other.to_string()),
                    };
                    intent.slots.insert(name.clone(), v);
                }
            }
            if let (Some(SlotType::Number { min, max, .. }), Some(SlotValue::Num(n))) =
                (plugin.types.get(&sdef.ty), intent.slots.get_mut(name))
            {
                *n = n.clamp(*min, *max);
            }
        }
        match self.run_action(&plugin, &def, &intent).await {
            Ok((actions, answer)) => {
                // An external plugin's own reply replaces the template.
                let r = match answer {
                    Some(said) if external::is_external(&def) => said,
                    answer => reply::render(&def, &plugin.types, &intent, answer.as_deref()),
                };
                let mut o = self.outcome(&intent, Status::Done, r, None);
                o.actions = actions;
                o
            }
            Err(stop) => self.outcome(&intent, stop.status, stop.said, Some(stop.reason)),
        }
    }

    async fn run_action(
        &self,
        plugin: &LoadedPlugin,
        def: &IntentDef,
        intent: &Intent,
    ) -> Result<(Vec<ActionRecord>, Option<String>), Stop> {
        let zh = intent.lang == "zh";
        let fail = |e: SchedError| Stop::failed(e.to_string(), reply::failed(zh));
        let Some(action) = &def.action else {
            return Ok((Vec::new(), None));
        };
        let kind = action
            .get("kind")
            .and_then(|k| k.as_str())
            .unwrap_or("none");
        let slots = Slots {
            values: &intent.slots,
            intent: def,
            types: &plugin.types,
        };
        match kind {
            "none" => Ok((Vec::new(), None)),
            "vss" => {
                let sets = action
                    .get("set")
                    .and_then(|s| s.as_array())
                    .ok_or_else(|| fail(SchedError::Action("vss action without [[set]]".into())))?;
                // Resolve everything first: all or nothing.
                let mut ops: Vec<(String, Value)> = Vec::new();
                for set in sets {
                    let t = set.as_table().ok_or_else(|| {
                        fail(SchedError::Action("set entry is not a table".into()))
                    })?;
                    let path_tpl = t
                        .get("path")
                        .and_then(|p| p.as_str())
                        .ok_or_else(|| fail(SchedError::Action("set entry without path".into())))?;
                    // An entry that needs a slot the user did not give is skipped
                    // ("fan up" has no level; "blue" has no brightness).
                    let paths = match slots.expand(path_tpl) {
                        Err(SchedError::MissingSlot(_)) => continue,
                        other => other.map_err(fail)?,
                    };
                    for path in paths {
                        let value = match self.set_value(&slots, t, &path) {
                            Err(SchedError::MissingSlot(_)) => continue,
                            other => other.map_err(fail)?,
                        };
                        if !permissions::vss_allowed(&plugin.manifest.permissions.vss, &path) {
                            return Err(Stop::refused(
                                format!(
                                    "plugin {} may not actuate {path}",
                                    plugin.manifest.plugin.name
                                ),
                                reply::cannot(zh),
                            ));
                        }
                        ops.push((path, value));
                    }
                }
                if ops.is_empty() {
                    return Err(Stop::failed(
                        format!("{}: nothing to actuate for these slots", intent.intent),
                        reply::missing(zh, "value"),
                    ));
                }
                let mut records = Vec::new();
                for (path, value) in ops {
                    let payload = self
                        .vehicle
                        .actuate(&path, value)
                        .await
                        .map_err(|e| fail(e.into()))?;
                    records.push(ActionRecord {
                        kind: "mqtt".into(),
                        target: path,
                        payload,
                    });
                }
                Ok((records, None))
            }
            "query" => {
                // The signals: `path` (a template; list attributes give several),
                // else the older `slot` + `attr` pair.
                let paths = match action.get("path").and_then(|p| p.as_str()) {
                    Some(tpl) => slots.expand(tpl).map_err(fail)?,
                    None => {
                        let attr = action
                            .get("attr")
                            .and_then(|a| a.as_str())
                            .unwrap_or("signal");
                        let slot = action
                            .get("slot")
                            .and_then(|a| a.as_str())
                            .unwrap_or("signal");
                        slots.lookup(&format!("{slot}.{attr}")).map_err(fail)?
                    }
                };
                if let Some(p) = paths
                    .iter()
                    .find(|p| !permissions::vss_allowed(&plugin.manifest.permissions.vss, p))
                {
                    return Err(Stop::refused(
                        format!("plugin {} may not read {p}", plugin.manifest.plugin.name),
                        reply::cannot(zh),
                    ));
                }
                let mut shown: Vec<String> = paths
                    .iter()
                    .filter_map(|p| self.vehicle.state(p))
                    .map(|v| match v {
                        Value::Number(n) => num(n.as_f64().unwrap_or(0.0)).to_string(),
                        Value::String(s) => s,
                        other => other.to_string(),
                    })
                    .collect();
                if shown.is_empty() {
                    return Err(Stop::failed(
                        format!("no vehicle state for {}", paths.join(", ")),
                        reply::unknown_state(zh),
                    ));
                }
                // Four equal tyre pressures are one number.
                if shown.iter().all(|v| *v == shown[0]) {
                    shown.truncate(1);
                }
                let unit = match action
                    .get(if zh { "unit_zh" } else { "unit_en" })
                    .and_then(|u| u.as_str())
                {
                    Some(tpl) => slots.expand_lenient(tpl, false).map_err(fail)?,
                    None => String::new(),
                };
                let sep = if unit.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) && !zh {
                    " "
                } else {
                    ""
                };
                let answer = format!("{}{sep}{unit}", shown.join(if zh { "、" } else { ", " }));
                Ok((Vec::new(), Some(answer)))
            }
            "dbus" => self.run_dbus(plugin, action, &slots, zh).await,
            "external" => self.run_external(plugin, action, intent).await,
            other => Err(Stop::failed(
                format!("action kind {other:?} is not available"),
                reply::unavailable(zh),
            )),
        }
    }

    /// The value of one `set` entry: absolute (`value`) or relative (`delta`).
    fn set_value(&self, slots: &Slots, t: &toml::Table, path: &str) -> Result<Value, SchedError> {
        let scale = t
            .get("scale")
            .and_then(|s| s.as_float().or(s.as_integer().map(|i| i as f64)));
        let bound = |k: &str| {
            t.get(k)
                .and_then(|s| s.as_float().or(s.as_integer().map(|i| i as f64)))
        };
        let clamp = |v: f64| {
            let v = bound("min").map_or(v, |m| v.max(m));
            bound("max").map_or(v, |m| v.min(m))
        };
        if let Some(v) = t.get("value") {
            let v = slots.value(v)?;
            return Ok(match (scale, as_f64(&v)) {
                (Some(s), Some(n)) if !v.is_boolean() => num(clamp(n * s)),
                (None, Some(n)) if v.is_number() => num(clamp(n)),
                _ => v,
            });
        }
        if let Some(d) = t.get("delta") {
            let delta = as_f64(&slots.value(d)?)
                .ok_or_else(|| SchedError::Action("delta is not a number".into()))?;
            let sign = match t.get("sign") {
                Some(s) => as_f64(&slots.value(s)?).unwrap_or(1.0),
                None => 1.0,
            };
            let base = bound("base").unwrap_or(0.0);
            let current = self
                .vehicle
                .state(path)
                .as_ref()
                .and_then(as_f64)
                .unwrap_or(base);
            let step = delta * sign * scale.unwrap_or(1.0);
            return Ok(num(clamp(current + step)));
        }
        Err(SchedError::Action(format!(
            "set entry for {path} has neither value nor delta"
        )))
    }
}

/// Slot values as JSON (for events).
pub fn slots_json(slots: &BTreeMap<String, SlotValue>) -> Value {
    Value::Object(
        slots
            .iter()
            .map(|(k, v)| (k.clone(), v.to_json()))
            .collect(),
    )
}
