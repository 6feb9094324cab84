#!/usr/bin/env bash
# Configures and builds rfx (Release, all cores) into ${RFX_BUILD_DIR:-build}.
# Extra arguments go to cmake's configure step (e.g. -DCMAKE_PREFIX_PATH=/opt/libtorch).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${RFX_BUILD_DIR:-build}
generator=()
command -v ninja >/dev/null && [ ! -f "$BUILD_DIR/Makefile" ] && generator=(-G Ninja)
cmake -S . -B "$BUILD_DIR" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
# RFX_TARGETS="rfx" builds only those targets (the quick start needs the executable alone).
cmake --build "$BUILD_DIR" --parallel "$(nproc)" ${RFX_TARGETS:+--target $RFX_TARGETS}
