#!/usr/bin/env bash
# Installs everything rfx needs from Debian 12's packages. Idempotent and quiet when all is
# already there; run as root (or with sudo available) on a fresh machine.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build git pkg-config clang-format
  libtorch-dev libopencv-dev libcli11-dev libyaml-cpp-dev libgtest-dev nlohmann-json3-dev
  libbenchmark-dev libopenblas0-pthread
  python3-matplotlib python3-numpy python3-opencv python3-torch python3-torchvision graphviz
  slurm-wlm munge
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "setup.sh: need root to install: ${missing[*]}" >&2; exit 1
  fi
fi
echo "setup.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >/dev/null
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
