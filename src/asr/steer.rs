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
use whisper_rs::{WhisperContext, WhisperState, WhisperTokenId};

/// whisper's prompt window: half the text context.
const MAX_PROMPT_TOKENS: usize = 223;

/// The outcome of a constrained pass.
#[derive(Debug, Clone, PartialEq)]
pub struct Steered {
    pub text: String,
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

/// First tokens tried, best first: a greedy pass can commit to a short
/// sentence on its first token (请 heard as 行, a "yes" answer) and then find
/// no way to the rest.
const FIRST_TOKENS: usize = 3;
/// A first pass this cheap is taken without trying other first tokens.
const GOOD_ENOUGH: f32 = 1.0;

/// Runs the constrained pass on the audio the state encoded last: a greedy
/// pass from each of the [`FIRST_TOKENS`] likeliest first tokens the grammar
/// allows, each given up once its regret exceeds `max_regret`. Returns the most
/// likely complete sentence, or `None`.
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
) -> Result<Option<Steered>, AsrError> {
    let dec = |e: whisper_rs::WhisperError| AsrError::Decode(e.to_string());
    let start = start_tokens(ctx, prompt, lang)?;
    // The free pass left this same start in the decoder's cache (greedy: one
    // decoder, sequence 0), so only the last start token is decoded again: its
    // logits are the first step's. (whisper.cpp keeps the logits of token i of
    // a batch in row i and whisper-rs shows row 0, so it goes alone anyway.)
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
    let (max, lse) = norm(&first);
    let cursor = grammar.start();
    let mut best: Option<Steered> = None;
    let cands = pick(&first, table, grammar, &cursor, true, FIRST_TOKENS);
    let mut logits: Vec<f32> = Vec::with_capacity(eot + 1);
    for (tok, next) in cands {
        let lp = first[tok] - lse;
        let mut out = Steered {
            text: String::new(),
            logprob: lp,
            regret: (max - lse) - lp,
            tokens: 1,
        };
        if out.regret > max_regret {
            break;
        }
        let mut cursor = next.unwrap_or_else(|| cursor.clone());
        let mut bytes = table.bytes[tok].clone();
        let mut n_past = start.len();
        let mut prev = tok;
        let done = loop {
            if out.tokens >= max_tokens || out.regret > max_regret {
                break false;
            }
            state
                .decode(&[prev as WhisperTokenId], n_past, threads)
                .map_err(dec)?;
            n_past += 1;
            logits.clear();
            logits.extend_from_slice(&state.get_logits().map_err(dec)?[..=eot]);
            let (max, lse) = norm(&logits);
            let Some((tok, next)) = pick(&logits, table, grammar, &cursor, false, 1).pop() else {
                break false;
            };
            let lp = logits[tok] - lse;
            out.logprob += lp;
            out.regret += (max - lse) - lp;
            out.tokens += 1;
            if tok == eot {
                break out.regret <= max_regret;
            }
            bytes.extend_from_slice(&table.bytes[tok]);
            cursor = next.unwrap_or(cursor);
            prev = tok;
        };
        if done {
            out.text = String::from_utf8_lossy(&bytes).trim().to_string();
            tracing::trace!(text = %out.text, regret = out.regret, logprob = out.logprob, "constrained pass");
            if best.as_ref().is_none_or(|b| out.logprob > b.logprob) {
                best = Some(out);
            }
            if best.as_ref().is_some_and(|b| b.regret <= GOOD_ENOUGH) {
                break;
            }
        }
    }
    Ok(best)
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
            "鲸".into(),
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
        // 鲸 is the favourite, but only the first byte piece of 副 continues.
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
}
