//! The `cabin-voice` command line (contracts in docs/CLI.md).

use anyhow::{bail, Context, Result};
use cabin_voice::app::{self, demo, devices, doctor};
use cabin_voice::asr::{Lang, Recognizer};
use cabin_voice::assistant::{Assistant, Output};
use cabin_voice::audio::Clip;
use cabin_voice::bus::MqttBus;
use cabin_voice::config::Config;
use cabin_voice::scheduler::external::ExternalPlugins;
use cabin_voice::scheduler::Scheduler;
use clap::{Parser, Subcommand};
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "cabin-voice",
    version,
    about = "Offline in-vehicle voice assistant"
)]
struct Cli {
    /// Configuration file (default: $CABIN_VOICE_CONFIG, ./cabin-voice.toml, /etc/cabin-voice/config.toml).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Transcribe a WAV file; prints {"text","lang","audio_ms","asr_ms"}.
    Transcribe {
        file: PathBuf,
        #[arg(long, default_value = "auto")]
        lang: String,
    },
    /// Understand TEXT (or one utterance per stdin line); prints one JSON object per utterance.
    Nlu { text: Option<String> },
    /// Run the assistant.
    Run {
        /// Broker HOST:PORT (overrides [mqtt]).
        #[arg(long)]
        mqtt: Option<String>,
        /// A WAV file, or `-` for raw 16 kHz s16le mono on stdin.
        #[arg(long, conflicts_with = "text")]
        input: Option<String>,
        /// One typed command, run through everything after speech recognition.
        #[arg(long)]
        text: Option<String>,
        /// The input is one command after a push-to-talk press (no wake word).
        #[arg(long)]
        ptt: bool,
        /// Listen on the microphone (`[audio] device`): wake word or push-to-talk,
        /// then the command; runs until SIGINT/SIGTERM.
        #[arg(long, conflicts_with_all = ["input", "text"])]
        mic: bool,
        /// Pace a WAV --input in real time, like a microphone (default: as fast as possible).
        #[arg(long)]
        realtime: bool,
        /// Print one JSON event per line.
        #[arg(long)]
        json: bool,
        /// Language of the speech: auto, en or zh (default: [asr] language).
        #[arg(long)]
        lang: Option<String>,
    },
    /// List plugins and their intents.
    Plugins {
        #[arg(long)]
        json: bool,
    },
    /// Check the installation: one line per check, with the fix.
    Doctor,
    /// List audio capture devices.
    Devices,
    /// Run the bundled samples against a local broker (started if needed).
    Demo {
        #[arg(long)]
        mqtt: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Wake word heads.
    Wakeword {
        #[command(subcommand)]
        cmd: WakewordCmd,
    },
    /// Simulate the vehicle on MQTT: retained VSS state, applies actuation requests.
    Sim {
        /// Broker HOST:PORT (overrides [mqtt]).
        #[arg(long)]
        mqtt: Option<String>,
        /// Driving speed in km/h (change it later on `<prefix>/sim/speed`).
        #[arg(long, default_value_t = 0.0)]
        speed: f64,
    },
}

#[derive(Subcommand)]
enum WakewordCmd {
    /// Train a head for a custom phrase offline (models/wakeword/train.py; needs
    /// python3, espeak-ng, sox); writes <models>/wakeword/<name>.onnx and .json.
    Train {
        /// The wake phrase, e.g. "hey cabin" or "你好小舱".
        #[arg(long)]
        phrase: String,
        /// Language of the phrase: en or zh.
        #[arg(long)]
        lang: String,
        /// Output path without extension (default: <models>/wakeword/<phrase slug>).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Less data and fewer epochs (minutes instead of a quarter hour).
        #[arg(long)]
        quick: bool,
    },
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("CABIN_VOICE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,whisper_rs=off"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

fn apply_mqtt(cfg: &mut Config, mqtt: Option<&str>) -> Result<()> {
    if let Some(hp) = mqtt {
        let (h, p) = hp
            .rsplit_once(':')
            .with_context(|| format!("--mqtt {hp:?}: expected HOST:PORT"))?;
        cfg.mqtt.host = h.to_string();
        cfg.mqtt.port = p
            .parse()
            .ok()
            .filter(|p| *p > 0)
            .with_context(|| format!("--mqtt {hp:?}: bad port"))?;
    }
    Ok(())
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build();
    let result = match rt {
        Ok(rt) => rt.block_on(real_main()),
        Err(e) => Err(e.into()),
    };
    if let Err(e) = result {
        // One readable line (plus causes), never a backtrace.
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

async fn real_main() -> Result<()> {
    init_logging();
    let cli = Cli::parse();
    let mut cfg = Config::discover(cli.config.as_deref())?;
    match cli.cmd {
        Cmd::Transcribe { file, lang } => {
            let lang: Lang = lang.parse()?;
            let clip = Clip::from_wav(&file)?;
            let reg = app::load_registry(&cfg).ok();
            let mut rec = app::build_recognizer(&cfg, reg.as_deref());
            let t = tokio::task::block_in_place(|| rec.transcribe(&clip.samples, lang))?;
            println!("{}", serde_json::to_string(&t)?);
        }
        Cmd::Nlu { text } => {
            let reg = app::load_registry(&cfg)?;
            let router = app::build_router(&cfg, &reg)?;
            let print = |t: &str, out: &mut dyn Write| -> Result<()> {
                // A compound request (language model) is its first call, plus
                // every call in order under "calls".
                let all = router.understand_all(t);
                let mut v = serde_json::to_value(&all[0])?;
                if all.len() > 1 {
                    v["calls"] = serde_json::to_value(&all)?;
                }
                writeln!(out, "{}", serde_json::to_string(&v)?)?;
                out.flush()?;
                Ok(())
            };
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            match text {
                Some(t) => print(&t, &mut out)?,
                None => {
                    for line in std::io::stdin().lock().lines() {
                        let line = match line {
                            Ok(l) => l,
                            Err(e) => {
                                // Not UTF-8: still answer, in order.
                                tracing::warn!(error = %e, "unreadable input line");
                                String::new()
                            }
                        };
                        print(&line, &mut out)?;
                    }
                }
            }
        }
        Cmd::Run {
            mqtt,
            input,
            text,
            ptt,
            mic,
            realtime,
            json,
            lang,
        } => {
            apply_mqtt(&mut cfg, mqtt.as_deref())?;
            let lang: Lang = lang.as_deref().unwrap_or(&cfg.asr.language).parse()?;
            let mode = match (input, mic) {
                (Some(path), _) if ptt => Mode::Clip(path),
                (Some(path), _) => Mode::Listen(app::listen::Input::File { path, realtime }),
                (None, true) => {
                    Mode::Listen(app::listen::Input::Mic(app::listen::mic_settings(&cfg)))
                }
                (None, false) => Mode::Serve,
            };
            run(cfg, mode, text, json, lang).await?;
        }
        Cmd::Wakeword {
            cmd:
                WakewordCmd::Train {
                    phrase,
                    lang,
                    out,
                    quick,
                },
        } => {
            if !["en", "zh"].contains(&lang.as_str()) {
                bail!("--lang {lang:?}: use en or zh");
            }
            let script = cfg.models_dir().join("wakeword").join("train.py");
            if !script.is_file() {
                bail!(
                    "{}: not found (the training script ships with the source tree)",
                    script.display()
                );
            }
            let mut cmd = std::process::Command::new("python3");
            cmd.arg(&script)
                .args(["--phrase", &phrase, "--lang", &lang]);
            if let Some(o) = out {
                cmd.arg("--out").arg(o);
            }
            if quick {
                cmd.arg("--quick");
            }
            let status = cmd.status().context("cannot run python3")?;
            if !status.success() {
                bail!("wake word training failed ({status})");
            }
        }
        Cmd::Plugins { json } => {
            let reg = app::load_registry(&cfg)?;
            for p in &reg.plugins {
                let intents: Vec<&str> =
                    p.manifest.intents.iter().map(|i| i.name.as_str()).collect();
                if json {
                    println!(
                        "{}",
                        serde_json::json!({"name": p.manifest.plugin.name, "version": p.manifest.plugin.version,
                            "description": p.manifest.plugin.description, "path": p.path, "intents": intents})
                    );
                } else {
                    println!("{:<12} {}", p.manifest.plugin.name, intents.join(", "));
                }
            }
        }
        Cmd::Doctor => {
            let checks = doctor::run(&cfg).await;
            for c in &checks {
                println!("{}", c.line());
            }
            if checks.iter().any(|c| !c.ok) {
                std::process::exit(1);
            }
        }
        Cmd::Devices => {
            let devs = devices::input_devices().map_err(anyhow::Error::msg)?;
            if devs.is_empty() {
                println!("no audio input devices");
            }
            for d in devs {
                println!(
                    "{}{}  ({})",
                    if d.default { "* " } else { "  " },
                    d.name,
                    d.config
                );
            }
        }
        Cmd::Sim { mqtt, speed } => {
            apply_mqtt(&mut cfg, mqtt.as_deref())?;
            if !(0.0..=400.0).contains(&speed) {
                bail!("--speed {speed}: expected 0..400 km/h");
            }
            cabin_voice::sim::run(&cfg.mqtt, speed, std::io::stdout()).await?;
        }
        Cmd::Demo { mqtt, json } => {
            apply_mqtt(&mut cfg, mqtt.as_deref())?;
            let _broker = demo::ensure_broker(&cfg)?;
            let wavs = demo::sample_wavs();
            if wavs.is_empty() {
                bail!("no sample utterances found (tests/fixtures/en_*.wav)");
            }
            // The simulated vehicle answers the actuations (its lines start with "applied").
            let sim_cfg = cfg.mqtt.clone();
            let sim_out: Box<dyn Write + Send> = if json {
                Box::new(std::io::sink())
            } else {
                Box::new(std::io::stdout())
            };
            let sim =
                tokio::spawn(async move { cabin_voice::sim::run(&sim_cfg, 0.0, sim_out).await });
            let (mut a, _incoming) = build_assistant(&cfg, json).await?;
            for w in &wavs {
                if !json {
                    println!("\n== {}", demo::short(w));
                }
                let clip = Clip::from_wav(w)?;
                a.handle_clip(&clip, Lang::En).await;
            }
            for t in demo::ZH_TEXTS {
                if !json {
                    println!("\n== typed: {t}");
                }
                a.handle_text(t).await;
            }
            a.bus().flush(Duration::from_secs(5)).await?;
            a.bus().disconnect().await;
            // Let the simulator print the last actuation before stopping it.
            tokio::time::sleep(Duration::from_millis(300)).await;
            sim.abort();
        }
    }
    Ok(())
}

type Incoming = tokio::sync::mpsc::Receiver<cabin_voice::bus::mqtt::Incoming>;

async fn build_assistant(
    cfg: &Config,
    json: bool,
) -> Result<(Assistant<cabin_voice::asr::WhisperRecognizer>, Incoming)> {
    cabin_voice::onnx::init(&cfg.onnxruntime.library, &cfg.models_dir())?;
    let reg = app::load_registry(cfg)?;
    let router = app::build_router(cfg, &reg)?;
    let topics = cabin_voice::bus::Topics::new(&cfg.mqtt.prefix);
    // Typed commands, and the answers of external plugins (routed to the scheduler).
    let subs = vec![topics.say(), topics.ptt(), topics.plugin_response_filter()];
    let (bus, incoming) = MqttBus::start(&cfg.mqtt, subs);
    let external = Arc::new(ExternalPlugins::mqtt(bus.clone()));
    let incoming = external.clone().route(incoming);
    bus.wait_connected(Duration::from_millis(cfg.mqtt.connect_timeout_ms))
        .await
        .with_context(|| format!("broker {}:{}", cfg.mqtt.host, cfg.mqtt.port))?;
    let mut scheduler = Scheduler::new(reg.clone(), cfg.safety.clone(), bus.clone())
        .with_phonebook(cabin_voice::scheduler::phonebook::Phonebook::load(
            &cfg.phone.contacts,
        ))
        .with_external(external);
    if let Some(dbus) = cabin_voice::bus::dbus::connect(&cfg.dbus).await {
        scheduler = scheduler.with_dbus(dbus);
    }
    let rec = app::build_recognizer(cfg, Some(&reg));
    let out = if json { Output::Json } else { Output::Text };
    Ok((
        Assistant::new(router, scheduler, Some(rec), bus, out),
        incoming,
    ))
}

/// What `run` does with audio.
enum Mode {
    /// One command: the whole clip (after a push-to-talk press).
    Clip(String),
    /// Listen: wake word or push-to-talk, endpointing, command after command.
    Listen(app::listen::Input),
    /// No audio: typed commands on MQTT.
    Serve,
}

async fn run(cfg: Config, mode: Mode, text: Option<String>, json: bool, lang: Lang) -> Result<()> {
    let (mut a, incoming) = build_assistant(&cfg, json).await?;
    if let Some(t) = text {
        a.handle_text(&t).await;
    } else if let Mode::Listen(input) = mode {
        listen(&cfg, &mut a, incoming, input, lang).await?;
    } else if let Mode::Clip(path) = mode {
        let clip = tokio::task::block_in_place(|| Clip::load(&path))?;
        if a.handle_clip(&clip, lang).await.is_none() {
            a.bus().flush(Duration::from_secs(5)).await?;
            bail!("{path}: no command was recognised (see the error event)");
        }
    } else {
        // Serve typed commands from `<prefix>/assistant/say` until SIGINT/SIGTERM.
        eprintln!(
            "serving commands from MQTT {} (Ctrl-C to stop)",
            a.bus().topics().say()
        );
        serve(&mut a, incoming).await?;
    }
    a.bus().flush(Duration::from_secs(5)).await?;
    a.bus().disconnect().await;
    Ok(())
}

/// Listens to `input` until it ends (file, stdin) or SIGINT/SIGTERM (microphone),
/// handling every command heard; typed commands and push-to-talk on MQTT and
/// D-Bus are served meanwhile.
async fn listen(
    cfg: &Config,
    a: &mut Assistant<cabin_voice::asr::WhisperRecognizer>,
    mut incoming: Incoming,
    input: app::listen::Input,
    lang: Lang,
) -> Result<()> {
    use cabin_voice::listen::{events::event_of, ptt, Heard, HEARD_CAPACITY};
    use tokio::signal::unix::{signal, SignalKind};
    let button = ptt::PushToTalk::default();
    let mut listener = app::listen::build_listener(cfg, button.flag())?;
    let _dbus = ptt::serve_dbus(&cfg.dbus.bus, button.clone()).await;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Heard>(HEARD_CAPACITY);
    let live = matches!(input, app::listen::Input::Mic(_));
    std::thread::Builder::new()
        .name("listener".into())
        .spawn(move || {
            let mut out = |h: Heard| tx.blocking_send(h).is_ok();
            match input.open() {
                Ok(mut source) => {
                    if let Err(e) = listener.run(&mut *source, &mut out) {
                        tracing::error!(error = %e, "listener stopped");
                    }
                }
                Err(e) => {
                    out(Heard::End {
                        at_ms: 0,
                        stats: Default::default(),
                        error: Some(e.to_string()),
                    });
                }
            }
        })?;
    let mut term = signal(SignalKind::terminate())?;
    let mut sd = cabin_voice::notify::Service::started("listening");
    let ptt_topic = a.bus().topics().ptt();
    // Reports read while a tentative command was being recognised, in order.
    let mut backlog: std::collections::VecDeque<Heard> = Default::default();
    loop {
        let h = if let Some(h) = backlog.pop_front() {
            h
        } else {
            tokio::select! {
                _ = sd.watchdog_due(), if live => { sd.watchdog(); continue }
                _ = tokio::signal::ctrl_c() => break,
                _ = term.recv() => break,
                h = rx.recv() => match h { Some(h) => h, None => break },
                msg = incoming.recv() => {
                    let Some(msg) = msg else { continue };
                    if msg.topic == ptt_topic {
                        tracing::info!("push-to-talk over MQTT");
                        button.press();
                    } else {
                        match say_text(&msg.payload) {
                            Some(t) => { a.handle_text(&t).await; }
                            None => tracing::warn!(topic = %msg.topic, "ignored say message: expected UTF-8 text or a JSON object with text"),
                        }
                    }
                    continue;
                }
            }
        };
        match h {
            Heard::Utterance {
                samples,
                lang: heard_lang,
                tentative,
                ..
            } => {
                let clip = Clip {
                    samples: samples.iter().map(|&s| s as f32 / 32768.0).collect(),
                };
                let lang = match (lang, heard_lang.as_deref()) {
                    (Lang::Auto, Some(l)) => l.parse().unwrap_or(Lang::Auto),
                    _ => lang,
                };
                let heard = a.recognize(&clip, lang);
                if tentative {
                    // Act only when the listener confirms the end; if speech came
                    // back, drop this result (a longer utterance follows).
                    let mut confirmed = false;
                    while let Some(next) = rx.recv().await {
                        match next {
                            Heard::Confirmed { .. } => {
                                confirmed = true;
                                break;
                            }
                            Heard::Resumed { .. } => {
                                backlog.push_back(next);
                                break;
                            }
                            // The audio ended or failed: no more speech can come.
                            Heard::End { .. } => {
                                backlog.push_back(next);
                                confirmed = true;
                                break;
                            }
                            other => backlog.push_back(other),
                        }
                    }
                    if !confirmed {
                        tracing::debug!("tentative command dropped: speech went on");
                        continue;
                    }
                }
                a.finish_clip(heard).await;
            }
            Heard::Confirmed { .. } => {}
            Heard::End {
                error,
                stats,
                at_ms,
            } => {
                tracing::info!(
                    audio_ms = at_ms,
                    overruns = stats.overruns,
                    reconnects = stats.reconnects,
                    "audio input ended"
                );
                if let Some(e) = error {
                    bail!("{e}");
                }
                break;
            }
            other => {
                if let Some(ev) = event_of(&other, a.turn() + 1) {
                    a.emit(ev).await;
                }
            }
        }
    }
    Ok(())
}

/// Handles text injected on `<prefix>/assistant/say` (plain UTF-8 text, or
/// `{"text": "..."}`) until SIGINT or SIGTERM.
async fn serve(
    a: &mut Assistant<cabin_voice::asr::WhisperRecognizer>,
    mut incoming: Incoming,
) -> Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    // Under systemd (Type=notify): READY=1 now that the broker is connected;
    // watchdog pings come from this loop, so a stuck loop gets restarted.
    let mut sd = cabin_voice::notify::Service::started("serving MQTT commands");
    loop {
        tokio::select! {
            _ = sd.watchdog_due() => sd.watchdog(),
            _ = tokio::signal::ctrl_c() => break,
            _ = term.recv() => break,
            msg = incoming.recv() => {
                let Some(msg) = msg else { break };
                if msg.topic == a.bus().topics().ptt() {
                    tracing::info!("push-to-talk ignored: not listening to audio (run --mic)");
                    continue;
                }
                match say_text(&msg.payload) {
                    Some(t) => { a.handle_text(&t).await; }
                    None => tracing::warn!(topic = %msg.topic, "ignored say message: expected UTF-8 text or a JSON object with text"),
                }
            }
        }
    }
    Ok(())
}

fn say_text(payload: &[u8]) -> Option<String> {
    let s = std::str::from_utf8(payload).ok()?.trim();
    if s.starts_with('{') {
        let v: serde_json::Value = serde_json::from_str(s).ok()?;
        return v
            .get("text")?
            .as_str()
            .map(str::to_string)
            .filter(|t| !t.trim().is_empty());
    }
    (!s.is_empty()).then(|| s.to_string())
}
