#!/usr/bin/env bash
# Quick start: install, build the rfx executable (only it, not the test suites), then the main
# job of rfx: the study's experiment 2 at cpu scale (experiments/cpu/02_input_skip_xavier.yaml,
# through scripts/reproduce.sh): how far can an input-skip FCN of each depth learn to see the
# diaeresis? An adaptive sweep of depth against the diaeresis distance with early stopping, each
# depth's field d50 with its 95% CI, the fitted exponent p of d50 = a·N^p with its bootstrap CI,
# and the verdict (√N when the CI holds 0.5 and excludes 1). Cost: see experiments/README.md.
# Rerunning resumes: finished trainings are kept.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
RFX_TARGETS=rfx bash scripts/build.sh
OUT=${1:-out/quickstart}
mkdir -p "$OUT"
./build/rfx dataset preview --config experiments/cpu/02_input_skip_xavier.yaml \
  --set dataset.distance=9 --out "$OUT/preview.png" --count 6
RFX=./build/rfx bash scripts/reproduce.sh 02 --out "$OUT"
dir="$OUT/02_input_skip_xavier"
echo "quickstart: results in $dir (summary.txt, fit.json, sweep_threshold.png," \
  "sweep_accuracy.png, sweep_mean_accuracy.png) and $OUT/preview.png"
cat "$dir/summary.txt"
./build/rfx fit "$dir/sweep" | tail -n 1
