"""Independent PyTorch rebuild of the NAS-Bench-201 TinyNetwork (C=16, N=5, num_classes=1).

What: the network the NASWOT reference scores (reference-semantics.md §3), written from the spec
only, so that the naswot C++ runtime can be cross-checked against PyTorch on identical weights and
inputs. Layout: PyTorch NCHW activations, OIHW conv weights.

Why the exact names matter:
* state_dict keys must equal the reference's (stem.0/1, cells.K.layers.E.op.{1,2},
  cells.K.conv_a.op.{1,2}, cells.K.conv_b.op.{1,2}, cells.K.downsample.1, lastact.0, classifier),
  because naswot loads weights by those names (--weights, safetensors).
* The reference hooks every module with 'ReLU' in str(type(module)). The wrapper class must
  therefore be called ReLUConvBN (so it is hooked as well as its inner nn.ReLU: the "reference"
  double counting), and no other class here (nor this file's module name) may contain "ReLU".
"""
from __future__ import annotations

import torch
from torch import nn

# Op names in NB-201 enumeration order (§3.1).
NB201_OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
# Edge (source, target) pairs in arch-string order; layers[E] of a cell is edge E.
NB201_EDGES = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))
CONV_OPS = ("nor_conv_1x1", "nor_conv_3x3")


def parse_arch(arch: str) -> list[str]:
    """'|a~0|+|b~0|c~1|+|d~0|e~1|f~2|' -> [a, b, c, d, e, f] (edge order above)."""
    nodes = arch.strip().split("+")
    if len(nodes) != 3:
        raise ValueError(f"arch {arch!r}: expected 3 '+'-separated nodes")
    ops = []
    for target, node in enumerate(nodes, start=1):
        entries = [e for e in node.split("|") if e]
        if len(entries) != target:
            raise ValueError(f"arch {arch!r}: node {target} needs {target} edges")
        for source, entry in enumerate(entries):
            op, _, src = entry.partition("~")
            if op not in NB201_OPS or src != str(source):
                raise ValueError(f"arch {arch!r}: bad edge {entry!r}")
            ops.append(op)
    return ops


def format_arch(ops: list[str]) -> str:
    a = ops
    return f"|{a[0]}~0|+|{a[1]}~0|{a[2]}~1|+|{a[3]}~0|{a[4]}~1|{a[5]}~2|"


def conv_edge_count(arch: str) -> int:
    """c of §3.7: number of nor_conv_1x1 / nor_conv_3x3 edges."""
    return sum(op in CONV_OPS for op in parse_arch(arch))


class ReLUConvBN(nn.Module):
    """ReLU(inplace=False) -> Conv2d(no bias) -> BatchNorm2d; children under .op (op.0/1/2)."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, padding: int):
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=padding, bias=False),
            nn.BatchNorm2d(c_out, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True),
        )

    def forward(self, x):
        return self.op(x)


class Zero(nn.Module):
    """'none': x * 0 keeps the source in the autograd graph (so it stays 'visited', §1.3)."""

    def forward(self, x):
        return x.mul(0.0)


class Identity(nn.Module):
    def forward(self, x):
        return x


class AvgPool3x3(nn.Module):
    """avg_pool_3x3 with C_in == C_out: no preprocess; border taps divide by valid count."""

    def __init__(self):
        super().__init__()
        self.op = nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)

    def forward(self, x):
        return self.op(x)


def make_op(name: str, channels: int) -> nn.Module:
    if name == "none":
        return Zero()
    if name == "skip_connect":
        return Identity()
    if name == "nor_conv_1x1":
        return ReLUConvBN(channels, channels, 1, 1, 0)
    if name == "nor_conv_3x3":
        return ReLUConvBN(channels, channels, 3, 1, 1)
    if name == "avg_pool_3x3":
        return AvgPool3x3()
    raise ValueError(f"unknown NB-201 op {name!r}")


class InferCell(nn.Module):
    """Node i = sum over its incoming edges (in string order) of op(node j); output = node 3."""

    def __init__(self, ops: list[str], channels: int):
        super().__init__()
        self.layers = nn.ModuleList(make_op(op, channels) for op in ops)

    def forward(self, x):
        nodes = [x]
        for target in (1, 2, 3):
            total = None
            for e, (source, t) in enumerate(NB201_EDGES):
                if t != target:
                    continue
                y = self.layers[e](nodes[source])
                # Left-to-right sum as Python's sum(0 + e1 + e2 ...) (0 + e1 == e1 exactly).
                total = y if total is None else total + y
            nodes.append(total)
        return nodes[3]


class ResNetBasicblock(nn.Module):
    """Reduction block: conv_b(conv_a(x)) + conv1x1(avgpool2x2(x)); no BN/ReLU on the shortcut."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, 2, 1)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, 1, 1)
        self.downsample = nn.Sequential(
            nn.AvgPool2d(kernel_size=2, stride=2, padding=0),
            nn.Conv2d(c_in, c_out, 1, stride=1, padding=0, bias=False),
        )

    def forward(self, x):
        return self.downsample(x) + self.conv_b(self.conv_a(x))


class TinyNetwork(nn.Module):
    """Stem (conv3x3+BN, no ReLU), 5 cells, res-block, 5 cells, res-block, 5 cells, BN+ReLU,
    global average pool, Linear(64 -> num_classes). Works for 32x32 (CIFAR) and 16x16 (ImageNet16)
    inputs: only the spatial sizes differ. Construction order (= default-init RNG order) is stem,
    cells in order, lastact, classifier."""

    def __init__(self, arch: str, channels: int = 16, cells_per_stage: int = 5, num_classes: int = 1):
        super().__init__()
        ops = parse_arch(arch)
        c = channels
        self.stem = nn.Sequential(nn.Conv2d(3, c, 3, padding=1, bias=False), nn.BatchNorm2d(c))
        cells = []
        for stage in range(3):
            if stage > 0:
                cells.append(ResNetBasicblock(c, 2 * c))
                c *= 2
            cells.extend(InferCell(ops, c) for _ in range(cells_per_stage))
        self.cells = nn.ModuleList(cells)
        self.lastact = nn.Sequential(nn.BatchNorm2d(c), nn.ReLU(inplace=True))
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c, num_classes)

    def forward(self, x):
        feature = self.stem(x)
        for cell in self.cells:
            feature = cell(feature)
        out = self.lastact(feature)
        out = self.global_pooling(out).view(out.size(0), -1)
        logits = self.classifier(out)
        return logits, out  # R's order: (logits, features)


def expected_n_units(arch: str, image_size: int, counting: str) -> int:
    """Closed form of §3.7: N_A = diag(K). 32x32: 286,720c + 77,824 (reference counting),
    143,360c + 40,960 (unit counting); 16x16 has a quarter of the units."""
    c = conv_edge_count(arch)
    if counting == "reference":
        n = 286_720 * c + 77_824
    elif counting == "unit":
        n = 143_360 * c + 40_960
    else:
        raise ValueError(f"counting {counting!r}: expected reference or unit")
    if image_size == 32:
        return n
    if image_size == 16:
        return n // 4
    raise ValueError(f"image size {image_size}: expected 32 or 16")
