#!/usr/bin/env bash
# Installs the Debian 12 packages Rill's build, tests and demo need (Debian packages only;
# nothing is downloaded at build time). Idempotent: when everything is already installed it does
# nothing, not even apt-get update.
set -euo pipefail

PACKAGES=(
  cmake g++ make pkg-config            # build
  libgtest-dev libbenchmark-dev        # unit tests, kernel benchmarks
  nlohmann-json3-dev                   # graph JSON
  libfftw3-dev                         # STFT / iSTFT
  libsamplerate0-dev                   # resampling
  libsndfile1-dev                      # the rill command reads and writes audio files
  libonnx-dev libprotobuf-dev          # ONNX import (protobuf classes of onnx.proto)
  libonnx-testdata python3-onnx        # ONNX operator conformance cases, test models (tests)
  libflatbuffers-dev                   # TFLite import (flatbuffers runtime; accessors are ours)
  python3-flatbuffers python3-skimage  # TFLite reference reader and the astronaut photo (tests)
  python3 python3-numpy python3-torch  # Python package, PyTorch golden references, training
  libopenblas0-openmp                  # PyTorch's matrix products (Debian's torch otherwise runs
                                       # them on the reference BLAS, about 20x slower): training,
                                       # the benchmarks' PyTorch column, the golden references
  espeak-ng sox                        # training data for the bundled model, demo clips
  juce-modules-source                  # the plugin (JUCE 7.0.5 modules, juceaide, CMake package)
  libflac-dev libvorbis-dev libogg-dev # the plugin: Debian's JUCE links the system codecs
  libasound2-dev libfreetype-dev libx11-dev libxrandr-dev libxinerama-dev libxcursor-dev
  libxext-dev                          # the plugin: JUCE's audio devices and X11 windows
  liblilv-dev                          # the plugin's LV2 test host
  jalv jackd2 libjack-jackd2-dev       # JACK: the Standalone's audio, the plugin's live tests
  xvfb xauth imagemagick x11-utils     # the plugin's Standalone test: X server, screenshot
  libopencv-videoio-dev libsdl2-dev    # the webcam demo: capture (V4L2, files, GStreamer), window
  libstb-dev ffmpeg                    # the webcam demo: images, PNG frames; its test clips
  gstreamer1.0-plugins-base            # the webcam demo: GStreamer test pipelines
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js and npm (onnxruntime-node and the Silero files from the npm registry: references in the
# ONNX tests and benchmark). Any working node/npm will do (a NodeSource build ships npm inside its
# nodejs package and conflicts with Debian's npm package), so only their absence installs Debian's.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  missing+=(nodejs npm)
fi
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || {
    echo "install-deps: missing ${missing[*]}; run as root (or install sudo)" >&2
    exit 1
  }
  SUDO=(sudo)
fi
echo "install-deps: installing ${missing[*]}"
"${SUDO[@]}" apt-get update -qq
# jackd2 asks whether to enable real-time scheduling for its users: no (tests run it without).
echo "jackd2 jackd/tweak_rt_limits boolean false" | "${SUDO[@]}" debconf-set-selections
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "install-deps: done"
