//! Declarative actions of a manifest, turned into concrete operations.
//!
//! `{slot}` and `{slot.attr}` placeholders expand from the intent's slots; an enum
//! attribute holding several strings expands a path into several paths (the zone
//! `all` moves every window).

use super::SchedError;
use crate::nlu::SlotValue;
use crate::plugin::{IntentDef, SlotType};
use serde_json::Value;
use std::collections::BTreeMap;

/// Resolved slots: value plus the enum value's attributes, if any.
pub struct Slots<'a> {
    pub values: &'a BTreeMap<String, SlotValue>,
    pub intent: &'a IntentDef,
    pub types: &'a BTreeMap<String, SlotType>,
}

impl Slots<'_> {
    /// Values of a placeholder body: `slot` or `slot.attr`.
    pub fn lookup(&self, body: &str) -> Result<Vec<String>, SchedError> {
        let (name, attr) = match body.split_once('.') {
            Some((n, a)) => (n, Some(a)),
            None => (body, None),
        };
        let v = self
            .values
            .get(name)
            .ok_or_else(|| SchedError::MissingSlot(name.to_string()))?;
        let Some(attr) = attr else {
            return Ok(vec![v.display()]);
        };
        let ty = self
            .intent
            .slots
            .get(name)
            .and_then(|d| self.types.get(&d.ty));
        match (ty, v) {
            (Some(SlotType::Enum { values, .. }), SlotValue::Str(s)) => {
                values.get(s).and_then(|ev| ev.attr(attr)).ok_or_else(|| {
                    SchedError::Action(format!(
                        "value {s:?} of slot {name} has no attribute {attr:?}"
                    ))
                })
            }
            _ => Err(SchedError::Action(format!("slot {name} has no attributes"))),
        }
    }

    /// Expands every placeholder of `tpl`; lists multiply (cartesian product).
    pub fn expand(&self, tpl: &str) -> Result<Vec<String>, SchedError> {
        let mut outs = vec![String::new()];
        let mut rest = tpl;
        while let Some(open) = rest.find('{') {
            let close = rest[open..]
                .find('}')
                .map(|c| open + c)
                .ok_or_else(|| SchedError::Action(format!("unclosed '{{' in {tpl:?}")))?;
            let lit = &rest[..open];
            let vals = self.lookup(rest[open + 1..close].trim())?;
            outs = outs
                .iter()
                .flat_map(|o| vals.iter().map(move |v| format!("{o}{lit}{v}")))
                .collect();
            rest = &rest[close + 1..];
        }
        for o in &mut outs {
            o.push_str(rest);
        }
        Ok(outs)
    }

    /// Expands `tpl` to one string: a placeholder whose slot is absent becomes
    /// empty, a list attribute gives its first string. With `encode`, inserted
    /// values are percent-encoded (for URIs).
    pub fn expand_lenient(&self, tpl: &str, encode: bool) -> Result<String, SchedError> {
        let mut out = String::new();
        let mut rest = tpl;
        while let Some(open) = rest.find('{') {
            let close = rest[open..]
                .find('}')
                .map(|c| open + c)
                .ok_or_else(|| SchedError::Action(format!("unclosed '{{' in {tpl:?}")))?;
            out.push_str(&rest[..open]);
            let v = match self.lookup(rest[open + 1..close].trim()) {
                Ok(vals) => vals.into_iter().next().unwrap_or_default(),
                Err(SchedError::MissingSlot(_)) => String::new(),
                Err(e) => return Err(e),
            };
            if encode {
                out.push_str(&percent_encode(&v));
            } else {
                out.push_str(&v);
            }
            rest = &rest[close + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// A D-Bus argument: a template that is exactly one `{slot}` keeps the slot's
    /// JSON type (numbers, strings) and is `""` when the slot is absent; any other
    /// template is a string, percent-encoded where it is a URI (`scheme:...`);
    /// TOML numbers and booleans are taken as they are.
    pub fn arg(&self, v: &toml::Value) -> Result<Value, SchedError> {
        match v {
            toml::Value::String(s) => {
                let t = s.trim();
                if t.starts_with('{') && t.ends_with('}') && t[1..].find('{').is_none() {
                    let body = &t[1..t.len() - 1];
                    if !body.contains('.') {
                        return Ok(self
                            .values
                            .get(body)
                            .map(SlotValue::to_json)
                            .unwrap_or_else(|| Value::from("")));
                    }
                }
                Ok(Value::String(self.expand_lenient(s, is_uri(s))?))
            }
            other => serde_json::to_value(other).map_err(|e| SchedError::Action(e.to_string())),
        }
    }

    /// One value: a whole `{slot}` keeps its JSON type; other text is parsed as
    /// JSON where it can be (numbers, booleans), else kept as a string.
    pub fn value(&self, v: &toml::Value) -> Result<Value, SchedError> {
        match v {
            toml::Value::String(s) => {
                let t = s.trim();
                if t.starts_with('{') && t.ends_with('}') && t[1..].find('{').is_none() {
                    let body = &t[1..t.len() - 1];
                    if !body.contains('.') {
                        if let Some(sv) = self.values.get(body) {
                            return Ok(sv.to_json());
                        }
                    }
                }
                let expanded = self.expand(s)?.into_iter().next().unwrap_or_default();
                Ok(serde_json::from_str::<Value>(&expanded)
                    .ok()
                    .filter(|v| !v.is_string() && !v.is_object() && !v.is_array())
                    .unwrap_or(Value::String(expanded)))
            }
            other => serde_json::to_value(other).map_err(|e| SchedError::Action(e.to_string())),
        }
    }
}

/// True for a template that starts like a URI (`scheme:`).
fn is_uri(tpl: &str) -> bool {
    let head = tpl.split(['{', ':']).next().unwrap_or("");
    tpl.len() > head.len()
        && tpl[head.len()..].starts_with(':')
        && head.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && head
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A number out of a JSON value.
pub fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// A JSON number, integer when whole.
pub fn num(v: f64) -> Value {
    let v = (v * 1000.0).round() / 1000.0;
    if v.fract() == 0.0 && v.abs() < 1e15 {
        Value::from(v as i64)
    } else {
        serde_json::Number::from_f64(v)
            .map(Value::Number)
            .unwrap_or(Value::Null)
    }
}
