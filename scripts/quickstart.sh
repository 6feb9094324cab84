#!/usr/bin/env bash
# Quick start: install, build the rfx executable, then the main job of rfx on a small embedded
# default that runs on any CPU: how far can a net of each depth see? An adaptive sweep of depth
# against the diaeresis distance (experiments/e_depth_vs_distance_cpu.yaml: 32×32 canvas, 300
# steps, here depths 2–12, early stopping on), each depth's field d50 with its confidence
# interval, the √N-vs-N verdict, and the plots. 178 trainings; 15 minutes on a 2-core machine
# busy with a CI run at the same time (bench/RESULTS.md). Rerunning resumes: finished trainings
# are kept.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
RFX_TARGETS=rfx bash scripts/build.sh
OUT=${1:-out/quickstart}
mkdir -p "$OUT"
./build/rfx dataset preview --config experiments/e_depth_vs_distance_cpu.yaml \
  --set dataset.distance=8 --out "$OUT/preview.png" --count 6
./build/rfx sweep --config configs/cpu.yaml --config experiments/e_depth_vs_distance_cpu.yaml \
  --set 'sweep.axes.net.depth=[2, 3, 4, 5, 6, 8, 10, 12]' --set sweep.mode=adaptive \
  --set train.early_stop.every=25 --out "$OUT/sweep"
/usr/bin/python3 scripts/plot_sweep.py "$OUT/sweep" --rfx ./build/rfx --out "$OUT/sweep" \
  --title "depth vs distance (CPU scale, adaptive)"
echo "quickstart: results in $OUT (preview.png, sweep/results.jsonl, sweep_threshold.png," \
  "sweep_accuracy.png)"
./build/rfx fit "$OUT/sweep"
