SUMMARY = "ONNX Runtime CPU library, prebuilt (from the PyPI onnxruntime wheel)"
DESCRIPTION = "libonnxruntime.so as shipped in the manylinux_2_28 onnxruntime wheel \
on PyPI, the same pinned file cabin-voice uses on a workstation \
(models/models.toml). cabin-voice loads it at run time. Needs glibc >= 2.28."
HOMEPAGE = "https://onnxruntime.ai/"
LICENSE = "MIT"
LIC_FILES_CHKSUM = "file://onnxruntime/LICENSE;md5=0f7e3b1308cb5c00b372a6e78835732d"

# Wheel names, sha256 of the wheels and of the library inside (from models.toml).
require onnxruntime-prebuilt-files.inc

# PyPI's stable file URLs, one folder per file; the wheel's sha256 (above) is
# checked by the fetcher. A new version needs new folders: see the "Download
# files" page of https://pypi.org/project/onnxruntime/.
PYPI_FILES = "https://files.pythonhosted.org/packages"
ONNXRUNTIME_URL = "${PYPI_FILES}"
ONNXRUNTIME_URL:aarch64 = "${PYPI_FILES}/b7/30/103820b32e9dc1d1fcfc5b519fd2de5bd699d25a25895caf5d726350d1b5"
ONNXRUNTIME_URL:x86-64 = "${PYPI_FILES}/1d/46/e6f356c9539d2eed44126de3421a81e217da2ad91b22dc11b379cb1e384f"
ONNXRUNTIME_WHEEL ??= "unsupported-architecture.whl"

COMPATIBLE_HOST = "(aarch64|x86_64).*-linux"

# A wheel is a zip archive: saved as .zip so that the fetcher unpacks it.
SRC_URI = "${ONNXRUNTIME_URL}/${ONNXRUNTIME_WHEEL};downloadfilename=onnxruntime-${PV}-${TARGET_ARCH}.zip;subdir=${BP};name=ort-${TARGET_ARCH}"

UNPACKDIR ??= "${WORKDIR}"
S = "${UNPACKDIR}/${BP}"

do_configure[noexec] = "1"
do_compile[noexec] = "1"

do_install() {
    echo "${ONNXRUNTIME_LIB_SHA256}  ${S}/${ONNXRUNTIME_LIB}" | sha256sum -c --quiet
    install -d ${D}${libdir}
    install -m 0755 ${S}/${ONNXRUNTIME_LIB} ${D}${libdir}/libonnxruntime.so.${PV}
    ln -sf libonnxruntime.so.${PV} ${D}${libdir}/libonnxruntime.so.1
    ln -sf libonnxruntime.so.${PV} ${D}${libdir}/libonnxruntime.so
    install -d ${D}${docdir}/${BPN}
    install -m 0644 ${S}/onnxruntime/ThirdPartyNotices.txt ${D}${docdir}/${BPN}/
}

# The default FILES put libonnxruntime.so.1* (what cabin-voice loads) in the
# main package and the unversioned libonnxruntime.so in -dev.

# Prebuilt and stripped by upstream: nothing to strip or split.
INHIBIT_PACKAGE_STRIP = "1"
INHIBIT_PACKAGE_DEBUG_SPLIT = "1"
