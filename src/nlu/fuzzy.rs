//! Sound-alike comparison of Chinese characters, for transcripts with ASR slips.
//!
//! Two characters are "the same" when their toneless pinyin is equal after folding
//! the usual near-homophone pairs of Mandarin speech recognisers (zh/z, ch/c, sh/s,
//! n/l, -ng/-n): 复价 ~ 副驾, 除 ~ 主 (chu/zhu is not folded, but 驾/价/架 are equal).

use pinyin::ToPinyin;

/// The phonetic key of a character: folded toneless pinyin, packed in 8 bytes.
pub type Key = [u8; 8];

/// Compares units by sound.
#[derive(Debug, Default)]
pub struct Phonetic;

impl Phonetic {
    pub fn new() -> Self {
        Phonetic
    }

    /// The key of a one-character CJK unit.
    pub fn key(unit: &str) -> Option<Key> {
        let mut it = unit.chars();
        let c = it.next()?;
        if it.next().is_some() {
            return None;
        }
        let py = c.to_pinyin()?.plain();
        let mut s = py.as_bytes();
        let mut key = [0u8; 8];
        let mut k = 0;
        // Fold retroflex initials and n/l.
        if s.len() >= 2 && matches!(&s[..2], b"zh" | b"ch" | b"sh") {
            key[0] = s[0];
            k = 1;
            s = &s[2..];
        } else if s.first() == Some(&b'l') {
            key[0] = b'n';
            k = 1;
            s = &s[1..];
        }
        // Fold -ng to -n.
        let s = if s.ends_with(b"ng") && s.len() > 2 {
            &s[..s.len() - 1]
        } else {
            s
        };
        for &b in s {
            if k >= 8 {
                break;
            }
            key[k] = b;
            k += 1;
        }
        Some(key)
    }

    /// True when two keys are one edit apart (substitution, insertion or deletion
    /// of one letter of the folded pinyin), both at least two letters long:
    /// near-homophones such as 锁/速 (suo/su), 掉/跳 (diao/tiao), 心/循 (xin/xun).
    pub fn near(a: &Key, b: &Key) -> bool {
        let (a, b) = (trim(a), trim(b));
        if a == b || a.len() < 2 || b.len() < 2 {
            return false;
        }
        let (s, l) = if a.len() <= b.len() { (a, b) } else { (b, a) };
        match l.len() - s.len() {
            0 => s.iter().zip(l).filter(|(x, y)| x != y).count() == 1,
            1 => (0..l.len()).any(|i| l[..i] == s[..i] && l[i + 1..] == s[i..]),
            _ => false,
        }
    }

    /// True when two different units sound alike.
    pub fn same(&self, a: &str, b: &str) -> bool {
        a != b
            && match (Self::key(a), Self::key(b)) {
                (Some(x), Some(y)) => x == y,
                _ => false,
            }
    }
}

fn trim(k: &Key) -> &[u8] {
    let n = k.iter().position(|&b| b == 0).unwrap_or(k.len());
    &k[..n]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn homophones_match() {
        let p = Phonetic::new();
        assert!(p.same("价", "驾"));
        assert!(p.same("复", "副"));
        assert!(p.same("厨", "除"));
        assert!(p.same("心", "新"));
        assert!(p.same("锋", "风")); // feng ~ feng
        assert!(!p.same("开", "关"));
        assert!(!p.same("a", "b"));
        assert!(!p.same("驾", "驾"));
    }

    #[test]
    fn near_homophones_are_one_edit_apart() {
        let k = |s: &str| Phonetic::key(s).unwrap();
        assert!(Phonetic::near(&k("锁"), &k("速"))); // suo / su
        assert!(Phonetic::near(&k("掉"), &k("跳"))); // diao / tiao
        assert!(Phonetic::near(&k("心"), &k("循"))); // xin / xun
        assert!(Phonetic::near(&k("除"), &k("主"))); // chu / zhu
        assert!(!Phonetic::near(&k("开"), &k("关"))); // kai / guan
        assert!(!Phonetic::near(&k("驾"), &k("价"))); // same key: not "near"
        assert!(!Phonetic::near(&k("一"), &k("二"))); // one-letter syllables never
    }
}
