//! whisper.cpp (through whisper-rs) as the recogniser.
//!
//! Holds a multilingual model and, optionally, an English-only one used when the
//! language is forced to English. Models load lazily on first use.

use super::grammar::ByteGrammar;
use super::steer::{self, TokenTable};
use super::{AsrError, Lang, Recognizer, Transcript};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;
use whisper_rs::{
    FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters, WhisperState,
};

/// Settings of the recogniser.
#[derive(Debug, Clone)]
pub struct WhisperSettings {
    pub model: PathBuf,
    /// English-only model for `Lang::En` (optional).
    pub model_en: Option<PathBuf>,
    pub threads: u32,
    /// Initial prompts per language (empty: none).
    pub prompt_en: String,
    pub prompt_zh: String,
    /// Size the encoder window to the clip instead of whisper's fixed 30 s.
    pub fit_audio_ctx: bool,
    /// With `fit_audio_ctx`: the shortest window, ms.
    pub fit_min_ms: u32,
    /// Suppress stationary noise before recognition.
    pub denoise: bool,
    /// Run on the GPU backend compiled into whisper.cpp (features `whisper-vulkan`,
    /// `whisper-cuda`); ignored by a CPU-only build.
    pub use_gpu: bool,
    /// Beam search width; 0 or 1: greedy.
    pub beam_size: u32,
    /// The plugins' sentences per language for grammar-constrained decoding
    /// (`None`: free decoding only).
    pub grammar_en: Option<Arc<ByteGrammar>>,
    pub grammar_zh: Option<Arc<ByteGrammar>>,
    /// Largest regret (nats) at which the constrained transcript replaces the
    /// free one.
    pub grammar_max_regret: f32,
}

/// One decoding's result.
struct Decoded {
    text: String,
    free_text: Option<String>,
    regret: Option<f32>,
}

impl Decoded {
    fn free(text: String) -> Decoded {
        Decoded {
            text,
            free_text: None,
            regret: None,
        }
    }
}

struct Loaded {
    ctx: WhisperContext,
    state: WhisperState,
    multilingual: bool,
    /// Token bytes, built on the first constrained pass.
    tokens: Option<TokenTable>,
}

/// whisper.cpp recogniser.
pub struct WhisperRecognizer {
    settings: WhisperSettings,
    main: Option<Loaded>,
    en: Option<Loaded>,
}

fn load(path: &Path, use_gpu: bool) -> Result<Loaded, AsrError> {
    let err = |msg: String| AsrError::Model {
        path: path.display().to_string(),
        msg,
    };
    if !path.is_file() {
        return Err(err(
            "file not found; install the models with `python3 models/install.py`".into(),
        ));
    }
    super::ggml::check(path).map_err(err)?;
    let mut params = WhisperContextParameters::default();
    params.use_gpu(use_gpu);
    let ctx = WhisperContext::new_with_params(path, params).map_err(|e| {
        err(format!(
            "whisper.cpp could not load it ({e}); reinstall with `python3 models/install.py`"
        ))
    })?;
    let state = ctx
        .create_state()
        .map_err(|e| err(format!("cannot create decoder state: {e}")))?;
    let multilingual = ctx.is_multilingual();
    Ok(Loaded {
        ctx,
        state,
        multilingual,
        tokens: None,
    })
}

impl WhisperRecognizer {
    /// Creates the recogniser; nothing is loaded yet (see [`Self::preload`]).
    pub fn new(settings: WhisperSettings) -> Self {
        whisper_rs::install_logging_hooks();
        WhisperRecognizer {
            settings,
            main: None,
            en: None,
        }
    }

    /// Loads the model(s) now, so the first command is not slower than the rest.
    pub fn preload(&mut self, lang: Lang) -> Result<(), AsrError> {
        self.model_for(lang).map(|_| ())
    }

    fn model_for(&mut self, lang: Lang) -> Result<&mut Loaded, AsrError> {
        let use_en =
            lang == Lang::En && self.settings.model_en.as_ref().is_some_and(|p| p.is_file());
        if use_en {
            if self.en.is_none() {
                let p = self.settings.model_en.clone().unwrap_or_default();
                self.en = Some(load(&p, self.settings.use_gpu)?);
            }
            return self
                .en
                .as_mut()
                .ok_or(AsrError::Decode("model not loaded".into()));
        }
        if self.main.is_none() {
            self.main = Some(load(&self.settings.model, self.settings.use_gpu)?);
        }
        self.main
            .as_mut()
            .ok_or(AsrError::Decode("model not loaded".into()))
    }
}

/// Encoder frames for a clip: 20 ms each, the clip plus one second of margin,
/// at least `min_ms`, at most whisper's 30 s window (1500 frames).
fn audio_ctx_for(samples: usize, min_ms: u32) -> i32 {
    let ms = (samples as u64 * 1000 / 16_000 + 1000).max(min_ms as u64);
    ms.div_ceil(20).clamp(50, 1500) as i32
}

impl WhisperRecognizer {
    fn threads(&self) -> i32 {
        if self.settings.threads == 0 {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2) as i32
        } else {
            self.settings.threads as i32
        }
    }

    /// English or Chinese, by whisper's language identification on the main model.
    fn identify(&mut self, audio: &[f32]) -> Result<Lang, AsrError> {
        let threads = self.threads() as usize;
        let model = self.model_for(Lang::Auto)?;
        if !model.multilingual {
            return Ok(Lang::En);
        }
        let dec = |e: whisper_rs::WhisperError| AsrError::Decode(e.to_string());
        model.state.pcm_to_mel(audio, threads).map_err(dec)?;
        let (_, probs) = model.state.lang_detect(0, threads).map_err(dec)?;
        let p = |code: &str| {
            whisper_rs::get_lang_id(code)
                .and_then(|id| probs.get(id as usize).copied())
                .unwrap_or(0.0)
        };
        Ok(if p("zh") > p("en") {
            Lang::Zh
        } else {
            Lang::En
        })
    }

    fn decode(&mut self, audio: &[f32], n_samples: usize, lang: Lang) -> Result<Decoded, AsrError> {
        let threads = self.threads();
        let prompt = match lang {
            Lang::Zh => self.settings.prompt_zh.clone(),
            _ => self.settings.prompt_en.clone(),
        };
        let fit = self.settings.fit_audio_ctx;
        let fit_min_ms = self.settings.fit_min_ms;
        let beam = self.settings.beam_size;
        let grammar = match lang {
            Lang::Zh => self.settings.grammar_zh.clone(),
            _ => self.settings.grammar_en.clone(),
        };
        let max_regret = self.settings.grammar_max_regret;
        let model = self.model_for(lang)?;
        let code = if lang == Lang::Zh && model.multilingual {
            "zh"
        } else {
            "en"
        };
        let strategy = if beam > 1 {
            SamplingStrategy::BeamSearch {
                beam_size: beam as i32,
                patience: -1.0,
            }
        } else {
            SamplingStrategy::Greedy { best_of: 1 }
        };
        let mut params = FullParams::new(strategy);
        params.set_n_threads(threads);
        params.set_language(Some(code));
        params.set_detect_language(false);
        params.set_translate(false);
        params.set_no_context(true);
        params.set_no_timestamps(true);
        params.set_single_segment(true);
        params.set_suppress_blank(true);
        params.set_suppress_nst(true);
        params.set_print_progress(false);
        params.set_print_realtime(false);
        params.set_print_special(false);
        params.set_print_timestamps(false);
        params.set_temperature_inc(0.0);
        // A spoken command never needs more than ~8 tokens per second.
        let max_tokens = (n_samples as u64 * 8 / 16_000 + 16) as usize;
        if fit {
            params.set_audio_ctx(audio_ctx_for(n_samples, fit_min_ms));
            // A shortened window can make the decoder loop on the phrase.
            params.set_max_tokens(max_tokens as i32);
        }
        if !prompt.is_empty() {
            params.set_initial_prompt(&prompt);
        }
        model
            .state
            .full(params, audio)
            .map_err(|e| AsrError::Decode(e.to_string()))?;
        let mut text = String::new();
        for seg in model.state.as_iter() {
            text.push_str(
                &seg.to_str_lossy()
                    .map_err(|e| AsrError::Decode(e.to_string()))?,
            );
        }
        let free = clean(&text);
        let Some(g) = grammar else {
            return Ok(Decoded::free(free));
        };
        let Loaded {
            ctx, state, tokens, ..
        } = model;
        let table = tokens.get_or_insert_with(|| TokenTable::new(ctx));
        let t0 = Instant::now();
        let steered = steer::steer(
            ctx,
            state,
            table,
            &g,
            &prompt,
            code,
            threads as usize,
            max_tokens,
            max_regret,
            beam <= 1,
            Some(crate::nlu::normalize::units(&free).len()),
        )?;
        let ms = t0.elapsed().as_millis();
        match steered {
            Some(s)
                if s.regret <= max_regret
                    && close_to(&free, &s.heard)
                    && few_replaced(&s)
                    && clean(&s.text) != free =>
            {
                tracing::debug!(free = %free, steered = %s.text, heard = %s.heard, alike = s.alike, regret = s.regret, ms, "grammar pass replaces the free transcript");
                Ok(Decoded {
                    text: clean(&s.text),
                    free_text: Some(free),
                    regret: Some(s.regret),
                })
            }
            Some(s) => {
                tracing::debug!(free = %free, steered = %s.text, regret = s.regret, ms, "free transcript kept");
                Ok(Decoded {
                    regret: Some(s.regret),
                    ..Decoded::free(free)
                })
            }
            None => {
                tracing::debug!(free = %free, ms, "grammar pass found no sentence");
                Ok(Decoded::free(free))
            }
        }
    }
}

impl Recognizer for WhisperRecognizer {
    fn transcribe(&mut self, samples: &[f32], lang: Lang) -> Result<Transcript, AsrError> {
        let t0 = Instant::now();
        let cleaned;
        let samples = if self.settings.denoise {
            cleaned = crate::audio::denoise::denoise(samples)
                .map_err(|e| AsrError::Decode(format!("noise suppression: {e}")))?;
            &cleaned[..]
        } else {
            samples
        };
        // whisper.cpp needs at least one second of audio; pad short clips with silence.
        let padded;
        let audio = if samples.len() < 16_000 + 1600 {
            let mut p = samples.to_vec();
            p.resize(16_000 + 1600, 0.0);
            padded = p;
            &padded[..]
        } else {
            samples
        };
        let lang = match lang {
            Lang::Auto => self.identify(audio)?,
            l => l,
        };
        let d = self.decode(audio, samples.len(), lang)?;
        Ok(Transcript {
            text: d.text,
            free_text: d.free_text,
            grammar_regret: d.regret,
            lang: if lang == Lang::Zh { "zh" } else { "en" }.to_string(),
            audio_ms: samples.len() as u64 * 1000 / 16_000,
            asr_ms: t0.elapsed().as_millis() as u64,
        })
    }
}

/// Most of a free transcript the grammar pass may change (character edit
/// distance over the longer text's length, letters and characters only).
const MAX_CHANGE: f32 = 0.5;

/// True when the constrained transcript is a correction of the free one, not
/// a different, shorter sentence forced onto the audio (chatter heard as 接听).
fn close_to(free: &str, steered: &str) -> bool {
    let norm = |t: &str| -> Vec<char> {
        t.chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect()
    };
    let (a, b) = (norm(free), norm(steered));
    let longest = a.len().max(b.len());
    if longest == 0 {
        return false;
    }
    (edit_distance(&a, &b) as f32) <= MAX_CHANGE * longest as f32
}

/// True when sound-alike and near-homophone replacements are at most half of
/// the sentence (at least one allowed): a text heard wholly as other
/// characters is not a command said slightly wrong.
fn few_replaced(s: &steer::Steered) -> bool {
    let units = crate::nlu::normalize::units(&s.text).len() as u32;
    s.alike + s.near <= (units / 2).max(1)
}

/// Levenshtein distance over characters.
fn edit_distance(a: &[char], b: &[char]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Trims whisper's decorations: leading space, bracketed non-speech tags.
fn clean(text: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for c in text.chars() {
        match c {
            '[' | '(' => depth += 1,
            ']' | ')' if depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    collapse_repeats(out.trim())
}

/// Drops repetitions of the first phrase ("open the window, open the window,
/// open the") that a decoder loop leaves behind.
fn collapse_repeats(text: &str) -> String {
    let is_sep = |c: char| matches!(c, ',' | '，' | '.' | '。' | '!' | '?' | '、');
    // A loop cut off by the token limit may end inside a character (U+FFFD).
    let norm = |s: &str| {
        s.replace('\u{FFFD}', "")
            .trim()
            .trim_matches(is_sep)
            .trim()
            .to_lowercase()
    };
    let parts: Vec<&str> = text.split_inclusive(is_sep).collect();
    let Some(first) = parts.first().map(|p| norm(p)).filter(|f| !f.is_empty()) else {
        return text.to_string();
    };
    // A repeat may drift a little (打开主架做已加热 then 打开主价做已加热).
    let first_chars: Vec<char> = first.chars().collect();
    let repeats = parts[1..].iter().all(|p| {
        let n: Vec<char> = norm(p).chars().collect();
        let head = &first_chars[..n.len().min(first_chars.len())];
        let near = n.len() >= 4 && 2 * edit_distance(head, &n) <= n.len();
        n.is_empty() || (n.len() <= first_chars.len() && (head == n.as_slice() || near))
    });
    if parts.len() > 1 && repeats {
        parts[0].trim().trim_end_matches(is_sep).to_string()
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collapses_decoder_loops() {
        assert_eq!(
            clean("Open the window, open the window, open the window, open the"),
            "Open the window"
        );
        assert_eq!(clean("打开空调，打开空调，打开"), "打开空调");
        assert_eq!(
            clean("打开主架做已加热。打开主价做已加热。打开主\u{FFFD}"),
            "打开主架做已加热"
        );
        assert_eq!(clean("打开空调。关闭车窗。"), "打开空调。关闭车窗。");
        assert_eq!(clean("开窗。关窗。"), "开窗。关窗。");
        assert_eq!(
            clean("Turn on the AC, then open the window."),
            "Turn on the AC, then open the window."
        );
    }

    #[test]
    fn corrections_are_close_and_other_sentences_are_not() {
        assert!(close_to("保护驾车窗打开一半。", "把副驾车窗打开一半。"));
        assert!(close_to(
            "Which on their condition please?",
            "Switch on the air conditioning please."
        ));
        assert!(close_to(
            "How much you will do my head left.",
            "How much fuel do I have left?"
        ));
        assert!(!close_to("今天晚上吃什么好呢。", "接听。"));
        assert!(!close_to("What a lovely evening.", "Open the trunk."));
        assert!(!close_to("", ""));
    }

    #[test]
    fn a_text_heard_wholly_as_other_characters_is_not_replaced() {
        let st = |text: &str, alike, near| steer::Steered {
            text: text.into(),
            heard: String::new(),
            alike,
            near,
            logprob: 0.0,
            regret: 0.0,
            tokens: 0,
        };
        assert!(few_replaced(&st("锁车", 1, 0)));
        assert!(few_replaced(&st("氛围灯亮度调到百分之二十", 2, 1)));
        assert!(!few_replaced(&st("锁车", 1, 1)));
        assert!(!few_replaced(&st("音量调高", 2, 1)));
    }

    #[test]
    fn cleans_tags() {
        assert_eq!(
            clean(" Set the temperature. [BLANK_AUDIO]"),
            "Set the temperature."
        );
        assert_eq!(clean("(music) 打开空调"), "打开空调");
    }

    #[test]
    fn missing_and_corrupt_models_are_clear_errors() {
        let dir = std::env::temp_dir().join(format!("cv-asr-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let e = load(&dir.join("nope.bin"), false)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("not found") && e.contains("install.py"), "{e}");
        let bad = dir.join("bad.bin");
        std::fs::write(&bad, b"garbage garbage").unwrap();
        let e = load(&bad, false).err().unwrap().to_string();
        assert!(e.contains("bad magic"), "{e}");
        let trunc = dir.join("trunc.bin");
        let mut bytes = 0x6767_6d6cu32.to_le_bytes().to_vec();
        bytes.extend_from_slice(&[1, 0, 0, 0, 2, 0]);
        std::fs::write(&trunc, bytes).unwrap();
        let e = load(&trunc, false).err().unwrap().to_string();
        assert!(e.contains("truncated"), "{e}");
        // A real model cut in half.
        let real = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("models/whisper/ggml-tiny.en-q5_1.bin");
        if let Ok(bytes) = std::fs::read(&real) {
            assert!(super::super::ggml::check(&real).is_ok());
            std::fs::write(&trunc, &bytes[..bytes.len() / 2]).unwrap();
            let e = load(&trunc, false).err().unwrap().to_string();
            assert!(e.contains("truncated") && e.contains("cut short"), "{e}");
        }
        std::fs::remove_dir_all(&dir).ok();
    }
}
