//! The labelled corpus (`hw-test/corpus/utterances.jsonl`) and its rendering to
//! 16 kHz mono WAV: espeak-ng speech resampled with sox, or neural voices (Kokoro
//! in English and Mandarin, Piper in English, see [`crate::tts`]), optionally after
//! a wake phrase, mixed with synthetic cabin noise at a chosen SNR with a seeded
//! RNG. The same corpus, options and seed always give the same samples.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One labelled utterance.
#[derive(Debug, Clone)]
pub struct Utterance {
    pub id: String,
    pub lang: String,
    pub text: String,
    pub intent: String,
    pub slots: serde_json::Map<String, Value>,
    /// Speech can be rendered for it (false: typed text only). An utterance whose
    /// language has no voice in the run is typed too.
    pub speech: bool,
    /// Smallest corpus holding it: tiny | small | full.
    pub set: String,
}

/// Which synthesiser speaks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Engine {
    /// espeak-ng (formant synthesis).
    Espeak,
    /// Kokoro-82M int8 (neural, `hw-test/tts`).
    Kokoro,
    /// Piper en_US-joe-medium (neural, `hw-test/tts`).
    Piper,
}

/// A synthetic voice: engine, voice name, language, and (espeak-ng only) speed in
/// words per minute.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Voice {
    pub engine: Engine,
    pub name: &'static str,
    pub lang: &'static str,
    pub speed: u32,
}

impl Voice {
    /// `en-us@170` (espeak-ng), `kokoro:zf_xiaoxiao`, `piper:joe`.
    pub fn label(&self) -> String {
        match self.engine {
            Engine::Espeak => format!("{}@{}", self.name, self.speed),
            Engine::Kokoro => format!("kokoro:{}", self.name),
            Engine::Piper => format!("piper:{}", self.name),
        }
    }
    /// The voice name `hw-test/tts/render.py` takes.
    fn tts_name(&self) -> String {
        match self.engine {
            Engine::Piper => format!("piper-{}", self.name),
            _ => self.name.to_string(),
        }
    }
}

const fn espeak(name: &'static str, speed: u32) -> Voice {
    Voice {
        engine: Engine::Espeak,
        name,
        lang: "en",
        speed,
    }
}

const fn kokoro(name: &'static str, lang: &'static str) -> Voice {
    Voice {
        engine: Engine::Kokoro,
        name,
        lang,
        speed: 0,
    }
}

pub const VOICES: [Voice; 10] = [
    espeak("en-us", 170),
    kokoro("zf_xiaoxiao", "zh"),
    espeak("en-gb", 140),
    espeak("en-us+f3", 170),
    kokoro("af_heart", "en"),
    kokoro("bm_george", "en"),
    Voice {
        engine: Engine::Piper,
        name: "joe",
        lang: "en",
        speed: 0,
    },
    kokoro("zm_yunxi", "zh"),
    kokoro("zf_xiaoyi", "zh"),
    kokoro("zm_yunyang", "zh"),
];

/// Noise condition: `None` = clean, `Some(db)` = cabin noise at this SNR.
pub type Snr = Option<i32>;

pub fn snr_label(snr: Snr) -> String {
    match snr {
        None => "clean".into(),
        Some(db) => format!("{db}dB"),
    }
}

/// Corpus size: which utterances, voices and noise conditions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Size {
    /// CI: 4 en utterances, one espeak-ng voice, 10 dB; 2 zh typed lines.
    Tiny,
    /// 8 en and 8 zh utterances, one voice each (espeak-ng, Kokoro), clean + 10 dB.
    Small,
    /// Everything: all voices, clean + 20/10/5 dB.
    Full,
}

impl Size {
    pub fn parse(s: &str) -> Option<Size> {
        match s {
            "tiny" => Some(Size::Tiny),
            "small" => Some(Size::Small),
            "full" => Some(Size::Full),
            _ => None,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Size::Tiny => "tiny",
            Size::Small => "small",
            Size::Full => "full",
        }
    }
    fn includes(self, set: &str) -> bool {
        match self {
            Size::Tiny => set == "tiny",
            Size::Small => set == "tiny" || set == "small",
            Size::Full => true,
        }
    }
    pub fn voices(self) -> &'static [Voice] {
        match self {
            Size::Full => &VOICES,
            Size::Small => &VOICES[..2],
            Size::Tiny => &VOICES[..1],
        }
    }
    pub fn snrs(self) -> Vec<Snr> {
        match self {
            Size::Tiny => vec![Some(10)],
            Size::Small => vec![None, Some(10)],
            Size::Full => vec![None, Some(20), Some(10), Some(5)],
        }
    }
}

/// One thing to run: an utterance as speech (a WAV) or as typed text.
#[derive(Debug, Clone)]
pub struct Item {
    pub utt: Utterance,
    /// What was spoken / typed (the label text, with the wake phrase if any).
    pub reference: String,
    /// `None` for typed text.
    pub wav: Option<PathBuf>,
    pub voice: Option<String>,
    /// `clean`, `20dB`, ... or `text`.
    pub condition: String,
}

pub fn corpus_file() -> PathBuf {
    crate::workspace_root().join("hw-test/corpus/utterances.jsonl")
}

pub fn load(path: &Path) -> Result<Vec<Utterance>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let v: Value =
            serde_json::from_str(line).map_err(|e| format!("{}:{}: {e}", path.display(), n + 1))?;
        let s = |k: &str| {
            v.get(k)
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| format!("{}:{}: missing \"{k}\"", path.display(), n + 1))
        };
        out.push(Utterance {
            id: s("id")?,
            lang: s("lang")?,
            text: s("text")?,
            intent: s("intent")?,
            slots: v
                .get("slots")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
            speech: v.get("speech").and_then(Value::as_bool).unwrap_or(false),
            set: s("set").unwrap_or_else(|_| "full".into()),
        });
    }
    Ok(out)
}

/// Rendering options.
#[derive(Debug, Clone)]
pub struct RenderOpts {
    pub size: Size,
    /// Say the wake phrase ("hey cabin", "你好小舱") before each command.
    pub wake: bool,
    pub seed: u64,
    /// Only these voices (`en-us@170`, ...); empty = the size's voices.
    pub voices: Vec<String>,
}

pub const WAKE_PHRASE: &str = "hey cabin";
/// The Mandarin wake phrase, said before Mandarin commands.
pub const WAKE_PHRASE_ZH: &str = "你好小舱";

/// Renders the speech items of the corpus into `dir` and lists every item
/// (speech first, then typed text) in a stable order.
pub fn render(utts: &[Utterance], dir: &Path, opts: &RenderOpts) -> Result<Vec<Item>, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut items = Vec::new();
    let chosen: Vec<&Utterance> = utts.iter().filter(|u| opts.size.includes(&u.set)).collect();
    let voices: Vec<&Voice> = opts
        .size
        .voices()
        .iter()
        .filter(|v| opts.voices.is_empty() || opts.voices.contains(&v.label()))
        .collect();
    // Neural speech first, in one renderer run (cached across runs).
    let mut reqs = Vec::new();
    for voice in voices.iter().filter(|v| v.engine != Engine::Espeak) {
        for u in chosen.iter().filter(|u| u.speech && u.lang == voice.lang) {
            reqs.push(crate::tts::Request {
                text: spoken(u, opts.wake),
                lang: u.lang.clone(),
                voice: voice.tts_name(),
            });
        }
    }
    let mut neural = crate::tts::render(&reqs)
        .map_err(|e| e.to_string())?
        .into_iter();
    for voice in &voices {
        for u in chosen.iter().filter(|u| u.speech && u.lang == voice.lang) {
            let wake = if opts.wake { "-wake" } else { "" };
            let base = format!("{}{wake}__{}", u.id, voice.label().replace([':', '@'], "-"));
            let clean = dir.join(format!("{base}__speech.wav"));
            if voice.engine == Engine::Espeak {
                synthesize(&spoken(u, opts.wake), voice, &clean)?;
            } else {
                let src = neural.next().ok_or("tts: fewer files than requests")?;
                std::fs::copy(&src, &clean).map_err(|e| format!("{}: {e}", src.display()))?;
            }
            let speech = read_wav(&clean)?;
            for snr in opts.size.snrs() {
                let wav = dir.join(format!("{base}__{}.wav", snr_label(snr)));
                let seed = fnv1a(&format!("{}|{}", opts.seed, wav.display()));
                let mixed = mix(&speech, snr, seed);
                write_wav(&wav, &mixed)?;
                items.push(Item {
                    utt: (*u).clone(),
                    reference: reference(u, opts.wake),
                    wav: Some(wav),
                    voice: Some(voice.label()),
                    condition: snr_label(snr),
                });
            }
        }
    }
    let spoken_langs: Vec<&str> = voices.iter().map(|v| v.lang).collect();
    for u in chosen
        .iter()
        .filter(|u| !u.speech || !spoken_langs.contains(&u.lang.as_str()))
    {
        items.push(Item {
            utt: (*u).clone(),
            reference: u.text.clone(),
            wav: None,
            voice: None,
            condition: "text".into(),
        });
    }
    Ok(items)
}

/// What is said: the command, after the wake phrase of its language if asked for.
fn spoken(u: &Utterance, wake: bool) -> String {
    match (wake, u.lang.as_str()) {
        (true, "zh") => format!("{WAKE_PHRASE_ZH}，{}", u.text),
        (true, _) => format!("{WAKE_PHRASE}, {}", u.text),
        _ => u.text.clone(),
    }
}

/// What a perfect transcript holds.
fn reference(u: &Utterance, wake: bool) -> String {
    match (wake, u.lang.as_str()) {
        (true, "zh") => format!("{WAKE_PHRASE_ZH}{}", u.text),
        (true, _) => format!("{WAKE_PHRASE} {}", u.text),
        _ => u.text.clone(),
    }
}

/// espeak-ng to a WAV, then sox to 16 kHz mono s16 (no dither: deterministic).
fn synthesize(text: &str, voice: &Voice, out: &Path) -> Result<(), String> {
    let raw = out.with_extension("espeak.wav");
    let st = Command::new("espeak-ng")
        .args(["-v", voice.name, "-s", &voice.speed.to_string(), "-w"])
        .arg(&raw)
        .arg(text)
        .status()
        .map_err(|e| format!("espeak-ng: {e} (apt-get install espeak-ng)"))?;
    if !st.success() {
        return Err(format!("espeak-ng failed on {text:?}"));
    }
    let st = Command::new("sox")
        .arg("-D")
        .arg(&raw)
        .args(["-r", "16000", "-c", "1", "-b", "16"])
        .arg(out)
        .status()
        .map_err(|e| format!("sox: {e} (apt-get install sox)"))?;
    let _ = std::fs::remove_file(&raw);
    if !st.success() {
        return Err(format!("sox failed on {}", out.display()));
    }
    Ok(())
}

pub const RATE: u32 = 16_000;

pub fn read_wav(p: &Path) -> Result<Vec<f32>, String> {
    let mut r = hound::WavReader::open(p).map_err(|e| format!("{}: {e}", p.display()))?;
    let spec = r.spec();
    if spec.sample_rate != RATE || spec.channels != 1 || spec.bits_per_sample != 16 {
        return Err(format!("{}: expected 16 kHz mono s16", p.display()));
    }
    r.samples::<i16>()
        .map(|s| s.map(|s| s as f32 / 32768.0))
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: {e}", p.display()))
}

pub fn write_wav(p: &Path, samples: &[f32]) -> Result<(), String> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(p, spec).map_err(|e| format!("{}: {e}", p.display()))?;
    for &s in samples {
        let v = (s * 32767.0).round().clamp(-32768.0, 32767.0) as i16;
        w.write_sample(v).map_err(|e| e.to_string())?;
    }
    w.finalize().map_err(|e| e.to_string())
}

/// FNV-1a: a stable 64-bit hash (std's hasher is not stable across releases).
pub fn fnv1a(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// SplitMix64 with Box-Muller normals: small, seeded, reproducible.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in (0, 1].
    pub fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 1.0) / (1u64 << 53) as f64
    }
    pub fn normal(&mut self) -> f64 {
        let (u1, u2) = (self.uniform(), self.uniform());
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

/// One-pole low-pass coefficient for a cut-off frequency.
fn lp_alpha(fc: f64) -> f64 {
    let dt = 1.0 / RATE as f64;
    let rc = 1.0 / (2.0 * std::f64::consts::PI * fc);
    dt / (rc + dt)
}

fn rms(x: &[f64]) -> f64 {
    if x.is_empty() {
        return 0.0;
    }
    (x.iter().map(|v| v * v).sum::<f64>() / x.len() as f64).sqrt()
}

/// Synthetic cabin noise: road rumble (brown noise, low-passed at 250 Hz) plus
/// HVAC hiss (white noise band-passed 400 Hz - 4 kHz, 6 dB quieter).
pub fn cabin_noise(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = Rng::new(seed);
    let (a_lp_road, a_lp_hiss, a_hp_hiss) = (lp_alpha(250.0), lp_alpha(4000.0), lp_alpha(400.0));
    let (mut brown, mut road) = (0.0f64, 0.0f64);
    let (mut hiss_lp, mut hiss_low) = (0.0f64, 0.0f64);
    let mut r = Vec::with_capacity(n);
    let mut h = Vec::with_capacity(n);
    for _ in 0..n {
        brown = 0.998 * brown + 0.05 * rng.normal();
        road += a_lp_road * (brown - road);
        r.push(road);
        hiss_lp += a_lp_hiss * (rng.normal() - hiss_lp);
        hiss_low += a_hp_hiss * (hiss_lp - hiss_low);
        h.push(hiss_lp - hiss_low);
    }
    let (rr, rh) = (rms(&r).max(1e-12), rms(&h).max(1e-12));
    r.iter()
        .zip(&h)
        .map(|(a, b)| a / rr + 0.5 * b / rh)
        .collect()
}

/// Pads the speech with silence (300 ms before, 500 ms after) and, for
/// `Some(db)`, adds cabin noise so that speech power / noise power = db.
pub fn mix(speech: &[f32], snr: Snr, seed: u64) -> Vec<f32> {
    let (pre, post) = (RATE as usize * 3 / 10, RATE as usize / 2);
    let mut out = vec![0.0f64; pre + speech.len() + post];
    for (i, &s) in speech.iter().enumerate() {
        out[pre + i] = s as f64;
    }
    if let Some(db) = snr {
        // Speech power over the voiced part only (frames above -40 dBFS).
        let voiced: Vec<f64> = speech
            .chunks(320)
            .filter(|c| rms(&c.iter().map(|&v| v as f64).collect::<Vec<_>>()) > 0.01)
            .flat_map(|c| c.iter().map(|&v| v as f64))
            .collect();
        let ps = rms(&voiced);
        let noise = cabin_noise(out.len(), seed);
        let gain = ps / rms(&noise).max(1e-12) / 10f64.powf(db as f64 / 20.0);
        for (o, n) in out.iter_mut().zip(&noise) {
            *o += gain * n;
        }
    }
    let peak = out.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let norm = if peak > 0.95 { 0.95 / peak } else { 1.0 };
    out.iter().map(|v| (v * norm) as f32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_is_seeded_and_snr_holds() {
        assert_eq!(cabin_noise(1000, 7), cabin_noise(1000, 7));
        assert_ne!(cabin_noise(1000, 7), cabin_noise(1000, 8));
        let speech: Vec<f32> = (0..16000).map(|i| 0.3 * (i as f32 * 0.05).sin()).collect();
        let m = mix(&speech, Some(10), 1);
        let pre = RATE as usize * 3 / 10;
        let noise: Vec<f64> = m[..pre].iter().map(|&v| v as f64).collect();
        let sp = rms(&speech.iter().map(|&v| v as f64).collect::<Vec<_>>());
        let snr = 20.0 * (sp / rms(&noise)).log10();
        assert!((snr - 10.0).abs() < 3.0, "snr {snr}");
    }
}
