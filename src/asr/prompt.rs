//! Domain prompts for the recogniser: one example sentence per intent, rendered
//! from the loaded plugins' sentences, so decoding favours in-car vocabulary (and
//! simplified Chinese characters). Built once at start.

use crate::nlu::normalize::join;
use crate::nlu::template::{self, Tpl};
use crate::plugin::{IntentDef, Registry, SlotType};
use std::collections::BTreeMap;

/// Most characters of a prompt; whisper's prompt window is half its text context.
const MAX_PROMPT_CHARS: usize = 200;

/// A prompt for `lang` (`en` or `zh`), empty when no plugin has sentences.
pub fn domain_prompt(reg: &Registry, lang: &str) -> String {
    let sep = if lang == "zh" { "，" } else { ", " };
    let mut out = String::new();
    for p in &reg.plugins {
        for intent in &p.manifest.intents {
            let Some(first) = intent.sentences.get(lang).and_then(|s| s.first()) else {
                continue;
            };
            let Ok(tpl) = template::parse(first) else {
                continue;
            };
            let mut units = Vec::new();
            render(&tpl, intent, &p.types, lang, &mut units);
            let s = join(&units);
            if s.is_empty() || out.chars().count() + s.chars().count() > MAX_PROMPT_CHARS {
                continue;
            }
            if !out.is_empty() {
                out.push_str(sep);
            }
            out.push_str(&s);
        }
    }
    if !out.is_empty() {
        out.push_str(if lang == "zh" { "。" } else { "." });
    }
    out
}

/// The first alternative of everything, optionals left out, slots as examples.
fn render(
    t: &Tpl,
    intent: &IntentDef,
    types: &BTreeMap<String, SlotType>,
    lang: &str,
    out: &mut Vec<String>,
) {
    match t {
        Tpl::Lit(u) => out.push(u.clone()),
        Tpl::Seq(v) => v.iter().for_each(|c| render(c, intent, types, lang, out)),
        Tpl::Alt(v) => {
            if let Some(c) = v.first() {
                render(c, intent, types, lang, out)
            }
        }
        Tpl::Opt(_) | Tpl::Fixed(..) => {}
        Tpl::Slot(name) => {
            let ty = intent.slots.get(name).and_then(|d| types.get(&d.ty));
            let example = match ty {
                Some(SlotType::Enum { values, .. }) => values
                    .values()
                    .find_map(|v| v.synonyms(lang).first().cloned())
                    .unwrap_or_default(),
                Some(SlotType::Number { .. }) if lang == "zh" => "二十二".into(),
                Some(SlotType::Number { .. }) => "twenty two".into(),
                _ => String::new(),
            };
            if let Ok(tpl) = template::parse(&example) {
                let mut inner = Vec::new();
                render(&tpl, intent, types, lang, &mut inner);
                out.extend(inner);
            }
        }
    }
}
