//! systemd service notifications (`sd_notify(3)`), without libsystemd.
//!
//! Under a `Type=notify` unit systemd passes a datagram socket in
//! `NOTIFY_SOCKET` (a path, or `@name` for the abstract namespace); the service
//! sends newline-separated `KEY=value` states to it: `READY=1` once it serves,
//! `WATCHDOG=1` at least every `WATCHDOG_USEC` microseconds when `WatchdogSec=`
//! is set, `STOPPING=1` on the way out. Outside systemd (no `NOTIFY_SOCKET`)
//! everything here does nothing.
//!
//! [`Service`] wraps the whole protocol for the `run` server loop:
//!
//! ```no_run
//! # async fn serve() {
//! let mut sd = cabin_voice::notify::Service::started("serving MQTT commands");
//! loop {
//!     tokio::select! {
//!         _ = sd.watchdog_due() => sd.watchdog(),
//!         // ... the real work ...
//!     }
//! }
//! # }
//! ```
//!
//! The watchdog is pinged from the loop itself, so a loop that stops turning
//! (a deadlock, a stuck await) stops the pings and systemd restarts the service.

use std::io;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::time::Duration;
use tokio::time::{Instant, Interval, MissedTickBehavior};

/// A connection to the service manager's notification socket.
#[derive(Debug)]
pub struct Notifier {
    sock: UnixDatagram,
    addr: SocketAddr,
}

impl Notifier {
    /// The socket named by `NOTIFY_SOCKET`; `None` when not run by systemd
    /// (unset, empty, or not a unix socket address).
    pub fn from_env() -> Option<Notifier> {
        let name = std::env::var_os("NOTIFY_SOCKET")?;
        Notifier::new(name.to_str()?).ok()
    }

    /// A notifier for `path` (`@name` = abstract namespace, Linux).
    pub fn new(path: &str) -> io::Result<Notifier> {
        let addr = socket_addr(path)?;
        let sock = UnixDatagram::unbound()?;
        Ok(Notifier { sock, addr })
    }

    /// Sends one message, e.g. `"READY=1\nSTATUS=serving"`.
    pub fn notify(&self, state: &str) -> io::Result<()> {
        let n = self.sock.send_to_addr(state.as_bytes(), &self.addr)?;
        if n != state.len() {
            return Err(io::Error::new(
                io::ErrorKind::WriteZero,
                "short write on NOTIFY_SOCKET",
            ));
        }
        Ok(())
    }
}

fn socket_addr(path: &str) -> io::Result<SocketAddr> {
    if let Some(name) = path.strip_prefix('@') {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            #[cfg(target_os = "android")]
            use std::os::android::net::SocketAddrExt;
            #[cfg(target_os = "linux")]
            use std::os::linux::net::SocketAddrExt;
            return SocketAddr::from_abstract_name(name.as_bytes());
        }
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        {
            let _ = name;
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "abstract socket names need Linux",
            ));
        }
    }
    if !path.starts_with('/') {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("NOTIFY_SOCKET {path:?}: expected an absolute path or @name"),
        ));
    }
    SocketAddr::from_pathname(path)
}

/// How often to ping the watchdog: half of `WATCHDOG_USEC` (as systemd
/// recommends), or `None` when the watchdog is off or meant for another
/// process (`WATCHDOG_PID`).
pub fn watchdog_interval() -> Option<Duration> {
    let usec = std::env::var("WATCHDOG_USEC").ok()?;
    let pid = std::env::var("WATCHDOG_PID").ok();
    interval_from(&usec, pid.as_deref(), std::process::id())
}

fn interval_from(usec: &str, pid: Option<&str>, me: u32) -> Option<Duration> {
    if let Some(pid) = pid {
        if pid.trim().parse::<u32>().ok()? != me {
            return None;
        }
    }
    let usec: u64 = usec.trim().parse().ok().filter(|u| *u > 0)?;
    Some(Duration::from_micros(usec / 2).max(Duration::from_millis(1)))
}

/// The service side of the protocol for a long-running server: `READY=1` when
/// created, `WATCHDOG=1` from [`Service::watchdog`], `STOPPING=1` when dropped.
/// Failures to send are logged once, never fatal.
#[derive(Debug)]
pub struct Service {
    notifier: Option<Notifier>,
    watchdog: Option<Interval>,
}

impl Service {
    /// Reports the service ready (with a `STATUS=` line) and arms the watchdog.
    /// Call once the service is actually able to work (broker connected).
    /// Needs a tokio runtime when the watchdog is on.
    pub fn started(status: &str) -> Service {
        Service::new(Notifier::from_env(), watchdog_interval(), status)
    }

    /// [`Service::started`] with an explicit socket and watchdog period.
    pub fn new(notifier: Option<Notifier>, watchdog: Option<Duration>, status: &str) -> Service {
        let watchdog = match (&notifier, watchdog) {
            (Some(_), Some(every)) => {
                let mut iv = tokio::time::interval_at(Instant::now() + every, every);
                iv.set_missed_tick_behavior(MissedTickBehavior::Delay);
                Some(iv)
            }
            _ => None,
        };
        let s = Service { notifier, watchdog };
        s.send(&format!("READY=1\nSTATUS={}", one_line(status)));
        if let Some(iv) = &s.watchdog {
            tracing::debug!(
                every_ms = iv.period().as_millis() as u64,
                "systemd watchdog on"
            );
        }
        s
    }

    /// Whether a service manager listens (`NOTIFY_SOCKET` was usable).
    pub fn is_active(&self) -> bool {
        self.notifier.is_some()
    }

    /// Resolves when the next watchdog ping is due; never, if the watchdog is off.
    pub async fn watchdog_due(&mut self) {
        match &mut self.watchdog {
            Some(iv) => {
                iv.tick().await;
            }
            None => std::future::pending().await,
        }
    }

    /// Sends `WATCHDOG=1`.
    pub fn watchdog(&self) {
        self.send("WATCHDOG=1");
    }

    /// Sends a `STATUS=` line (shown by `systemctl status`).
    pub fn status(&self, status: &str) {
        self.send(&format!("STATUS={}", one_line(status)));
    }

    fn send(&self, state: &str) {
        if let Some(n) = &self.notifier {
            if let Err(e) = n.notify(state) {
                tracing::warn!(error = %e, "sd_notify failed");
            }
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.send("STOPPING=1");
    }
}

fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    struct Listener {
        sock: UnixDatagram,
        path: std::path::PathBuf,
    }

    impl Listener {
        fn new(tag: &str) -> Listener {
            let path =
                std::env::temp_dir().join(format!("cv-notify-{tag}-{}.sock", std::process::id()));
            let _ = std::fs::remove_file(&path);
            let sock = UnixDatagram::bind(&path).unwrap();
            sock.set_read_timeout(Some(Duration::from_secs(30)))
                .unwrap();
            Listener { sock, path }
        }
        fn recv(&self) -> String {
            let mut buf = [0u8; 512];
            let n = self.sock.recv(&mut buf).expect("a notification");
            String::from_utf8(buf[..n].to_vec()).unwrap()
        }
        fn notifier(&self) -> Notifier {
            Notifier::new(self.path.to_str().unwrap()).unwrap()
        }
    }

    impl Drop for Listener {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.path);
        }
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
    }

    /// The real path, through the environment: this test binary runs itself
    /// (only [`child_sends_ready`]) with NOTIFY_SOCKET and WATCHDOG_USEC set,
    /// as systemd would start the service; no variable of this process changes.
    #[test]
    fn ready_arrives_on_notify_socket() {
        let l = Listener::new("env");
        let out = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "notify::tests::child_sends_ready", "--nocapture"])
            .env("CV_NOTIFY_CHILD", "1")
            .env("NOTIFY_SOCKET", &l.path)
            .env("WATCHDOG_USEC", "200000")
            .env_remove("WATCHDOG_PID")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert_eq!(l.recv(), "READY=1\nSTATUS=serving test");
        assert_eq!(l.recv(), "WATCHDOG=1");
        assert_eq!(l.recv(), "STOPPING=1");
    }

    /// The child half of [`ready_arrives_on_notify_socket`]; a no-op otherwise.
    #[test]
    fn child_sends_ready() {
        if std::env::var_os("CV_NOTIFY_CHILD").is_none() {
            return;
        }
        runtime().block_on(async {
            let mut sd = Service::started("serving test");
            assert!(sd.is_active());
            tokio::time::timeout(Duration::from_secs(10), sd.watchdog_due())
                .await
                .expect("watchdog due after WATCHDOG_USEC/2");
            sd.watchdog();
        });
    }

    #[test]
    fn service_sends_ready_watchdog_and_stopping() {
        let l = Listener::new("service");
        runtime().block_on(async {
            let every = Duration::from_millis(100);
            let t0 = Instant::now();
            let mut sd = Service::new(Some(l.notifier()), Some(every), "serving\ncommands");
            assert!(sd.is_active());
            assert_eq!(l.recv(), "READY=1\nSTATUS=serving commands");
            sd.watchdog_due().await;
            assert!(
                t0.elapsed() >= every,
                "the first ping is due one period after READY"
            );
            sd.watchdog();
            assert_eq!(l.recv(), "WATCHDOG=1");
            sd.status("busy");
            assert_eq!(l.recv(), "STATUS=busy");
        });
        assert_eq!(l.recv(), "STOPPING=1");
    }

    #[test]
    fn without_systemd_nothing_happens() {
        runtime().block_on(async {
            let mut sd = Service::new(None, Some(Duration::from_millis(10)), "x");
            assert!(!sd.is_active());
            let due = tokio::time::timeout(Duration::from_millis(100), sd.watchdog_due()).await;
            assert!(due.is_err(), "no watchdog without NOTIFY_SOCKET");
        });
    }

    #[test]
    fn abstract_and_bad_addresses() {
        assert!(Notifier::new("@cv-notify-abstract-test").is_ok());
        assert!(Notifier::new("relative/path").is_err());
        assert!(Notifier::new("").is_err());
    }

    #[test]
    fn watchdog_interval_is_half_and_respects_pid() {
        assert_eq!(
            interval_from("30000000", None, 7),
            Some(Duration::from_secs(15))
        );
        assert_eq!(
            interval_from("30000000", Some("7"), 7),
            Some(Duration::from_secs(15))
        );
        assert_eq!(interval_from("30000000", Some("8"), 7), None);
        assert_eq!(interval_from("0", None, 7), None);
        assert_eq!(interval_from("soon", None, 7), None);
    }
}
