#!/usr/bin/env python3
"""The Python baselines of bench/RESULTS.md: the е/ё recipe and one training step of the paper's
FCN written the plain Python way (numpy + OpenCV + PyTorch), as a user of the original research
code runs them. rfx's figures are measured beside these, on the same machine in the same run.

  pyref.py gen  [--n 2000]                       samples/s of the recipe (needs numpy, cv2)
  pyref.py step [--depth 16 --batch 8 --size 128 --threads 2 --reps 15 --device cpu]
                                                 the median Adam step, ms (torch only)

Prints one JSON object. `step` trains on one fixed batch of the recipe's samples (data
generation not timed) on any device torch has (`--device cuda`), synchronising before each clock
read. Needs numpy and cv2 (Debian's python3-opencv; opencv-python elsewhere).
"""
import argparse
import json
import math
import time

import torch


class Recipe:
    """The е/ё sample: glyph drawn with OpenCV, elastic remap, a Gaussian spot as the target."""

    def __init__(self, size=128, distance=12, amplitude=1.2, blur=5, spot=1.8):
        import cv2
        import numpy as np

        self.cv2, self.np = cv2, np
        m = int(math.ceil(amplitude))
        self.m, self.amp, self.blur, self.size = m, amplitude, blur, size
        full = size + 2 * m
        c = full // 2
        base = np.full((full, full), 255, np.uint8)
        cv2.ellipse(base, (c, c), (4, 5), 0, 20, 340, 0, 1, cv2.LINE_AA)
        cv2.line(base, (c - 4, c), (c + 4, c), 0, 1, cv2.LINE_AA)
        self.plain = base.copy()
        for dx in (-3, 3):
            cv2.circle(base, (c + dx, c - distance), 1, 0, -1, cv2.LINE_AA)
        self.yo = base
        yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) - size // 2
        self.spot = np.exp(-(xx**2 + yy**2) / spot**2).astype(np.float32)
        grid = np.arange(full, dtype=np.float32)
        self.X, self.Y = np.meshgrid(grid, grid)

    def field(self):
        np, cv2 = self.np, self.cv2
        f = np.random.uniform(-1, 1, self.X.shape).astype(np.float32)
        f = cv2.blur(f, (self.blur, self.blur))
        return f / np.max(f) * self.amp

    def sample(self):
        np, cv2 = self.np, self.cv2
        yo = np.random.rand() < 0.5
        src = self.yo if yo else self.plain
        img = cv2.remap(src, self.X + self.field(), self.Y + self.field(), cv2.INTER_CUBIC)
        img = (255 - img[self.m : -self.m, self.m : -self.m]).astype(np.float32) / 255.0
        tgt = np.zeros((2, self.size, self.size), np.float32)
        tgt[int(yo)] = self.spot
        return img, tgt


class FCN(torch.nn.Module):
    """depth 3x3 convs, width 16, ReLU, input-projection skips every 4 layers (the paper's net):
    a chain of bias-free 1x1 convs, weights 0.9 / in_channels, carries the image to every 4th
    layer's input and to the output."""

    def __init__(self, depth, width=16, step=4):
        super().__init__()
        chans = [1] + [width] * (depth - 1) + [2]
        self.convs = torch.nn.ModuleList(
            torch.nn.Conv2d(a, b, 3, padding=1) for a, b in zip(chans, chans[1:])
        )
        self.at = [i for i in range(depth) if i % step == 0] + [depth]
        ins = [chans[i] for i in self.at[:-1]] + [2]
        self.skips = torch.nn.ModuleList(
            torch.nn.Conv2d(a, b, 1, bias=False) for a, b in zip(ins, ins[1:])
        )
        for s in self.skips:
            torch.nn.init.constant_(s.weight, 0.9 / s.in_channels)

    def forward(self, x):
        skip, k = x, 0
        last = len(self.convs) - 1
        for i, conv in enumerate(self.convs):
            x = conv(x + skip) if (i in self.at and i > 0) else conv(x)
            if i in self.at and k < len(self.skips):
                skip = self.skips[k](skip)
                k += 1
            x = x + skip if i == last else torch.relu(x)
        return x


def gen(args):
    import numpy as np

    np.random.seed(0)
    recipe = Recipe(size=args.size)
    t = time.perf_counter()
    for _ in range(args.n):
        recipe.sample()
    return {"samples_per_s": args.n / (time.perf_counter() - t), "threads": 1}


def step(args):
    device = torch.device(args.device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    import numpy as np

    np.random.seed(0)
    torch.manual_seed(0)
    recipe = Recipe(size=args.size)
    batch = [recipe.sample() for _ in range(args.batch)]
    x = torch.from_numpy(np.stack([b[0][None] for b in batch])).to(device)
    y = torch.from_numpy(np.stack([b[1] for b in batch])).to(device)
    net = FCN(args.depth).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=3e-4)
    times = []
    for i in range(args.reps + 3):
        sync()
        t = time.perf_counter()
        opt.zero_grad()
        torch.nn.functional.mse_loss(net(x), y).backward()
        opt.step()
        sync()
        if i >= 3:
            times.append(time.perf_counter() - t)
    times.sort()
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    return {
        "step_ms": 1000 * times[len(times) // 2],
        "step_ms_min": 1000 * times[0],
        "threads": args.threads,
        "device": str(device),
        "device_name": name,
        "torch_version": torch.__version__,
        "depth": args.depth,
        "batch": args.batch,
        "size": args.size,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("what", choices=["gen", "step"])
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--depth", type=int, default=16)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=15)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(json.dumps(gen(args) if args.what == "gen" else step(args)))


if __name__ == "__main__":
    main()
