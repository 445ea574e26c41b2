//! The cabin-voice bench: a labelled corpus rendered to cabin-like audio, a
//! runner that drives the `cabin-voice` binary against a broker and the vehicle
//! simulator, and a report (JSON summary + self-contained HTML page).
//! See docs/BENCH.md.

pub mod corpus;
pub mod metrics;
pub mod remote;
pub mod report;
pub mod runner;
pub mod stream;
pub mod tts;

use std::path::PathBuf;

/// The workspace root (the folder holding the top-level Cargo.toml).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("hw-test has a parent")
        .to_path_buf()
}

/// Cargo's target folder: `$CARGO_TARGET_DIR`, else `<workspace>/target`.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// Builds the debug `cabin-voice` binary (for the bench's own tests: binaries of
/// another package are not available through `CARGO_BIN_EXE_*`) and returns it.
pub fn build_debug_binary() -> Result<PathBuf, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let st = std::process::Command::new(cargo)
        .current_dir(workspace_root())
        .args([
            "build",
            "--quiet",
            "-p",
            "cabin-voice",
            "--bin",
            "cabin-voice",
        ])
        .status()
        .map_err(|e| format!("cargo build: {e}"))?;
    if !st.success() {
        return Err("cargo build --bin cabin-voice failed".into());
    }
    let bin = target_dir().join("debug/cabin-voice");
    if bin.is_file() {
        Ok(bin)
    } else {
        Err(format!("{} missing after the build", bin.display()))
    }
}

/// The `cabin-voice` binary to bench: `explicit`, else `$CABIN_VOICE_BIN`, else
/// `<target>/release/cabin-voice`, else `<target>/debug/cabin-voice` ([`target_dir`]).
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
    let target = target_dir();
    for profile in ["release", "debug"] {
        let p = target.join(profile).join("cabin-voice");
        if p.is_file() {
            return Ok(p);
        }
    }
    Err("no cabin-voice binary: run `cargo build --release` first or pass --bin".into())
}
