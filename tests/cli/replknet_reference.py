#!/usr/bin/env python3
"""An independent PyTorch/numpy reference for `rfx probe gradient --replknet` (used by
probe_cli_test.cpp).

It rebuilds rfx's fcn under `init.scheme=constant` (3x3 'same' convs, weights 0.01, biases 0,
ReLU between, 1 -> width -> ... -> 2 channels, no skip) and follows the steps of RepLKNet's
erf/visualize_erf.py and erf/analyze_erf.py as documented there: per sample, the gradient of the
sum over output channels of relu(output at the centre) w.r.t. the input, relu'd and summed over
input channels; the average over samples; log10(x + 1); divided by the max; and for each t the
first centred square of side 2i+1 (i = 1 .. H//2 - 1) whose sum is more than t of the total.
With positive weights and inputs the gradient does not depend on the input values.

  replknet_reference.py --map rk.csv --json rk.json --depth 4 --width 4 --size 24 --samples 3
Exit 0 when rfx's map and area ratios agree, 1 otherwise (printing both).
"""
import argparse
import json
import sys

import numpy as np
import torch


def fcn_constant(depth, width):
    chans = [1] + [width] * (depth - 1) + [2]
    layers = []
    for i in range(depth):
        conv = torch.nn.Conv2d(chans[i], chans[i + 1], 3, padding=1).double()
        torch.nn.init.constant_(conv.weight, 0.01)
        torch.nn.init.zeros_(conv.bias)
        layers.append(conv)
        if i < depth - 1:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def contribution(net, x):
    x = x.clone().requires_grad_(True)
    out = net(x)
    h, w = out.shape[2], out.shape[3]
    score = torch.relu(out[:, :, h // 2, w // 2]).sum()
    (g,) = torch.autograd.grad(score, x)
    return torch.relu(g).sum(dim=(0, 1)).numpy()


def square_ratio(m, t):
    h, w = m.shape
    total = m.sum()
    for i in range(1, h // 2):
        side = 2 * i + 1
        mass = m[h // 2 - i:h // 2 + i + 1, w // 2 - i:w // 2 + i + 1].sum()
        if mass / total > t:
            return side, side / h * side / w
    return 0, 1.0  # RepLKNet's script fails here; rfx reports side 0, ratio 1


def main():
    ap = argparse.ArgumentParser()
    for name in ("--map", "--json"):
        ap.add_argument(name, required=True)
    for name in ("--depth", "--width", "--size", "--samples"):
        ap.add_argument(name, type=int, required=True)
    a = ap.parse_args()
    torch.manual_seed(1)
    net = fcn_constant(a.depth, a.width)
    maps = [contribution(net, torch.rand(1, 1, a.size, a.size, dtype=torch.double))
            for _ in range(a.samples)]
    ref = np.log10(np.mean(maps, axis=0) + 1.0)
    ref = ref / ref.max()
    got = np.loadtxt(a.map, delimiter=",")
    with open(a.json) as f:
        areas = json.load(f)["area_ratio"]
    diff = float(np.abs(got - ref).max())
    want = [square_ratio(ref, e["t"]) for e in areas]
    have = [(e["side"], e["ratio"]) for e in areas]
    print("max |rfx - reference| of the map: %.3g" % diff)
    print("reference (side, ratio):", want)
    print("rfx       (side, ratio):", have)
    ok = diff < 1e-6 and all(w[0] == h[0] and abs(w[1] - h[1]) < 1e-12 for w, h in zip(want, have))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
