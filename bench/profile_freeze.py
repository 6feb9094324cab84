#!/usr/bin/python3
"""The freezing claim of docs/commands.md ("rfx profile"), measured: `rfx profile` of a net with and without its first layer
frozen, alternated PAIRS times (so both see the same machine load), medians over the pairs.

    /usr/bin/python3 bench/profile_freeze.py build/rfx [--pairs 4] [--steps 30] [rfx profile args...]

Prints, per variant: the step (the trainer's, timed whole), the backward of the first conv
layer and everything up to the next conv (its activation and pooling: rows before the second
layer with parameters) and its share of the step, and the next conv layer's backward.
"""
import json
import statistics
import subprocess
import sys


def profile(exe, args, frozen):
    cmd = [exe, "profile", "--json"] + args + (["--set", "train.freeze=[0]"] if frozen else [])
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)


def figures(p):
    rows = p["layers"]
    second = next(i for i, r in enumerate(rows) if i > 0 and r["parameters"] > 0)
    first_bwd = sum(r["backward_ms"] for r in rows[:second])
    return {
        "step_ms": p["step_ms"],
        "sum_ms": p["sum_ms"],
        "first_backward_ms": first_bwd,
        "first_backward_share": first_bwd / p["step_ms"],
        "first_total_ms": sum(r["total_ms"] for r in rows[:second]),
        "next_conv": rows[second]["name"],
        "next_conv_backward_ms": rows[second]["backward_ms"],
        "gap": p["gap"],
    }


def main():
    exe, rest = sys.argv[1], sys.argv[2:]
    pairs, steps = 4, 30
    args = []
    i = 0
    while i < len(rest):
        if rest[i] == "--pairs":
            pairs, i = int(rest[i + 1]), i + 2
        elif rest[i] == "--steps":
            steps, i = int(rest[i + 1]), i + 2
        else:
            args.append(rest[i])
            i += 1
    args += ["--steps", str(steps)]
    runs = {False: [], True: []}
    for _ in range(pairs):
        for frozen in (False, True):
            runs[frozen].append(figures(profile(exe, args, frozen)))
    out = {}
    for frozen, rs in runs.items():
        name = "frozen" if frozen else "trained"
        out[name] = {k: statistics.median(r[k] for r in rs) for k in rs[0] if k != "next_conv"}
        out[name]["next_conv"] = rs[0]["next_conv"]
        out[name]["step_ms_all"] = [round(r["step_ms"], 2) for r in rs]
    out["saving"] = 1 - out["frozen"]["step_ms"] / out["trained"]["step_ms"]
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
