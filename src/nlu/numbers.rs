//! Spoken and written numbers in English and Chinese.
//!
//! [`parse_at`] looks at the units starting at one position and returns every
//! way to read a number there (shortest first), so the grammar can pick the reading
//! that lets the rest of the sentence match: "twenty one degrees" reads as 20 (one
//! unit) or 21 (two units).

/// What kind of quantity a reading is; slot types decide what they accept.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NumKind {
    /// A plain number: "21", "twenty one", "二十一点五".
    Plain,
    /// A fraction of a whole: "half", "一半", "a quarter" (value 0.5, 0.25).
    Fraction,
    /// An explicit percentage: "百分之三十" (value 30).
    Percent,
    /// "max", "最高": the slot type's maximum.
    Max,
    /// "min", "最低": the slot type's minimum.
    Min,
    /// Digits read one by one ("one three eight", "一三八"): also a digit string.
    DigitSeq,
}

/// One way to read a number: it ends before unit `end`.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    pub end: usize,
    pub value: f64,
    pub kind: NumKind,
    /// The digits as spoken, for digit-string slots (phone numbers).
    pub digits: Option<String>,
}

/// Units a spoken number may be made of, per language (the grammar-constrained
/// recogniser spells number slots with these; every one is read by [`parse_at`]
/// or is a connective inside a number).
pub const NUMERALS_ZH: &[&str] = &[
    "零", "〇", "一", "二", "两", "三", "四", "五", "六", "七", "八", "九", "十", "百", "千", "万",
    "点", "半", "负", "分", "之", "幺",
];
pub const NUMERALS_EN: &[&str] = &[
    "zero",
    "oh",
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
    "twenty",
    "thirty",
    "forty",
    "fifty",
    "sixty",
    "seventy",
    "eighty",
    "ninety",
    "hundred",
    "thousand",
    "point",
    "half",
    "and",
    "a",
    "minus",
    "percent",
    "per",
    "cent",
    "degrees",
];
pub const NUMERALS_ANY: &[&str] = &["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "%", "°"];

fn en_small(w: &str) -> Option<u32> {
    Some(match w {
        "zero" | "oh" | "o" => 0,
        "one" | "a" | "an" => 1,
        "two" | "to" | "too" => 2,
        "three" => 3,
        "four" | "for" => 4,
        "five" => 5,
        "six" => 6,
        "seven" => 7,
        "eight" => 8,
        "nine" => 9,
        "ten" => 10,
        "eleven" => 11,
        "twelve" => 12,
        "thirteen" => 13,
        "fourteen" => 14,
        "fifteen" => 15,
        "sixteen" => 16,
        "seventeen" => 17,
        "eighteen" => 18,
        "nineteen" => 19,
        _ => return None,
    })
}

fn en_tens(w: &str) -> Option<u32> {
    Some(match w {
        "twenty" => 20,
        "thirty" => 30,
        "forty" => 40,
        "fifty" => 50,
        "sixty" => 60,
        "seventy" => 70,
        "eighty" => 80,
        "ninety" => 90,
        _ => return None,
    })
}

/// A single spoken digit, strictly (no "a", "to", "for" homophones).
fn en_digit(w: &str) -> Option<u32> {
    match w {
        "a" | "an" | "to" | "too" | "for" => None,
        _ => en_small(w).filter(|&d| d < 10),
    }
}

fn zh_digit(c: &str) -> Option<u32> {
    Some(match c {
        "零" | "〇" | "洞" => 0,
        "一" | "幺" | "壹" => 1,
        "二" | "两" | "贰" | "俩" => 2,
        "三" | "叁" | "仨" => 3,
        "四" | "肆" => 4,
        "五" | "伍" => 5,
        "六" | "陆" => 6,
        "七" | "柒" => 7,
        "八" | "捌" => 8,
        "九" | "玖" => 9,
        _ => return None,
    })
}

fn zh_mult(c: &str) -> Option<u32> {
    Some(match c {
        "十" | "拾" => 10,
        "百" | "佰" => 100,
        "千" | "仟" => 1000,
        "万" => 10000,
        _ => return None,
    })
}

fn digits_value(s: &str) -> Option<f64> {
    if s.is_empty() || !s.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return None;
    }
    s.parse::<f64>().ok()
}

/// All readings of a number starting at `start`, shortest first.
pub fn parse_at(units: &[String], start: usize) -> Vec<Reading> {
    let mut out = Vec::new();
    if start >= units.len() {
        return out;
    }
    parse_digits(units, start, &mut out);
    parse_en(units, start, &mut out);
    parse_zh(units, start, &mut out);
    parse_words(units, start, &mut out);
    out.sort_by_key(|r| r.end);
    out.dedup_by(|a, b| a.end == b.end && a.value == b.value && a.kind == b.kind);
    out
}

fn push(out: &mut Vec<Reading>, end: usize, value: f64, kind: NumKind, digits: Option<String>) {
    out.push(Reading {
        end,
        value,
        kind,
        digits,
    });
}

/// "21", "21.5", "138 0013 8000" (several digit groups form one digit string too).
fn parse_digits(units: &[String], start: usize, out: &mut Vec<Reading>) {
    let Some(v) = digits_value(&units[start]) else {
        return;
    };
    let first = units[start].clone();
    push(
        out,
        start + 1,
        v,
        NumKind::Plain,
        Some(first.replace('.', "")),
    );
    // "21 point 5" / "21 and a half"
    if let Some((end, frac)) = en_fraction_tail(units, start + 1) {
        push(out, end, v + frac, NumKind::Plain, None);
    }
    let mut digits = first;
    let mut i = start + 1;
    while i < units.len() && units[i].chars().all(|c| c.is_ascii_digit()) && !units[i].is_empty() {
        digits.push_str(&units[i]);
        i += 1;
        push(
            out,
            i,
            digits.parse().unwrap_or(0.0),
            NumKind::DigitSeq,
            Some(digits.clone()),
        );
    }
}

/// "point five", "and a half", "and a quarter" after an integer.
fn en_fraction_tail(units: &[String], i: usize) -> Option<(usize, f64)> {
    let w = |k: usize| units.get(k).map(String::as_str);
    if w(i) == Some("point") {
        let mut j = i + 1;
        let mut frac = String::new();
        while let Some(d) = w(j).and_then(en_digit) {
            frac.push(char::from_digit(d, 10).unwrap_or('0'));
            j += 1;
        }
        if let Some(d) = w(j).filter(|s| frac.is_empty() && s.chars().all(|c| c.is_ascii_digit())) {
            frac.push_str(d);
            j += 1;
        }
        if !frac.is_empty() {
            return Some((j, format!("0.{frac}").parse().ok()?));
        }
    }
    if w(i) == Some("and") && matches!(w(i + 1), Some("a") | Some("one")) {
        match w(i + 2) {
            Some("half") => return Some((i + 3, 0.5)),
            Some("quarter") => return Some((i + 3, 0.25)),
            _ => {}
        }
    }
    None
}

/// English integers up to the thousands, decimals, digit sequences.
fn parse_en(units: &[String], start: usize, out: &mut Vec<Reading>) {
    let w = |k: usize| units.get(k).map(String::as_str);
    // Digit-by-digit: "one zero one point seven", "one three eight ...".
    let mut j = start;
    let mut digits = String::new();
    while let Some(d) = w(j).and_then(en_digit) {
        digits.push(char::from_digit(d, 10).unwrap_or('0'));
        j += 1;
    }
    if digits.len() >= 2 {
        for k in 2..=digits.len() {
            let s = &digits[..k];
            push(
                out,
                start + k,
                s.parse().unwrap_or(0.0),
                NumKind::DigitSeq,
                Some(s.into()),
            );
        }
        if let Some((end, frac)) = en_fraction_tail(units, j) {
            let v: f64 = digits.parse().unwrap_or(0.0);
            push(out, end, v + frac, NumKind::Plain, None);
        }
    }
    // Cardinal: [N hundred [and]] [tens [ones] | small]
    let mut i = start;
    let mut total: u32 = 0;
    let mut candidates: Vec<(usize, u32)> = Vec::new();
    if let Some(n) = w(i).and_then(en_small).filter(|&n| n < 10) {
        if matches!(w(i + 1), Some("hundred")) {
            total = n * 100;
            i += 2;
            candidates.push((i, total));
            if w(i) == Some("and")
                && (w(i + 1).and_then(en_small).is_some() || w(i + 1).and_then(en_tens).is_some())
            {
                i += 1;
            }
        }
    } else if w(i) == Some("hundred") {
        total = 100;
        i += 1;
        candidates.push((i, total));
    }
    if let Some(t) = w(i).and_then(en_tens) {
        total += t;
        i += 1;
        candidates.push((i, total));
        if let Some(o) = w(i).and_then(en_small).filter(|&o| (1..10).contains(&o)) {
            if !matches!(
                w(i),
                Some("a") | Some("an") | Some("to") | Some("too") | Some("for")
            ) {
                candidates.push((i + 1, total + o));
            }
        }
    } else if let Some(s) = w(i).and_then(en_small) {
        // "a"/"an" alone is not a number, "to"/"for" only count after "hundred".
        let weak = matches!(
            w(i),
            Some("a")
                | Some("an")
                | Some("to")
                | Some("too")
                | Some("for")
                | Some("o")
                | Some("oh")
        );
        if !weak {
            candidates.push((i + 1, total + s));
        }
    }
    for (end, v) in candidates {
        push(out, end, v as f64, NumKind::Plain, None);
        if let Some((e2, frac)) = en_fraction_tail(units, end) {
            push(out, e2, v as f64 + frac, NumKind::Plain, None);
        }
    }
}

/// Chinese numerals: 二十一, 二十一点五, 一百零五, 廿二, 两, digit strings 一三八.
fn parse_zh(units: &[String], start: usize, out: &mut Vec<Reading>) {
    let w = |k: usize| units.get(k).map(String::as_str);
    let first = match w(start) {
        Some(s) => s,
        None => return,
    };
    if first == "百" && w(start + 1) == Some("分") && w(start + 2) == Some("之") {
        for r in zh_cardinal(units, start + 3) {
            push(out, r.0, r.1, NumKind::Percent, None);
        }
        return;
    }
    // digit string (no multipliers): 一三八..., 一零一点七
    let mut j = start;
    let mut digits = String::new();
    while let Some(d) = w(j).filter(|s| *s != "两" && *s != "俩").and_then(zh_digit) {
        digits.push(char::from_digit(d, 10).unwrap_or('0'));
        j += 1;
    }
    if digits.len() >= 2 && w(j).and_then(zh_mult).is_none() {
        for k in 2..=digits.len() {
            let s = &digits[..k];
            push(
                out,
                start + k,
                s.parse().unwrap_or(0.0),
                NumKind::DigitSeq,
                Some(s.into()),
            );
        }
        if w(j) == Some("点") {
            let (e, frac) = zh_decimals(units, j + 1);
            if e > j + 1 {
                push(
                    out,
                    e,
                    digits.parse::<f64>().unwrap_or(0.0) + frac,
                    NumKind::Plain,
                    None,
                );
            }
        }
    }
    for (end, v) in zh_cardinal(units, start) {
        push(out, end, v, NumKind::Plain, None);
        // 二十一点五
        if w(end) == Some("点") {
            let (e, frac) = zh_decimals(units, end + 1);
            if e > end + 1 {
                push(out, e, v + frac, NumKind::Plain, None);
            }
        }
        // 二十二度半 is handled by the sentence (度半); 二十一个半 is rare.
        if w(end) == Some("分") && w(end + 1) == Some("之") {
            for (e2, n) in zh_cardinal(units, end + 2) {
                if v > 0.0 {
                    push(out, e2, n / v, NumKind::Fraction, None);
                }
            }
        }
    }
}

fn zh_decimals(units: &[String], mut i: usize) -> (usize, f64) {
    let mut frac = String::from("0.");
    let start = i;
    while let Some(d) = units.get(i).and_then(|s| zh_digit(s)) {
        frac.push(char::from_digit(d, 10).unwrap_or('0'));
        i += 1;
    }
    if i == start {
        return (i, 0.0);
    }
    (i, frac.parse().unwrap_or(0.0))
}

/// Readings of a Chinese cardinal (with 十/百/千/万) starting at `start`: (end, value).
fn zh_cardinal(units: &[String], start: usize) -> Vec<(usize, f64)> {
    let w = |k: usize| units.get(k).map(String::as_str);
    let mut res = Vec::new();
    let mut i = start;
    let mut total: u64 = 0;
    let mut section: u64 = 0;
    let mut pending: Option<u64> = None;
    let mut last_mult = u64::MAX;
    let mut saw_zero = false;
    while let Some(s) = w(i) {
        if s == "廿" || s == "卅" {
            if pending.is_some() {
                break;
            }
            section += if s == "廿" { 20 } else { 30 };
            last_mult = 10;
            i += 1;
            res.push((i, (total + section) as f64));
            continue;
        }
        if let Some(d) = zh_digit(s) {
            if pending.is_some() {
                break;
            }
            if d == 0 {
                saw_zero = true;
                i += 1;
                continue;
            }
            pending = Some(d as u64);
            i += 1;
            // "二百五" style abbreviation: digit after 百/千 without 十.
            let implied = if !saw_zero && last_mult != u64::MAX && last_mult >= 100 {
                d as u64 * last_mult / 10
            } else {
                d as u64
            };
            res.push((i, (total + section + implied) as f64));
            continue;
        }
        if let Some(m) = zh_mult(s) {
            let m = m as u64;
            let n = match pending.take() {
                Some(n) => n,
                None if m == 10 && section == 0 && total == 0 && i == start => 1,
                None => break,
            };
            if m == 10000 {
                total = (total + section + n) * 10000;
                section = 0;
            } else {
                if m >= last_mult && last_mult != u64::MAX {
                    break;
                }
                section += n * m;
            }
            last_mult = m;
            saw_zero = false;
            i += 1;
            res.push((i, (total + section) as f64));
            continue;
        }
        break;
    }
    // A lone 一 is ambiguous (一下, 一点); keep it, the sentence decides.
    res
}

/// Word-like quantities: half, quarter, max, min (both languages).
fn parse_words(units: &[String], start: usize, out: &mut Vec<Reading>) {
    let w = |k: usize| units.get(k).map(String::as_str);
    let seq = |words: &[&str]| {
        words
            .iter()
            .enumerate()
            .all(|(k, x)| w(start + k) == Some(*x))
    };
    let table: &[(&[&str], f64, NumKind)] = &[
        (&["half"], 0.5, NumKind::Fraction),
        (&["halfway"], 0.5, NumKind::Fraction),
        (&["half", "way"], 0.5, NumKind::Fraction),
        (&["a", "half"], 0.5, NumKind::Fraction),
        (&["a", "quarter"], 0.25, NumKind::Fraction),
        (&["quarter"], 0.25, NumKind::Fraction),
        (&["three", "quarters"], 0.75, NumKind::Fraction),
        (&["a", "third"], 1.0 / 3.0, NumKind::Fraction),
        (&["one", "third"], 1.0 / 3.0, NumKind::Fraction),
        (&["max"], 1.0, NumKind::Max),
        (&["maximum"], 1.0, NumKind::Max),
        (&["the", "max"], 1.0, NumKind::Max),
        (&["the", "maximum"], 1.0, NumKind::Max),
        (&["highest"], 1.0, NumKind::Max),
        (&["the", "highest"], 1.0, NumKind::Max),
        (&["full"], 1.0, NumKind::Max),
        (&["all", "the", "way"], 1.0, NumKind::Max),
        (&["min"], 0.0, NumKind::Min),
        (&["minimum"], 0.0, NumKind::Min),
        (&["the", "minimum"], 0.0, NumKind::Min),
        (&["lowest"], 0.0, NumKind::Min),
        (&["the", "lowest"], 0.0, NumKind::Min),
        (&["一", "半"], 0.5, NumKind::Fraction),
        (&["半"], 0.5, NumKind::Fraction),
        (&["最", "大"], 1.0, NumKind::Max),
        (&["最", "高"], 1.0, NumKind::Max),
        (&["最", "强"], 1.0, NumKind::Max),
        (&["全", "部"], 1.0, NumKind::Max),
        (&["最", "小"], 0.0, NumKind::Min),
        (&["最", "低"], 0.0, NumKind::Min),
        (&["最", "弱"], 0.0, NumKind::Min),
    ];
    for (words, v, kind) in table {
        if seq(words) {
            push(out, start + words.len(), *v, *kind, None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nlu::normalize::units;

    #[test]
    fn every_listed_numeral_is_read_or_a_connective() {
        let connectives = [
            "oh", "point", "half", "and", "a", "minus", "percent", "per", "cent", "degrees",
            "hundred", "thousand", "零", "〇", "百", "千", "万", "点", "半", "负", "分", "之", "%",
            "°",
        ];
        for w in NUMERALS_EN.iter().chain(NUMERALS_ZH).chain(NUMERALS_ANY) {
            assert!(
                val(w).is_some() || connectives.contains(w),
                "{w:?} is listed as a numeral but not read as one"
            );
        }
        assert_eq!(val("二十二点五"), Some(22.5));
        assert_eq!(val("一百零五"), Some(105.0));
    }

    /// The longest plain/percent reading of the whole text.
    fn val(text: &str) -> Option<f64> {
        let u = units(text);
        parse_at(&u, 0)
            .into_iter()
            .filter(|r| r.end == u.len())
            .map(|r| r.value)
            .next_back()
    }

    #[test]
    fn english_cardinals() {
        assert_eq!(val("twenty one"), Some(21.0));
        assert_eq!(val("twenty"), Some(20.0));
        assert_eq!(val("seven"), Some(7.0));
        assert_eq!(val("one hundred and five"), Some(105.0));
        assert_eq!(val("a hundred"), Some(100.0));
        assert_eq!(val("twenty one point five"), Some(21.5));
        assert_eq!(val("twenty one and a half"), Some(21.5));
        assert_eq!(val("one zero one point seven"), Some(101.7));
        assert_eq!(val("ninety eight point five"), Some(98.5));
    }

    #[test]
    fn digits_and_decimals() {
        assert_eq!(val("22"), Some(22.0));
        assert_eq!(val("101.7"), Some(101.7));
        assert_eq!(val("21 point 5"), Some(21.5));
    }

    #[test]
    fn chinese_cardinals() {
        assert_eq!(val("二十一"), Some(21.0));
        assert_eq!(val("十"), Some(10.0));
        assert_eq!(val("十五"), Some(15.0));
        assert_eq!(val("两"), Some(2.0));
        assert_eq!(val("廿一"), Some(21.0));
        assert_eq!(val("一百零五"), Some(105.0));
        assert_eq!(val("二百五"), Some(250.0));
        assert_eq!(val("二十一点五"), Some(21.5));
        assert_eq!(val("一零一点七"), Some(101.7));
        assert_eq!(val("三千"), Some(3000.0));
        assert_eq!(val("一万二千"), Some(12000.0));
    }

    #[test]
    fn fractions_percent_and_extremes() {
        let u = units("百分之五十");
        let r = parse_at(&u, 0);
        assert!(r
            .iter()
            .any(|r| r.kind == NumKind::Percent && r.value == 50.0 && r.end == 5));
        let u = units("一半");
        assert!(parse_at(&u, 0)
            .iter()
            .any(|r| r.kind == NumKind::Fraction && r.value == 0.5));
        let u = units("halfway");
        assert!(parse_at(&u, 0)
            .iter()
            .any(|r| r.kind == NumKind::Fraction && r.value == 0.5));
        let u = units("a quarter");
        assert!(parse_at(&u, 0)
            .iter()
            .any(|r| r.kind == NumKind::Fraction && r.value == 0.25));
        let u = units("最高");
        assert!(parse_at(&u, 0).iter().any(|r| r.kind == NumKind::Max));
        let u = units("max");
        assert!(parse_at(&u, 0).iter().any(|r| r.kind == NumKind::Max));
        let u = units("三分之一");
        assert!(parse_at(&u, 0)
            .iter()
            .any(|r| r.kind == NumKind::Fraction && (r.value - 1.0 / 3.0).abs() < 1e-9));
    }

    #[test]
    fn digit_strings() {
        let u = units("一三八零零一三八零零零");
        let r = parse_at(&u, 0);
        let last = r.iter().rfind(|r| r.kind == NumKind::DigitSeq).unwrap();
        assert_eq!(last.digits.as_deref(), Some("13800138000"));
        let u = units("one three eight");
        let r = parse_at(&u, 0);
        assert!(r.iter().any(|r| r.digits.as_deref() == Some("138")));
        let u = units("138 0013 8000");
        let r = parse_at(&u, 0);
        assert!(r.iter().any(|r| r.digits.as_deref() == Some("13800138000")));
    }

    #[test]
    fn prefixes_are_offered() {
        let u = units("twenty one degrees");
        let ends: Vec<usize> = parse_at(&u, 0).iter().map(|r| r.end).collect();
        assert!(ends.contains(&1) && ends.contains(&2));
        assert!(parse_at(&units("hello"), 0).is_empty());
        assert!(parse_at(&units("a"), 0).is_empty());
    }
}
