#!/usr/bin/env bash
# The whole test suite under AddressSanitizer and UndefinedBehaviorSanitizer: a build with
# -DRFX_SANITIZE=ON into build-asan/ (or build-pypi-asan/ with RFX_LIBTORCH=pypi), then ctest.
# LibTorch itself is not instrumented; what ASan sees is rfx's own memory. Too slow for CI on
# two cores (a third full build); its last run is reported in bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/libtorch.sh
export RFX_BUILD_DIR=${RFX_BUILD_DIR%/}-asan
bash scripts/setup.sh
bash scripts/build.sh -DRFX_SANITIZE=ON -DRFX_BUILD_BENCH=OFF "$@"
# detect_leaks=0: LibTorch's static registries are never freed by design. The `rfx` child
# processes of the CLI tests inherit these options.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=0:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
cd "$RFX_BUILD_DIR"
ctest --output-on-failure --parallel "$(nproc)" ${RFX_CTEST_ARGS:-}
