//! The cabin-voice bench: a labelled corpus rendered to cabin-like audio, a
//! runner that drives the `cabin-voice` binary against a broker and the vehicle
//! simulator, and a report (JSON summary + self-contained HTML page).
//! See docs/BENCH.md.

pub mod corpus;
pub mod metrics;
pub mod remote;
pub mod report;
pub mod runner;
pub mod tts;

use std::path::PathBuf;

/// The workspace root (the folder holding the top-level Cargo.toml).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("hw-test has a parent")
        .to_path_buf()
}

/// The `cabin-voice` binary to bench: `explicit`, else `$CABIN_VOICE_BIN`, else
/// `target/release/cabin-voice`, else `target/debug/cabin-voice`.
pub fn find_binary(explicit: Option<&str>) -> Result<PathBuf, String> {
    if let Some(p) = explicit
        .map(str::to_string)
        .or_else(|| std::env::var("CABIN_VOICE_BIN").ok())
    {
        let p = PathBuf::from(p);
        return if p.is_file() {
            Ok(p)
        } else {
            Err(format!("{}: no such binary", p.display()))
        };
    }
    let root = workspace_root();
    for profile in ["release", "debug"] {
        let p = root.join("target").join(profile).join("cabin-voice");
        if p.is_file() {
            return Ok(p);
        }
    }
    Err("no cabin-voice binary: run `cargo build --release` first or pass --bin".into())
}
