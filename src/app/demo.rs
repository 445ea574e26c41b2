//! `cabin-voice demo`: the assistant on bundled sample utterances (English speech
//! files and Chinese typed commands) against a local broker, started if needed.

use super::AppError;
use crate::config::{resolve_dir, Config};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Chinese commands typed into the demo (speech for them comes with the Mandarin work).
pub const ZH_TEXTS: &[&str] = &[
    "你好小舱，空调调到二十二度",
    "把副驾车窗打开一半",
    "关闭所有车窗",
];

/// True when something accepts TCP connections at host:port.
pub fn reachable(host: &str, port: u16) -> bool {
    let Some(addr) = (host, port)
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
    else {
        return false;
    };
    TcpStream::connect_timeout(&addr, Duration::from_millis(300)).is_ok()
}

/// A mosquitto started for the demo; stopped on drop.
pub struct LocalBroker {
    child: Child,
    _dir: PathBuf,
}

impl Drop for LocalBroker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self._dir);
    }
}

/// Starts `mosquitto` on 127.0.0.1:`port` and waits until it accepts connections.
pub fn start_mosquitto(port: u16) -> Result<LocalBroker, AppError> {
    let dir = std::env::temp_dir().join(format!(
        "cabin-voice-mosquitto-{}-{port}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir)
        .map_err(|e| AppError::Other(format!("{}: {e}", dir.display())))?;
    let conf = dir.join("mosquitto.conf");
    // As root mosquitto drops privileges unless told to stay.
    let is_root = std::env::var("USER").map(|u| u == "root").unwrap_or(false)
        || std::fs::metadata("/proc/self")
            .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
            .unwrap_or(false);
    let mut text = format!("listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n");
    if is_root {
        text.push_str("user root\n");
    }
    std::fs::write(&conf, text).map_err(|e| AppError::Other(e.to_string()))?;
    let child = Command::new("mosquitto")
        .arg("-c")
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| {
            AppError::Other(format!(
                "cannot start mosquitto ({e}); install it: apt-get install mosquitto"
            ))
        })?;
    let broker = LocalBroker { child, _dir: dir };
    let t0 = Instant::now();
    while !reachable("127.0.0.1", port) {
        if t0.elapsed() > Duration::from_secs(5) {
            return Err(AppError::Other(format!(
                "mosquitto did not start on port {port}"
            )));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(broker)
}

/// The English sample WAV files bundled with the project.
pub fn sample_wavs() -> Vec<PathBuf> {
    let dir = resolve_dir("", None, "tests/fixtures");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.extension().is_some_and(|x| x == "wav")
                        && p.file_name()
                            .and_then(|n| n.to_str())
                            .is_some_and(|n| n.starts_with("en_"))
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Starts a broker when the configured one is local and down.
pub fn ensure_broker(cfg: &Config) -> Result<Option<LocalBroker>, AppError> {
    if reachable(&cfg.mqtt.host, cfg.mqtt.port) {
        return Ok(None);
    }
    let local = matches!(cfg.mqtt.host.as_str(), "127.0.0.1" | "localhost" | "::1");
    if !local {
        return Err(AppError::Other(format!(
            "MQTT broker {}:{} is not reachable",
            cfg.mqtt.host, cfg.mqtt.port
        )));
    }
    eprintln!("starting a local mosquitto on port {}", cfg.mqtt.port);
    start_mosquitto(cfg.mqtt.port).map(Some)
}

/// Path shown for a sample.
pub fn short(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default()
}
