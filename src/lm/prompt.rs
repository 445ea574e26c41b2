//! The prompt, in one of two styles.
//!
//! * [`Style::FewShot`], for the base model as the registry ships it: the
//!   intent catalogue in one line per intent, then worked examples in English
//!   and Mandarin, then the request. A base model continues the pattern of the
//!   examples. Examples whose calls the loaded schema cannot express (a plugin
//!   missing) are left out, so the prompt never shows a call the output could
//!   not make.
//! * [`Style::Tuned`], for a model tuned on the plugins' calls at setup time
//!   (`models/lm/tune.py`): the request alone. The export says so in its
//!   `genai_config.json` (`"cabin_voice": {"prompt": "tuned"}`).
//!
//! Either way the constraint keeps every byte inside the schema.

use super::schema::{Automaton, Kind, Schema};
use std::path::Path;
use std::sync::Arc;

/// How the model is prompted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Catalogue and worked examples before the request (base model).
    FewShot,
    /// The request alone (a model tuned on the calls).
    Tuned,
}

impl Style {
    /// The style `[lm] prompt` asks for: `few-shot`, `tuned`, or `auto` (what
    /// the export's `genai_config.json` next to `model` declares; few-shot if
    /// it declares nothing).
    pub fn resolve(setting: &str, model: &Path) -> Result<Style, String> {
        match setting {
            "few-shot" => Ok(Style::FewShot),
            "tuned" => Ok(Style::Tuned),
            "auto" => Ok(Style::declared(model)),
            other => Err(format!(
                "lm.prompt: unknown style {other:?} (auto, few-shot or tuned)"
            )),
        }
    }

    /// What `genai_config.json` next to `model` declares.
    pub fn declared(model: &Path) -> Style {
        let cfg = model.with_file_name("genai_config.json");
        let declared = std::fs::read_to_string(cfg)
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .and_then(|v| v["cabin_voice"]["prompt"].as_str().map(str::to_string));
        match declared.as_deref() {
            Some("tuned") => Style::Tuned,
            _ => Style::FewShot,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Style::FewShot => "few-shot",
            Style::Tuned => "tuned",
        }
    }
}

/// Worked examples: (request, calls).
const EXAMPLES: &[(&str, &str)] = &[
    (
        "turn on the air conditioning",
        r#"[{"intent":"climate.ac","slots":{"state":"on"}}]"#,
    ),
    (
        "把空调关了",
        r#"[{"intent":"climate.ac","slots":{"state":"off"}}]"#,
    ),
    (
        "it's way too hot in here",
        r#"[{"intent":"climate.change_temperature","slots":{"direction":"down","delta":2}}]"#,
    ),
    (
        "我好冷啊",
        r#"[{"intent":"climate.change_temperature","slots":{"direction":"up","delta":2}}]"#,
    ),
    (
        "set the passenger side to 22 degrees and close all the windows",
        r#"[{"intent":"climate.set_temperature","slots":{"zone":"passenger","value":22}},{"intent":"window.close","slots":{"position":"all"}}]"#,
    ),
    (
        "有点闷，把窗户打开一点",
        r#"[{"intent":"window.open","slots":{"position":"driver","percent":30}}]"#,
    ),
    (
        "the front glass is all misty",
        r#"[{"intent":"climate.defrost","slots":{"target":"front","state":"on"}}]"#,
    ),
    (
        "后窗看不清了",
        r#"[{"intent":"climate.defrost","slots":{"target":"rear","state":"on"}}]"#,
    ),
    (
        "put on some jazz",
        r#"[{"intent":"media.play","slots":{"query":"jazz"}}]"#,
    ),
    (
        "来点摇滚乐",
        r#"[{"intent":"media.play","slots":{"query":"摇滚乐"}}]"#,
    ),
    ("stop the music", r#"[{"intent":"media.pause","slots":{}}]"#),
    (
        "声音大一点，然后下一首",
        r#"[{"intent":"media.change_volume","slots":{"direction":"up"}},{"intent":"media.next","slots":{}}]"#,
    ),
    (
        "给张伟打电话",
        r#"[{"intent":"phone.call","slots":{"contact":"张伟"}}]"#,
    ),
    (
        "the battery is almost empty, find somewhere to charge",
        r#"[{"intent":"nav.find_poi","slots":{"category":"charging_station"}}]"#,
    ),
    (
        "带我去机场",
        r#"[{"intent":"nav.navigate","slots":{"destination":"机场"}}]"#,
    ),
    (
        "make the cabin lights purple and a bit brighter",
        r#"[{"intent":"lights.ambient","slots":{"color":"purple","brightness":80}}]"#,
    ),
    (
        "灯光暗一些",
        r#"[{"intent":"lights.ambient","slots":{"brightness":30}}]"#,
    ),
    (
        "my back is cold, and it's raining",
        r#"[{"intent":"seat.heat","slots":{"seat":"driver","level":2}},{"intent":"wipers.set","slots":{"state":"on"}}]"#,
    ),
    ("tell me a joke", r#"[{"intent":"none","slots":{}}]"#),
    ("今天星期几", r#"[{"intent":"none","slots":{}}]"#),
];

/// The prompt up to (not including) the request: computed once, its KV cache
/// kept. Empty for a tuned model (the tokenizer still adds `<bos>`).
pub fn prefix(schema: &Arc<Schema>, style: Style) -> String {
    match style {
        Style::FewShot => few_shot(schema),
        Style::Tuned => String::new(),
    }
}

fn few_shot(schema: &Arc<Schema>) -> String {
    let mut s = String::from(
        "A car assistant turns each request into calls (JSON). Available calls, \
         slots marked * are required:\n",
    );
    for it in &schema.intents {
        if it.name == "none" {
            continue;
        }
        s.push_str(&it.name);
        s.push('(');
        for (i, slot) in it.slots.iter().enumerate() {
            if i > 0 {
                s.push_str(", ");
            }
            s.push_str(&slot.name);
            if slot.required {
                s.push('*');
            }
            s.push('=');
            match &slot.kind {
                Kind::Enum(values) => s.push_str(&values.join("|")),
                Kind::Number { min, max, .. } => s.push_str(&format!("{min}..{max}")),
                Kind::Text => s.push_str("text"),
                Kind::Digits => s.push_str("digits"),
            }
        }
        s.push_str(")\n");
    }
    s.push_str("none() for anything else.\n\n");
    for (req, calls) in EXAMPLES {
        if fits(schema, calls) {
            s.push_str(&format!("Request: {req}\nCalls:\n{calls}\n\n"));
        }
    }
    s
}

/// The request part: the model continues right after it with `[`.
pub fn request(text: &str) -> String {
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    format!("Request: {}\nCalls:\n", one_line.trim())
}

fn fits(schema: &Arc<Schema>, calls: &str) -> bool {
    let mut a: Automaton = schema.start();
    a.feed(calls.as_bytes()) && a.is_done()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A folder with `genai_config.json`; removed when dropped.
    struct Export(std::path::PathBuf);

    impl Drop for Export {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn export_with(config: &str) -> (Export, std::path::PathBuf) {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "cabin-voice-prompt-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("genai_config.json"), config).unwrap();
        let model = dir.join("model.onnx");
        (Export(dir), model)
    }

    #[test]
    fn the_export_declares_a_tuned_model() {
        let (_d, model) =
            export_with(r#"{"model":{"type":"gemma3_text"},"cabin_voice":{"prompt":"tuned"}}"#);
        assert_eq!(Style::declared(&model), Style::Tuned);
        assert_eq!(Style::resolve("auto", &model), Ok(Style::Tuned));
        assert_eq!(Style::resolve("few-shot", &model), Ok(Style::FewShot));
        let (_d, plain) = export_with(r#"{"model":{"type":"gemma3_text"}}"#);
        assert_eq!(Style::resolve("auto", &plain), Ok(Style::FewShot));
        let (_d, broken) = export_with("{not json");
        assert_eq!(Style::declared(&broken), Style::FewShot);
        let e = Style::resolve("chatty", &plain).unwrap_err();
        assert!(e.contains("lm.prompt") && e.contains("chatty"), "{e}");
    }

    #[test]
    fn a_tuned_model_gets_the_request_alone() {
        let schema = Arc::new(Schema::new(Vec::new(), 2));
        assert_eq!(prefix(&schema, Style::Tuned), "");
        let few = prefix(&schema, Style::FewShot);
        assert!(few.starts_with("A car assistant"), "{few}");
        assert_eq!(
            request(" brr\nfreezing "),
            "Request: brr freezing\nCalls:\n"
        );
    }
}
