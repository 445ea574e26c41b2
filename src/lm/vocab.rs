//! The vocabulary as byte strings, computed once from the tokenizer, sorted so
//! that it can be walked as a trie without building one.
//!
//! SentencePiece-style vocabularies (Gemma's) write a space as `▁` and keep
//! raw bytes as `<0xNN>` tokens; both are mapped back to bytes here. Special
//! tokens (`<bos>`, `<eos>`, turn markers, ...) have no bytes: constrained output
//! never contains them.

use super::LmError;
use std::path::Path;
use tokenizers::Tokenizer;

/// The tokenizer plus every token's bytes.
pub struct Vocab {
    pub tokenizer: Tokenizer,
    /// Bytes of token id `i` (empty for special tokens).
    bytes: Vec<Box<[u8]>>,
    /// Token ids with bytes, sorted by their bytes.
    sorted: Vec<u32>,
    /// End-of-sequence ids (`<eos>`, `<end_of_turn>`, `</s>`, ...).
    pub eos: Vec<u32>,
    /// Beginning-of-sequence id, if the tokenizer has one.
    pub bos: Option<u32>,
}

impl Vocab {
    pub fn load(path: &Path) -> Result<Vocab, LmError> {
        let tokenizer = Tokenizer::from_file(path).map_err(|e| LmError::Tokenizer {
            file: path.display().to_string(),
            msg: e.to_string(),
        })?;
        Ok(Vocab::new(tokenizer))
    }

    pub fn new(tokenizer: Tokenizer) -> Vocab {
        let n = tokenizer.get_vocab_size(true);
        let special: std::collections::HashSet<u32> = tokenizer
            .get_added_tokens_decoder()
            .iter()
            .filter(|(_, t)| t.special)
            .map(|(id, _)| *id)
            .collect();
        let mut bytes = Vec::with_capacity(n);
        let mut eos = Vec::new();
        let mut bos = None;
        for id in 0..n as u32 {
            let Some(tok) = tokenizer.id_to_token(id) else {
                bytes.push(Box::default());
                continue;
            };
            match tok.as_str() {
                "<eos>" | "</s>" | "<end_of_turn>" | "<|endoftext|>" | "<|im_end|>" => eos.push(id),
                "<bos>" | "<s>" => bos = Some(id),
                _ => {}
            }
            if special.contains(&id) || is_control(&tok) {
                bytes.push(Box::default());
                continue;
            }
            bytes.push(token_bytes(&tok).into_boxed_slice());
        }
        let mut sorted: Vec<u32> = (0..bytes.len() as u32)
            .filter(|&i| !bytes[i as usize].is_empty())
            .collect();
        sorted.sort_by(|&a, &b| bytes[a as usize].cmp(&bytes[b as usize]));
        Vocab {
            tokenizer,
            bytes,
            sorted,
            eos,
            bos,
        }
    }

    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The bytes of token `id` (empty for special tokens and unknown ids).
    pub fn bytes(&self, id: u32) -> &[u8] {
        self.bytes.get(id as usize).map_or(&[], |b| b)
    }

    /// Token ids sorted by bytes (special tokens left out).
    pub fn sorted(&self) -> &[u32] {
        &self.sorted
    }

    /// Token ids of `text` (with `<bos>` when the tokenizer adds it).
    pub fn encode(&self, text: &str, special: bool) -> Result<Vec<u32>, LmError> {
        self.tokenizer
            .encode(text, special)
            .map(|e| e.get_ids().to_vec())
            .map_err(|e| LmError::Tokenizer {
                file: "tokenizer".into(),
                msg: e.to_string(),
            })
    }
}

/// `<...>` markers that are not byte tokens: never part of the output.
fn is_control(tok: &str) -> bool {
    tok.len() > 2 && tok.starts_with('<') && tok.ends_with('>') && byte_token(tok).is_none() && {
        let inner = &tok[1..tok.len() - 1];
        !inner.contains('<')
            && !inner.contains('>')
            && !inner.is_empty()
            && (inner.starts_with('|')
                || inner.starts_with('/')
                || inner
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'))
    }
}

/// `<0xNN>` -> the byte NN.
fn byte_token(tok: &str) -> Option<u8> {
    let hex = tok.strip_prefix("<0x")?.strip_suffix('>')?;
    if hex.len() != 2 {
        return None;
    }
    u8::from_str_radix(hex, 16).ok()
}

/// The bytes a token stands for.
fn token_bytes(tok: &str) -> Vec<u8> {
    if let Some(b) = byte_token(tok) {
        return vec![b];
    }
    tok.replace('\u{2581}', " ").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_strings_map_to_bytes() {
        assert_eq!(token_bytes("<0x0A>"), b"\n");
        assert_eq!(token_bytes("▁hello"), b" hello");
        assert_eq!(token_bytes("\"}"), b"\"}");
        assert!(is_control("<start_of_turn>"));
        assert!(is_control("<|im_end|>"));
        assert!(!is_control("<0x41>"));
        assert!(!is_control("<"));
        assert!(!is_control("<>"));
    }
}
