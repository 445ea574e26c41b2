//! Slot spotting for the intent model: once the model has named the intent, the
//! slots are looked for anywhere in the utterance, conservatively.
//!
//! - Enumerations: the plugin's synonyms (per language) and the training script's
//!   cue lexicon (`labels.json`: n-grams that, within one intent, always came with
//!   one value, e.g. `off` -> `level = 0` for `seat.heat`, `太 热` -> `down`), longest
//!   match first. A synonym that the lexicon marks as ambiguous within the intent
//!   (`热` is "warmer" in 调热 but "too hot" in 好热) is not used; two different
//!   values of the same length leave the slot empty.
//! - Numbers: [`numbers::parse_at`] at every position not taken by an enumeration,
//!   with the slot type's percent / max / min / integer rules of the grammar.
//! - Digit strings (phone numbers): the longest digit reading.
//! - Free text (destination, contact, query): only after a clear trigger
//!   ("navigate to", "take me to", "call", "play", 导航去, 打电话给, 给…打电话, 播放, ...).
//! - A slot the intent's sentences set to `all` for plurals ("close the windows",
//!   "把窗户都关上") becomes `all` when a plural cue is heard and no position was.
//!
//! Only what was said is emitted (no defaults). When a required slot is missing,
//! or an intent made only of free-text / digit slots has none, the answer is
//! `None`: the model does not guess.

use super::normalize;
use super::numbers::{self, NumKind};
use super::template::{self, Tpl};
use super::SlotValue;
use crate::plugin::{Registry, SlotType};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap, HashSet};

/// The cue lexicon of `labels.json`: intent -> slot -> language -> entry.
pub type Lexicon = HashMap<String, HashMap<String, HashMap<String, LexEntry>>>;

/// Cues of one slot in one language.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct LexEntry {
    /// `[["unit unit", value], ...]`: units joined by one space; value string or number.
    #[serde(default)]
    pub cues: Vec<(String, serde_json::Value)>,
    /// Synonyms (units joined by one space) that are not reliable within the intent.
    #[serde(default)]
    pub ambiguous: Vec<String>,
}

type Phrase = (Vec<String>, SlotValue);

#[derive(Debug)]
enum Kind {
    Enum,
    Number {
        min: f64,
        max: f64,
        integer: bool,
        percent: bool,
    },
    Digits,
    Text,
}

#[derive(Debug)]
struct SlotSpec {
    name: String,
    kind: Kind,
    required: bool,
    /// Per language (0 = en, 1 = zh).
    synonyms: [Vec<Phrase>; 2],
    cues: [Vec<Phrase>; 2],
    cue_index: [HashMap<Vec<String>, SlotValue>; 2],
    ambiguous: [HashSet<Vec<String>>; 2],
    plural_all: bool,
}

#[derive(Debug)]
struct IntentSpec {
    slots: Vec<SlotSpec>,
}

/// Finds the slots of a predicted intent in an utterance.
#[derive(Debug, Default)]
pub struct Spotter {
    intents: HashMap<String, IntentSpec>,
}

fn lang_index(lang: &str) -> usize {
    usize::from(lang == "zh")
}

fn split_units(s: &str) -> Vec<String> {
    s.split(' ')
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

fn json_value(v: &serde_json::Value) -> Option<SlotValue> {
    match v {
        serde_json::Value::Number(n) => n.as_f64().map(SlotValue::Num),
        serde_json::Value::String(s) => Some(SlotValue::Str(s.clone())),
        _ => None,
    }
}

/// Every unit sequence a synonym template can produce (bounded).
fn expansions(t: &Tpl, cap: usize) -> Vec<Vec<String>> {
    match t {
        Tpl::Lit(u) => vec![vec![u.clone()]],
        Tpl::Slot(_) | Tpl::Fixed(..) => vec![vec![]],
        Tpl::Opt(c) => {
            let mut v = vec![vec![]];
            v.extend(expansions(c, cap));
            v.truncate(cap);
            v
        }
        Tpl::Alt(cs) => {
            let mut v = Vec::new();
            for c in cs {
                v.extend(expansions(c, cap));
                if v.len() >= cap {
                    break;
                }
            }
            v.truncate(cap);
            v
        }
        Tpl::Seq(cs) => {
            let mut acc: Vec<Vec<String>> = vec![vec![]];
            for c in cs {
                let parts = expansions(c, cap);
                let mut next = Vec::new();
                'outer: for a in &acc {
                    for p in &parts {
                        let mut x = a.clone();
                        x.extend(p.iter().cloned());
                        next.push(x);
                        if next.len() >= cap {
                            break 'outer;
                        }
                    }
                }
                acc = next;
            }
            acc
        }
    }
}

fn sets_all(t: &Tpl, slot: &str) -> bool {
    match t {
        Tpl::Fixed(n, v) => n == slot && v == "all",
        Tpl::Seq(v) | Tpl::Alt(v) => v.iter().any(|c| sets_all(c, slot)),
        Tpl::Opt(c) => sets_all(c, slot),
        _ => false,
    }
}

impl Spotter {
    /// Builds the slot tables of every intent in `reg`, with the cues of `lexicon`.
    pub fn new(reg: &Registry, lexicon: &Lexicon) -> Spotter {
        let mut intents = HashMap::new();
        for plugin in &reg.plugins {
            for intent in &plugin.manifest.intents {
                let trees: Vec<Tpl> = intent
                    .sentences
                    .values()
                    .flatten()
                    .filter_map(|s| template::parse(s).ok())
                    .collect();
                let mut slots = Vec::new();
                for (name, def) in &intent.slots {
                    let Some(ty) = plugin.types.get(&def.ty) else {
                        continue;
                    };
                    let mut spec = SlotSpec {
                        name: name.clone(),
                        kind: match ty {
                            SlotType::Enum { .. } => Kind::Enum,
                            SlotType::Number {
                                min,
                                max,
                                integer,
                                percent,
                                ..
                            } => Kind::Number {
                                min: *min,
                                max: *max,
                                integer: *integer,
                                percent: *percent,
                            },
                            SlotType::Digits { .. } => Kind::Digits,
                            SlotType::Text { .. } => Kind::Text,
                        },
                        required: def.required,
                        synonyms: Default::default(),
                        cues: Default::default(),
                        cue_index: Default::default(),
                        ambiguous: Default::default(),
                        plural_all: trees.iter().any(|t| sets_all(t, name)),
                    };
                    if let SlotType::Enum { values, .. } = ty {
                        for (l, lang) in ["en", "zh"].iter().enumerate() {
                            for (vname, v) in values {
                                for syn in v.synonyms(lang) {
                                    let Ok(t) = template::parse(syn) else {
                                        continue;
                                    };
                                    for seq in expansions(&t, 64) {
                                        if !seq.is_empty() {
                                            spec.synonyms[l]
                                                .push((seq, SlotValue::Str(vname.clone())));
                                        }
                                    }
                                }
                            }
                        }
                    }
                    if let Some(by_lang) = lexicon.get(&intent.name).and_then(|m| m.get(name)) {
                        for (l, lang) in ["en", "zh"].iter().enumerate() {
                            let Some(e) = by_lang.get(*lang) else {
                                continue;
                            };
                            for (g, v) in &e.cues {
                                let (seq, Some(val)) = (split_units(g), json_value(v)) else {
                                    continue;
                                };
                                if seq.is_empty() {
                                    continue;
                                }
                                // A learned cue that contains a synonym of another value
                                // ("the passenger window" -> rear_right) is a fragment
                                // of a longer phrase: trust the synonym, drop the cue.
                                let contradicts = spec.synonyms[l].iter().any(|(syn, sv)| {
                                    *sv != val
                                        && syn.len() <= seq.len()
                                        && seq.windows(syn.len()).any(|w| w == &syn[..])
                                });
                                if contradicts {
                                    continue;
                                }
                                spec.cue_index[l].insert(seq.clone(), val.clone());
                                spec.cues[l].push((seq, val));
                            }
                            spec.ambiguous[l] =
                                e.ambiguous.iter().map(|g| split_units(g)).collect();
                        }
                    }
                    slots.push(spec);
                }
                intents.insert(intent.name.clone(), IntentSpec { slots });
            }
        }
        Spotter { intents }
    }

    /// True when `intent` is served by a loaded plugin.
    pub fn knows(&self, intent: &str) -> bool {
        self.intents.contains_key(intent)
    }

    /// The slots of `intent` in `units`, or `None` when a needed slot is missing
    /// (or the intent is not loaded).
    pub fn spot(
        &self,
        intent: &str,
        units: &[String],
        lang: &str,
    ) -> Option<BTreeMap<String, SlotValue>> {
        let spec = self.intents.get(intent)?;
        let l = lang_index(lang);
        let mut used = vec![false; units.len()];
        let mut out = BTreeMap::new();

        for s in spec.slots.iter().filter(|s| matches!(s.kind, Kind::Enum)) {
            if let Some((p, len, v)) = best_phrase(s, units, &used, l, true) {
                used[p..p + len].iter_mut().for_each(|x| *x = true);
                out.insert(s.name.clone(), v);
            }
        }
        for s in &spec.slots {
            match &s.kind {
                Kind::Number {
                    min,
                    max,
                    integer,
                    percent,
                } => {
                    if let Some((p, end, v)) =
                        find_number(units, &used, *min, *max, *integer, *percent)
                    {
                        used[p..end].iter_mut().for_each(|x| *x = true);
                        out.insert(s.name.clone(), SlotValue::Num(v));
                    } else if let Some((p, len, v)) = best_phrase(s, units, &used, l, false) {
                        used[p..p + len].iter_mut().for_each(|x| *x = true);
                        out.insert(s.name.clone(), v);
                    }
                }
                Kind::Digits => {
                    if let Some((p, end, d)) = find_digits(units, &used) {
                        used[p..end].iter_mut().for_each(|x| *x = true);
                        out.insert(s.name.clone(), SlotValue::Str(d));
                    }
                }
                _ => {}
            }
        }
        for s in spec.slots.iter().filter(|s| matches!(s.kind, Kind::Text)) {
            if let Some(t) = free_text(&s.name, units, &used, l) {
                out.insert(s.name.clone(), SlotValue::Str(t));
            }
        }
        for s in spec.slots.iter().filter(|s| s.plural_all) {
            if !out.contains_key(&s.name) && plural_cue(units, l) {
                out.insert(s.name.clone(), SlotValue::Str("all".into()));
            }
        }

        if spec
            .slots
            .iter()
            .any(|s| s.required && !out.contains_key(&s.name))
        {
            return None;
        }
        let free_only = !spec.slots.is_empty()
            && spec
                .slots
                .iter()
                .all(|s| matches!(s.kind, Kind::Text | Kind::Digits));
        if free_only && out.is_empty() {
            return None;
        }
        Some(out)
    }
}

fn occurs_at(units: &[String], used: &[bool], p: usize, seq: &[String]) -> bool {
    p + seq.len() <= units.len()
        && units[p..p + seq.len()] == *seq
        && !used[p..p + seq.len()].iter().any(|x| *x)
}

/// The longest cue or synonym of `s` in `units`: (start, length, value).
fn best_phrase(
    s: &SlotSpec,
    units: &[String],
    used: &[bool],
    l: usize,
    synonyms: bool,
) -> Option<(usize, usize, SlotValue)> {
    let mut best: Option<(usize, usize, SlotValue)> = None;
    let mut tie_conflict = false;
    let mut consider = |p: usize, len: usize, v: &SlotValue| match &best {
        Some((_, bl, _)) if len < *bl => {}
        Some((_, bl, bv)) if len == *bl => {
            if bv != v {
                tie_conflict = true;
            }
        }
        _ => {
            best = Some((p, len, v.clone()));
            tie_conflict = false;
        }
    };
    for p in 0..units.len() {
        for (seq, v) in &s.cues[l] {
            if occurs_at(units, used, p, seq) {
                consider(p, seq.len(), v);
            }
        }
        if synonyms {
            for (seq, v) in &s.synonyms[l] {
                if s.ambiguous[l].contains(seq) && !is_speaker(seq) {
                    continue;
                }
                if s.cue_index[l].get(seq).is_some_and(|cv| cv != v) {
                    continue;
                }
                if occurs_at(units, used, p, seq) {
                    consider(p, seq.len(), v);
                }
            }
        }
    }
    if tie_conflict {
        return None;
    }
    best
}

/// "my", "我的": the speaker's own seat. The catalogue makes it `driver` wherever a
/// seat or zone slot can take it, even where the grammar's sentences leave it out.
fn is_speaker(seq: &[String]) -> bool {
    let s: Vec<&str> = seq.iter().map(String::as_str).collect();
    matches!(
        s.as_slice(),
        ["my"]
            | ["mine"]
            | ["my", "side"]
            | ["my", "own"]
            | ["我", "的"]
            | ["我", "这", "边"]
            | ["我", "这", "侧"]
    )
}

/// Chinese characters after which a leading 一/两 is not a quantity (一点, 一下, 一些 ...).
const ZH_NOT_A_NUMBER_AFTER: &[&str] = &[
    "点", "些", "下", "会", "起", "直", "样", "定", "般", "切", "共", "边", "种", "次", "位", "块",
    "把", "路", "口",
];

/// The first number reading valid for the slot type: (start, end, value).
fn find_number(
    units: &[String],
    used: &[bool],
    min: f64,
    max: f64,
    integer: bool,
    percent: bool,
) -> Option<(usize, usize, f64)> {
    for p in 0..units.len() {
        if used[p] {
            continue;
        }
        let mut found: Option<(usize, f64)> = None;
        for r in numbers::parse_at(units, p) {
            if used[p..r.end].iter().any(|x| *x) {
                continue;
            }
            let single_cjk =
                r.end == p + 1 && units[p].chars().next().is_some_and(normalize::is_cjk);
            if single_cjk
                && units
                    .get(p + 1)
                    .is_some_and(|n| ZH_NOT_A_NUMBER_AFTER.contains(&n.as_str()))
            {
                continue;
            }
            let v = match r.kind {
                NumKind::Plain | NumKind::DigitSeq => r.value,
                NumKind::Percent if percent => r.value,
                NumKind::Fraction if percent => r.value * 100.0,
                NumKind::Max => max,
                NumKind::Min => min,
                _ => continue,
            };
            if integer && v.fract().abs() > 1e-9 {
                continue;
            }
            let v = (v * 1000.0).round() / 1000.0;
            // Longest reading at the first position that has one.
            if found.is_none_or(|(e, _)| r.end > e) {
                found = Some((r.end, v));
            }
        }
        if let Some((end, v)) = found {
            return Some((p, end, v));
        }
    }
    None
}

/// The longest digit string (3+ digits) starting at the first position that has one.
fn find_digits(units: &[String], used: &[bool]) -> Option<(usize, usize, String)> {
    for p in 0..units.len() {
        if used[p] {
            continue;
        }
        let best = numbers::parse_at(units, p)
            .into_iter()
            .filter(|r| !used[p..r.end].iter().any(|x| *x))
            .filter_map(|r| r.digits.filter(|d| d.len() >= 3).map(|d| (r.end, d)))
            .max_by_key(|(e, _)| *e);
        if let Some((end, d)) = best {
            return Some((p, end, d));
        }
    }
    None
}

struct TextRule {
    /// Words that open the slot (longest tried first).
    triggers: &'static [&'static str],
    /// Words that close it when met after the trigger.
    closers: &'static [&'static str],
}

const EN_TRAILING: &[&str] = &[
    "please",
    "now",
    "thanks",
    "thank you",
    "for me",
    "right now",
    "quickly",
    "ok",
    "okay",
    "asap",
];
const ZH_TRAILING: &[&str] = &[
    "吧",
    "一下",
    "谢谢",
    "好吗",
    "呢",
    "啊",
    "呀",
    "哦",
    "可以吗",
    "行吗",
    "好不好",
    "嘛",
];

fn text_rule(slot: &str, l: usize) -> Option<TextRule> {
    Some(match (slot, l) {
        ("destination", 0) => TextRule {
            triggers: &[
                "navigate me to",
                "navigate to",
                "take me to",
                "drive me to",
                "bring me to",
                "get me to",
                "directions to",
                "route to",
                "route me to",
                "go to",
                "head to",
                "drive to",
                "way to",
                "get to",
                "going to",
                "navigation to",
                "guide me to",
                "take us to",
                "get us to",
                "navigate",
            ],
            closers: &["and then", "via", "avoiding", "without"],
        },
        ("destination", _) => TextRule {
            triggers: &[
                "导航去",
                "导航到",
                "导航至",
                "导航前往",
                "带我去",
                "带我到",
                "开车去",
                "开车到",
                "我要去",
                "我想去",
                "送我去",
                "送我到",
                "前往",
                "去",
                "到",
                "导航",
            ],
            closers: &["怎么走", "怎么去", "的路线", "路线", "的路", "走哪条"],
        },
        ("contact", 0) => TextRule {
            triggers: &[
                "call up",
                "phone up",
                "give a call to",
                "call",
                "phone",
                "dial",
                "ring",
                "video call",
            ],
            closers: &[
                "a call",
                "a ring",
                "on speaker",
                "on the phone",
                "on their",
                "on her",
                "on his",
                "up",
            ],
        },
        ("contact", _) => TextRule {
            triggers: &[
                "打电话给",
                "打个电话给",
                "拨电话给",
                "打给",
                "拨给",
                "呼叫",
                "拨打",
                "联系",
                "致电",
                "给",
                "跟",
                "和",
            ],
            closers: &[
                "打电话",
                "打个电话",
                "打一个电话",
                "打",
                "拨",
                "通话",
                "通电话",
                "电话",
            ],
        },
        ("query", 0) => TextRule {
            triggers: &[
                "put on some",
                "put on",
                "listen to",
                "play me",
                "play some",
                "play",
                "hear",
            ],
            closers: &["on", "from", "using", "via", "with", "in the car"],
        },
        ("query", _) => TextRule {
            triggers: &[
                "我想听",
                "我要听",
                "想听",
                "来一首",
                "来首",
                "放一首",
                "播一首",
                "播放",
                "来点",
                "听",
                "放",
            ],
            closers: &["用", "从", "在"],
        },
        _ => return None,
    })
}

/// Free text that is not worth emitting on its own ("play some music").
const GENERIC: &[&str] = &[
    "music",
    "some music",
    "a song",
    "songs",
    "song",
    "something",
    "anything",
    "it",
    "the music",
    "my music",
    "音乐",
    "歌",
    "首歌",
    "一首歌",
    "歌曲",
    "点音乐",
    "点歌",
    "个歌",
    "些歌",
    "一首",
    "首",
];

fn matches_at(units: &[String], p: usize, words: &[String]) -> bool {
    !words.is_empty() && p + words.len() <= units.len() && units[p..p + words.len()] == *words
}

/// Free text after a trigger, up to a closer, a unit taken by another slot, or the end.
fn free_text(slot: &str, units: &[String], used: &[bool], l: usize) -> Option<String> {
    let rule = text_rule(slot, l)?;
    let mut triggers: Vec<Vec<String>> =
        rule.triggers.iter().map(|t| normalize::units(t)).collect();
    triggers.sort_by_key(|t| std::cmp::Reverse(t.len()));
    let closers: Vec<Vec<String>> = rule.closers.iter().map(|t| normalize::units(t)).collect();
    let trailing: Vec<Vec<String>> = if l == 0 { EN_TRAILING } else { ZH_TRAILING }
        .iter()
        .map(|t| normalize::units(t))
        .collect();
    for t in &triggers {
        let Some(p) = (0..units.len())
            .find(|&p| matches_at(units, p, t) && !used[p..p + t.len()].iter().any(|x| *x))
        else {
            continue;
        };
        let start = p + t.len();
        let mut end = start;
        while end < units.len()
            && !used[end]
            && !closers
                .iter()
                .any(|c| end > start && matches_at(units, end, c))
        {
            end += 1;
        }
        // Trim trailing fillers.
        let mut changed = true;
        while changed && end > start {
            changed = false;
            for f in &trailing {
                if end >= start + f.len() && units[end - f.len()..end] == f[..] {
                    end -= f.len();
                    changed = true;
                }
            }
        }
        if end <= start || end - start > 12 {
            continue;
        }
        let value = normalize::join(&units[start..end]);
        if GENERIC.contains(&value.as_str()) {
            continue;
        }
        // A contact made of digits is a phone number, not a name.
        if slot == "contact"
            && units[start..end]
                .iter()
                .any(|u| u.starts_with(|c: char| c.is_ascii_digit()))
        {
            continue;
        }
        return Some(value);
    }
    None
}

/// "windows", "都", ...: the plural that means every position.
fn plural_cue(units: &[String], l: usize) -> bool {
    if l == 0 {
        units
            .iter()
            .any(|u| matches!(u.as_str(), "windows" | "doors"))
    } else {
        units.iter().any(|u| u == "都")
            || units.windows(2).any(|w| {
                matches!(
                    (w[0].as_str(), w[1].as_str()),
                    ("通", "通") | ("统", "统") | ("全", "部")
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nlu::normalize::units;
    use std::path::Path;

    fn spotter() -> Spotter {
        let reg = Registry::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("plugins")).unwrap();
        Spotter::new(&reg, &Lexicon::new())
    }

    fn spot(s: &Spotter, intent: &str, text: &str) -> Option<BTreeMap<String, SlotValue>> {
        s.spot(intent, &units(text), normalize::detect_lang(text))
    }

    fn str_of(m: &BTreeMap<String, SlotValue>, k: &str) -> Option<String> {
        m.get(k).map(|v| v.display())
    }

    #[test]
    fn enums_numbers_and_required() {
        let s = spotter();
        let m = spot(
            &s,
            "climate.set_temperature",
            "could the passenger get twenty one degrees",
        )
        .unwrap();
        assert_eq!(str_of(&m, "zone").as_deref(), Some("passenger"));
        assert_eq!(m.get("value"), Some(&SlotValue::Num(21.0)));
        assert!(
            spot(&s, "climate.set_temperature", "make it nice in here").is_none(),
            "value is required"
        );
        let m = spot(&s, "climate.set_temperature", "副驾二十一点五度").unwrap();
        assert_eq!(m.get("value"), Some(&SlotValue::Num(21.5)));
        assert_eq!(str_of(&m, "zone").as_deref(), Some("passenger"));
        let m = spot(&s, "window.open", "lower the rear left window halfway").unwrap();
        assert_eq!(str_of(&m, "position").as_deref(), Some("rear_left"));
        assert_eq!(m.get("percent"), Some(&SlotValue::Num(50.0)));
    }

    #[test]
    fn yi_dian_is_not_a_number() {
        let s = spotter();
        let m = spot(&s, "media.change_volume", "声音调大一点").unwrap();
        assert!(!m.contains_key("delta"), "{m:?}");
        let m = spot(&s, "media.change_volume", "声音调大两格").unwrap();
        assert_eq!(m.get("delta"), Some(&SlotValue::Num(2.0)));
    }

    #[test]
    fn free_text_needs_a_trigger() {
        let s = spotter();
        let m = spot(
            &s,
            "nav.navigate",
            "could you navigate to the central station please",
        )
        .unwrap();
        assert_eq!(
            str_of(&m, "destination").as_deref(),
            Some("the central station")
        );
        let m = spot(&s, "nav.navigate", "你好小舱导航去首都机场吧").unwrap();
        assert_eq!(str_of(&m, "destination").as_deref(), Some("首都机场"));
        assert!(spot(&s, "nav.navigate", "the airport").is_none());
        let m = spot(&s, "phone.call", "给老王打个电话").unwrap();
        assert_eq!(str_of(&m, "contact").as_deref(), Some("老王"));
        let m = spot(&s, "phone.call", "please dial 138 0013 8000").unwrap();
        assert_eq!(str_of(&m, "number").as_deref(), Some("13800138000"));
        assert!(spot(&s, "phone.call", "make a call").is_none());
        let m = spot(&s, "media.play", "put on some music").unwrap();
        assert!(m.is_empty(), "{m:?}");
    }

    #[test]
    fn plural_means_all() {
        let s = spotter();
        let m = spot(&s, "window.close", "shut the windows").unwrap();
        assert_eq!(str_of(&m, "position").as_deref(), Some("all"));
        let m = spot(&s, "window.close", "把车窗都关了").unwrap();
        assert_eq!(str_of(&m, "position").as_deref(), Some("all"));
        let m = spot(&s, "window.close", "close my window").unwrap();
        assert_eq!(str_of(&m, "position").as_deref(), Some("driver"));
    }

    #[test]
    fn unknown_intent_is_none() {
        assert!(spotter()
            .spot("nope.nothing", &units("hello"), "en")
            .is_none());
    }
}
