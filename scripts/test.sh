#!/usr/bin/env bash
# The test command: install what is needed, build (Release, all cores), run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh "$@"
cd "${RFX_BUILD_DIR:-build}"
ctest --output-on-failure --parallel "$(nproc)"
