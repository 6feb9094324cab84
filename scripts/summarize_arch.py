#!/usr/bin/env python3
"""The small-CNN studies of scripts/reproduce.sh ('#| kind: arch'): what one run measured.

read_arch(OUT/NAME, labels, seeds) reads, per variant LABEL,
  fit_LABEL.json            rfx fit of its d50 sweep (d50 per depth with its CI)
  erf_LABEL_seed_S/         `rfx train` of the cell with train.erf_every: result.json and
                            erf.jsonl (the gradient ERF at step 0 and at the last step)
  profile_LABEL.json        `rfx profile --json` (step time, per-layer rows)
and returns one dict per variant with the means over the seeds and their 95% Student-t CIs.
summarize.py arch prints it (arch_lines); plot_arch.py draws it.
"""
import json
import math
import os

# Two-sided 95% Student-t quantiles by degrees of freedom (df > 30: the normal's 1.96).
T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306,
        9: 2.262, 10: 2.228, 12: 2.179, 15: 2.131, 20: 2.086, 30: 2.042}


def t975(df):
    """The quantile for df >= 1; between table entries the smaller df's (a wider interval)."""
    if df > 30:
        return 1.96
    return T975[max(k for k in T975 if k <= df)]


def mean_ci(xs, low=None, high=None):
    """(mean, lo, hi): the mean of xs and its 95% t interval (None bounds for one value), cut to
    [low, high] when the quantity cannot leave it (a σ is >= 0, an accuracy <= 1)."""
    xs = [x for x in xs if x is not None and math.isfinite(x)]
    if not xs:
        return (None, None, None)
    m = sum(xs) / len(xs)
    if len(xs) < 2:
        return (m, None, None)
    sd = math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1))
    h = t975(len(xs) - 1) * sd / math.sqrt(len(xs))
    lo, hi = m - h, m + h
    if low is not None:
        lo = max(lo, low)
    if high is not None:
        hi = min(hi, high)
    return (m, lo, hi)


def read_erf(path):
    """(first, last) lines of an erf.jsonl that carry a map (snapshots with an error skipped);
    (None, None) without the file (a run given `-- --set train.erf_every=0`)."""
    rows = []
    if not os.path.exists(path):
        return None, None
    with open(path) as f:
        for line in f:
            row = json.loads(line)
            if "sigma" in row:
                rows.append(row)
    if not rows:
        return None, None
    return rows[0], rows[-1]


def read_arch(out, labels, seeds):
    variants = []
    for label in labels:
        v = {"label": label, "fit": None, "profile": None, "seeds": []}
        fit = os.path.join(out, "fit_%s.json" % label)
        if os.path.exists(fit):
            with open(fit) as f:
                v["fit"] = json.load(f)
        prof = os.path.join(out, "profile_%s.json" % label)
        if os.path.exists(prof):
            with open(prof) as f:
                v["profile"] = json.load(f)
        for s in range(seeds):
            d = os.path.join(out, "erf_%s_seed_%d" % (label, s))
            if not os.path.exists(os.path.join(d, "result.json")):
                continue
            with open(os.path.join(d, "result.json")) as f:
                res = json.load(f)
            before, after = read_erf(os.path.join(d, "erf.jsonl"))
            v["seeds"].append({"seed": s, "result": res, "before": before, "after": after})
        runs = v["seeds"]
        v["accuracy"] = mean_ci([r["result"].get("accuracy") for r in runs], 0, 1)
        v["learned"] = sum(1 for r in runs if (r["result"].get("accuracy") or 0) >= 0.9)
        for axis in ("x", "y"):
            b = [r["before"]["sigma"][axis] for r in runs if r["before"]]
            a = [r["after"]["sigma"][axis] for r in runs if r["after"]]
            diff = [r["after"]["sigma"][axis] - r["before"]["sigma"][axis] for r in runs
                    if r["before"] and r["after"]]
            v["sigma_" + axis] = {"before": mean_ci(b, 0), "after": mean_ci(a, 0),
                                  "change": mean_ci(diff)}
        v["radius"] = {
            "before": mean_ci([r["before"]["radius"] for r in runs if r["before"]], 0),
            "after": mean_ci([r["after"]["radius"] for r in runs if r["after"]], 0),
            "clipped": any(r[w] and r[w].get("clipped") for r in runs for w in ("before", "after"))}
        variants.append(v)
    return variants


def fmt_ci(m, lo, hi, digits=2):
    if m is None:
        return "?"
    if lo is None:
        return "%.*f" % (digits, m)
    return "%.*f [%.*f, %.*f]" % (digits, m, digits, lo, digits, hi)


def d50_entry(d, num=lambda x: "%.1f" % x):
    """One depth's d50 from rfx fit: "9.0 [8.5, 9.5]", or "< 7" / "> 15" when censored at an end
    of the distances tried (no interval then)."""
    c = d.get("censored")
    if c == "below":
        return "< %g" % d["d50"]
    if c == "above":
        return "> %g" % d["d50"]
    lo, hi = d["ci"]
    return "%s [%s, %s]" % (num(d["d50"]), num(lo), num(hi))


def d50_text(fit):
    parts = ["%d: %s" % (int(d["depth"]), d50_entry(d)) for d in (fit or {}).get("depths", [])]
    return "; ".join(parts) if parts else "?"


def arch_lines(out, labels, seeds, cell=""):
    vs = read_arch(out, labels, seeds)
    lines = ["variants: %s; the cell (%s) trained with %d seeds; means with 95%% t CIs over "
             "the seeds" % (", ".join(labels), cell or "see the YAML", seeds)]
    for v in vs:
        p = v["profile"] or {}
        inp = "x".join(str(x) for x in p.get("input", [])[1:]) or "?"
        sy, sx = v["sigma_y"], v["sigma_x"]
        lines.append(
            "%s: d50 (depth: px) %s | accuracy at the cell %s (%d of %d seeds ≥ 0.9) | ERF σ_y "
            "%s -> %s px (change %s), σ_x %s -> %s | ERF radius %s -> %s%s | step %.2f ms "
            "(%s, %s threads)" %
            (v["label"], d50_text(v["fit"]), fmt_ci(*v["accuracy"]), v["learned"],
             len(v["seeds"]), fmt_ci(*sy["before"]), fmt_ci(*sy["after"]),
             fmt_ci(*sy["change"]), fmt_ci(*sx["before"]), fmt_ci(*sx["after"]),
             fmt_ci(*v["radius"]["before"], digits=1), fmt_ci(*v["radius"]["after"], digits=1),
             " (clipped at the canvas border: a lower bound)" if v["radius"]["clipped"] else "",
             p.get("step_ms", float("nan")), inp, p.get("threads", "?")))
    return lines
