//! The `remote` target against a real SSH server: a private `sshd` on a free
//! loopback port plays the dev board (key login, own host key, nothing of the
//! machine's configuration used). The bench stages the binary, models and
//! corpus over SSH, runs every utterance there through the reverse tunnel to
//! its broker, collects the rows, and cleans the board up.

use serde_json::Value;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

struct Sshd {
    child: Child,
    port: u16,
    key: PathBuf,
    user: String,
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn keygen(path: &Path) {
    let st = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(path)
        .status()
        .expect("ssh-keygen (apt-get install openssh-client)");
    assert!(st.success());
}

fn start_sshd(dir: &Path) -> Sshd {
    let sshd = ["/usr/sbin/sshd", "/usr/bin/sshd"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .expect("sshd not found: apt-get install openssh-server (setup.sh does)");
    keygen(&dir.join("host_key"));
    keygen(&dir.join("client_key"));
    let auth = dir.join("authorized_keys");
    std::fs::copy(dir.join("client_key.pub"), &auth).unwrap();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let user = String::from_utf8(Command::new("id").arg("-un").output().unwrap().stdout)
        .unwrap()
        .trim()
        .to_string();
    let conf = dir.join("sshd_config");
    std::fs::write(
        &conf,
        format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {hk}\nAuthorizedKeysFile {auth}\n\
             PidFile {pid}\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n\
             UsePAM no\nStrictModes no\nPermitRootLogin prohibit-password\n\
             AllowTcpForwarding yes\nAllowStreamLocalForwarding no\nX11Forwarding no\n",
            hk = dir.join("host_key").display(),
            auth = auth.display(),
            pid = dir.join("sshd.pid").display(),
        ),
    )
    .unwrap();
    // sshd started as root wants its privilege separation folder.
    let _ = std::fs::create_dir_all("/run/sshd");
    let child = Command::new(sshd)
        .args(["-D", "-e", "-f"])
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start sshd");
    let t0 = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "sshd did not listen"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Sshd {
        child,
        port,
        key: dir.join("client_key"),
        user,
    }
}

#[test]
fn tiny_corpus_on_a_board_over_ssh() {
    let bin = cabin_voice_hw_test::build_debug_binary().unwrap_or_else(|e| panic!("{e}"));
    let dir = std::env::temp_dir().join(format!("cv-remote-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let sshd = start_sshd(&dir);
    let board_dir = dir.join("board");
    let out = dir.join("out");
    // A private known_hosts: nothing of the user's ssh setup is touched.
    let home = dir.join("home");
    std::fs::create_dir_all(home.join(".ssh")).unwrap();
    let res = Command::new(env!("CARGO_BIN_EXE_bench"))
        .env("HOME", &home)
        .args(["--target", "remote", "--corpus", "tiny", "--timeout", "600"])
        .args(["--host", &format!("{}@127.0.0.1", sshd.user)])
        .args(["--ssh-port", &sshd.port.to_string()])
        .arg("--ssh-key")
        .arg(&sshd.key)
        .arg("--remote-dir")
        .arg(&board_dir)
        .arg("--out")
        .arg(&out)
        .arg("--bin")
        .arg(&bin)
        .arg("--sim-bin")
        .arg(&bin)
        .arg("--models")
        .arg(root().join("models"))
        .output()
        .expect("run bench");
    let stderr = String::from_utf8_lossy(&res.stderr);
    assert!(res.status.success(), "bench failed:\n{stderr}");

    let n: usize = stderr
        .lines()
        .find_map(|l| l.strip_prefix("bench: running "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no item count:\n{stderr}"));
    assert!(stderr.contains("bench: staged"), "{stderr}");
    let sum: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(sum["meta"]["target"], "remote");
    let rows = sum["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), n, "one row per item, none lost");
    for r in rows {
        assert_eq!(r["exit"], 0, "run failed on the board: {r}");
        // The board measured its own memory (peak-rss.sh), not the ssh client's.
        let rss = r["peak_rss_kb"].as_u64().unwrap_or(0);
        assert!(rss > 10_000, "peak RSS from the board: {r}");
    }
    // Actuations crossed the tunnel to the bench's broker.
    assert!(
        rows.iter()
            .any(|r| r["actuations"].as_array().is_some_and(|a| !a.is_empty())),
        "no actuation reached the broker"
    );
    assert!(
        !board_dir.exists(),
        "the staged folder is removed from the board"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
