#!/usr/bin/env bash
# Reproduces the study's figures into OUT (default out/reproduce):
#   theory/    analytic receptive fields of the paper's nets (fcn depth 16, fcn_resnet50, vgg16)
#   forward/   the forward-pass estimate: impulse radius of constant-init fcns, depths 1..192 at
#              768² (grows as √N), Xavier for comparison; radius.png, profiles.png
#   gradient/  the effective RF by gradient (Luo et al. 2016) of a depth-16 fcn; erf.png
#   sweep/     the headline: the largest diaeresis distance each depth learns (threshold search),
#              its fit (a·N^p, a·√N+b); sweep_threshold.png and sweep_accuracy.png in OUT
#
#   scripts/reproduce.sh [--cpu | --gpu] [--slurm N] [--out DIR] [-- sbatch options]
#
# --cpu (default): the sweep is experiments/e_depth_vs_distance_cpu.yaml (32², minutes on any
# CPU). --gpu: the paper's experiments/e_depth_vs_distance.yaml (128², depths 2–48, ≤ 134
# trainings of 3,000 steps; hours on one GPU). --slurm N: submit the sweep as N array tasks
# (rfx slurm) instead of running it here; rerun this script when the jobs are done for the fit
# and plots. Every step resumes: rerunning redoes nothing finished.
set -euo pipefail
cd "$(dirname "$0")/.."

profile=cpu
shards=0
OUT=out/reproduce
sbatch_args=()
while [ $# -gt 0 ]; do
  case $1 in
    --cpu) profile=cpu ;;
    --gpu) profile=gpu ;;
    --slurm) shift; shards=${1:-}; [[ $shards =~ ^[1-9][0-9]*$ ]] || {
               echo "reproduce.sh: --slurm '$shards' must be a number of shards >= 1" >&2; exit 2; } ;;
    --out) shift; OUT=${1:?reproduce.sh: --out needs a directory} ;;
    --) shift; sbatch_args=("$@"); break ;;
    *) echo "reproduce.sh: unknown option '$1'; allowed: --cpu, --gpu, --slurm N, --out DIR, -- sbatch options" >&2
       exit 2 ;;
  esac
  shift
done

bash scripts/setup.sh
bash scripts/build.sh
RFX=./build/rfx
PLOT="/usr/bin/python3"
mkdir -p "$OUT"/theory "$OUT"/forward "$OUT"/gradient

echo "== theory" >&2
$RFX theory --set net.depth=16 --input 128 > "$OUT/theory/fcn16.txt"
$RFX theory --net fcn_resnet50 --input 128 > "$OUT/theory/fcn_resnet50.txt"
$RFX theory --net vgg16 --input 224 > "$OUT/theory/vgg16.txt"
$RFX theory --net vgg16 --input 224 --format json > "$OUT/theory/vgg16.json"

echo "== forward-pass estimate (depths 1..192 at 768²)" >&2
$RFX probe forward --set init.scheme=constant --set net.skip=none --depths 1:192 --size 768 \
  --out "$OUT/forward/constant" > /dev/null
$RFX probe forward --set init.scheme=xavier --set net.skip=none --depths 1:192 --size 768 \
  --out "$OUT/forward/xavier" > /dev/null
$PLOT scripts/plot_probe.py forward "$OUT/forward/constant" "$OUT/forward/xavier" \
  --out "$OUT/forward/radius.png"
$PLOT scripts/plot_probe.py profiles "$OUT/forward/constant" --depths 4,16,64,192 \
  --out "$OUT/forward/profiles.png"

echo "== gradient ERF (depth 16)" >&2
$RFX probe gradient --set net.depth=16 --size 128 --samples 32 --out "$OUT/gradient" > /dev/null
$PLOT scripts/plot_probe.py gradient "$OUT/gradient/erf_map.csv" --out "$OUT/gradient/erf.png"

echo "== sweep: depth vs diaeresis distance ($profile)" >&2
if [ "$profile" = gpu ]; then
  configs=(--config configs/gpu.yaml --config experiments/e_depth_vs_distance.yaml)
else
  configs=(--config configs/cpu.yaml --config experiments/e_depth_vs_distance_cpu.yaml
           --set 'sweep.axes.net.depth=[2, 3, 4, 5, 6, 8, 10, 12]')
fi
if [ "$shards" -gt 0 ]; then
  jobs="$OUT/sweep/slurm/jobs.jsonl"
  if [ -f "$jobs" ]; then
    ids=$(tail -n 1 "$jobs" | sed -E 's/.*"array_job":"([0-9]+)".*"merge_job":"([0-9]+)".*/\1,\2/')
    if [ -n "$(squeue -h -j "$ids" 2>/dev/null)" ]; then
      echo "reproduce.sh: jobs $ids are still queued or running; rerun when they are done" >&2
      exit 0
    fi
  fi
  if [ ! -f "$OUT/sweep/fit.json" ] || [ "$(wc -l < "$OUT/sweep/results.jsonl")" -eq 0 ]; then
    $RFX slurm "${configs[@]}" --out "$OUT/sweep" --shards "$shards" --submit -- "${sbatch_args[@]}"
    echo "reproduce.sh: the sweep is on the cluster; rerun this command when its jobs are done" >&2
    exit 0
  fi
fi
if [ "$shards" -eq 0 ]; then
  $RFX sweep "${configs[@]}" --out "$OUT/sweep"
fi
$RFX fit "$OUT/sweep"
$RFX fit "$OUT/sweep" --json > "$OUT/sweep/fit.json"
$PLOT scripts/plot_sweep.py "$OUT/sweep" --rfx "$RFX" --out "$OUT/sweep"
echo "reproduce.sh: figures in $OUT (theory/, forward/radius.png, forward/profiles.png," \
  "gradient/erf.png, sweep_threshold.png, sweep_accuracy.png)"
