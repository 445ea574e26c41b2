//! Execution providers from the config: an ordered list, what the loaded ONNX
//! Runtime lacks is skipped with one warning, CPU serves, `doctor` shows it all.

mod common;

use common::{cabin_voice, output, TempDir};

fn config(dir: &TempDir, providers: &str) -> String {
    let p = dir.path().join("providers.toml");
    std::fs::write(
        &p,
        format!("[onnxruntime]\nexecution_providers = {providers}\n"),
    )
    .unwrap();
    p.to_str().unwrap().to_string()
}

#[test]
fn doctor_lists_configured_available_and_used_providers() {
    let dir = TempDir::new("eps");
    let cfg = config(&dir, r#"["qnn", "vsinpu", "xnnpack", "cpu"]"#);
    let (_, out, err) = output(cabin_voice().args(["--config", &cfg, "doctor"]));
    let line = out
        .lines()
        .find(|l| l.contains("providers"))
        .unwrap_or_else(|| panic!("no providers line:\n{out}\n{err}"));
    assert!(line.starts_with("ok"), "{line}");
    assert!(
        line.contains("configured [qnn, vsinpu, xnnpack, cpu]"),
        "{line}"
    );
    assert!(
        line.contains("this ONNX Runtime has [") && line.contains("cpu]"),
        "{line}"
    );
    assert!(line.contains("used: "), "{line}");
    // The x86_64 wheel of the registry is a CPU build: the NPUs are not there.
    if !line.contains("has [qnn") {
        assert!(line.contains("no qnn"), "{line}");
    }
    let whisper = out.lines().find(|l| l.contains("whisper ")).unwrap();
    assert!(
        whisper.contains("threads") && whisper.contains("ggml"),
        "{whisper}"
    );
}

#[test]
fn missing_accelerators_fall_back_to_cpu_with_one_warning() {
    let dir = TempDir::new("eps");
    let cfg = config(&dir, r#"["qnn", "vsinpu", "cpu"]"#);
    // The grammar misses this one: the ONNX intent model answers, on the CPU.
    let mut cmd = cabin_voice();
    cmd.env("CABIN_VOICE_LOG", "warn,whisper_rs=off").args([
        "--config",
        &cfg,
        "nlu",
        "it's freezing in here so warm it up a bit",
    ]);
    let (code, out, err) = output(&mut cmd);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["engine"], "model", "{out}");
    assert_eq!(v["intent"], "climate.change_temperature", "{out}");
    assert_eq!(
        err.matches("running on the CPU").count(),
        1,
        "one warning expected:\n{err}"
    );
}

#[test]
fn cpu_only_is_quiet() {
    let dir = TempDir::new("eps");
    let cfg = config(&dir, r#"["cpu"]"#);
    let mut cmd = cabin_voice();
    cmd.env("CABIN_VOICE_LOG", "warn,whisper_rs=off").args([
        "--config",
        &cfg,
        "nlu",
        "it's freezing in here so warm it up a bit",
    ]);
    let (code, _, err) = output(&mut cmd);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("running on the CPU"), "{err}");
}

#[test]
fn unknown_provider_is_a_config_error_naming_it() {
    let dir = TempDir::new("eps");
    let cfg = config(&dir, r#"["npu9000", "cpu"]"#);
    let (code, _, err) = output(cabin_voice().args(["--config", &cfg, "nlu", "hi"]));
    assert_eq!(code, 1);
    assert!(
        err.contains("onnxruntime.execution_providers") && err.contains("npu9000"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}
