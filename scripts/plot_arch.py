#!/usr/bin/env python3
"""Figure of one small-CNN study of scripts/reproduce.sh ('#| kind: arch'), one column per variant:
the trained d50 per depth (95% CI; triangles: censored at the edge of the distance range), the
accuracy at the cell over the seeds, the gradient-ERF σ_y before and after training (95% t CIs
over the seeds) and the step time of `rfx profile`.

  plot_arch.py OUT/NAME --labels A,B,... --seeds S [--title T] [--out arch.png]
"""
import argparse
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import figsave  # noqa: E402  (atomic writes, one-sentence errors)

from summarize_arch import read_arch  # noqa: E402


def err(m, lo, hi):
    if m is None or lo is None:
        return [[0], [0]]
    return [[m - lo], [hi - m]]


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dir")
    p.add_argument("--labels", required=True)
    p.add_argument("--seeds", type=int, default=1)
    p.add_argument("--title", default="")
    p.add_argument("--out", default="")
    args = p.parse_args()
    labels = args.labels.split(",")
    vs = read_arch(args.dir, labels, args.seeds)
    x = list(range(len(vs)))
    fig, ax = plt.subplots(2, 2, figsize=(10, 7))

    a = ax[0][0]
    depths = sorted({int(d["depth"]) for v in vs for d in (v["fit"] or {}).get("depths", [])})
    width = 0.6 / max(1, len(depths))
    for j, depth in enumerate(depths):
        off = (j - (len(depths) - 1) / 2) * width
        for i, v in enumerate(vs):
            for d in (v["fit"] or {}).get("depths", []):
                if int(d["depth"]) != depth:
                    continue
                c = d.get("censored")
                color = "C%d" % j
                if c == "below":
                    a.plot(i + off, d["d50"], "v", color=color)
                elif c == "above":
                    a.plot(i + off, d["d50"], "^", color=color)
                else:
                    a.errorbar(i + off, d["d50"], yerr=err(d["d50"], *d["ci"]), fmt="o",
                               color=color, capsize=3)
        a.plot([], [], "o", color="C%d" % j, label="depth %d" % depth)
    a.set_ylabel("trained d50 (px, 95% CI)")
    a.set_title("how far it learns (▼ below / ▲ above the range)", fontsize=9)
    a.legend(fontsize=8)

    a = ax[0][1]
    for i, v in enumerate(vs):
        accs = [r["result"].get("accuracy") for r in v["seeds"]]
        a.plot([i] * len(accs), accs, ".", color="0.6")
        m, lo, hi = v["accuracy"]
        if m is not None:
            a.errorbar(i, m, yerr=err(m, lo, hi), fmt="o", color="C0", capsize=3)
    a.axhline(0.9, color="0.7", ls="--", lw=0.8)
    a.set_ylim(0.4, 1.02)
    a.set_ylabel("accuracy at the cell")
    a.set_title("seeds (grey) and their mean (95% t CI)", fontsize=9)

    a = ax[1][0]
    for i, v in enumerate(vs):
        s = v["sigma_y"]
        for k, (what, mark) in enumerate((("before", "s"), ("after", "o"))):
            m, lo, hi = s[what]
            if m is not None:
                a.errorbar(i + (k - 0.5) * 0.2, m, yerr=err(m, lo, hi), fmt=mark,
                           color="C%d" % (k + 1), mfc="none" if what == "before" else None,
                           capsize=3, label=what + " training" if i == 0 else None)
    a.set_ylabel("gradient ERF σ_y (px)")
    a.set_title("the field at step 0 and after training", fontsize=9)
    a.legend(fontsize=8)

    a = ax[1][1]
    steps = [(v["profile"] or {}).get("step_ms", 0) for v in vs]
    a.bar(x, steps, color="C4")
    prof = next((v["profile"] for v in vs if v["profile"]), {}) or {}
    shape = "x".join(str(s) for s in prof.get("input", [])[1:])
    a.set_ylabel("step time (ms)")
    a.set_title("rfx profile: batch %s of %s, %s thread(s)" %
                (prof.get("batch", "?"), shape, prof.get("threads", "?")), fontsize=9)

    for row in ax:
        for a in row:
            a.set_xticks(x)
            a.set_xticklabels(labels)
            a.set_xlim(-0.6, len(vs) - 0.4)
    fig.suptitle(args.title or os.path.basename(os.path.normpath(args.dir)))
    fig.tight_layout()
    out = args.out or os.path.join(args.dir, "arch.png")
    figsave.save(fig, out, "plot_arch.py", dpi=110)
    print(out)


if __name__ == "__main__":
    main()
