//! The phone book: names to numbers, read from a vCard file (what a PBAP sync
//! of the handset leaves behind). Used by actions with `lookup` ("call mom").

use std::path::Path;

/// One contact: the names it answers to and its first number.
#[derive(Debug, Clone, PartialEq)]
pub struct Contact {
    pub names: Vec<String>,
    pub number: String,
}

/// Contacts in file order.
#[derive(Debug, Clone, Default)]
pub struct Phonebook {
    contacts: Vec<Contact>,
}

impl Phonebook {
    /// Reads a vCard file; an empty path is an empty phone book, an unreadable
    /// file is logged once and also empty.
    pub fn load(path: &str) -> Phonebook {
        if path.is_empty() {
            return Phonebook::default();
        }
        match std::fs::read_to_string(Path::new(path)) {
            Ok(text) => {
                let pb = Phonebook::parse(&text);
                tracing::info!(%path, contacts = pb.contacts.len(), "phone book loaded");
                pb
            }
            Err(e) => {
                tracing::warn!(%path, error = %e, "phone book not readable; calls by name are off");
                Phonebook::default()
            }
        }
    }

    /// Parses vCards (2.1, 3.0, 4.0): `FN`, `N`, `NICKNAME` and the first `TEL`.
    pub fn parse(text: &str) -> Phonebook {
        // Unfold continuation lines (RFC 6350 3.2).
        let mut lines: Vec<String> = Vec::new();
        for raw in text.lines() {
            let raw = raw.trim_end_matches('\r');
            if (raw.starts_with(' ') || raw.starts_with('\t')) && !lines.is_empty() {
                if let Some(last) = lines.last_mut() {
                    last.push_str(&raw[1..]);
                }
            } else {
                lines.push(raw.to_string());
            }
        }
        let mut contacts = Vec::new();
        let mut cur: Option<Contact> = None;
        for line in lines {
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            let name = key.split(';').next().unwrap_or("").to_ascii_uppercase();
            let value = value.trim();
            match name.as_str() {
                "BEGIN" if value.eq_ignore_ascii_case("VCARD") => {
                    cur = Some(Contact {
                        names: Vec::new(),
                        number: String::new(),
                    })
                }
                "END" if value.eq_ignore_ascii_case("VCARD") => {
                    if let Some(c) = cur
                        .take()
                        .filter(|c| !c.number.is_empty() && !c.names.is_empty())
                    {
                        contacts.push(c);
                    }
                }
                "FN" | "NICKNAME" => {
                    if let Some(c) = cur.as_mut() {
                        c.names.extend(
                            value
                                .split(',')
                                .map(str::trim)
                                .filter(|s| !s.is_empty())
                                .map(String::from),
                        );
                    }
                }
                "N" => {
                    if let Some(c) = cur.as_mut() {
                        // N:Family;Given;... -> "Given Family" and, for Chinese, "FamilyGiven".
                        let parts: Vec<&str> = value.split(';').map(str::trim).collect();
                        let (family, given) = (
                            parts.first().copied().unwrap_or(""),
                            parts.get(1).copied().unwrap_or(""),
                        );
                        if !family.is_empty() || !given.is_empty() {
                            c.names.push(format!("{given} {family}").trim().to_string());
                            c.names.push(format!("{family}{given}"));
                        }
                    }
                }
                "TEL" => {
                    if let Some(c) = cur.as_mut().filter(|c| c.number.is_empty()) {
                        let v = value.strip_prefix("tel:").unwrap_or(value);
                        c.number = v
                            .chars()
                            .filter(|ch| ch.is_ascii_digit() || *ch == '+')
                            .collect();
                    }
                }
                _ => {}
            }
        }
        Phonebook { contacts }
    }

    pub fn len(&self) -> usize {
        self.contacts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.contacts.is_empty()
    }

    /// The number of the contact called `name` (case, spaces and punctuation
    /// ignored; a leading "my " / "我" is ignored too).
    pub fn lookup(&self, name: &str) -> Option<&Contact> {
        let want = norm(name);
        let want_short = want
            .strip_prefix("my")
            .or_else(|| want.strip_prefix('我'))
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        if want.is_empty() {
            return None;
        }
        let hit = |w: &str| {
            self.contacts
                .iter()
                .find(|c| c.names.iter().any(|n| norm(n) == w))
        };
        hit(&want).or_else(|| want_short.as_deref().and_then(hit))
    }
}

fn norm(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const VCF: &str = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Mom\r\nN:;Mom;;;\r\nTEL;TYPE=CELL:+86 138-0013-8000\r\nEND:VCARD\r\n\
BEGIN:VCARD\nVERSION:2.1\nN:张;三;;;\nFN:张三\nTEL;CELL:13912345678\nTEL;HOME:010-1234\nEND:VCARD\n\
BEGIN:VCARD\nVERSION:4.0\nFN:Alice\n Smith\nNICKNAME:Ally\nTEL;VALUE=uri:tel:+1-555-0100\nEND:VCARD\n\
BEGIN:VCARD\nFN:No Number\nEND:VCARD\n";

    #[test]
    fn parses_and_finds() {
        let pb = Phonebook::parse(VCF);
        assert_eq!(pb.lookup("mom").unwrap().number, "+8613800138000");
        assert_eq!(pb.lookup("my mom").unwrap().number, "+8613800138000");
        assert_eq!(pb.lookup("张三").unwrap().number, "13912345678");
        assert_eq!(pb.lookup("alicesmith").unwrap().number, "+15550100");
        assert_eq!(pb.lookup("Ally").unwrap().number, "+15550100");
        assert!(pb.lookup("No Number").is_none());
        assert!(pb.lookup("bob").is_none());
        assert!(pb.lookup("").is_none());
        assert!(Phonebook::load("").is_empty());
    }
}
