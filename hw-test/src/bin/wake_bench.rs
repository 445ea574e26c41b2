//! Wake word and endpointing numbers on held-out synthetic audio.
//!
//!     python3 models/wakeword/train.py --render-eval /tmp/wweval   # held-out voices, 60 min of negatives
//!     cargo run --release -p cabin-voice-hw-test --bin wake_bench -- /tmp/wweval
//!
//! Runs the runtime's own streaming chain (`cabin_voice::wake`, `listen::vad`,
//! `listen::endpoint`) over the files of `index.json` and prints one JSON object:
//! - `frr`: false-reject rate per phrase and SNR (a positive clip is accepted when
//!   the phrase's head triggers within 1 s after the phrase ends),
//! - `fa_per_hour`: triggers of any head on the negative audio (ordinary speech in
//!   both languages, cabin/pink/white/brown noise, music-like tones), per hour,
//! - `near_miss_accept`: share of near-miss clips ("hey calvin", 你好小餐, ...) that trigger,
//! - `endpoint_delay_ms`: p50/p95 from the end of the phrase (known from the render)
//!   to the endpointer's hand-over to recognition (the tentative end, or the end
//!   when `early_end_ms` is 0), listening from the clip's start; `confirm_delay_ms`
//!   to the confirmed end; `cut_short`: clips ended before the phrase was over;
//!   `tentative_voided`: tentative ends that speech voided (recognition wasted),
//! - `rtf_wake`: time of the wake word chain per second of audio (one thread, on the
//!   negatives): the cost while waiting for the wake word, when only it runs;
//!   `rtf_vad`: the VAD's cost per second of audio, paid only while listening for a
//!   command; `rtf_wake_vad`: both (an upper bound: both on all audio).
//!
//! `[listen]` settings (trailing silence, thresholds) come from the configuration
//! (`CABIN_VOICE_CONFIG`, ./cabin-voice.toml, /etc/cabin-voice/config.toml), so
//! endpointing settings are compared by pointing `CABIN_VOICE_CONFIG` at a file.

use cabin_voice::config::Config;
use cabin_voice::listen::config::Listen;
use cabin_voice::listen::endpoint::{Endpointer, Step};
use cabin_voice::listen::vad::{SileroVad, VoiceActivity, VAD_FRAME};
use cabin_voice::wake::{WakeDetector, WakeSettings};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

fn read(path: &Path) -> Vec<i16> {
    hound::WavReader::open(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .into_samples::<i16>()
        .map(|s| s.unwrap())
        .collect()
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let dir = std::env::args()
        .nth(1)
        .expect("usage: wake_bench EVAL_DIR (from train.py --render-eval)");
    let dir = Path::new(&dir);
    let index: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("index.json")).unwrap()).unwrap();
    let cfg = Config::discover(None).unwrap();
    let env = cabin_voice::onnx::environment(&cfg.onnxruntime.library, &cfg.models_dir()).unwrap();
    let settings = WakeSettings {
        dir: cfg.models_dir().join("wakeword"),
        heads: cfg
            .wake
            .heads
            .iter()
            .map(|h| cabin_voice::app::model_path(&cfg, h))
            .collect(),
        threshold: cfg.wake.threshold,
        refractory_ms: cfg.wake.refractory_ms,
    };
    let mut vad = SileroVad::load(
        &cabin_voice::app::model_path(&cfg, &cfg.listen.vad_model),
        &env,
    )
    .unwrap();
    let listen: Listen = cfg.listen.clone();
    let mut busy = Duration::ZERO;
    let mut audio_s = 0.0f64;

    // Positives: FRR per phrase and SNR; endpoint delay.
    let mut tally: BTreeMap<(String, i64), (u32, u32)> = BTreeMap::new();
    let mut delays = Vec::new();
    let mut confirm = Vec::new();
    // Ends decided before the phrase was over (cut short), and tentative ends
    // that speech then voided (recognition time wasted).
    let (mut cut_short, mut voided) = (0u32, 0u32);
    for p in index["positives"].as_array().unwrap() {
        let samples = read(&dir.join(p["file"].as_str().unwrap()));
        let phrase = p["phrase"].as_str().unwrap().to_string();
        let end = p["end"].as_u64().unwrap();
        let mut wake = WakeDetector::load(&settings, &env).unwrap();
        let want = wake
            .heads
            .iter()
            .position(|h| h.info.phrase == phrase)
            .expect("a head for every phrase");
        let t0 = Instant::now();
        let mut hit = false;
        for chunk in samples.chunks(VAD_FRAME) {
            if let Some(t) = wake.push(chunk).unwrap() {
                if t.head == want && t.at_sample + 16_000 >= end && t.at_sample <= end + 16_000 {
                    hit = true;
                }
            }
        }
        busy += t0.elapsed();
        audio_s += samples.len() as f64 / 16_000.0;
        let e = tally
            .entry((phrase, p["snr_db"].as_i64().unwrap()))
            .or_default();
        e.0 += 1;
        e.1 += u32::from(!hit);
        // Endpointing: listen from the start; the phrase is the utterance.
        // The hand-over to recognition is the first (tentative) end; the
        // confirmation comes after the full trailing silence.
        let mut ep = Endpointer::new(&listen);
        vad.reset();
        ep.start(false);
        let mut tentative: Option<f64> = None;
        for (i, f) in samples.chunks_exact(VAD_FRAME).enumerate() {
            let pr = vad.probability(f).unwrap();
            let decided = (i as u64 + 1) * VAD_FRAME as u64;
            let delay = (decided as f64 - end as f64) / 16.0;
            match ep.push(pr) {
                Step::Tentative { .. } => tentative = Some(delay),
                Step::Resumed => {
                    tentative = None;
                    voided += 1;
                }
                Step::End { .. } => {
                    if delay < 0.0 {
                        cut_short += 1;
                    } else {
                        delays.push(tentative.unwrap_or(delay));
                        confirm.push(delay);
                    }
                    break;
                }
                _ => {}
            }
        }
    }
    let frr: Vec<Value> = tally
        .iter()
        .map(|((ph, snr), (n, miss))| {
            json!({"phrase": ph, "snr_db": snr, "clips": n, "frr": *miss as f64 / *n as f64})
        })
        .collect();

    // Negatives: false accepts per hour (wake + VAD both run, as in a cabin).
    let mut wake = WakeDetector::load(&settings, &env).unwrap();
    let mut fa = 0u32;
    let mut neg_s = 0.0;
    let mut wake_busy = Duration::ZERO;
    let mut vad_busy = Duration::ZERO;
    for n in index["negatives"].as_array().unwrap() {
        let samples = read(&dir.join(n["file"].as_str().unwrap()));
        for f in samples.chunks_exact(VAD_FRAME) {
            let t0 = Instant::now();
            fa += u32::from(wake.push(f).unwrap().is_some());
            let t1 = Instant::now();
            vad.probability(f).unwrap();
            wake_busy += t1 - t0;
            vad_busy += t1.elapsed();
        }
        neg_s += samples.len() as f64 / 16_000.0;
        audio_s += samples.len() as f64 / 16_000.0;
    }
    let mut near = (0u32, 0u32);
    for n in index["near_misses"].as_array().into_iter().flatten() {
        let samples = read(&dir.join(n["file"].as_str().unwrap()));
        let mut wake = WakeDetector::load(&settings, &env).unwrap();
        let fired = samples
            .chunks_exact(VAD_FRAME)
            .any(|f| wake.push(f).unwrap().is_some());
        near.0 += 1;
        near.1 += u32::from(fired);
    }
    let report = json!({
        "frr": frr,
        "negative_minutes": (neg_s / 60.0 * 10.0).round() / 10.0,
        "false_accepts": fa,
        "fa_per_hour": fa as f64 / (neg_s / 3600.0),
        "near_miss_clips": near.0,
        "near_miss_accept": near.1 as f64 / near.0.max(1) as f64,
        "endpoint_delay_ms": {"n": delays.len(), "p50": pct(&mut delays.clone(), 0.5), "p95": pct(&mut delays, 0.95),
                               "early_end_ms": listen.early_end_ms,
                               "trailing_silence_ms": listen.trailing_silence_ms},
        "confirm_delay_ms": {"n": confirm.len(), "p50": pct(&mut confirm.clone(), 0.5), "p95": pct(&mut confirm, 0.95)},
        "cut_short": cut_short,
        "tentative_voided": voided,
        "rtf_wake": wake_busy.as_secs_f64() / neg_s,
        "rtf_vad": vad_busy.as_secs_f64() / neg_s,
        "rtf_wake_vad": (wake_busy + vad_busy).as_secs_f64() / neg_s,
        "rtf_wake_positives": busy.as_secs_f64() / (audio_s - neg_s),
        "audio_minutes": (audio_s / 60.0 * 10.0).round() / 10.0,
    });
    println!("{}", serde_json::to_string_pretty(&report).unwrap());
}
