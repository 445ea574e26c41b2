SUMMARY = "cabin-voice: the voice assistant with its models, runtime and broker"
DESCRIPTION = "Everything an image needs to run cabin-voice as a service: the \
assistant, its models, ONNX Runtime, the D-Bus daemon, ALSA and a local MQTT broker."
LICENSE = "MIT"

PACKAGE_ARCH = "${TUNE_PKGARCH}"

inherit packagegroup

RDEPENDS:${PN} = "\
    cabin-voice \
    cabin-voice-models \
    dbus \
    onnxruntime-prebuilt \
"
# mosquitto is in meta-networking (meta-openembedded); alsa-utils helps check
# the microphone (arecord -l) during bring-up.
RRECOMMENDS:${PN} = "\
    alsa-utils-arecord \
    mosquitto \
"
