//! Neural test speech (Kokoro, Piper) through `hw-test/tts/render.py`, cached by
//! content: the same text, language, voice and renderer source give the same file,
//! rendered once per machine into `target/tts-cache/`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Errors of neural rendering.
#[derive(Debug)]
pub enum TtsError {
    Io(String),
    Failed { status: String, stderr: String },
    Missing(String),
}

impl std::fmt::Display for TtsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TtsError::Io(e) => write!(f, "tts renderer: {e}"),
            TtsError::Failed { status, stderr } => {
                write!(f, "tts renderer failed ({status}): {stderr}")
            }
            TtsError::Missing(p) => write!(f, "tts renderer wrote no {p}"),
        }
    }
}

impl std::error::Error for TtsError {}

/// One thing to say.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub text: String,
    /// `en` or `zh`.
    pub lang: String,
    /// A Kokoro voice (`zf_xiaoxiao`, `af_heart`, ...) or `piper-joe`.
    pub voice: String,
}

/// The models folder: `$CABIN_VOICE_MODELS`, else `models/` of the workspace.
pub fn models_dir() -> PathBuf {
    std::env::var_os("CABIN_VOICE_MODELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::workspace_root().join("models"))
}

/// The renderer's folder (`hw-test/tts`).
pub fn renderer_dir() -> PathBuf {
    crate::workspace_root().join("hw-test/tts")
}

/// The Python that has the renderer's packages: the venv `models/install.py` makes.
fn python(models: &Path) -> PathBuf {
    let venv = models.join(".cache/tts-venv/bin/python");
    if venv.is_file() {
        venv
    } else {
        PathBuf::from("python3")
    }
}

/// A hash of every renderer source file, so that a change re-renders.
fn renderer_version() -> Result<u64, TtsError> {
    let dir = renderer_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| TtsError::Io(format!("{}: {e}", dir.display())))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "py"))
        .collect();
    files.sort();
    let mut all = String::new();
    for f in files {
        let t = std::fs::read_to_string(&f)
            .map_err(|e| TtsError::Io(format!("{}: {e}", f.display())))?;
        all.push_str(&t);
    }
    Ok(crate::corpus::fnv1a(&all))
}

/// The cache folder (`target/tts-cache`).
pub fn cache_dir() -> PathBuf {
    crate::workspace_root().join("target/tts-cache")
}

/// Renders every request not yet in the cache (one renderer process for all) and
/// returns the 16 kHz mono s16 WAV of each, in order.
pub fn render(reqs: &[Request]) -> Result<Vec<PathBuf>, TtsError> {
    let cache = cache_dir();
    std::fs::create_dir_all(&cache)
        .map_err(|e| TtsError::Io(format!("{}: {e}", cache.display())))?;
    let version = renderer_version()?;
    let ids: Vec<String> = reqs
        .iter()
        .map(|r| {
            let key = format!("{version}|{}|{}|{}", r.voice, r.lang, r.text);
            format!("{}-{:016x}", r.voice, crate::corpus::fnv1a(&key))
        })
        .collect();
    let mut todo = String::new();
    let mut n = 0;
    for (r, id) in reqs.iter().zip(&ids) {
        if cache.join(format!("{id}.wav")).is_file() || todo.contains(&format!("\"{id}\"")) {
            continue;
        }
        let line = serde_json::json!({"id": id, "text": r.text, "lang": r.lang, "voice": r.voice});
        let _ = writeln!(todo, "{line}");
        n += 1;
    }
    if n > 0 {
        let models = models_dir();
        // Unique per call: tests in one process render side by side.
        static CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let list = cache.join(format!("todo-{}-{call}.jsonl", std::process::id()));
        std::fs::write(&list, &todo)
            .map_err(|e| TtsError::Io(format!("{}: {e}", list.display())))?;
        eprintln!("tts: rendering {n} file(s) of neural test speech");
        let py = python(&models);
        let out = Command::new(&py)
            .arg(renderer_dir().join("render.py"))
            .arg(&list)
            .arg(&cache)
            .arg("--models")
            .arg(&models)
            .env("OMP_NUM_THREADS", "1")
            .output()
            .map_err(|e| {
                TtsError::Io(format!(
                    "{}: {e} (install with `python3 models/install.py`)",
                    py.display()
                ))
            })?;
        let _ = std::fs::remove_file(&list);
        if !out.status.success() {
            return Err(TtsError::Failed {
                status: out.status.to_string(),
                stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            });
        }
    }
    ids.iter()
        .map(|id| {
            let p = cache.join(format!("{id}.wav"));
            if p.is_file() {
                Ok(p)
            } else {
                Err(TtsError::Missing(p.display().to_string()))
            }
        })
        .collect()
}
