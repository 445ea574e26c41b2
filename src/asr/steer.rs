//! Grammar-constrained decoding on whisper's decoder: after the free pass has
//! encoded the audio, a second, greedy pass may only emit tokens whose bytes
//! continue a sentence of the loaded plugins ([`ByteGrammar`]), and may only end
//! on a whole sentence. It picks between sound-alikes the free pass confuses
//! (复价/副驾, 锋锁/风速) by the audio, not by text similarity.
//!
//! The pass reports its *regret*: summed over the steps, how much less likely
//! the chosen token was than the model's favourite. Speech the grammar covers
//! costs little; anything else (a destination the grammar cannot spell,
//! out-of-domain chatter) costs a lot, and the caller keeps the free transcript.

use super::grammar::{ByteGrammar, Cursor};
use super::AsrError;
use crate::nlu::normalize::units;
use whisper_rs::{WhisperContext, WhisperState, WhisperTokenId};

/// whisper's prompt window: half the text context.
const MAX_PROMPT_TOKENS: usize = 223;

/// The outcome of a constrained pass.
#[derive(Debug, Clone, PartialEq)]
pub struct Steered {
    /// The grammar's own sentence (sound-alike characters replaced).
    pub text: String,
    /// The sentence as the decoder wrote it.
    pub heard: String,
    /// Sound-alike characters replaced in `heard` to give `text`.
    pub alike: u32,
    /// Near-homophones replaced in `heard` to give `text`.
    pub near: u32,
    /// Summed log-probability of the chosen tokens (end token included).
    pub logprob: f32,
    /// Summed (best log-probability - chosen log-probability) per step.
    pub regret: f32,
    pub tokens: usize,
}

/// Text bytes of every token below the end-of-text token, and the same as a
/// byte trie, per model.
pub struct TokenTable {
    bytes: Vec<Vec<u8>>,
    eot: WhisperTokenId,
    /// The token that is a single space.
    space: Option<usize>,
    trie: Vec<TrieNode>,
}

#[derive(Default)]
struct TrieNode {
    next: Vec<(u8, u32)>,
    token: Option<u32>,
}

impl TokenTable {
    pub fn new(ctx: &WhisperContext) -> TokenTable {
        let eot = ctx.token_eot();
        let bytes = (0..eot)
            .map(|id| {
                ctx.token_to_bytes(id)
                    .map(<[u8]>::to_vec)
                    .unwrap_or_default()
            })
            .collect();
        TokenTable::from_bytes(bytes)
    }

    /// A table for tokens `0..bytes.len()`; the end token is the next id.
    pub fn from_bytes(bytes: Vec<Vec<u8>>) -> TokenTable {
        let eot = bytes.len() as WhisperTokenId;
        let mut trie = vec![TrieNode::default()];
        for (id, b) in bytes.iter().enumerate() {
            if b.is_empty() {
                continue;
            }
            let mut at = 0usize;
            for &c in b {
                let found = trie[at].next.iter().find(|(x, _)| *x == c).map(|(_, n)| *n);
                at = match found {
                    Some(n) => n as usize,
                    None => {
                        trie.push(TrieNode::default());
                        let n = trie.len() - 1;
                        trie[at].next.push((c, n as u32));
                        n
                    }
                };
            }
            trie[at].token.get_or_insert(id as u32);
        }
        let space = bytes.iter().position(|b| b == b" ");
        TokenTable {
            bytes,
            eot,
            space,
            trie,
        }
    }
}

/// Punctuation a transcript may not start with.
fn is_leading_punct(b: &[u8]) -> bool {
    let s = String::from_utf8_lossy(b);
    s.chars()
        .next()
        .is_some_and(|c| !c.is_alphanumeric() && !c.is_whitespace())
}

/// The decoder's start: `[prev] prompt [sot] [lang transcribe] [notimestamps]`,
/// as whisper.cpp builds it for the free pass.
fn start_tokens(ctx: &WhisperContext, prompt: &str, lang: &str) -> Result<Vec<i32>, AsrError> {
    let mut out = Vec::new();
    if !prompt.is_empty() {
        let p = ctx
            .tokenize(prompt, 1024)
            .map_err(|e| AsrError::Decode(format!("prompt: {e}")))?;
        out.push(ctx.token_prev());
        out.extend_from_slice(&p[p.len().saturating_sub(MAX_PROMPT_TOKENS)..]);
    }
    out.push(ctx.token_sot());
    if ctx.is_multilingual() {
        let id =
            whisper_rs::get_lang_id(lang).ok_or_else(|| AsrError::Language(lang.to_string()))?;
        out.push(ctx.token_lang(id));
        out.push(ctx.token_transcribe());
    }
    out.push(ctx.token_not());
    Ok(out)
}

/// Alternatives kept per step (first step: [`ROOT_BRANCH`]). A greedy pass can
/// commit to a prefix that leads nowhere the audio agrees with (把电, the start
/// of 把电台, for 把天窗关上; 行, a "yes" answer, for 请把空调打开); the search
/// comes back to the cheapest alternative instead.
const BRANCH: usize = 5;
const ROOT_BRANCH: usize = 16;
/// A sentence this cheap ends the search.
const GOOD_ENOUGH: f32 = 1.0;
/// Nats per unit (Mandarin character, English word: `normalize::units`) a
/// sentence is longer or shorter than the free transcript, when ranking
/// sentences.
const LENGTH_COST: f32 = 0.5;
/// Nats per sound-alike character (分为 for 氛围) a sentence needs, when ranking
/// sentences: of two sentences the audio supports alike, the one written with
/// the grammar's own characters wins.
const ALIKE_COST: f32 = 1.0;
/// Nats per near-homophone (one pinyin letter off) a sentence needs.
const NEAR_COST: f32 = 3.0;

/// Decoder calls the search may spend beyond one per token of the longest
/// allowed transcript.
const EXTRA_CALLS: usize = 32;

/// The decoder as the search sees it: next-token logits after a path of
/// tokens (those after the start tokens).
pub trait StepDecoder {
    /// Logits `..=eot` after `path` (not empty).
    fn logits(&mut self, path: &[u32]) -> Result<&[f32], AsrError>;
    /// Decoder calls so far.
    fn calls(&self) -> usize;
}

/// whisper's decoder on the encoded audio; its KV cache holds one path, and
/// going to another re-decodes from where they part.
struct WhisperStep<'a> {
    state: &'a mut WhisperState,
    start: usize,
    kv: Vec<u32>,
    threads: usize,
    eot: usize,
    buf: Vec<f32>,
    calls: usize,
}

impl StepDecoder for WhisperStep<'_> {
    fn logits(&mut self, path: &[u32]) -> Result<&[f32], AsrError> {
        let dec = |e: whisper_rs::WhisperError| AsrError::Decode(e.to_string());
        let n = path.len();
        let common = self
            .kv
            .iter()
            .zip(path)
            .take_while(|(a, b)| a == b)
            .count()
            .min(n - 1);
        // whisper.cpp drops the cache from n_past on, and whisper-rs shows the
        // logits of a batch's first token: the last token goes alone.
        if common < n - 1 {
            let toks: Vec<WhisperTokenId> = path[common..n - 1].iter().map(|&t| t as i32).collect();
            self.state
                .decode(&toks, self.start + common, self.threads)
                .map_err(dec)?;
            self.calls += 1;
        }
        self.state
            .decode(
                &[path[n - 1] as WhisperTokenId],
                self.start + n - 1,
                self.threads,
            )
            .map_err(dec)?;
        self.calls += 1;
        self.kv.clear();
        self.kv.extend_from_slice(path);
        self.buf.clear();
        self.buf
            .extend_from_slice(&self.state.get_logits().map_err(dec)?[..=self.eot]);
        Ok(&self.buf)
    }

    fn calls(&self) -> usize {
        self.calls
    }
}

/// Runs the constrained pass on the audio the state encoded last and returns
/// the sentence with the least regret it finds, or `None` (none within
/// `max_regret`, `max_tokens` and the call budget).
#[allow(clippy::too_many_arguments)]
pub fn steer(
    ctx: &WhisperContext,
    state: &mut WhisperState,
    table: &TokenTable,
    grammar: &ByteGrammar,
    prompt: &str,
    lang: &str,
    threads: usize,
    max_tokens: usize,
    max_regret: f32,
    reuse_cache: bool,
    free_units: Option<usize>,
) -> Result<Option<Steered>, AsrError> {
    let dec = |e: whisper_rs::WhisperError| AsrError::Decode(e.to_string());
    let start = start_tokens(ctx, prompt, lang)?;
    // The free pass left this same start in the decoder's cache (greedy: one
    // decoder, sequence 0), so only the last start token is decoded again: its
    // logits are the first step's.
    let (head, last) = start.split_at(start.len() - 1);
    if !reuse_cache && !head.is_empty() {
        state.decode(head, 0, threads).map_err(dec)?;
    }
    state.decode(last, head.len(), threads).map_err(dec)?;
    let eot = table.eot as usize;
    let mut first: Vec<f32> = state.get_logits().map_err(dec)?[..=eot].to_vec();
    // As whisper's free pass (suppress_blank): no end, no blank first.
    first[eot] = f32::NEG_INFINITY;
    if let Some(sp) = table.space {
        first[sp] = f32::NEG_INFINITY;
    }
    let mut step = WhisperStep {
        state,
        start: start.len(),
        kv: Vec::new(),
        threads,
        eot,
        buf: Vec::with_capacity(eot + 1),
        calls: 0,
    };
    search(
        &mut step,
        &first,
        table,
        grammar,
        max_tokens,
        max_regret,
        max_tokens + EXTRA_CALLS,
        free_units,
    )
}

/// A path of the search.
struct Node {
    path: Vec<u32>,
    cursor: Cursor,
    regret: f32,
    logprob: f32,
    /// Ended by the end token (not in `path`).
    done: bool,
}

/// Heap order: least regret first, then the longer path (it is already in
/// the decoder's cache more often).
struct ByRegret(Node);

impl PartialEq for ByRegret {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == std::cmp::Ordering::Equal
    }
}
impl Eq for ByRegret {}
impl PartialOrd for ByRegret {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for ByRegret {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        o.0.regret
            .total_cmp(&self.0.regret)
            .then(self.0.path.len().cmp(&o.0.path.len()))
    }
}

/// Best-first dives: from the cheapest open path, follow the likeliest allowed
/// token to a sentence end (one decoder call per token while the path stays
/// in the cache), keeping the other allowed tokens as open paths; stop when no
/// open path is cheaper than the best sentence found, on a sentence costing at
/// most [`GOOD_ENOUGH`], or when `budget` decoder calls are spent. The first
/// dive is the plain greedy pass.
#[allow(clippy::too_many_arguments)]
pub fn search(
    dec: &mut dyn StepDecoder,
    first: &[f32],
    table: &TokenTable,
    grammar: &ByteGrammar,
    max_tokens: usize,
    max_regret: f32,
    budget: usize,
    free_units: Option<usize>,
) -> Result<Option<Steered>, AsrError> {
    let mut open = std::collections::BinaryHeap::new();
    let root = Node {
        path: Vec::new(),
        cursor: grammar.start(),
        regret: 0.0,
        logprob: 0.0,
        done: false,
    };
    let first_kids = expand(&root, first, table, grammar, true, ROOT_BRANCH, max_regret);
    open.extend(first_kids.into_iter().map(ByRegret));
    // Sentences found rank by regret plus a cost per unit of length away from
    // the free transcript: leaving a word out is otherwise nearly free.
    let text_of = |path: &[u32]| -> String {
        let bytes: Vec<u8> = path
            .iter()
            .flat_map(|&t| table.bytes[t as usize].iter().copied())
            .collect();
        String::from_utf8_lossy(&bytes).trim().to_string()
    };
    let score = |n: &Node| -> f32 {
        let text = text_of(&n.path);
        let (alike, near) = grammar
            .canonical(&text)
            .map_or((0, 0), |c| (c.alike, c.near));
        n.regret
            + ALIKE_COST * alike as f32
            + NEAR_COST * near as f32
            + free_units.map_or(0.0, |u| LENGTH_COST * units(&text).len().abs_diff(u) as f32)
    };
    let mut best: Option<(Node, f32)> = None;
    let mut logits: Vec<f32> = Vec::with_capacity(table.eot as usize + 1);
    while let Some(ByRegret(mut node)) = open.pop() {
        if node.regret > max_regret || best.as_ref().is_some_and(|b| node.regret >= b.1) {
            break;
        }
        loop {
            if node.done {
                let sc = score(&node);
                if best.as_ref().is_none_or(|b| sc < b.1) {
                    best = Some((node, sc));
                }
                break;
            }
            if node.path.len() >= max_tokens || dec.calls() >= budget {
                break;
            }
            logits.clear();
            logits.extend_from_slice(dec.logits(&node.path)?);
            let bound = best.as_ref().map_or(max_regret, |b| b.1.min(max_regret));
            let mut kids = expand(&node, &logits, table, grammar, false, BRANCH, bound)
                .into_iter()
                .filter(|k| best.is_none() || k.regret < bound);
            let Some(next) = kids.next() else {
                tracing::trace!(path = %text_of(&node.path), regret = node.regret, "dead end");
                break;
            };
            open.extend(kids.map(ByRegret));
            node = next;
        }
        if best.as_ref().is_some_and(|b| b.1 <= GOOD_ENOUGH) || dec.calls() >= budget {
            break;
        }
    }
    if best.is_none() {
        tracing::trace!(
            calls = dec.calls(),
            open = open.len(),
            "constrained pass found no sentence"
        );
    }
    Ok(best.map(|(b, _)| {
        let heard = text_of(&b.path);
        let (text, alike, near) = match grammar.canonical(&heard) {
            Some(c) if c.alike + c.near > 0 => (c.text, c.alike, c.near),
            _ => (heard.clone(), 0, 0),
        };
        tracing::trace!(text = %text, heard = %heard, alike, near, regret = b.regret, logprob = b.logprob, calls = dec.calls(), "constrained pass");
        Steered {
            text,
            heard,
            alike,
            near,
            logprob: b.logprob,
            regret: b.regret,
            tokens: b.path.len() + 1,
        }
    }))
}

/// The `n` likeliest paths one allowed token longer than `parent` (ended, for
/// the end token), best first, costing at most `bound`.
fn expand(
    parent: &Node,
    logits: &[f32],
    table: &TokenTable,
    grammar: &ByteGrammar,
    first: bool,
    n: usize,
    bound: f32,
) -> Vec<Node> {
    let (max, lse) = norm(logits);
    pick(logits, table, grammar, &parent.cursor, first, n)
        .into_iter()
        .map(|(tok, next)| {
            let lp = logits[tok] - lse;
            let done = tok == table.eot as usize;
            let mut path = parent.path.clone();
            if !done {
                path.push(tok as u32);
            }
            Node {
                path,
                cursor: next.unwrap_or_else(|| parent.cursor.clone()),
                regret: parent.regret + (max - lse) - lp,
                logprob: parent.logprob + lp,
                done,
            }
        })
        .filter(|k| k.regret <= bound)
        .collect()
}

/// The largest logit and the log of the sum of exponentials.
fn norm(logits: &[f32]) -> (f32, f32) {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let lse = max + logits.iter().map(|l| (l - max).exp()).sum::<f32>().ln();
    (max, lse)
}

/// The `n` most likely tokens the grammar allows after `cursor`, best first
/// (the end token only on a whole sentence; no punctuation first), each with
/// the cursor after it (`None` for the end token). Walks the token trie and the
/// grammar together, so only tokens the grammar allows are ever looked at.
fn pick(
    logits: &[f32],
    table: &TokenTable,
    grammar: &ByteGrammar,
    cursor: &Cursor,
    first: bool,
    n: usize,
) -> Vec<(usize, Option<Cursor>)> {
    let eot = table.eot as usize;
    let ok = |t: usize| !(first && is_leading_punct(&table.bytes[t]));
    let mut found: Vec<(usize, Option<Cursor>)> = Vec::new();
    if grammar.accepts(cursor) && logits[eot].is_finite() {
        found.push((eot, None));
    }
    let mut stack = vec![(0usize, cursor.clone())];
    while let Some((node, cur)) = stack.pop() {
        for &(b, child) in &table.trie[node].next {
            let Some(next) = grammar.advance(&cur, &[b]) else {
                continue;
            };
            let child = child as usize;
            if let Some(t) = table.trie[child].token {
                let t = t as usize;
                if ok(t) && logits[t].is_finite() {
                    found.push((t, Some(next.clone())));
                    if found.len() > 8 * n {
                        found.sort_by(|a, b| logits[b.0].total_cmp(&logits[a.0]));
                        found.truncate(n);
                    }
                }
            }
            if !table.trie[child].next.is_empty() {
                stack.push((child, next));
            }
        }
    }
    found.sort_by(|a, b| logits[b.0].total_cmp(&logits[a.0]));
    found.truncate(n);
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::Registry;
    use std::path::Path;

    fn zh() -> ByteGrammar {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("plugins");
        let reg = Registry::load(&root).expect("plugins load");
        ByteGrammar::compile(&reg, "zh").expect("sentences")
    }

    /// Tokens: whole characters, one split character (副 as two byte pieces),
    /// punctuation; the end token is id 9.
    fn table() -> TokenTable {
        let fu = "副".as_bytes();
        let toks: Vec<Vec<u8>> = vec![
            "鳄".into(),
            fu[..1].to_vec(),
            fu[1..].to_vec(),
            "驾".into(),
            "锁".into(),
            "车".into(),
            "。".into(),
            " ".into(),
            "打开".into(),
        ];
        TokenTable::from_bytes(toks)
    }

    fn logits(favour: &[(usize, f32)]) -> Vec<f32> {
        let mut l = vec![0.0; 10];
        for &(t, v) in favour {
            l[t] = v;
        }
        l
    }

    #[test]
    fn picks_the_likeliest_token_the_grammar_allows() {
        let (g, t) = (zh(), table());
        let c = g.advance(&g.start(), "打开".as_bytes()).unwrap();
        // 鳄 is the favourite, but only the first byte piece of 副 continues.
        let got = pick(
            &logits(&[(0, 9.0), (1, 3.0), (4, 1.0)]),
            &t,
            &g,
            &c,
            false,
            1,
        );
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0, 1);
        let c = got[0].1.clone().unwrap();
        let got = pick(&logits(&[(0, 9.0), (2, 2.0)]), &t, &g, &c, false, 1);
        assert_eq!(got[0].0, 2, "the rest of 副");
    }

    #[test]
    fn ends_only_on_a_whole_sentence_and_never_starts_with_punctuation() {
        let (g, t) = (zh(), table());
        let start = g.start();
        let got = pick(
            &logits(&[(6, 9.0), (9, 8.0), (8, 1.0)]),
            &t,
            &g,
            &start,
            true,
            3,
        );
        let ids: Vec<usize> = got.iter().map(|(t, _)| *t).collect();
        assert!(!ids.contains(&6), "。 first: {ids:?}");
        assert!(!ids.contains(&9), "end before any sentence: {ids:?}");
        assert_eq!(ids[0], 8, "{ids:?}");
        let c = g.advance(&start, "打开副驾车窗".as_bytes()).unwrap();
        let got = pick(&logits(&[(9, 5.0), (6, 1.0)]), &t, &g, &c, false, 1);
        assert_eq!(got[0].0, 9, "a whole sentence may end");
        assert!(got[0].1.is_none());
    }

    /// A decoder whose logits depend on the text of the path: `favour` gives
    /// (token, logit) pairs, everything else 0.
    struct Fake<F: Fn(&str) -> Vec<(usize, f32)>> {
        table: TokenTable,
        favour: F,
        buf: Vec<f32>,
        calls: usize,
    }

    impl<F: Fn(&str) -> Vec<(usize, f32)>> StepDecoder for Fake<F> {
        fn logits(&mut self, path: &[u32]) -> Result<&[f32], AsrError> {
            self.calls += 1;
            let text: Vec<u8> = path
                .iter()
                .flat_map(|&t| self.table.bytes[t as usize].clone())
                .collect();
            self.buf = vec![0.0; self.table.eot as usize + 1];
            for (t, v) in (self.favour)(&String::from_utf8_lossy(&text)) {
                self.buf[t] = v;
            }
            Ok(&self.buf)
        }
        fn calls(&self) -> usize {
            self.calls
        }
    }

    /// The search over `words` as tokens (the end token right after them)
    /// with a fake decoder: what it found and the decoder calls it spent.
    fn run_fake(
        words: &[&str],
        favour: impl Fn(&str) -> Vec<(usize, f32)>,
        first: &[f32],
        budget: usize,
        units: Option<usize>,
    ) -> (Option<Steered>, usize) {
        let table =
            || TokenTable::from_bytes(words.iter().map(|w| w.as_bytes().to_vec()).collect());
        let mut dec = Fake {
            table: table(),
            favour,
            buf: Vec::new(),
            calls: 0,
        };
        let got = search(&mut dec, first, &table(), &zh(), 16, 8.0, budget, units).unwrap();
        (got, dec.calls)
    }

    #[test]
    fn comes_back_from_a_prefix_the_audio_does_not_continue() {
        let g = zh();
        // 把电 starts 把电台…, a real trap for a greedy pass.
        assert!(g.advance(&g.start(), "把电".as_bytes()).is_some());
        let words = ["把", "电", "天", "窗", "关上", "台", "我"];
        let eot = 7;
        let favour = move |text: &str| -> Vec<(usize, f32)> {
            match text {
                "把" => vec![(1, 12.0), (2, 9.0)],
                // The audio says 窗 here, which 把电 cannot continue with.
                "把电" => vec![(3, 14.0)],
                "把天" => vec![(3, 12.0)],
                "把天窗" => vec![(4, 12.0)],
                "把天窗关上" => vec![(eot, 12.0)],
                _ => vec![],
            }
        };
        let mut first = vec![0.0; eot + 1];
        first[0] = 12.0;
        first[eot] = f32::NEG_INFINITY;
        let (got, calls) = run_fake(&words, favour, &first, 40, None);
        let got = got.expect("a sentence");
        assert_eq!(got.text, "把天窗关上");
        assert!(got.regret > 2.9 && got.regret < 4.0, "{}", got.regret);
        assert!(calls <= 40);

        // With a budget only the greedy dive fits in, nothing is found.
        let (got, calls) = run_fake(&words, favour, &first, 2, None);
        assert!(got.is_none(), "{got:?}");
        assert!(calls <= 2);
    }

    #[test]
    fn a_sentence_that_leaves_words_out_ranks_below_one_of_the_heard_length() {
        let g = zh();
        for ok in ["打开座椅加热", "打开主驾座椅加热"] {
            let c = g.advance(&g.start(), ok.as_bytes());
            assert!(c.is_some_and(|c| g.accepts(&c)), "{ok}");
        }
        let words = ["打开", "主驾", "座椅", "加热", "鳄"];
        let eot = 5;
        let favour = move |text: &str| -> Vec<(usize, f32)> {
            match text {
                "打开" => vec![(2, 10.0), (1, 9.3)],
                "打开座椅" | "打开主驾座椅" => vec![(3, 12.0)],
                "打开主驾" => vec![(2, 12.0)],
                // The short sentence's end is a little off the audio.
                "打开座椅加热" => vec![(4, 12.5), (eot, 12.0)],
                "打开主驾座椅加热" => vec![(eot, 12.0)],
                _ => vec![],
            }
        };
        let mut first = vec![0.0; eot + 1];
        first[0] = 12.0;
        first[eot] = f32::NEG_INFINITY;
        let run = |units: Option<usize>| {
            run_fake(&words, favour, &first, 40, units)
                .0
                .expect("a sentence")
                .text
        };
        assert_eq!(run(None), "打开座椅加热", "by regret alone");
        assert_eq!(
            run(Some(units("打开主价座椅加热。").len())),
            "打开主驾座椅加热"
        );
        assert_eq!(units("Open the window, please.").len(), 4);
    }

    #[test]
    fn a_sound_alike_the_audio_prefers_gives_the_grammars_own_sentence() {
        let words = ["所", "锁", "车", "坐"];
        let eot = 4;
        // whisper hears 所车 (suo che); 锁 itself is far beyond the regret limit.
        let favour = move |text: &str| -> Vec<(usize, f32)> {
            match text {
                "所" | "锁" | "坐" => vec![(2, 12.0)],
                "所车" | "锁车" | "坐车" => vec![(eot, 12.0)],
                _ => vec![],
            }
        };
        let run = |lead: usize| {
            let mut first = vec![0.0; eot + 1];
            first[lead] = 12.0;
            first[eot] = f32::NEG_INFINITY;
            run_fake(&words, favour, &first, 40, None).0
        };
        let got = run(0).expect("a sentence");
        assert_eq!((got.text.as_str(), got.heard.as_str()), ("锁车", "所车"));
        assert_eq!(got.alike, 1);
        assert!(got.regret < 0.1, "{}", got.regret);
        // 坐 (zuo) is one pinyin letter off suo, not a sound-alike: no sentence
        // within the regret limit.
        assert!(run(3).is_none());
    }
}
