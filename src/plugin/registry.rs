//! Loads `plugins/types.toml` and every `plugins/*/plugin.toml`, validates them,
//! and keeps the good ones. One bad plugin is reported and skipped; the rest load.

use super::manifest::{IntentDef, Manifest, SharedTypes, SlotType};
use super::PluginError;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A plugin that passed validation.
#[derive(Debug, Clone)]
pub struct LoadedPlugin {
    pub manifest: Manifest,
    pub path: PathBuf,
    /// Shared types overlaid with the plugin's own.
    pub types: BTreeMap<String, SlotType>,
}

/// Every loaded plugin, plus what failed to load.
#[derive(Debug, Default)]
pub struct Registry {
    pub plugins: Vec<Arc<LoadedPlugin>>,
    pub fillers: BTreeMap<String, Vec<String>>,
    pub errors: Vec<PluginError>,
}

impl Registry {
    /// Loads the plugin folder `dir`. Fails only when the folder itself or its
    /// `types.toml` is unusable; bad plugins end up in [`Registry::errors`].
    pub fn load(dir: &Path) -> Result<Registry, PluginError> {
        let rd = std::fs::read_dir(dir).map_err(|e| PluginError::Io {
            path: dir.to_path_buf(),
            err: e,
        })?;
        let shared = load_shared(&dir.join("types.toml"))?;
        let mut entries: Vec<PathBuf> = rd
            .filter_map(|e| e.ok())
            .map(|e| e.path().join("plugin.toml"))
            .filter(|p| p.is_file())
            .collect();
        entries.sort();
        let mut reg = Registry {
            fillers: shared.fillers.clone(),
            ..Default::default()
        };
        let mut seen_intents: HashSet<String> = HashSet::new();
        let mut seen_plugins: HashSet<String> = HashSet::new();
        for path in entries {
            match load_plugin(&path, &shared.types) {
                Ok(p) => {
                    if let Err(e) = check_unique(&p, &mut seen_plugins, &mut seen_intents) {
                        tracing::warn!(error = %e, "plugin skipped");
                        reg.errors.push(e);
                    } else {
                        reg.plugins.push(Arc::new(p));
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "plugin skipped");
                    reg.errors.push(e);
                }
            }
        }
        Ok(reg)
    }

    /// The intent called `name`, with the plugin that serves it.
    pub fn intent(&self, name: &str) -> Option<(&Arc<LoadedPlugin>, &IntentDef)> {
        self.plugins.iter().find_map(|p| {
            p.manifest
                .intents
                .iter()
                .find(|i| i.name == name)
                .map(|i| (p, i))
        })
    }
}

fn check_unique(
    p: &LoadedPlugin,
    plugins: &mut HashSet<String>,
    intents: &mut HashSet<String>,
) -> Result<(), PluginError> {
    let invalid = |key: String, msg: String| PluginError::Invalid {
        path: p.path.clone(),
        key,
        msg,
    };
    if !plugins.insert(p.manifest.plugin.name.clone()) {
        return Err(invalid(
            "plugin.name".into(),
            format!(
                "another plugin is already called {:?}",
                p.manifest.plugin.name
            ),
        ));
    }
    for (i, intent) in p.manifest.intents.iter().enumerate() {
        if intents.contains(&intent.name) {
            return Err(invalid(
                format!("intents[{i}].name"),
                format!(
                    "intent {:?} is already served by another plugin",
                    intent.name
                ),
            ));
        }
    }
    for intent in &p.manifest.intents {
        intents.insert(intent.name.clone());
    }
    Ok(())
}

fn load_shared(path: &Path) -> Result<SharedTypes, PluginError> {
    if !path.exists() {
        return Ok(SharedTypes::default());
    }
    let text = std::fs::read_to_string(path).map_err(|e| PluginError::Io {
        path: path.to_path_buf(),
        err: e,
    })?;
    toml::from_str(&text).map_err(|e| PluginError::Parse {
        path: path.to_path_buf(),
        msg: e.to_string(),
    })
}

/// Parses and validates one manifest against the shared types.
pub fn load_plugin(
    path: &Path,
    shared: &BTreeMap<String, SlotType>,
) -> Result<LoadedPlugin, PluginError> {
    let text = std::fs::read_to_string(path).map_err(|e| PluginError::Io {
        path: path.to_path_buf(),
        err: e,
    })?;
    let manifest: Manifest = toml::from_str(&text).map_err(|e| PluginError::Parse {
        path: path.to_path_buf(),
        msg: e.to_string(),
    })?;
    let mut types = shared.clone();
    types.extend(manifest.types.clone());
    let invalid = |key: String, msg: String| PluginError::Invalid {
        path: path.to_path_buf(),
        key,
        msg,
    };
    let name_ok = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.')
    };
    if !name_ok(&manifest.plugin.name) {
        return Err(invalid(
            "plugin.name".into(),
            "must be lower-case ASCII letters, digits and '_'".into(),
        ));
    }
    for (tname, ty) in &types {
        if let SlotType::Number { min, max, .. } = ty {
            if min.partial_cmp(max) != Some(std::cmp::Ordering::Less) && min != max {
                return Err(invalid(
                    format!("types.{tname}"),
                    format!("min {min} > max {max}"),
                ));
            }
        }
    }
    for (i, intent) in manifest.intents.iter().enumerate() {
        if !name_ok(&intent.name) || !intent.name.contains('.') {
            return Err(invalid(
                format!("intents[{i}].name"),
                format!("{:?} is not of the form domain.action", intent.name),
            ));
        }
        for (sname, sdef) in &intent.slots {
            if !types.contains_key(&sdef.ty) {
                return Err(invalid(
                    format!("intents[{i}].slots.{sname}.type"),
                    format!("unknown type {:?} (intent {})", sdef.ty, intent.name),
                ));
            }
        }
        for lang in intent.sentences.keys() {
            if lang != "en" && lang != "zh" {
                return Err(invalid(
                    format!("intents[{i}].sentences.{lang}"),
                    "languages are `en` and `zh`".into(),
                ));
            }
        }
    }
    Ok(LoadedPlugin {
        manifest,
        path: path.to_path_buf(),
        types,
    })
}
