#!/usr/bin/env bash
# Configures and builds rfx (Release, all cores) into build/ (RFX_LIBTORCH=debian, the default)
# or build-pypi/ (RFX_LIBTORCH=pypi: torch 2.11 from PyPI, see scripts/setup.sh); RFX_BUILD_DIR
# overrides the folder. Extra arguments go to cmake's configure step (e.g.
# -DCMAKE_PREFIX_PATH=/opt/libtorch for your own LibTorch, -DRFX_SANITIZE=ON).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/libtorch.sh
generator=()
command -v ninja >/dev/null && [ ! -f "$RFX_BUILD_DIR/Makefile" ] && generator=(-G Ninja)
cmake -S . -B "$RFX_BUILD_DIR" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  "${RFX_CMAKE_ARGS[@]}" "$@" >/dev/null
# RFX_TARGETS="rfx" builds only those targets (the quick start needs the executable alone).
cmake --build "$RFX_BUILD_DIR" --parallel "$(nproc)" ${RFX_TARGETS:+--target $RFX_TARGETS}
