#!/usr/bin/env bash
# The test command: install what is needed, build (Release, all cores), run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Formatting is checked like a test: clang-format (Google base, 100 columns) over every tracked
# C++ file; a file it would change fails the run, naming the file and line.
if [ -d .git ] && command -v clang-format >/dev/null; then
  git ls-files -z '*.cpp' '*.h' | xargs -0 clang-format --dry-run --Werror
fi
bash scripts/build.sh "$@"
cd "${RFX_BUILD_DIR:-build}"
ctest --output-on-failure --parallel "$(nproc)"
