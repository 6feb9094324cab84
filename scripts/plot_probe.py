#!/usr/bin/env python3
"""Plots of `rfx probe` outputs (matplotlib, Agg).

  plot_probe.py forward DIR [DIR...] --out radius.png
      DIR = `rfx probe forward --out DIR`: radius vs depth (radii.csv) for each DIR, with the
      theoretical field edge N+1 (kernel 3) and a fitted a*sqrt(N)+b.
  plot_probe.py profiles DIR --out profiles.png [--depths 4,16,64]
      Centre-row profiles |v|/max (profiles.csv), log scale, the level as a line.
  plot_probe.py gradient MAP.csv --out erf.png
      A gradient ERF map (erf_map.csv) with its centre row and column.
"""
import argparse
import csv
import json
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


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
    fig.savefig(args.out, dpi=120)


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
    fig.savefig(args.out, dpi=120)


def gradient(args):
    m = np.loadtxt(args.map, delimiter=",", ndmin=2)
    h, w = m.shape
    fig, (a0, a1) = plt.subplots(1, 2, figsize=(10, 4.3))
    im = a0.imshow(m, cmap="inferno")
    a0.set_title("gradient ERF map %d×%d" % (h, w))
    fig.colorbar(im, ax=a0, fraction=0.046)
    a1.plot(np.arange(w) - w // 2, m[h // 2] / m.max(), label="centre row")
    a1.plot(np.arange(h) - h // 2, m[:, w // 2] / m.max(), label="centre column")
    a1.set_xlabel("offset from the centre (px)")
    a1.set_ylabel("value / max")
    a1.legend()
    a1.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("forward")
    f.add_argument("dirs", nargs="+")
    f.add_argument("--out", required=True)
    f.set_defaults(run=forward)
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
    g.set_defaults(run=gradient)
    args = p.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
