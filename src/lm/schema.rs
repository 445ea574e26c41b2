//! The call schema of the loaded plugins, and the byte-level automaton that
//! accepts exactly the JSON lists of calls it allows.
//!
//! Output language (compact JSON, no whitespace outside strings):
//!
//! ```text
//! [{"intent":"climate.ac","slots":{"state":"on"}},{"intent":...}]
//! ```
//!
//! Intent names, slot names, enum values and number ranges come from the
//! plugin manifests, so a new plugin is usable as soon as it loads. Required
//! slots (required and without a default) must be present before a call may
//! close; each slot appears at most once. The automaton is a small state plus
//! cursors into shared, sorted choice lists: cloning it is cheap, which is what
//! the token search in [`super::constrain`] does at every vocabulary branch.

use crate::plugin::manifest::SlotType;
use crate::plugin::Registry;
use std::sync::Arc;

/// Longest free-text slot value (bytes), and digit strings.
pub const MAX_TEXT: usize = 48;
pub const MAX_DIGITS: usize = 20;

/// A slot value kind, as far as the automaton cares.
#[derive(Debug, Clone)]
pub enum Kind {
    /// One of these values (rendered as JSON strings).
    Enum(Vec<String>),
    /// A number in `[min, max]`; `decimals` digits after the point at most.
    Number { min: f64, max: f64, decimals: u8 },
    /// Free text (no quotes, backslashes or control characters).
    Text,
    /// A string of ASCII digits.
    Digits,
}

/// One slot of an intent.
#[derive(Debug, Clone)]
pub struct SlotSpec {
    pub name: String,
    pub kind: Kind,
    /// Must be present (required and no default).
    pub required: bool,
    pub description: Option<String>,
}

/// One intent a call may name.
#[derive(Debug, Clone)]
pub struct IntentSpec {
    pub name: String,
    pub description: Option<String>,
    pub slots: Vec<SlotSpec>,
}

/// A sorted, prefix-free list of byte strings, each with what follows it.
#[derive(Debug)]
struct Choices {
    items: Vec<(Box<[u8]>, Next)>,
}

impl Choices {
    fn new(mut items: Vec<(Vec<u8>, Next)>) -> Arc<Choices> {
        items.sort_by(|a, b| a.0.cmp(&b.0));
        items.dedup_by(|a, b| a.0 == b.0);
        Arc::new(Choices {
            items: items
                .into_iter()
                .map(|(s, n)| (s.into_boxed_slice(), n))
                .collect(),
        })
    }
}

/// What a completed choice leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Next {
    /// `[{"intent":"` or `,{"intent":"`: an intent name follows.
    Call,
    /// `name","slots":{`: the slots of intent i follow.
    Intent(usize),
    /// `"slot":`: the value of slot j of the current intent follows.
    Slot(usize),
    /// An enum value with its quotes: a separator follows.
    Value,
    /// `,` between slots: a slot name follows.
    Comma,
    /// `}}`: the call is closed.
    CloseCall,
    /// `]`: the list is closed.
    End,
}

/// The schema: every intent of the registry with its slots.
#[derive(Debug)]
pub struct Schema {
    pub intents: Vec<IntentSpec>,
    /// Most calls in one list.
    pub max_calls: usize,
    start: Arc<Choices>,
    intent_names: Arc<Choices>,
    call_end_more: Arc<Choices>,
    call_end_last: Arc<Choices>,
}

impl Schema {
    /// The schema of every intent served by a loaded plugin (the `dialog`
    /// intents excepted: confirmations are not open requests).
    pub fn from_registry(reg: &Registry, max_calls: usize) -> Schema {
        let mut intents = Vec::new();
        for p in &reg.plugins {
            for def in &p.manifest.intents {
                if def.name.starts_with("dialog.") {
                    continue;
                }
                let mut slots = Vec::new();
                for (sname, sdef) in &def.slots {
                    let Some(ty) = p.types.get(&sdef.ty) else {
                        continue;
                    };
                    let kind = match ty {
                        SlotType::Enum { values, .. } => {
                            Kind::Enum(values.keys().cloned().collect())
                        }
                        SlotType::Number {
                            min, max, integer, ..
                        } => Kind::Number {
                            min: *min,
                            max: *max,
                            decimals: if *integer { 0 } else { 1 },
                        },
                        SlotType::Text { .. } => Kind::Text,
                        SlotType::Digits { .. } => Kind::Digits,
                    };
                    slots.push(SlotSpec {
                        name: sname.clone(),
                        kind,
                        required: sdef.required && sdef.default.is_none(),
                        description: sdef.description.clone(),
                    });
                }
                intents.push(IntentSpec {
                    name: def.name.clone(),
                    description: def.description.clone(),
                    slots,
                });
            }
        }
        // "none": the request is not something the plugins do.
        intents.push(IntentSpec {
            name: "none".into(),
            description: Some("nothing the plugins can do".into()),
            slots: Vec::new(),
        });
        Schema::new(intents, max_calls)
    }

    /// A schema of the given intents.
    pub fn new(intents: Vec<IntentSpec>, max_calls: usize) -> Schema {
        let max_calls = max_calls.max(1);
        let start = Choices::new(vec![(br#"[{"intent":""#.to_vec(), Next::Call)]);
        let intent_names = Choices::new(
            intents
                .iter()
                .enumerate()
                .map(|(i, it)| {
                    (
                        format!(r#"{}","slots":{{"#, it.name).into_bytes(),
                        Next::Intent(i),
                    )
                })
                .collect(),
        );
        let call_end_more = Choices::new(vec![
            (br#",{"intent":""#.to_vec(), Next::Call),
            (b"]".to_vec(), Next::End),
        ]);
        let call_end_last = Choices::new(vec![(b"]".to_vec(), Next::End)]);
        Schema {
            intents,
            max_calls,
            start,
            intent_names,
            call_end_more,
            call_end_last,
        }
    }

    /// The automaton at the start of the output.
    pub fn start(self: &Arc<Self>) -> Automaton {
        Automaton {
            schema: Arc::clone(self),
            mode: Mode::Choice(Cursor::new(Arc::clone(&self.start))),
            intent: 0,
            used: 0,
            slot: 0,
            calls: 0,
        }
    }

    fn slot_keys(&self, intent: usize, used: u64, allow_close: bool) -> Arc<Choices> {
        let spec = &self.intents[intent];
        let mut items: Vec<(Vec<u8>, Next)> = spec
            .slots
            .iter()
            .enumerate()
            .filter(|(j, _)| used & (1 << j) == 0)
            .map(|(j, s)| (format!(r#""{}":"#, s.name).into_bytes(), Next::Slot(j)))
            .collect();
        if allow_close && self.required_done(intent, used) {
            items.push((b"}}".to_vec(), Next::CloseCall));
        }
        Choices::new(items)
    }

    fn separators(&self, intent: usize, used: u64) -> Arc<Choices> {
        let spec = &self.intents[intent];
        let mut items = Vec::new();
        if (0..spec.slots.len()).any(|j| used & (1 << j) == 0) {
            items.push((b",".to_vec(), Next::Comma));
        }
        if self.required_done(intent, used) {
            items.push((b"}}".to_vec(), Next::CloseCall));
        }
        Choices::new(items)
    }

    fn required_done(&self, intent: usize, used: u64) -> bool {
        self.intents[intent]
            .slots
            .iter()
            .enumerate()
            .all(|(j, s)| !s.required || used & (1 << j) != 0)
    }
}

/// A position in a choice list: the items in `lo..hi` share the `depth` bytes read.
#[derive(Debug, Clone)]
struct Cursor {
    set: Arc<Choices>,
    lo: u32,
    hi: u32,
    depth: u32,
}

impl Cursor {
    fn new(set: Arc<Choices>) -> Cursor {
        let hi = set.items.len() as u32;
        Cursor {
            set,
            lo: 0,
            hi,
            depth: 0,
        }
    }

    /// Reads one byte: `None` if no item continues so, `Some(Some(next))` when
    /// an item is complete, `Some(None)` when more bytes are needed.
    fn step(&mut self, b: u8) -> Option<Option<Next>> {
        let d = self.depth as usize;
        let items = &self.set.items[self.lo as usize..self.hi as usize];
        // Items in range share the first d bytes and are longer than d (prefix-free).
        let lo = items.partition_point(|(s, _)| s[d] < b);
        let hi = items.partition_point(|(s, _)| s[d] <= b);
        if lo == hi {
            return None;
        }
        self.hi = self.lo + hi as u32;
        self.lo += lo as u32;
        self.depth += 1;
        let (s, next) = &self.set.items[self.lo as usize];
        if s.len() == self.depth as usize {
            Some(Some(*next))
        } else {
            Some(None)
        }
    }
}

#[derive(Debug, Clone)]
enum Mode {
    Choice(Cursor),
    /// A number being read (bytes so far, at most 16).
    Number {
        buf: [u8; 16],
        len: u8,
    },
    /// A string value: `open` once its opening quote is read.
    /// `need` continuation bytes of a UTF-8 sequence are still due, the next
    /// one in `lo..=hi`.
    Text {
        open: bool,
        len: u16,
        digits: bool,
        need: u8,
        lo: u8,
        hi: u8,
    },
    /// The list is closed.
    Done,
}

/// The automaton: reads output bytes, refusing any that cannot lead to a
/// valid list of calls.
#[derive(Debug, Clone)]
pub struct Automaton {
    schema: Arc<Schema>,
    mode: Mode,
    intent: usize,
    used: u64,
    slot: usize,
    calls: usize,
}

impl Automaton {
    /// True once the closing `]` is read.
    pub fn is_done(&self) -> bool {
        matches!(self.mode, Mode::Done)
    }

    /// Reads `bytes`; false (and an unspecified state) if they leave the language.
    pub fn feed(&mut self, bytes: &[u8]) -> bool {
        bytes.iter().all(|&b| self.step(b))
    }

    /// Reads one byte; false if it leaves the language.
    pub fn step(&mut self, b: u8) -> bool {
        match &mut self.mode {
            Mode::Done => false,
            Mode::Choice(c) => match c.step(b) {
                None => false,
                Some(None) => true,
                Some(Some(next)) => {
                    self.follow(next);
                    true
                }
            },
            Mode::Number { buf, len } => {
                let Kind::Number { min, max, decimals } =
                    self.schema.intents[self.intent].slots[self.slot].kind
                else {
                    return false;
                };
                let n = *len as usize;
                if b.is_ascii_digit() || b == b'.' {
                    if n >= buf.len() {
                        return false;
                    }
                    buf[n] = b;
                    if number_prefix_ok(&buf[..=n], min, max, decimals) {
                        *len += 1;
                        true
                    } else {
                        false
                    }
                } else if number_complete_ok(&buf[..n], min, max) {
                    self.value_done();
                    self.step(b)
                } else {
                    false
                }
            }
            Mode::Text {
                open,
                len,
                digits,
                need,
                lo,
                hi,
            } => {
                if !*open {
                    if b == b'"' {
                        *open = true;
                        return true;
                    }
                    return false;
                }
                if *need > 0 {
                    if b < *lo || b > *hi {
                        return false;
                    }
                    *need -= 1;
                    (*lo, *hi) = (0x80, 0xBF);
                    *len += 1;
                    return true;
                }
                if b == b'"' {
                    if *len == 0 {
                        return false; // an empty value says nothing
                    }
                    self.value_done();
                    return true;
                }
                let limit = if *digits { MAX_DIGITS } else { MAX_TEXT };
                // Bytes this character takes, and the range of its second byte.
                let (width, second) = match b {
                    b'0'..=b'9' => (1, (0, 0)),
                    _ if *digits => return false,
                    0x20..=0x7e if b != b'\\' => (1, (0, 0)),
                    0xC2..=0xDF => (2, (0x80, 0xBF)),
                    0xE0 => (3, (0xA0, 0xBF)),
                    0xE1..=0xEC | 0xEE..=0xEF => (3, (0x80, 0xBF)),
                    0xED => (3, (0x80, 0x9F)),
                    0xF0 => (4, (0x90, 0xBF)),
                    0xF1..=0xF3 => (4, (0x80, 0xBF)),
                    0xF4 => (4, (0x80, 0x8F)),
                    _ => return false,
                };
                if *len as usize + width > limit {
                    return false;
                }
                *len += 1;
                *need = width as u8 - 1;
                (*lo, *hi) = second;
                true
            }
        }
    }

    fn value_done(&mut self) {
        self.mode = Mode::Choice(Cursor::new(self.schema.separators(self.intent, self.used)));
    }

    fn follow(&mut self, next: Next) {
        let s = Arc::clone(&self.schema);
        self.mode = match next {
            Next::Call => Mode::Choice(Cursor::new(Arc::clone(&s.intent_names))),
            Next::Intent(i) => {
                self.intent = i;
                self.used = 0;
                Mode::Choice(Cursor::new(s.slot_keys(i, 0, true)))
            }
            Next::Slot(j) => {
                self.slot = j;
                self.used |= 1 << j;
                match &s.intents[self.intent].slots[j].kind {
                    Kind::Enum(values) => Mode::Choice(Cursor::new(Choices::new(
                        values
                            .iter()
                            .map(|v| (format!("\"{v}\"").into_bytes(), Next::Value))
                            .collect(),
                    ))),
                    Kind::Number { .. } => Mode::Number {
                        buf: [0; 16],
                        len: 0,
                    },
                    Kind::Text => Mode::Text {
                        open: false,
                        len: 0,
                        digits: false,
                        need: 0,
                        lo: 0,
                        hi: 0,
                    },
                    Kind::Digits => Mode::Text {
                        open: false,
                        len: 0,
                        digits: true,
                        need: 0,
                        lo: 0,
                        hi: 0,
                    },
                }
            }
            Next::Value => Mode::Choice(Cursor::new(s.separators(self.intent, self.used))),
            Next::Comma => Mode::Choice(Cursor::new(s.slot_keys(self.intent, self.used, false))),
            Next::CloseCall => {
                self.calls += 1;
                if self.calls < s.max_calls {
                    Mode::Choice(Cursor::new(Arc::clone(&s.call_end_more)))
                } else {
                    Mode::Choice(Cursor::new(Arc::clone(&s.call_end_last)))
                }
            }
            Next::End => Mode::Done,
        };
    }
}

/// Could more bytes turn `s` (digits and at most one point) into a number in range?
fn number_prefix_ok(s: &[u8], min: f64, max: f64, decimals: u8) -> bool {
    let Ok(text) = std::str::from_utf8(s) else {
        return false;
    };
    let (int, frac) = match text.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (text, None),
    };
    if int.is_empty() || frac.is_some_and(|f| f.contains('.')) {
        return false;
    }
    if int.len() > 1 && int.starts_with('0') {
        return false; // no leading zeros
    }
    let Ok(iv) = int.parse::<f64>() else {
        return false;
    };
    match frac {
        Some(f) => {
            if decimals == 0 || f.len() > decimals as usize {
                return false;
            }
            // Reachable: iv.f itself up to iv.f followed by nines, to `decimals` places.
            let k = 10f64.powi(f.len() as i32);
            let fv = if f.is_empty() {
                0.0
            } else {
                f.parse::<f64>().unwrap_or(0.0)
            };
            let lo = iv + fv / k;
            let hi = lo + (1.0 / k - 1.0 / 10f64.powi(decimals as i32));
            lo <= max + 1e-9 && hi >= min - 1e-9
        }
        None => {
            // iv itself, or iv followed by m more digits, then at most
            // `decimals` places: the largest fraction is 0.9…9.
            let top = 1.0 - 1.0 / 10f64.powi(decimals as i32);
            if iv == 0.0 {
                return min <= top + 1e-9 && max >= -1e-9;
            }
            let mut scale = 1.0;
            for _ in 0..12 {
                let lo = iv * scale;
                let hi = (iv + 1.0) * scale - 1.0 + top;
                if lo > max + 1e-9 {
                    return false;
                }
                if hi >= min - 1e-9 {
                    return true;
                }
                scale *= 10.0;
            }
            false
        }
    }
}

/// Is `s` a finished number in range?
fn number_complete_ok(s: &[u8], min: f64, max: f64) -> bool {
    let Ok(text) = std::str::from_utf8(s) else {
        return false;
    };
    if text.is_empty() || text.ends_with('.') {
        return false;
    }
    text.parse::<f64>()
        .is_ok_and(|v| v >= min - 1e-9 && v <= max + 1e-9)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Arc<Schema> {
        Arc::new(Schema::new(
            vec![
                IntentSpec {
                    name: "climate.ac".into(),
                    description: None,
                    slots: vec![SlotSpec {
                        name: "state".into(),
                        kind: Kind::Enum(vec!["on".into(), "off".into()]),
                        required: true,
                        description: None,
                    }],
                },
                IntentSpec {
                    name: "climate.set_temperature".into(),
                    description: None,
                    slots: vec![
                        SlotSpec {
                            name: "value".into(),
                            kind: Kind::Number {
                                min: 16.0,
                                max: 30.0,
                                decimals: 1,
                            },
                            required: true,
                            description: None,
                        },
                        SlotSpec {
                            name: "zone".into(),
                            kind: Kind::Enum(vec!["driver".into(), "passenger".into()]),
                            required: false,
                            description: None,
                        },
                    ],
                },
                IntentSpec {
                    name: "navigation.go".into(),
                    description: None,
                    slots: vec![SlotSpec {
                        name: "destination".into(),
                        kind: Kind::Text,
                        required: true,
                        description: None,
                    }],
                },
                IntentSpec {
                    name: "media.pause".into(),
                    description: None,
                    slots: vec![],
                },
            ],
            3,
        ))
    }

    fn accepts(s: &str) -> bool {
        let mut a = schema().start();
        a.feed(s.as_bytes()) && a.is_done()
    }

    #[test]
    fn accepts_valid_lists() {
        assert!(accepts(
            r#"[{"intent":"climate.ac","slots":{"state":"on"}}]"#
        ));
        assert!(accepts(r#"[{"intent":"media.pause","slots":{}}]"#));
        assert!(accepts(
            r#"[{"intent":"climate.set_temperature","slots":{"zone":"passenger","value":21.5}},{"intent":"climate.ac","slots":{"state":"off"}}]"#
        ));
        assert!(accepts(
            r#"[{"intent":"climate.set_temperature","slots":{"value":30}}]"#
        ));
        assert!(accepts(
            r#"[{"intent":"navigation.go","slots":{"destination":"北京 airport"}}]"#
        ));
        for s in [
            r#"[{"intent":"climate.ac","slots":{"state":"on"}}]"#,
            r#"[{"intent":"media.pause","slots":{}}]"#,
        ] {
            let parsed: serde_json::Value = serde_json::from_str(s).unwrap();
            assert!(parsed.is_array());
        }
    }

    #[test]
    fn refuses_anything_outside_the_schema() {
        for s in [
            r#"[{"intent":"climate.heat","slots":{}}]"#, // unknown intent
            r#"[{"intent":"climate.ac","slots":{}}]"#,   // required slot missing
            r#"[{"intent":"climate.ac","slots":{"state":"up"}}]"#, // bad enum value
            r#"[{"intent":"climate.ac","slots":{"state":"on","state":"off"}}]"#, // twice
            r#"[{"intent":"climate.ac","slots":{"mode":"on"}}]"#, // unknown slot
            r#"[{"intent":"climate.set_temperature","slots":{"value":31}}]"#, // range
            r#"[{"intent":"climate.set_temperature","slots":{"value":15.5}}]"#,
            r#"[{"intent":"climate.set_temperature","slots":{"value":021}}]"#,
            r#"[{"intent":"climate.set_temperature","slots":{"value":20.25}}]"#,
            r#"[{"intent":"climate.set_temperature","slots":{"value":20.}}]"#,
            r#"[{"intent":"navigation.go","slots":{"destination":""}}]"#,
            r#"[{"intent":"navigation.go","slots":{"destination":"a\"b"}}]"#,
            r#" [{"intent":"media.pause","slots":{}}]"#, // whitespace
            r#"[]"#,
        ] {
            assert!(!accepts(s), "accepted {s}");
        }
        // At most max_calls calls.
        let one = r#"{"intent":"media.pause","slots":{}}"#;
        assert!(accepts(&format!("[{one},{one},{one}]")));
        assert!(!accepts(&format!("[{one},{one},{one},{one}]")));
    }

    #[test]
    fn number_prefixes() {
        assert!(number_prefix_ok(b"1", 16.0, 30.0, 1));
        assert!(number_prefix_ok(b"2", 16.0, 30.0, 1));
        assert!(!number_prefix_ok(b"4", 16.0, 30.0, 1));
        assert!(number_prefix_ok(b"30", 16.0, 30.0, 1));
        assert!(!number_prefix_ok(b"300", 16.0, 30.0, 1));
        assert!(number_prefix_ok(b"30.", 16.0, 30.0, 1));
        assert!(number_prefix_ok(b"30.0", 16.0, 30.0, 1));
        assert!(!number_prefix_ok(b"30.5", 16.0, 30.0, 1));
        assert!(number_prefix_ok(b"0", 0.0, 100.0, 0));
        assert!(!number_prefix_ok(b"0.", 0.0, 100.0, 0));
        assert!(number_prefix_ok(b"100", 0.0, 100.0, 0));
        assert!(!number_prefix_ok(b"101", 0.0, 100.0, 0));
        assert!(number_prefix_ok(b"0.", 0.5, 10.0, 1));
        assert!(number_prefix_ok(b"0.5", 0.5, 10.0, 1));
        assert!(!number_prefix_ok(b"0.4", 0.5, 10.0, 1));
        assert!(number_prefix_ok(b"1", 1.0, 10.0, 0));
        assert!(number_prefix_ok(b"10", 1.0, 10.0, 0));
        assert!(!number_prefix_ok(b"11", 1.0, 10.0, 0));
        assert!(number_prefix_ok(b"2", 0.1, 2000.0, 1));
        assert!(number_prefix_ok(b"2000", 0.1, 2000.0, 1));
        assert!(!number_prefix_ok(b"2001", 0.1, 2000.0, 1));
        assert!(!number_prefix_ok(b"0", 16.0, 30.0, 1));
        // Nothing after "0" or "0." reaches 1 with one decimal: a dead end.
        assert!(!number_prefix_ok(b"0", 1.0, 100.0, 1));
        assert!(!number_prefix_ok(b"0.", 1.0, 100.0, 1));
        assert!(number_prefix_ok(b"0", 0.9, 100.0, 1));
        assert!(number_prefix_ok(b"0.9", 0.9, 100.0, 1));
        assert!(!number_prefix_ok(b"9.", 10.0, 100.0, 1));
        assert!(number_prefix_ok(b"9", 10.0, 100.0, 1));
        assert!(!number_prefix_ok(b"100.", 16.0, 100.0, 0));
    }

    /// Every prefix the automaton accepts can still be finished: walking the
    /// number ranges of the real manifests byte by byte never strands it.
    #[test]
    fn accepted_number_prefixes_can_always_be_finished() {
        let ranges = [
            (1.0, 100.0, 1),
            (0.5, 10.0, 1),
            (16.0, 30.0, 1),
            (0.1, 2000.0, 1),
            (0.0, 3.0, 0),
        ];
        for (min, max, d) in ranges {
            let mut frontier = vec![Vec::<u8>::new()];
            for _ in 0..6 {
                let mut next = Vec::new();
                for p in &frontier {
                    for b in b"0123456789.".iter() {
                        let mut q = p.clone();
                        q.push(*b);
                        if number_prefix_ok(&q, min, max, d) {
                            next.push(q);
                        }
                    }
                }
                for q in &next {
                    let finishable = number_complete_ok(q, min, max)
                        || b"0123456789.".iter().any(|b| {
                            let mut r = q.clone();
                            r.push(*b);
                            number_prefix_ok(&r, min, max, d)
                        });
                    assert!(
                        finishable,
                        "{:?} strands [{min}, {max}]",
                        String::from_utf8_lossy(q)
                    );
                }
                frontier = next;
            }
        }
    }
}
