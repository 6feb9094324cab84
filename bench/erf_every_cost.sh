#!/bin/sh
# What train.erf_every costs: one small training (fcn depth 8, 64x64, 300 steps, 1 thread) with
# train.erf_every 0 and 50, interleaved over ROUNDS rounds; prints each run's wall_s and the
# seconds its snapshots took (the "seconds" of erf.jsonl, timed inside the run).
#   bench/erf_every_cost.sh BUILD_DIR OUT_DIR [ROUNDS (3)]
. "$(dirname "$0")/common.sh"
ROUNDS=${1:-3}
SETS="--set net.depth=8 --set dataset.image_size=64 --set train.steps=300 --set train.device=cpu
      --set train.threads=1 --set dataset.threads=1 --set train.eval_samples=64"
for round in $(seq "$ROUNDS"); do
  for every in 0 50; do
    d="$OUT/r$round-e$every"
    rm -rf "$d"
    "$RFX" train $SETS --set train.erf_every=$every --out "$d" > /dev/null 2>&1 || exit 1
    /usr/bin/python3 - "$d" "$round" "$every" <<'PY'
import json, os, sys
d, rnd, every = sys.argv[1:4]
wall = json.load(open(d + "/result.json"))["wall_s"]
log = d + "/erf.jsonl"
snaps = [json.loads(l)["seconds"] for l in open(log)] if os.path.exists(log) else []
print("round %s  erf_every %-3s  wall %.2f s  snapshots %d taking %.2f s (%.1f%% of wall)"
      % (rnd, every, wall, len(snaps), sum(snaps), 100 * sum(snaps) / wall))
PY
  done
done
