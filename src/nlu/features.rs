//! Hashed n-gram features of an utterance, the input of the intent model.
//!
//! The same computation runs in `models/nlu/textnorm.py` at training time; the
//! exact specification is in docs/NLU.md and `models/nlu/feature_fixtures.json`
//! (written by the training script) pins both implementations to each other.
//!
//! 1. `normalize::units(text)`, at most [`MAX_FEATURE_UNITS`] of them.
//! 2. A unit starting with an ASCII digit stands for its shape: every digit
//!    becomes `0` (`21.5` -> `00.0`).
//! 3. Feature strings: `u:<unit>` for every unit; `b:<a>|<b>` for every pair of
//!    neighbours in `<s> units.. </s>`; `c:<three chars>` for every character
//!    trigram of `^<unit>$` when the unit is a word (not CJK, has a letter).
//! 4. Bucket = FNV-1a 64 of the UTF-8 bytes of the feature string, modulo `dim`;
//!    value = occurrence count; the vector is then L2-normalised.

use super::normalize::{is_cjk, units};

/// Units beyond this many are ignored (a command is short).
pub const MAX_FEATURE_UNITS: usize = 128;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// Incremental FNV-1a 64: hashes a feature string piece by piece, no allocation.
#[derive(Clone, Copy)]
struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Fnv(FNV_OFFSET)
    }

    fn bytes(mut self, b: &[u8]) -> Self {
        for &x in b {
            self.0 ^= x as u64;
            self.0 = self.0.wrapping_mul(FNV_PRIME);
        }
        self
    }

    fn char(self, c: char) -> Self {
        let mut tmp = [0u8; 4];
        self.bytes(c.encode_utf8(&mut tmp).as_bytes())
    }

    /// A unit, shaped: digits of a number unit hash as `0`.
    fn unit(self, u: &str) -> Self {
        if is_number(u) {
            u.bytes().fold(self, |h, b| {
                h.bytes(&[if b.is_ascii_digit() { b'0' } else { b }])
            })
        } else {
            self.bytes(u.as_bytes())
        }
    }
}

/// FNV-1a 64 of a byte string (the hash of the feature specification).
pub fn fnv1a64(data: &[u8]) -> u64 {
    Fnv::new().bytes(data).0
}

fn is_number(u: &str) -> bool {
    u.as_bytes().first().is_some_and(|b| b.is_ascii_digit())
}

fn is_word(u: &str) -> bool {
    u.chars().next().is_some_and(|c| !is_cjk(c)) && u.chars().any(char::is_alphabetic)
}

/// Computes feature vectors of a fixed dimension.
#[derive(Debug, Clone)]
pub struct Featurizer {
    dim: usize,
}

/// A reusable dense feature vector: only the touched entries are reset between calls.
#[derive(Debug, Clone)]
pub struct FeatureBuf {
    dense: Vec<f32>,
    touched: Vec<u32>,
}

impl FeatureBuf {
    /// The dense vector (length = the featurizer's dimension).
    pub fn dense(&self) -> &[f32] {
        &self.dense
    }

    /// Number of nonzero entries.
    pub fn nnz(&self) -> usize {
        self.touched.len()
    }

    /// The nonzero entries, sorted by index.
    pub fn sparse(&self) -> Vec<(u32, f32)> {
        let mut v: Vec<(u32, f32)> = self
            .touched
            .iter()
            .map(|&i| (i, self.dense[i as usize]))
            .collect();
        v.sort_by_key(|p| p.0);
        v
    }
}

impl Featurizer {
    /// A featurizer with `dim` buckets (`dim` > 0).
    pub fn new(dim: usize) -> Featurizer {
        Featurizer { dim: dim.max(1) }
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    /// A zeroed buffer for [`Featurizer::fill`].
    pub fn buffer(&self) -> FeatureBuf {
        FeatureBuf {
            dense: vec![0.0; self.dim],
            touched: Vec::with_capacity(256),
        }
    }

    /// Writes the features of `text` into `buf` (replacing what it held).
    pub fn fill(&self, text: &str, buf: &mut FeatureBuf) {
        self.fill_units(&units(text), buf);
    }

    /// Like [`Featurizer::fill`], from units already computed.
    pub fn fill_units(&self, all: &[String], buf: &mut FeatureBuf) {
        if buf.dense.len() != self.dim {
            *buf = self.buffer();
        }
        for &i in &buf.touched {
            buf.dense[i as usize] = 0.0;
        }
        buf.touched.clear();
        let us = &all[..all.len().min(MAX_FEATURE_UNITS)];
        if us.is_empty() {
            return;
        }
        let dim = self.dim as u64;
        let mut add = |h: Fnv| {
            let k = (h.0 % dim) as usize;
            if buf.dense[k] == 0.0 {
                buf.touched.push(k as u32);
            }
            buf.dense[k] += 1.0;
        };
        for u in us {
            add(Fnv::new().bytes(b"u:").unit(u));
        }
        let mut prev: Option<&str> = None;
        for u in us
            .iter()
            .map(String::as_str)
            .map(Some)
            .chain(std::iter::once(None))
        {
            let h = Fnv::new().bytes(b"b:");
            let h = match prev {
                Some(p) => h.unit(p),
                None => h.bytes(b"<s>"),
            };
            let h = h.bytes(b"|");
            let h = match u {
                Some(x) => h.unit(x),
                None => h.bytes(b"</s>"),
            };
            add(h);
            prev = u;
        }
        for u in us.iter().filter(|u| is_word(u)) {
            // Trigrams of ^unit$ over characters (word units never start with a digit).
            let (mut a, mut b) = ('\0', '\0');
            for (k, c) in std::iter::once('^')
                .chain(u.chars())
                .chain(std::iter::once('$'))
                .enumerate()
            {
                if k >= 2 {
                    add(Fnv::new().bytes(b"c:").char(a).char(b).char(c));
                }
                (a, b) = (b, c);
            }
        }
        let norm = buf
            .touched
            .iter()
            .map(|&i| {
                let v = buf.dense[i as usize] as f64;
                v * v
            })
            .sum::<f64>()
            .sqrt();
        if norm > 0.0 {
            for &i in &buf.touched {
                let v = buf.dense[i as usize] as f64 / norm;
                buf.dense[i as usize] = v as f32;
            }
        }
    }

    /// The nonzero features of `text`, sorted by index (allocates; for tests and tools).
    pub fn sparse(&self, text: &str) -> Vec<(u32, f32)> {
        let mut buf = self.buffer();
        self.fill(text, &mut buf);
        buf.sparse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn fnv_reference_values() {
        // Published FNV-1a 64 test vectors.
        assert_eq!(fnv1a64(b""), 0xcbf29ce484222325);
        assert_eq!(fnv1a64(b"a"), 0xaf63dc4c8601ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x85944171f73967e8);
    }

    #[test]
    fn shapes_and_norm() {
        let f = Featurizer::new(1 << 14);
        let a = f.sparse("set it to 21");
        let b = f.sparse("set it to 27");
        assert_eq!(a, b, "numbers of the same shape give the same features");
        let n: f32 = a.iter().map(|(_, v)| v * v).sum();
        assert!((n - 1.0).abs() < 1e-5);
        assert!(f.sparse("").is_empty());
        assert!(f.sparse("?!,.").is_empty());
    }

    #[test]
    fn buffer_is_reused_cleanly() {
        let f = Featurizer::new(1 << 14);
        let mut buf = f.buffer();
        f.fill("open the sunroof halfway please", &mut buf);
        f.fill("打开空调", &mut buf);
        assert_eq!(buf.sparse(), f.sparse("打开空调"));
        let total: usize = buf.dense().iter().filter(|v| **v != 0.0).count();
        assert_eq!(total, buf.nnz());
    }

    /// The training script's featuriser and this one must agree exactly.
    #[test]
    fn matches_training_fixtures() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/nlu/feature_fixtures.json");
        let text = std::fs::read_to_string(&path).expect("models/nlu/feature_fixtures.json");
        let v: serde_json::Value = serde_json::from_str(&text).expect("fixtures parse");
        let dim = v["dim"].as_u64().unwrap() as usize;
        let f = Featurizer::new(dim);
        let fixtures = v["fixtures"].as_array().unwrap();
        assert!(fixtures.len() >= 8);
        for fx in fixtures {
            let t = fx["text"].as_str().unwrap();
            let want_units: Vec<String> = fx["units"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u.as_str().unwrap().to_string())
                .collect();
            assert_eq!(units(t), want_units, "units of {t:?}");
            let want: Vec<(u32, f32)> = fx["features"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| (p[0].as_u64().unwrap() as u32, p[1].as_f64().unwrap() as f32))
                .collect();
            let got = f.sparse(t);
            assert_eq!(got.len(), want.len(), "feature count of {t:?}");
            for ((gi, gv), (wi, wv)) in got.iter().zip(&want) {
                assert_eq!(gi, wi, "feature index of {t:?}");
                assert!(
                    (gv - wv).abs() < 1e-6,
                    "feature value of {t:?}: {gv} vs {wv}"
                );
            }
        }
    }
}
