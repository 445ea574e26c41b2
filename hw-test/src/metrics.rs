//! Scoring: text normalisation and word error rate, slot matching, percentiles.

use serde_json::Value;

const ONES: [&str; 20] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];
const TENS: [&str; 10] = [
    "", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
];

/// Spells a non-negative integer below 10 000 ("98" -> "ninety eight").
fn spell_int(n: u64) -> String {
    match n {
        0..=19 => ONES[n as usize].to_string(),
        20..=99 => {
            let t = TENS[(n / 10) as usize];
            match n % 10 {
                0 => t.to_string(),
                d => format!("{t} {}", ONES[d as usize]),
            }
        }
        100..=999 => {
            let rest = match n % 100 {
                0 => String::new(),
                r => format!(" {}", spell_int(r)),
            };
            format!("{} hundred{rest}", ONES[(n / 100) as usize])
        }
        1000..=9999 => {
            let rest = match n % 1000 {
                0 => String::new(),
                r => format!(" {}", spell_int(r)),
            };
            format!("{} thousand{rest}", spell_int(n / 1000))
        }
        _ => n.to_string(),
    }
}

fn spell_number(tok: &str) -> String {
    let (int, frac) = tok.split_once('.').unwrap_or((tok, ""));
    let mut s = int
        .parse()
        .map(spell_int)
        .unwrap_or_else(|_| int.to_string());
    if !frac.is_empty() {
        s.push_str(" point");
        for d in frac.chars() {
            s.push(' ');
            s.push_str(ONES[d.to_digit(10).unwrap_or(0) as usize]);
        }
    }
    s
}

fn is_cjk(c: char) -> bool {
    ('\u{4e00}'..='\u{9fff}').contains(&c) || ('\u{3400}'..='\u{4dbf}').contains(&c)
}

const ZH_DIGITS: [char; 10] = ['零', '一', '二', '三', '四', '五', '六', '七', '八', '九'];

/// An integer read in Chinese (below 10^8): 22 -> 二十二, 105 -> 一百零五.
fn zh_int(n: u64) -> String {
    if n >= 100_000_000 {
        return n
            .to_string()
            .chars()
            .map(|d| ZH_DIGITS[d.to_digit(10).unwrap_or(0) as usize])
            .collect();
    }
    if n >= 10_000 {
        let (hi, lo) = (n / 10_000, n % 10_000);
        let mut s = zh_int(hi) + "万";
        if lo > 0 {
            if lo < 1000 {
                s.push('零');
            }
            s += &zh_int(lo);
        }
        return s;
    }
    let mut s = String::new();
    let mut zero = false;
    for (unit, div) in [("千", 1000), ("百", 100), ("十", 10), ("", 1)] {
        let d = (n / div) % 10;
        if d == 0 {
            zero = !s.is_empty();
            continue;
        }
        if zero {
            s.push('零');
            zero = false;
        }
        if !(d == 1 && div == 10 && n < 20) {
            s.push(ZH_DIGITS[d as usize]);
        }
        s.push_str(unit);
    }
    if s.is_empty() {
        s.push('零');
    }
    s
}

/// A number token read in Chinese: 98.5 -> 九十八点五.
fn zh_number(tok: &str) -> String {
    let (int, frac) = tok.split_once('.').unwrap_or((tok, ""));
    let mut s = int.parse().map(zh_int).unwrap_or_else(|_| int.to_string());
    if !frac.is_empty() {
        s.push('点');
        s.extend(
            frac.chars()
                .map(|d| ZH_DIGITS[d.to_digit(10).unwrap_or(0) as usize]),
        );
    }
    s
}

/// Mandarin: one unit per character, numbers in characters (30% -> 百分之三十).
fn normalize_zh(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_digit() {
            let mut j = i;
            while j < chars.len()
                && (chars[j].is_ascii_digit()
                    || (chars[j] == '.' && chars.get(j + 1).is_some_and(|d| d.is_ascii_digit())))
            {
                j += 1;
            }
            let tok: String = chars[i..j].iter().collect();
            let mut spoken = zh_number(&tok);
            if matches!(chars.get(j), Some('%' | '％')) {
                spoken = format!("百分之{spoken}");
                j += 1;
            }
            out.extend(spoken.chars().map(String::from));
            i = j;
            continue;
        }
        if is_cjk(c) {
            out.push(c.to_string());
        } else if c.is_alphanumeric() {
            out.extend(c.to_lowercase().map(String::from));
        }
        i += 1;
    }
    out
}

/// Lower case, digits spelled out, "%" -> "percent", punctuation dropped
/// (apostrophes inside words kept), hyphens split words. Text with Chinese
/// characters is split into characters, numbers read in Chinese, so that the
/// word error rate of Mandarin is its character error rate.
pub fn normalize(text: &str) -> Vec<String> {
    if text.chars().any(is_cjk) {
        return normalize_zh(text);
    }
    let mut spaced = String::new();
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let digit_around = |j: Option<usize>| {
            j.and_then(|j| chars.get(j))
                .is_some_and(|c| c.is_ascii_digit())
        };
        match c {
            '%' => spaced.push_str(" percent "),
            '.' if digit_around(i.checked_sub(1)) && digit_around(Some(i + 1)) => spaced.push('.'),
            '\'' | '\u{2019}' => spaced.push('\''),
            c if c.is_alphanumeric() => spaced.extend(c.to_lowercase()),
            _ => spaced.push(' '),
        }
    }
    let mut out = Vec::new();
    for tok in spaced.split_whitespace() {
        let tok = tok.trim_matches('\'');
        if tok.is_empty() {
            continue;
        }
        if tok.chars().next().is_some_and(|c| c.is_ascii_digit())
            && tok.chars().all(|c| c.is_ascii_digit() || c == '.')
        {
            out.extend(spell_number(tok).split(' ').map(str::to_string));
        } else {
            out.push(tok.to_string());
        }
    }
    out
}

/// Word-level edit distance (substitutions + deletions + insertions).
pub fn edit_distance(a: &[String], b: &[String]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, x) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, y) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(x != y))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// (word errors, reference words) of a transcript against its reference.
pub fn word_errors(reference: &str, hypothesis: &str) -> (usize, usize) {
    let r = normalize(reference);
    (edit_distance(&r, &normalize(hypothesis)), r.len())
}

fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            (x.as_f64().unwrap_or(f64::NAN) - y.as_f64().unwrap_or(f64::NAN)).abs() < 1e-9
        }
        (Value::String(x), Value::String(y)) => x.trim().eq_ignore_ascii_case(y.trim()),
        _ => a == b,
    }
}

/// Labelled slots that the hypothesis lacks or got wrong (names).
pub fn slot_errors(expected: &serde_json::Map<String, Value>, got: &Value) -> Vec<String> {
    expected
        .iter()
        .filter(|(k, v)| !got.get(k.as_str()).is_some_and(|g| same_value(g, v)))
        .map(|(k, _)| k.clone())
        .collect()
}

/// Nearest-rank percentile (p in 0..=100) of unsorted values; None when empty.
pub fn percentile(values: &[f64], p: f64) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let rank = ((p / 100.0) * v.len() as f64).ceil().max(1.0) as usize;
    Some(v[rank.min(v.len()) - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_numbers_and_punctuation() {
        assert_eq!(
            normalize("Tune to 98.5 FM."),
            ["tune", "to", "ninety", "eight", "point", "five", "fm"]
        );
        assert_eq!(
            normalize("Open it 30%!"),
            ["open", "it", "thirty", "percent"]
        );
        assert_eq!(normalize("What's twenty-two"), ["what's", "twenty", "two"]);
    }

    #[test]
    fn wer_counts_edits() {
        assert_eq!(word_errors("turn the fan up", "Turn the fan up."), (0, 4));
        assert_eq!(word_errors("turn the fan up", "turn fan down now"), (3, 4));
        assert_eq!(word_errors("空调调到二十二度", "空调调到22度。"), (0, 8));
        assert_eq!(word_errors("车窗打开百分之三十", "车窗打开30%"), (0, 9));
        assert_eq!(word_errors("把副驾车窗打开", "把付架车窗打开"), (2, 7));
        assert_eq!(word_errors("调频九十八点五", "调频98.5"), (0, 7));
        assert_eq!(zh_int(105), "一百零五");
        assert_eq!(zh_int(10), "十");
        assert_eq!(zh_int(110), "一百一十");
    }

    #[test]
    fn slots_and_percentiles() {
        let exp = serde_json::json!({"value": 22, "zone": "rear"});
        let got = serde_json::json!({"value": 22.0, "zone": "driver"});
        assert_eq!(slot_errors(exp.as_object().unwrap(), &got), ["zone"]);
        let v = [5.0, 1.0, 3.0, 2.0, 4.0];
        assert_eq!(percentile(&v, 50.0), Some(3.0));
        assert_eq!(percentile(&v, 95.0), Some(5.0));
        assert_eq!(percentile(&[], 50.0), None);
    }
}
