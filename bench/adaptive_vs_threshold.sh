#!/bin/sh
# The quick start's sweep (threshold mode, one training per cell) against the adaptive mode with
# early stopping, same depths and distances, run one after the other in the same invocation:
# trainings, steps, wall time, p with its CI, and the verdict of `rfx fit` for each.
#   bench/adaptive_vs_threshold.sh BUILD_DIR OUT_DIR [extra --set ...]
. "$(dirname "$0")/common.sh"
CFG=$CPU_CFG
DEPTHS='sweep.axes.net.depth=[2, 3, 4, 5, 6, 8, 10, 12]'
t0=$(date +%s)
"$RFX" sweep $CFG --set "$DEPTHS" "$@" --set sweep.mode=threshold --out "$OUT/threshold" \
  > "$OUT/threshold.txt"
t1=$(date +%s)
"$RFX" sweep $CFG --set "$DEPTHS" "$@" --set sweep.mode=adaptive \
  --set train.early_stop.every=25 \
  --out "$OUT/adaptive" > "$OUT/adaptive.txt"
t2=$(date +%s)
"$RFX" fit "$OUT/threshold" --json > "$OUT/threshold_fit.json"
"$RFX" fit "$OUT/adaptive" --json > "$OUT/adaptive_fit.json"
/usr/bin/python3 - "$OUT" $((t1 - t0)) $((t2 - t1)) <<'PY'
import json, sys
out, wt, wa = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def recs(d):
    return [json.loads(l) for l in open(out + "/" + d + "/results.jsonl") if l.endswith("\n")]
print("| mode | trainings | steps | wall s | p (95% CI) | verdict |")
print("|---|---|---|---|---|---|")
for name, wall in (("threshold", wt), ("adaptive", wa)):
    r = recs(name)
    f = json.load(open(out + "/" + name + "_fit.json"))
    pw = f.get("models", {}).get("power")
    p = "-" if not pw else "%.2f (%s–%s)" % (
        pw["p"], *("%.2f" % v if v is not None else "?" for v in pw["p_ci"]))
    print("| %s | %d | %d | %d | %s | %s |" % (name, len(r), sum(x["steps"] for x in r), wall, p,
                                           f["verdict"]))
PY
