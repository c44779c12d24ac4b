#!/usr/bin/env bash
# Installs exactly the Debian 12 packages Rill's build, tests and demo need. Idempotent: does
# nothing (not even apt-get update) when everything is already installed.
set -euo pipefail

PACKAGES=(
  cmake g++ make pkg-config            # build
  libgtest-dev                         # tests
  nlohmann-json3-dev                   # graph JSON
  libfftw3-dev                         # STFT / iSTFT
  libsndfile1-dev                      # the rill command reads and writes audio files
  python3 python3-numpy python3-torch  # Python package, PyTorch golden references, training
  espeak-ng sox                        # training data for the bundled model
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
