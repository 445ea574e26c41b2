#!/usr/bin/env bash
# Cargo runner for aarch64-unknown-linux-gnu (.cargo/config.toml): runs an
# aarch64 binary on this x86_64 machine under qemu user-mode emulation.
#
#   hw-test/cross/qemu-aarch64.sh BINARY [ARGS...]
#
# What it sets up, and why:
#   QEMU_CPU=cortex-a76  (the Raspberry Pi 5 / RK3588 core) - qemu's default
#       `max` CPU advertises features (SVE2, i8mm, SME) that make ONNX Runtime
#       pick INT8 kernels that give wrong results under emulation.
#   QEMU_LD_PREFIX=<a folder holding only proc/cpuinfo>, a fake aarch64
#       /proc/cpuinfo - ONNX Runtime's cpuinfo reads it at start and crashes on
#       the host's x86 text. Libraries come from the arm64 multiarch packages
#       (libc6:arm64, libstdc++6:arm64, installed by aarch64.sh); never point
#       the prefix at /usr/aarch64-linux-gnu: a second glibc build mixed with
#       the multiarch one hangs at the first thread spawn.
#   CV_TEST_TIME_SCALE=10  start-up waits in the integration tests (e.g. "the
#       server says it serves within 8 s") are scaled by this: emulated code
#       runs many times slower than native.
#   CV_TEST_ASR_FIT_AUDIO_CTX=1  the e2e tests that run whisper pass
#       `[asr] fit_audio_ctx = true`: with whisper's fixed 30 s encoder window a
#       3 s tiny.en clip takes 12 min under qemu (565 s of CPU on one thread),
#       sized to the clip it takes 30 to 50 s, same model, same transcript.
#   ORT_DYLIB_PATH  the aarch64 ONNX Runtime library fetched by aarch64.sh
#       (models/lib/ holds the host's x86_64 one), unless already set.
#   Child processes: integration tests spawn target/aarch64-.../cabin-voice,
#       an aarch64 binary the kernel cannot run by itself. Unless the kernel
#       already maps aarch64 ELF files to qemu (binfmt_misc), the runner
#       re-executes itself in a private user namespace with its own
#       binfmt_misc instance (Linux >= 6.7) holding that mapping; it vanishes
#       with the namespace and the machine is left untouched. The QEMU_*
#       variables above reach the children through the environment.
#       CV_QEMU_USERNS=0 disables this (then only unit tests can pass).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
tdir="${CARGO_TARGET_DIR:-$repo/target}/aarch64-unknown-linux-gnu"

qemu=$(command -v qemu-aarch64-static || command -v qemu-aarch64 || true)
if [ -z "$qemu" ]; then
  echo "qemu-aarch64.sh: qemu-aarch64 not found (apt-get install qemu-user-static)" >&2
  exit 127
fi

# Fake /proc/cpuinfo, one entry per host CPU (cpuinfo cross-checks /sys).
root="$tdir/qemu-root"
if [ ! -s "$root/proc/cpuinfo" ]; then
  mkdir -p "$root/proc"
  tmp="$root/proc/.cpuinfo.$$"
  n=$(nproc --all 2>/dev/null || echo 1)
  for ((i = 0; i < n; i++)); do
    cat <<EOF
processor	: $i
BogoMIPS	: 108.00
Features	: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp
CPU implementer	: 0x41
CPU architecture: 8
CPU variant	: 0x4
CPU part	: 0xd0b
CPU revision	: 1

EOF
  done >"$tmp"
  mv -f "$tmp" "$root/proc/cpuinfo"
fi

export QEMU_CPU="${QEMU_CPU:-cortex-a76}"
# Tests that wait for a process to come up allow this many times longer.
export CV_TEST_TIME_SCALE="${CV_TEST_TIME_SCALE:-10}"
export CV_TEST_ASR_FIT_AUDIO_CTX="${CV_TEST_ASR_FIT_AUDIO_CTX:-1}"
export QEMU_LD_PREFIX="$root"
if [ -z "${ORT_DYLIB_PATH:-}" ]; then
  for d in "$tdir" "$repo/target/aarch64-unknown-linux-gnu" "$repo/target/cross/aarch64-unknown-linux-gnu"; do
    if [ -f "$d/onnxruntime/libonnxruntime.so.1.32.0" ]; then
      export ORT_DYLIB_PATH="$d/onnxruntime/libonnxruntime.so.1.32.0"
      break
    fi
  done
  if [ -z "${ORT_DYLIB_PATH:-}" ]; then
    echo "qemu-aarch64.sh: no aarch64 ONNX Runtime (run hw-test/cross/aarch64.sh setup)" >&2
  fi
fi

# binfmt_misc entry for aarch64 ELF executables (magic and mask as in Debian's
# qemu-user-static); F = qemu is opened now, so it works in any mount namespace.
binfmt_rule=':qemu-aarch64:M::\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00:\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff:'"$qemu"':F'

host_binfmt() {
  [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] &&
    grep -q '^enabled' /proc/sys/fs/binfmt_misc/qemu-aarch64 2>/dev/null
}

if [ "${CV_QEMU_INNER:-}" = 1 ]; then
  # Inside the private namespace: mount our own binfmt_misc and register qemu.
  if mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null &&
    printf '%s' "$binfmt_rule" >/proc/sys/fs/binfmt_misc/register 2>/dev/null; then
    :
  else
    echo "qemu-aarch64.sh: no private binfmt_misc (Linux < 6.7?); spawned aarch64 binaries will fail" >&2
  fi
elif [ "${CV_QEMU_USERNS:-1}" != 0 ] && ! host_binfmt && command -v unshare >/dev/null &&
  unshare --user --map-root-user --mount true 2>/dev/null; then
  CV_QEMU_INNER=1 exec unshare --user --map-root-user --mount "$0" "$@"
fi

exec "$qemu" "$@"
