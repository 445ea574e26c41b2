# nooelint: oelint.var.mandatoryvar.HOMEPAGE - no public project page yet
SUMMARY = "Offline in-vehicle voice assistant"
DESCRIPTION = "cabin-voice turns spoken or typed commands (English, Mandarin) into \
vehicle actions: whisper.cpp speech recognition, a grammar and ONNX intent model \
compiled from plugins, a scheduler with safety gates, COVESA VSS signals over MQTT \
and services over D-Bus. Runs fully offline."
# The project is Apache-2.0; whisper.cpp/ggml (MIT) is linked in statically, and
# the Rust crates are MIT and/or Apache-2.0 (see Cargo.lock), except nnnoiseless
# (RNNoise, BSD-3-Clause).
LICENSE = "Apache-2.0 & MIT & BSD-3-Clause"
LIC_FILES_CHKSUM = "file://${COMMON_LICENSE_DIR}/Apache-2.0;md5=89aea4e17d99a7cacdbeed46a0096b10 \
                    file://${COMMON_LICENSE_DIR}/MIT;md5=0835ade698e0bcf8506ecda2f7b4f302 \
                    file://${COMMON_LICENSE_DIR}/BSD-3-Clause;md5=550794465ba0ec5312d6919e203a55f9"

# bindgen (whisper-rs-sys) needs libclang; whisper.cpp builds with cmake;
# cpal needs ALSA. zbus is pure Rust: D-Bus is only needed at run time.
DEPENDS += "alsa-lib clang-native cmake-native"

require cabin-voice-source.inc
require cabin-voice-crates.inc

SRC_URI += "\
    file://cabin-voice.service \
    file://config.toml \
    file://org.cabinvoice.Assistant.conf \
    file://mosquitto-cabin-voice.acl \
"

inherit cargo pkgconfig systemd useradd

# Needs Rust >= 1.92 (ort 2.0.0-rc.15); cargo stops with a clear message otherwise.

# whisper.cpp: portable code for the tune, never the build host's CPU flags.
# A board-specific -march (e.g. armv8.2-a+dotprod+fp16 on Cortex-A76/A55) can be
# set with CABIN_VOICE_GGML_ARM_ARCH (docs/DEPLOY.md, machine notes).
CABIN_VOICE_GGML_ARM_ARCH ??= ""
export GGML_NATIVE = "OFF"
export GGML_CPU_ARM_ARCH = "${CABIN_VOICE_GGML_ARM_ARCH}"
export LIBCLANG_PATH = "${STAGING_LIBDIR_NATIVE}"
export BINDGEN_EXTRA_CLANG_ARGS = "--sysroot=${STAGING_DIR_TARGET} ${TUNE_CCARGS}"
# The `embedded` profile of .cargo/config.toml (docs/DEPLOY.md, "Release
# profile"), except stripping: OE splits the symbols into -dbg itself.
export CARGO_PROFILE_RELEASE_LTO = "fat"
export CARGO_PROFILE_RELEASE_CODEGEN_UNITS = "1"
export CARGO_PROFILE_RELEASE_PANIC = "abort"
export CARGO_PROFILE_RELEASE_STRIP = "none"

do_install:append() {
    install -d ${D}${sysconfdir}/cabin-voice
    sed -e 's#@LIBDIR@#${libdir}#g' -e 's#@DATADIR@#${datadir}#g' \
        ${UNPACKDIR}/config.toml > ${D}${sysconfdir}/cabin-voice/config.toml
    chmod 0644 ${D}${sysconfdir}/cabin-voice/config.toml

    # Plugins: the manifests only (plugins/sdk and the scripts are for development).
    install -d ${D}${datadir}/cabin-voice/plugins
    install -m 0644 ${S}/plugins/types.toml ${D}${datadir}/cabin-voice/plugins/
    for manifest in ${S}/plugins/*/plugin.toml; do
        name=$(basename $(dirname $manifest))
        install -d ${D}${datadir}/cabin-voice/plugins/$name
        install -m 0644 $manifest ${D}${datadir}/cabin-voice/plugins/$name/
    done

    install -d ${D}${systemd_system_unitdir}
    install -m 0644 ${UNPACKDIR}/cabin-voice.service ${D}${systemd_system_unitdir}/
    install -d ${D}${datadir}/dbus-1/system.d
    install -m 0644 ${UNPACKDIR}/org.cabinvoice.Assistant.conf ${D}${datadir}/dbus-1/system.d/
    install -d ${D}${docdir}/${BPN}/examples
    install -m 0644 ${UNPACKDIR}/mosquitto-cabin-voice.acl ${D}${docdir}/${BPN}/examples/
}

USERADD_PACKAGES = "${PN}"
USERADD_PARAM:${PN} = "--system --no-create-home --home-dir /nonexistent \
                       --shell /sbin/nologin --user-group cabin-voice"

SYSTEMD_SERVICE:${PN} = "cabin-voice.service"
SYSTEMD_AUTO_ENABLE:${PN} = "enable"

CONFFILES:${PN} = "${sysconfdir}/cabin-voice/config.toml"
FILES:${PN} += "${datadir}/dbus-1/system.d"

# The ONNX Runtime library is loaded at run time (dlopen), so no shlib
# dependency is recorded for it; the models and the bus are needed to serve.
RDEPENDS:${PN} = "cabin-voice-models dbus onnxruntime-prebuilt"
RRECOMMENDS:${PN} = "mosquitto"
