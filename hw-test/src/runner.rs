//! Target `local`: a private mosquitto (or a given broker), the vehicle
//! simulator, and one `cabin-voice run` process per corpus item.

use crate::corpus::Item;
use crate::metrics;
use crate::remote::Remote;
use serde_json::{json, Value};
use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

/// A private mosquitto on a free loopback port, stopped on drop.
pub struct Broker {
    pub port: u16,
    child: Child,
    dir: PathBuf,
}

impl Broker {
    pub fn start(work: &Path) -> Result<Broker, String> {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .map_err(|e| format!("free port: {e}"))?;
        let dir = work.join(format!("mosquitto-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let conf = dir.join("mosquitto.conf");
        let mut text =
            format!("listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n");
        if is_root() {
            text.push_str("user root\n");
        }
        std::fs::write(&conf, text).map_err(|e| e.to_string())?;
        let child = Command::new("mosquitto")
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("mosquitto: {e} (apt-get install mosquitto)"))?;
        let b = Broker { port, child, dir };
        wait_port("127.0.0.1", port, Duration::from_secs(10))?;
        Ok(b)
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

fn wait_port(host: &str, port: u16, max: Duration) -> Result<(), String> {
    let t0 = Instant::now();
    while std::net::TcpStream::connect((host, port)).is_err() {
        if t0.elapsed() > max {
            return Err(format!("nothing listening on {host}:{port}"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

/// Records every message under `cabin/#` (in a thread).
pub struct Tap {
    rx: Receiver<(String, Value)>,
    _client: rumqttc::Client,
}

impl Tap {
    pub fn new(host: &str, port: u16) -> Result<Tap, String> {
        use rumqttc::{Client, Event, MqttOptions, Packet, QoS};
        let mut opts = MqttOptions::new(format!("bench-tap-{}", std::process::id()), host, port);
        opts.set_keep_alive(Duration::from_secs(10));
        let (client, mut conn) = Client::new(opts, 256);
        client
            .subscribe("cabin/#", QoS::AtLeastOnce)
            .map_err(|e| e.to_string())?;
        let (tx, rx) = channel();
        let (ready_tx, ready_rx) = channel();
        std::thread::spawn(move || {
            for ev in conn.iter() {
                match ev {
                    Ok(Event::Incoming(Packet::SubAck(_))) => {
                        let _ = ready_tx.send(());
                    }
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        let v = serde_json::from_slice(&p.payload).unwrap_or(Value::Null);
                        if tx.send((p.topic.clone(), v)).is_err() {
                            return;
                        }
                    }
                    Ok(_) => {}
                    Err(_) => return,
                }
            }
        });
        ready_rx
            .recv_timeout(Duration::from_secs(10))
            .map_err(|_| format!("broker {host}:{port}: subscription not acknowledged"))?;
        Ok(Tap {
            rx,
            _client: client,
        })
    }

    /// Messages received within `wait` (returns early once quiet for 100 ms
    /// after the first one when `settle`).
    pub fn collect(&self, wait: Duration) -> Vec<(String, Value)> {
        let deadline = Instant::now() + wait;
        let mut out = Vec::new();
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            let step = if out.is_empty() {
                left
            } else {
                left.min(Duration::from_millis(100))
            };
            match self.rx.recv_timeout(step) {
                Ok(m) => out.push(m),
                Err(_) if !out.is_empty() => break,
                Err(_) => {}
            }
        }
        out
    }

    pub fn drain(&self) -> Vec<(String, Value)> {
        self.rx.try_iter().collect()
    }
}

/// A child process killed on drop.
pub struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// How to invoke the binary.
#[derive(Debug, Clone)]
pub struct Setup {
    pub bin: PathBuf,
    pub models: PathBuf,
    /// Where `run` is started (the plugins are found from there).
    pub cwd: PathBuf,
    pub timeout: Duration,
    /// `remote` target: runs go to the board (staged by the caller); the
    /// simulator stays here and runs `sim_bin`.
    pub remote: Option<Remote>,
    /// The bench host's binary for the simulator (default: `bin`).
    pub sim_bin: Option<PathBuf>,
}

impl Setup {
    /// The bench host's `cabin-voice` (the simulator).
    pub fn command(&self) -> Command {
        let mut c = Command::new(self.sim_bin.as_ref().unwrap_or(&self.bin));
        c.current_dir(&self.cwd)
            .env("CABIN_VOICE_MODELS", &self.models)
            .env_remove("CABIN_VOICE_CONFIG")
            .env("CABIN_VOICE_LOG", "warn,whisper_rs=off");
        c
    }

    /// `cabin-voice <args>` where the runs go: here, or on the board.
    pub fn run_command(&self, args: &[String]) -> Command {
        match &self.remote {
            Some(r) => r.cabin_voice(args),
            None => {
                let mut c = Command::new(&self.bin);
                c.current_dir(&self.cwd)
                    .env("CABIN_VOICE_MODELS", &self.models)
                    .env_remove("CABIN_VOICE_CONFIG")
                    .env("CABIN_VOICE_LOG", "warn,whisper_rs=off")
                    .args(args);
                c
            }
        }
    }

    /// A corpus file as the running binary sees it.
    fn wav_arg(&self, wav: &Path) -> String {
        match &self.remote {
            Some(r) => r.corpus_path(wav),
            None => wav.display().to_string(),
        }
    }
}

/// Runs every item against a broker (`mqtt` = HOST:PORT, or a private one) and
/// the simulator; one result row per item, in order. `progress` sees each row.
pub fn run_local(
    setup: &Setup,
    items: &[Item],
    mqtt: Option<&str>,
    work: &Path,
    mut progress: impl FnMut(usize, &Value),
) -> Result<Vec<Value>, String> {
    let mut setup = setup.clone();
    let rig = Rig::start(&mut setup, mqtt, work)?;
    let setup = &setup;
    let _close = CloseRemote(setup.remote.clone());
    let mut rows = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        rig.tap.drain();
        let row = run_one(setup, item, &rig.addr, &rig.tap);
        progress(i, &row);
        rows.push(row);
    }
    Ok(rows)
}

/// A broker (`mqtt` = HOST:PORT, or a private one), a tap on it and the
/// vehicle simulator, up and publishing its state.
pub struct Rig {
    /// HOST:PORT of the broker.
    pub addr: String,
    pub tap: Tap,
    _sim: Guard,
    _broker: Option<Broker>,
}

impl Rig {
    /// Starts what `setup` needs (and connects a remote target's tunnel).
    pub fn start(setup: &mut Setup, mqtt: Option<&str>, work: &Path) -> Result<Rig, String> {
        let mut broker = None;
        let (host, port) = match mqtt {
            Some(a) => {
                let (h, p) = a
                    .rsplit_once(':')
                    .ok_or_else(|| format!("--mqtt {a}: expected HOST:PORT"))?;
                let p: u16 = p.parse().map_err(|_| format!("--mqtt {a}: bad port"))?;
                (h.to_string(), p)
            }
            None => {
                let b = Broker::start(work)?;
                let p = b.port;
                broker = Some(b);
                ("127.0.0.1".to_string(), p)
            }
        };
        let addr = format!("{host}:{port}");
        let tap = Tap::new(&host, port)?;
        if let Some(r) = setup.remote.as_mut() {
            r.connect(work, &host, port)?;
        }
        let sim = setup
            .command()
            .args(["sim", "--mqtt", &addr])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("{}: {e}", setup.bin.display()))?;
        let sim = Guard(sim);
        // The simulator publishes its retained state once it is up.
        let t0 = Instant::now();
        loop {
            let seen = tap.collect(Duration::from_millis(200));
            if seen.iter().any(|(t, _)| t.starts_with("cabin/state/")) {
                break;
            }
            if t0.elapsed() > Duration::from_secs(60) {
                return Err("vehicle simulator published no state within 60 s".into());
            }
        }
        std::thread::sleep(Duration::from_millis(200));
        Ok(Rig {
            addr,
            tap,
            _sim: sim,
            _broker: broker,
        })
    }
}

/// Closes the SSH master connection when the run ends, however it ends.
struct CloseRemote(Option<Remote>);

impl Drop for CloseRemote {
    fn drop(&mut self) {
        if let Some(r) = self.0.as_mut() {
            r.close();
        }
    }
}

fn peak_rss_kb(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

/// CPU time (user + system) of a running process, in ms.
fn cpu_ms(pid: u32) -> Option<f64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces): state is field 3,
    // utime and stime are fields 14 and 15, in clock ticks (100 per second).
    let rest = &s[s.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks * 10.0)
}

/// A finished process: exit code (None on timeout), output, wall time,
/// peak resident set (VmHWM polled every 5 ms while it ran) and CPU time
/// (the last poll's user + system).
pub struct Measured {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub wall_ms: f64,
    pub peak_rss_kb: Option<u64>,
    pub cpu_ms: Option<f64>,
}

/// Runs one process to completion, polling its peak RSS.
pub fn run_measured(mut cmd: Command, timeout: Duration) -> Result<Measured, String> {
    let t0 = Instant::now();
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let pid = child.id();
    let mut out = child.stdout.take().expect("piped");
    let mut err = child.stderr.take().expect("piped");
    let out_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let mut peak = None;
    let mut cpu = None;
    let code = loop {
        if let Some(kb) = peak_rss_kb(pid) {
            peak = Some(peak.unwrap_or(0).max(kb));
        }
        cpu = cpu_ms(pid).or(cpu);
        match child.try_wait() {
            Ok(Some(st)) => break st.code().or(Some(-1)),
            Ok(None) if t0.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(e.to_string()),
        }
    };
    let wall = t0.elapsed().as_secs_f64() * 1000.0;
    Ok(Measured {
        code,
        stdout: out_t.join().unwrap_or_default(),
        stderr: err_t.join().unwrap_or_default(),
        wall_ms: wall,
        peak_rss_kb: peak,
        cpu_ms: cpu,
    })
}

fn run_one(setup: &Setup, item: &Item, addr: &str, tap: &Tap) -> Value {
    // A remote board reaches the broker through the SSH tunnel on its loopback.
    let addr = match setup.remote.as_ref().and_then(Remote::board_mqtt) {
        Some(a) => a,
        None => addr.to_string(),
    };
    let mut args: Vec<String> = ["run", "--json", "--mqtt", &addr, "--lang", &item.utt.lang]
        .map(str::to_string)
        .to_vec();
    match &item.wav {
        Some(wav) => args.extend(["--ptt".into(), "--input".into(), setup.wav_arg(wav)]),
        None => args.extend(["--text".into(), item.reference.clone()]),
    };
    let cmd = setup.run_command(&args);
    let mut m = run_measured(cmd, setup.timeout).unwrap_or_else(|e| Measured {
        code: Some(-1),
        stdout: String::new(),
        stderr: e,
        wall_ms: 0.0,
        peak_rss_kb: None,
        cpu_ms: None,
    });
    if setup.remote.is_some() {
        // The local ssh client's memory means nothing: the board reports its own.
        m.peak_rss_kb = crate::remote::parse_peak_rss(&m.stderr);
        m.stderr = m
            .stderr
            .lines()
            .filter(|l| !l.starts_with("CV_PEAK_RSS_KB="))
            .collect::<Vec<_>>()
            .join("\n");
    }
    let (code, stdout, stderr, wall_ms, rss) =
        (m.code, m.stdout, m.stderr, m.wall_ms, m.peak_rss_kb);
    // `run` waits for the broker's acks before exiting: what it published is
    // on the broker; give the tap a moment to receive it.
    let msgs = tap.collect(Duration::from_millis(300));
    let actuations: Vec<Value> = msgs
        .iter()
        .filter(|(t, _)| t.starts_with("cabin/actuate/"))
        .map(|(t, p)| json!({"topic": t, "value": p.get("value").cloned().unwrap_or(Value::Null)}))
        .collect();
    let events: Vec<Value> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let find = |name: &str| {
        events
            .iter()
            .find(|e| e.get("event").and_then(Value::as_str) == Some(name))
    };
    let transcript = find("transcript")
        .and_then(|e| e.get("text"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let intent_ev = find("intent");
    let intent = intent_ev
        .and_then(|e| e.get("intent"))
        .and_then(Value::as_str)
        .unwrap_or("none")
        .to_string();
    let slots = intent_ev
        .and_then(|e| e.get("slots"))
        .cloned()
        .unwrap_or(json!({}));
    let engine = intent_ev.and_then(|e| e.get("engine")).cloned();
    let reply = find("reply").and_then(|e| e.get("status")).cloned();
    let error = find("error")
        .and_then(|e| e.get("message"))
        .cloned()
        .or_else(|| {
            (code != Some(0)).then(|| {
                let last = stderr.lines().last().unwrap_or("").to_string();
                Value::String(if code.is_none() {
                    format!("timeout after {} s", setup.timeout.as_secs())
                } else {
                    last
                })
            })
        });
    // Timings: the most complete object (the last event carrying one).
    let timings = events
        .iter()
        .rev()
        .find_map(|e| e.get("timings").cloned())
        .unwrap_or(json!({}));
    let t = |k: &str| timings.get(k).and_then(Value::as_f64);
    let slot_errs = metrics::slot_errors(&item.utt.slots, &slots);
    let intent_ok = intent == item.utt.intent;
    let (wer_err, wer_n) = match (&item.wav, &transcript) {
        (Some(_), Some(h)) => {
            let (e, n) = metrics::word_errors(&item.reference, h);
            (Some(e), Some(n))
        }
        (Some(_), None) => (
            Some(metrics::normalize(&item.reference).len()),
            Some(metrics::normalize(&item.reference).len()),
        ),
        _ => (None, None),
    };
    json!({
        "id": item.utt.id,
        "lang": item.utt.lang,
        "mode": if item.wav.is_some() { "speech" } else { "text" },
        "voice": item.voice,
        "condition": item.condition,
        "wav": item.wav.as_ref().map(|p| p.file_name().unwrap_or_default().to_string_lossy().to_string()),
        "reference": item.reference,
        "transcript": transcript,
        "word_errors": wer_err,
        "ref_words": wer_n,
        "expected_intent": item.utt.intent,
        "expected_slots": item.utt.slots,
        "intent": intent,
        "slots": slots,
        "engine": engine,
        "intent_ok": intent_ok,
        "frame_ok": intent_ok && slot_errs.is_empty(),
        "slot_errors": slot_errs,
        "reply": reply,
        "actuations": actuations,
        "asr_ms": t("asr_ms"),
        "nlu_ms": t("nlu_ms"),
        "act_ms": t("act_ms"),
        "total_ms": t("total_ms"),
        "audio_ms": t("audio_ms"),
        "wall_ms": wall_ms,
        "peak_rss_kb": rss,
        "exit": code,
        "error": error,
    })
}
