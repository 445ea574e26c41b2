//! The `remote` target: a dev board reached over SSH.
//!
//! The bench host keeps the broker, the vehicle simulator and the result tap;
//! the board runs only `cabin-voice run`, one process per utterance, exactly as
//! the `local` target does. One SSH master connection carries every run and a
//! reverse tunnel to the bench's broker (`-R`), so the board needs nothing but
//! `sshd`, a POSIX shell and `tar`: no network setup, no broker of its own.
//!
//! Staging copies (with `tar` over SSH) into `--remote-dir`: the binary, the
//! plugins, the models it uses (whisper, intent model; the ONNX Runtime library
//! of the board's architecture: for an aarch64 binary the one fetched by
//! `hw-test/cross/aarch64.sh setup`), the rendered corpus, and `peak-rss.sh`,
//! which reports the run's peak RSS from the board's `/proc`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// How to reach the board.
#[derive(Debug, Clone)]
pub struct Remote {
    /// `user@host` (or a host alias of `~/.ssh/config`).
    pub host: String,
    pub port: Option<u16>,
    /// Private key file (else ssh's defaults / agent).
    pub key: Option<PathBuf>,
    /// Folder on the board that receives everything.
    pub dir: String,
    /// Control socket of the master connection (set by [`Remote::connect`]).
    control: Option<PathBuf>,
    /// Board-side port of the tunnel to the broker.
    board_port: Option<u16>,
}

/// The board's side of the peak-RSS measurement: runs the command in the
/// background, polls `VmHWM` every 10 ms, prints `CV_PEAK_RSS_KB=<kB>` on stderr
/// and exits with the command's status. POSIX sh, BusyBox included.
const PEAK_RSS_SH: &str = r#"#!/bin/sh
"$@" &
pid=$!
peak=0
while kill -0 "$pid" 2>/dev/null; do
  h=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$pid/status" 2>/dev/null)
  if [ -n "$h" ] && [ "$h" -gt "$peak" ]; then peak=$h; fi
  sleep 0.01
done
wait "$pid"
rc=$?
echo "CV_PEAK_RSS_KB=$peak" >&2
exit $rc
"#;

/// Quotes one word for the remote POSIX shell.
pub fn sh_quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:@,+".contains(&b))
    {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// ELF machine of a binary: `x86_64`, `aarch64`, or what the header says.
pub fn elf_arch(bin: &Path) -> Result<String, String> {
    let bytes = std::fs::read(bin).map_err(|e| format!("{}: {e}", bin.display()))?;
    if bytes.len() < 20 || &bytes[..4] != b"\x7fELF" {
        return Err(format!("{}: not an ELF binary", bin.display()));
    }
    let machine = u16::from_le_bytes([bytes[18], bytes[19]]);
    Ok(match machine {
        0x3e => "x86_64".into(),
        0xb7 => "aarch64".into(),
        0x28 => "arm".into(),
        0xf3 => "riscv64".into(),
        m => format!("elf-machine-{m:#x}"),
    })
}

impl Remote {
    pub fn new(host: &str, port: Option<u16>, key: Option<PathBuf>, dir: &str) -> Remote {
        Remote {
            host: host.to_string(),
            port,
            key,
            dir: dir.trim_end_matches('/').to_string(),
            control: None,
            board_port: None,
        }
    }

    fn base(&self) -> Command {
        let mut c = Command::new("ssh");
        c.args([
            "-o",
            "BatchMode=yes",
            "-o",
            "StrictHostKeyChecking=accept-new",
            "-o",
            "ServerAliveInterval=5",
        ]);
        if let Some(p) = self.port {
            c.args(["-p", &p.to_string()]);
        }
        if let Some(k) = &self.key {
            c.arg("-i").arg(k);
        }
        if let Some(s) = &self.control {
            c.arg("-S").arg(s);
        }
        c
    }

    /// Opens the master connection and a reverse tunnel from a free port of
    /// the board's loopback (chosen by sshd) to the broker at
    /// `broker_host:broker_port`; see [`Remote::board_mqtt`].
    pub fn connect(
        &mut self,
        work: &Path,
        broker_host: &str,
        broker_port: u16,
    ) -> Result<(), String> {
        let sock = work.join(format!("ssh-{}.sock", std::process::id()));
        let _ = std::fs::remove_file(&sock);
        let st = self
            .base()
            .args(["-M", "-f", "-N"])
            .arg("-S")
            .arg(&sock)
            .arg(&self.host)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map_err(|e| format!("ssh: {e} (apt-get install openssh-client)"))?;
        if !st.success() {
            return Err(format!(
                "ssh {}: cannot connect (exit {}); check --host/--ssh-port/--ssh-key",
                self.host,
                st.code().unwrap_or(-1)
            ));
        }
        self.control = Some(sock);
        // Port 0: sshd picks a free one on the board and ssh prints it.
        let out = self
            .base()
            .args(["-O", "forward", "-R"])
            .arg(format!("127.0.0.1:0:{broker_host}:{broker_port}"))
            .arg(&self.host)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("ssh: {e}"))?;
        let port = String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse::<u16>()
            .ok()
            .filter(|_| out.status.success());
        match port {
            Some(p) => {
                self.board_port = Some(p);
                Ok(())
            }
            None => {
                self.close();
                Err(format!(
                    "ssh {}: the board refused the reverse tunnel to the broker ({}); allow AllowTcpForwarding in its sshd",
                    self.host,
                    String::from_utf8_lossy(&out.stderr).trim()
                ))
            }
        }
    }

    /// The broker address as the board sees it (the tunnel's end), once
    /// connected.
    pub fn board_mqtt(&self) -> Option<String> {
        self.board_port.map(|p| format!("127.0.0.1:{p}"))
    }

    /// A command run on the board by the shell (`script` is shell text).
    pub fn shell(&self, script: &str) -> Command {
        let mut c = self.base();
        c.arg(&self.host).arg(script);
        c
    }

    fn run_script(&self, script: &str) -> Result<String, String> {
        let out = self
            .shell(script)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("ssh: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "on {}: `{script}` failed: {}",
                self.host,
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout).to_string())
    }

    /// Copies `entries` (`(local path, name in the remote dir)`) with tar over SSH.
    fn copy(&self, entries: &[(PathBuf, String)]) -> Result<(), String> {
        let stage = std::env::temp_dir().join(format!("cv-remote-stage-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&stage);
        std::fs::create_dir_all(&stage).map_err(|e| e.to_string())?;
        for (src, name) in entries {
            let dst = stage.join(name);
            if let Some(parent) = dst.parent() {
                std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
            }
            let src = src
                .canonicalize()
                .map_err(|e| format!("{}: {e}", src.display()))?;
            std::os::unix::fs::symlink(&src, &dst).map_err(|e| e.to_string())?;
        }
        // -h: follow the staging symlinks, so the board gets real files.
        let mut tar = Command::new("tar")
            .arg("-chf")
            .arg("-")
            .arg("-C")
            .arg(&stage)
            .arg(".")
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("tar: {e}"))?;
        let tar_out = tar.stdout.take().expect("piped");
        let st = self
            .shell(&format!(
                "mkdir -p {d} && tar -xf - -C {d}",
                d = sh_quote(&self.dir)
            ))
            .stdin(tar_out)
            .status()
            .map_err(|e| format!("ssh: {e}"))?;
        let tar_ok = tar.wait().map(|s| s.success()).unwrap_or(false);
        let _ = std::fs::remove_dir_all(&stage);
        if !st.success() || !tar_ok {
            return Err(format!("copying to {}:{} failed", self.host, self.dir));
        }
        Ok(())
    }

    /// Copies what `run` needs to the board (see the module doc). `models` are
    /// the files (relative to `models_dir`) the run reads; `ort_lib` is the ONNX
    /// Runtime library built for the board.
    pub fn stage(
        &self,
        bin: &Path,
        plugins: &Path,
        models_dir: &Path,
        models: &[&str],
        ort_lib: &Path,
        corpus: &Path,
    ) -> Result<(), String> {
        let arch = self.run_script("uname -m")?.trim().to_string();
        let bin_arch = elf_arch(bin)?;
        if arch != bin_arch {
            return Err(format!(
                "{} is built for {bin_arch}, the board is {arch}: pass --bin with a binary for the board (hw-test/cross/aarch64.sh build)",
                bin.display()
            ));
        }
        let lib_arch = elf_arch(ort_lib)?;
        if lib_arch != arch {
            return Err(format!(
                "{} is {lib_arch}, the board is {arch}",
                ort_lib.display()
            ));
        }
        let peak = std::env::temp_dir().join(format!("cv-peak-rss-{}.sh", std::process::id()));
        std::fs::write(&peak, PEAK_RSS_SH).map_err(|e| e.to_string())?;
        let mut entries = vec![
            (bin.to_path_buf(), "cabin-voice".to_string()),
            (peak.clone(), "peak-rss.sh".to_string()),
            (plugins.to_path_buf(), "plugins".to_string()),
            (corpus.to_path_buf(), "corpus".to_string()),
            (
                ort_lib.to_path_buf(),
                "models/lib/libonnxruntime.so".to_string(),
            ),
        ];
        for m in models {
            let p = models_dir.join(m);
            if p.exists() {
                entries.push((p, format!("models/{m}")));
            }
        }
        let r = self.copy(&entries);
        let _ = std::fs::remove_file(&peak);
        r?;
        self.run_script(&format!(
            "chmod +x {d}/cabin-voice {d}/peak-rss.sh",
            d = sh_quote(&self.dir)
        ))?;
        Ok(())
    }

    /// `cabin-voice <args>` on the board, from the staged folder, with its peak
    /// RSS reported on stderr (see [`parse_peak_rss`]).
    pub fn cabin_voice(&self, args: &[String]) -> Command {
        let d = sh_quote(&self.dir);
        let mut script = format!(
            "cd {d} && CABIN_VOICE_MODELS={d}/models CABIN_VOICE_LOG=warn,whisper_rs=off ./peak-rss.sh ./cabin-voice"
        );
        for a in args {
            script.push(' ');
            script.push_str(&sh_quote(a));
        }
        self.shell(&script)
    }

    /// Path on the board of a staged corpus file.
    pub fn corpus_path(&self, wav: &Path) -> String {
        format!(
            "{}/corpus/{}",
            self.dir,
            wav.file_name().unwrap_or_default().to_string_lossy()
        )
    }

    /// Removes the staged folder from the board.
    pub fn cleanup(&self) -> Result<(), String> {
        self.run_script(&format!("rm -rf {}", sh_quote(&self.dir)))
            .map(|_| ())
    }

    /// Closes the master connection (and its tunnel).
    pub fn close(&mut self) {
        if let Some(sock) = self.control.take() {
            let _ = Command::new("ssh")
                .arg("-S")
                .arg(&sock)
                .args(["-O", "exit"])
                .arg(&self.host)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            let _ = std::fs::remove_file(sock);
        }
    }
}

/// The peak RSS line `peak-rss.sh` leaves on stderr.
pub fn parse_peak_rss(stderr: &str) -> Option<u64> {
    stderr
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("CV_PEAK_RSS_KB="))
        .and_then(|v| v.trim().parse().ok())
        .filter(|v| *v > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_survives_the_remote_shell() {
        assert_eq!(sh_quote("--json"), "--json");
        assert_eq!(sh_quote("turn on the ac"), "'turn on the ac'");
        assert_eq!(sh_quote("it's"), r"'it'\''s'");
        assert_eq!(sh_quote(""), "''");
        // The quoted text goes through sh unchanged.
        for s in ["a b", "it's", "$HOME", "空调调到二十二度", "a\"b"] {
            let out = Command::new("sh")
                .arg("-c")
                .arg(format!("printf %s {}", sh_quote(s)))
                .output()
                .unwrap();
            assert_eq!(String::from_utf8_lossy(&out.stdout), s);
        }
    }

    #[test]
    fn peak_rss_line_is_parsed_and_zero_is_none() {
        assert_eq!(parse_peak_rss("x\nCV_PEAK_RSS_KB=1234\n"), Some(1234));
        assert_eq!(parse_peak_rss("CV_PEAK_RSS_KB=0\n"), None);
        assert_eq!(parse_peak_rss("nothing"), None);
    }

    #[test]
    fn elf_arch_reads_the_header() {
        let me = std::env::current_exe().unwrap();
        assert_eq!(elf_arch(&me).unwrap(), std::env::consts::ARCH);
        let dir = std::env::temp_dir().join(format!("cv-elf-{}", std::process::id()));
        std::fs::write(&dir, b"#!/bin/sh\n").unwrap();
        assert!(elf_arch(&dir).unwrap_err().contains("not an ELF"));
        let _ = std::fs::remove_file(&dir);
    }

    #[test]
    fn peak_rss_script_reports_and_keeps_the_exit_code() {
        let p = std::env::temp_dir().join(format!("cv-peak-{}.sh", std::process::id()));
        std::fs::write(&p, PEAK_RSS_SH).unwrap();
        let out = Command::new("sh")
            .arg(&p)
            .args(["sh", "-c", "sleep 0.1; exit 3"])
            .output()
            .unwrap();
        let _ = std::fs::remove_file(&p);
        assert_eq!(out.status.code(), Some(3));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(parse_peak_rss(&err).is_some(), "{err}");
    }
}
