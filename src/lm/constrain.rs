//! Which tokens keep the output a valid prefix, and the best of them.
//!
//! [`allowed`] walks the byte-sorted vocabulary as an implicit trie with the
//! automaton, cutting every branch at its first refused byte: the cost follows
//! the number of acceptable prefixes, not the 262k tokens. Greedy decoding only
//! needs the best allowed token, so [`pick`] first tries the highest-scoring
//! tokens one by one and walks the vocabulary only when none of them fits; both
//! give the same token.

use super::schema::Automaton;
use super::vocab::Vocab;

/// How many top-scoring tokens [`pick`] tries before walking the vocabulary.
const TOP_K: usize = 48;

/// Every token id whose bytes the automaton accepts from its current state.
pub fn allowed(vocab: &Vocab, state: &Automaton) -> Vec<u32> {
    let mut out = Vec::new();
    let sorted = vocab.sorted();
    walk(vocab, sorted, 0, state, &mut out);
    out
}

/// `ids` share their first `depth` bytes, all accepted, leaving `state`.
fn walk(vocab: &Vocab, ids: &[u32], depth: usize, state: &Automaton, out: &mut Vec<u32>) {
    let mut i = 0;
    // Tokens that end here come first in byte order.
    while i < ids.len() && vocab.bytes(ids[i]).len() == depth {
        out.push(ids[i]);
        i += 1;
    }
    while i < ids.len() {
        let b = vocab.bytes(ids[i])[depth];
        let end = i + ids[i..].partition_point(|&t| vocab.bytes(t)[depth] <= b);
        let mut next = state.clone();
        if next.step(b) {
            walk(vocab, &ids[i..end], depth + 1, &next, out);
        }
        i = end;
    }
}

/// Does the automaton accept token `id` from `state`?
pub fn accepts(vocab: &Vocab, state: &Automaton, id: u32) -> bool {
    let b = vocab.bytes(id);
    !b.is_empty() && state.clone().feed(b)
}

/// The allowed token with the highest logit (`None` only if no token fits,
/// which the automaton's design rules out for any vocabulary with single bytes).
pub fn pick(vocab: &Vocab, state: &Automaton, logits: &[f32]) -> Option<u32> {
    let n = logits.len().min(vocab.len());
    let mut idx: Vec<u32> = (0..n as u32).collect();
    let k = TOP_K.min(n);
    if k == 0 {
        return None;
    }
    let cmp = |a: &u32, b: &u32| logits[*b as usize].total_cmp(&logits[*a as usize]);
    if k < n {
        idx.select_nth_unstable_by(k - 1, cmp);
    }
    let top = &mut idx[..k];
    top.sort_by(cmp);
    if let Some(&t) = top.iter().find(|&&t| accepts(vocab, state, t)) {
        return Some(t);
    }
    allowed(vocab, state)
        .into_iter()
        .filter(|&t| (t as usize) < n)
        .max_by(|a, b| logits[*a as usize].total_cmp(&logits[*b as usize]))
}
