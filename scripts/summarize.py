#!/usr/bin/env python3
"""summary.txt of one experiment of scripts/reproduce.sh.

  summarize.py sweep NAME WALL_S FIT.json [FIT.json ...] [--labels A,B]
      verdict line, p with its CI, d50 per depth with its CI (one block per fit: variants)
  summarize.py forward NAME WALL_S DIR [DIR ...]
      radius per depth at the level (DIR = `rfx probe forward --out DIR`) and the fitted
      c·√N (least squares through the origin, depths >= 2), or the one radius of a fixed net.
      Several DIRs are seeds of random weights: the mean radius per depth with a 95% bootstrap
      CI over the seeds, and c and the exponent p of r = a·N^p with their CIs.
  summarize.py arch NAME WALL_S OUT/NAME --labels A,B --seeds S [--cell 'k=v ...']
      a small-CNN study (summarize_arch.py): per variant the d50s, the accuracy at the cell,
      the ERF σ before and after training and the step time.
"""
import argparse
import csv
import json
import os

import numpy as np

from summarize_arch import arch_lines, d50_entry


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
            lines.append("%sp = %s (95%% CI %s..%s): exponent verdict %s; AIC of c·√N+b vs "
                         "k·N+b prefers %s (ΔAIC %s)" %
                         (head, fmt(power.get("p")), fmt(lo), fmt(hi), fit.get("exponent"),
                          fit.get("preferred"), fmt(fit.get("delta_aic"))))
        else:
            lines.append("%sp: not fitted" % head)
        parts = ["%d: %s (%d trainings)" % (int(d["depth"]), d50_entry(d, fmt), d.get("trainings", 0))
                 for d in fit.get("depths", [])]
        lines.append("%sd50 per depth (%s): %s" % (head, fit.get("axis_key", "?"), "; ".join(parts)))
    return lines


def read_forward(d):
    with open(os.path.join(d, "forward.json")) as f:
        meta = json.load(f)
    depths, radii, clipped = [], [], []
    with open(os.path.join(d, "radii.csv")) as f:
        for row in csv.DictReader(f):
            depths.append(int(row["depth"]))
            radii.append(float(row["radius"]))
            if row.get("clipped") == "true":
                clipped.append(int(row["depth"]))
    return meta, np.array(depths), np.array(radii), clipped


def fit_c_k(n, r):
    """c of c·√N and k of k·N (least squares through the origin) and their rss, depths >= 2."""
    ok = n >= 2
    c = float(np.sum(np.sqrt(n[ok]) * r[ok]) / np.sum(n[ok]))
    k = float(np.sum(n[ok] * r[ok]) / np.sum(n[ok] ** 2))
    return (c, float(np.sum((r[ok] - c * np.sqrt(n[ok])) ** 2)),
            k, float(np.sum((r[ok] - k * n[ok]) ** 2)))


def fit_p(n, r):
    """p of r = a·N^p: least squares of log r on log N (depths >= 2, radii > 0)."""
    ok = (n >= 2) & (r > 0)
    return float(np.polyfit(np.log(n[ok]), np.log(r[ok]), 1)[0])


def p_verdict(lo, hi):
    """What a CI [lo, hi] of the exponent says about √N (p = 0.5) and N (p = 1)."""
    has_sqrt, has_lin = lo <= 0.5 <= hi, lo <= 1 <= hi
    if has_sqrt and has_lin:
        return "√N and N not distinguished"
    if has_sqrt:
        return "√N (the CI holds 0.5 and excludes 1)"
    if has_lin:
        return "N (the CI holds 1 and excludes 0.5)"
    return "neither √N nor N (the CI holds neither 0.5 nor 1)"


def seed_stats(n, runs, reps=2000):
    """Mean radius per depth, c and p, each with a 95% percentile bootstrap CI over seeds."""
    rng = np.random.default_rng(0)
    runs = np.array(runs)  # seeds x depths
    idx = rng.integers(0, len(runs), size=(reps, len(runs)))
    means = runs[idx].mean(axis=1)  # reps x depths
    lo, hi = np.percentile(means, [2.5, 97.5], axis=0)
    cs = [fit_c_k(n, m)[0] for m in means]
    ps = [fit_p(n, m) for m in means]
    mean = runs.mean(axis=0)
    return (mean, lo, hi, (fit_c_k(n, mean)[0], *np.percentile(cs, [2.5, 97.5])),
            (fit_p(n, mean), *np.percentile(ps, [2.5, 97.5])))


def forward(args):
    runs = [read_forward(d) for d in args.inputs]
    meta, n, r, clipped = runs[0]
    for m, n2, _, c2 in runs[1:]:
        if not np.array_equal(n, n2):
            raise SystemExit("summarize.py: the seeds' probes have different depths")
        clipped = sorted(set(clipped) | set(c2))
    level = meta.get("level", "?")
    lines = []
    if len(runs) > 1 and len(n) >= 3:
        mean, lo, hi, c, p = seed_stats(n, [x[2] for x in runs])
        _, rss_sqrt, k, rss_lin = fit_c_k(n, mean)
        verdict = p_verdict(p[1], p[2])
        lines.append("verdict: mean radius at level %s over %d seeds grows as N^%.2f (95%% CI "
                     "%.2f–%.2f): %s; c·√N: c = %.2f (95%% CI %.2f–%.2f), rss %.3g; k·N: k = %.3f, "
                     "rss %.3g" % (level, len(runs), p[0], p[1], p[2], verdict, c[0], c[1], c[2],
                                   rss_sqrt, k, rss_lin))
        lines.append("mean radius (depth: px [95% CI over seeds]): " + "; ".join(
            "%d: %.1f [%.1f, %.1f]" % (a, b, l, h) for a, b, l, h in zip(n, mean, lo, hi)))
    elif len(n) >= 3:
        c, rss_sqrt, k, rss_lin = fit_c_k(n, r)
        better = "c·√N" if rss_sqrt < rss_lin else "k·N"
        lines.append("verdict: radius at level %s fits %s better (c·√N: c = %.2f, rss %.3g; "
                     "k·N: k = %.3f, rss %.3g)" % (level, better, c, rss_sqrt, k, rss_lin))
        lines.append("radii (depth: px): " + "; ".join("%d: %g" % (a, b) for a, b in zip(n, r)))
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
    p.add_argument("kind", choices=["sweep", "forward", "arch"])
    p.add_argument("name")
    p.add_argument("wall_s", type=float)
    p.add_argument("inputs", nargs="+")
    p.add_argument("--labels", default="")
    p.add_argument("--seeds", type=int, default=1)
    p.add_argument("--cell", default="")
    args = p.parse_args()
    lines = ["experiment %s" % args.name]
    if args.kind == "arch":
        lines += arch_lines(args.inputs[0], args.labels.split(","), args.seeds, args.cell)
    else:
        lines += sweep(args) if args.kind == "sweep" else forward(args)
    lines.append("wall time of this run: %.0f s (a resumed run counts only what it redid)"
                 % args.wall_s)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
