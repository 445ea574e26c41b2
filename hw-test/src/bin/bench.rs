//! The bench: render the labelled corpus to cabin-like audio, run every
//! utterance through `cabin-voice run` against a broker and the vehicle
//! simulator, and write `summary.json` + `report.html`. See docs/BENCH.md.
//!
//! usage: bench [--target local|stream] [--corpus tiny|small|full] [--out DIR]
//!              [--bin PATH] [--models DIR] [--mqtt HOST:PORT] [--wake]
//!              [--seed N] [--timeout S] [--label NAME] [--compare OLD.json]
//!              [--voices en-us@170,...] [--render-only] [--report-only SUMMARY.json|rows.jsonl]
//!              [--target remote --host USER@BOARD [--ssh-port N] [--ssh-key FILE]
//!               [--remote-dir DIR] [--sim-bin PATH] [--ort-lib FILE] [--keep-remote]]

use cabin_voice_hw_test::{corpus, find_binary, remote, report, runner, stream, workspace_root};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Model files (relative to `--models`) a run reads with the default config;
/// the `remote` target copies these to the board.
const REMOTE_MODELS: &[&str] = &[
    "models.toml",
    "whisper/ggml-base-q5_1.bin",
    "whisper/ggml-tiny.en-q5_1.bin",
    "nlu",
    "vad",
    "wakeword",
];

/// The ONNX Runtime library for a board of `arch`: the host's install for the
/// host's architecture, else the one `hw-test/cross/<arch>.sh setup` fetched.
fn default_ort_lib(models: &Path, arch: &str) -> PathBuf {
    let lib = "libonnxruntime.so.1.32.0";
    if arch == std::env::consts::ARCH {
        return models.join("lib").join(lib);
    }
    let triple = format!("{arch}-unknown-linux-gnu");
    let root = workspace_root();
    [root.join("target/cross"), root.join("target")]
        .iter()
        .map(|t| t.join(&triple).join("onnxruntime").join(lib))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            fail(format!(
                "no {arch} ONNX Runtime: run hw-test/cross/{arch}.sh setup, or pass --ort-lib"
            ))
        })
}

const USAGE: &str = "usage: bench [--target local|stream] [--corpus tiny|small|full] [--out DIR] [--bin PATH] [--models DIR] [--mqtt HOST:PORT] [--wake] [--seed N] [--timeout S] [--label NAME] [--compare OLD.json] [--voices en-us@170,...] [--render-only] [--report-only SUMMARY.json|rows.jsonl] [--target remote --host USER@BOARD [--ssh-port N] [--ssh-key FILE] [--remote-dir DIR] [--sim-bin PATH] [--ort-lib FILE] [--keep-remote]]";

fn fail(msg: impl std::fmt::Display) -> ! {
    eprintln!("bench: {msg}");
    std::process::exit(1);
}

/// Writes `summary.json` and `report.html` into `out`; returns their paths.
fn write_report(out: &Path, sum: &Value, old: Option<&Value>) -> (PathBuf, PathBuf) {
    std::fs::create_dir_all(out).unwrap_or_else(|e| fail(e));
    let json_path = out.join("summary.json");
    let html_path = out.join("report.html");
    std::fs::write(&json_path, serde_json::to_string_pretty(sum).expect("json"))
        .unwrap_or_else(|e| fail(e));
    std::fs::write(&html_path, report::html(sum, old)).unwrap_or_else(|e| fail(e));
    (json_path, html_path)
}

/// Date, CPU and core count for a run's meta.
fn host_meta() -> (String, String) {
    let date = std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%dT%H:%M:%SZ"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    (date, format!("{cpu}, {cores} cores"))
}

fn opt_meta(size: &corpus::Size, seed: u64, bin: &Path, label: Option<String>) -> Value {
    let (date, host) = host_meta();
    json!({
        "label": label.unwrap_or_else(|| format!("stream-{}", size.name())),
        "target": "stream",
        "corpus": size.name(),
        "wake_phrase": true,
        "seed": seed,
        "date": date,
        "binary": bin.display().to_string(),
        "host": host,
    })
}

/// Target `stream`: chatter (the commands rendered without the wake phrase)
/// between the commands, one real-time run, one report.
#[allow(clippy::too_many_arguments)]
fn run_stream(
    setup: &runner::Setup,
    items: &[corpus::Item],
    utts: &[corpus::Utterance],
    audio_dir: &Path,
    out: &Path,
    meta: &Value,
    mqtt: Option<&str>,
    seed: u64,
    voices: &[String],
    size: corpus::Size,
    old: Option<&Value>,
) {
    let chatter = corpus::render(
        utts,
        &audio_dir.join("chatter"),
        &corpus::RenderOpts {
            size,
            wake: false,
            seed: seed ^ 0x5eed,
            voices: voices.to_vec(),
        },
    )
    .unwrap_or_else(|e| fail(e));
    let commands: Vec<corpus::Item> = items.iter().filter(|i| i.wav.is_some()).cloned().collect();
    let plan = stream::build(&commands, &chatter, seed, out).unwrap_or_else(|e| fail(e));
    eprintln!(
        "bench: stream {} ({:.1} min: {} commands, {} chatter) played in real time",
        plan.wav.display(),
        plan.seconds / 60.0,
        commands.len(),
        plan.segments
            .iter()
            .filter(|s| s.kind == stream::Kind::Chatter)
            .count()
    );
    let (rows, st) = stream::run(setup, &commands, &plan, mqtt, out).unwrap_or_else(|e| fail(e));
    let mut sum = report::summarize(meta.clone(), &rows);
    sum["stream"] = st;
    let (json_path, html_path) = write_report(out, &sum, old);
    let s = &sum["stream"];
    println!(
        "stream {:.1} min: {} commands, wakes missed {}, false wakes {} ({:.1}/h), e2e p50/p95 {}/{} ms, endpoint p50/p95 {}/{} ms, CPU {:.0}% of one core, peak RSS {:.0} MB",
        s["stream_minutes"].as_f64().unwrap_or(0.0),
        s["commands"],
        s["wake_miss"].as_array().into_iter().flatten().map(|w| format!("{} {}/{}", w["lang"].as_str().unwrap_or(""), w["missed"], w["commands"])).collect::<Vec<_>>().join(", "),
        s["false_wakes"],
        s["false_wakes_per_hour"].as_f64().unwrap_or(0.0),
        s["latency_ms"]["e2e"]["p50"].as_f64().map(|t| format!("{t:.0}")).unwrap_or("-".into()),
        s["latency_ms"]["e2e"]["p95"].as_f64().map(|t| format!("{t:.0}")).unwrap_or("-".into()),
        s["latency_ms"]["endpoint"]["p50"].as_f64().map(|t| format!("{t:.0}")).unwrap_or("-".into()),
        s["latency_ms"]["endpoint"]["p95"].as_f64().map(|t| format!("{t:.0}")).unwrap_or("-".into()),
        s["cpu_share"].as_f64().unwrap_or(0.0) * 100.0,
        s["peak_rss_mb"].as_f64().unwrap_or(0.0),
    );
    for g in sum["groups"].as_array().into_iter().flatten() {
        println!(
            "{:<3} {:<6} n={:<4} WER {:>6} frame {:>6}",
            g["lang"].as_str().unwrap_or(""),
            g["condition"].as_str().unwrap_or(""),
            g["n"],
            g["wer"]
                .as_f64()
                .map(|w| format!("{:.1}%", w * 100.0))
                .unwrap_or("-".into()),
            g["frame_accuracy"]
                .as_f64()
                .map(|w| format!("{:.1}%", w * 100.0))
                .unwrap_or("-".into()),
        );
    }
    println!("{}\n{}", json_path.display(), html_path.display());
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let opt = |name: &str| -> Option<String> {
        let i = args.iter().position(|a| a == name)?;
        Some(
            args.get(i + 1)
                .cloned()
                .unwrap_or_else(|| fail(format!("{name} needs a value\n{USAGE}"))),
        )
    };
    let target = opt("--target").unwrap_or_else(|| "local".into());
    let size_name = opt("--corpus").unwrap_or_else(|| "small".into());
    let out = PathBuf::from(
        opt("--out").unwrap_or_else(|| workspace_root().join("target/bench").display().to_string()),
    );
    let bin = opt("--bin");
    let models = opt("--models")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("models"));
    let mqtt = opt("--mqtt");
    let seed: u64 = opt("--seed")
        .map(|s| s.parse().unwrap_or_else(|_| fail("--seed: a number")))
        .unwrap_or(42);
    let timeout: u64 = opt("--timeout")
        .map(|s| s.parse().unwrap_or_else(|_| fail("--timeout: seconds")))
        .unwrap_or(120);
    let compare = opt("--compare");
    let label = opt("--label");
    let flag = |name: &str| args.iter().any(|a| a == name);
    if flag("--help") || flag("-h") {
        println!("{USAGE}");
        return;
    }
    // The stream says every command after its wake phrase.
    let wake = flag("--wake") || target == "stream";
    let voices: Vec<String> = opt("--voices")
        .map(|v| v.split(',').map(str::to_string).collect())
        .unwrap_or_default();
    let size = corpus::Size::parse(&size_name)
        .unwrap_or_else(|| fail(format!("--corpus {size_name}: tiny, small or full")));
    match target.as_str() {
        "local" | "remote" | "stream" => {}
        t => fail(format!("--target {t}: local, stream or remote")),
    }
    let remote = (target == "remote").then(|| {
        let host = opt("--host").unwrap_or_else(|| fail("--target remote needs --host USER@BOARD"));
        let port = opt("--ssh-port").map(|p| {
            p.parse::<u16>()
                .unwrap_or_else(|_| fail("--ssh-port: a port number"))
        });
        remote::Remote::new(
            &host,
            port,
            opt("--ssh-key").map(PathBuf::from),
            &opt("--remote-dir").unwrap_or_else(|| "/tmp/cabin-voice-bench".into()),
        )
    });
    let old: Option<Value> = compare.as_ref().map(|p| {
        let t = std::fs::read_to_string(p).unwrap_or_else(|e| fail(format!("{p}: {e}")));
        serde_json::from_str(&t).unwrap_or_else(|e| fail(format!("{p}: {e}")))
    });

    // Re-render the page of an earlier run (and compare) without running.
    if let Some(p) = opt("--report-only") {
        let t = std::fs::read_to_string(&p).unwrap_or_else(|e| fail(format!("{p}: {e}")));
        let sum: Value = if p.ends_with(".jsonl") {
            let rows: Vec<Value> = t
                .lines()
                .filter_map(|l| serde_json::from_str(l).ok())
                .collect();
            let meta = json!({"label": label.clone().unwrap_or_else(|| "partial run".into()), "target": target, "corpus": format!("{} (partial: {} rows)", size_name, rows.len())});
            let sum = report::summarize(meta, &rows);
            let json_path = out.join("summary.json");
            std::fs::write(
                &json_path,
                serde_json::to_string_pretty(&sum).expect("json"),
            )
            .unwrap_or_else(|e| fail(e));
            println!("{}", json_path.display());
            sum
        } else {
            serde_json::from_str(&t).unwrap_or_else(|e| fail(format!("{p}: {e}")))
        };
        std::fs::create_dir_all(&out).unwrap_or_else(|e| fail(e));
        let html_path = out.join("report.html");
        std::fs::write(&html_path, report::html(&sum, old.as_ref())).unwrap_or_else(|e| fail(e));
        println!("{}", html_path.display());
        return;
    }

    let utts = corpus::load(&corpus::corpus_file()).unwrap_or_else(|e| fail(e));
    let audio_dir = out.join("corpus");
    let t0 = std::time::Instant::now();
    let items = corpus::render(
        &utts,
        &audio_dir,
        &corpus::RenderOpts {
            size,
            wake,
            seed,
            voices: voices.clone(),
        },
    )
    .unwrap_or_else(|e| fail(e));
    let n_speech = items.iter().filter(|i| i.wav.is_some()).count();
    eprintln!(
        "bench: corpus {}: {} speech files in {} ({:.1} s), {} typed lines",
        size.name(),
        n_speech,
        audio_dir.display(),
        t0.elapsed().as_secs_f64(),
        items.len() - n_speech
    );
    if flag("--render-only") {
        return;
    }

    let bin = find_binary(bin.as_deref()).unwrap_or_else(|e| fail(e));
    let sim_bin = remote.as_ref().map(|_| {
        find_binary(opt("--sim-bin").as_deref()).unwrap_or_else(|e| fail(format!("--sim-bin: {e}")))
    });
    if let Some(r) = &remote {
        let arch = remote::elf_arch(&bin).unwrap_or_else(|e| fail(e));
        let ort = opt("--ort-lib")
            .map(PathBuf::from)
            .unwrap_or_else(|| default_ort_lib(&models, &arch));
        eprintln!(
            "bench: staging {} ({arch}) and models on {}:{}",
            bin.display(),
            r.host,
            r.dir
        );
        let t = Instant::now();
        r.stage(
            &bin,
            &workspace_root().join("plugins"),
            &models,
            REMOTE_MODELS,
            &ort,
            &audio_dir,
        )
        .unwrap_or_else(|e| fail(e));
        eprintln!("bench: staged in {:.1} s", t.elapsed().as_secs_f64());
    }
    let setup = runner::Setup {
        bin: bin.clone(),
        models,
        cwd: workspace_root(),
        timeout: Duration::from_secs(timeout),
        remote: remote.clone(),
        sim_bin,
    };
    if target == "stream" {
        return run_stream(
            &setup,
            &items,
            &utts,
            &audio_dir,
            &out,
            &opt_meta(&size, seed, &bin, label.clone()),
            mqtt.as_deref(),
            seed,
            &voices,
            size,
            old.as_ref(),
        );
    }
    eprintln!(
        "bench: running {} items with {}",
        items.len(),
        bin.display()
    );
    let total = items.len();
    // Rows are also appended to rows.jsonl as they come (a partial run can be
    // reported with --report-only rows.jsonl).
    std::fs::create_dir_all(&out).unwrap_or_else(|e| fail(e));
    let rows_path = out.join("rows.jsonl");
    let mut rows_file = std::fs::File::create(&rows_path)
        .unwrap_or_else(|e| fail(format!("{}: {e}", rows_path.display())));
    let rows = runner::run_local(&setup, &items, mqtt.as_deref(), &out, |i, r| {
        use std::io::Write;
        let _ = writeln!(rows_file, "{r}");
        eprintln!(
            "[{:>3}/{total}] {:<5} {:<14} {:<6} {:<28} {} {}",
            i + 1,
            r["id"].as_str().unwrap_or(""),
            r["voice"].as_str().unwrap_or("text"),
            r["condition"].as_str().unwrap_or(""),
            r["intent"].as_str().unwrap_or(""),
            if r["frame_ok"].as_bool() == Some(true) {
                "ok  "
            } else {
                "MISS"
            },
            r["total_ms"]
                .as_f64()
                .map(|t| format!("{t:.0} ms"))
                .unwrap_or_default(),
        );
    })
    .unwrap_or_else(|e| fail(e));

    let (date, host) = host_meta();
    let meta = json!({
        "label": label.unwrap_or_else(|| format!("{target}-{}", size.name())),
        "target": target,
        "corpus": size.name(),
        "wake_phrase": wake,
        "seed": seed,
        "date": date,
        "binary": bin.display().to_string(),
        "host": match &remote {
            Some(r) => format!("{} (board over SSH)", r.host),
            None => host,
        },
    });
    if let Some(r) = &remote {
        if !flag("--keep-remote") {
            if let Err(e) = r.cleanup() {
                eprintln!("bench: {e}");
            }
        }
    }
    let sum = report::summarize(meta, &rows);
    let (json_path, html_path) = write_report(&out, &sum, old.as_ref());
    for g in sum["groups"].as_array().into_iter().flatten() {
        println!(
            "{:<3} {:<6} n={:<4} WER {:>6} intent {:>6} frame {:>6} total p50/p95 {}/{} ms  peak RSS {} MB",
            g["lang"].as_str().unwrap_or(""),
            g["condition"].as_str().unwrap_or(""),
            g["n"],
            g["wer"].as_f64().map(|w| format!("{:.1}%", w * 100.0)).unwrap_or("-".into()),
            g["intent_accuracy"].as_f64().map(|w| format!("{:.1}%", w * 100.0)).unwrap_or("-".into()),
            g["frame_accuracy"].as_f64().map(|w| format!("{:.1}%", w * 100.0)).unwrap_or("-".into()),
            g["latency_ms"]["total_ms"]["p50"].as_f64().map(|t| format!("{t:.0}")).unwrap_or("-".into()),
            g["latency_ms"]["total_ms"]["p95"].as_f64().map(|t| format!("{t:.0}")).unwrap_or("-".into()),
            g["peak_rss_mb"]["max"].as_f64().map(|t| format!("{t:.0}")).unwrap_or("-".into()),
        );
    }
    println!("{}\n{}", json_path.display(), html_path.display());
}
