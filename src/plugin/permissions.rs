//! Permission patterns: a plugin may only actuate VSS paths it declared.

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert!(vss_matches("Vehicle.Cabin.HVAC.**", "Vehicle.Cabin.HVAC.Station.Row1.Driver.Temperature"));
        assert!(vss_matches("Vehicle.Cabin.Door.*.*.Window.Position", "Vehicle.Cabin.Door.Row1.DriverSide.Window.Position"));
        assert!(!vss_matches("Vehicle.Cabin.Door.*.*.Window.Position", "Vehicle.Cabin.Door.Row1.DriverSide.IsLocked"));
        assert!(!vss_matches("Vehicle.Cabin.HVAC.**", "Vehicle.Body.Trunk.Rear.IsOpen"));
        assert!(!vss_matches("Vehicle.Cabin.HVAC.**", "Vehicle.Cabin.HVAC"));
        assert!(vss_matches("Vehicle.Speed", "Vehicle.Speed"));
    }
}
