//! Virtual bench: the tiny corpus end to end (render -> run -> report) against
//! a private mosquitto and the vehicle simulator. Fails only on crashes or lost
//! results, never on timings or accuracy.

use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn tiny_corpus_end_to_end() {
    let bin = cabin_voice_hw_test::build_debug_binary().unwrap_or_else(|e| panic!("{e}"));
    let out = std::env::temp_dir().join(format!("cv-virtual-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let t0 = std::time::Instant::now();
    let res = Command::new(env!("CARGO_BIN_EXE_bench"))
        .args(["--target", "local", "--corpus", "tiny", "--timeout", "600"])
        .arg("--out")
        .arg(&out)
        .arg("--bin")
        .arg(&bin)
        .arg("--models")
        .arg(root().join("models"))
        .output()
        .expect("run bench");
    let stderr = String::from_utf8_lossy(&res.stderr);
    assert!(res.status.success(), "bench failed:\n{stderr}");
    eprintln!("{stderr}\nbench took {:.1} s", t0.elapsed().as_secs_f64());

    // Every corpus item of the tiny set has a result row.
    let corpus = std::fs::read_to_string(root().join("hw-test/corpus/utterances.jsonl")).unwrap();
    let tiny: Vec<Value> = corpus
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|v: &Value| v["set"] == "tiny")
        .collect();
    assert!(
        tiny.iter().any(|v| v["speech"] == true),
        "tiny set has speech"
    );
    assert!(
        ["en", "zh"]
            .iter()
            .all(|l| tiny.iter().any(|v| v["lang"] == *l)),
        "tiny set has both languages"
    );

    let sum: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let rows = sum["rows"].as_array().expect("rows");
    assert_eq!(
        rows.len(),
        tiny.len(),
        "one row per utterance (1 voice, 1 condition)"
    );
    for u in &tiny {
        let row = rows
            .iter()
            .find(|r| r["id"] == u["id"])
            .unwrap_or_else(|| panic!("no result for {}", u["id"]));
        assert_eq!(row["exit"], 0, "cabin-voice run failed: {row}");
        assert!(row["intent"].is_string(), "no intent: {row}");
        // Speech rows (the tiny corpus speaks with its first voice; lines
        // without a voice of their language go in as typed text).
        if row["mode"] == "speech" {
            assert!(row["transcript"].is_string(), "no transcript: {row}");
            assert!(out
                .join("corpus")
                .join(row["wav"].as_str().unwrap())
                .is_file());
        }
    }
    assert!(
        rows.iter().any(|r| r["mode"] == "speech"),
        "the tiny corpus ran speech"
    );
    assert!(!sum["groups"].as_array().unwrap().is_empty());

    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"));
    assert!(html.contains("<svg") && html.contains("Headline") && html.contains("Failures"));
    assert!(
        !html.contains("http://") || !html.contains("src=\"http"),
        "no external assets"
    );
    let _ = std::fs::remove_dir_all(&out);
}
