//! Footprint of the assistant as a service: binary size, cold start to ready,
//! idle CPU and memory.
//!
//! ```sh
//! cargo run --release -p cabin-voice-hw-test --bin footprint -- \
//!     [--bin target/x86_64-unknown-linux-gnu/embedded/cabin-voice] [--idle 30] [--runs 5] \
//!     [-- <extra `cabin-voice run` arguments>]
//! ```
//!
//! Starts a private mosquitto, then `cabin-voice run` (serving mode, plus the
//! extra arguments) under a `NOTIFY_SOCKET` of its own, as systemd would. Cold
//! start = spawn until `READY=1` arrives (the service is connected and serving).
//! Then, for `--idle` seconds with nothing happening, CPU time (utime + stime
//! from /proc) and memory (VmRSS, VmHWM) of the idle service. Prints one line per
//! run and a summary; `--json FILE` writes the numbers.

use cabin_voice_hw_test::{find_binary, metrics::percentile, runner::Broker, workspace_root};
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

struct Args {
    bin: Option<String>,
    idle_s: u64,
    runs: usize,
    json: Option<PathBuf>,
    extra: Vec<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        bin: None,
        idle_s: 20,
        runs: 5,
        json: None,
        extra: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut val = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--bin" => a.bin = Some(val("--bin")?),
            "--idle" => a.idle_s = val("--idle")?.parse().map_err(|e| format!("--idle: {e}"))?,
            "--runs" => a.runs = val("--runs")?.parse().map_err(|e| format!("--runs: {e}"))?,
            "--json" => a.json = Some(val("--json")?.into()),
            "--" => {
                a.extra = it.by_ref().collect();
            }
            "-h" | "--help" => {
                println!(
                    "footprint [--bin PATH] [--idle S] [--runs N] [--json FILE] [-- RUN ARGS]"
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if a.runs == 0 {
        return Err("--runs must be at least 1".into());
    }
    Ok(a)
}

/// CPU ticks (utime + stime) of a process.
fn cpu_ticks(pid: u32) -> Result<u64, String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).map_err(|e| e.to_string())?;
    // Fields after the command name (which may hold spaces) start after ')'.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let num = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    // rest[0] is field 3 (state): utime is field 14, stime 15.
    Ok(num(11) + num(12))
}

/// VmRSS and VmHWM in kB.
fn memory_kb(pid: u32) -> (u64, u64) {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let get = |key: &str| {
        s.lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (get("VmRSS:"), get("VmHWM:"))
}

fn clock_ticks_per_s() -> f64 {
    // The kernel's USER_HZ; 100 on every Linux architecture we target.
    100.0
}

struct Run {
    ready_ms: f64,
    idle_cpu_pct: f64,
    rss_kb: u64,
    hwm_kb: u64,
}

fn one_run(bin: &Path, port: u16, args: &Args, work: &Path) -> Result<Run, String> {
    let sock_path = work.join(format!("notify-{}.sock", std::process::id()));
    let _ = std::fs::remove_file(&sock_path);
    let sock = UnixDatagram::bind(&sock_path).map_err(|e| format!("notify socket: {e}"))?;
    sock.set_read_timeout(Some(Duration::from_secs(60)))
        .map_err(|e| e.to_string())?;
    let root = workspace_root();
    let t0 = Instant::now();
    let mut child = Command::new(bin)
        .current_dir(&root)
        .env("NOTIFY_SOCKET", &sock_path)
        .env("CABIN_VOICE_LOG", "warn,whisper_rs=off")
        .env_remove("CABIN_VOICE_CONFIG")
        .args(["run", "--mqtt", &format!("127.0.0.1:{port}")])
        .args(&args.extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("{}: {e}", bin.display()))?;
    let pid = child.id();
    let mut buf = [0u8; 512];
    let ready_ms = loop {
        match sock.recv(&mut buf) {
            Ok(n) => {
                let msg = String::from_utf8_lossy(&buf[..n]);
                if msg.lines().any(|l| l == "READY=1") {
                    break t0.elapsed().as_secs_f64() * 1e3;
                }
            }
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("no READY=1 within 60 s: {e}"));
            }
        }
    };
    // Let start-up work settle, then measure a quiet window.
    std::thread::sleep(Duration::from_secs(1));
    let c0 = cpu_ticks(pid)?;
    let w0 = Instant::now();
    std::thread::sleep(Duration::from_secs(args.idle_s));
    let c1 = cpu_ticks(pid)?;
    let wall = w0.elapsed().as_secs_f64();
    let (rss_kb, hwm_kb) = memory_kb(pid);
    let idle_cpu_pct = (c1 - c0) as f64 / clock_ticks_per_s() / wall * 100.0;
    // SIGTERM: the service stops cleanly.
    let _ = Command::new("kill").arg(pid.to_string()).status();
    let _ = child.wait();
    let _ = std::fs::remove_file(&sock_path);
    Ok(Run {
        ready_ms,
        idle_cpu_pct,
        rss_kb,
        hwm_kb,
    })
}

fn main() {
    if let Err(e) = real_main() {
        eprintln!("footprint: {e}");
        std::process::exit(1);
    }
}

fn real_main() -> Result<(), String> {
    let args = parse_args()?;
    let bin = find_binary(args.bin.as_deref())?;
    let size = std::fs::metadata(&bin).map_err(|e| e.to_string())?.len();
    let work = std::env::temp_dir().join(format!("cv-footprint-{}", std::process::id()));
    std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    let broker = Broker::start(&work)?;
    println!(
        "binary {} : {:.1} MiB ({size} bytes)",
        bin.display(),
        size as f64 / 1048576.0
    );
    let mut runs = Vec::new();
    for i in 0..args.runs {
        let r = one_run(&bin, broker.port, &args, &work)?;
        println!(
            "run {}: ready {:.0} ms, idle CPU {:.2} % of one core over {} s, RSS {:.1} MiB (peak {:.1} MiB)",
            i + 1,
            r.ready_ms,
            r.idle_cpu_pct,
            args.idle_s,
            r.rss_kb as f64 / 1024.0,
            r.hwm_kb as f64 / 1024.0
        );
        runs.push(r);
    }
    let ready: Vec<f64> = runs.iter().map(|r| r.ready_ms).collect();
    let cpu: Vec<f64> = runs.iter().map(|r| r.idle_cpu_pct).collect();
    let rss: Vec<f64> = runs.iter().map(|r| r.rss_kb as f64 / 1024.0).collect();
    let hwm: Vec<f64> = runs.iter().map(|r| r.hwm_kb as f64 / 1024.0).collect();
    let p50 = |v: &[f64]| percentile(v, 50.0).unwrap_or(f64::NAN);
    let max = |v: &[f64]| v.iter().cloned().fold(f64::NAN, f64::max);
    println!(
        "summary: cold start to ready p50 {:.0} ms (max {:.0}); idle CPU p50 {:.2} %; RSS p50 {:.1} MiB; peak RSS max {:.1} MiB",
        p50(&ready),
        max(&ready),
        p50(&cpu),
        p50(&rss),
        max(&hwm)
    );
    if let Some(p) = &args.json {
        let v = serde_json::json!({
            "binary": bin.display().to_string(),
            "binary_bytes": size,
            "run_args": args.extra,
            "idle_s": args.idle_s,
            "ready_ms": ready,
            "idle_cpu_pct": cpu,
            "rss_mib": rss,
            "peak_rss_mib": hwm,
        });
        std::fs::write(p, serde_json::to_string_pretty(&v).unwrap()).map_err(|e| e.to_string())?;
    }
    drop(broker);
    let _ = std::fs::remove_dir_all(&work);
    Ok(())
}
