//! Speech recognition time per model on the rendered English corpus, and the
//! same ggml model on the same audio through whisper.cpp's own CLI (when
//! `$WHISPER_CLI` or `<target>/whisper-cli/bin/whisper-cli` exists: build it with
//! `hw-test/whisper-cli.sh`, from the whisper.cpp sources whisper-rs-sys vendors).
//!
//! Both decode greedily (best of 1, no temperature fallback) on the same number
//! of threads, without a prompt (cabin-voice's domain prompt is turned off), one
//! process per file (the model is loaded each time, as `transcribe` does).
//! Compared: cabin-voice's `asr_ms` with whisper-cli's total minus load time
//! (compute), and process wall times.
//!
//! usage: asr-bench [--corpus tiny|small|full] [--out DIR] [--bin PATH]
//!                  [--models DIR] [--threads N] [--limit N]

use cabin_voice_hw_test::{corpus, find_binary, metrics, runner, workspace_root};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const MODELS: [&str; 2] = [
    "whisper/ggml-tiny.en-q5_1.bin",
    "whisper/ggml-base-q5_1.bin",
];

fn fail(msg: impl std::fmt::Display) -> ! {
    eprintln!("asr-bench: {msg}");
    std::process::exit(1);
}

/// whisper_print_timings lines: "... total time =  8546.74 ms".
fn cli_time(stderr: &str, what: &str) -> Option<f64> {
    stderr
        .lines()
        .find(|l| l.contains(&format!("{what} time =")))
        .and_then(|l| l.split('=').nth(1))
        .and_then(|r| r.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

fn whisper_cli() -> Option<PathBuf> {
    std::env::var("WHISPER_CLI")
        .ok()
        .map(PathBuf::from)
        .or_else(|| {
            Some(
                cabin_voice_hw_test::target_dir()
                    .join("whisper-cli")
                    .join("bin")
                    .join("whisper-cli"),
            )
        })
        .filter(|p| p.is_file())
}

fn stats(v: &[f64]) -> Value {
    json!({
        "n": v.len(),
        "mean": if v.is_empty() { None } else { Some(v.iter().sum::<f64>() / v.len() as f64) },
        "p50": metrics::percentile(v, 50.0),
        "p95": metrics::percentile(v, 95.0),
    })
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let opt = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let size_name = opt("--corpus").unwrap_or_else(|| "small".into());
    let size =
        corpus::Size::parse(&size_name).unwrap_or_else(|| fail("--corpus: tiny, small or full"));
    let out = PathBuf::from(
        opt("--out").unwrap_or_else(|| workspace_root().join("target/bench").display().to_string()),
    );
    let models = opt("--models")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("models"));
    let threads: usize = opt("--threads")
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        });
    let limit: usize = opt("--limit")
        .and_then(|t| t.parse().ok())
        .unwrap_or(usize::MAX);
    let bin = find_binary(opt("--bin").as_deref()).unwrap_or_else(|e| fail(e));

    let utts = corpus::load(&corpus::corpus_file()).unwrap_or_else(|e| fail(e));
    let items = corpus::render(
        &utts,
        &out.join("corpus"),
        &corpus::RenderOpts {
            size,
            wake: false,
            voices: vec![],
            seed: 42,
        },
    )
    .unwrap_or_else(|e| fail(e));
    // English speech only: the whisper.cpp comparison is about English models.
    let wavs: Vec<&Path> = items
        .iter()
        .filter(|i| i.utt.lang == "en")
        .filter_map(|i| i.wav.as_deref())
        .take(limit)
        .collect();
    let cli = whisper_cli();
    println!(
        "asr-bench: {} files (corpus {}), {threads} threads, cabin-voice {}",
        wavs.len(),
        size.name(),
        bin.display()
    );
    match &cli {
        Some(c) => println!("asr-bench: whisper.cpp CLI {}", c.display()),
        None => println!("asr-bench: whisper.cpp CLI not found (build it with hw-test/whisper-cli.sh, or set WHISPER_CLI): skipping the comparison"),
    }
    let setup = runner::Setup {
        bin: bin.clone(),
        models: models.clone(),
        cwd: workspace_root(),
        timeout: Duration::from_secs(300),
        remote: None,
        sim_bin: None,
    };
    std::fs::create_dir_all(&out).unwrap_or_else(|e| fail(e));
    let mut results = Vec::new();
    println!(
        "{:<28} {:>4} {:>12} {:>12} {:>14} {:>12} {:>8} {:>8}",
        "model",
        "n",
        "cv asr p50",
        "cv wall p50",
        "cli compute p50",
        "cli wall p50",
        "ratio",
        "ratio wall"
    );
    for model in MODELS {
        let model_path = models.join(model);
        if !model_path.is_file() {
            println!("{model}: not installed, skipped");
            continue;
        }
        let cfg = out.join(format!("asr-bench-{}.toml", model.replace('/', "_")));
        std::fs::write(&cfg, format!("[asr]\nmodel = \"{model}\"\nmodel_en = \"{model}\"\nlanguage = \"en\"\nthreads = {threads}\ndomain_prompt = false\nfit_audio_ctx = false\n")).unwrap_or_else(|e| fail(e));
        let (mut cv_asr, mut cv_wall, mut cli_compute, mut cli_wall) =
            (vec![], vec![], vec![], vec![]);
        let (mut cv_err, mut cli_err, mut words) = (0, 0, 0);
        let mut cv_sum = 0.0;
        let mut cli_sum = 0.0;
        for (wav, item) in wavs.iter().zip(items.iter().filter(|i| i.wav.is_some())) {
            let mut c = setup.command();
            c.arg("--config")
                .arg(&cfg)
                .arg("transcribe")
                .arg(wav)
                .args(["--lang", "en"]);
            let m = runner::run_measured(c, setup.timeout).unwrap_or_else(|e| fail(e));
            let (code, stdout, stderr, wall) = (m.code, m.stdout, m.stderr, m.wall_ms);
            if code != Some(0) {
                fail(format!(
                    "transcribe {}: {}",
                    wav.display(),
                    stderr.lines().last().unwrap_or("")
                ));
            }
            let v: Value = serde_json::from_str(stdout.trim())
                .unwrap_or_else(|e| fail(format!("transcribe output: {e}")));
            let asr = v["asr_ms"].as_f64().unwrap_or(f64::NAN);
            let (e, n) = metrics::word_errors(&item.reference, v["text"].as_str().unwrap_or(""));
            cv_err += e;
            words += n;
            cv_asr.push(asr);
            cv_wall.push(wall);
            if let Some(cli) = &cli {
                let mut c = Command::new(cli);
                c.arg("-m").arg(&model_path).arg("-f").arg(wav).args([
                    "-l",
                    "en",
                    "-t",
                    &threads.to_string(),
                    "-bs",
                    "1",
                    "-bo",
                    "1",
                    "-nf",
                    "-nt",
                ]);
                let m = runner::run_measured(c, setup.timeout).unwrap_or_else(|e| fail(e));
                let (code, stdout, stderr, wall) = (m.code, m.stdout, m.stderr, m.wall_ms);
                if code != Some(0) {
                    fail(format!(
                        "whisper-cli {}: {}",
                        wav.display(),
                        stderr.lines().last().unwrap_or("")
                    ));
                }
                let compute = match (cli_time(&stderr, "total"), cli_time(&stderr, "load")) {
                    (Some(t), Some(l)) => t - l,
                    _ => f64::NAN,
                };
                cli_err += metrics::word_errors(&item.reference, &stdout).0;
                cv_sum += asr;
                cli_sum += compute;
                cli_compute.push(compute);
                cli_wall.push(wall);
            }
        }
        let p50 = |v: &[f64]| {
            metrics::percentile(v, 50.0)
                .map(|x| format!("{x:.0} ms"))
                .unwrap_or("-".into())
        };
        let ratio = (cli_sum > 0.0).then(|| cv_sum / cli_sum);
        let ratio_wall = (!cli_wall.is_empty())
            .then(|| cv_wall.iter().sum::<f64>() / cli_wall.iter().sum::<f64>());
        println!(
            "{:<28} {:>4} {:>12} {:>12} {:>14} {:>12} {:>8} {:>8}",
            model,
            cv_asr.len(),
            p50(&cv_asr),
            p50(&cv_wall),
            p50(&cli_compute),
            p50(&cli_wall),
            ratio.map(|r| format!("{r:.2}x")).unwrap_or("-".into()),
            ratio_wall.map(|r| format!("{r:.2}x")).unwrap_or("-".into()),
        );
        println!(
            "{:<28} WER cabin-voice {:.1}%{}",
            "",
            100.0 * cv_err as f64 / words.max(1) as f64,
            if cli.is_some() {
                format!(
                    ", whisper-cli {:.1}%",
                    100.0 * cli_err as f64 / words.max(1) as f64
                )
            } else {
                String::new()
            }
        );
        results.push(json!({
            "model": model,
            "files": cv_asr.len(),
            "cabin_voice": {"asr_ms": stats(&cv_asr), "wall_ms": stats(&cv_wall), "wer": cv_err as f64 / words.max(1) as f64},
            "whisper_cli": if cli.is_some() { json!({"compute_ms": stats(&cli_compute), "wall_ms": stats(&cli_wall), "wer": cli_err as f64 / words.max(1) as f64}) } else { Value::Null },
            "ratio_compute": ratio,
            "ratio_wall": ratio_wall,
        }));
        let _ = std::fs::remove_file(&cfg);
    }
    let path = out.join("asr_bench.json");
    let doc = json!({"corpus": size.name(), "threads": threads, "whisper_cli": cli.map(|c| c.display().to_string()), "models": results});
    std::fs::write(&path, serde_json::to_string_pretty(&doc).expect("json"))
        .unwrap_or_else(|e| fail(e));
    println!(
        "ratio = cabin-voice / whisper-cli (below 1: cabin-voice faster)\n{}",
        path.display()
    );
}
