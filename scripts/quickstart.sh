#!/usr/bin/env bash
# Quick start: install, build, then the main job of rfx on a small embedded default that runs
# on any CPU in a few minutes: a threshold sweep of depth against the diaeresis distance
# (experiments/e_depth_vs_distance_cpu.yaml: 32×32 canvas, 300 steps, here with depths 2–12),
# the fit of the field curve, and the plots. About a minute of training on 2 cores.
# Rerunning resumes: finished trainings are kept.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
OUT=${1:-out/quickstart}
mkdir -p "$OUT"
./build/rfx dataset preview --config experiments/e_depth_vs_distance_cpu.yaml \
  --set dataset.distance=8 --out "$OUT/preview.png" --count 6
./build/rfx sweep --config configs/cpu.yaml --config experiments/e_depth_vs_distance_cpu.yaml \
  --set 'sweep.axes.net.depth=[2, 3, 4, 5, 6, 8, 10, 12]' --out "$OUT/sweep"
./build/rfx fit "$OUT/sweep"
/usr/bin/python3 scripts/plot_sweep.py "$OUT/sweep" --rfx ./build/rfx --out "$OUT/sweep"
echo "quickstart: results in $OUT (preview.png, sweep/results.jsonl, sweep_threshold.png," \
  "sweep_accuracy.png)"
