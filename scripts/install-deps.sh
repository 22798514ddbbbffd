#!/usr/bin/env bash
# Installs iclab's build and test dependencies from Debian 12 packages. Idempotent: packages already
# present are skipped, so running it twice is cheap.
set -euo pipefail
packages=(
  build-essential cmake pkg-config
  libeigen3-dev libopenblas-dev liblapacke-dev
  libcli11-dev nlohmann-json3-dev librandom123-dev
  libboost-dev libgtest-dev libbenchmark-dev
  libtomlplusplus-dev gnuplot-nox
  clang-format  # CI's format check (.ci/format-check.sh); version 14 on Debian 12
  clang  # libFuzzer for the parser fuzz targets (.ci/fuzz.sh)
  python3-numpy python3-scipy
  pybind11-dev python3-dev  # the Python module iclab (python/)
  python3-pytest python3-pandas python3-matplotlib  # its tests, DataFrame results and examples
  libtorch-dev python3-torch  # the neural-network module (CPU build) and its PyTorch benchmark counterpart
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo_cmd=""
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
