//! Plugins: manifests, the registry that loads them, and permission checks.

pub mod manifest;
pub mod permissions;
pub mod registry;

pub use manifest::{EnumValue, IntentDef, Manifest, SlotDef, SlotType};
pub use registry::{LoadedPlugin, Registry};

use std::path::PathBuf;

/// Errors of the plugin layer; every one names the file and, where it can, the key.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    #[error("{}: cannot read: {err}", path.display())]
    Io { path: PathBuf, err: std::io::Error },
    #[error("{}: not a valid manifest: {msg}", path.display())]
    Parse { path: PathBuf, msg: String },
    #[error("{}: {key}: {msg}", path.display())]
    Invalid {
        path: PathBuf,
        key: String,
        msg: String,
    },
}
