//! Real services for integration tests: a private mosquitto on a free loopback
//! port and a private dbus-daemon session bus, both stopped on drop.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A scratch folder removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("cv-test-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A free TCP port on 127.0.0.1 (bound then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn wait_port(port: u16, what: &str) {
    let t0 = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "{what} did not start on port {port}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A private mosquitto broker.
pub struct Mosquitto {
    pub port: u16,
    child: Child,
    _dir: TempDir,
}

impl Mosquitto {
    pub fn start() -> Mosquitto {
        Mosquitto::start_on(free_port())
    }

    /// Starts a broker on a given port (to test a broker that comes up late).
    pub fn start_on(port: u16) -> Mosquitto {
        let dir = TempDir::new("mosquitto");
        let conf = dir.path().join("mosquitto.conf");
        let root = unsafe_uid() == 0;
        let mut text =
            format!("listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n");
        if root {
            text.push_str("user root\n");
        }
        std::fs::write(&conf, text).unwrap();
        let child = Command::new("mosquitto")
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mosquitto must be installed (apt-get install mosquitto)");
        wait_port(port, "mosquitto");
        Mosquitto {
            port,
            child,
            _dir: dir,
        }
    }

    /// `HOST:PORT` for `--mqtt`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Stops the broker now (to test a broker going away).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        self.stop();
    }
}

fn unsafe_uid() -> u32 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self")
        .map(|m| m.uid())
        .unwrap_or(1000)
}

/// A private D-Bus session bus.
pub struct DBusDaemon {
    /// Value for `DBUS_SESSION_BUS_ADDRESS`.
    pub address: String,
    pid: i32,
    _dir: TempDir,
}

impl DBusDaemon {
    pub fn start() -> DBusDaemon {
        let dir = TempDir::new("dbus");
        let sock = dir.path().join("bus");
        let conf = dir.path().join("session.conf");
        std::fs::write(
            &conf,
            format!(
                r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
                sock.display()
            ),
        )
        .unwrap();
        let out = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", conf.display()))
            .args(["--fork", "--print-address=1", "--print-pid=1"])
            .output()
            .expect("dbus-daemon must be installed (apt-get install dbus)");
        assert!(
            out.status.success(),
            "dbus-daemon failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        let mut lines = text.lines();
        let address = lines.next().expect("bus address").trim().to_string();
        let pid: i32 = lines
            .next()
            .and_then(|l| l.trim().parse().ok())
            .expect("bus pid");
        DBusDaemon {
            address,
            pid,
            _dir: dir,
        }
    }
}

impl Drop for DBusDaemon {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg(self.pid.to_string()).status();
    }
}

/// The project root (where Cargo.toml is).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The built `cabin-voice` binary.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_cabin-voice"))
}

/// A `cabin-voice` command with the project's plugins and models, and an empty
/// configuration search path.
pub fn cabin_voice() -> Command {
    let mut c = Command::new(bin());
    c.current_dir(root())
        .env("CABIN_VOICE_MODELS", root().join("models"))
        .env_remove("CABIN_VOICE_CONFIG")
        .env("CABIN_VOICE_LOG", "warn,whisper_rs=off");
    c
}

/// A message seen by a [`Subscriber`].
#[derive(Debug, Clone)]
pub struct Msg {
    pub topic: String,
    pub payload: serde_json::Value,
    pub raw: Vec<u8>,
    pub retain: bool,
}

/// An MQTT client that records every message on a filter (in a thread).
pub struct Subscriber {
    rx: std::sync::mpsc::Receiver<Msg>,
    pub seen: Vec<Msg>,
    client: rumqttc::Client,
}

impl Subscriber {
    /// Connects, subscribes, and returns once the subscription is acknowledged.
    pub fn new(port: u16, filter: &str) -> Subscriber {
        use rumqttc::{Client, Event, MqttOptions, Packet, QoS};
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let id = format!(
            "test-sub-{}-{}",
            std::process::id(),
            N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let mut opts = MqttOptions::new(id, "127.0.0.1", port);
        opts.set_keep_alive(Duration::from_secs(5));
        let (client, mut conn) = Client::new(opts, 64);
        let (tx, rx) = std::sync::mpsc::channel();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let sub_client = client.clone();
        let filter = filter.to_string();
        std::thread::spawn(move || {
            // Subscribe on every connect until acknowledged; a broker that is
            // still coming up (connection refused/reset) is retried, not fatal.
            let mut acked = false;
            let mut errors = 0;
            for ev in conn.iter() {
                match ev {
                    Ok(Event::Incoming(Packet::ConnAck(_))) if !acked => {
                        let _ = sub_client.try_subscribe(filter.clone(), QoS::AtLeastOnce);
                    }
                    Ok(Event::Incoming(Packet::SubAck(_))) => {
                        acked = true;
                        let _ = ready_tx.send(());
                    }
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        let payload =
                            serde_json::from_slice(&p.payload).unwrap_or(serde_json::Value::Null);
                        if tx
                            .send(Msg {
                                topic: p.topic.clone(),
                                payload,
                                raw: p.payload.to_vec(),
                                retain: p.retain,
                            })
                            .is_err()
                        {
                            return;
                        }
                    }
                    Ok(_) => {}
                    Err(_) if !acked && errors < 100 => {
                        errors += 1;
                        std::thread::sleep(Duration::from_millis(50));
                    }
                    Err(_) => return,
                }
            }
        });
        ready_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("subscription acknowledged");
        Subscriber {
            rx,
            seen: Vec::new(),
            client,
        }
    }

    /// Waits until a message satisfies `pred` (checking earlier ones first).
    pub fn wait_for(&mut self, timeout: Duration, pred: impl Fn(&Msg) -> bool) -> Option<Msg> {
        if let Some(m) = self.seen.iter().find(|m| pred(m)) {
            return Some(m.clone());
        }
        let deadline = Instant::now() + timeout;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.rx.recv_timeout(left) {
                Ok(m) => {
                    self.seen.push(m.clone());
                    if pred(&m) {
                        return Some(m);
                    }
                }
                Err(_) => return None,
            }
        }
        None
    }

    /// Everything received so far (draining what is queued now).
    pub fn drain(&mut self) -> &[Msg] {
        while let Ok(m) = self.rx.try_recv() {
            self.seen.push(m);
        }
        &self.seen
    }

    /// Publishes a message (e.g. retained vehicle state).
    pub fn publish(&self, topic: &str, payload: &[u8], retain: bool) {
        self.client
            .publish(topic, rumqttc::QoS::AtLeastOnce, retain, payload.to_vec())
            .unwrap();
    }
}

/// Runs a command, returning (status code, stdout, stderr).
pub fn output(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().expect("spawn");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

/// Parses JSON lines of stdout.
pub fn json_lines(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l:?}: {e}")))
        .collect()
}
