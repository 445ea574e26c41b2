//! whisper.cpp (through whisper-rs) as the recogniser.
//!
//! Holds a multilingual model and, optionally, an English-only one used when the
//! language is forced to English. Models load lazily on first use.

use super::{AsrError, Lang, Recognizer, Transcript};
use std::path::{Path, PathBuf};
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
}

struct Loaded {
    _ctx: WhisperContext,
    state: WhisperState,
    multilingual: bool,
}

/// whisper.cpp recogniser.
pub struct WhisperRecognizer {
    settings: WhisperSettings,
    main: Option<Loaded>,
    en: Option<Loaded>,
}

fn load(path: &Path) -> Result<Loaded, AsrError> {
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
    let ctx = WhisperContext::new_with_params(path, WhisperContextParameters::default()).map_err(
        |e| {
            err(format!(
                "whisper.cpp could not load it ({e}); reinstall with `python3 models/install.py`"
            ))
        },
    )?;
    let state = ctx
        .create_state()
        .map_err(|e| err(format!("cannot create decoder state: {e}")))?;
    let multilingual = ctx.is_multilingual();
    Ok(Loaded {
        _ctx: ctx,
        state,
        multilingual,
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
                self.en = Some(load(&p)?);
            }
            return self
                .en
                .as_mut()
                .ok_or(AsrError::Decode("model not loaded".into()));
        }
        if self.main.is_none() {
            self.main = Some(load(&self.settings.model)?);
        }
        self.main
            .as_mut()
            .ok_or(AsrError::Decode("model not loaded".into()))
    }
}

impl Recognizer for WhisperRecognizer {
    fn transcribe(&mut self, samples: &[f32], lang: Lang) -> Result<Transcript, AsrError> {
        let t0 = Instant::now();
        let threads = if self.settings.threads == 0 {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2) as i32
        } else {
            self.settings.threads as i32
        };
        let prompt_en = self.settings.prompt_en.clone();
        let prompt_zh = self.settings.prompt_zh.clone();
        let model = self.model_for(lang)?;
        let code = match (lang, model.multilingual) {
            (_, false) => Some("en"),
            (Lang::En, true) => Some("en"),
            (Lang::Zh, true) => Some("zh"),
            (Lang::Auto, true) => None,
        };
        let mut params = FullParams::new(SamplingStrategy::Greedy { best_of: 1 });
        params.set_n_threads(threads);
        params.set_language(Some(code.unwrap_or("auto")));
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
        let prompt = match code {
            Some("zh") => prompt_zh.as_str(),
            Some("en") => prompt_en.as_str(),
            _ => "",
        };
        if !prompt.is_empty() {
            params.set_initial_prompt(prompt);
        }
        // whisper.cpp needs at least one second of audio; pad short clips with silence.
        let mut padded;
        let audio = if samples.len() < 16_000 + 1600 {
            padded = samples.to_vec();
            padded.resize(16_000 + 1600, 0.0);
            &padded[..]
        } else {
            samples
        };
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
        let detected = match code {
            Some(c) => c.to_string(),
            None => whisper_rs::get_lang_str(model.state.full_lang_id_from_state())
                .unwrap_or("en")
                .to_string(),
        };
        Ok(Transcript {
            text: clean(&text),
            lang: detected,
            audio_ms: samples.len() as u64 * 1000 / 16_000,
            asr_ms: t0.elapsed().as_millis() as u64,
        })
    }
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
    out.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let e = load(&dir.join("nope.bin")).err().unwrap().to_string();
        assert!(e.contains("not found") && e.contains("install.py"), "{e}");
        let bad = dir.join("bad.bin");
        std::fs::write(&bad, b"garbage garbage").unwrap();
        let e = load(&bad).err().unwrap().to_string();
        assert!(e.contains("bad magic"), "{e}");
        let trunc = dir.join("trunc.bin");
        let mut bytes = 0x6767_6d6cu32.to_le_bytes().to_vec();
        bytes.extend_from_slice(&[1, 0, 0, 0, 2, 0]);
        std::fs::write(&trunc, bytes).unwrap();
        let e = load(&trunc).err().unwrap().to_string();
        assert!(e.contains("truncated"), "{e}");
        // A real model cut in half.
        let real = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("models/whisper/ggml-tiny.en-q5_1.bin");
        if let Ok(bytes) = std::fs::read(&real) {
            assert!(super::super::ggml::check(&real).is_ok());
            std::fs::write(&trunc, &bytes[..bytes.len() / 2]).unwrap();
            let e = load(&trunc).err().unwrap().to_string();
            assert!(e.contains("truncated") && e.contains("cut short"), "{e}");
        }
        std::fs::remove_dir_all(&dir).ok();
    }
}
