#!/usr/bin/env python3
"""Plots of an rfx sweep directory.

  /usr/bin/python3 scripts/plot_sweep.py DIR [--rfx PATH] [--out PREFIX] [--title NAME]
      [--budget STEPS]...

Writes PREFIX_threshold.png (d50 per depth with its 95% CI, censored depths as arrows, the
fitted a*N^p (with the band of its p CI), a*sqrt(N)+b and a*N+b curves and the verdict of
`rfx fit DIR --json` in the title; --budget B adds d50 as it was after B steps) and
PREFIX_accuracy.png (fraction of trainings that learned per depth x distance cell, with the d50
curve over it; cells never trained are grey) and PREFIX_mean_accuracy.png (the study's heatmap:
mean final accuracy per cell, the d50 curve over it). PREFIX defaults to DIR/sweep.
"""
import argparse
import glob
import json
import os
import textwrap
import shutil
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import figsave  # noqa: E402  (atomic writes, one-sentence errors)
import numpy as np  # noqa: E402


def find_rfx(given):
    if given:
        return given
    here = os.path.dirname(os.path.abspath(__file__))
    for cand in sorted(glob.glob(os.path.join(here, "..", "build*", "rfx"))):
        if os.access(cand, os.X_OK):
            return cand
    found = shutil.which("rfx")
    if not found:
        sys.exit("plot_sweep.py: cannot find the rfx executable; pass --rfx PATH")
    return found


def read_records(d):
    files = []
    if os.path.exists(os.path.join(d, "results.jsonl")):
        files.append(os.path.join(d, "results.jsonl"))
    files += sorted(glob.glob(os.path.join(d, "shard-*.jsonl")))
    seen, out = set(), []
    for f in files:
        with open(f) as fh:
            for line in fh:
                if not line.endswith("\n"):
                    continue  # a write cut short
                try:
                    r = json.loads(line)
                except ValueError:
                    continue
                if r.get("key") in seen:
                    continue
                seen.add(r.get("key"))
                out.append(r)
    return out


def fit_json(rfx, d, budget=None):
    cmd = [rfx, "fit", d, "--json"] + (["--budget", str(budget)] if budget else [])
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit("plot_sweep.py: rfx fit failed: " + res.stderr.strip())
    return json.loads(res.stdout)


def draw_d50(ax, fit, color, label, offset=0.0, series=""):
    """d50 per depth with its 95% CI; censored depths as arrows at their bound."""
    pts = fit["depths"]
    ok = [p for p in pts if p["censored"] is None and p["d50"] is not None]
    if ok:
        x = np.array([p["depth"] for p in ok]) + offset
        y = np.array([p["d50"] for p in ok])
        lo = np.array([p["ci"][0] if p["ci"][0] is not None else p["d50"] for p in ok])
        hi = np.array([p["ci"][1] if p["ci"][1] is not None else p["d50"] for p in ok])
        ax.errorbar(x, y, yerr=[y - lo, hi - y], fmt="o", color=color, ms=4, capsize=2,
                    label=label)
    above = [p for p in pts if p["censored"] == "above"]
    if above:
        ax.plot([p["depth"] + offset for p in above], [p["d50"] for p in above], "^",
                color=color, mfc="none", ms=7, label=series + "learns every distance (d50 above)")
    below = [p for p in pts if p["censored"] == "below"]
    if below:
        ax.plot([p["depth"] + offset for p in below], [p["d50"] for p in below], "v",
                color=color, mfc="none", ms=7, label=series + "learns none (d50 below)")


def plot_threshold(fit, path, title, budgets=(), tried=()):
    """`tried`: the distances trained at; the y range covers them, so a depth that learns none
    (or all) sits at the edge of what was tried, not alone in a sliver of axis."""
    depth_key, axis_key = fit["depth_key"], fit["axis_key"]
    fig, ax = plt.subplots(figsize=(7.2, 5.0))
    draw_d50(ax, fit, "k", "d50 ± 95%% CI (accuracy >= %.2f)" % fit["accuracy"])
    for i, (b, bfit) in enumerate(budgets):
        draw_d50(ax, bfit, "C%d" % (i + 4), "d50 within %d steps" % b, offset=0.15 * (i + 1),
                 series="within %d steps: " % b)
    depths = [p["depth"] for p in fit["depths"]]
    models = fit.get("models", {})
    if models and depths:
        n = np.linspace(min(depths), max(depths), 200)
        pw, sq, li = models["power"], models["sqrt"], models["linear"]
        b = pw.get("b") or 0.0
        ci = pw.get("p_ci") or [None, None]
        ci_txt = "" if ci[0] is None else ", p 95%% CI %.2f–%.2f" % (ci[0], ci[1])
        ax.plot(n, pw["a"] * n ** pw["p"] + b, "C0-",
                label="%.2f·N^%.2f%s (AIC %.1f%s)" % (pw["a"], pw["p"],
                                                       " %+.2f" % b if b else "", pw["aic"],
                                                       ci_txt))
        if ci[0] is not None:
            # The band of exponents in the CI, each curve pinned at the geometric mean depth.
            nbar = float(np.exp(np.mean(np.log(depths))))
            curves = [pw["a"] * nbar ** (pw["p"] - q) * n ** q + b
                      for q in np.linspace(ci[0], ci[1], 9)]
            ax.fill_between(n, np.min(curves, axis=0), np.max(curves, axis=0), color="C0",
                            alpha=0.15, lw=0)
        ax.plot(n, sq["a"] * np.sqrt(n) + sq["b"], "C1--",
                label="%.2f·√N %+.2f (AIC %.1f)" % (sq["a"], sq["b"], sq["aic"]))
        ax.plot(n, li["a"] * n + li["b"], "C2:",
                label="%.2f·N %+.2f (AIC %.1f)" % (li["a"], li["b"], li["aic"]))
    if 0 < len(depths) <= 24:
        ax.set_xticks(depths)
    if not models and not fit.get("verdict"):
        # (The verdict in the title says why otherwise; this note sits clear of the points.)
        ax.text(0.98, 0.03, "no curve: " + fit.get("note", "too few depths"),
                transform=ax.transAxes, ha="right", va="bottom", fontsize=8, color="0.4",
                bbox=dict(facecolor="white", edgecolor="none", alpha=0.8))
    if tried:
        lo, hi = ax.get_ylim()
        ax.set_ylim(min(lo, min(tried) - 0.5), max(hi, max(tried) + 0.5))
    ax.set_xlabel(depth_key)
    ax.set_ylabel("d50: %s learned half the time" % axis_key)
    verdict = "\n".join(textwrap.wrap(fit.get("verdict", ""), 95))
    ax.set_title(title + "\n" + verdict, fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    figsave.save(fig, path, "plot_sweep.py", dpi=120)
    plt.close(fig)


def plot_accuracy(records, fit, path, title, value="learned"):
    """Per (depth, distance) cell, d50 drawn over it: the fraction of trainings that learned
    (value "learned") or their mean final accuracy (value "accuracy", the study's heatmap)."""
    depth_key, axis_key, level = fit["depth_key"], fit["axis_key"], fit["accuracy"]
    cells = {}
    for r in records:
        if depth_key not in r or axis_key not in r or r.get("status") == "failed":
            continue
        acc = r.get("accuracy")
        learned = r.get("status") == "ok" and acc is not None and acc >= level
        if value == "accuracy":
            if acc is None:
                continue
            cells.setdefault((r[depth_key], r[axis_key]), []).append(float(acc))
        else:
            cells.setdefault((r[depth_key], r[axis_key]), []).append(1.0 if learned else 0.0)
    if not cells:
        return False
    depths = sorted({k[0] for k in cells})
    dists = sorted({k[1] for k in cells})
    grid = np.full((len(dists), len(depths)), np.nan)
    counts = np.zeros_like(grid)
    for (d, v), ls in cells.items():
        grid[dists.index(v), depths.index(d)] = float(np.mean(ls))
        counts[dists.index(v), depths.index(d)] = len(ls)
    fig, ax = plt.subplots(figsize=(max(5.2, 0.35 * len(depths) + 2.8),
                                    max(3.8, 0.22 * len(dists) + 2.0)))
    cmap = plt.get_cmap("viridis").copy()
    cmap.set_bad("#eeeeee")
    im = ax.imshow(np.ma.masked_invalid(grid), origin="lower", aspect="auto", cmap=cmap,
                   vmin=0.0, vmax=1.0, interpolation="nearest")
    if len(depths) * len(dists) <= 400:
        for (iy, ix), c in np.ndenumerate(counts):
            if c > 1:
                frac = grid[iy, ix]
                ax.text(ix, iy, "%d" % c, ha="center", va="center", fontsize=6,
                        color="k" if frac > 0.6 else "w")
    ax.set_xticks(range(len(depths)))
    ax.set_xticklabels([str(d) for d in depths], fontsize=7)
    step = max(1, len(dists) // 16)
    ax.set_yticks(range(0, len(dists), step))
    ax.set_yticklabels([str(v) for v in dists[::step]], fontsize=7)
    ax.set_xlabel(depth_key)
    ax.set_ylabel(axis_key)
    # d50 on the index axis of the distances (linear between swept values); a censored depth is
    # a bound, not a point: an open triangle at it, not joined to the curve.
    marks = {None: ("r.-", "d50"), "above": ("r^", "d50 above (learns every distance)"),
             "below": ("rv", "d50 below (learns none)")}
    for censored, (style, label) in marks.items():
        xs, ys = [], []
        for p in fit["depths"]:
            if p["d50"] is not None and p["depth"] in depths and p.get("censored") == censored:
                xs.append(depths.index(p["depth"]))
                ys.append(float(np.interp(p["d50"], dists, range(len(dists)))))
        if xs:
            ax.plot(xs, ys, style, lw=1.5, ms=6 if censored is None else 8,
                    mfc="r" if censored is None else "none", label=label)
    if fit["depths"]:
        ax.legend(fontsize=7, loc="upper left")
    fig.colorbar(im, ax=ax, label=("mean final accuracy" if value == "accuracy" else
                                   "fraction learned (accuracy >= %.2f)" % level))
    ax.set_title(title + "\nnumbers: trainings per cell (when > 1); grey: not trained", fontsize=9)
    fig.tight_layout()
    figsave.save(fig, path, "plot_sweep.py", dpi=120)
    plt.close(fig)
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("dir")
    ap.add_argument("--rfx", help="path of the rfx executable (default: build*/rfx, then PATH)")
    ap.add_argument("--out", help="output prefix (default DIR/sweep)")
    ap.add_argument("--title", default=None, help="experiment name (default: the directory's)")
    ap.add_argument("--budget", type=int, action="append", default=[],
                    help="also draw d50 as with this many steps (repeatable; needs "
                         "train.early_stop checks)")
    a = ap.parse_args()
    rfx = find_rfx(a.rfx)
    fit = fit_json(rfx, a.dir)
    budgets = [(b, fit_json(rfx, a.dir, b)) for b in a.budget]
    prefix = a.out or os.path.join(a.dir, "sweep")
    title = a.title or os.path.basename(os.path.normpath(a.dir))
    records = read_records(a.dir)
    tried = sorted({r[fit["axis_key"]] for r in records if fit["axis_key"] in r})
    plot_threshold(fit, prefix + "_threshold.png", title, budgets, tried)
    print(prefix + "_threshold.png")
    if plot_accuracy(records, fit, prefix + "_accuracy.png", title):
        print(prefix + "_accuracy.png")
    if plot_accuracy(records, fit, prefix + "_mean_accuracy.png", title, value="accuracy"):
        print(prefix + "_mean_accuracy.png")


if __name__ == "__main__":
    main()
