//! The report: a JSON summary (per language and noise condition) and a
//! self-contained HTML page with inline SVG charts.

use crate::metrics::percentile;
use serde_json::{json, Value};
use std::fmt::Write;

pub const STAGES: [&str; 5] = ["asr_ms", "nlu_ms", "act_ms", "total_ms", "wall_ms"];

fn f(row: &Value, k: &str) -> Option<f64> {
    row.get(k).and_then(Value::as_f64)
}

fn b(row: &Value, k: &str) -> bool {
    row.get(k).and_then(Value::as_bool).unwrap_or(false)
}

fn s<'a>(row: &'a Value, k: &str) -> &'a str {
    row.get(k).and_then(Value::as_str).unwrap_or("")
}

/// Condition order for tables and charts.
fn cond_rank(c: &str) -> i32 {
    match c {
        "clean" => -1000,
        "text" => 1000,
        c => -c.trim_end_matches("dB").parse::<i32>().unwrap_or(0),
    }
}

/// Metrics over a set of rows.
pub fn group_stats(rows: &[&Value]) -> Value {
    let n = rows.len();
    let frac = |k: &str| {
        if n == 0 {
            Value::Null
        } else {
            json!(rows.iter().filter(|r| b(r, k)).count() as f64 / n as f64)
        }
    };
    let errs: u64 = rows
        .iter()
        .filter_map(|r| r.get("word_errors")?.as_u64())
        .sum();
    let words: u64 = rows
        .iter()
        .filter_map(|r| r.get("ref_words")?.as_u64())
        .sum();
    let mut lat = serde_json::Map::new();
    for st in STAGES {
        let v: Vec<f64> = rows.iter().filter_map(|r| f(r, st)).collect();
        lat.insert(
            st.into(),
            json!({"n": v.len(), "p50": percentile(&v, 50.0), "p95": percentile(&v, 95.0)}),
        );
    }
    let rss: Vec<f64> = rows.iter().filter_map(|r| f(r, "peak_rss_kb")).collect();
    json!({
        "n": n,
        "wer": if words > 0 { json!(errs as f64 / words as f64) } else { Value::Null },
        "word_errors": errs,
        "ref_words": words,
        "intent_accuracy": frac("intent_ok"),
        "frame_accuracy": frac("frame_ok"),
        "failed_runs": rows.iter().filter(|r| r.get("exit").and_then(Value::as_i64) != Some(0)).count(),
        "latency_ms": lat,
        "peak_rss_mb": {
            "p50": percentile(&rss, 50.0).map(|k| k / 1024.0),
            "max": percentile(&rss, 100.0).map(|k| k / 1024.0),
        },
    })
}

/// The summary: meta, groups per (lang, condition), per lang, per voice, rows.
pub fn summarize(meta: Value, rows: &[Value]) -> Value {
    let mut keys: Vec<(String, String)> = rows
        .iter()
        .map(|r| (s(r, "lang").to_string(), s(r, "condition").to_string()))
        .collect();
    keys.sort_by_key(|(l, c)| (l.clone(), cond_rank(c)));
    keys.dedup();
    let groups: Vec<Value> = keys
        .iter()
        .map(|(l, c)| {
            let sel: Vec<&Value> = rows
                .iter()
                .filter(|r| s(r, "lang") == l && s(r, "condition") == c)
                .collect();
            let mut g = group_stats(&sel);
            g["lang"] = json!(l);
            g["condition"] = json!(c);
            g
        })
        .collect();
    let mut langs: Vec<String> = rows.iter().map(|r| s(r, "lang").to_string()).collect();
    langs.sort();
    langs.dedup();
    let by_lang: Vec<Value> = langs
        .iter()
        .map(|l| {
            let sel: Vec<&Value> = rows.iter().filter(|r| s(r, "lang") == l).collect();
            let mut g = group_stats(&sel);
            g["lang"] = json!(l);
            g
        })
        .collect();
    let mut voices: Vec<String> = rows
        .iter()
        .map(|r| s(r, "voice").to_string())
        .filter(|v| !v.is_empty())
        .collect();
    voices.sort();
    voices.dedup();
    let by_voice: Vec<Value> = voices
        .iter()
        .map(|v| {
            let sel: Vec<&Value> = rows.iter().filter(|r| s(r, "voice") == v).collect();
            let mut g = group_stats(&sel);
            g["voice"] = json!(v);
            g
        })
        .collect();
    json!({
        "schema": 1,
        "meta": meta,
        "groups": groups,
        "by_lang": by_lang,
        "by_voice": by_voice,
        "rows": rows,
    })
}

fn esc(t: &str) -> String {
    t.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn pct(v: &Value) -> String {
    v.as_f64()
        .map(|x| format!("{:.1}%", x * 100.0))
        .unwrap_or("–".into())
}

fn ms(v: Option<f64>) -> String {
    match v {
        None => "–".into(),
        Some(x) if x < 10.0 => format!("{x:.2}"),
        Some(x) => format!("{x:.0}"),
    }
}

fn lat(g: &Value, st: &str, p: &str) -> Option<f64> {
    g["latency_ms"][st][p].as_f64()
}

fn group_label(g: &Value) -> String {
    let c = g["condition"].as_str().unwrap_or("");
    let mode = if c == "text" { "typed text" } else { "speech" };
    format!("{} · {} · {}", g["lang"].as_str().unwrap_or(""), mode, c)
}

const COLORS: [&str; 3] = ["#4C78A8", "#F58518", "#54A24B"];

/// Grouped bars (0..100 %) of word accuracy, intent and frame accuracy per
/// condition for one language.
fn accuracy_chart(groups: &[&Value]) -> String {
    let n = groups.len().max(1) as f64;
    let (w, h, left, top, bottom) = ((90.0 + 110.0 * n).max(520.0), 300.0, 50.0, 30.0, 50.0);
    let plot_h = h - top - bottom;
    let slot = (w - left - 20.0) / n;
    let bw = (slot * 0.8 / 3.0).min(40.0);
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">"#
    );
    for i in 0..=4 {
        let y = top + plot_h * (1.0 - i as f64 / 4.0);
        let _ = write!(
            svg,
            r##"<line x1="{left}" x2="{}" y1="{y}" y2="{y}" stroke="#ddd"/><text x="{}" y="{}" text-anchor="end">{}%</text>"##,
            w - 10.0,
            left - 5.0,
            y + 4.0,
            i * 25
        );
    }
    let names = [
        "word accuracy (1 − WER)",
        "intent accuracy",
        "frame accuracy",
    ];
    for (gi, g) in groups.iter().enumerate() {
        let x0 = left + slot * gi as f64 + (slot - bw * 3.0) / 2.0;
        let vals = [
            g["wer"].as_f64().map(|w| (1.0 - w).max(0.0)),
            g["intent_accuracy"].as_f64(),
            g["frame_accuracy"].as_f64(),
        ];
        for (k, v) in vals.iter().enumerate() {
            let Some(v) = v else { continue };
            let bh = plot_h * v;
            let x = x0 + bw * k as f64;
            let _ = write!(
                svg,
                r#"<rect x="{x:.1}" y="{:.1}" width="{:.1}" height="{bh:.1}" fill="{}"><title>{}: {:.1}%</title></rect><text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="10">{:.0}</text>"#,
                top + plot_h - bh,
                bw - 2.0,
                COLORS[k],
                names[k],
                v * 100.0,
                x + bw / 2.0 - 1.0,
                top + plot_h - bh - 3.0,
                v * 100.0
            );
        }
        let label = g["condition"].as_str().unwrap_or("");
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{}" text-anchor="middle">{} (n={})</text>"#,
            left + slot * (gi as f64 + 0.5),
            top + plot_h + 18.0,
            esc(label),
            g["n"]
        );
    }
    let mut lx = left;
    for (k, name) in names.iter().enumerate() {
        let _ = write!(
            svg,
            r#"<rect x="{lx}" y="{}" width="12" height="12" fill="{}"/><text x="{}" y="{}">{}</text>"#,
            h - 18.0,
            COLORS[k],
            lx + 16.0,
            h - 8.0,
            name
        );
        lx += 36.0 + 6.5 * name.chars().count() as f64;
    }
    svg.push_str("</svg>");
    svg
}

/// Horizontal bars: p50 per stage with a p95 whisker, on a log scale so that
/// sub-millisecond stages stay visible next to speech recognition.
fn latency_chart(g: &Value) -> String {
    let stages = [
        ("asr_ms", "speech recognition"),
        ("nlu_ms", "understanding"),
        ("act_ms", "actuation"),
        ("total_ms", "total (in process)"),
        ("wall_ms", "process wall time"),
    ];
    let (w, left, right, row) = (580.0, 140.0, 110.0, 34.0);
    let h = 40.0 + row * stages.len() as f64 + 30.0;
    let plot_w = w - left - right;
    let (lo, hi) = (-2.0f64, 5.0f64); // 0.01 ms .. 100 s
    let x_of = |v: f64| left + plot_w * ((v.max(0.01).log10() - lo) / (hi - lo)).clamp(0.0, 1.0);
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">"#
    );
    for e in (lo as i32)..=(hi as i32) {
        let x = x_of(10f64.powi(e));
        let label = match e {
            -2 => "0.01".to_string(),
            -1 => "0.1".to_string(),
            e if e < 3 => format!("{}", 10i64.pow(e as u32)),
            e => format!("{} s", 10i64.pow(e as u32 - 3)),
        };
        let _ = write!(
            svg,
            r##"<line x1="{x:.1}" x2="{x:.1}" y1="30" y2="{}" stroke="#ddd"/><text x="{x:.1}" y="{}" text-anchor="middle" font-size="10">{label}</text>"##,
            h - 30.0,
            h - 16.0
        );
    }
    let _ = write!(
        svg,
        r#"<text x="{}" y="{}" text-anchor="middle" font-size="10">ms (log scale) · bar = p50, whisker = p95</text>"#,
        left + plot_w / 2.0,
        h - 3.0
    );
    for (i, (st, name)) in stages.iter().enumerate() {
        let y = 36.0 + row * i as f64;
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="end">{name}</text>"#,
            left - 6.0,
            y + 15.0
        );
        let (Some(p50), p95) = (lat(g, st, "p50"), lat(g, st, "p95")) else {
            let _ = write!(
                svg,
                r##"<text x="{}" y="{}" fill="#888">not measured</text>"##,
                left + 4.0,
                y + 15.0
            );
            continue;
        };
        let x50 = x_of(p50);
        let _ = write!(
            svg,
            r#"<rect x="{left}" y="{y}" width="{:.1}" height="20" fill="{}"/>"#,
            (x50 - left).max(1.0),
            COLORS[0]
        );
        let mut text_x = x50;
        if let Some(p95) = p95 {
            let x95 = x_of(p95);
            let _ = write!(
                svg,
                r#"<line x1="{x50:.1}" x2="{x95:.1}" y1="{}" y2="{}" stroke="black"/><line x1="{x95:.1}" x2="{x95:.1}" y1="{}" y2="{}" stroke="black"/>"#,
                y + 10.0,
                y + 10.0,
                y + 4.0,
                y + 16.0
            );
            text_x = x95;
        }
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{}" font-size="11">{} / {} ms</text>"#,
            text_x + 5.0,
            y + 15.0,
            ms(Some(p50)),
            ms(p95)
        );
    }
    svg.push_str("</svg>");
    svg
}

fn headline_rows(sum: &Value, old: Option<&Value>) -> String {
    let mut out = String::new();
    let groups = sum["groups"].as_array().cloned().unwrap_or_default();
    for g in &groups {
        let cell = |v: String, o: Option<String>| match o {
            Some(o) => format!("<td>{v}<div class=old>was {o}</div></td>"),
            None => format!("<td>{v}</td>"),
        };
        let og = old.and_then(|o| {
            o["groups"]
                .as_array()?
                .iter()
                .find(|x| x["lang"] == g["lang"] && x["condition"] == g["condition"])
                .cloned()
        });
        let o = |fmt: &dyn Fn(&Value) -> String| og.as_ref().map(fmt);
        let wer = |x: &Value| {
            if x["wer"].is_null() {
                "–".into()
            } else {
                pct(&x["wer"])
            }
        };
        let e2e = |x: &Value| {
            format!(
                "{} / {}",
                ms(lat(x, "total_ms", "p50")),
                ms(lat(x, "total_ms", "p95"))
            )
        };
        let wall = |x: &Value| {
            format!(
                "{} / {}",
                ms(lat(x, "wall_ms", "p50")),
                ms(lat(x, "wall_ms", "p95"))
            )
        };
        let rss = |x: &Value| {
            x["peak_rss_mb"]["max"]
                .as_f64()
                .map(|m| format!("{m:.0}"))
                .unwrap_or("–".into())
        };
        let _ = write!(
            out,
            "<tr><th>{}</th><td>{}</td>{}{}{}{}{}{}<td>{}</td></tr>",
            esc(&group_label(g)),
            g["n"],
            cell(wer(g), o(&wer)),
            cell(
                pct(&g["intent_accuracy"]),
                o(&|x| pct(&x["intent_accuracy"]))
            ),
            cell(pct(&g["frame_accuracy"]), o(&|x| pct(&x["frame_accuracy"]))),
            cell(e2e(g), o(&e2e)),
            cell(wall(g), o(&wall)),
            cell(rss(g), o(&rss)),
            g["failed_runs"],
        );
    }
    out
}

fn failures_table(rows: &[Value]) -> String {
    let mut out = String::new();
    let mut n = 0;
    for r in rows {
        let crashed = r.get("exit").and_then(Value::as_i64) != Some(0);
        if b(r, "frame_ok") && !crashed {
            continue;
        }
        n += 1;
        let why = if crashed {
            format!("exit {}: {}", r["exit"], s(r, "error"))
        } else if !b(r, "intent_ok") {
            "wrong intent".to_string()
        } else {
            format!(
                "wrong slots: {}",
                r["slot_errors"]
                    .as_array()
                    .map(|a| a
                        .iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(", "))
                    .unwrap_or_default()
            )
        };
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} {}</td><td>{} {}</td><td>{}</td></tr>",
            esc(s(r, "id")),
            esc(r["voice"].as_str().unwrap_or("text")),
            esc(s(r, "condition")),
            esc(s(r, "reference")),
            esc(r["transcript"].as_str().unwrap_or("–")),
            esc(s(r, "expected_intent")),
            esc(&r["expected_slots"].to_string()),
            esc(s(r, "intent")),
            esc(&r["slots"].to_string()),
            esc(&why),
        );
    }
    if n == 0 {
        out.push_str("<tr><td colspan=8>none: every utterance was understood completely</td></tr>");
    }
    out
}

/// The `stream` target's section: wake word, false wakes, stage latency,
/// CPU and memory of the one long run (empty for other targets).
fn stream_section(sum: &Value) -> String {
    let st = &sum["stream"];
    if !st.is_object() {
        return String::new();
    }
    let mut wake = String::new();
    for w in st["wake_miss"].as_array().into_iter().flatten() {
        let _ = write!(
            wake,
            "<tr><th>wake word missed · {}</th><td>{} of {} ({})</td></tr>",
            esc(w["lang"].as_str().unwrap_or("")),
            w["missed"],
            w["commands"],
            pct(&w["frr"])
        );
    }
    let mut lat = String::new();
    for (k, label) in [
        ("wake_to_listening", "wake word → listening"),
        (
            "endpoint",
            "speech end → <code>speech_end</code> (endpointing)",
        ),
        (
            "speech_end_to_transcript",
            "<code>speech_end</code> → transcript (recognition)",
        ),
        (
            "transcript_to_intent",
            "transcript → intent (understanding)",
        ),
        ("intent_to_action", "intent → first action (actuation)"),
        ("e2e", "<b>speech end → first action (end to end)</b>"),
    ] {
        let l = &st["latency_ms"][k];
        let _ = write!(
            lat,
            "<tr><th>{label}</th><td>{}</td><td>{}</td><td>{}</td></tr>",
            ms(l["p50"].as_f64()),
            ms(l["p95"].as_f64()),
            l["n"]
        );
    }
    let mut fw = String::new();
    for f in st["false_wake_list"].as_array().into_iter().flatten() {
        let _ = write!(
            fw,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            ms(f["stream_ms"].as_f64()),
            esc(f["during"].as_str().unwrap_or("")),
            esc(f["phrase"].as_str().unwrap_or("")),
            esc(f["transcript"].as_str().unwrap_or("-"))
        );
    }
    format!(
        "<h2>Stream: one real-time recording</h2>         <p class=meta>{mins:.1} min of cabin audio played in real time to one <code>cabin-voice run --input … --realtime</code>: {cmds} commands, each after its wake phrase, between cabin noise and {chat} chatter stretches (commands said without the wake phrase, which must be ignored).</p>         <div class=chartrow><table class=headline>{wake}         <tr><th>false wakes</th><td>{fws} ({fwh:.1} per hour)</td></tr>         <tr><th>actions after a false wake</th><td>{fa}</td></tr>         <tr><th>actuations on the broker / action events</th><td>{ob} / {ae}</td></tr>         <tr><th>CPU (share of one core, whole run)</th><td>{cpu:.1} %</td></tr>         <tr><th>peak RSS</th><td>{rss:.0} MB</td></tr></table>         <table class=headline><tr><th>stage</th><th>p50 (ms)</th><th>p95 (ms)</th><th>n</th></tr>{lat}</table></div>         {fwt}",
        mins = st["stream_minutes"].as_f64().unwrap_or(0.0),
        cmds = st["commands"],
        chat = st["chatter"],
        fws = st["false_wakes"],
        fwh = st["false_wakes_per_hour"].as_f64().unwrap_or(0.0),
        fa = st["false_actions"],
        ob = st["actuations_on_broker"],
        ae = st["actuation_events"],
        cpu = st["cpu_share"].as_f64().unwrap_or(0.0) * 100.0,
        rss = st["peak_rss_mb"].as_f64().unwrap_or(0.0),
        fwt = if fw.is_empty() {
            String::new()
        } else {
            format!("<h3>False wakes</h3><table><tr><th>at (ms)</th><th>during</th><th>phrase</th><th>heard</th></tr>{fw}</table>")
        },
    )
}

/// The HTML page; `old` = a previous summary to compare against.
pub fn html(sum: &Value, old: Option<&Value>) -> String {
    let meta = &sum["meta"];
    let rows = sum["rows"].as_array().cloned().unwrap_or_default();
    let groups = sum["groups"].as_array().cloned().unwrap_or_default();
    // One row per language: accuracy by condition, then latency by stage.
    let mut charts = String::new();
    for bl in sum["by_lang"].as_array().into_iter().flatten() {
        let l = bl["lang"].as_str().unwrap_or("");
        let gs: Vec<&Value> = groups.iter().filter(|g| g["lang"] == *l).collect();
        let mode = if rows
            .iter()
            .any(|r| s(r, "lang") == l && s(r, "mode") == "speech")
        {
            "speech"
        } else {
            "typed text"
        };
        let _ = write!(
            charts,
            "<div class=chartrow><figure><figcaption>Accuracy by noise condition · {l} · {mode}</figcaption>{}</figure>\
             <figure><figcaption>Latency by stage · {l} · {mode} (n={})</figcaption>{}</figure></div>",
            accuracy_chart(&gs),
            bl["n"],
            latency_chart(bl)
        );
    }
    let compare = match old {
        Some(o) => format!("<p class=cmp>Compared with <b>{}</b> ({}): previous values shown as “was …” under each cell.</p>", esc(o["meta"]["label"].as_str().unwrap_or("previous run")), esc(o["meta"]["date"].as_str().unwrap_or(""))),
        None => String::new(),
    };
    let voices = sum["by_voice"].as_array().cloned().unwrap_or_default();
    let mut voice_rows = String::new();
    for v in &voices {
        let _ = write!(
            voice_rows,
            "<tr><th>{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(v["voice"].as_str().unwrap_or("")),
            v["n"],
            pct(&v["wer"]),
            pct(&v["intent_accuracy"]),
            pct(&v["frame_accuracy"])
        );
    }
    format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>cabin-voice bench · {label}</title>
<style>
body {{ font-family: sans-serif; margin: 24px; color: #222; max-width: 1180px; }}
h1 {{ font-size: 22px; margin-bottom: 4px; }} h2 {{ font-size: 17px; margin-top: 28px; border-bottom: 1px solid #ccc; }}
.meta {{ color: #555; font-size: 13px; }}
table {{ border-collapse: collapse; font-size: 13px; }} td, th {{ border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top; }}
th {{ background: #f3f3f3; }} .headline td {{ text-align: right; font-variant-numeric: tabular-nums; }}
.old {{ color: #888; font-size: 11px; }} .cmp {{ background: #fff7e0; padding: 6px; }}
.chartrow {{ display: flex; flex-wrap: wrap; gap: 16px; }} figure {{ margin: 8px 0; }} figcaption {{ font-weight: bold; font-size: 14px; margin-bottom: 4px; }}
.fail td {{ max-width: 260px; word-wrap: break-word; }}
</style></head><body>
<h1>cabin-voice bench · {label}</h1>
<div class=meta>target <b>{target}</b> · corpus <b>{corpus}</b> (synthetic speech: espeak-ng, Kokoro, Piper voices; synthetic cabin noise) · {n} runs · {date} · binary {bin} · {host}</div>
{compare}
<h2>Headline</h2>
<table class=headline><tr><th>language · input · condition</th><th>n</th><th>WER / CER</th><th>intent acc.</th><th>frame acc.</th><th>e2e total p50 / p95 (ms)</th><th>process wall p50 / p95 (ms)</th><th>peak RSS (MB)</th><th>failed runs</th></tr>
{headline}</table>
{stream}
<p class=meta>WER / CER: word error rate of the transcript against the label text (lower case, digits spelled out, punctuation dropped); for Mandarin every character counts as a word (character error rate). Frame: intent and every labelled slot right. e2e total: <code>timings.total_ms</code> from the JSON events (recognition + understanding + actuation, in process). Wall: process start to exit, model loading included.</p>
<h2>Charts</h2>
{charts}
<h2>By voice</h2>
<table><tr><th>voice</th><th>n</th><th>WER</th><th>intent acc.</th><th>frame acc.</th></tr>{voice_rows}</table>
<h2>Failures ({nfail})</h2>
<table class=fail><tr><th>id</th><th>voice</th><th>condition</th><th>said</th><th>heard</th><th>expected</th><th>got</th><th>why</th></tr>
{failures}</table>
</body></html>
"#,
        label = esc(meta["label"].as_str().unwrap_or("run")),
        target = esc(meta["target"].as_str().unwrap_or("")),
        corpus = esc(meta["corpus"].as_str().unwrap_or("")),
        n = rows.len(),
        date = esc(meta["date"].as_str().unwrap_or("")),
        bin = esc(meta["binary"].as_str().unwrap_or("")),
        host = esc(meta["host"].as_str().unwrap_or("")),
        headline = headline_rows(sum, old),
        stream = stream_section(sum),
        nfail = rows
            .iter()
            .filter(|r| !b(r, "frame_ok") || r.get("exit").and_then(Value::as_i64) != Some(0))
            .count(),
        failures = failures_table(&rows),
    )
}
