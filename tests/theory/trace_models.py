#!/usr/bin/python3
"""Writes the TorchScript models of the theory and probe tests into a directory.

Usage: trace_models.py OUT_DIR [NAME ...]   (default: every model below; convsN for any N)

Random weights, no downloads: torchvision's vgg16, alexnet, resnet18, resnet50 and
fcn_resnet50 (a dict output, dilated layers, bilinear upsampling to the input size), and small
hand-made models whose fields the tests compute by hand. Each model is written as NAME.pt.
Exit 3 when torchvision cannot be imported (the tests skip, saying so).
"""
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

try:
    import torchvision
except ImportError as e:  # the C++ tests turn exit 3 into GTEST_SKIP
    print("trace_models.py: cannot import torchvision: %s" % e, file=sys.stderr)
    sys.exit(3)


def torchvision_model(name):
    segmentation = name.startswith("fcn_")
    ctor = getattr(torchvision.models.segmentation if segmentation else torchvision.models, name)
    # No weights at all (the backbone's would be downloaded by default).
    extra = {"weights_backbone": None} if segmentation else {}
    try:
        model = ctor(weights=None, **extra)  # torchvision >= 0.13
    except TypeError:
        extra = {"pretrained_backbone": False} if segmentation else {}
        model = ctor(pretrained=False, **extra)  # older torchvision
    # The classifiers' big Linear weights (vgg16: 25088x4096) would make files of 100s of MB;
    # one random row broadcast over all outputs keeps the layer and stores a single row.
    for m in model.modules():
        if isinstance(m, nn.Linear) and m.weight.numel() > 1000000:
            m.weight = nn.Parameter(torch.randn(1, m.in_features).expand(m.out_features, -1))
    return model


class ConvStack(nn.Module):
    """N 3x3 convs with 'same' padding, 1 channel, constant weights 0.01, no bias."""

    def __init__(self, depth=4):
        super().__init__()
        self.convs = nn.Sequential(*[nn.Conv2d(1, 1, 3, padding=1, bias=False) for _ in range(depth)])
        for c in self.convs:
            nn.init.constant_(c.weight, 0.01)

    def forward(self, x):
        return self.convs(x)


class Dilated(nn.Module):
    """conv k3 d2 p1 (the start offset moves by (d(k-1)/2 - p) = 1), relu, conv k3 s2."""

    def __init__(self):
        super().__init__()
        self.dil = nn.Conv2d(3, 8, 3, dilation=2, padding=1)
        self.down = nn.Conv2d(8, 8, 3, stride=2)

    def forward(self, x):
        return self.down(F.relu(self.dil(x)))


class Transposed(nn.Module):
    """conv k3 s2 p1, then a transposed conv k4 s2 p1 back to the input size."""

    def __init__(self):
        super().__init__()
        self.down = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.up = nn.ConvTranspose2d(8, 4, 4, stride=2, padding=1)

    def forward(self, x):
        return self.up(torch.tanh(self.down(x)))


class Cat(nn.Module):
    """Two branches (3x3 and 5x5 'same' convs) concatenated on channels, then a 1x1 conv."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 4, 3, padding=1)
        self.b = nn.Conv2d(3, 4, 5, padding=2)
        self.mix = nn.Conv2d(8, 2, 1)

    def forward(self, x):
        return self.mix(torch.cat([self.a(x), self.b(x)], dim=1))


class UNet(nn.Module):
    """A U-Net step: conv, max pool, conv, nearest upsampling to the skip's size, cat, 1x1."""

    def __init__(self):
        super().__init__()
        self.enc = nn.Conv2d(3, 4, 3, padding=1)
        self.down = nn.MaxPool2d(2)
        self.mid = nn.Conv2d(4, 4, 3, padding=1)
        self.out = nn.Conv2d(8, 1, 1)

    def forward(self, x):
        e = F.relu(self.enc(x))
        m = F.relu(self.mid(self.down(e)))
        u = F.interpolate(m, size=e.shape[-2:], mode="nearest")
        return self.out(torch.cat([e, u], dim=1))


class Upsampling(nn.Module):
    """conv k3 s2 p1, interpolate x2 bilinear, x2 nearest, adaptive average pool to 4x4."""

    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(1, 1, 3, stride=2, padding=1)
        self.pool = nn.AdaptiveAvgPool2d(4)

    def forward(self, x):
        y = F.interpolate(self.c(x), scale_factor=2.0, mode="bilinear", align_corners=False)
        return self.pool(F.interpolate(y, scale_factor=2.0, mode="nearest"))


class Sized(nn.Module):
    """conv k3 s2 p1, interpolate to a constant 32x32 (nearest), adaptive max pool to 4x4: both
    read the size of the tensor they get from the analysis so far."""

    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(1, 1, 3, stride=2, padding=1)
        self.pool = nn.AdaptiveMaxPool2d(4)

    def forward(self, x):
        return self.pool(F.interpolate(self.c(x), size=(32, 32), mode="nearest"))


class Channels(nn.Module):
    """Channel plumbing that keeps fields: chunk, cat, reshape to its own (H, W), a slice."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.branch = nn.Conv2d(4, 4, 3, padding=1)
        self.head = nn.Conv2d(6, 2, 1)

    def forward(self, x):
        a, b = self.stem(x).chunk(2, dim=1)
        z = torch.cat([a, self.branch(b)], 1)
        n, c, h, w = z.shape
        return self.head(z.reshape(n, c, h, w)[:, :6])


class ChannelsLast(nn.Module):
    """A patchify stem and a ConvNeXt block: depthwise 7x7, permute to N,H,W,C, LayerNorm,
    Linear, GELU, Linear, permute back, residual add."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 4, 4, stride=4)
        self.dw = nn.Conv2d(4, 4, 7, padding=3, groups=4)
        self.norm = nn.LayerNorm(4)
        self.fc1 = nn.Linear(4, 16)
        self.fc2 = nn.Linear(16, 4)

    def forward(self, x):
        x = self.stem(x)
        y = self.norm(self.dw(x).permute(0, 2, 3, 1))
        return x + self.fc2(F.gelu(self.fc1(y))).permute(0, 3, 1, 2)


class Scripted(nn.Module):
    """For torch.jit.script: conv k3 p1, max pool 2/2, a residual 3x3 conv, mean over H, W."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.pool = nn.MaxPool2d(2, 2)
        self.body = nn.Conv2d(8, 8, 3, padding=1)

    def forward(self, x):
        x = self.pool(F.relu(self.stem(x)))
        x = x + self.body(x)
        return x.mean(dim=[2, 3])


class Roll(nn.Module):
    """A conv, then torch.roll: an op the theory cannot reason about."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)

    def forward(self, x):
        return torch.roll(self.conv(x), shifts=1, dims=3)


SMALL = {
    "dilated": (Dilated, (1, 3, 32, 32)),
    "transposed": (Transposed, (1, 3, 32, 32)),
    "cat": (Cat, (1, 3, 32, 32)),
    "unet": (UNet, (1, 3, 32, 32)),
    "upsampling": (Upsampling, (1, 1, 32, 32)),
    "sized": (Sized, (1, 1, 32, 32)),
    "channels": (Channels, (1, 3, 32, 32)),
    "channels_last": (ChannelsLast, (1, 3, 64, 64)),
    "roll": (Roll, (1, 3, 32, 32)),
}
TORCHVISION = ["vgg16", "alexnet", "resnet18", "resnet50", "fcn_resnet50"]


def build(name):
    torch.manual_seed(0)
    if name in TORCHVISION:  # fcn_resnet50 returns a dict: strict=False
        return torch.jit.trace(torchvision_model(name).eval(), torch.randn(1, 3, 64, 64),
                               strict=False)
    if name == "scripted":
        return torch.jit.script(Scripted().eval())
    if name == "resnet18_scripted":  # batch norm's `if self.training` branches, Optional attrs
        return torch.jit.script(torchvision_model("resnet18").eval())
    if name == "upsampling_scripted":  # F.interpolate scripted: branches on dim(), list loops
        return torch.jit.script(Upsampling().eval())
    if name.startswith("convs") and name[5:].isdigit():  # convsN: a stack of N
        return torch.jit.trace(ConvStack(int(name[5:])).eval(), torch.randn(1, 1, 32, 32))
    ctor, shape = SMALL[name]
    return torch.jit.trace(ctor().eval(), torch.randn(*shape))


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    out = sys.argv[1]
    names = sys.argv[2:] or TORCHVISION + ["resnet18_scripted", "convs4"] + list(SMALL) + ["scripted", "upsampling_scripted"]
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(1)
    with torch.no_grad():
        for name in names:
            build(name).save(os.path.join(out, name + ".pt"))


if __name__ == "__main__":
    main()
