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
# The components' layering (docs/design.md#architecture), also like a test: no file includes a
# header of a component outside its CMake DEPS, and each .cpp implements the header of its name.
/usr/bin/python3 scripts/check_layers.py
bash scripts/build.sh "$@"
root=$PWD
cd "$RFX_BUILD_DIR"
# ctest runs one test per core: each starts with one intra-op thread, as Debian's LibTorch does
# by itself (PyPI's OpenMP build would start with one per core and oversubscribe the machine).
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
ctest --output-on-failure --parallel "$(nproc)"
# The documentation (docs/install.md, "The documentation's checks"): every relative link in the
# Markdown resolves, every rfx command quoted in docs/ and README.md uses flags its --help lists,
# and docs/config.md is what configs/defaults.yaml and the binary's range checks give.
cd "$root"
rfx_exe=$RFX_BUILD_DIR/rfx
[[ $rfx_exe = /* ]] || rfx_exe=$root/$rfx_exe
/usr/bin/python3 scripts/docs.py check --rfx "$rfx_exe"
/usr/bin/python3 scripts/docs.py config --check --rfx "$rfx_exe"
