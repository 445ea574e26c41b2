//! The plugin manifest (`plugins/<name>/plugin.toml`) and shared types
//! (`plugins/types.toml`), as data. Loading and validation live in
//! [`super::registry`]; the format is specified in docs/PLUGINS.md.

use serde::Deserialize;
use std::collections::BTreeMap;

/// One `plugin.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub plugin: PluginInfo,
    #[serde(default)]
    pub permissions: Permissions,
    #[serde(default)]
    pub types: BTreeMap<String, SlotType>,
    #[serde(default)]
    pub intents: Vec<IntentDef>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginInfo {
    pub name: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub description: String,
}

/// What a plugin may touch; the host refuses anything else.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Permissions {
    /// VSS path patterns: `*` is one segment, `**` any rest.
    #[serde(default)]
    pub vss: Vec<String>,
    #[serde(default)]
    pub mqtt: Vec<String>,
    #[serde(default)]
    pub dbus: Vec<String>,
}

/// `plugins/types.toml`: slot types and fillers shared by every plugin.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SharedTypes {
    #[serde(default)]
    pub types: BTreeMap<String, SlotType>,
    /// Extra filler phrases per language, skipped anywhere in an utterance.
    #[serde(default)]
    pub fillers: BTreeMap<String, Vec<String>>,
}

/// A slot type.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum SlotType {
    Number {
        min: f64,
        max: f64,
        #[serde(default)]
        integer: bool,
        #[serde(default)]
        percent: bool,
        #[serde(default)]
        unit: Option<String>,
        #[serde(default)]
        description: Option<String>,
    },
    Enum {
        values: BTreeMap<String, EnumValue>,
        #[serde(default)]
        description: Option<String>,
    },
    Text {
        #[serde(default)]
        description: Option<String>,
    },
    Digits {
        #[serde(default)]
        description: Option<String>,
    },
}

/// One enumeration value: synonyms per language plus free attributes
/// (string or list of strings) that actions reference as `{slot.attr}`.
#[derive(Debug, Clone, Deserialize)]
pub struct EnumValue {
    #[serde(default)]
    pub en: Vec<String>,
    #[serde(default)]
    pub zh: Vec<String>,
    #[serde(flatten)]
    pub attrs: BTreeMap<String, toml::Value>,
}

impl EnumValue {
    /// The synonyms for `lang` (`en` or `zh`).
    pub fn synonyms(&self, lang: &str) -> &[String] {
        if lang == "zh" {
            &self.zh
        } else {
            &self.en
        }
    }

    /// An attribute as a list of strings (a single string is a list of one).
    pub fn attr(&self, name: &str) -> Option<Vec<String>> {
        match self.attrs.get(name)? {
            toml::Value::String(s) => Some(vec![s.clone()]),
            toml::Value::Array(a) => Some(
                a.iter()
                    .map(|v| match v {
                        toml::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect(),
            ),
            other => Some(vec![other.to_string()]),
        }
    }
}

/// One intent served by a plugin.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntentDef {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub slots: BTreeMap<String, SlotDef>,
    #[serde(default)]
    pub sentences: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub reply: BTreeMap<String, String>,
    #[serde(default)]
    pub action: Option<toml::Table>,
}

/// A slot of an intent: its type and whether it must be present.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlotDef {
    #[serde(rename = "type")]
    pub ty: String,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub default: Option<toml::Value>,
    #[serde(default)]
    pub description: Option<String>,
}
