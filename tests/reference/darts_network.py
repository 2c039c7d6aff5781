"""Independent PyTorch rebuild of the pycls NAS networks that the NASWOT reference scores for the
DARTS/NDS spaces (reference-semantics.md §4): NetworkCIFAR and NetworkImageNet with num_classes=1,
drop-path off, no auxiliary head. Written from the spec, for the naswot cross-check; layout is
PyTorch's (NCHW activations, OIHW weights).

What must match the reference exactly:
* module structure and attribute names, because naswot loads weights by state_dict key:
  stem.0/1 (CIFAR), stem0.0/1/3/4 and stem1.1/2 (ImageNet), cells.K.preprocess{0,1} (ReLUConvBN:
  .op.0/1/2; FactorizedReduce: .relu/.conv_1/.conv_2/.bn/.pad), cells.K._ops.J (SepConv, DilConv,
  DilSepConv: .op.N; the plain convs: an nn.Sequential, .N; pools, Zero, Identity: no parameters),
  classifier.pooling / classifier.classifier (pycls' Classifier wrapper around the Linear);
* the hook rule 'ReLU' in str(type(module)): of the classes here only ReLUConvBN (and nn.ReLU)
  may contain that text, and this file's name must not;
* the in-place ReLUs of the ImageNet stems: stem1's overwrites s0, so cell 0 reads ReLU(s0).
"""
from __future__ import annotations

import torch
from torch import nn

# The op set (pycls OPS) and the kernel size / padding / dilation of each parametrised op.
OPS = ("none", "avg_pool_2x2", "avg_pool_3x3", "avg_pool_5x5", "max_pool_2x2", "max_pool_3x3",
       "max_pool_5x5", "max_pool_7x7", "skip_connect", "conv_1x1", "conv_3x3", "sep_conv_3x3",
       "sep_conv_5x5", "sep_conv_7x7", "dil_conv_3x3", "dil_conv_5x5", "dil_sep_conv_3x3",
       "conv_3x1_1x3", "conv_7x1_1x7")


class ReLUConvBN(nn.Module):
    """ReLU -> conv (no bias) -> BN under .op; the class name contains 'ReLU', so the reference
    hooks the wrapper as well as its inner ReLU (the input counts twice)."""

    def __init__(self, c_in, c_out, kernel, stride, padding):
        super().__init__()
        self.op = nn.Sequential(nn.ReLU(inplace=False),
                                nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=padding, bias=False),
                                nn.BatchNorm2d(c_out))

    def forward(self, x):
        return self.op(x)


class SepConv(nn.Module):
    """Two (ReLU, depthwise k x k, pointwise 1x1, BN) blocks; the first carries the stride.
    dilation 2 makes it the dil_sep_conv op."""

    def __init__(self, c, kernel, stride, padding, dilation=1):
        super().__init__()
        layers = []
        for s in (stride, 1):
            layers += [nn.ReLU(inplace=False),
                       nn.Conv2d(c, c, kernel, stride=s, padding=padding, dilation=dilation, groups=c, bias=False),
                       nn.Conv2d(c, c, 1, bias=False),
                       nn.BatchNorm2d(c)]
        self.op = nn.Sequential(*layers)

    def forward(self, x):
        return self.op(x)


class DilConv(nn.Module):
    """One (ReLU, depthwise k x k with dilation 2, pointwise, BN) block."""

    def __init__(self, c, kernel, stride, padding):
        super().__init__()
        self.op = nn.Sequential(nn.ReLU(inplace=False),
                                nn.Conv2d(c, c, kernel, stride=stride, padding=padding, dilation=2, groups=c,
                                          bias=False),
                                nn.Conv2d(c, c, 1, bias=False),
                                nn.BatchNorm2d(c))

    def forward(self, x):
        return self.op(x)


class FactorizedReduce(nn.Module):
    """ReLU, then the channel concat of a stride-2 1x1 conv of x and one of x shifted up-left by a
    pixel (zero row/column padded at the bottom/right, first row/column dropped), then BN."""

    def __init__(self, c_in, c_out):
        super().__init__()
        assert c_out % 2 == 0, "FactorizedReduce needs an even channel count"
        self.relu = nn.ReLU(inplace=False)
        self.conv_1 = nn.Conv2d(c_in, c_out // 2, 1, stride=2, bias=False)
        self.conv_2 = nn.Conv2d(c_in, c_out // 2, 1, stride=2, bias=False)
        self.bn = nn.BatchNorm2d(c_out)
        self.pad = nn.ConstantPad2d((0, 1, 0, 1), 0.0)

    def forward(self, x):
        x = self.relu(x)
        shifted = self.pad(x)[:, :, 1:, 1:]
        return self.bn(torch.cat([self.conv_1(x), self.conv_2(shifted)], dim=1))


class Zero(nn.Module):
    """'none': x * 0 (after a stride-s subsampling): keeps x in the autograd graph."""

    def __init__(self, stride):
        super().__init__()
        self.stride = stride

    def forward(self, x):
        if self.stride > 1:
            x = x[:, :, ::self.stride, ::self.stride]
        return x.mul(0.0)


class Identity(nn.Module):
    def forward(self, x):
        return x


def make_op(name: str, c: int, stride: int) -> nn.Module:
    if name == "none":
        return Zero(stride)
    if name.startswith("avg_pool_") or name.startswith("max_pool_"):
        k = int(name[-1])
        pad = {2: 0, 3: 1, 5: 2, 7: 3}[k]
        if name.startswith("avg"):
            return nn.AvgPool2d(k, stride=stride, padding=pad, count_include_pad=False)
        return nn.MaxPool2d(k, stride=stride, padding=pad)
    if name == "skip_connect":
        return Identity() if stride == 1 else FactorizedReduce(c, c)
    if name in ("conv_1x1", "conv_3x3"):
        k = 1 if name == "conv_1x1" else 3
        return nn.Sequential(nn.ReLU(inplace=False), nn.Conv2d(c, c, k, stride=stride, padding=k // 2, bias=False),
                             nn.BatchNorm2d(c))
    if name in ("conv_3x1_1x3", "conv_7x1_1x7"):
        k = 3 if name == "conv_3x1_1x3" else 7
        return nn.Sequential(nn.ReLU(inplace=False),
                             nn.Conv2d(c, c, (1, k), stride=(1, stride), padding=(0, k // 2), bias=False),
                             nn.Conv2d(c, c, (k, 1), stride=(stride, 1), padding=(k // 2, 0), bias=False),
                             nn.BatchNorm2d(c))
    if name.startswith("sep_conv_"):
        k = int(name[-1])
        return SepConv(c, k, stride, k // 2)
    if name == "dil_sep_conv_3x3":
        return SepConv(c, 3, stride, 2, dilation=2)
    if name in ("dil_conv_3x3", "dil_conv_5x5"):
        k = int(name[-1])
        return DilConv(c, k, stride, k - 1)  # dilation 2: padding 2 (3x3) or 4 (5x5) keeps the size
    raise ValueError(f"unknown op {name!r}")


class Cell(nn.Module):
    """cell: preprocess both inputs to C channels; node 2+i = op(state a) + op(state b); concat."""

    def __init__(self, edges, concat, c_pp, c_p, c, reduction, reduction_prev):
        super().__init__()
        self.preprocess0 = FactorizedReduce(c_pp, c) if reduction_prev else ReLUConvBN(c_pp, c, 1, 1, 0)
        self.preprocess1 = ReLUConvBN(c_p, c, 1, 1, 0)
        self._ops = nn.ModuleList(make_op(op, c, 2 if reduction and i < 2 else 1) for op, i in edges)
        self._inputs = [i for _, i in edges]
        self._concat = list(concat)

    def forward(self, s0, s1):
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        for n in range(len(self._ops) // 2):
            a, b = 2 * n, 2 * n + 1
            states.append(self._ops[a](states[self._inputs[a]]) + self._ops[b](states[self._inputs[b]]))
        return torch.cat([states[i] for i in self._concat], dim=1)


class Classifier(nn.Module):
    """pycls' Classifier for the 'cls' task: pooling, then the Linear named classifier."""

    def __init__(self, c, num_classes):
        super().__init__()
        self.pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c, num_classes)

    def forward(self, x):
        features = self.pooling(x).flatten(1)
        return self.classifier(features), features


def _build_cells(net, genotype, width, depth, c_pp, c_p, reduction_prev):
    cells = []
    c = width
    for i in range(depth):
        reduction = i in (depth // 3, 2 * depth // 3)
        if reduction:
            c *= 2
        edges, concat = (genotype["reduce"], genotype["reduce_concat"]) if reduction else \
            (genotype["normal"], genotype["normal_concat"])
        cells.append(Cell(edges, concat, c_pp, c_p, c, reduction, reduction_prev))
        reduction_prev = reduction
        c_pp, c_p = c_p, len(concat) * c
    net.cells = nn.ModuleList(cells)
    return c_p


class NetworkCIFAR(nn.Module):
    """stem conv3x3 3 -> 3C + BN (no ReLU); s0 = s1 = stem; cells; classifier. forward returns
    (logits, features) like the reference's wrapped Linear."""

    def __init__(self, genotype: dict, width: int, depth: int, num_classes: int = 1):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 3 * width, 3, padding=1, bias=False), nn.BatchNorm2d(3 * width))
        c_last = _build_cells(self, genotype, width, depth, 3 * width, 3 * width, False)
        self.classifier = Classifier(c_last, num_classes)

    def forward(self, x):
        s0 = s1 = self.stem(x)
        for cell in self.cells:
            s0, s1 = s1, cell(s0, s1)
        return self.classifier(s1)


class NetworkImageNet(nn.Module):
    """stem0: conv3x3/2 3 -> C/2, BN, ReLU(inplace), conv3x3/2 C/2 -> C, BN; stem1: ReLU(inplace),
    conv3x3/2, BN. Cell 0 follows a 'reduction' (FactorizedReduce on s0)."""

    def __init__(self, genotype: dict, width: int, depth: int, num_classes: int = 1):
        super().__init__()
        c = width
        self.stem0 = nn.Sequential(nn.Conv2d(3, c // 2, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(c // 2),
                                   nn.ReLU(inplace=True),
                                   nn.Conv2d(c // 2, c, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(c))
        self.stem1 = nn.Sequential(nn.ReLU(inplace=True), nn.Conv2d(c, c, 3, stride=2, padding=1, bias=False),
                                   nn.BatchNorm2d(c))
        c_last = _build_cells(self, genotype, width, depth, c, c, True)
        self.classifier = Classifier(c_last, num_classes)

    def forward(self, x):
        s0 = self.stem0(x)
        s1 = self.stem1(s0)  # in place: s0 now holds ReLU(s0)
        for cell in self.cells:
            s0, s1 = s1, cell(s0, s1)
        return self.classifier(s1)


def parse_compact(normal: str, reduce: str) -> dict:
    """'op~i,op~i,...' lists (NB301 / NASLib compact form) -> genotype dict with concat 2.."""
    def cell(text):
        edges = []
        for entry in text.split(","):
            op, _, i = entry.strip().partition("~")
            if op not in OPS:
                raise ValueError(f"unknown op {op!r}")
            edges.append((op, int(i)))
        return edges
    n, r = cell(normal), cell(reduce)
    return {"normal": n, "normal_concat": list(range(2, 2 + len(n) // 2)),
            "reduce": r, "reduce_concat": list(range(2, 2 + len(r) // 2))}


def format_genotype(g: dict) -> str:
    """The DARTS repr (naswot's canonical form)."""
    def pairs(edges):
        return "[" + ", ".join(f"('{op}', {i})" for op, i in edges) + "]"
    return (f"Genotype(normal={pairs(g['normal'])}, normal_concat={list(g['normal_concat'])}, "
            f"reduce={pairs(g['reduce'])}, reduce_concat={list(g['reduce_concat'])})")


def ops_used(g: dict) -> set[str]:
    return {op for op, _ in g["normal"]} | {op for op, _ in g["reduce"]}
