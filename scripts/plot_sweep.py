#!/usr/bin/env python3
"""Plots of an rfx sweep directory.

  /usr/bin/python3 scripts/plot_sweep.py DIR [--rfx PATH] [--out PREFIX]

Writes PREFIX_threshold.png (threshold per depth with the fitted a*N^p, a*sqrt(N)+b and a*N+b
curves, from `rfx fit DIR --json`) and PREFIX_accuracy.png (mean accuracy per depth x distance
cell; cells a threshold search never trained are left blank). PREFIX defaults to DIR/sweep.
"""
import argparse
import glob
import json
import os
import shutil
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
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


def plot_threshold(fit, path, title):
    pts = fit["thresholds"]
    depth_key, axis_key = fit["depth_key"], fit["axis_key"]
    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    x = [p["depth"] for p in pts if p["distance"] is not None and "censored" not in p]
    y = [p["distance"] for p in pts if p["distance"] is not None and "censored" not in p]
    if x:
        ax.plot(x, y, "ko", label="threshold (accuracy >= %.2f)" % fit["accuracy"])
    above = [(p["depth"], p["distance"]) for p in pts if p.get("censored") == "above"]
    if above:
        ax.plot(*zip(*above), "k^", mfc="none", label="sees every value (lower bound)")
    below = [p["depth"] for p in pts if p.get("censored") == "below"]
    if below:
        ax.plot(below, [0] * len(below), "kv", mfc="none", label="sees nothing")
    models = fit.get("models", {})
    if models and x:
        n = np.linspace(min(p["depth"] for p in pts), max(p["depth"] for p in pts), 200)
        pw, sq, li = models["power"], models["sqrt"], models["linear"]
        ci = pw.get("p_ci") or [None, None]
        ci_txt = "" if ci[0] is None else ", p 95%% CI [%.2f, %.2f]" % (ci[0], ci[1])
        ax.plot(n, pw["a"] * n ** pw["p"], "C0-",
                label="%.2f·N^%.2f (R² %.3f%s)" % (pw["a"], pw["p"], pw["r2"], ci_txt))
        ax.plot(n, sq["a"] * np.sqrt(n) + sq["b"], "C1--",
                label="%.2f·√N %+.2f (R² %.3f)" % (sq["a"], sq["b"], sq["r2"]))
        ax.plot(n, li["a"] * n + li["b"], "C2:",
                label="%.2f·N %+.2f (R² %.3f)" % (li["a"], li["b"], li["r2"]))
    ys = [p["distance"] for p in pts if p["distance"] is not None]
    ax.set_ylim(-0.5, (max(ys) if ys else 1) * 1.2 + 1)
    depths = [p["depth"] for p in pts]
    if 0 < len(depths) <= 24:
        ax.set_xticks(depths)
    if not models:
        ax.text(0.5, 0.5, "no fit: fewer than 2 thresholds inside the swept range",
                transform=ax.transAxes, ha="center", fontsize=9, color="0.4")
    ax.set_xlabel(depth_key)
    ax.set_ylabel("largest %s learned" % axis_key)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_accuracy(records, fit, path, title):
    depth_key, axis_key = fit["depth_key"], fit["axis_key"]
    cells = {}
    for r in records:
        if depth_key not in r or axis_key not in r:
            continue
        acc = r.get("accuracy")
        acc = 0.0 if acc is None else acc
        cells.setdefault((r[depth_key], r[axis_key]), []).append(acc)
    if not cells:
        return False
    depths = sorted({k[0] for k in cells})
    dists = sorted({k[1] for k in cells})
    grid = np.full((len(dists), len(depths)), np.nan)
    for (d, v), accs in cells.items():
        grid[dists.index(v), depths.index(d)] = float(np.mean(accs))
    fig, ax = plt.subplots(figsize=(max(4.8, 0.35 * len(depths) + 2.5),
                                    max(3.6, 0.22 * len(dists) + 1.8)))
    cmap = plt.get_cmap("viridis").copy()
    cmap.set_bad("#eeeeee")
    im = ax.imshow(np.ma.masked_invalid(grid), origin="lower", aspect="auto", cmap=cmap,
                   vmin=0.5, vmax=1.0, interpolation="nearest")
    ax.set_xticks(range(len(depths)))
    ax.set_xticklabels([str(d) for d in depths], fontsize=7)
    step = max(1, len(dists) // 16)
    ax.set_yticks(range(0, len(dists), step))
    ax.set_yticklabels([str(v) for v in dists[::step]], fontsize=7)
    ax.set_xlabel(depth_key)
    ax.set_ylabel(axis_key)
    # Mark each depth's threshold.
    for p in fit["thresholds"]:
        if p["distance"] is not None and p["depth"] in depths and p["distance"] in dists:
            ax.plot(depths.index(p["depth"]), dists.index(p["distance"]), "r_", ms=12, mew=2)
    fig.colorbar(im, ax=ax, label="mean accuracy (grey: not trained)")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("dir")
    ap.add_argument("--rfx", help="path of the rfx executable (default: build*/rfx, then PATH)")
    ap.add_argument("--out", help="output prefix (default DIR/sweep)")
    ap.add_argument("--title", default=None)
    a = ap.parse_args()
    rfx = find_rfx(a.rfx)
    res = subprocess.run([rfx, "fit", a.dir, "--json"], capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit("plot_sweep.py: rfx fit failed: " + res.stderr.strip())
    fit = json.loads(res.stdout)
    prefix = a.out or os.path.join(a.dir, "sweep")
    title = a.title or os.path.basename(os.path.normpath(a.dir))
    plot_threshold(fit, prefix + "_threshold.png", title)
    print(prefix + "_threshold.png")
    if plot_accuracy(read_records(a.dir), fit, prefix + "_accuracy.png", title):
        print(prefix + "_accuracy.png")


if __name__ == "__main__":
    main()
