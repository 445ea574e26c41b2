//! Listening end to end: a long recording of a cabin (noise, chatter, "hey
//! cabin" + an English command, more noise, "你好小舱" + a Chinese command) goes
//! through `cabin-voice run --input` (wake word -> voice activity -> endpointing
//! -> whisper on the trimmed segment -> understanding -> actuation) and must
//! produce exactly two actuations on a real mosquitto.
//!
//! The speech is rendered by the test: espeak-ng for the chatter and "hey
//! cabin", the English command from the fixtures, "你好小舱" and the Chinese
//! command by the Kokoro renderer (hw-test/tts).

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const RATE: u32 = 16_000;
const TEMP: &str = "cabin/actuate/Vehicle.Cabin.HVAC.Station.Row1.Driver.Temperature";
const AC: &str = "cabin/actuate/Vehicle.Cabin.HVAC.IsAirConditioningActive";

fn run_ok(cmd: &mut Command) {
    let out = cmd.output().expect("spawn");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// espeak-ng -> 16 kHz mono s16 samples.
fn espeak(dir: &Path, name: &str, voice: &str, text: &str) -> Vec<i16> {
    let raw = dir.join(format!("{name}.raw.wav"));
    let wav = dir.join(format!("{name}.wav"));
    run_ok(
        Command::new("espeak-ng")
            .args(["-v", voice, "-s", "150", "-w"])
            .arg(&raw)
            .arg(text),
    );
    run_ok(
        Command::new("sox")
            .arg(&raw)
            .args(["-r", "16000", "-c", "1", "-b", "16"])
            .arg(&wav),
    );
    read(&wav)
}

fn read(path: &Path) -> Vec<i16> {
    let r = hound::WavReader::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(r.spec().sample_rate, RATE, "{}", path.display());
    r.into_samples::<i16>().map(|s| s.unwrap()).collect()
}

/// Mandarin through the Kokoro renderer (`id` names the file); `None` when it is
/// not installed.
fn kokoro(dir: &Path, id: &str, text: &str) -> Option<Vec<i16>> {
    let py = root().join("models/.cache/tts-venv/bin/python");
    let model = root().join("models/tts/kokoro-v1.0-int8.onnx");
    if !py.is_file() || !model.is_file() {
        return None;
    }
    let jsonl = dir.join(format!("{id}.jsonl"));
    std::fs::write(
        &jsonl,
        format!(
            "{}\n",
            serde_json::json!({"id": id, "text": text, "lang": "zh", "voice": "zf_xiaoxiao"})
        ),
    )
    .unwrap();
    run_ok(
        Command::new(py)
            .arg(root().join("hw-test/tts/render.py"))
            .arg(&jsonl)
            .arg(dir),
    );
    Some(read(&dir.join(format!("{id}.wav"))))
}

fn silence(ms: u32) -> Vec<i16> {
    vec![0; (RATE * ms / 1000) as usize]
}

/// Speech segments over a deterministic low-frequency-heavy noise bed
/// (about -45 dBFS, like a quiet cabin).
fn mix(parts: &[Vec<i16>]) -> Vec<i16> {
    let speech: Vec<i16> = parts.concat();
    let mut seed = 0x2545_f491u32;
    let mut lp = 0.0f32;
    speech
        .iter()
        .map(|&s| {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            let white = (seed as f32 / u32::MAX as f32) * 2.0 - 1.0;
            lp = 0.97 * lp + 0.03 * white;
            (s as f32 + lp * 1200.0 + white * 40.0).clamp(-32768.0, 32767.0) as i16
        })
        .collect()
}

fn write(path: &Path, samples: &[i16]) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for &s in samples {
        w.write_sample(s).unwrap();
    }
    w.finalize().unwrap();
}

fn render(dir: &Path) -> Option<PathBuf> {
    let chatter = espeak(
        dir,
        "chatter",
        "en-gb",
        "I think we should stop for lunch somewhere near the river after the meeting",
    );
    let chatter2 = espeak(
        dir,
        "chatter2",
        "en-us+f3",
        "the kids are asleep in the back, finally",
    );
    let wake_en = espeak(dir, "wake_en", "en-us", "hey cabin");
    // Mandarin speech from a neural voice: espeak-ng's Mandarin is hardly
    // intelligible (docs/BENCH.md), and the wake word is trained on Kokoro too.
    let wake_zh = kokoro(dir, "wake_zh", "你好小舱")?;
    let cmd_en = read(&root().join("tests/fixtures/en_set_temperature_21.wav"));
    let cmd_zh = kokoro(dir, "zh_cmd", "打开空调")?;
    let long = mix(&[
        silence(2000),
        chatter,
        silence(2500),
        wake_en,
        silence(500),
        cmd_en,
        silence(3000),
        chatter2,
        silence(3000),
        wake_zh,
        silence(500),
        cmd_zh,
        silence(2500),
    ]);
    let path = dir.join("cabin.wav");
    write(&path, &long);
    Some(path)
}

#[test]
fn long_recording_gives_exactly_two_actuations() {
    let dir = TempDir::new("listening");
    let Some(wav) = render(dir.path()) else {
        eprintln!("skipped: Kokoro renderer not installed (python3 models/install.py --only tts)");
        return;
    };
    let broker = Mosquitto::start();
    let mut sub = Subscriber::new(broker.port, "cabin/actuate/#");
    let (code, out, err) = output(cabin_voice().args([
        "run",
        "--input",
        wav.to_str().unwrap(),
        "--mqtt",
        &broker.addr(),
        "--json",
    ]));
    assert_eq!(code, 0, "stderr: {err}\nstdout: {out}");
    sub.wait_for(Duration::from_millis(500), |_| false);
    let acts: Vec<Msg> = sub.drain().to_vec();
    let topics: Vec<&str> = acts.iter().map(|m| m.topic.as_str()).collect();
    assert_eq!(acts.len(), 2, "actuations {topics:?}\nstdout: {out}");
    assert_eq!(acts[0].topic, TEMP, "{out}");
    assert_eq!(acts[0].payload["value"], 21);
    assert_eq!(acts[1].topic, AC, "{out}");
    assert_eq!(acts[1].payload["value"], true);
    // The events tell the story: two wakes (one per language), each followed by
    // listening, speech start and end, then the command's stages.
    let evs = json_lines(&out);
    let wakes: Vec<&str> = evs
        .iter()
        .filter(|e| e["event"] == "wake")
        .map(|e| e["phrase"].as_str().unwrap())
        .collect();
    assert_eq!(wakes, ["hey cabin", "你好小舱"], "{out}");
    // A tentative end voided by more speech ("speech_resumed") is followed by
    // another end: two commands are two ends that stood.
    let count = |name: &str| evs.iter().filter(|e| e["event"] == name).count();
    assert_eq!(count("speech_end") - count("speech_resumed"), 2, "{out}");
    for e in evs.iter().filter(|e| e["event"] == "transcript") {
        // Whisper saw only the command, trimmed by the endpointer.
        let ms = e["timings"]["audio_ms"].as_u64().unwrap();
        assert!((500..4000).contains(&ms), "segment of {ms} ms: {e}");
    }
}

/// Push-to-talk on 2.5 s of cabin noise + a command, delivered in real time:
/// pressed over MQTT, or over D-Bus on a private bus when `dbus` is given.
fn push_to_talk(dbus: Option<&DBusDaemon>) {
    let dir = TempDir::new("listening-ptt");
    let wav = dir.path().join("ptt.wav");
    write(
        &wav,
        &mix(&[
            silence(2500),
            read(&root().join("tests/fixtures/en_set_temperature_21.wav")),
            silence(2000),
        ]),
    );
    let broker = Mosquitto::start();
    let mut sync = Subscriber::new(broker.port, "cabin/assistant/sync/#");
    let mut sub = Subscriber::new(broker.port, "cabin/actuate/#");
    let mut cmd = cabin_voice();
    cmd.args([
        "run",
        "--input",
        wav.to_str().unwrap(),
        "--realtime",
        "--mqtt",
        &broker.addr(),
        "--json",
    ])
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped());
    match dbus {
        Some(d) => cmd.env("DBUS_SESSION_BUS_ADDRESS", &d.address),
        None => cmd.env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus"),
    };
    let child = cmd.spawn().unwrap();
    // The assistant is subscribed once its sync marker comes back; then press.
    sync.wait_for(Duration::from_secs(20), |_| true)
        .expect("assistant connected");
    match dbus {
        None => sub.publish("cabin/assistant/ptt", b"", false),
        Some(d) => {
            // The name is owned right after the broker connection; retry briefly.
            let pressed = (0..50).any(|_| {
                let ok = Command::new("dbus-send")
                    .env("DBUS_SESSION_BUS_ADDRESS", &d.address)
                    .args([
                        "--session",
                        "--print-reply",
                        "--dest=org.cabinvoice.Assistant",
                        "/org/cabinvoice/Assistant",
                        "org.cabinvoice.Assistant1.PushToTalk",
                    ])
                    .output()
                    .map(|o| o.status.success())
                    .unwrap_or(false);
                if !ok {
                    std::thread::sleep(Duration::from_millis(20));
                }
                ok
            });
            assert!(pressed, "PushToTalk over D-Bus failed");
        }
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let evs = json_lines(&stdout);
    assert!(
        evs.iter()
            .any(|e| e["event"] == "listening" && e["trigger"] == "ptt"),
        "{stdout}"
    );
    assert!(!evs.iter().any(|e| e["event"] == "wake"), "{stdout}");
    sub.wait_for(Duration::from_millis(500), |_| false);
    let acts: Vec<Msg> = sub.drain().to_vec();
    assert_eq!(acts.len(), 1, "{stdout}");
    assert_eq!(acts[0].topic, TEMP);
    assert_eq!(acts[0].payload["value"], 21);
}

#[test]
fn push_to_talk_on_mqtt_opens_listening_without_the_wake_word() {
    push_to_talk(None);
}

#[test]
fn push_to_talk_on_d_bus_opens_listening_without_the_wake_word() {
    let bus = DBusDaemon::start();
    push_to_talk(Some(&bus));
}

/// A pause inside a command: the endpointer hands the first part over early
/// (tentatively), speech comes back before the full trailing silence, and the
/// whole command is what gets recognised and acted on, once.
#[test]
fn a_pause_inside_a_command_does_not_cut_it_short() {
    let dir = TempDir::new("listening-pause");
    // espeak-ng pads its output with silence: trim it so the pause is what we say.
    let trimmed = |x: Vec<i16>| -> Vec<i16> {
        let loud = |s: &i16| s.unsigned_abs() > 300;
        let a = x.iter().position(loud).unwrap_or(0);
        let b = x.iter().rposition(loud).map_or(x.len(), |b| b + 1);
        x[a..b].to_vec()
    };
    let wake = espeak(dir.path(), "wake", "en-us", "hey cabin");
    let first = trimmed(espeak(dir.path(), "first", "en-us", "set the temperature"));
    let second = trimmed(espeak(
        dir.path(),
        "second",
        "en-us",
        "to twenty four degrees",
    ));
    let wav = dir.path().join("pause.wav");
    write(
        &wav,
        &mix(&[
            silence(2000),
            wake,
            silence(500),
            first,
            silence(200),
            second,
            silence(2000),
        ]),
    );
    let broker = Mosquitto::start();
    let mut sub = Subscriber::new(broker.port, "cabin/actuate/#");
    let (code, out, err) = output(cabin_voice().args([
        "run",
        "--input",
        wav.to_str().unwrap(),
        "--mqtt",
        &broker.addr(),
        "--json",
    ]));
    assert_eq!(code, 0, "stderr: {err}\nstdout: {out}");
    let evs = json_lines(&out);
    assert!(
        evs.iter().any(|e| e["event"] == "speech_resumed"),
        "the pause should give a tentative end that speech voided: {out}"
    );
    let transcripts = evs.iter().filter(|e| e["event"] == "transcript").count();
    assert_eq!(transcripts, 1, "only the whole command is acted on: {out}");
    sub.wait_for(Duration::from_millis(500), |_| false);
    let acts: Vec<Msg> = sub.drain().to_vec();
    assert_eq!(acts.len(), 1, "{out}");
    assert_eq!(acts[0].topic, TEMP);
    assert_eq!(acts[0].payload["value"], 24, "{out}");
}
