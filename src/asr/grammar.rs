//! The loaded plugins' sentences as a byte automaton that steers the recogniser
//! (grammar-constrained decoding, docs/NLU.md "Mandarin").
//!
//! Every sentence template of one language becomes a path through a
//! nondeterministic automaton over UTF-8 bytes: literals are byte chains, enum
//! slots the alternation of their synonyms, number and digit slots a loop of
//! numerals (digits, 二十二, "twenty two"); sentences with a free-text slot are left
//! to the free pass.
//! Between units, separators (spaces, punctuation) and the fillers the grammar
//! skips ("please", "帮我", "一下") may appear; they live in one shared trie, not
//! copied into every gap. ASCII letters match case-insensitively.
//!
//! The decoder asks, token by token, whether a token's bytes can continue the
//! text so far ([`ByteGrammar::advance`]) and whether the text may end here
//! ([`ByteGrammar::accepts`]). A cursor is the set of automaton positions the
//! text so far can be in; it is never empty for a text the grammar allows.

use crate::nlu::fuzzy::{Key, Phonetic};
use crate::nlu::grammar::{FILLERS_EN, FILLERS_ZH};
use crate::nlu::numbers::{NUMERALS_ANY, NUMERALS_EN, NUMERALS_ZH};
use crate::nlu::template::{self, Tpl};
use crate::plugin::{IntentDef, Registry, SlotType};
use std::collections::BTreeMap;

/// Separators allowed between units, and anywhere a filler may stand.
const SEPARATORS: &[&str] = &[
    " ", ",", ".", "!", "?", "-", "'", "，", "。", "！", "？", "、", "：", ":", ";", "；",
];

/// Most automaton positions a cursor keeps (a guard against blow-up).
const MAX_CURSOR: usize = 4096;

/// Most separators and fillers in a row (", please." is four): without a
/// bound, a constrained decoder the audio pulls off the grammar can spend
/// every token on "，，，，".
const MAX_GAP_RUN: u32 = 5;
/// A cursor's gap field: the gap-trie node in the low bits, the number of
/// separators and fillers in the current run above them.
const RUN_SHIFT: u32 = 24;
const NODE_MASK: u32 = (1 << RUN_SHIFT) - 1;
/// A cursor's gap field with this bit set: inside a sound-alike character
/// ([`State::alike`]), its bytes so far in the low 16 bits and their count
/// above them.
const PENDING: u32 = 1 << 31;

#[derive(Debug, Default, Clone)]
struct State {
    eps: Vec<u32>,
    bytes: Vec<(u8, u32)>,
    /// Separators and fillers may be inserted here.
    gap: bool,
    /// Literal Chinese characters that start here: (sound key, the state after
    /// the character, the character). Any character with the same key may stand
    /// for it (分为 for 氛围), as in the understanding's sound-alike matching.
    alike: Vec<(Key, u32, char)>,
}

/// What one byte of the heard text writes in the grammar's own text.
#[derive(Debug, Clone, Copy)]
enum Emit {
    /// The byte itself (lowercased).
    Byte,
    /// Nothing yet: inside a sound-alike character.
    Nothing,
    /// The grammar's character the sound-alike stands for.
    Char(char),
    /// The grammar's character a near-homophone stands for.
    Near(char),
}

/// A heard sentence in the grammar's own characters ([`ByteGrammar::canonical`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Canonical {
    pub text: String,
    /// Sound-alike characters replaced (same key).
    pub alike: u32,
    /// Near-homophones replaced (one pinyin letter off).
    pub near: u32,
}

/// A near-homophone weighs this many sound-alikes when choosing the grammar's
/// sentence for a heard text.
const NEAR_WEIGHT: u32 = 3;

#[derive(Debug, Default, Clone)]
struct TrieNode {
    next: Vec<(u8, u32)>,
    end: bool,
}

/// One language's sentences as a byte automaton.
#[derive(Debug, Clone)]
pub struct ByteGrammar {
    states: Vec<State>,
    start: u32,
    accept: u32,
    /// Separators and fillers; node 0 is the root.
    gaps: Vec<TrieNode>,
    sentences: usize,
    /// Inner states of literal chains (shared between chains).
    inner: std::collections::HashSet<u32>,
    /// Also accept near-homophones ([`ByteGrammar::with_near`]).
    near: bool,
}

/// Positions the text so far can be in: (automaton state, gap field: the
/// gap-trie node, 0 = not inside a separator or filler, and the length of the
/// current run of them, see [`RUN_SHIFT`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor(Vec<(u32, u32)>);

struct Builder<'a> {
    g: ByteGrammar,
    types: &'a BTreeMap<String, SlotType>,
    intent: &'a IntentDef,
    lang: &'a str,
}

impl ByteGrammar {
    /// Compiles every `lang` sentence of the loaded plugins; `None` when no
    /// plugin has one or a template does not parse (the grammar matcher reports
    /// that at start).
    pub fn compile(reg: &Registry, lang: &str) -> Option<ByteGrammar> {
        let mut g = ByteGrammar {
            states: vec![State::default(), State::default()],
            start: 0,
            accept: 1,
            gaps: vec![TrieNode::default()],
            sentences: 0,
            inner: Default::default(),
            near: false,
        };
        g.states[0].gap = true;
        g.states[1].gap = true;
        let fillers = if lang == "zh" { FILLERS_ZH } else { FILLERS_EN };
        let shared = reg.fillers.get(lang).map(Vec::as_slice).unwrap_or(&[]);
        for s in SEPARATORS {
            g.add_gap(s);
        }
        for f in fillers
            .iter()
            .map(|s| s.to_string())
            .chain(shared.iter().cloned())
        {
            g.add_gap(&f.to_lowercase());
        }
        for plugin in &reg.plugins {
            for intent in &plugin.manifest.intents {
                let Some(sentences) = intent.sentences.get(lang) else {
                    continue;
                };
                for s in sentences {
                    let tpl = template::parse(s).ok()?;
                    // Free text (destinations, song names) is the free pass's job.
                    if has_text_slot(&tpl, intent, &plugin.types) {
                        continue;
                    }
                    let mut b = Builder {
                        g,
                        types: &plugin.types,
                        intent,
                        lang,
                    };
                    let end = b.node(&tpl, 0)?;
                    g = b.g;
                    g.states[end as usize].eps.push(1);
                    g.sentences += 1;
                }
            }
        }
        (g.sentences > 0).then_some(g)
    }

    /// Whether a Chinese character may also be heard as a near-homophone (one
    /// pinyin letter off: 坐 zuo for 锁 suo, 处 chu for 主 zhu), weighed
    /// [`NEAR_WEIGHT`] sound-alikes (`asr.grammar_near`).
    pub fn with_near(mut self, near: bool) -> Self {
        self.near = near;
        self
    }

    /// Number of sentences compiled in.
    pub fn sentences(&self) -> usize {
        self.sentences
    }

    fn add_gap(&mut self, text: &str) {
        let mut node = 0u32;
        for &b in text.as_bytes() {
            let found = self.gaps[node as usize]
                .next
                .iter()
                .find(|(c, _)| *c == b)
                .map(|(_, n)| *n);
            node = match found {
                Some(n) => n,
                None => {
                    self.gaps.push(TrieNode::default());
                    let n = (self.gaps.len() - 1) as u32;
                    self.gaps[node as usize].next.push((b, n));
                    n
                }
            };
        }
        self.gaps[node as usize].end = true;
    }

    /// The cursor before any text.
    pub fn start(&self) -> Cursor {
        let mut c = vec![(self.start, 0)];
        self.close(&mut c);
        Cursor(c)
    }

    /// True when the text so far is a whole sentence.
    pub fn accepts(&self, c: &Cursor) -> bool {
        c.0.iter()
            .any(|&(s, g)| s == self.accept && g & NODE_MASK == 0 && g & PENDING == 0)
    }

    /// The cursor after `bytes`, or `None` when no sentence continues that way.
    pub fn advance(&self, c: &Cursor, bytes: &[u8]) -> Option<Cursor> {
        let mut cur = c.0.clone();
        let mut next = Vec::new();
        for &raw in bytes {
            let b = raw.to_ascii_lowercase();
            next.clear();
            for &(s, g) in &cur {
                self.step(s, g, b, &mut |t, h, _| next.push((t, h)));
            }
            if next.is_empty() {
                return None;
            }
            self.close(&mut next);
            std::mem::swap(&mut cur, &mut next);
        }
        Some(Cursor(cur))
    }

    /// The grammar's own text for a `text` it accepts, with the characters
    /// replaced (fewest first, a near-homophone weighing [`NEAR_WEIGHT`]):
    /// 分为灯亮度调到百分之二十 -> 氛围灯亮度调到百分之二十, 2 sound-alikes. ASCII
    /// comes back lowercased. `None` when no sentence matches.
    pub fn canonical(&self, text: &str) -> Option<Canonical> {
        use std::collections::HashMap;
        let weight = |(alike, near): (u32, u32)| alike + NEAR_WEIGHT * near;
        type Best = HashMap<(u32, u32), ((u32, u32), Vec<u8>)>;
        let close = |set: &mut Best| {
            let mut work: Vec<(u32, u32)> = set.keys().copied().collect();
            while let Some((s, g)) = work.pop() {
                if g & NODE_MASK != 0 || g & PENDING != 0 {
                    continue;
                }
                let here = set[&(s, g)].clone();
                for &t in &self.states[s as usize].eps {
                    if set
                        .get(&(t, g))
                        .is_none_or(|o| weight(here.0) < weight(o.0))
                    {
                        set.insert((t, g), here.clone());
                        work.push((t, g));
                    }
                }
            }
        };
        let mut cur: Best = HashMap::from([((self.start, 0), ((0, 0), Vec::new()))]);
        close(&mut cur);
        for &raw in text.as_bytes() {
            let b = raw.to_ascii_lowercase();
            let mut next: Best = HashMap::new();
            for (&(s, g), (subs, out)) in &cur {
                self.step(s, g, b, &mut |t, h, e| {
                    let ((a, n), mut o) = (*subs, out.clone());
                    let n = match e {
                        Emit::Byte => {
                            o.push(b);
                            (a, n)
                        }
                        Emit::Nothing => (a, n),
                        Emit::Char(c) => {
                            o.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                            (a + 1, n)
                        }
                        Emit::Near(c) => {
                            o.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                            (a, n + 1)
                        }
                    };
                    if next.get(&(t, h)).is_none_or(|x| weight(n) < weight(x.0)) {
                        next.insert((t, h), (n, o));
                    }
                });
            }
            if next.is_empty() {
                return None;
            }
            close(&mut next);
            cur = next;
        }
        cur.into_iter()
            .filter(|((s, g), _)| *s == self.accept && g & NODE_MASK == 0 && g & PENDING == 0)
            .min_by_key(|(_, (n, o))| (weight(*n), o.clone()))
            .and_then(|(_, ((alike, near), o))| {
                String::from_utf8(o)
                    .ok()
                    .map(|text| Canonical { text, alike, near })
            })
    }

    /// The positions one (lowercased) byte leads to from position `(s, g)`,
    /// each with what it writes in the grammar's own text; before [`Self::close`].
    fn step(&self, s: u32, g: u32, b: u8, out: &mut impl FnMut(u32, u32, Emit)) {
        let st = &self.states[s as usize];
        if g & PENDING != 0 {
            // Inside a three-byte sound-alike character.
            if b & 0xC0 != 0x80 {
                return;
            }
            let (n, b1, b2) = ((g >> 16) & 3, (g >> 8) as u8, g as u8);
            if n == 1 {
                out(
                    s,
                    PENDING | 2 << 16 | (b1 as u32) << 8 | b as u32,
                    Emit::Nothing,
                );
                return;
            }
            let bytes = [b1, b2, b];
            let Ok(heard) = std::str::from_utf8(&bytes) else {
                return;
            };
            let Some(key) = Phonetic::key(heard) else {
                return;
            };
            let h = heard.chars().next();
            for &(k, t, c) in &st.alike {
                if Some(c) == h {
                    continue;
                }
                if k == key {
                    out(t, 0, Emit::Char(c));
                } else if self.near && Phonetic::near(&k, &key) {
                    out(t, 0, Emit::Near(c));
                }
            }
            return;
        }
        let (node, run) = (g & NODE_MASK, g >> RUN_SHIFT);
        if node != 0 {
            if let Some(n) = self.gap_step(node, b) {
                out(s, n | run << RUN_SHIFT, Emit::Byte);
                if self.gaps[n as usize].end {
                    out(s, run << RUN_SHIFT, Emit::Byte);
                }
            }
            return;
        }
        for &(eb, t) in &st.bytes {
            if eb == b {
                out(t, 0, Emit::Byte);
            }
        }
        if !st.alike.is_empty() && (0xE0..=0xEF).contains(&b) {
            out(s, PENDING | 1 << 16 | (b as u32) << 8, Emit::Nothing);
        }
        if st.gap && run < MAX_GAP_RUN {
            if let Some(n) = self.gap_step(0, b) {
                let run = (run + 1) << RUN_SHIFT;
                out(s, n | run, Emit::Byte);
                if self.gaps[n as usize].end {
                    out(s, run, Emit::Byte);
                }
            }
        }
    }

    fn gap_step(&self, node: u32, b: u8) -> Option<u32> {
        self.gaps[node as usize]
            .next
            .iter()
            .find(|(c, _)| *c == b)
            .map(|(_, n)| *n)
    }

    /// Adds every position reachable without a byte; sorts and dedups.
    fn close(&self, set: &mut Vec<(u32, u32)>) {
        let mut seen: std::collections::HashSet<(u32, u32)> = set.iter().copied().collect();
        let mut i = 0;
        while i < set.len() && set.len() < MAX_CURSOR {
            let (s, g) = set[i];
            if g & NODE_MASK == 0 && g & PENDING == 0 {
                // The run goes on across empty moves.
                for &t in &self.states[s as usize].eps {
                    if seen.insert((t, g)) {
                        set.push((t, g));
                    }
                }
            }
            i += 1;
        }
        set.sort_unstable();
        set.dedup();
    }

    fn state(&mut self, gap: bool) -> u32 {
        self.states.push(State {
            gap,
            ..State::default()
        });
        (self.states.len() - 1) as u32
    }

    /// A chain for `text` from `from`; returns its end. Chains from one state
    /// share their common prefixes (a trie), which keeps cursors small. With
    /// `alike`, each Chinese character may also be heard as a sound-alike
    /// ([`State::alike`]); numerals never are (十 and 四 share a key).
    fn chain(&mut self, from: u32, text: &str, alike: bool) -> u32 {
        let mut at = from;
        for c in text.to_lowercase().chars() {
            let before = at;
            for &b in c.encode_utf8(&mut [0; 4]).as_bytes() {
                let shared = self.states[at as usize]
                    .bytes
                    .iter()
                    .find(|&&(eb, t)| eb == b && self.inner.contains(&t))
                    .map(|&(_, t)| t);
                at = match shared {
                    Some(t) => t,
                    None => {
                        let t = self.state(false);
                        self.inner.insert(t);
                        self.states[at as usize].bytes.push((b, t));
                        t
                    }
                };
            }
            if alike && c.len_utf8() == 3 {
                if let Some(k) = Phonetic::key(c.encode_utf8(&mut [0; 4])) {
                    let edges = &mut self.states[before as usize].alike;
                    if !edges.contains(&(k, at, c)) {
                        edges.push((k, at, c));
                    }
                }
            }
        }
        let end = self.state(true);
        self.states[at as usize].eps.push(end);
        end
    }

    /// A loop of one or more of `words` from `from`; returns its end. With
    /// `gap`, separators may stand between the words ("twenty-two"); Mandarin
    /// numbers have none (九十八点五, 98.5), so a decoder cannot write 90-18.5.
    fn numeral_loop(&mut self, from: u32, words: &[&[&str]], gap: bool) -> u32 {
        let head = self.state(gap);
        self.states[from as usize].eps.push(head);
        let tail = self.state(gap);
        for list in words {
            for w in *list {
                let e = self.chain(head, w, false);
                self.states[e as usize].gap = gap;
                self.states[e as usize].eps.push(tail);
            }
        }
        self.states[tail as usize].eps.push(head);
        let end = self.state(true);
        self.states[tail as usize].eps.push(end);
        end
    }
}

/// True when `t` has a free-text slot.
fn has_text_slot(t: &Tpl, intent: &IntentDef, types: &BTreeMap<String, SlotType>) -> bool {
    match t {
        Tpl::Seq(v) | Tpl::Alt(v) => v.iter().any(|c| has_text_slot(c, intent, types)),
        Tpl::Opt(c) => has_text_slot(c, intent, types),
        Tpl::Slot(name) => intent
            .slots
            .get(name)
            .and_then(|d| types.get(&d.ty))
            .is_some_and(|ty| matches!(ty, SlotType::Text { .. })),
        _ => false,
    }
}

impl Builder<'_> {
    /// Builds `t` from state `from`; returns the end state.
    fn node(&mut self, t: &Tpl, from: u32) -> Option<u32> {
        Some(match t {
            Tpl::Lit(u) => self.g.chain(from, u, true),
            Tpl::Seq(v) => {
                let mut at = from;
                for c in v {
                    at = self.node(c, at)?;
                }
                at
            }
            Tpl::Alt(v) => {
                let end = self.g.state(true);
                for c in v {
                    let e = self.node(c, from)?;
                    self.g.states[e as usize].eps.push(end);
                }
                end
            }
            Tpl::Opt(c) => {
                let e = self.node(c, from)?;
                self.g.states[from as usize].eps.push(e);
                e
            }
            Tpl::Fixed(..) => from,
            Tpl::Slot(name) => {
                let ty = self
                    .intent
                    .slots
                    .get(name)
                    .and_then(|d| self.types.get(&d.ty))?;
                match ty {
                    SlotType::Number { .. } | SlotType::Digits { .. } => {
                        if self.lang == "zh" {
                            self.g
                                .numeral_loop(from, &[NUMERALS_ZH, NUMERALS_ANY, &["."]], false)
                        } else {
                            self.g
                                .numeral_loop(from, &[NUMERALS_EN, NUMERALS_ANY], true)
                        }
                    }
                    // Sentences with free text are not compiled (see `compile`).
                    SlotType::Text { .. } => return None,
                    SlotType::Enum { values, .. } => {
                        let end = self.g.state(true);
                        let lang = self.lang.to_string();
                        for v in values.values() {
                            for syn in v.synonyms(&lang) {
                                let tpl = template::parse(syn).ok()?;
                                let e = self.node(&tpl, from)?;
                                self.g.states[e as usize].eps.push(end);
                            }
                        }
                        end
                    }
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::Registry;
    use std::path::Path;

    fn grammar(lang: &str) -> ByteGrammar {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("plugins");
        let reg = Registry::load(&root).expect("plugins load");
        ByteGrammar::compile(&reg, lang).expect("sentences")
    }

    fn whole(g: &ByteGrammar, text: &str) -> bool {
        g.advance(&g.start(), text.as_bytes())
            .is_some_and(|c| g.accepts(&c))
    }

    /// Feeds `text` in pieces of `n` bytes, as tokens split it (also inside a
    /// character).
    fn in_pieces(g: &ByteGrammar, text: &str, n: usize) -> bool {
        let mut c = g.start();
        for piece in text.as_bytes().chunks(n) {
            match g.advance(&c, piece) {
                Some(next) => c = next,
                None => return false,
            }
        }
        g.accepts(&c)
    }

    #[test]
    fn mandarin_commands_are_sentences_and_near_homophones_are_not() {
        let g = grammar("zh");
        assert!(g.sentences() > 50, "{}", g.sentences());
        for ok in [
            "打开副驾车窗",
            "把空调调到二十二度",
            "空调调到22度。",
            "帮我打开主驾车窗一下",
        ] {
            assert!(whole(&g, ok), "{ok}");
            assert!(in_pieces(&g, ok, 2), "{ok} in 2-byte pieces");
            assert_eq!(g.canonical(ok).map(|c| c.alike + c.near), Some(0), "{ok}");
        }
        // One pinyin letter off (锁 suo for 速 su) is not a sound-alike.
        for bad in ["锋锁调到三档", "今天晚上吃什么好呢", "打开"] {
            assert!(!whole(&g, bad), "{bad}");
            assert_eq!(g.canonical(bad), None, "{bad}");
        }
        // A prefix continues, but is not a whole sentence.
        let c = g.advance(&g.start(), "打开副驾".as_bytes()).unwrap();
        assert!(!g.accepts(&c));
    }

    #[test]
    fn sound_alike_characters_stand_for_the_grammars_own() {
        let g = grammar("zh");
        for (heard, own, n) in [
            ("分为灯亮度调到百分之二十", "氛围灯亮度调到百分之二十", 2),
            ("所车", "锁车", 1),
            // Folded initials and finals: 弹 dan for 挡 dang, 物 wu for 雾.
            ("后弹风玻璃除物", "后挡风玻璃除雾", 2),
        ] {
            assert!(whole(&g, heard), "{heard}");
            // Tokens split characters: the sound-alike is read across pieces.
            assert!(in_pieces(&g, heard, 1), "{heard} byte by byte");
            assert!(in_pieces(&g, heard, 2), "{heard} in 2-byte pieces");
            let c = g.canonical(heard).expect(heard);
            assert_eq!((c.text.as_str(), c.alike, c.near), (own, n, 0), "{heard}");
        }
        // The fewest replacements win: the zone's synonyms include 复驾.
        let c = g.canonical("打开复价车窗").expect("复价 ~ 复驾");
        assert_eq!((c.text.as_str(), c.alike), ("打开复驾车窗", 1));
        assert!(whole(&g, &c.text));
        // Mandarin numbers: no separators inside.
        assert!(whole(&g, "收音机调到调频98.5"));
        assert!(whole(&g, "收音机调到调频九十八点五"));
        assert!(!whole(&g, "收音机调到调频90-18.5"));
        // Numerals never: 是 (shi) and 四 (si) share 十's key.
        assert!(!whole(&g, "空调调到二是二度"));
        assert!(whole(&g, "空调调到二十二度"));
    }

    #[test]
    fn english_matches_any_case_with_punctuation_and_fillers() {
        let g = grammar("en");
        for ok in [
            " Set the temperature to 22 degrees.",
            "please open the driver window",
            "Set the temperature to twenty-two degrees",
        ] {
            assert!(whole(&g, ok), "{ok}");
        }
        assert!(!whole(&g, "what a lovely day it is"));
        assert!(g.advance(&g.start(), b" zzz").is_none());
    }

    #[test]
    fn separators_and_fillers_come_in_short_runs_only() {
        let zh = grammar("zh");
        assert!(whole(&zh, "请，把空调打开一下。"));
        assert!(!whole(&zh, "把空调打开，，，，，，，，。"));
        assert!(!whole(&zh, "把，，，，，，空调打开"));
        let en = grammar("en");
        assert!(whole(&en, "Open the driver window, please."));
        assert!(!whole(&en, "open the driver window, , , , , ,"));
    }

    #[test]
    fn sentences_with_free_text_are_left_to_the_free_pass() {
        let g = grammar("en");
        assert!(!whole(&g, "navigate to Zwölf Apostel Straße 7"));
        assert!(
            whole(&g, "find the nearest gas station"),
            "no free text: stays"
        );
    }

    #[test]
    fn near_homophones_only_when_asked_and_weighed_more() {
        let g = grammar("zh");
        assert!(!whole(&g, "坐车"), "zuo is not suo");
        let g = g.with_near(true);
        let c = g.canonical("坐车").expect("near: zuo ~ suo");
        assert_eq!((c.text.as_str(), c.alike, c.near), ("锁车", 0, 1));
        assert!(in_pieces(&g, "打开处驾座椅加热", 1), "chu ~ zhu");
        // A sound-alike reading wins over a near one.
        let c = g.canonical("所车").unwrap();
        assert_eq!((c.text.as_str(), c.alike, c.near), ("锁车", 1, 0));
        assert!(!whole(&g, "今天晚上吃什么好呢"));
    }
}
