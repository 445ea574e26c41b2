//! Target `stream`: the whole corpus as one long recording played in real time
//! to ONE `cabin-voice run --input <stream.wav> --realtime` process, the way a
//! cabin hears it: each command said after its wake phrase ("hey cabin" /
//! "你好小舱"), separated by cabin noise and by chatter (corpus commands said
//! WITHOUT the wake phrase, which must not wake the assistant or move anything).
//!
//! From the listening events (`wake`, `listening`, `speech_end`, `transcript`,
//! `intent`, `action`, `reply`, with `stream_ms` and wall-clock `ts_ms`) and the
//! actuations seen on the broker it measures: wake misses per language, false
//! wakes per hour, per-stage latency (wake -> listening, speech end -> speech_end
//! event, speech_end -> transcript -> intent -> action, and end to end: speech
//! end -> first action), CPU time and peak RSS of the one process.

use crate::corpus::{cabin_noise, read_wav, write_wav, Item, Rng, RATE};
use crate::metrics::{self, percentile};
use crate::runner::{run_measured, Rig, Setup};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What one stretch of the stream holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// A corpus command after its wake phrase (index into the command items).
    Command(usize),
    /// A command said without the wake phrase: must be ignored.
    Chatter,
    /// Cabin noise only.
    Noise,
}

/// A stretch of the stream, in ms from its start.
#[derive(Debug, Clone)]
pub struct Segment {
    pub kind: Kind,
    pub start_ms: f64,
    /// Where the speech in it ends (the segment's end for noise).
    pub speech_end_ms: f64,
    pub end_ms: f64,
}

/// The rendered stream.
#[derive(Debug, Clone)]
pub struct Plan {
    pub wav: PathBuf,
    pub segments: Vec<Segment>,
    pub seconds: f64,
}

/// Where the speech of a corpus WAV ends (ms into it): the last sample above
/// -35 dB of its clean render's peak, after the corpus's 0.3 s lead-in.
fn speech_end_ms(item_wav: &Path) -> Result<f64, String> {
    let name = item_wav
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or("corpus file name")?;
    let base = name
        .rsplit_once("__")
        .map(|(b, _)| b)
        .ok_or("corpus file name")?;
    let clean = read_wav(&item_wav.with_file_name(format!("{base}__speech.wav")))?;
    let peak = clean.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let thr = peak * 10f32.powf(-35.0 / 20.0);
    let last = clean.iter().rposition(|v| v.abs() > thr).unwrap_or(0);
    Ok(300.0 + last as f64 * 1000.0 / RATE as f64)
}

fn rms(x: &[f32]) -> f64 {
    if x.is_empty() {
        return 0.0;
    }
    (x.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / x.len() as f64).sqrt()
}

/// Cabin noise at the level of the lead-in of `next` (at least -55 dBFS: the
/// wake word's features expect a noise floor, as a real microphone has).
fn gap(ms: f64, next: &[f32], seed: u64) -> Vec<f32> {
    let n = (ms * RATE as f64 / 1000.0) as usize;
    let level = rms(&next[..next.len().min(RATE as usize * 3 / 10)]).max(10f64.powf(-55.0 / 20.0));
    let noise = cabin_noise(n, seed);
    let nr = (noise.iter().map(|v| v * v).sum::<f64>() / n.max(1) as f64)
        .sqrt()
        .max(1e-12);
    noise.iter().map(|v| (v / nr * level) as f32).collect()
}

/// Lays out `commands` (rendered with their wake phrase) in a seeded order,
/// each after 2-4 s of cabin noise, with one `chatter` item (rendered without
/// the wake phrase) after every second command; writes `<dir>/stream.wav`.
pub fn build(commands: &[Item], chatter: &[Item], seed: u64, dir: &Path) -> Result<Plan, String> {
    let mut rng = Rng::new(seed);
    let mut order: Vec<usize> = (0..commands.len())
        .filter(|&i| commands[i].wav.is_some())
        .collect();
    for i in (1..order.len()).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    let chatter: Vec<&Item> = chatter.iter().filter(|c| c.wav.is_some()).collect();
    let mut audio: Vec<f32> = Vec::new();
    let mut segments = Vec::new();
    let ms_now = |a: &Vec<f32>| a.len() as f64 * 1000.0 / RATE as f64;
    let push_noise =
        |audio: &mut Vec<f32>, segs: &mut Vec<Segment>, ms: f64, next: &[f32], s: u64| {
            let start = ms_now(audio);
            audio.extend(gap(ms, next, s));
            let end = ms_now(audio);
            segs.push(Segment {
                kind: Kind::Noise,
                start_ms: start,
                speech_end_ms: end,
                end_ms: end,
            });
        };
    for (k, &i) in order.iter().enumerate() {
        let wav = commands[i].wav.as_ref().expect("speech item");
        let x = read_wav(wav)?;
        if k % 2 == 1 && !chatter.is_empty() {
            let c = chatter[(rng.next_u64() % chatter.len() as u64) as usize];
            let cw = c.wav.as_ref().expect("speech item");
            let cx = read_wav(cw)?;
            push_noise(
                &mut audio,
                &mut segments,
                1500.0 + rng.uniform() * 1500.0,
                &cx,
                rng.next_u64(),
            );
            let start = ms_now(&audio);
            audio.extend_from_slice(&cx);
            segments.push(Segment {
                kind: Kind::Chatter,
                start_ms: start,
                speech_end_ms: start + speech_end_ms(cw)?,
                end_ms: ms_now(&audio),
            });
        }
        push_noise(
            &mut audio,
            &mut segments,
            2000.0 + rng.uniform() * 2000.0,
            &x,
            rng.next_u64(),
        );
        let start = ms_now(&audio);
        audio.extend_from_slice(&x);
        segments.push(Segment {
            kind: Kind::Command(i),
            start_ms: start,
            speech_end_ms: start + speech_end_ms(wav)?,
            end_ms: ms_now(&audio),
        });
    }
    let tail: Vec<f32> = audio[audio.len().saturating_sub(4800)..].to_vec();
    push_noise(&mut audio, &mut segments, 3000.0, &tail, rng.next_u64());
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let path = dir.join("stream.wav");
    write_wav(&path, &audio)?;
    Ok(Plan {
        wav: path,
        seconds: audio.len() as f64 / RATE as f64,
        segments,
    })
}

fn ev_name(e: &Value) -> &str {
    e.get("event").and_then(Value::as_str).unwrap_or("")
}

fn num(e: &Value, k: &str) -> Option<f64> {
    e.get(k).and_then(Value::as_f64)
}

fn stats(v: &[f64]) -> Value {
    json!({"n": v.len(), "p50": percentile(v, 50.0), "p95": percentile(v, 95.0)})
}

/// Plays the stream through one `cabin-voice run` and scores it: one row per
/// command (same fields as the `local` target's rows, plus `wake_ok`,
/// `endpoint_ms`, `e2e_ms`) and the stream-wide numbers.
pub fn run(
    setup: &Setup,
    commands: &[Item],
    plan: &Plan,
    mqtt: Option<&str>,
    work: &Path,
) -> Result<(Vec<Value>, Value), String> {
    let mut setup = setup.clone();
    let rig = Rig::start(&mut setup, mqtt, work)?;
    rig.tap.drain();
    let args: Vec<String> = [
        "run",
        "--json",
        "--mqtt",
        &rig.addr,
        "--input",
        &plan.wav.display().to_string(),
        "--realtime",
        "--lang",
        "auto",
    ]
    .map(str::to_string)
    .to_vec();
    let timeout = Duration::from_secs_f64(plan.seconds + setup.timeout.as_secs_f64());
    let m = run_measured(setup.run_command(&args), timeout)?;
    let on_broker: Vec<(String, Value)> = rig
        .tap
        .collect(Duration::from_millis(500))
        .into_iter()
        .filter(|(t, _)| t.starts_with("cabin/actuate/"))
        .collect();
    if m.code != Some(0) {
        return Err(format!(
            "cabin-voice run on the stream: {} ({})",
            match m.code {
                None => "timed out".to_string(),
                Some(c) => format!("exit {c}"),
            },
            m.stderr.lines().last().unwrap_or("")
        ));
    }
    let events: Vec<Value> = m
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    Ok(score(commands, plan, &events, &on_broker, &m))
}

/// Per-turn timeline of a command.
#[derive(Default)]
struct Turn<'a> {
    events: Vec<&'a Value>,
}

impl<'a> Turn<'a> {
    fn first(&self, name: &str) -> Option<&'a Value> {
        self.events.iter().copied().find(|e| ev_name(e) == name)
    }
    fn last(&self, name: &str) -> Option<&'a Value> {
        self.events
            .iter()
            .rev()
            .copied()
            .find(|e| ev_name(e) == name)
    }
}

fn score(
    commands: &[Item],
    plan: &Plan,
    events: &[Value],
    on_broker: &[(String, Value)],
    m: &crate::runner::Measured,
) -> (Vec<Value>, Value) {
    // Wall clock of stream position 0: the least-delayed listening event.
    let t0 = events
        .iter()
        .filter_map(|e| Some(num(e, "ts_ms")? - num(e, "stream_ms")?))
        .fold(f64::INFINITY, f64::min);
    let mut turns: BTreeMap<u64, Turn> = BTreeMap::new();
    for e in events {
        if let Some(t) = e.get("turn").and_then(Value::as_u64) {
            turns.entry(t).or_default().events.push(e);
        }
    }
    // A wake is a command's when it falls in the command's stretch, up to 1 s
    // after its speech; any other wake is a false one.
    let mut matched: BTreeMap<usize, &Turn> = BTreeMap::new();
    let mut false_wakes = Vec::new();
    let mut false_actions = 0usize;
    for turn in turns.values() {
        let Some(w) = turn.first("wake") else {
            continue;
        };
        let at = num(w, "stream_ms").unwrap_or(-1.0);
        let seg = plan.segments.iter().find(|s| match s.kind {
            Kind::Command(i) => {
                at >= s.start_ms && at <= s.speech_end_ms + 1000.0 && !matched.contains_key(&i)
            }
            _ => false,
        });
        match seg.map(|s| &s.kind) {
            Some(Kind::Command(i)) => {
                matched.insert(*i, turn);
            }
            _ => {
                let inside = plan
                    .segments
                    .iter()
                    .find(|s| at >= s.start_ms && at < s.end_ms)
                    .map(|s| match s.kind {
                        Kind::Command(_) => "command",
                        Kind::Chatter => "chatter",
                        Kind::Noise => "noise",
                    })
                    .unwrap_or("end");
                false_actions += turn
                    .events
                    .iter()
                    .filter(|e| ev_name(e) == "action")
                    .count();
                false_wakes.push(json!({"stream_ms": at, "during": inside,
                    "phrase": w.get("phrase"), "transcript": turn.last("transcript").and_then(|t| t.get("text"))}));
            }
        }
    }
    let mut rows = Vec::new();
    let mut lat: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    let mut cmd_segs: Vec<&Segment> = plan
        .segments
        .iter()
        .filter(|s| matches!(s.kind, Kind::Command(_)))
        .collect();
    cmd_segs.sort_by(|a, b| a.start_ms.total_cmp(&b.start_ms));
    for seg in cmd_segs {
        let Kind::Command(i) = seg.kind else { continue };
        let item = &commands[i];
        let turn = matched.get(&i);
        let get = |name: &str| turn.and_then(|t| t.last(name));
        let transcript = get("transcript")
            .and_then(|e| e.get("text"))
            .and_then(Value::as_str)
            .map(str::to_string);
        let intent_ev = get("intent");
        let intent = intent_ev
            .and_then(|e| e.get("intent"))
            .and_then(Value::as_str)
            .unwrap_or("none")
            .to_string();
        let slots = intent_ev
            .and_then(|e| e.get("slots"))
            .cloned()
            .unwrap_or(json!({}));
        let actions: Vec<&Value> = turn
            .map(|t| {
                t.events
                    .iter()
                    .copied()
                    .filter(|e| ev_name(e) == "action")
                    .collect()
            })
            .unwrap_or_default();
        let actuations: Vec<Value> = actions
            .iter()
            .filter(|a| a.get("kind").and_then(Value::as_str) == Some("mqtt"))
            .map(|a| json!({"topic": a.get("topic"), "value": a["payload"].get("value")}))
            .collect();
        let ts = |name: &str| get(name).and_then(|e| num(e, "ts_ms"));
        let wake_ts = turn
            .and_then(|t| t.first("wake"))
            .and_then(|e| num(e, "ts_ms"));
        let listen_ts = turn
            .and_then(|t| t.first("listening"))
            .and_then(|e| num(e, "ts_ms"));
        let end_ev = get("speech_end");
        let endpoint = end_ev
            .and_then(|e| num(e, "stream_ms"))
            .map(|s| s - seg.speech_end_ms);
        let first_action_ts = actions.first().and_then(|e| num(e, "ts_ms"));
        let done_ts = first_action_ts.or_else(|| ts("reply"));
        let e2e = done_ts.map(|d| d - (t0 + seg.speech_end_ms));
        let diff = |a: Option<f64>, b: Option<f64>| Some(b? - a?);
        let stages = [
            ("wake_to_listening", diff(wake_ts, listen_ts)),
            ("endpoint", endpoint),
            (
                "speech_end_to_transcript",
                diff(end_ev.and_then(|e| num(e, "ts_ms")), ts("transcript")),
            ),
            ("transcript_to_intent", diff(ts("transcript"), ts("intent"))),
            ("intent_to_action", diff(ts("intent"), first_action_ts)),
            ("e2e", e2e),
        ];
        for (k, v) in stages {
            if let Some(v) = v {
                lat.entry(k).or_default().push(v);
            }
        }
        let slot_errs = metrics::slot_errors(&item.utt.slots, &slots);
        let intent_ok = intent == item.utt.intent;
        // The recogniser hears only the command: the wake phrase is not in it.
        let (we, wn) = match &transcript {
            Some(h) => metrics::word_errors(&item.utt.text, h),
            None => {
                let n = metrics::normalize(&item.utt.text).len();
                (n, n)
            }
        };
        let timings = get("reply")
            .or(intent_ev)
            .and_then(|e| e.get("timings"))
            .cloned()
            .unwrap_or(json!({}));
        let t = |k: &str| timings.get(k).and_then(Value::as_f64);
        rows.push(json!({
            "id": item.utt.id,
            "lang": item.utt.lang,
            "mode": "speech",
            "voice": item.voice,
            "condition": item.condition,
            "wav": item.wav.as_ref().map(|p| p.file_name().unwrap_or_default().to_string_lossy().to_string()),
            "reference": item.utt.text,
            "transcript": transcript,
            "word_errors": we,
            "ref_words": wn,
            "expected_intent": item.utt.intent,
            "expected_slots": item.utt.slots,
            "intent": intent,
            "slots": slots,
            "engine": intent_ev.and_then(|e| e.get("engine")),
            "intent_ok": intent_ok,
            "frame_ok": intent_ok && slot_errs.is_empty(),
            "slot_errors": slot_errs,
            "reply": get("reply").and_then(|e| e.get("status")),
            "actuations": actuations,
            "wake_ok": turn.is_some(),
            "endpoint_ms": endpoint,
            "e2e_ms": e2e,
            "stream_ms": seg.start_ms,
            "asr_ms": t("asr_ms"),
            "nlu_ms": t("nlu_ms"),
            "act_ms": t("act_ms"),
            "total_ms": t("total_ms"),
            "audio_ms": t("audio_ms"),
            "wall_ms": Value::Null,
            "peak_rss_kb": m.peak_rss_kb,
            "exit": 0,
            "error": if turn.is_none() { json!("no wake word detected") } else if transcript.is_none() { json!("woke, but no command was recognised") } else { Value::Null },
        }));
    }
    let mut wake = BTreeMap::new();
    for r in &rows {
        let l = r["lang"].as_str().unwrap_or("").to_string();
        let e = wake.entry(l).or_insert((0u32, 0u32));
        e.0 += 1;
        e.1 += u32::from(r["wake_ok"] != true);
    }
    let hours = plan.seconds / 3600.0;
    let action_mqtt = events
        .iter()
        .filter(|e| ev_name(e) == "action" && e.get("kind").and_then(Value::as_str) == Some("mqtt"))
        .count();
    let summary = json!({
        "stream_minutes": plan.seconds / 60.0,
        "commands": rows.len(),
        "chatter": plan.segments.iter().filter(|s| s.kind == Kind::Chatter).count(),
        "wake_miss": wake.iter().map(|(l, (n, miss))| json!({"lang": l, "commands": n, "missed": miss, "frr": *miss as f64 / (*n).max(1) as f64})).collect::<Vec<_>>(),
        "false_wakes": false_wakes.len(),
        "false_wakes_per_hour": false_wakes.len() as f64 / hours.max(1e-9),
        "false_wake_list": false_wakes,
        "false_actions": false_actions,
        "actuations_on_broker": on_broker.len(),
        "actuation_events": action_mqtt,
        "latency_ms": lat.iter().map(|(k, v)| (k.to_string(), stats(v))).collect::<serde_json::Map<_, _>>(),
        "cpu_ms": m.cpu_ms,
        "cpu_share": m.cpu_ms.map(|c| c / (m.wall_ms.max(1.0))),
        "wall_ms": m.wall_ms,
        "peak_rss_mb": m.peak_rss_kb.map(|k| k as f64 / 1024.0),
    });
    (rows, summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::Utterance;

    fn item(id: &str, lang: &str, intent: &str) -> Item {
        Item {
            utt: Utterance {
                id: id.into(),
                lang: lang.into(),
                text: "open the sunroof".into(),
                intent: intent.into(),
                slots: Default::default(),
                speech: true,
                set: "tiny".into(),
            },
            reference: "hey cabin open the sunroof".into(),
            wav: None,
            voice: Some("en-us@170".into()),
            condition: "clean".into(),
        }
    }

    /// Two commands (one heard, one missed), one wake in chatter with an action.
    #[test]
    fn scoring_matches_wakes_to_commands_and_counts_false_ones() {
        let commands = vec![
            item("en1", "en", "sunroof.open"),
            item("zh1", "zh", "sunroof.open"),
        ];
        let seg = |kind, a: f64, e: f64, b: f64| Segment {
            kind,
            start_ms: a,
            speech_end_ms: e,
            end_ms: b,
        };
        let plan = Plan {
            wav: PathBuf::from("stream.wav"),
            seconds: 36.0,
            segments: vec![
                seg(Kind::Noise, 0.0, 3000.0, 3000.0),
                seg(Kind::Command(0), 3000.0, 6000.0, 6500.0),
                seg(Kind::Noise, 6500.0, 9000.0, 9000.0),
                seg(Kind::Chatter, 9000.0, 11000.0, 11500.0),
                seg(Kind::Noise, 11500.0, 14000.0, 14000.0),
                seg(Kind::Command(1), 14000.0, 17000.0, 17500.0),
                seg(Kind::Noise, 17500.0, 36000.0, 36000.0),
            ],
        };
        let t0 = 1_000_000.0;
        let events = vec![
            json!({"event": "wake", "turn": 1, "stream_ms": 4000.0, "ts_ms": t0 + 4000.0, "phrase": "hey cabin"}),
            json!({"event": "listening", "turn": 1, "stream_ms": 4000.0, "ts_ms": t0 + 4001.0}),
            json!({"event": "speech_end", "turn": 1, "stream_ms": 6200.0, "ts_ms": t0 + 6200.0}),
            json!({"event": "transcript", "turn": 1, "text": "open the sunroof", "ts_ms": t0 + 6700.0, "timings": {"asr_ms": 500.0}}),
            json!({"event": "intent", "turn": 1, "intent": "sunroof.open", "slots": {}, "ts_ms": t0 + 6702.0}),
            json!({"event": "action", "turn": 1, "kind": "mqtt", "topic": "cabin/actuate/X", "payload": {"value": 1}, "ts_ms": t0 + 6705.0}),
            json!({"event": "wake", "turn": 2, "stream_ms": 10000.0, "ts_ms": t0 + 10000.0, "phrase": "hey cabin"}),
            json!({"event": "transcript", "turn": 2, "text": "open the sunroof", "ts_ms": t0 + 11500.0}),
            json!({"event": "action", "turn": 2, "kind": "mqtt", "topic": "cabin/actuate/X", "payload": {"value": 1}, "ts_ms": t0 + 11505.0}),
        ];
        let m = crate::runner::Measured {
            code: Some(0),
            stdout: String::new(),
            stderr: String::new(),
            wall_ms: 36_000.0,
            peak_rss_kb: Some(10_240),
            cpu_ms: Some(3600.0),
        };
        let broker = vec![("cabin/actuate/X".to_string(), json!({"value": 1})); 2];
        let (rows, st) = score(&commands, &plan, &events, &broker, &m);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0]["id"], "en1");
        assert_eq!(rows[0]["wake_ok"], true);
        assert_eq!(rows[0]["frame_ok"], true);
        assert_eq!(rows[0]["word_errors"], 0);
        assert_eq!(rows[0]["endpoint_ms"], 200.0);
        assert_eq!(rows[0]["e2e_ms"], 705.0);
        assert_eq!(rows[1]["wake_ok"], false);
        assert_eq!(rows[1]["frame_ok"], false);
        assert_eq!(st["false_wakes"], 1);
        assert_eq!(st["false_wake_list"][0]["during"], "chatter");
        assert_eq!(st["false_actions"], 1);
        assert_eq!(st["false_wakes_per_hour"], 100.0);
        assert_eq!(st["wake_miss"][1]["lang"], "zh");
        assert_eq!(st["wake_miss"][1]["missed"], 1);
        assert_eq!(st["latency_ms"]["speech_end_to_transcript"]["p50"], 500.0);
        assert_eq!(st["latency_ms"]["wake_to_listening"]["p50"], 1.0);
        assert_eq!(st["cpu_share"], 0.1);
        assert_eq!(st["actuations_on_broker"], 2);
    }

    /// The stream is seeded: same items and seed, same audio and layout; every
    /// command is in it once, after noise, and chatter sits between commands.
    #[test]
    fn build_is_deterministic_and_lays_out_every_command() {
        let dir = std::env::temp_dir().join(format!("cv-stream-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut items = Vec::new();
        for k in 0..3 {
            // 1 s of a tone after the corpus's 0.3 s lead-in, then 0.5 s of quiet.
            let speech: Vec<f32> = (0..16_000)
                .map(|i| 0.3 * (i as f32 * 0.05 * (k + 1) as f32).sin())
                .collect();
            let base = format!("c{k}__en-us-170");
            write_wav(&dir.join(format!("{base}__speech.wav")), &speech).unwrap();
            let mixed = crate::corpus::mix(&speech, Some(10), k as u64);
            let wav = dir.join(format!("{base}__10dB.wav"));
            write_wav(&wav, &mixed).unwrap();
            let mut it = item(&format!("c{k}"), "en", "x");
            it.wav = Some(wav);
            items.push(it);
        }
        let a = build(&items, &items[..1], 7, &dir.join("a")).unwrap();
        let b = build(&items, &items[..1], 7, &dir.join("b")).unwrap();
        assert_eq!(
            std::fs::read(&a.wav).unwrap(),
            std::fs::read(&b.wav).unwrap()
        );
        let cmds: Vec<usize> = a
            .segments
            .iter()
            .filter_map(|s| match s.kind {
                Kind::Command(i) => Some(i),
                _ => None,
            })
            .collect();
        let mut sorted = cmds.clone();
        sorted.sort();
        assert_eq!(sorted, vec![0, 1, 2]);
        assert_eq!(
            a.segments
                .iter()
                .filter(|s| s.kind == Kind::Chatter)
                .count(),
            1
        );
        for s in a
            .segments
            .iter()
            .filter(|s| matches!(s.kind, Kind::Command(_)))
        {
            // Speech ends ~1.3 s into each command stretch.
            let into = s.speech_end_ms - s.start_ms;
            assert!(
                (1250.0..1350.0).contains(&into),
                "speech end {into} ms into the command"
            );
        }
        assert!(a
            .segments
            .windows(2)
            .all(|w| (w[0].end_ms - w[1].start_ms).abs() < 0.1));
        let total = read_wav(&a.wav).unwrap().len() as f64 / RATE as f64;
        assert!((total - a.seconds).abs() < 1e-6);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
