#!/usr/bin/env python3
"""The field through training: plots of a run made with `train.erf_every: K` (matplotlib, Agg).

  plot_erf_training.py DIR [--out DIR/erf_training.png] [--maps 8] [--zoom R] [--title T]

DIR = `rfx train --out DIR`. Top: the snapshots' gradient ERF maps (DIR/erf/step-S.csv) as a
strip, each normalised to its own max, log colour scale (as `plot_probe.py gradient`), all
zoomed alike (half-side R px; default: where any shown map is above 1e-4 of its max, at least
8); at most --maps of them, evenly spread over the steps, the first and the last always
included. Bottom: the radius at the level and the Gaussian sigma per axis (DIR/erf.jsonl)
against the step. Snapshots that recorded an error (a diverging net) are left out and counted
in the title.
"""
import argparse
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import figsave  # noqa: E402  (atomic writes, one-sentence errors)
from matplotlib.ticker import MaxNLocator  # noqa: E402
import numpy as np  # noqa: E402

FLOOR = 1e-6


def read_log(run_dir):
    path = os.path.join(run_dir, "erf.jsonl")
    if not os.path.exists(path):
        sys.exit("plot_erf_training.py: %s does not exist (train with train.erf_every > 0)" % path)
    good, bad = [], 0
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            rec = json.loads(line)
            if "error" in rec:
                bad += 1
            else:
                good.append(rec)
    good.sort(key=lambda r: r["step"])
    if not good:
        sys.exit("plot_erf_training.py: %s holds no snapshot with a map" % path)
    return good, bad


def pick(records, n):
    if len(records) <= n:
        return records
    idx = sorted(set(int(round(i)) for i in np.linspace(0, len(records) - 1, n)))
    return [records[i] for i in idx]


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dir")
    p.add_argument("--out", default="")
    p.add_argument("--maps", type=int, default=8)
    p.add_argument("--zoom", type=int, default=0)
    p.add_argument("--title", default="")
    args = p.parse_args()
    if args.maps < 1:
        sys.exit("plot_erf_training.py: --maps %d must be >= 1" % args.maps)
    out = args.out or os.path.join(args.dir, "erf_training.png")
    records, errors = read_log(args.dir)
    shown = pick(records, args.maps)
    maps = []
    for r in shown:
        m = np.abs(np.loadtxt(os.path.join(args.dir, r["map"]), delimiter=",", ndmin=2))
        maps.append(m / max(m.max(), 1e-30))
    h, w = maps[0].shape
    cy, cx = h // 2, w // 2
    zoom = args.zoom
    if not zoom:
        zoom = 8
        for m in maps:
            ys, xs = np.nonzero(m > 1e-4)
            if len(ys):
                zoom = max(zoom, int(np.abs(ys - cy).max() + 2), int(np.abs(xs - cx).max() + 2))
    zoom = min(zoom, cy, cx)
    ext = [-zoom - 0.5, zoom + 0.5, zoom + 0.5, -zoom - 0.5]

    n = len(maps)
    fig = plt.figure(figsize=(max(8, 1.9 * n + 1), 6.4))
    grid = fig.add_gridspec(2, n + 1, height_ratios=[1, 1.1], width_ratios=[1] * n + [0.08])
    im = None
    for i, (r, m) in enumerate(zip(shown, maps)):
        ax = fig.add_subplot(grid[0, i])
        crop = m[cy - zoom:cy + zoom + 1, cx - zoom:cx + zoom + 1]
        im = ax.imshow(np.log10(np.clip(crop, FLOOR, None)), cmap="inferno", extent=ext,
                       vmin=np.log10(FLOOR), vmax=0)
        ax.set_title("step %d\nr %d  σ %.2f×%.2f" % (r["step"], r["radius"], r["sigma"]["x"],
                                                     r["sigma"]["y"]), fontsize=8)
        ax.tick_params(labelsize=7)
        if i:
            ax.set_yticklabels([])
    fig.colorbar(im, cax=fig.add_subplot(grid[0, n]), label="log10 value / max")

    steps = [r["step"] for r in records]
    a0 = fig.add_subplot(grid[1, : (n + 1) // 2])
    a0.plot(steps, [r["radius"] for r in records], "o-", ms=3, color="C3")
    a0.set_xlabel("step")
    a0.set_ylabel("radius at level %g (px)" % records[0]["level"])
    a0.yaxis.set_major_locator(MaxNLocator(integer=True))
    a0.grid(alpha=0.3)
    a1 = fig.add_subplot(grid[1, (n + 1) // 2:n + 1])
    a1.plot(steps, [r["sigma"]["x"] for r in records], "o-", ms=3, label="σ x")
    a1.plot(steps, [r["sigma"]["y"] for r in records], "s--", ms=3, label="σ y")
    a1.set_xlabel("step")
    a1.set_ylabel("Gaussian σ of the map (px)")
    a1.legend(fontsize=8)
    a1.grid(alpha=0.3)
    r0 = records[0]
    title = args.title or os.path.basename(os.path.normpath(args.dir))
    fig.suptitle("%s: gradient ERF through training (%d snapshots, %d noise inputs, agg %s, "
                 "scale %s%s)" % (title, len(records), r0["samples"], r0["agg"], r0["scale"],
                                  ", %d with errors left out" % errors if errors else ""),
                 fontsize=9)
    fig.tight_layout()
    figsave.save(fig, out, "plot_erf_training.py", dpi=100)
    print(out)


if __name__ == "__main__":
    main()
