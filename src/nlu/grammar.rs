//! The grammar fast path: every sentence of every loaded plugin, compiled at start
//! into a matcher over normalised units.
//!
//! Matching is a bounded backtracking walk over the template tree. Fillers
//! ("please", "帮我", "一下", the wake phrase, ...) may be skipped before any
//! element. Each full match gets a score (literal and slot units count for it,
//! free-text units a little against it, fuzzy matches against it); the best match
//! over all sentences wins.

use super::fuzzy::{Key, Phonetic};
use super::normalize::{self, MAX_UNITS};
use super::numbers::{self, NumKind};
use super::template::{self, Tpl};
use super::{Intent, NluError, SlotValue};
use crate::plugin::{Registry, SlotType};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::rc::Rc;
use std::sync::Arc;

/// Fillers skipped anywhere, before the plugins' own (`[fillers]` in types.toml).
pub(crate) const FILLERS_EN: &[&str] = &[
    "please",
    "can you",
    "could you",
    "would you",
    "will you",
    "can u",
    "would you mind",
    "i want to",
    "i wanna",
    "i'd like to",
    "i would like to",
    "i need to",
    "i want you to",
    "go ahead and",
    "just",
    "kindly",
    "for me",
    "now",
    "right now",
    "hey cabin",
    "ok cabin",
    "okay cabin",
    "hi cabin",
    "cabin",
    "um",
    "uh",
    "er",
    "hey",
    "thanks",
    "thank you",
    "hmm",
    "quickly",
    "a bit",
    "a little",
    "a little bit",
    "little",
    "slightly",
    "bit",
];
pub(crate) const FILLERS_ZH: &[&str] = &[
    "请",
    "请你",
    "帮我",
    "帮忙",
    "麻烦",
    "麻烦你",
    "麻烦你帮我",
    "能不能",
    "可不可以",
    "可以",
    "能",
    "你能",
    "你可以",
    "一下",
    "吧",
    "呢",
    "啊",
    "呀",
    "哦",
    "嗯",
    "哈",
    "嘛",
    "了",
    "那个",
    "你好小舱",
    "小舱",
    "小舱小舱",
    "嗨小舱",
    "给我",
    "我想",
    "我要",
    "我想要",
    "帮我把",
    "现在",
    "马上",
    "赶紧",
    "谢谢",
    "好吗",
    "行吗",
    "可以吗",
    "一点",
    "一些",
    "稍微",
    "点",
];

/// Upper bound on partial matches kept while walking one sentence.
const MAX_STATES: usize = 256;

#[derive(Debug)]
enum Node {
    /// A literal unit and its sound key (Chinese characters only).
    Lit(String, Option<Key>),
    Seq(Vec<Node>),
    Alt(Vec<Node>),
    Opt(Box<Node>),
    Slot(Arc<str>, Arc<CType>),
    Fixed(Arc<str>, SlotValue),
}

#[derive(Debug)]
enum CType {
    Number {
        min: f64,
        max: f64,
        integer: bool,
        percent: bool,
    },
    Enum(EnumIndex),
    Text,
    Digits,
}

/// Enum synonyms, indexed by their first unit (and its sound) so a slot only
/// tries the synonyms that can start at a position.
#[derive(Debug, Default)]
struct EnumIndex {
    syns: Vec<(String, Node)>,
    by_first: HashMap<String, Vec<usize>>,
    by_key: HashMap<Key, Vec<usize>>,
    /// Synonyms that do not start with a plain literal: always tried.
    others: Vec<usize>,
}

impl EnumIndex {
    fn new(syns: Vec<(String, Node)>) -> Self {
        let mut ix = EnumIndex::default();
        for (i, (_, n)) in syns.iter().enumerate() {
            let first = match n {
                Node::Lit(..) => Some(n),
                Node::Seq(v) => v.first().filter(|f| matches!(f, Node::Lit(..))),
                _ => None,
            };
            match first {
                Some(Node::Lit(u, k)) => {
                    ix.by_first.entry(u.clone()).or_default().push(i);
                    if let Some(k) = k {
                        ix.by_key.entry(*k).or_default().push(i);
                    }
                }
                _ => ix.others.push(i),
            }
        }
        ix.syns = syns;
        ix
    }

    /// Synonym indices that may match at a unit (exactly or by sound).
    fn candidates(&self, unit: &str, key: Option<&Key>, fuzzy: bool, out: &mut Vec<usize>) {
        out.clear();
        out.extend_from_slice(&self.others);
        if let Some(v) = self.by_first.get(unit) {
            out.extend_from_slice(v);
        }
        if fuzzy {
            if let Some(v) = key.and_then(|k| self.by_key.get(k)) {
                out.extend_from_slice(v);
            }
        }
        out.sort_unstable();
        out.dedup();
    }
}

#[derive(Debug)]
struct Rule {
    intent: Arc<str>,
    lang: &'static str,
    node: Node,
    /// Literal units every match needs (with their sound keys): a cheap pre-filter.
    required: Vec<(String, Option<Key>)>,
}

/// The compiled grammar of all loaded plugins.
#[derive(Debug)]
pub struct Grammar {
    rules: Vec<Rule>,
    fillers: Vec<Vec<String>>,
    /// Also accept one near-homophone per Chinese match ([`Grammar::with_near`]).
    near: bool,
}

/// Slots bound so far: a shared list, so cloning a state is cheap.
#[derive(Debug)]
struct Bound {
    name: Arc<str>,
    value: SlotValue,
    next: Option<Rc<Bound>>,
}

#[derive(Clone, Debug, Default)]
struct St {
    slots: Option<Rc<Bound>>,
    score: i32,
    fuzzy: u8,
    /// Of the sound-alike literals, those only one pinyin letter apart.
    near: u8,
    /// Units matched by literals (exactly or by sound).
    lits: u8,
    /// Units taken by free-text slots.
    text: u8,
}

impl St {
    fn has(&self, name: &str) -> bool {
        let mut cur = self.slots.as_deref();
        while let Some(b) = cur {
            if &*b.name == name {
                return true;
            }
            cur = b.next.as_deref();
        }
        false
    }

    fn with_slot(&self, name: &Arc<str>, v: SlotValue, score: i32) -> Option<St> {
        if self.has(name) {
            return None;
        }
        let mut s = self.clone();
        s.slots = Some(Rc::new(Bound {
            name: name.clone(),
            value: v,
            next: self.slots.clone(),
        }));
        s.score += score;
        Some(s)
    }

    fn into_map(self) -> BTreeMap<String, SlotValue> {
        let mut m = BTreeMap::new();
        let mut cur = self.slots.as_deref();
        while let Some(b) = cur {
            m.insert(b.name.to_string(), b.value.clone());
            cur = b.next.as_deref();
        }
        m
    }
}

impl Grammar {
    /// Compiles the sentences of every plugin in `reg`.
    pub fn compile(reg: &Registry) -> Result<Grammar, NluError> {
        let mut rules = Vec::new();
        let mut enum_cache: HashMap<(String, String, &'static str), Arc<CType>> = HashMap::new();
        for plugin in &reg.plugins {
            for intent in &plugin.manifest.intents {
                let iname: Arc<str> = Arc::from(intent.name.as_str());
                for (lang, sentences) in &intent.sentences {
                    let lang: &'static str = if lang == "zh" { "zh" } else { "en" };
                    for s in sentences {
                        let where_ =
                            || format!("{} intent {} ({lang})", plugin.path.display(), intent.name);
                        let tpl = template::parse(s).map_err(|e| NluError::Grammar {
                            at: where_(),
                            msg: e.to_string(),
                        })?;
                        let mut cx = Cx {
                            plugin: &plugin.manifest.plugin.name,
                            types: &plugin.types,
                            intent,
                            lang,
                            cache: &mut enum_cache,
                        };
                        let node = cx.node(&tpl).map_err(|msg| NluError::Grammar {
                            at: where_(),
                            msg: format!("sentence {s:?}: {msg}"),
                        })?;
                        let mut lits = Vec::new();
                        required_lits(&node, &mut lits);
                        lits.sort();
                        lits.dedup();
                        let required = lits
                            .into_iter()
                            .map(|l| {
                                let k = Phonetic::key(&l);
                                (l, k)
                            })
                            .collect();
                        rules.push(Rule {
                            intent: iname.clone(),
                            lang,
                            node,
                            required,
                        });
                    }
                }
            }
        }
        let mut fillers: Vec<Vec<String>> = FILLERS_EN
            .iter()
            .chain(FILLERS_ZH)
            .map(|f| normalize::units(f))
            .collect();
        for list in reg.fillers.values() {
            fillers.extend(list.iter().map(|f| normalize::units(f)));
        }
        fillers.retain(|f| !f.is_empty());
        fillers.sort();
        fillers.dedup();
        Ok(Grammar {
            rules,
            fillers,
            near: false,
        })
    }

    /// Whether a Chinese sentence may also match with one near-homophone (a
    /// syllable one pinyin letter off, 锋锁/风速) when exact and sound-alike
    /// matching found nothing (off by default; `nlu.near_homophones`).
    pub fn with_near(mut self, near: bool) -> Self {
        self.near = near;
        self
    }

    /// Number of compiled sentences.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// True when no sentence is loaded.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Parses `text`; `None` when no sentence matches.
    pub fn parse(&self, text: &str) -> Option<Intent> {
        let u = normalize::units(text);
        if u.is_empty() || u.len() > MAX_UNITS {
            return None;
        }
        let lang = normalize::detect_lang(text);
        // Exact first; sound-alike matching only for Chinese the exact pass missed.
        self.parse_units(text, &u, lang, false, false).or_else(|| {
            (lang == "zh")
                .then(|| {
                    let fuzzy = self.parse_units(text, &u, lang, true, false);
                    if fuzzy.is_none() && self.near {
                        self.parse_units(text, &u, lang, true, true)
                    } else {
                        fuzzy
                    }
                })
                .flatten()
        })
    }

    fn parse_units(
        &self,
        text: &str,
        u: &[String],
        lang: &str,
        fuzzy_ok: bool,
        near_ok: bool,
    ) -> Option<Intent> {
        let keys: Vec<Option<Key>> = u.iter().map(|x| Phonetic::key(x)).collect();
        let present: HashSet<&str> = u.iter().map(String::as_str).collect();
        let present_keys: HashSet<Key> = keys.iter().flatten().copied().collect();
        let m = Matcher {
            u,
            keys: &keys,
            fuzzy_ok,
            near_ok,
            skip: skip_table(u, &self.fillers),
        };
        let mut best: Option<(i32, u8, &Rule, St)> = None;
        for rule in self.rules.iter().filter(|r| r.lang == lang) {
            let ok = rule.required.iter().all(|(r, k)| {
                present.contains(r.as_str())
                    || (fuzzy_ok && k.is_some_and(|k| present_keys.contains(&k)))
                    || (near_ok
                        && k.is_some_and(|k| present_keys.iter().any(|p| Phonetic::near(&k, p))))
            });
            if !ok {
                continue;
            }
            for (end, st) in m.walk(&rule.node, 0, St::default()) {
                if !m.skip[end].contains(&u.len()) {
                    continue;
                }
                // A short trigger must not swallow a whole sentence as free text
                // ("去年的音乐节太好玩了" is not a trip to "年的音乐节太好玩了").
                if st.text as u32 > 5 * (st.lits as u32).max(1) {
                    continue;
                }
                // Sound-alike literals must be a small part of a long enough match.
                if st.fuzzy > 0 && (st.fuzzy > 2 || (st.fuzzy as u32) * 4 > st.lits as u32) {
                    continue;
                }
                // At most one near-homophone (one pinyin letter off) per match.
                if st.near > 1 {
                    continue;
                }
                let score = st.score - 3 * st.fuzzy as i32 - 2 * st.near as i32;
                if best.as_ref().is_none_or(|b| score > b.0) {
                    best = Some((score, st.fuzzy, rule, st));
                }
            }
        }
        let (_, fuzzy, rule, st) = best?;
        Some(Intent {
            text: text.to_string(),
            lang: lang.to_string(),
            intent: rule.intent.to_string(),
            slots: st.into_map(),
            confidence: if fuzzy == 0 {
                1.0
            } else {
                (0.95 - 0.05 * fuzzy as f32).max(0.6)
            },
            engine: "grammar".into(),
        })
    }
}

/// For every position (and the end), the positions reachable by skipping zero or
/// more fillers; computed once per utterance.
fn skip_table(u: &[String], fillers: &[Vec<String>]) -> Vec<Vec<usize>> {
    let direct: Vec<Vec<usize>> = (0..=u.len())
        .map(|p| {
            fillers
                .iter()
                .filter(|f| u.len() >= p + f.len() && u[p..p + f.len()] == f[..])
                .map(|f| p + f.len())
                .collect()
        })
        .collect();
    (0..=u.len())
        .map(|p| {
            let mut out = vec![p];
            let mut i = 0;
            while i < out.len() && out.len() < 8 {
                for &q in &direct[out[i]] {
                    if !out.contains(&q) {
                        out.push(q);
                    }
                }
                i += 1;
            }
            out
        })
        .collect()
}

fn required_lits(n: &Node, out: &mut Vec<String>) {
    match n {
        Node::Lit(u, _) => out.push(u.clone()),
        Node::Seq(v) => v.iter().for_each(|c| required_lits(c, out)),
        Node::Alt(v) => {
            // Only what every alternative needs.
            let mut sets = v.iter().map(|c| {
                let mut o = Vec::new();
                required_lits(c, &mut o);
                o
            });
            if let Some(first) = sets.next() {
                let rest: Vec<Vec<String>> = sets.collect();
                out.extend(
                    first
                        .into_iter()
                        .filter(|x| rest.iter().all(|r| r.contains(x))),
                );
            }
        }
        Node::Opt(_) | Node::Slot(..) | Node::Fixed(..) => {}
    }
}

struct Cx<'a> {
    plugin: &'a str,
    types: &'a BTreeMap<String, SlotType>,
    intent: &'a crate::plugin::IntentDef,
    lang: &'static str,
    cache: &'a mut HashMap<(String, String, &'static str), Arc<CType>>,
}

impl Cx<'_> {
    fn node(&mut self, t: &Tpl) -> Result<Node, String> {
        Ok(match t {
            Tpl::Lit(u) => Node::Lit(u.clone(), Phonetic::key(u)),
            Tpl::Seq(v) => Node::Seq(v.iter().map(|c| self.node(c)).collect::<Result<_, _>>()?),
            Tpl::Alt(v) => Node::Alt(v.iter().map(|c| self.node(c)).collect::<Result<_, _>>()?),
            Tpl::Opt(c) => Node::Opt(Box::new(self.node(c)?)),
            Tpl::Slot(name) => {
                let ty = self.slot_type(name)?;
                Node::Slot(Arc::from(name.as_str()), ty)
            }
            Tpl::Fixed(name, value) => {
                let def = self
                    .intent
                    .slots
                    .get(name)
                    .ok_or(format!("undeclared slot {{{name}}}"))?;
                let ty = self
                    .types
                    .get(&def.ty)
                    .ok_or(format!("unknown type {}", def.ty))?;
                let v = match ty {
                    SlotType::Enum { values, .. } => {
                        if !values.contains_key(value) {
                            return Err(format!("{value:?} is not a value of type {}", def.ty));
                        }
                        SlotValue::Str(value.clone())
                    }
                    SlotType::Number { .. } => SlotValue::Num(
                        value
                            .parse()
                            .map_err(|_| format!("{value:?} is not a number"))?,
                    ),
                    _ => SlotValue::Str(value.clone()),
                };
                Node::Fixed(Arc::from(name.as_str()), v)
            }
        })
    }

    fn slot_type(&mut self, name: &str) -> Result<Arc<CType>, String> {
        let def = self
            .intent
            .slots
            .get(name)
            .ok_or(format!("undeclared slot {{{name}}}"))?;
        let key = (self.plugin.to_string(), def.ty.clone(), self.lang);
        if let Some(t) = self.cache.get(&key) {
            return Ok(t.clone());
        }
        let ty = self
            .types
            .get(&def.ty)
            .ok_or(format!("unknown type {}", def.ty))?;
        let c = match ty {
            SlotType::Number {
                min,
                max,
                integer,
                percent,
                ..
            } => CType::Number {
                min: *min,
                max: *max,
                integer: *integer,
                percent: *percent,
            },
            SlotType::Text { .. } => CType::Text,
            SlotType::Digits { .. } => CType::Digits,
            SlotType::Enum { values, .. } => {
                let mut alts = Vec::new();
                for (vname, v) in values {
                    for syn in v.synonyms(self.lang) {
                        let tpl = template::parse(syn)
                            .map_err(|e| format!("type {} value {vname}: {e}", def.ty))?;
                        if matches!(tpl, Tpl::Seq(ref s) if s.is_empty()) {
                            continue;
                        }
                        alts.push((vname.clone(), self.node(&tpl)?));
                    }
                }
                CType::Enum(EnumIndex::new(alts))
            }
        };
        let c = Arc::new(c);
        self.cache.insert(key, c.clone());
        Ok(c)
    }
}

struct Matcher<'a> {
    u: &'a [String],
    keys: &'a [Option<Key>],
    fuzzy_ok: bool,
    near_ok: bool,
    skip: Vec<Vec<usize>>,
}

impl Matcher<'_> {
    fn walk(&self, n: &Node, pos: usize, st: St) -> Vec<(usize, St)> {
        let mut out = Vec::new();
        match n {
            Node::Lit(lit, key) => {
                for &p in &self.skip[pos] {
                    let Some(u) = self.u.get(p) else { continue };
                    if u == lit {
                        let mut s = st.clone();
                        s.score += 2;
                        s.lits = s.lits.saturating_add(1);
                        out.push((p + 1, s));
                    } else if self.fuzzy_ok && key.is_some() && *key == self.keys[p] {
                        let mut s = st.clone();
                        s.score += 2;
                        s.fuzzy += 1;
                        s.lits = s.lits.saturating_add(1);
                        out.push((p + 1, s));
                    } else if self.near_ok
                        && key
                            .as_ref()
                            .zip(self.keys[p].as_ref())
                            .is_some_and(|(a, b)| Phonetic::near(a, b))
                    {
                        let mut s = st.clone();
                        s.score += 2;
                        s.fuzzy += 1;
                        s.near += 1;
                        s.lits = s.lits.saturating_add(1);
                        out.push((p + 1, s));
                    }
                }
            }
            Node::Seq(items) => {
                let mut states = vec![(pos, st)];
                for item in items {
                    let mut next = Vec::new();
                    for (p, s) in states {
                        next.extend(self.walk(item, p, s));
                        if next.len() > MAX_STATES {
                            break;
                        }
                    }
                    if next.is_empty() {
                        return next;
                    }
                    states = next;
                }
                out = states;
            }
            Node::Alt(v) => {
                for c in v {
                    out.extend(self.walk(c, pos, st.clone()));
                }
            }
            Node::Opt(c) => {
                out.push((pos, st.clone()));
                out.extend(self.walk(c, pos, st));
            }
            Node::Fixed(name, v) => {
                if let Some(s) = st.with_slot(name, v.clone(), 0) {
                    out.push((pos, s));
                }
            }
            Node::Slot(name, ty) => {
                for &p in &self.skip[pos] {
                    self.slot(name, ty, p, &st, &mut out);
                }
            }
        }
        out
    }

    fn slot(&self, name: &Arc<str>, ty: &CType, p: usize, st: &St, out: &mut Vec<(usize, St)>) {
        match ty {
            CType::Enum(ix) => {
                let Some(unit) = self.u.get(p) else { return };
                let mut cands = Vec::new();
                ix.candidates(unit, self.keys[p].as_ref(), self.fuzzy_ok, &mut cands);
                for i in cands {
                    let (value, syn) = &ix.syns[i];
                    for (end, s) in self.walk(syn, p, st.clone()) {
                        if end > p {
                            if let Some(s) = s.with_slot(name, SlotValue::Str(value.clone()), 0) {
                                out.push((end, s));
                            }
                        }
                    }
                }
            }
            CType::Number {
                min,
                max,
                integer,
                percent,
            } => {
                for r in numbers::parse_at(self.u, p) {
                    let v = match r.kind {
                        NumKind::Plain | NumKind::DigitSeq => r.value,
                        NumKind::Percent if *percent => r.value,
                        NumKind::Fraction if *percent => r.value * 100.0,
                        NumKind::Max => *max,
                        NumKind::Min => *min,
                        _ => continue,
                    };
                    if *integer && v.fract().abs() > 1e-9 {
                        continue;
                    }
                    let v = (v * 1000.0).round() / 1000.0;
                    if let Some(s) = st.with_slot(name, SlotValue::Num(v), 2 * (r.end - p) as i32) {
                        out.push((r.end, s));
                    }
                }
            }
            CType::Digits => {
                for r in numbers::parse_at(self.u, p) {
                    if let Some(d) = r.digits {
                        if let Some(s) =
                            st.with_slot(name, SlotValue::Str(d), 2 * (r.end - p) as i32)
                        {
                            out.push((r.end, s));
                        }
                    }
                }
            }
            CType::Text => {
                for end in p + 1..=self.u.len() {
                    let text = normalize::join(&self.u[p..end]);
                    if let Some(mut s) =
                        st.with_slot(name, SlotValue::Str(text), -((end - p) as i32))
                    {
                        s.text = s.text.saturating_add((end - p) as u8);
                        out.push((end, s));
                    }
                }
            }
        }
    }
}
