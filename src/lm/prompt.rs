//! The few-shot prompt: the intent catalogue in one line per intent, then
//! worked examples in English and Mandarin, then the request.
//!
//! The model is a base (not instruction-tuned) model: it continues the pattern
//! of the examples, and the constraint keeps every byte inside the schema.
//! Examples whose calls the loaded schema cannot express (a plugin missing)
//! are left out, so the prompt never shows a call the output could not make.

use super::schema::{Automaton, Kind, Schema};
use std::sync::Arc;

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

/// The prompt up to (not including) the request: computed once, its KV cache kept.
pub fn prefix(schema: &Arc<Schema>) -> String {
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
