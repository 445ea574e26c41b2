//! `cabin-voice doctor`: one line per check, with the fix when it fails.

use super::model_path;
use crate::config::Config;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::net::ToSocketAddrs;
use std::path::Path;
use std::time::Duration;

/// The result of one check.
#[derive(Debug, Clone)]
pub struct Check {
    pub name: String,
    pub ok: bool,
    pub detail: String,
    pub fix: Option<String>,
}

impl Check {
    fn ok(name: &str, detail: impl Into<String>) -> Check {
        Check {
            name: name.into(),
            ok: true,
            detail: detail.into(),
            fix: None,
        }
    }
    fn fail(name: &str, detail: impl Into<String>, fix: impl Into<String>) -> Check {
        Check {
            name: name.into(),
            ok: false,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }

    /// `ok   name  detail` or `FAIL name  detail -> fix`.
    pub fn line(&self) -> String {
        match &self.fix {
            None => format!("ok    {:<12} {}", self.name, self.detail),
            Some(f) => format!("FAIL  {:<12} {} -> fix: {f}", self.name, self.detail),
        }
    }
}

/// SHA-256 of a file, hex.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// Checks every file listed in `models/models.toml` that this machine should have.
fn check_models(cfg: &Config) -> Vec<Check> {
    let dir = cfg.models_dir();
    let manifest = dir.join("models.toml");
    let fix = "python3 models/install.py";
    let text = match std::fs::read_to_string(&manifest) {
        Ok(t) => t,
        Err(e) => {
            return vec![Check::fail(
                "models",
                format!("{}: {e}", manifest.display()),
                fix,
            )]
        }
    };
    let parsed: toml::Table = match toml::from_str(&text) {
        Ok(t) => t,
        Err(e) => {
            return vec![Check::fail(
                "models",
                format!("{}: {e}", manifest.display()),
                "restore models/models.toml from git",
            )]
        }
    };
    let mut out = Vec::new();
    let entries = parsed
        .get("model")
        .and_then(|m| m.as_array())
        .cloned()
        .unwrap_or_default();
    for m in entries {
        let (Some(file), Some(sum)) = (
            m.get("file").and_then(|v| v.as_str()),
            m.get("sha256").and_then(|v| v.as_str()),
        ) else {
            continue;
        };
        // `default = false`: installed only on request (`install.py --all / --only`).
        let optional = m.get("optional").and_then(|v| v.as_bool()).unwrap_or(false)
            || !m.get("default").and_then(|v| v.as_bool()).unwrap_or(true);
        let arch_ok = m
            .get("arch")
            .and_then(|v| v.as_str())
            .is_none_or(|a| a == std::env::consts::ARCH);
        if !arch_ok {
            continue;
        }
        let p = dir.join(file);
        if !p.exists() {
            if !optional {
                out.push(Check::fail("model", format!("{file}: missing"), fix));
            }
            continue;
        }
        match sha256_file(&p) {
            Ok(s) if s == sum => out.push(Check::ok("model", format!("{file} (sha256 ok)"))),
            Ok(s) => out.push(Check::fail(
                "model",
                format!("{file}: sha256 {s} != expected {sum} (corrupt or truncated)"),
                format!("rm {} && {fix}", p.display()),
            )),
            Err(e) => out.push(Check::fail("model", format!("{file}: {e}"), fix)),
        }
    }
    for (what, f) in [
        ("asr.model", &cfg.asr.model),
        ("asr.model_en", &cfg.asr.model_en),
    ] {
        if !f.is_empty() && !model_path(cfg, f).is_file() {
            out.push(Check::fail("asr", format!("{what} = {f}: not found"), fix));
        }
    }
    out
}

/// TCP reachability of the broker.
fn check_broker(cfg: &Config) -> Check {
    let addr = format!("{}:{}", cfg.mqtt.host, cfg.mqtt.port);
    let fix = "start mosquitto (`mosquitto -d`) or set [mqtt] host/port or --mqtt HOST:PORT";
    match addr.to_socket_addrs().ok().and_then(|mut a| a.next()) {
        Some(sa) => match std::net::TcpStream::connect_timeout(&sa, Duration::from_millis(800)) {
            Ok(_) => Check::ok("broker", format!("{addr} reachable")),
            Err(e) => Check::fail("broker", format!("{addr}: {e}"), fix),
        },
        None => Check::fail("broker", format!("{addr}: cannot resolve"), fix),
    }
}

async fn check_dbus(cfg: &Config) -> Check {
    let conn = if cfg.dbus.bus == "system" {
        zbus::Connection::system().await
    } else {
        zbus::Connection::session().await
    };
    match conn {
        Ok(c) => Check::ok(
            "dbus",
            format!(
                "{} bus connected as {}",
                cfg.dbus.bus,
                c.unique_name().map(|n| n.to_string()).unwrap_or_default()
            ),
        ),
        Err(e) => Check::fail(
            "dbus",
            format!("{} bus: {e}", cfg.dbus.bus),
            "start a bus (dbus-daemon --session --fork) and export DBUS_SESSION_BUS_ADDRESS",
        ),
    }
}

/// The configured execution providers against those of the loaded library.
fn check_providers(cfg: &Config) -> Check {
    use crate::onnx::ep;
    let names = |l: &[ep::Ep]| {
        l.iter()
            .map(|e| e.config_name())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let wanted = match ep::parse_list(&cfg.onnxruntime.execution_providers) {
        Ok(w) => w,
        Err(e) => {
            return Check::fail(
                "providers",
                e.to_string(),
                "fix [onnxruntime] execution_providers",
            )
        }
    };
    let available = ep::available();
    let sel = ep::select(&wanted, |e| available.contains(&e));
    let mut detail = format!(
        "configured [{}]; this ONNX Runtime has [{}]; used: {}",
        names(&wanted),
        names(&available),
        if sel.used.is_empty() {
            "cpu".to_string()
        } else {
            names(&sel.used)
        }
    );
    if sel.fell_back_to_cpu() {
        detail.push_str(&format!(
            " (no {} in this build: CPU fallback)",
            names(&sel.missing)
        ));
    }
    Check::ok("providers", detail)
}

/// whisper.cpp's threads and ggml backend.
fn whisper_line(cfg: &Config) -> String {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let threads = if cfg.asr.threads == 0 {
        format!("{cores} threads (all cores)")
    } else {
        format!("{} threads", cfg.asr.threads)
    };
    let gpu_build = cfg!(any(feature = "whisper-vulkan", feature = "whisper-cuda"));
    let backend = match (cfg.asr.backend.as_str(), gpu_build) {
        ("gpu", true) => "ggml GPU backend",
        ("gpu", false) => "ggml CPU (asr.backend = gpu, but this build has no GPU backend)",
        _ => "ggml CPU",
    };
    format!("{threads}, {backend}")
}

/// Runs every check.
pub async fn run(cfg: &Config) -> Vec<Check> {
    let mut out = vec![Check::ok("config", "valid")];
    match crate::plugin::Registry::load(&cfg.plugins_dir()) {
        Ok(reg) => {
            let n: usize = reg.plugins.iter().map(|p| p.manifest.intents.len()).sum();
            out.push(Check::ok(
                "plugins",
                format!(
                    "{} plugins, {n} intents from {}",
                    reg.plugins.len(),
                    cfg.plugins_dir().display()
                ),
            ));
            for e in &reg.errors {
                out.push(Check::fail(
                    "plugin",
                    e.to_string(),
                    "fix the manifest (docs/PLUGINS.md)",
                ));
            }
            match crate::nlu::Grammar::compile(&reg) {
                Ok(g) => out.push(Check::ok(
                    "grammar",
                    format!("{} sentences compiled", g.len()),
                )),
                Err(e) => out.push(Check::fail(
                    "grammar",
                    e.to_string(),
                    "fix the sentence (docs/PLUGINS.md)",
                )),
            }
        }
        Err(e) => out.push(Check::fail(
            "plugins",
            e.to_string(),
            "set [general] plugins_dir",
        )),
    }
    match crate::onnx::init(&cfg.onnxruntime.library, &cfg.models_dir()) {
        Ok(p) => {
            out.push(Check::ok("onnxruntime", p));
            out.push(check_providers(cfg));
        }
        Err(e) => out.push(Check::fail(
            "onnxruntime",
            e.to_string(),
            "python3 models/install.py",
        )),
    }
    out.push(Check::ok("whisper", whisper_line(cfg)));
    out.extend(check_models(cfg));
    out.push(check_broker(cfg));
    out.push(check_dbus(cfg).await);
    match super::devices::input_devices() {
        Ok(d) if !d.is_empty() => {
            out.push(Check::ok("audio", format!("{} input device(s)", d.len())))
        }
        Ok(_) => out.push(Check::fail(
            "audio",
            "no input device",
            "connect a microphone; files and --input - still work",
        )),
        Err(e) => out.push(Check::fail(
            "audio",
            e,
            "install ALSA (libasound2) and check permissions",
        )),
    }
    out
}
