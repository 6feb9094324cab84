#!/usr/bin/env bash
# The test command: install what is needed, check the formatting, build (Release, all cores),
# run every test (ctest). RFX_LIBTORCH=pypi tests the build against PyPI's torch 2.11 in
# build-pypi/ (default: Debian's LibTorch 1.13 in build/); extra arguments go to cmake.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev
source scripts/libtorch.sh
# Formatting is checked like a test: the pinned clang-format 14 (scripts/requirements/tools.txt;
# newer versions format differently) over every tracked C++ file; a file it would change fails
# the run, naming the file and line.
if [ -d .git ]; then
  git ls-files -z '*.cpp' '*.h' | xargs -0 "$RFX_VENV/bin/clang-format" --dry-run --Werror
fi
bash scripts/build.sh "$@"
cd "$RFX_BUILD_DIR"
# ctest runs one test per core: each starts with one intra-op thread, as Debian's LibTorch does
# by itself (PyPI's OpenMP build would start with one per core and oversubscribe the machine).
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
ctest --output-on-failure --parallel "$(nproc)"
