#!/usr/bin/env bash
# Quick start: install, build, then run the main job on the embedded defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
mkdir -p out
./build/rfx dataset preview --out out/quickstart-preview.png --count 6
echo "quickstart: wrote out/quickstart-preview.png"
