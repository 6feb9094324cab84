#!/usr/bin/env python3
"""Plots of `rfx probe` outputs (matplotlib, Agg).

  plot_probe.py forward DIR [DIR...] --out radius.png
      DIR = `rfx probe forward --out DIR`: radius vs depth (radii.csv) for each DIR, with the
      theoretical field edge N+1 (kernel 3) and a fitted a*sqrt(N)+b.
  plot_probe.py seeds DIR DIR... --out radius.png [--title T]
      DIRs = one forward probe per seed of random weights: each seed's radii (faint), their
      mean with its 95% bootstrap CI band, the fitted c·√N, and the edge N+1 (kernel 3).
  plot_probe.py profiles DIR --out profiles.png [--depths 4,16,64]
      Centre-row profiles |v|/max (profiles.csv), log scale, the level as a line.
  plot_probe.py image DIR --out image.png [--level 0.0012] [--title T]
      The study's view: the centre-row profile |v|/max as an image over (depth, distance from
      the centre), log colour scale, the level's contour and the fitted c·√N over it.
  plot_probe.py gradient MAP.csv --out erf.png [--zoom R]
      A gradient ERF map (erf_map.csv) zoomed to the field (half-side R px; default: where the
      map is above 1e-4 of its max, at least 8), log colour scale, with its centre row and
      column.
"""
import argparse
import csv
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import figsave  # noqa: E402  (atomic writes, one-sentence errors)
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from summarize import fit_c_k, read_forward, seed_stats  # noqa: E402  (one place for the fits)


def read_radii(d):
    depths, radii = [], []
    with open(os.path.join(d, "radii.csv")) as f:
        for row in csv.DictReader(f):
            depths.append(int(row["depth"]))
            radii.append(int(row["radius"]))
    meta = {}
    meta_path = os.path.join(d, "forward.json")
    if os.path.exists(meta_path):
        with open(meta_path) as f:
            meta = json.load(f)
    return np.array(depths), np.array(radii), meta


def forward(args):
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    nmax = 1
    for d in args.dirs:
        n, r, meta = read_radii(d)
        nmax = max(nmax, n.max())
        label = "%s, init %s, %s, %d²" % (meta.get("arch", "?"), meta.get("init", "?"),
                                           meta.get("dtype", "?"), meta.get("size", 0))
        ax.plot(n, r, "o", ms=3, label=label)
        ok = n >= 2
        if ok.sum() >= 2:
            a, b = np.polyfit(np.sqrt(n[ok]), r[ok], 1)
            nn = np.linspace(1, n.max(), 200)
            ax.plot(nn, a * np.sqrt(nn) + b, "-", lw=1,
                    label="fit %.2f·√N %+.2f" % (a, b))
    nn = np.arange(1, nmax + 1)
    ax.plot(nn, nn + 1, "k--", lw=1, label="theoretical edge N+1 (k3)")
    ax.set_xlabel("depth N (3×3 layers)")
    ax.set_ylabel("radius (px) at level %g" % meta.get("level", 0.0012))
    ax.set_title("Forward-pass field radius vs depth")
    ax.set_ylim(0, max(20, min(nmax + 2, 3 * r.max())))
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    figsave.save(fig, args.out, "plot_probe.py", dpi=120)


def seeds(args):
    runs = [read_forward(d) for d in args.dirs]
    meta, n = runs[0][0], runs[0][1]
    mean, lo, hi, c, p = seed_stats(n, [x[2] for x in runs])
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for i, (_, _, r, _) in enumerate(runs):
        ax.plot(n, r, "-", color="0.6", lw=0.6, alpha=0.6,
                label="%d seeds, each" % len(runs) if i == 0 else None)
    ax.fill_between(n, lo, hi, color="C0", alpha=0.3, label="95% CI of the mean (bootstrap)")
    ax.plot(n, mean, "o", color="C0", ms=3, label="mean radius")
    nn = np.linspace(1, n.max(), 200)
    ax.plot(nn, c[0] * np.sqrt(nn), "r--", lw=1.2,
            label="%.2f·√N (c 95%% CI %.2f–%.2f); N^%.2f (CI %.2f–%.2f)" % (*c, *p))
    ax.plot(nn, nn + 1, "k:", lw=1, label="theoretical edge N+1 (k3)")
    ax.set_ylim(0, max(10, 1.3 * max(hi.max(), c[0] * np.sqrt(n.max()))))
    ax.set_xlabel("depth N (3×3 layers)")
    ax.set_ylabel("radius (px) at level %g" % meta.get("level", 0.0012))
    ax.set_title(args.title or "Forward-pass radius over seeds (%s init)" % meta.get("init", "?"))
    ax.legend(fontsize=7, loc="upper left")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    figsave.save(fig, args.out, "plot_probe.py", dpi=110)


def profiles(args):
    with open(os.path.join(args.dir, "profiles.csv")) as f:
        rows = list(csv.reader(f))
    header, data = rows[0], rows[1:]
    dist = np.array([int(r[0]) for r in data])
    want = [int(x) for x in args.depths.split(",")] if args.depths else None
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for c, name in enumerate(header[1:], start=1):
        depth = int(name.split("_")[1])
        if want and depth not in want:
            continue
        v = np.array([float(r[c]) if r[c] else np.nan for r in data])
        v[v <= 0] = np.nan
        ax.semilogy(dist, v, label="depth %d" % depth)
    ax.axhline(args.level, color="k", ls="--", lw=1, label="level %g" % args.level)
    ax.set_xlabel("distance from the centre (px)")
    ax.set_ylabel("|v| / max")
    ax.set_xlim(0, args.xmax if args.xmax else dist.max())
    ax.set_ylim(1e-8, 2)
    ax.set_title("Centre-row impulse response")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    figsave.save(fig, args.out, "plot_probe.py", dpi=120)


def read_profiles(d):
    with open(os.path.join(d, "profiles.csv")) as f:
        rows = list(csv.reader(f))
    header, data = rows[0], rows[1:]
    dist = np.array([int(r[0]) for r in data])
    depths = np.array([int(name.split("_")[1]) for name in header[1:]])
    v = np.array([[float(x) if x else np.nan for x in r[1:]] for r in data])  # [dist, depth]
    return depths, dist, v


def image(args):
    depths, dist, v = read_profiles(args.dir)
    n, r, meta = read_radii(args.dir)
    level = meta.get("level", args.level)
    v = np.abs(v)
    floor = 1e-8
    show = np.log10(np.clip(v, floor, None))
    rmax = int(min(dist.max(), max(8, 1.5 * r.max())))
    keep = dist <= rmax
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    im = ax.pcolormesh(depths, dist[keep], show[keep], shading="nearest", cmap="viridis",
                       vmin=np.log10(floor), vmax=0)
    fig.colorbar(im, ax=ax, label="log10 |v| / max")
    ax.contour(depths, dist[keep], show[keep], levels=[np.log10(level)], colors="w",
               linewidths=1.2, linestyles="solid")
    c = fit_c_k(n, r)[0] if (n >= 2).any() else 0
    nn = np.linspace(depths.min(), depths.max(), 200)
    ax.plot(nn, c * np.sqrt(nn), "r--", lw=1.2, label="fit %.2f·√N" % c)
    ax.plot([], [], "w-", label="level %g" % level)
    ax.set_xlabel("depth N")
    ax.set_ylabel("distance from the centre (px)")
    ax.set_ylim(0, rmax)
    ax.set_title(args.title or "Forward-pass profile (%s init)" % meta.get("init", "?"))
    ax.legend(fontsize=8, loc="upper left", facecolor="0.6")
    fig.tight_layout()
    figsave.save(fig, args.out, "plot_probe.py", dpi=100)


def gradient(args):
    m = np.loadtxt(args.map, delimiter=",", ndmin=2)
    h, w = m.shape
    m = np.abs(m) / max(np.abs(m).max(), 1e-30)
    cy, cx = h // 2, w // 2
    if args.zoom:
        zoom = args.zoom
    else:
        ys, xs = np.nonzero(m > 1e-4)
        zoom = int(max(8, np.abs(ys - cy).max() + 2, np.abs(xs - cx).max() + 2)) if len(ys) else 8
    zoom = min(zoom, cy, cx)
    crop = m[cy - zoom:cy + zoom + 1, cx - zoom:cx + zoom + 1]
    floor = 1e-6
    fig, (a0, a1) = plt.subplots(1, 2, figsize=(9, 3.8))
    ext = [-zoom - 0.5, zoom + 0.5, zoom + 0.5, -zoom - 0.5]
    im = a0.imshow(np.log10(np.clip(crop, floor, None)), cmap="inferno", extent=ext,
                   vmin=np.log10(floor), vmax=0)
    a0.set_title(args.title or "gradient ERF (map %d×%d, zoomed)" % (h, w), fontsize=9)
    a0.set_xlabel("x offset (px)")
    a0.set_ylabel("y offset (px)")
    fig.colorbar(im, ax=a0, fraction=0.046, label="log10 value / max")
    off = np.arange(-zoom, zoom + 1)
    a1.semilogy(off, np.clip(m[cy, cx - zoom:cx + zoom + 1], floor, None), label="centre row")
    a1.semilogy(off, np.clip(m[cy - zoom:cy + zoom + 1, cx], floor, None), label="centre column")
    a1.set_xlabel("offset from the centre (px)")
    a1.set_ylabel("value / max")
    a1.set_ylim(floor, 2)
    a1.legend(fontsize=8)
    a1.grid(alpha=0.3)
    fig.tight_layout()
    figsave.save(fig, args.out, "plot_probe.py", dpi=100)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("forward")
    f.add_argument("dirs", nargs="+")
    f.add_argument("--out", required=True)
    f.set_defaults(run=forward)
    sd = sub.add_parser("seeds")
    sd.add_argument("dirs", nargs="+")
    sd.add_argument("--out", required=True)
    sd.add_argument("--title", default="")
    sd.set_defaults(run=seeds)
    q = sub.add_parser("profiles")
    q.add_argument("dir")
    q.add_argument("--out", required=True)
    q.add_argument("--depths", default="")
    q.add_argument("--level", type=float, default=0.0012)
    q.add_argument("--xmax", type=int, default=0)
    q.set_defaults(run=profiles)
    g = sub.add_parser("gradient")
    g.add_argument("map")
    g.add_argument("--out", required=True)
    g.add_argument("--zoom", type=int, default=0)
    g.add_argument("--title", default="")
    g.set_defaults(run=gradient)
    im = sub.add_parser("image")
    im.add_argument("dir")
    im.add_argument("--out", required=True)
    im.add_argument("--level", type=float, default=0.0012)
    im.add_argument("--title", default="")
    im.set_defaults(run=image)
    args = p.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
