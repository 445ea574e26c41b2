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
    let env = std::env::var("ORT_DYLIB_PATH").ok();
    locate_in(
        configured,
        env.as_deref(),
        models_dir,
        Path::new("/usr/lib"),
    )
}

/// [`locate`] with the environment and the system folder given.
fn locate_in(
    configured: &str,
    env: Option<&str>,
    models_dir: &Path,
    system: &Path,
) -> Result<PathBuf, OnnxError> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if !configured.is_empty() {
        candidates.push(configured.into());
    }
    if let Some(p) = env.filter(|p| !p.is_empty()) {
        candidates.push(p.into());
    }
    for n in NAMES {
        candidates.push(models_dir.join("lib").join(n));
    }
    for n in NAMES {
        candidates.push(system.join(n));
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

/// A [`session_builder`] for the assistant's small, frequently run models
/// (intent model, wake word, VAD): full graph optimisation, one intra-op and one
/// inter-op thread (many tiny inferences; a thread pool would only add wake-ups).
pub fn small_session_builder(
    env: &ort::environment::Environment,
) -> ort::Result<ort::session::builder::SessionBuilder> {
    use ort::session::builder::GraphOptimizationLevel;
    let err = |e: ort::Error<ort::session::builder::SessionBuilder>| ort::Error::new(e.to_string());
    session_builder(env)?
        .with_optimization_level(GraphOptimizationLevel::Level3)
        .map_err(err)?
        .with_intra_threads(1)
        .map_err(err)?
        .with_inter_threads(1)
        .map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_library_is_one_clear_line() {
        let dir = std::env::temp_dir().join(format!("cv-ort-{}", std::process::id()));
        let nowhere = dir.join("system");
        let e = locate_in("", None, &dir, &nowhere).unwrap_err().to_string();
        assert!(
            e.contains("install.py") && e.contains("ORT_DYLIB_PATH"),
            "{e}"
        );
        assert!(!e.contains('\n'));
        let e = locate_in("/nonexistent/libonnxruntime.so", None, &dir, &nowhere)
            .unwrap_err()
            .to_string();
        assert!(e.contains("/nonexistent/libonnxruntime.so"), "{e}");
        let e = locate_in("", Some("/nonexistent/env.so"), &dir, &nowhere)
            .unwrap_err()
            .to_string();
        assert!(e.contains("/nonexistent/env.so"), "{e}");
    }

    #[test]
    fn configured_then_env_then_models_folder() {
        let dir = std::env::temp_dir().join(format!("cv-ort-order-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("lib")).unwrap();
        let in_models = dir.join("lib").join("libonnxruntime.so");
        let in_env = dir.join("env.so");
        let configured = dir.join("configured.so");
        for f in [&in_models, &in_env, &configured] {
            std::fs::write(f, b"x").unwrap();
        }
        let env = in_env.to_str();
        let nowhere = dir.join("system");
        let c = configured.to_str().unwrap();
        assert_eq!(locate_in(c, env, &dir, &nowhere).unwrap(), configured);
        assert_eq!(locate_in("", env, &dir, &nowhere).unwrap(), in_env);
        assert_eq!(locate_in("", None, &dir, &nowhere).unwrap(), in_models);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
