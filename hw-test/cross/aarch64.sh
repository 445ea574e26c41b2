#!/usr/bin/env bash
# Cross-build cabin-voice for 64-bit Arm Linux (aarch64-unknown-linux-gnu) and
# run its test suite under qemu user-mode emulation, on a Debian 12 / Ubuntu
# x86_64 machine. No Arm hardware and no audio device is needed.
#
#   hw-test/cross/aarch64.sh            setup + tests (everything below)
#   hw-test/cross/aarch64.sh setup      packages, Rust target, aarch64 ONNX Runtime
#   hw-test/cross/aarch64.sh build      the binary for the car (profile `embedded`, .cargo/config.toml):
#                                       target/cross/aarch64-unknown-linux-gnu/embedded/cabin-voice
#   hw-test/cross/aarch64.sh test [ARGS]  cargo test --target aarch64-unknown-linux-gnu [ARGS]
#   hw-test/cross/aarch64.sh ci         setup, then the CI selection (below) under qemu
#
# Settings live in .cargo/config.toml (linker, runner, cross C/C++ compilers,
# pkg-config) and apply only to the aarch64 target; the host build is untouched.
# The runner, hw-test/cross/qemu-aarch64.sh, explains the emulation details.
#
# Environment:
#   CV_JOBS=N        parallel build jobs (default 1; the build runs under nice)
#   CV_ARM_ARCH=...  -march for whisper.cpp, e.g. armv8.2-a+dotprod+fp16 for
#                    Cortex-A76/A55 boards (Pi 5, RK3588). Default: plain armv8-a,
#                    which also runs on Cortex-A53 (i.MX 8M Plus). Changing it
#                    needs `cargo clean -p whisper-rs-sys --target aarch64-unknown-linux-gnu`.
set -euo pipefail
cd "$(dirname "$0")/../.."

TARGET=aarch64-unknown-linux-gnu
JOBS="${CV_JOBS:-1}"
# A target dir of its own: cargo locks its target dir for a whole build, and a
# long cross build must not hold up host builds and tests.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target/cross}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

setup() {
  local pkgs="gcc-aarch64-linux-gnu g++-aarch64-linux-gnu qemu-user-static libasound2-dev:arm64 libstdc++6:arm64 pkg-config"
  local missing=""
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    echo "aarch64: adding the arm64 package architecture"
    $SUDO dpkg --add-architecture arm64
    $SUDO apt-get update -qq
  fi
  for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
  done
  if [ -n "$missing" ]; then
    echo "aarch64: installing$missing"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
  fi
  if ! rustup target list --installed | grep -qx "$TARGET"; then
    rustup target add "$TARGET"
  fi
  # The aarch64 ONNX Runtime library (pinned wheel, sha256 from models/models.toml).
  python3 hw-test/cross/fetch-ort.py --arch aarch64
  # Models (whisper, NLU) are architecture-independent: the host's install serves both.
  python3 models/install.py
}

# Environment for the cross build of whisper.cpp (cmake via whisper-rs-sys):
# never the host's -march=native, never host CFLAGS.
cross_env() {
  unset CFLAGS CXXFLAGS CPPFLAGS LDFLAGS
  export GGML_NATIVE=OFF
  if [ -n "${CV_ARM_ARCH:-}" ]; then export GGML_CPU_ARM_ARCH="$CV_ARM_ARCH"; fi
}

build() {
  cross_env
  nice -n 15 cargo build --profile embedded --target "$TARGET" -j "$JOBS" --bin cabin-voice
  ls -l "$CARGO_TARGET_DIR/$TARGET/embedded/cabin-voice"
}

run_tests() {
  cross_env
  nice -n 15 cargo test --workspace --target "$TARGET" -j "$JOBS" "$@"
}

# The CI run under emulation: the unit tests, and the integration tests of
# the assistant and the plugin SDK that cover each native part on aarch64:
# ONNX Runtime (intent model, execution providers), whisper.cpp (e2e: two
# spoken commands with tiny.en to the broker, a WAV file and raw PCM on stdin,
# and the contract of `transcribe`; the runner has them size whisper's encoder
# window to the clip, see qemu-aarch64.sh), ALSA-linked binary start-up, MQTT, D-Bus, external
# plugins, the Yocto crate list. Left to the full run (`aarch64.sh` / `test`):
# the demo's five samples with whisper base and the speech corpora, which take
# tens of minutes each at emulated speed, and the bench crate, whose tests
# drive host tools (cargo, sshd).
CI_TESTS="providers nlu_catalogue nlu_model plugins_vss plugins_dbus safety sim new_skill external_plugins yocto_crates e2e"

ci_tests() {
  cross_env
  local args=""
  for t in $CI_TESTS; do args="$args --test $t"; done
  nice -n 15 cargo test --target "$TARGET" -j "$JOBS" -p cabin-voice --lib --bins $args \
    --no-fail-fast -- --skip demo_runs_the_bundled_samples
  nice -n 15 cargo test --target "$TARGET" -j "$JOBS" -p cabin-voice-plugin-sdk --no-fail-fast
}

case "${1:-all}" in
  setup) setup ;;
  ci) setup; ci_tests ;;
  build) build ;;
  test) shift; run_tests "$@" ;;
  all) setup; run_tests ;;
  -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" ;;
  *) echo "aarch64.sh: unknown command $1 (setup, build, test)" >&2; exit 2 ;;
esac
