#!/usr/bin/env python3
"""The study's three views of the field on one figure, depth N on the x-axis (matplotlib, Agg).

  plot_views.py --theory T.json... --forward DIR --gradient G.json... \
      [--trained FIT.json LABEL]... --out views.png

  --theory    `rfx theory --format json` of the net at each depth, files named depth_N.json:
              the analytic radius (r-1)/2 of the output unit's field (r = 2N+1 for N 3x3
              layers, so the radius is N: the farthest pixel the output sees, not (2N+1)/2)
  --forward   `rfx probe forward --out DIR`: the impulse radius at its level (≈ 3√N for
              constant 0.01 weights) per depth, with the fitted c·√N
  --gradient  `rfx probe gradient --json` of a fresh net at each depth, files named
              depth_N.json: the gradient-ERF radius at its level
  --trained   `rfx fit DIR --json` of a sweep: d50 per depth with its 95% CI (censored depths
              as open triangles at their bound); repeatable (experiment 2, experiment 3)
"""
import argparse
import json
import os
import re
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import figsave  # noqa: E402  (atomic writes, one-sentence errors)
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from summarize import fit_c_k, read_forward  # noqa: E402  (one reader of a forward probe)


def depth_of(path):
    m = re.search(r"depth_(\d+)", os.path.basename(path))
    if not m:
        raise SystemExit("plot_views.py: %s is not named depth_N.json" % path)
    return int(m.group(1))


def by_depth(paths, value):
    pts = sorted((depth_of(p), value(json.load(open(p)))) for p in paths)
    return np.array([a for a, _ in pts]), np.array([b for _, b in pts], dtype=float)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--theory", nargs="*", default=[])
    p.add_argument("--forward", default="")
    p.add_argument("--gradient", nargs="*", default=[])
    p.add_argument("--trained", nargs=2, action="append", default=[], metavar=("FIT", "LABEL"))
    p.add_argument("--out", required=True)
    a = p.parse_args()

    fig, ax = plt.subplots(figsize=(7, 4.8))
    nmax = 2
    if a.theory:
        n, r = by_depth(a.theory, lambda j: (max(l["r"] for l in j["layers"]) - 1) / 2)
        ax.plot(n, r, "k--", marker=".", lw=1, label="analytic RF radius (r−1)/2 = N")
        nmax = max(nmax, n.max())
    if a.forward:
        meta, n, r, _ = read_forward(a.forward)
        ax.plot(n, r, "C0-", lw=1.5, label="forward-pass radius (%s init, level %g)" %
                (meta.get("init", "?"), meta.get("level", 0)))
        c = fit_c_k(n, r)[0]
        nn = np.linspace(1, n.max(), 200)
        ax.plot(nn, c * np.sqrt(nn), "C0:", lw=1, label="fit %.2f·√N" % c)
    if a.gradient:
        n, r = by_depth(a.gradient, lambda j: j["radius"])
        level = json.load(open(a.gradient[0])).get("level", 0)
        ax.plot(n, r, "C2s-", ms=4, lw=1, label="gradient-ERF radius, fresh net (level %g)" % level)
        nmax = max(nmax, n.max())
    for i, (path, label) in enumerate(a.trained):
        fit = json.load(open(path))
        color = "C%d" % (3 + i)
        pts = [d for d in fit["depths"] if d["d50"] is not None]
        ok = [d for d in pts if d.get("censored") is None]
        if ok:
            x = np.array([d["depth"] for d in ok]) + 0.15 * i
            y = np.array([d["d50"] for d in ok])
            lo = np.array([d["ci"][0] if d["ci"][0] is not None else d["d50"] for d in ok])
            hi = np.array([d["ci"][1] if d["ci"][1] is not None else d["d50"] for d in ok])
            power = fit.get("models", {}).get("power") or {}
            p_ci = power.get("p_ci") or [None, None]
            how = ""
            if power.get("p") is not None and None not in p_ci:
                how = " (N^%.2f, p 95%% CI %.2f–%.2f)" % (power["p"], p_ci[0], p_ci[1])
            ax.errorbar(x, y, yerr=[y - lo, hi - y], fmt="o", color=color, ms=5, capsize=3,
                        label="trained d50 ± 95%% CI: %s%s" % (label, how))
        named = False
        for d in pts:
            if d.get("censored"):
                ax.plot(d["depth"] + 0.15 * i, d["d50"], "^" if d["censored"] == "above" else "v",
                        color=color, mfc="none", ms=7,
                        label=None if named else "%s: d50 beyond the swept distances" % label)
                named = True
        if pts:
            nmax = max(nmax, max(d["depth"] for d in pts))
    ax.set_xlim(0, nmax + 1)
    ax.set_xlabel("depth N (3×3 conv layers)")
    ax.set_ylabel("radius / distance (px)")
    ax.set_title("Three views of the field: theory, forward pass, gradient, training")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7.5, loc="upper left")
    fig.tight_layout()
    figsave.save(fig, a.out, "plot_views.py", dpi=100)


if __name__ == "__main__":
    main()
