//! The Yocto layer (yocto/meta-cabin-voice) stays in sync with the sources it
//! is generated from: the crate list with Cargo.lock, the model and ONNX
//! Runtime checksums with models/models.toml, the mosquitto ACL with the
//! plugins. Each generator (yocto/scripts/) is run in `--check` mode; on a
//! failure the message has the diff and the command that fixes it.
//!
//! Also lints the recipes with oelint-adv (`yocto/.venv`, created by setup.sh).

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn crates_inc() -> PathBuf {
    root().join("yocto/meta-cabin-voice/recipes-voice/cabin-voice/cabin-voice-crates.inc")
}

/// Runs a generator script with python3 and returns (success, stdout + stderr).
fn python(script: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new("python3")
        .arg(root().join("yocto/scripts").join(script))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap_or_else(|e| panic!("python3 (3.11 or newer) is needed to run {script}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn assert_in_sync(script: &str) {
    let (ok, text) = python(script, &["--check"]);
    assert!(
        ok,
        "generated Yocto file out of date; fix: python3 yocto/scripts/{script}\n{text}"
    );
}

#[test]
fn crates_inc_matches_cargo_lock() {
    assert_in_sync("gen-crates.py");
}

/// The same check without Python: every registry package of Cargo.lock is in
/// the .inc with its checksum, and nothing else is.
#[test]
fn crates_inc_lists_every_locked_crate_with_its_checksum() {
    let lock: toml::Table = std::fs::read_to_string(root().join("Cargo.lock"))
        .unwrap()
        .parse()
        .unwrap();
    let inc = std::fs::read_to_string(crates_inc()).unwrap();
    let mut expected = 0;
    for pkg in lock["package"].as_array().unwrap() {
        let (name, version) = (
            pkg["name"].as_str().unwrap(),
            pkg["version"].as_str().unwrap(),
        );
        let Some(source) = pkg.get("source").and_then(|s| s.as_str()) else {
            continue;
        };
        if !source.starts_with("registry+") {
            continue;
        }
        expected += 1;
        let key = format!("{name}-{version}");
        let uri = format!("crate://crates.io/{name}/{version};name={key} \\");
        let sum = format!(
            "SRC_URI[{key}.sha256sum] = \"{}\"",
            pkg["checksum"].as_str().unwrap()
        );
        assert!(
            inc.lines().any(|l| l.trim() == uri),
            "{key} missing from {}; fix: python3 yocto/scripts/gen-crates.py",
            crates_inc().display()
        );
        assert!(
            inc.lines().any(|l| l == sum),
            "{key}: checksum differs from Cargo.lock; fix: python3 yocto/scripts/gen-crates.py"
        );
    }
    assert_eq!(
        inc.matches("crate://").count(),
        expected,
        "the .inc lists crates Cargo.lock does not have; fix: python3 yocto/scripts/gen-crates.py"
    );
}

#[test]
fn git_dependencies_become_git_sources() {
    let dir = std::env::temp_dir().join(format!("cv-yocto-lock-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let lock = dir.join("Cargo.lock");
    std::fs::write(
        &lock,
        r#"version = 4

[[package]]
name = "app"
version = "0.1.0"

[[package]]
name = "foo-sys"
version = "0.2.0"
source = "git+https://github.com/example/foo-rs?branch=main#0123456789abcdef0123456789abcdef01234567"

[[package]]
name = "libc"
version = "0.2.1"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "abcd"
"#,
    )
    .unwrap();
    let (ok, text) = python(
        "gen-crates.py",
        &["--lock", lock.to_str().unwrap(), "--stdout"],
    );
    let _ = std::fs::remove_dir_all(&dir);
    assert!(ok, "{text}");
    for line in [
        "    crate://crates.io/libc/0.2.1;name=libc-0.2.1 \\",
        "SRC_URI[libc-0.2.1.sha256sum] = \"abcd\"",
        "    git://github.com/example/foo-rs;protocol=https;nobranch=1;name=foo-sys;destsuffix=foo-sys \\",
        "SRCREV_FORMAT .= \"_foo-sys\"",
        "SRCREV_foo-sys = \"0123456789abcdef0123456789abcdef01234567\"",
    ] {
        assert!(text.lines().any(|l| l == line), "missing {line:?} in\n{text}");
    }
    assert!(
        !text.contains("/app/"),
        "workspace members are not fetched:\n{text}"
    );
}

#[test]
fn model_and_onnxruntime_checksums_match_models_toml() {
    assert_in_sync("gen-models.py");
}

#[test]
fn mosquitto_acl_matches_plugin_permissions() {
    assert_in_sync("gen-mosquitto-acl.py");
}

/// `oelint-adv` over every recipe of the layer: no errors. `setup.sh` installs
/// it in yocto/.venv (docs/DEPLOY.md, "Lint"); offline and fast.
#[test]
fn recipes_pass_oelint_adv() {
    let lint = root().join("yocto/.venv/bin/oelint-adv");
    assert!(
        lint.is_file(),
        "{} not installed: run ./setup.sh (docs/DEPLOY.md, Lint)",
        lint.display()
    );
    let layer = root().join("yocto/meta-cabin-voice");
    let mut files = Vec::new();
    collect(&layer, &mut files);
    files.sort();
    assert!(!files.is_empty());
    let out = Command::new(&lint)
        .args(["--quiet", "--hide", "info", "--release", "scarthgap"])
        .args(["--constantmods", "+yocto/oelint-constants.json"])
        .args(&files)
        .current_dir(root())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let errors: Vec<&str> = text.lines().filter(|l| l.contains(":error:")).collect();
    assert!(
        errors.is_empty(),
        "oelint-adv errors:\n{}",
        errors.join("\n")
    );
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            collect(&p, out);
        } else if matches!(
            p.extension().and_then(|x| x.to_str()),
            Some("bb" | "bbappend")
        ) {
            out.push(p);
        }
    }
}
