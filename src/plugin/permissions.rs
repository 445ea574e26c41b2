//! Permission patterns: a plugin may only actuate VSS paths and call D-Bus
//! services it declared.

/// True when `path` matches `pattern`: segments separated by `.`, `*` matches
/// one segment, `**` matches the rest (one or more segments).
pub fn vss_matches(pattern: &str, path: &str) -> bool {
    let mut pat = pattern.split('.');
    let mut segs = path.split('.');
    loop {
        match (pat.next(), segs.next()) {
            (Some("**"), Some(_)) => return true,
            (Some("*"), Some(_)) => continue,
            (Some(p), Some(s)) if p == s => continue,
            (None, None) => return true,
            _ => return false,
        }
    }
}

/// True when any of `patterns` allows `path`.
pub fn vss_allowed(patterns: &[String], path: &str) -> bool {
    patterns.iter().any(|p| vss_matches(p, path))
}

/// True when the D-Bus name `name` matches `pattern`, where `*` stands for any
/// run of characters. A `name` that is itself a pattern (`org.mpris.MediaPlayer2.*`)
/// is allowed when the permission covers it literally, so a manifest cannot widen
/// what it declared.
pub fn dbus_matches(pattern: &str, name: &str) -> bool {
    fn glob(p: &[u8], s: &[u8]) -> bool {
        match p.split_first() {
            None => s.is_empty(),
            Some((b'*', rest)) => (0..=s.len()).any(|i| glob(rest, &s[i..])),
            Some((c, rest)) => s.first() == Some(c) && glob(rest, &s[1..]),
        }
    }
    glob(pattern.as_bytes(), name.as_bytes())
}

/// True when any of `patterns` allows the D-Bus service `name`.
pub fn dbus_allowed(patterns: &[String], name: &str) -> bool {
    patterns.iter().any(|p| dbus_matches(p, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert!(vss_matches(
            "Vehicle.Cabin.HVAC.**",
            "Vehicle.Cabin.HVAC.Station.Row1.Driver.Temperature"
        ));
        assert!(vss_matches(
            "Vehicle.Cabin.Door.*.*.Window.Position",
            "Vehicle.Cabin.Door.Row1.DriverSide.Window.Position"
        ));
        assert!(!vss_matches(
            "Vehicle.Cabin.Door.*.*.Window.Position",
            "Vehicle.Cabin.Door.Row1.DriverSide.IsLocked"
        ));
        assert!(!vss_matches(
            "Vehicle.Cabin.HVAC.**",
            "Vehicle.Body.Trunk.Rear.IsOpen"
        ));
        assert!(!vss_matches("Vehicle.Cabin.HVAC.**", "Vehicle.Cabin.HVAC"));
        assert!(vss_matches("Vehicle.Speed", "Vehicle.Speed"));
    }

    #[test]
    fn dbus_names() {
        assert!(dbus_matches(
            "org.mpris.MediaPlayer2.*",
            "org.mpris.MediaPlayer2.vlc"
        ));
        assert!(dbus_matches(
            "org.mpris.MediaPlayer2.*",
            "org.mpris.MediaPlayer2.*"
        ));
        assert!(!dbus_matches("org.mpris.MediaPlayer2.*", "org.*"));
        assert!(!dbus_matches(
            "org.mpris.MediaPlayer2.vlc",
            "org.mpris.MediaPlayer2.*"
        ));
        assert!(dbus_matches("org.ofono", "org.ofono"));
        assert!(!dbus_matches("org.ofono", "org.ofono.evil"));
        assert!(!dbus_allowed(&[], "org.ofono"));
    }
}
