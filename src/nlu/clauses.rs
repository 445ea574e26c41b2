//! Compound requests ("open the sunroof and then turn on the AC",
//! "调暗一点，再放点轻音乐") split into clauses, each understood on its own.
//!
//! The router only splits what no engine understood whole, and only keeps a
//! split when every clause is understood: a wrong split costs nothing but the
//! attempt. Connectives that start a clause (再, 然后, "and then") are dropped
//! from it.

/// Split points inside a sentence: punctuation in both languages (a full stop
/// only before a space: 21.5 is a number) and the
/// connectives that join two requests. Longest first, so "and then" wins
/// over "and".
const SPLIT_EN: &[&str] = &[
    ". ",
    " and then ",
    " and also ",
    " and ",
    " then ",
    " also ",
    " plus ",
];
const SPLIT_ZH: &[&str] = &[
    "然后",
    "并且",
    "而且",
    "同时",
    "顺便",
    "还有",
    "接着",
    "另外",
    "再帮我",
    "再给我",
];
const PUNCT: &[char] = &[',', ';', '，', '；', '、', '。', '!', '！', '?', '？'];

/// Words a clause may start with that only join it to the one before (the
/// connectives of the split lists are split on wherever they stand, so a
/// clause never starts with one).
const LEAD: &[&str] = &["please ", "那就", "再", "也", "请"];

/// The clauses of `text`, trimmed, connectives dropped, empty ones left out.
/// One clause (the whole text) when there is nothing to split.
pub fn split(text: &str) -> Vec<String> {
    let lower = text.to_lowercase();
    let mut parts: Vec<String> = vec![lower];
    // Punctuation first, then the connectives of both languages.
    parts = parts
        .iter()
        .flat_map(|p| p.split(PUNCT).map(str::to_string).collect::<Vec<_>>())
        .collect();
    for sep in SPLIT_EN.iter().chain(SPLIT_ZH) {
        parts = parts
            .iter()
            .flat_map(|p| {
                // Pad so a connective at either end still matches as a word.
                let padded = format!(" {p} ");
                padded
                    .split(sep)
                    .map(|s| s.trim().to_string())
                    .collect::<Vec<_>>()
            })
            .collect();
    }
    parts
        .into_iter()
        .map(|p| {
            strip_lead(p.trim().trim_end_matches('.'))
                .trim()
                .to_string()
        })
        .filter(|p| p.chars().any(char::is_alphanumeric))
        .collect()
}

/// `clause` without the connectives it starts with.
fn strip_lead(mut clause: &str) -> &str {
    loop {
        let before = clause;
        for lead in LEAD {
            if let Some(rest) = clause.strip_prefix(lead) {
                // A Mandarin lead must leave a clause behind (再 of 再见 stays).
                if rest.chars().count() >= 2 {
                    clause = rest.trim_start();
                }
                break;
            }
        }
        if clause == before {
            return clause;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_connectives_and_punctuation_in_both_languages() {
        assert_eq!(
            split("Open the sunroof and then turn on the AC."),
            ["open the sunroof", "turn on the ac"]
        );
        assert_eq!(
            split("I'm cold, and the windscreen is fogging up"),
            ["i'm cold", "the windscreen is fogging up"]
        );
        assert_eq!(split("调暗一点，再放点轻音乐"), ["调暗一点", "放点轻音乐"]);
        assert_eq!(split("打开空调然后关上天窗"), ["打开空调", "关上天窗"]);
        assert_eq!(split("有点冷，顺便把车窗关上"), ["有点冷", "把车窗关上"]);
    }

    #[test]
    fn one_request_stays_one_clause() {
        assert_eq!(
            split("set the temperature to 22"),
            ["set the temperature to 22"]
        );
        assert_eq!(split("空调调到二十二度。"), ["空调调到二十二度"]);
        assert_eq!(split("band of brothers"), ["band of brothers"]);
        assert_eq!(split("再见"), ["再见"]);
        assert!(split(" , 。").is_empty());
    }
}
