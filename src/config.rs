//! The configuration file (TOML). Every key has a documented default
//! (docs/CONFIG.md); unknown keys and bad values are errors that name the key.

use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Errors reading or validating the configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config {}: cannot read: {err}", path.display())]
    Io { path: PathBuf, err: std::io::Error },
    #[error("config {}: {msg}", path.display())]
    Parse { path: PathBuf, msg: String },
    #[error("config: {key}: {msg}")]
    Invalid { key: String, msg: String },
}

/// The whole configuration.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub general: General,
    pub mqtt: Mqtt,
    pub asr: Asr,
    pub onnxruntime: OnnxRuntime,
    pub safety: Safety,
    pub dbus: DBus,
    pub nlu: Nlu,
    pub phone: Phone,
    /// `[lm]`: see [`crate::lm::config`].
    pub lm: crate::lm::config::Lm,
    /// `[audio]`, `[wake]`, `[listen]`: see [`crate::listen::config`].
    pub audio: crate::listen::config::Audio,
    pub wake: crate::listen::config::Wake,
    pub listen: crate::listen::config::Listen,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct General {
    /// Folder of plugins; empty: `./plugins`, then next to the binary's project,
    /// then `/usr/share/cabin-voice/plugins`.
    pub plugins_dir: String,
    /// Folder of models; empty: `$CABIN_VOICE_MODELS`, `./models`, then
    /// `/usr/share/cabin-voice/models`.
    pub models_dir: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Mqtt {
    pub host: String,
    pub port: u16,
    /// Topic prefix (docs/PROTOCOL.md).
    pub prefix: String,
    pub client_id: String,
    pub keep_alive_s: u64,
    /// First reconnect delay; doubles up to `retry_max_ms`.
    pub retry_initial_ms: u64,
    pub retry_max_ms: u64,
    /// How long `run` waits for the broker before giving up on a command.
    pub connect_timeout_ms: u64,
}

impl Default for Mqtt {
    fn default() -> Self {
        Mqtt {
            host: "127.0.0.1".into(),
            port: 1883,
            prefix: "cabin".into(),
            client_id: "cabin-voice".into(),
            keep_alive_s: 10,
            retry_initial_ms: 250,
            retry_max_ms: 5000,
            connect_timeout_ms: 10000,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Asr {
    /// Whisper model file, relative to the models folder.
    pub model: String,
    /// English-only model used when the language is forced to `en`; empty: `model`.
    pub model_en: String,
    /// `auto`, `en` or `zh`.
    pub language: String,
    /// Decoder threads; 0: all cores.
    pub threads: u32,
    /// Bias decoding with the plugins' vocabulary (initial prompt).
    pub domain_prompt: bool,
    /// Size whisper's encoder window to the utterance instead of the fixed 30 s:
    /// several times faster on short commands, but it loses words on fast speech
    /// (off until the bench shows it keeps accuracy).
    pub fit_audio_ctx: bool,
    /// With `fit_audio_ctx`: the shortest window, in ms (1000..=30000). A
    /// longer floor keeps more of the accuracy of the full window.
    pub fit_min_ms: u32,
    /// Suppress stationary noise (RNNoise) in each utterance before
    /// recognition (docs/NLU.md, "Mandarin from speech").
    pub denoise: bool,
    /// ggml backend: `cpu`, or `gpu` for a build with a GPU backend
    /// (cargo feature `whisper-vulkan` / `whisper-cuda`); without one, CPU.
    pub backend: String,
    /// Beam search width; 1: greedy decoding (docs/NLU.md, "Mandarin").
    pub beam_size: u32,
    /// Grammar-constrained decoding: a second pass held to the plugins'
    /// sentences replaces the free transcript when it costs at most
    /// `grammar_max_regret` nats (docs/NLU.md, "Mandarin").
    pub grammar: bool,
    pub grammar_max_regret: f32,
    /// The grammar pass also reads near-homophones (one pinyin letter off,
    /// 坐车 for 锁车) as the grammar's characters, at 3 nats each.
    pub grammar_near: bool,
}

impl Default for Asr {
    fn default() -> Self {
        Asr {
            model: "whisper/ggml-base-q5_1.bin".into(),
            model_en: "whisper/ggml-tiny.en-q5_1.bin".into(),
            language: "auto".into(),
            threads: 0,
            domain_prompt: true,
            fit_audio_ctx: false,
            fit_min_ms: 3000,
            denoise: false,
            backend: "cpu".into(),
            beam_size: 1,
            grammar: true,
            grammar_max_regret: 8.0,
            grammar_near: false,
        }
    }
}

/// Understanding engines.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Nlu {
    /// Use the intent model (`<models>/nlu`) for what the grammar misses.
    pub model: bool,
    /// Confidence the model needs; unset: the calibrated value in labels.json.
    pub threshold: Option<f32>,
    /// Let the grammar match a Chinese sentence with one near-homophone (a syllable
    /// one pinyin letter off: 风锁调到 -> 风速调到) when nothing matches otherwise.
    /// Off: no gain on recorded transcripts, and 有点累 matched 有点冷 (docs/NLU.md).
    pub near_homophones: bool,
}

impl Default for Nlu {
    fn default() -> Self {
        Nlu {
            model: true,
            threshold: None,
            near_homophones: false,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OnnxRuntime {
    /// Path of `libonnxruntime.so`; empty: `$ORT_DYLIB_PATH`, then `<models>/lib/`.
    pub library: String,
    /// Execution providers to try, in order (e.g. `["qnn", "vsinpu", "xnnpack",
    /// "cpu"]`); those the library lacks are skipped, CPU is the last resort.
    pub execution_providers: Vec<String>,
}

impl Default for OnnxRuntime {
    fn default() -> Self {
        OnnxRuntime {
            library: String::new(),
            execution_providers: vec!["cpu".into()],
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Safety {
    /// Above this speed window/sunroof opening is refused.
    pub max_open_speed_kmh: f64,
    /// Intents refused while the vehicle moves (speed > 0).
    pub refuse_while_moving: Vec<String>,
    /// Intents that need a spoken confirmation first.
    pub confirm: Vec<String>,
    pub confirm_timeout_s: u64,
    /// Intents limited at speed (`max_open_speed_kmh`).
    pub limit_at_speed: Vec<String>,
    /// Out-of-range numbers: `clamp` to the slot's range, or `refuse`.
    pub out_of_range: String,
}

impl Default for Safety {
    fn default() -> Self {
        Safety {
            max_open_speed_kmh: 80.0,
            refuse_while_moving: vec!["trunk.open".into(), "doors.unlock".into()],
            confirm: vec!["doors.unlock".into(), "trunk.open".into()],
            confirm_timeout_s: 8,
            limit_at_speed: vec!["window.open".into(), "sunroof.open".into()],
            out_of_range: "refuse".into(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DBus {
    /// `session` or `system`.
    pub bus: String,
    /// Timeout of one method call.
    pub call_timeout_ms: u64,
}

impl Default for DBus {
    fn default() -> Self {
        DBus {
            bus: "session".into(),
            call_timeout_ms: 2000,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Phone {
    /// vCard file of the phone book synchronised from the handset (PBAP), used
    /// to dial a contact by name; empty: calls by name are refused.
    pub contacts: String,
}

impl Config {
    /// Reads and validates `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Io {
            path: path.to_path_buf(),
            err: e,
        })?;
        let cfg: Config = toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            msg: e.to_string().trim().replace('\n', " "),
        })?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// The file given, else `$CABIN_VOICE_CONFIG`, `./cabin-voice.toml`,
    /// `/etc/cabin-voice/config.toml`, else the defaults.
    pub fn discover(explicit: Option<&Path>) -> Result<Config, ConfigError> {
        if let Some(p) = explicit {
            return Config::load(p);
        }
        let mut candidates: Vec<PathBuf> = Vec::new();
        if let Ok(p) = std::env::var("CABIN_VOICE_CONFIG") {
            candidates.push(p.into());
        }
        candidates.push("cabin-voice.toml".into());
        candidates.push("/etc/cabin-voice/config.toml".into());
        match candidates.into_iter().find(|p| p.is_file()) {
            Some(p) => Config::load(&p),
            None => Ok(Config::default()),
        }
    }

    /// Checks values serde cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |key: &str, msg: String| {
            Err(ConfigError::Invalid {
                key: key.into(),
                msg,
            })
        };
        if self.mqtt.host.trim().is_empty() {
            return bad("mqtt.host", "must not be empty".into());
        }
        if self.mqtt.port == 0 {
            return bad("mqtt.port", "must be 1..65535".into());
        }
        if self.mqtt.prefix.is_empty() || self.mqtt.prefix.contains(['#', '+']) {
            return bad(
                "mqtt.prefix",
                format!("{:?} is not a usable topic prefix", self.mqtt.prefix),
            );
        }
        if self.mqtt.retry_initial_ms == 0 || self.mqtt.retry_max_ms < self.mqtt.retry_initial_ms {
            return bad(
                "mqtt.retry_max_ms",
                "must be >= mqtt.retry_initial_ms > 0".into(),
            );
        }
        if !["auto", "en", "zh"].contains(&self.asr.language.as_str()) {
            return bad(
                "asr.language",
                format!("{:?}: use auto, en or zh", self.asr.language),
            );
        }
        if self.asr.model.is_empty() {
            return bad("asr.model", "must name a whisper model file".into());
        }
        if !(1000..=30_000).contains(&self.asr.fit_min_ms) {
            return bad(
                "asr.fit_min_ms",
                format!("{}: must be 1000..=30000 (ms)", self.asr.fit_min_ms),
            );
        }
        if !(0.0..=1000.0).contains(&self.asr.grammar_max_regret) {
            return bad(
                "asr.grammar_max_regret",
                format!("{}: must be 0..1000 (nats)", self.asr.grammar_max_regret),
            );
        }
        if !(0.0..=300.0).contains(&self.safety.max_open_speed_kmh) {
            return bad("safety.max_open_speed_kmh", "must be 0..300".into());
        }
        if !["clamp", "refuse"].contains(&self.safety.out_of_range.as_str()) {
            return bad("safety.out_of_range", "use clamp or refuse".into());
        }
        if let Some(t) = self.nlu.threshold {
            if !(0.0..=1.0).contains(&t) {
                return bad("nlu.threshold", format!("{t}: must be 0..1"));
            }
        }
        if let Err((key, msg)) = self.lm.validate() {
            return bad(&key, msg);
        }
        if !["session", "system"].contains(&self.dbus.bus.as_str()) {
            return bad("dbus.bus", "use session or system".into());
        }
        if let Err((key, msg)) =
            crate::listen::config::validate(&self.audio, &self.wake, &self.listen)
        {
            return bad(&key, msg);
        }
        if let Err(e) = crate::onnx::ep::parse_list(&self.onnxruntime.execution_providers) {
            return bad("onnxruntime.execution_providers", e.to_string());
        }
        if !["cpu", "gpu"].contains(&self.asr.backend.as_str()) {
            return bad(
                "asr.backend",
                format!("{:?}: use cpu or gpu", self.asr.backend),
            );
        }
        Ok(())
    }

    /// The plugins folder (see [`General::plugins_dir`]).
    pub fn plugins_dir(&self) -> PathBuf {
        resolve_dir(&self.general.plugins_dir, None, "plugins")
    }

    /// The models folder (see [`General::models_dir`]).
    pub fn models_dir(&self) -> PathBuf {
        resolve_dir(
            &self.general.models_dir,
            Some("CABIN_VOICE_MODELS"),
            "models",
        )
    }
}

/// The configured folder, or the first of env var, `./<name>`, the project folder
/// of the running binary (`target/<profile>/..`), `/usr/share/cabin-voice/<name>`.
pub fn resolve_dir(configured: &str, env: Option<&str>, name: &str) -> PathBuf {
    if !configured.is_empty() {
        return configured.into();
    }
    if let Some(v) = env
        .and_then(|e| std::env::var(e).ok())
        .filter(|v| !v.is_empty())
    {
        return v.into();
    }
    let mut candidates: Vec<PathBuf> = vec![PathBuf::from(name)];
    if let Ok(exe) = std::env::current_exe() {
        for anc in exe.ancestors().skip(1).take(4) {
            candidates.push(anc.join(name));
        }
    }
    candidates.push(PathBuf::from("/usr/share/cabin-voice").join(name));
    candidates
        .iter()
        .find(|p| p.is_dir())
        .cloned()
        .unwrap_or_else(|| PathBuf::from(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Config, ConfigError> {
        let c: Config = toml::from_str(s).map_err(|e| ConfigError::Parse {
            path: "t.toml".into(),
            msg: e.to_string(),
        })?;
        c.validate()?;
        Ok(c)
    }

    #[test]
    fn defaults_are_valid() {
        let c = parse("").unwrap();
        assert_eq!(c.mqtt.port, 1883);
        assert_eq!(c.mqtt.prefix, "cabin");
        assert_eq!(c.safety.max_open_speed_kmh, 80.0);
    }

    #[test]
    fn unknown_key_is_named() {
        let e = parse("[mqtt]\nhots = \"x\"\n").unwrap_err().to_string();
        assert!(e.contains("hots"), "{e}");
    }

    #[test]
    fn bad_values_are_named() {
        let e = parse("[mqtt]\nport = 0\n").unwrap_err().to_string();
        assert!(e.contains("mqtt.port"), "{e}");
        let e = parse("[asr]\nlanguage = \"fr\"\n").unwrap_err().to_string();
        assert!(e.contains("asr.language"), "{e}");
        let e = parse("[asr]\nfit_min_ms = 500\n").unwrap_err().to_string();
        assert!(e.contains("asr.fit_min_ms"), "{e}");
        let e = parse("[asr]\ngrammar_max_regret = -1.0\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("asr.grammar_max_regret"), "{e}");
        let e = parse("[mqtt]\nport = \"x\"\n").unwrap_err().to_string();
        assert!(e.contains("port"), "{e}");
        let e = parse("[lm]\nmin_step_p = 1.5\n").unwrap_err().to_string();
        assert!(e.contains("lm.min_step_p"), "{e}");
        let e = parse("[lm]\nprompt = \"chatty\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("lm.prompt"), "{e}");
        let c = parse("[lm]\nprompt = \"tuned\"\nmin_step_p = 0.0\n").unwrap();
        assert_eq!((c.lm.prompt.as_str(), c.lm.min_step_p), ("tuned", 0.0));
    }
}
