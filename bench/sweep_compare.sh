#!/bin/sh
# Threshold search vs full grid on a real small problem (experiments/e_depth_vs_distance_cpu.yaml:
# 32×32 canvas, depths 2,4,6, distances 4–15), and the planner's bound on the paper's ranges.
#   bench/sweep_compare.sh BUILD_DIR OUT_DIR [extra --set ...]
# Prints the thresholds of both modes, the trainings each needed, and the bound.
. "$(dirname "$0")/common.sh"
CFG="--config $SRC/experiments/e_depth_vs_distance_cpu.yaml --set train.device=cpu --set train.threads=1 --set dataset.threads=1"
start=$(date +%s)
"$RFX" sweep $CFG "$@" --set sweep.mode=grid --out "$OUT/grid" > "$OUT/grid.txt"
mid=$(date +%s)
"$RFX" sweep $CFG "$@" --set sweep.mode=threshold --out "$OUT/threshold" > "$OUT/threshold.txt"
end=$(date +%s)
"$RFX" fit "$OUT/grid" --json > "$OUT/grid_fit.json"
"$RFX" fit "$OUT/threshold" --json > "$OUT/threshold_fit.json"
"$RFX" sweep --config "$SRC/experiments/e_depth_vs_distance.yaml" --out "$OUT/paper" --dry-run \
  --no-measure --json > "$OUT/paper_plan.json"
/usr/bin/python3 - "$OUT" $((mid - start)) $((end - mid)) <<'PY'
import json, sys
out, tg, tt = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def n(path):
    return sum(1 for l in open(path) if l.endswith("\n"))
g = json.load(open(out + "/grid_fit.json"))["thresholds"]
t = json.load(open(out + "/threshold_fit.json"))["thresholds"]
ng, nt = n(out + "/grid/results.jsonl"), n(out + "/threshold/results.jsonl")
print("depth  grid  threshold")
ok = True
for a, b in zip(g, t):
    da, db = a["distance"], b["distance"]
    same = (da is None and db is None) or (da is not None and db is not None and abs(da - db) <= 1)
    ok &= same
    print("%5g  %4s  %9s%s" % (a["depth"], da, db, "" if same else "   <- differs"))
print("trainings: grid %d (%ds), threshold %d (%ds), ratio %.3f; same thresholds (±1): %s"
      % (ng, tg, nt, tt, nt / ng, ok))
p = json.load(open(out + "/paper_plan.json"))
print("paper ranges: grid %d trainings, threshold bound %d (%.3f of the grid; %d without "
      "assuming monotone depth)" % (p["grid_trainings"], p["trainings_bound"],
                                    p["trainings_bound"] / p["grid_trainings"],
                                    p["trainings_bound_any"]))
PY
