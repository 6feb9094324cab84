#!/usr/bin/env bash
# Installs everything rfx needs. Idempotent and quiet when all is already there; run as root (or
# with sudo available) on a fresh Debian 12 machine.
#   scripts/setup.sh                       Debian's packages (LibTorch 1.13 among them)
#   scripts/setup.sh --dev                 also the pinned developer tools in .venv (clang-format)
#   RFX_LIBTORCH=pypi scripts/setup.sh     also torch 2.11 from PyPI in .venv (pinned)
# The pins: scripts/requirements/*.txt. The virtual environment is the project's own (.venv, or
# RFX_VENV), made with the python3 on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

dev=0
for arg in "$@"; do
  case "$arg" in
    --dev) dev=1 ;;
    *) echo "setup.sh: unknown argument '$arg'; allowed: --dev" >&2; exit 2 ;;
  esac
done

PACKAGES=(
  build-essential cmake ninja-build git pkg-config ccache
  libtorch-dev libopencv-dev libcli11-dev libyaml-cpp-dev libgtest-dev nlohmann-json3-dev
  libbenchmark-dev libopenblas0-pthread liblapack3 libblas3
  python3-matplotlib python3-numpy python3-opencv python3-torch python3-torchvision python3-yaml graphviz
  slurm-wlm munge
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
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
fi

# The virtual environment: each requirements file is installed once; a stamp holding its text
# marks it done, so a changed pin reinstalls and an unchanged one costs nothing.
wanted=()
[ "$dev" = 1 ] && wanted+=(tools)
[ "${RFX_LIBTORCH:-debian}" = pypi ] && wanted+=(pypi)
[ ${#wanted[@]} -eq 0 ] && exit 0
venv=${RFX_VENV:-$PWD/.venv}
if [ ! -x "$venv/bin/python" ]; then
  python=$(command -v python3)
  echo "setup.sh: creating the virtual environment $venv ($("$python" --version))" >&2
  "$python" -m venv "$venv"
fi
for name in "${wanted[@]}"; do
  req=scripts/requirements/$name.txt
  stamp=$venv/.rfx-$name.txt
  if [ -f "$stamp" ] && cmp -s "$req" "$stamp"; then continue; fi
  echo "setup.sh: installing $req into $venv" >&2
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$req"
  cp "$req" "$stamp"
done
