//! Text normalisation shared by the grammar compiler and the matcher.
//!
//! An utterance becomes a sequence of *units*: an English word (lower case, inner
//! apostrophes kept), a number written in digits (`21`, `101.7`), a `%` sign, or a
//! single CJK character. Punctuation and spacing disappear, full-width forms are
//! folded to ASCII. Chinese needs no word segmentation: every character is a unit.

/// Longest utterance (in units) the grammar looks at; longer input is not a command.
pub const MAX_UNITS: usize = 64;

/// True for characters matched one by one (CJK ideographs and friends).
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F | 0x3007)
}

/// Folds full-width ASCII (`０-９`, `Ａ-Ｚ`, `％`) to half-width.
fn fold_width(c: char) -> char {
    match c as u32 {
        0xFF01..=0xFF5E => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        0x3000 => ' ',
        _ => c,
    }
}

/// Splits `text` into units. Cheap: one pass, one allocation per unit.
pub fn units(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut word = String::new();
    let chars: Vec<char> = text.chars().map(fold_width).collect();
    let flush = |word: &mut String, out: &mut Vec<String>| {
        if !word.is_empty() {
            let w = word.trim_matches('\'').to_string();
            if !w.is_empty() {
                out.push(w);
            }
            word.clear();
        }
    };
    for (i, &c) in chars.iter().enumerate() {
        if is_cjk(c) {
            flush(&mut word, &mut out);
            out.push(c.to_string());
        } else if c.is_ascii_digit() {
            word.push(c);
        } else if c == '.' || c == ',' {
            // Decimal point inside a number ("21.5"); anything else is punctuation.
            let prev_digit = word.chars().last().is_some_and(|p| p.is_ascii_digit());
            let next_digit = chars.get(i + 1).is_some_and(|n| n.is_ascii_digit());
            if c == '.' && prev_digit && next_digit {
                word.push('.');
            } else {
                flush(&mut word, &mut out);
            }
        } else if c.is_alphabetic() {
            if word.chars().last().is_some_and(|p| p.is_ascii_digit()) {
                flush(&mut word, &mut out);
            }
            word.extend(c.to_lowercase());
        } else if (c == '\'' || c == '’') && !word.is_empty() {
            word.push('\'');
        } else if c == '%' || c == '°' {
            flush(&mut word, &mut out);
            out.push(if c == '%' { "%".into() } else { "°".into() });
        } else {
            flush(&mut word, &mut out);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// Joins units back into text: spaces between non-CJK units only.
pub fn join(units: &[String]) -> String {
    let mut s = String::new();
    let mut prev_cjk = true;
    for u in units {
        let cjk = u.chars().next().is_some_and(is_cjk);
        if !(s.is_empty() || cjk || prev_cjk) {
            s.push(' ');
        }
        s.push_str(u);
        prev_cjk = cjk;
    }
    s
}

/// Guesses the language of a text: `zh` when it has any CJK character.
pub fn detect_lang(text: &str) -> &'static str {
    if text.chars().any(is_cjk) {
        "zh"
    } else {
        "en"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_english_words_and_numbers() {
        assert_eq!(
            units("Set the Temperature to 21.5 degrees, please!"),
            [
                "set",
                "the",
                "temperature",
                "to",
                "21.5",
                "degrees",
                "please"
            ]
        );
        assert_eq!(units("driver's side 30%"), ["driver's", "side", "30", "%"]);
    }

    #[test]
    fn splits_chinese_per_character_and_folds_width() {
        assert_eq!(
            units("温度调到２２度。"),
            ["温", "度", "调", "到", "22", "度"]
        );
        assert_eq!(units("打开AC"), ["打", "开", "ac"]);
    }

    #[test]
    fn join_restores_spacing() {
        assert_eq!(join(&units("the airport")), "the airport");
        assert_eq!(join(&units("首都机场")), "首都机场");
        assert_eq!(join(&units("去T3航站楼")), "去t3航站楼");
    }

    #[test]
    fn language_guess() {
        assert_eq!(detect_lang("打开空调"), "zh");
        assert_eq!(detect_lang("open the window"), "en");
    }
}
