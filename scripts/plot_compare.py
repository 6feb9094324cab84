#!/usr/bin/env python3
"""Plot of `rfx probe compare` (matplotlib, Agg).

  plot_compare.py COMPARE.json --out compare.png

COMPARE.json is `rfx probe compare --format json` (or the FILE.png.json that `--plot` writes).
Three panels over the rows (depths, or a model's layers): radii in input px (analytic (rf-1)/2
and its +1 edge, impulse radius times the read map's jump, gradient ERF with its 95% bootstrap
CI), the gradient ERF's Gaussian sigma with CI, and the area ratios with CIs (a zero ratio, from
an all-zero gradient map, is left out of the log axis).
"""
import argparse
import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import figsave  # noqa: E402  (atomic writes, one-sentence errors)
import numpy as np  # noqa: E402


def errbars(values, cis):
    """Asymmetric error bars (below, above) from [lo, hi] pairs; zeros where there is no CI."""
    lo = [v - c[0] if c else 0.0 for v, c in zip(values, cis)]
    hi = [c[1] - v if c else 0.0 for v, c in zip(values, cis)]
    return np.maximum([lo, hi], 0.0)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("json")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    with open(args.json) as f:
        data = json.load(f)
    rows = data["rows"]
    if not rows:
        raise SystemExit("plot_compare.py: no rows in " + args.json)
    by_depth = all(r.get("depth") is not None for r in rows)
    x = np.array([r["depth"] if by_depth else i for i, r in enumerate(rows)], dtype=float)
    labels = [r["label"] for r in rows]

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6))
    ax = axes[0]
    analytic = np.array([r["analytic_radius"] for r in rows])
    ax.plot(x, analytic, "k-", lw=1.5, label="analytic (rf-1)/2")
    ax.plot(x, analytic + 1, "k:", lw=1, label="analytic edge + 1 (max measurable)")
    jumps = [r.get("impulse_jump", 1) for r in rows]
    strided = any(j != 1 for j in jumps)
    ax.plot(x, [r["impulse_radius"] * j for r, j in zip(rows, jumps)], "o-", color="tab:blue",
            label="impulse radius @ level %g%s" % (data["level"], " x jump" if strided else ""))
    erf = [r["erf_radius"] for r in rows]
    ax.errorbar(x + 0.08, erf, yerr=errbars(erf, [r.get("erf_radius_ci") for r in rows]),
                fmt="s-", color="tab:red", capsize=3, label="gradient ERF radius (95% CI)")
    ax.set_ylabel("radius (input px)")
    ax.set_title("radii")
    ax.legend(fontsize=8)

    ax = axes[1]
    sx = [r["sigma"]["x"] for r in rows]
    ci = [r.get("sigma_ci", {}).get("x") for r in rows]
    ax.errorbar(x, sx, yerr=errbars(sx, ci), fmt="o-", color="tab:red", capsize=3,
                label="sigma_x (95% CI)")
    sy = [r["sigma"]["y"] for r in rows]
    ci = [r.get("sigma_ci", {}).get("y") for r in rows]
    ax.errorbar(x + 0.08, sy, yerr=errbars(sy, ci), fmt="s--", color="tab:orange", capsize=3,
                label="sigma_y (95% CI)")
    if by_depth and len(rows) > 1:
        # Luo et al.: sigma grows like sqrt(N) — the fitted a*sqrt(N) through the points.
        a = np.dot(np.sqrt(x), sx) / np.dot(np.sqrt(x), np.sqrt(x))
        xs = np.linspace(x.min(), x.max(), 100)
        ax.plot(xs, a * np.sqrt(xs), "k:", lw=1, label="%.2f sqrt(N)" % a)
    ax.set_ylabel("sigma (px)")
    ax.set_title("gradient ERF Gaussian sigma")
    ax.legend(fontsize=8)

    ax = axes[2]
    ts = [a["t"] for a in rows[0]["area_ratio"]]
    for k, t in enumerate(ts):
        v = np.array([r["area_ratio"][k]["ratio"] for r in rows], dtype=float)
        ci = [r["area_ratio"][k].get("ci") for r in rows]
        bars = errbars(v, ci)
        keep = v > 0  # log axis: an all-zero map's ratio 0 has no place on it
        bars[0] = np.where(keep, np.minimum(bars[0], v * 0.999), 0.0)
        v[~keep] = np.nan
        ax.errorbar(x + 0.05 * k, v, yerr=bars, fmt="o-", capsize=3, label="t = %g" % t)
    ax.set_yscale("log")
    ax.set_ylabel("area ratio (square / input area)")
    ax.set_title("high-contribution area ratio (95% CI)")
    ax.legend(fontsize=8)

    for ax in axes:
        ax.grid(alpha=0.3)
        if by_depth:
            ax.set_xlabel("depth N")
        else:
            ax.set_xticks(x)
            ax.set_xticklabels(labels)
    g = data.get("gradient", {})
    h, w = data.get("input", [data["size"], data["size"]])
    fig.suptitle("%s, init %s, %dx%d: gradient over %s %s sample(s), agg %s, scale %s" % (
        data["target"], data["init"], h, w, g.get("samples", "?"),
        g.get("input", "?"), g.get("agg", "?"), g.get("scale", "?")), fontsize=10)
    fig.tight_layout()
    figsave.save(fig, args.out, "plot_compare.py", dpi=110)


if __name__ == "__main__":
    main()
