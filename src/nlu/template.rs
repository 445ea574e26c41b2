//! The sentence template language of plugin manifests (docs/PLUGINS.md):
//! `(a|b)` alternatives, `[a]` optional, `{slot}` slot, `{slot=value}` fixed value.
//! Parsed into a small tree whose literals are normalised units.

use super::normalize::units;

/// A parsed sentence template.
#[derive(Debug, Clone, PartialEq)]
pub enum Tpl {
    Lit(String),
    Seq(Vec<Tpl>),
    Alt(Vec<Tpl>),
    Opt(Box<Tpl>),
    Slot(String),
    Fixed(String, String),
}

/// A template that does not parse, with the reason and character offset.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("bad sentence {text:?} at character {at}: {msg}")]
pub struct TemplateError {
    pub text: String,
    pub at: usize,
    pub msg: String,
}

/// Parses one template.
pub fn parse(text: &str) -> Result<Tpl, TemplateError> {
    let chars: Vec<char> = text.chars().collect();
    let mut p = Parser {
        chars: &chars,
        pos: 0,
        text,
    };
    let t = p.alt()?;
    if p.pos < chars.len() {
        return Err(p.err(format!("unexpected {:?}", chars[p.pos])));
    }
    Ok(t)
}

struct Parser<'a> {
    chars: &'a [char],
    pos: usize,
    text: &'a str,
}

impl Parser<'_> {
    fn err(&self, msg: String) -> TemplateError {
        TemplateError {
            text: self.text.to_string(),
            at: self.pos,
            msg,
        }
    }

    fn alt(&mut self) -> Result<Tpl, TemplateError> {
        let mut alts = vec![self.seq()?];
        while self.chars.get(self.pos) == Some(&'|') {
            self.pos += 1;
            alts.push(self.seq()?);
        }
        Ok(if alts.len() == 1 {
            alts.pop().unwrap_or(Tpl::Seq(vec![]))
        } else {
            Tpl::Alt(alts)
        })
    }

    fn seq(&mut self) -> Result<Tpl, TemplateError> {
        let mut items = Vec::new();
        let mut lit = String::new();
        let flush = |lit: &mut String, items: &mut Vec<Tpl>| {
            for u in units(lit) {
                items.push(Tpl::Lit(u));
            }
            lit.clear();
        };
        while let Some(&c) = self.chars.get(self.pos) {
            match c {
                '|' | ')' | ']' => break,
                '(' | '[' => {
                    flush(&mut lit, &mut items);
                    self.pos += 1;
                    let inner = self.alt()?;
                    let close = if c == '(' { ')' } else { ']' };
                    if self.chars.get(self.pos) != Some(&close) {
                        return Err(self.err(format!("missing {close:?}")));
                    }
                    self.pos += 1;
                    items.push(if c == '(' {
                        inner
                    } else {
                        Tpl::Opt(Box::new(inner))
                    });
                }
                '{' => {
                    flush(&mut lit, &mut items);
                    self.pos += 1;
                    let start = self.pos;
                    while self.chars.get(self.pos).is_some_and(|&c| c != '}') {
                        self.pos += 1;
                    }
                    if self.pos >= self.chars.len() {
                        return Err(self.err("missing '}'".into()));
                    }
                    let body: String = self.chars[start..self.pos].iter().collect();
                    self.pos += 1;
                    let body = body.trim();
                    let (name, value) = match body.split_once('=') {
                        Some((n, v)) => (n.trim(), Some(v.trim())),
                        None => (body, None),
                    };
                    if name.is_empty()
                        || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    {
                        return Err(self.err(format!("bad slot name {name:?}")));
                    }
                    items.push(match value {
                        Some(v) => Tpl::Fixed(name.into(), v.into()),
                        None => Tpl::Slot(name.into()),
                    });
                }
                '}' => return Err(self.err("unexpected '}'".into())),
                _ => {
                    lit.push(c);
                    self.pos += 1;
                }
            }
        }
        flush(&mut lit, &mut items);
        Ok(if items.len() == 1 {
            items.pop().unwrap_or(Tpl::Seq(vec![]))
        } else {
            Tpl::Seq(items)
        })
    }
}

impl Tpl {
    /// Every slot name referenced (`{slot}` and `{slot=value}`).
    pub fn slot_names(&self, out: &mut Vec<String>) {
        match self {
            Tpl::Slot(n) | Tpl::Fixed(n, _) => out.push(n.clone()),
            Tpl::Seq(v) | Tpl::Alt(v) => v.iter().for_each(|t| t.slot_names(out)),
            Tpl::Opt(t) => t.slot_names(out),
            Tpl::Lit(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(s: &str) -> Tpl {
        Tpl::Lit(s.into())
    }

    #[test]
    fn parses_english() {
        let t = parse("set [the] temperature to {value} [degrees|degree]").unwrap();
        assert_eq!(
            t,
            Tpl::Seq(vec![
                lit("set"),
                Tpl::Opt(Box::new(lit("the"))),
                lit("temperature"),
                lit("to"),
                Tpl::Slot("value".into()),
                Tpl::Opt(Box::new(Tpl::Alt(vec![lit("degrees"), lit("degree")]))),
            ])
        );
    }

    #[test]
    fn parses_chinese_and_fixed() {
        let t = parse("(打开|开启)空调{state=on}").unwrap();
        assert_eq!(
            t,
            Tpl::Seq(vec![
                Tpl::Alt(vec![
                    Tpl::Seq(vec![lit("打"), lit("开")]),
                    Tpl::Seq(vec![lit("开"), lit("启")])
                ]),
                lit("空"),
                lit("调"),
                Tpl::Fixed("state".into(), "on".into()),
            ])
        );
    }

    #[test]
    fn reports_errors_with_position() {
        assert_eq!(parse("open (the window").unwrap_err().msg, "missing ')'");
        assert!(parse("open {the window").is_err());
        assert!(parse("open the} window").is_err());
        assert!(parse("open {bad name}").is_err());
        assert!(parse("close ]").is_err());
    }
}
