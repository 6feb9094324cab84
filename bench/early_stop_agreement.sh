#!/bin/sh
# Does early stopping change outcomes? The CPU grid (experiments/e_depth_vs_distance_cpu.yaml,
# widened to depths 2-8) trained twice, with and without train.early_stop, in the same
# invocation: per cell, learned (accuracy >= 0.9) or not, and the steps each needed.
#   bench/early_stop_agreement.sh BUILD_DIR OUT_DIR [extra --set ...]
. "$(dirname "$0")/common.sh"
CFG=$CPU_CFG
GRID="--set sweep.mode=grid --set sweep.axes.net.depth=[2,4,6,8]"
t0=$(date +%s)
"$RFX" sweep $CFG $GRID "$@" --out "$OUT/full" > "$OUT/full.txt"
t1=$(date +%s)
"$RFX" sweep $CFG $GRID "$@" --set train.early_stop.every=25 --out "$OUT/early" > "$OUT/early.txt"
t2=$(date +%s)
/usr/bin/python3 - "$OUT" $((t1 - t0)) $((t2 - t1)) <<'PY'
import json, sys
out, wf, we = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def cells(d):
    m = {}
    for l in open(out + "/" + d + "/results.jsonl"):
        r = json.loads(l)
        m[(r["net.depth"], r["dataset.distance"])] = r
    return m
f, e = cells("full"), cells("early")
both = sorted(set(f) & set(e))
learned = lambda r: r["status"] == "ok" and r["accuracy"] >= 0.9
agree = sum(learned(f[c]) == learned(e[c]) for c in both)
print("cells %d, outcomes agree %d (%.1f%%); learned: full %d, early %d" % (
    len(both), agree, 100.0 * agree / len(both), sum(learned(f[c]) for c in both),
    sum(learned(e[c]) for c in both)))
print("steps: full %d, early %d; wall: full %d s, early %d s" % (
    sum(f[c]["steps"] for c in both), sum(e[c]["steps"] for c in both), wf, we))
for c in both:
    if learned(f[c]) != learned(e[c]):
        print("  differs at depth %s distance %s: full %.3f, early %.3f (stopped at %s)" % (
            c[0], c[1], f[c]["accuracy"], e[c]["accuracy"], e[c].get("learned_at")))
PY
