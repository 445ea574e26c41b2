//! A rig for plugin, safety and simulator tests: a private mosquitto and
//! dbus-daemon (from `common`), the test D-Bus services, a configuration file,
//! and helpers to run `cabin-voice` once per command, as a long-running server,
//! or as the vehicle simulator. Nothing sleeps for a fixed time: every wait polls
//! with a deadline.

#![allow(dead_code)]

pub mod services;

use crate::common::{cabin_voice, json_lines, DBusDaemon, Mosquitto, Subscriber, TempDir};
use serde_json::Value;
use services::{Call, Options, Services};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long any single wait may take.
pub static WAIT: std::sync::LazyLock<Duration> =
    std::sync::LazyLock::new(|| Duration::from_secs_f64(8.0 * time_scale()));

/// How much slower than native the tests run: `CV_TEST_TIME_SCALE` (set by the
/// qemu runner for emulated aarch64 runs), else 1.
pub fn time_scale() -> f64 {
    std::env::var("CV_TEST_TIME_SCALE")
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|v| *v >= 1.0)
        .unwrap_or(1.0)
}

/// The phone book of the rig.
pub const CONTACTS: &str =
    "BEGIN:VCARD\nVERSION:3.0\nFN:Mom\nTEL;TYPE=CELL:+86 138 0013 8000\nEND:VCARD\n\
BEGIN:VCARD\nVERSION:3.0\nN:张;三;;;\nFN:张三\nTEL;TYPE=CELL:139-1234-5678\nEND:VCARD\n";

/// Broker, bus, services, an actuation subscriber and a config file.
pub struct Rig {
    pub broker: Mosquitto,
    pub bus: DBusDaemon,
    pub services: Option<Services>,
    pub sub: Subscriber,
    pub dir: TempDir,
    pub config: PathBuf,
}

/// One `run --text` command and everything it caused.
#[derive(Debug)]
pub struct Turn {
    pub text: String,
    pub code: i32,
    pub events: Vec<Value>,
    pub stderr: String,
    /// Actuation requests seen on the broker (topic suffix = VSS path, value).
    pub mqtt: Vec<(String, Value)>,
    /// Calls the test services received.
    pub dbus: Vec<Call>,
}

impl Turn {
    fn event(&self, kind: &str) -> Option<&Value> {
        self.events.iter().find(|e| e["event"] == kind)
    }
    pub fn intent(&self) -> String {
        self.event("intent")
            .map(|e| e["intent"].as_str().unwrap_or("").to_string())
            .unwrap_or_default()
    }
    pub fn slots(&self) -> Value {
        self.event("intent")
            .map(|e| e["slots"].clone())
            .unwrap_or(Value::Null)
    }
    pub fn status(&self) -> String {
        self.event("reply")
            .map(|e| e["status"].as_str().unwrap_or("").to_string())
            .unwrap_or_default()
    }
    pub fn reply(&self) -> String {
        self.event("reply")
            .map(|e| e["text"].as_str().unwrap_or("").to_string())
            .unwrap_or_default()
    }
    /// The reason of an `error` event, if any.
    pub fn reason(&self) -> String {
        self.event("error")
            .map(|e| e["message"].as_str().unwrap_or("").to_string())
            .unwrap_or_default()
    }
    /// The `action` events.
    pub fn actions(&self) -> Vec<&Value> {
        self.events
            .iter()
            .filter(|e| e["event"] == "action")
            .collect()
    }
    /// Everything, for assertion messages.
    pub fn show(&self) -> String {
        format!(
            "{:?}: code {}\nevents: {}\nmqtt: {:?}\ndbus: {:?}\nstderr: {}",
            self.text,
            self.code,
            self.events
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("\n  "),
            self.mqtt,
            self.dbus,
            self.stderr
        )
    }
}

impl Rig {
    /// A rig with these services (`None`: no services on the bus) and extra
    /// configuration text.
    pub fn new(services: Option<Options>, extra_config: &str) -> Rig {
        let broker = Mosquitto::start();
        let bus = DBusDaemon::start();
        let services = services.map(|o| Services::start(&bus.address, o));
        let sub = Subscriber::new(broker.port, "cabin/actuate/#");
        let dir = TempDir::new("rig");
        let contacts = dir.path().join("contacts.vcf");
        std::fs::write(&contacts, CONTACTS).unwrap();
        let config = dir.path().join("config.toml");
        std::fs::write(
            &config,
            format!(
                "[phone]\ncontacts = {:?}\n{extra_config}\n",
                contacts.display().to_string()
            ),
        )
        .unwrap();
        Rig {
            broker,
            bus,
            services,
            sub,
            dir,
            config,
        }
    }

    pub fn services(&self) -> &Services {
        self.services.as_ref().expect("rig started with services")
    }

    /// `cabin-voice --config <rig config>` with both buses pointing at the private bus.
    pub fn cmd(&self) -> Command {
        let mut c = cabin_voice();
        c.env("DBUS_SESSION_BUS_ADDRESS", &self.bus.address)
            .env("DBUS_SYSTEM_BUS_ADDRESS", &self.bus.address)
            .arg("--config")
            .arg(&self.config);
        c
    }

    /// Rewrites the config file.
    pub fn set_config(&self, extra: &str) {
        let contacts = self.dir.path().join("contacts.vcf");
        std::fs::write(
            &self.config,
            format!(
                "[phone]\ncontacts = {:?}\n{extra}\n",
                contacts.display().to_string()
            ),
        )
        .unwrap();
    }

    /// Runs one typed command and collects what it did.
    pub fn run_text(&mut self, text: &str) -> Turn {
        let mark = self.sub.drain().len();
        let dmark = self.services.as_ref().map_or(0, |s| s.log.len());
        let out = self
            .cmd()
            .args([
                "run",
                "--text",
                text,
                "--mqtt",
                &self.broker.addr(),
                "--json",
            ])
            .output()
            .expect("spawn cabin-voice");
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let events = json_lines(&stdout);
        let want_mqtt = events
            .iter()
            .filter(|e| e["event"] == "action" && e["kind"] == "mqtt")
            .count();
        // Every publish was acknowledged before exit; give the subscriber a moment
        // to see them all (no more than WAIT).
        let deadline = Instant::now() + *WAIT;
        while self.sub.drain().len() - mark < want_mqtt && Instant::now() < deadline {
            self.sub.wait_for(Duration::from_millis(20), |_| false);
        }
        let mqtt = self.sub.drain()[mark..]
            .iter()
            .map(|m| {
                (
                    m.topic.trim_start_matches("cabin/actuate/").to_string(),
                    m.payload["value"].clone(),
                )
            })
            .collect();
        let dbus = self
            .services
            .as_ref()
            .map_or(Vec::new(), |s| s.since(dmark));
        Turn {
            text: text.to_string(),
            code: out.status.code().unwrap_or(-1),
            events,
            stderr: String::from_utf8_lossy(&out.stderr).to_string(),
            mqtt,
            dbus,
        }
    }

    /// Asserts that nothing is actuated on the broker within a short grace period
    /// after the messages counted so far.
    pub fn assert_no_more_actuations(&mut self, since: usize, what: &str) {
        self.sub.wait_for(Duration::from_millis(200), |_| false);
        let extra: Vec<_> = self.sub.drain()[since..].to_vec();
        assert!(extra.is_empty(), "{what}: unexpected actuations {extra:?}");
    }
}

/// Lines of a child's output stream, read on a thread.
pub struct Lines {
    rx: mpsc::Receiver<String>,
    pub seen: Vec<String>,
}

impl Lines {
    pub fn new(r: impl std::io::Read + Send + 'static) -> Lines {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(r).lines() {
                let Ok(line) = line else { return };
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Lines {
            rx,
            seen: Vec::new(),
        }
    }

    /// Waits for a line (after the first `since`) satisfying `pred`.
    pub fn wait_for(
        &mut self,
        since: usize,
        timeout: Duration,
        pred: impl Fn(&str) -> bool,
    ) -> Option<String> {
        if let Some(l) = self.seen.iter().skip(since).find(|l| pred(l)) {
            return Some(l.clone());
        }
        let deadline = Instant::now() + timeout;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.rx.recv_timeout(left) {
                Ok(l) => {
                    self.seen.push(l.clone());
                    if pred(&l) {
                        return Some(l);
                    }
                }
                Err(_) => return None,
            }
        }
        None
    }

    /// Waits until at least `n` lines satisfy `pred`.
    pub fn wait_count(&mut self, timeout: Duration, n: usize, pred: impl Fn(&str) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self.drain().iter().filter(|l| pred(l)).count() >= n {
                return true;
            }
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                return false;
            };
            match self.rx.recv_timeout(left) {
                Ok(l) => self.seen.push(l),
                Err(_) => return false,
            }
        }
    }

    /// Lines read so far.
    pub fn drain(&mut self) -> &[String] {
        while let Ok(l) = self.rx.try_recv() {
            self.seen.push(l);
        }
        &self.seen
    }
}

/// A child process killed on drop.
pub struct Proc {
    pub child: Child,
    pub stdout: Lines,
    pub stderr: Lines,
}

impl Proc {
    pub fn spawn(mut cmd: Command) -> Proc {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let stdout = Lines::new(child.stdout.take().unwrap());
        let stderr = Lines::new(child.stderr.take().unwrap());
        Proc {
            child,
            stdout,
            stderr,
        }
    }

    /// Waits for the JSON event on stdout (after the first `since` lines) satisfying `pred`.
    pub fn wait_event(&mut self, since: usize, pred: impl Fn(&Value) -> bool) -> Option<Value> {
        self.stdout
            .wait_for(since, *WAIT, |l| {
                serde_json::from_str::<Value>(l).is_ok_and(|v| pred(&v))
            })
            .map(|l| serde_json::from_str(&l).unwrap())
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `cabin-voice sim` on the rig's broker, ready (its initial state is on the broker).
pub fn start_sim(rig: &Rig, speed: Option<f64>) -> Proc {
    let mut cmd = rig.cmd();
    cmd.args(["sim", "--mqtt", &rig.broker.addr()]);
    if let Some(s) = speed {
        cmd.args(["--speed", &s.to_string()]);
    }
    let sim = Proc::spawn(cmd);
    // Ready once its last retained signal is visible to a fresh subscriber.
    let mut state = Subscriber::new(
        rig.broker.port,
        "cabin/state/Vehicle.Exterior.AirTemperature",
    );
    assert!(
        state
            .wait_for(*WAIT, |m| m.retain || m.payload["value"] == 12)
            .is_some(),
        "simulator did not publish its state"
    );
    sim
}

/// `cabin-voice run` serving typed commands from `cabin/assistant/say`, ready
/// (it says so only once its subscriptions are in place at the broker).
pub fn start_server(rig: &Rig) -> Proc {
    let mut cmd = rig.cmd();
    cmd.args(["run", "--mqtt", &rig.broker.addr(), "--json"]);
    let mut p = Proc::spawn(cmd);
    assert!(
        p.stderr
            .wait_for(0, *WAIT, |l| l.contains("serving commands"))
            .is_some(),
        "server did not start: {:?}",
        p.stderr.drain()
    );
    p
}

/// Publishes a typed command to a server and returns its reply event (and the
/// stdout line count before it, for later waits).
pub fn say(rig: &Rig, server: &mut Proc, text: &str) -> (usize, Value) {
    let since = server.stdout.drain().len();
    rig.sub
        .publish("cabin/assistant/say", text.as_bytes(), false);
    // The turn of this text (a late probe answer must not be taken for it).
    let turn = server
        .wait_event(since, |e| e["event"] == "intent" && e["text"] == text)
        .unwrap_or_else(|| panic!("{text:?} not understood: {:?}", server.stderr.drain()))["turn"]
        .clone();
    let reply = server
        .wait_event(since, |e| e["event"] == "reply" && e["turn"] == turn)
        .unwrap_or_else(|| panic!("no reply to {text:?}: {:?}", server.stderr.drain()));
    (since, reply)
}

/// Percent-encodes like the host does for URI arguments.
pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
