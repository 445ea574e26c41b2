//! Constrained decoding: whatever the model's scores, the output is a list of
//! calls the loaded plugins declare (intent names, slot names, enum values,
//! number ranges, required slots). Checked with random scores, with the tiny
//! random-weight ONNX decoder (tests/fixtures/lm, same I/O as a real export),
//! with a decoder that tries to write calls outside the schema, and with a
//! plugin added at test time. The tiny ONNX tests need the ONNX Runtime
//! library (`python3 models/install.py`, run by setup.sh).

use cabin_voice::lm::decoder::{Decoder, OrtDecoder};
use cabin_voice::lm::schema::Schema;
use cabin_voice::lm::vocab::Vocab;
use cabin_voice::lm::{constrain, Budget, LanguageModel, LmError};
use cabin_voice::plugin::manifest::SlotType;
use cabin_voice::plugin::Registry;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures/lm").join(name)
}

fn registry() -> Registry {
    Registry::load(&root().join("plugins")).expect("plugins load")
}

fn vocab() -> Vocab {
    Vocab::load(&fixture("tiny-tokenizer.json")).expect("tiny tokenizer loads")
}

fn roomy() -> Budget {
    Budget {
        max_tokens: 4000,
        timeout: Duration::from_secs(60),
    }
}

/// An independent check of one output against the manifests (not the automaton).
fn check_calls(reg: &Registry, text: &str, max_calls: usize) -> Result<usize, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let list = v.as_array().ok_or("not a list")?;
    if list.is_empty() || list.len() > max_calls {
        return Err(format!("{} calls", list.len()));
    }
    for call in list {
        let obj = call.as_object().ok_or("call not an object")?;
        if obj.len() != 2 {
            return Err(format!("call keys {:?}", obj.keys().collect::<Vec<_>>()));
        }
        let name = obj["intent"].as_str().ok_or("intent not a string")?;
        let slots = obj["slots"].as_object().ok_or("slots not an object")?;
        if name == "none" {
            if !slots.is_empty() {
                return Err("none with slots".into());
            }
            continue;
        }
        let (plugin, def) = reg.intent(name).ok_or(format!("unknown intent {name}"))?;
        for (sname, value) in slots {
            let sdef = def
                .slots
                .get(sname)
                .ok_or(format!("{name}: unknown slot {sname}"))?;
            match plugin.types.get(&sdef.ty).ok_or("unknown type")? {
                SlotType::Enum { values, .. } => {
                    let s = value.as_str().ok_or(format!("{sname}: not a string"))?;
                    if !values.contains_key(s) {
                        return Err(format!("{name}.{sname}: {s:?} is not a value"));
                    }
                }
                SlotType::Number {
                    min, max, integer, ..
                } => {
                    let n = value.as_f64().ok_or(format!("{sname}: not a number"))?;
                    if n < *min || n > *max || (*integer && n.fract() != 0.0) {
                        return Err(format!("{name}.{sname}: {n} outside {min}..{max}"));
                    }
                }
                SlotType::Text { .. } => {
                    let s = value.as_str().ok_or(format!("{sname}: not a string"))?;
                    if s.is_empty() {
                        return Err(format!("{name}.{sname}: empty"));
                    }
                }
                SlotType::Digits { .. } => {
                    let s = value.as_str().ok_or(format!("{sname}: not a string"))?;
                    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                        return Err(format!("{name}.{sname}: {s:?} not digits"));
                    }
                }
            }
        }
        for (sname, sdef) in &def.slots {
            if sdef.required && sdef.default.is_none() && !slots.contains_key(sname) {
                return Err(format!("{name}: required slot {sname} missing"));
            }
        }
    }
    Ok(list.len())
}

/// Random scores (xorshift), a new draw at every step.
struct RandomDecoder {
    vocab: usize,
    state: u64,
    len: usize,
    prefix: usize,
}

impl RandomDecoder {
    fn new(vocab: usize, seed: u64) -> Self {
        RandomDecoder {
            vocab,
            state: seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1,
            len: 0,
            prefix: 0,
        }
    }
    fn next(&mut self) -> f32 {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        (self.state >> 40) as f32 / (1u64 << 24) as f32 * 20.0 - 10.0
    }
}

impl Decoder for RandomDecoder {
    fn vocab_size(&self) -> usize {
        self.vocab
    }
    fn reset(&mut self) {
        self.len = self.prefix;
    }
    fn forward(&mut self, tokens: &[u32]) -> Result<Vec<f32>, LmError> {
        self.len += tokens.len();
        Ok((0..self.vocab).map(|_| self.next()).collect())
    }
    fn cached(&self) -> usize {
        self.len
    }
    fn save_prefix(&mut self) {
        self.prefix = self.len;
    }
}

/// A decoder that scores the tokens spelling `target` highest: a model that
/// "wants" to write exactly that text, valid or not.
struct Scripted {
    vocab: Arc<Vec<Vec<u8>>>,
    target: Vec<u8>,
    written: Vec<u8>,
    fresh: bool,
    len: usize,
}

impl Decoder for Scripted {
    fn vocab_size(&self) -> usize {
        self.vocab.len()
    }
    fn reset(&mut self) {
        self.written.clear();
        self.fresh = true;
    }
    fn forward(&mut self, tokens: &[u32]) -> Result<Vec<f32>, LmError> {
        if self.fresh {
            self.fresh = false; // the prompt
        } else {
            for &t in tokens {
                self.written.extend_from_slice(&self.vocab[t as usize]);
            }
        }
        self.len += tokens.len();
        let rest: &[u8] = self.target.get(self.written.len()..).unwrap_or(&[]);
        Ok(self
            .vocab
            .iter()
            .enumerate()
            .map(|(i, b)| {
                if !b.is_empty() && rest.starts_with(b) {
                    10.0 + b.len() as f32
                } else {
                    -((i % 7) as f32)
                }
            })
            .collect())
    }
    fn cached(&self) -> usize {
        self.len
    }
    fn save_prefix(&mut self) {}
}

fn scripted(v: &Vocab, target: &str) -> Box<Scripted> {
    let bytes = (0..v.len() as u32).map(|i| v.bytes(i).to_vec()).collect();
    Box::new(Scripted {
        vocab: Arc::new(bytes),
        target: target.as_bytes().to_vec(),
        written: Vec::new(),
        fresh: true,
        len: 0,
    })
}

#[test]
fn random_scores_never_leave_the_schema() {
    let reg = registry();
    let v = vocab();
    let n = v.len();
    let mut intents = std::collections::BTreeSet::new();
    for seed in 0..40u64 {
        let lm = LanguageModel::new(
            Box::new(RandomDecoder::new(n, seed + 1)),
            vocab(),
            Schema::from_registry(&reg, 4),
            roomy(),
        )
        .expect("model builds");
        let mut pieces = String::new();
        let g = lm
            .generate("I'm cold and the windscreen is fogging up", &mut |p| {
                pieces.push_str(p)
            })
            .expect("generation ends within the budget");
        assert_eq!(pieces, g.text, "streamed pieces add up to the output");
        check_calls(&reg, &g.text, 4).unwrap_or_else(|e| panic!("seed {seed}: {e}\n{}", g.text));
        for c in &g.calls {
            intents.insert(c.intent.clone());
        }
    }
    // Random scores wander over the catalogue, not one corner of it.
    assert!(intents.len() >= 8, "{intents:?}");
}

#[test]
fn the_mask_is_exactly_the_tokens_the_automaton_accepts() {
    let reg = registry();
    let v = vocab();
    let schema = Arc::new(Schema::from_registry(&reg, 4));
    let mut state = schema.start();
    let text = r#"[{"intent":"climate.set_temperature","slots":{"zone":"rear","value":3"#;
    for (i, b) in text.bytes().enumerate() {
        let allowed = constrain::allowed(&v, &state);
        let by_brute: Vec<u32> = (0..v.len() as u32)
            .filter(|&t| constrain::accepts(&v, &state, t))
            .collect();
        let mut sorted = allowed.clone();
        sorted.sort();
        assert_eq!(sorted, by_brute, "after {:?}", &text[..i]);
        assert!(!allowed.is_empty());
        assert!(state.step(b));
    }
    // After `"value":3` (16..30) only 30 can follow: a `0`, nothing else.
    let after = constrain::allowed(&v, &state);
    assert!(!after.is_empty());
    for t in after {
        let b = v.bytes(t);
        assert!(b.starts_with(b"0"), "{:?}", String::from_utf8_lossy(b));
    }
}

#[test]
fn a_model_that_wants_out_of_schema_calls_cannot_write_them() {
    let reg = registry();
    let v = vocab();
    for bad in [
        r#"[{"intent":"doors.explode","slots":{}}]"#,
        r#"[{"intent":"climate.set_temperature","slots":{"value":99}}]"#,
        r#"[{"intent":"climate.ac","slots":{"state":"maximum"}}]"#,
        r#"[{"intent":"climate.ac","slots":{"power":"on"}}]"#,
        r#"[{"intent":"window.open","slots":{"percent":-5}}]"#,
        r#"[{"intent":"climate.ac","slots":{}}]"#,
        r#"rm -rf /; [{"intent":"trunk.open","slots":{}}]"#,
    ] {
        let lm = LanguageModel::new(
            scripted(&v, bad),
            vocab(),
            Schema::from_registry(&reg, 4),
            roomy(),
        )
        .unwrap();
        let g = lm.generate("anything", &mut |_| {}).unwrap();
        assert_ne!(g.text, bad);
        check_calls(&reg, &g.text, 4).unwrap_or_else(|e| panic!("{bad}: {e}\n{}", g.text));
    }
    // A valid target comes out as written.
    let good = r#"[{"intent":"climate.change_temperature","slots":{"direction":"up","delta":2}},{"intent":"climate.defrost","slots":{"target":"front","state":"on"}}]"#;
    let lm = LanguageModel::new(
        scripted(&v, good),
        vocab(),
        Schema::from_registry(&reg, 4),
        roomy(),
    )
    .unwrap();
    let intents = lm
        .intents("I'm cold and the windscreen is fogging up")
        .unwrap();
    assert_eq!(
        g_names(&intents),
        ["climate.change_temperature", "climate.defrost"]
    );
    assert_eq!(intents[0].engine, "lm");
}

fn g_names(v: &[cabin_voice::nlu::Intent]) -> Vec<&str> {
    v.iter().map(|i| i.intent.as_str()).collect()
}

#[test]
fn budgets_stop_generation() {
    let reg = registry();
    let n = vocab().len();
    let lm = LanguageModel::new(
        Box::new(RandomDecoder::new(n, 7)),
        vocab(),
        Schema::from_registry(&reg, 4),
        Budget {
            max_tokens: 3,
            timeout: Duration::from_secs(10),
        },
    )
    .unwrap();
    let e = lm.generate("hello", &mut |_| {}).unwrap_err();
    assert!(matches!(e, LmError::Budget { what: "token", .. }), "{e}");
    let lm = LanguageModel::new(
        Box::new(RandomDecoder::new(n, 7)),
        vocab(),
        Schema::from_registry(&reg, 4),
        Budget {
            max_tokens: 1000,
            timeout: Duration::from_nanos(1),
        },
    )
    .unwrap();
    let e = lm.generate("hello", &mut |_| {}).unwrap_err();
    assert!(e.to_string().contains("time budget"), "{e}");
}

#[test]
fn a_plugin_added_at_run_time_is_callable_without_retraining() {
    let dir = std::env::temp_dir().join(format!("cv-lm-plugins-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("fridge")).unwrap();
    std::fs::copy(root().join("plugins/types.toml"), dir.join("types.toml")).unwrap();
    std::fs::write(
        dir.join("fridge/plugin.toml"),
        r#"
[plugin]
name = "fridge"

[types.fridge_level]
kind = "number"
min = 1
max = 5
integer = true

[[intents]]
name = "fridge.cool"
slots.level = { type = "fridge_level", required = true }
sentences.en = ["cool the fridge to {level}"]
"#,
    )
    .unwrap();
    let reg = Registry::load(&dir).unwrap();
    assert!(reg.errors.is_empty(), "{:?}", reg.errors);
    let v = vocab();
    let target = r#"[{"intent":"fridge.cool","slots":{"level":4}}]"#;
    let lm = LanguageModel::new(
        scripted(&v, target),
        vocab(),
        Schema::from_registry(&reg, 4),
        roomy(),
    )
    .unwrap();
    let g = lm.generate("my drinks are warm", &mut |_| {}).unwrap();
    assert_eq!(g.text, target);
    // Out of its range: refused by construction.
    let lm = LanguageModel::new(
        scripted(&v, r#"[{"intent":"fridge.cool","slots":{"level":9}}]"#),
        vocab(),
        Schema::from_registry(&reg, 4),
        roomy(),
    )
    .unwrap();
    let g = lm.generate("my drinks are warm", &mut |_| {}).unwrap();
    check_calls(&reg, &g.text, 4).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

fn ort_env() -> ort::environment::Environment {
    cabin_voice::onnx::environment("", &root().join("models")).unwrap_or_else(|e| {
        panic!("{e}\n(install the ONNX Runtime library with `python3 models/install.py`)")
    })
}

/// The tiny ONNX decoder with some noise on its scores: a different output per seed.
struct Noisy {
    inner: OrtDecoder,
    noise: RandomDecoder,
}

impl Decoder for Noisy {
    fn vocab_size(&self) -> usize {
        self.inner.vocab_size()
    }
    fn reset(&mut self) {
        self.inner.reset()
    }
    fn forward(&mut self, tokens: &[u32]) -> Result<Vec<f32>, LmError> {
        let mut l = self.inner.forward(tokens)?;
        for x in &mut l {
            *x += self.noise.next() * 0.3;
        }
        Ok(l)
    }
    fn cached(&self) -> usize {
        self.inner.cached()
    }
    fn save_prefix(&mut self) {
        self.inner.save_prefix()
    }
}

#[test]
fn tiny_onnx_decoder_runs_with_its_cache_and_stays_in_schema() {
    let env = ort_env();
    let reg = registry();
    // The cache grows by the tokens run, and reset returns to the saved prefix.
    let mut d = OrtDecoder::load(&fixture("tiny.onnx"), &env, 1).expect("tiny model loads");
    assert!(d.vocab_size() >= vocab().len());
    let a = d.forward(&[2, 10, 11]).unwrap();
    assert_eq!(d.cached(), 3);
    d.save_prefix();
    let b = d.forward(&[12]).unwrap();
    assert_eq!(d.cached(), 4);
    d.reset();
    assert_eq!(d.cached(), 3);
    let b2 = d.forward(&[12]).unwrap();
    assert_eq!(b, b2, "same cache, same scores");
    assert_ne!(a, b);
    for seed in 0..12u64 {
        let inner = OrtDecoder::load(&fixture("tiny.onnx"), &env, 1).unwrap();
        let lm = LanguageModel::new(
            Box::new(Noisy {
                inner,
                noise: RandomDecoder::new(1, seed + 100),
            }),
            vocab(),
            Schema::from_registry(&reg, 4),
            roomy(),
        )
        .unwrap();
        for text in [
            "调暗一点，再放点轻音乐",
            "I'm cold and the windscreen is fogging up",
        ] {
            let g = lm.generate(text, &mut |_| {}).expect("ends within budget");
            check_calls(&reg, &g.text, 4)
                .unwrap_or_else(|e| panic!("seed {seed}: {e}\n{}", g.text));
            assert!(g.tokens > 0 && g.first_token_ms >= 0.0);
        }
    }
}

#[test]
fn bad_model_files_are_one_clear_error() {
    let env = ort_env();
    let dir = std::env::temp_dir().join(format!("cv-lm-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let garbage = dir.join("model.onnx");
    std::fs::write(&garbage, b"this is not an onnx file").unwrap();
    let e = OrtDecoder::load(&garbage, &env, 1)
        .err()
        .expect("garbage refused")
        .to_string();
    assert!(
        e.contains("model.onnx") && e.contains("not a usable ONNX model"),
        "{e}"
    );
    let e = OrtDecoder::load(&dir.join("missing.onnx"), &env, 1)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("install.py --only lm"), "{e}");
    // The intent model is an ONNX file without a KV cache: refused by name.
    let e = OrtDecoder::load(&root().join("models/nlu/intent-int8.onnx"), &env, 1)
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("input_ids") || e.contains("past_key_values"),
        "{e}"
    );
    let bad_tok = dir.join("tokenizer.json");
    std::fs::write(&bad_tok, b"{}").unwrap();
    assert!(Vocab::load(&bad_tok).is_err());
    let _ = std::fs::remove_dir_all(&dir);
    let _ = Path::new("");
}

/// A model with the tuned prompt over `decoder`.
fn tuned_model(decoder: Box<dyn Decoder>, reg: &Registry) -> LanguageModel {
    use cabin_voice::lm::prompt::Style;
    LanguageModel::with_prompt(
        decoder,
        vocab(),
        Schema::from_registry(reg, 4),
        roomy(),
        Style::Tuned,
    )
    .unwrap()
}

/// A tuned model gets the request alone (no catalogue, no examples); a call it
/// repeats is done once, and the constraint still holds.
#[test]
fn a_tuned_model_answers_the_bare_request_and_repeats_count_once() {
    use cabin_voice::lm::prompt::Style;
    let reg = registry();
    let v = vocab();
    let twice = r#"[{"intent":"climate.defrost","slots":{"state":"on"}},{"intent":"climate.defrost","slots":{"state":"on"}}]"#;
    let tuned = tuned_model(scripted(&v, twice), &reg);
    let few = LanguageModel::new(
        scripted(&v, twice),
        vocab(),
        Schema::from_registry(&reg, 4),
        roomy(),
    )
    .unwrap();
    assert_eq!(tuned.style(), Style::Tuned);
    assert!(
        tuned.prefix_tokens() * 50 < few.prefix_tokens(),
        "tuned prefix {} tokens, few-shot {}",
        tuned.prefix_tokens(),
        few.prefix_tokens()
    );
    let g = tuned
        .generate("I can't see through the glass", &mut |_| {})
        .unwrap();
    assert_eq!(g.text, twice);
    let least = g.least;
    let intents = tuned.intents("I can't see through the glass").unwrap();
    assert_eq!(g_names(&intents), ["climate.defrost"]);
    // An answer with a step less sure than the threshold is not acted on.
    let strict = tuned_model(scripted(&v, twice), &reg).with_min_step_p((least + 1.0) / 2.0);
    assert!(strict
        .intents("I can't see through the glass")
        .unwrap()
        .is_empty());
    let lenient = tuned_model(scripted(&v, twice), &reg).with_min_step_p(least / 2.0);
    assert_eq!(g_names(&lenient.intents("x").unwrap()), ["climate.defrost"]);
    // Random scores under the tuned prompt stay inside the schema too.
    let n = v.len();
    for seed in 0..5u64 {
        let lm = tuned_model(Box::new(RandomDecoder::new(n, seed + 100)), &reg);
        let mut out = String::new();
        let g = lm
            .generate("brr", &mut |p| out.push_str(p))
            .unwrap_or_else(|e| panic!("seed {seed}: {e} after {out:?}"));
        check_calls(&reg, &g.text, 4).unwrap_or_else(|e| panic!("seed {seed}: {e}\n{}", g.text));
    }
}
