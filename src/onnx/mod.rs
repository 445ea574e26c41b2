//! ONNX Runtime, loaded dynamically from the library shipped in the PyPI
//! `onnxruntime` wheel (installed by `models/install.py` into `models/lib/`).

pub mod ep;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Errors finding or loading ONNX Runtime.
#[derive(Debug, Clone, thiserror::Error)]
pub enum OnnxError {
    #[error("ONNX Runtime library not found (looked at: {looked}); install it with `python3 models/install.py`, or set ORT_DYLIB_PATH or [onnxruntime] library in the config")]
    NotFound { looked: String },
    #[error("ONNX Runtime library {path} cannot be used: {msg}")]
    Load { path: String, msg: String },
}

/// Library file names to look for, newest first.
const NAMES: &[&str] = &[
    "libonnxruntime.so",
    "libonnxruntime.so.1.32.0",
    "libonnxruntime.so.1",
];

/// Where the library would be loaded from: config, `ORT_DYLIB_PATH`, `<models>/lib/`.
pub fn locate(configured: &str, models_dir: &Path) -> Result<PathBuf, OnnxError> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if !configured.is_empty() {
        candidates.push(configured.into());
    }
    if let Ok(p) = std::env::var("ORT_DYLIB_PATH") {
        if !p.is_empty() {
            candidates.push(p.into());
        }
    }
    for n in NAMES {
        candidates.push(models_dir.join("lib").join(n));
    }
    for n in NAMES {
        candidates.push(Path::new("/usr/lib").join(n));
    }
    candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .ok_or_else(|| OnnxError::NotFound {
            looked: candidates
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        })
}

type Loaded = (String, ort::environment::Environment);

static INIT: OnceLock<Result<Loaded, OnnxError>> = OnceLock::new();

/// Loads ONNX Runtime once per process; later calls return the first result.
/// Returns the library path. Never panics: a bad library is an error.
pub fn init(configured: &str, models_dir: &Path) -> Result<String, OnnxError> {
    load(configured, models_dir).map(|(p, _)| p)
}

/// The process's one ONNX Runtime environment (ONNX Runtime allows one per
/// process), loading the library first if nobody did.
pub fn environment(
    configured: &str,
    models_dir: &Path,
) -> Result<ort::environment::Environment, OnnxError> {
    load(configured, models_dir).map(|(_, e)| e)
}

fn load(configured: &str, models_dir: &Path) -> Result<Loaded, OnnxError> {
    INIT.get_or_init(|| {
        let path = locate(configured, models_dir)?;
        let shown = path.display().to_string();
        let load = |msg: String| OnnxError::Load {
            path: shown.clone(),
            msg,
        };
        let builder = ort::init_from(&path).map_err(|e| load(e.to_string()))?;
        let env = builder
            .with_name("cabin-voice")
            .with_telemetry(false)
            .build()
            .map_err(|e| load(e.to_string()))?;
        Ok((shown, env))
    })
    .clone()
}

/// A session builder with the configured execution providers registered
/// (see [`ep`]); every ONNX model of the assistant starts from this.
pub fn session_builder(
    env: &ort::environment::Environment,
) -> ort::Result<ort::session::builder::SessionBuilder> {
    ep::apply(ort::session::Session::builder(env)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_library_is_one_clear_line() {
        let dir = std::env::temp_dir().join(format!("cv-ort-{}", std::process::id()));
        let e = locate("", &dir).err().unwrap().to_string();
        if std::env::var("ORT_DYLIB_PATH").is_err()
            && !Path::new("/usr/lib/libonnxruntime.so").exists()
        {
            assert!(
                e.contains("install.py") && e.contains("ORT_DYLIB_PATH"),
                "{e}"
            );
            assert!(!e.contains('\n'));
        }
        let e = locate("/nonexistent/libonnxruntime.so", &dir);
        if let Err(e) = e {
            assert!(e.to_string().contains("/nonexistent/libonnxruntime.so"));
        }
    }
}
