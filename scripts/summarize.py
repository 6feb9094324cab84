#!/usr/bin/env python3
"""summary.txt of one experiment of scripts/reproduce.sh.

  summarize.py sweep NAME WALL_S FIT.json [FIT.json ...] [--labels A,B]
      verdict line, p with its CI, d50 per depth with its CI (one block per fit: variants)
  summarize.py forward NAME WALL_S DIR
      radius per depth at the level (DIR = `rfx probe forward --out DIR`) and the fitted
      c·√N (least squares through the origin, depths >= 2), or the one radius of a fixed net
"""
import argparse
import csv
import json
import os

import numpy as np


def fmt(x):
    return "?" if x is None else "%.3g" % x


def sweep(args):
    labels = args.labels.split(",") if args.labels else [""] * len(args.inputs)
    lines = []
    for label, path in zip(labels, args.inputs):
        with open(path) as f:
            fit = json.load(f)
        head = (label + ": ") if label else ""
        lines.append("%sverdict: %s" % (head, fit.get("verdict", "?")))
        power = fit.get("models", {}).get("power")
        if power:
            lo, hi = power.get("p_ci", [None, None])
            lines.append("%sp = %s (95%% CI %s..%s), preferred %s" %
                         (head, fmt(power.get("p")), fmt(lo), fmt(hi), fit.get("preferred")))
        else:
            lines.append("%sp: not fitted" % head)
        parts = []
        for d in fit.get("depths", []):
            lo, hi = d["ci"]
            c = d.get("censored")
            val = ("<%s" % fmt(d["d50"]) if c == "below" else
                   ">%s" % fmt(d["d50"]) if c == "above" else fmt(d["d50"]))
            parts.append("%d: %s [%s, %s] (%d trainings)" %
                         (int(d["depth"]), val, fmt(lo), fmt(hi), d.get("trainings", 0)))
        lines.append("%sd50 per depth (%s): %s" % (head, fit.get("axis_key", "?"), "; ".join(parts)))
    return lines


def forward(args):
    d = args.inputs[0]
    with open(os.path.join(d, "forward.json")) as f:
        meta = json.load(f)
    depths, radii, clipped = [], [], []
    with open(os.path.join(d, "radii.csv")) as f:
        for row in csv.DictReader(f):
            depths.append(int(row["depth"]))
            radii.append(float(row["radius"]))
            if row.get("clipped") == "true":
                clipped.append(int(row["depth"]))
    n, r = np.array(depths), np.array(radii)
    lines = []
    level = meta.get("level", "?")
    if len(n) >= 3:
        ok = n >= 2
        c = float(np.sum(np.sqrt(n[ok]) * r[ok]) / np.sum(n[ok]))
        rss_sqrt = float(np.sum((r[ok] - c * np.sqrt(n[ok])) ** 2))
        k = float(np.sum(n[ok] * r[ok]) / np.sum(n[ok] ** 2))
        rss_lin = float(np.sum((r[ok] - k * n[ok]) ** 2))
        better = "c·√N" if rss_sqrt < rss_lin else "k·N"
        lines.append("verdict: radius at level %s fits %s better (c·√N: c = %.2f, rss %.3g; "
                     "k·N: k = %.3f, rss %.3g)" % (level, better, c, rss_sqrt, k, rss_lin))
    else:
        lines.append("verdict: radius at level %s = %s px" % (level, ", ".join("%g" % x for x in r)))
    lines.append("radii (depth: px): " + "; ".join("%d: %g" % (a, b) for a, b in zip(n, r)))
    if clipped:
        lines.append("clipped (the impulse reached the border; the radius is a lower bound) at "
                     "depths: " + ", ".join(str(x) for x in clipped))
    return lines


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("kind", choices=["sweep", "forward"])
    p.add_argument("name")
    p.add_argument("wall_s", type=float)
    p.add_argument("inputs", nargs="+")
    p.add_argument("--labels", default="")
    args = p.parse_args()
    lines = ["experiment %s" % args.name]
    lines += sweep(args) if args.kind == "sweep" else forward(args)
    lines.append("wall time of this run: %.0f s (a resumed run counts only what it redid)"
                 % args.wall_s)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
