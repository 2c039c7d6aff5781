#!/usr/bin/env python3
"""Cross-check `naswot score --space darts|darts_in` against an independent PyTorch run of the
reference protocol on DARTS/NDS networks (darts_network.py, reference-semantics.md §4).

For each genotype (named cases chosen to cover every op of the pycls op set, both cell types,
reductions, unused cell inputs and a whole unused cell, `none` edges, 5-node cells with loose-end
concats, ImageNet networks; then NB301 rows from the shared table and seeded random genotypes):
build NetworkCIFAR (or NetworkImageNet) under torch.manual_seed(WEIGHT_SEED_BASE + k), export its
state_dict to safetensors (naswot's --weights rejects a missing, extra or mis-shaped tensor, so
this also checks the parameter names), export the input batch, run the protocol in PyTorch
(naswot_reference.py: 'ReLU' in the type string, legacy backward hooks, two forwards) and
  naswot score --space darts[_in] --genotype G --width W --depth L --data npy:F --batch B
               --weights W --counting MODE --format jsonl --backend cpu
for both counting modes. Per comparison: n_units equal exactly; score within SCORE_RTOL
(crosscheck_common.py) relative (floor 1), or both -inf/singular. Cases marked `unused` must leave
some hooked module unvisited on the PyTorch side (the check really exercises reachability).
Odd-numbered networks get randomised BatchNorm gamma/beta so that naswot must read every BN tensor
from the file.

Small networks keep it fast on 2 CI cores (~1 min): width 8, depth 5 (reductions at cells 1 and 3),
batch 32 at 32x32 for CIFAR; batch 16 at 64x64 for ImageNet (64 -> 8 after the three stride-2
stem convs, then 4 and 2 after the reductions).

Exit 0 when all pass, 1 otherwise, 77 (CTest "skipped") when torch or numpy is missing.
"""
from __future__ import annotations

import csv
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import crosscheck_common as cc  # noqa: E402

cc.require_torch("crosscheck_darts")
import numpy as np  # noqa: E402
import torch  # noqa: E402

from darts_network import (OPS, NetworkCIFAR, NetworkImageNet, format_genotype, ops_used,  # noqa: E402
                           parse_compact)
from inputs import CIFAR10_BIN, RECORD_BYTES, make_batch, write_npy  # noqa: E402
from naswot_reference import COUNTINGS, naswot_kernels  # noqa: E402

WEIGHT_SEED_BASE = 3000
RANDOM_SEED = 301
BN_PERTURB_SEED = 91
WIDTH, DEPTH = 8, 5
CIFAR_SIZE, CIFAR_BATCH = 32, 32
IMAGENET_SIZE, IMAGENET_BATCH = 64, 16
N_NB301 = 4
N_RANDOM = 4
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
NB301_CSV = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data",
                                          "nb301_darts", "naslib_zc_nb301_subset.csv"))

V2_NORMAL = ("sep_conv_3x3~0,sep_conv_3x3~1,sep_conv_3x3~0,sep_conv_3x3~1,sep_conv_3x3~1,skip_connect~0,"
             "skip_connect~0,dil_conv_3x3~2")
V2_REDUCE = ("max_pool_3x3~0,max_pool_3x3~1,skip_connect~2,max_pool_3x3~1,max_pool_3x3~0,skip_connect~2,"
             "skip_connect~2,max_pool_3x3~1")


def case(normal, reduce, imagenet=False, unused=False, normal_concat=None, reduce_concat=None, note=""):
    """unused: True/False = some / no hooked module must stay unvisited; None = not checked."""
    g = parse_compact(normal, reduce)
    if normal_concat is not None:
        g["normal_concat"] = normal_concat
    if reduce_concat is not None:
        g["reduce_concat"] = reduce_concat
    return {"genotype": g, "imagenet": imagenet, "unused": unused, "note": note}


NAMED = [
    case(V2_NORMAL, V2_REDUCE, note="DARTS_V2"),
    case("sep_conv_3x3~1,sep_conv_3x3~0,skip_connect~0,sep_conv_3x3~1,skip_connect~0,sep_conv_3x3~1,"
         "sep_conv_3x3~0,skip_connect~2",
         "max_pool_3x3~0,max_pool_3x3~1,skip_connect~2,max_pool_3x3~0,max_pool_3x3~0,skip_connect~2,"
         "skip_connect~2,avg_pool_3x3~0", note="DARTS_V1"),
    case("conv_1x1~0,conv_3x3~1,sep_conv_5x5~2,sep_conv_7x7~0,dil_conv_5x5~3,conv_3x1_1x3~1,"
         "conv_7x1_1x7~4,dil_sep_conv_3x3~2",
         "avg_pool_2x2~0,max_pool_2x2~1,avg_pool_5x5~2,max_pool_5x5~0,max_pool_7x7~1,avg_pool_3x3~3,"
         "none~4,dil_conv_3x3~0", note="rarer ops; 2x2 pools at stride 2"),
    case("none~0,none~1,none~0,sep_conv_3x3~2,skip_connect~3,none~2,dil_conv_3x3~4,none~1",
         "none~0,none~1,sep_conv_5x5~2,none~0,none~3,skip_connect~1,none~4,conv_1x1~2",
         note="none edges (x*0 keeps inputs counted), a node of two none"),
    case("sep_conv_3x3~1,dil_conv_3x3~1,skip_connect~2,conv_3x3~1,sep_conv_5x5~3,max_pool_3x3~2,"
         "avg_pool_3x3~4,skip_connect~1",
         "sep_conv_3x3~0,max_pool_3x3~1,dil_conv_5x5~2,skip_connect~1,conv_1x1~3,sep_conv_3x3~2,"
         "avg_pool_3x3~4,conv_7x1_1x7~1", unused=True, note="normal cells never read s0: preprocess0 unused"),
    case("conv_3x3~0,sep_conv_3x3~0,dil_conv_3x3~2,skip_connect~0,max_pool_3x3~3,conv_1x1~2,"
         "sep_conv_5x5~4,avg_pool_3x3~0",
         "avg_pool_3x3~0,dil_conv_3x3~0,skip_connect~2,sep_conv_7x7~0,max_pool_3x3~3,conv_3x1_1x3~2,"
         "dil_sep_conv_3x3~4,skip_connect~0", unused=True,
         note="nothing reads s1: whole cells drop out (cell 3 output used only by a cell that does not exist)"),
    case("skip_connect~0,skip_connect~1,skip_connect~0,skip_connect~2,skip_connect~1,skip_connect~3,"
         "skip_connect~4,skip_connect~2",
         "skip_connect~0,skip_connect~1,skip_connect~2,skip_connect~0,skip_connect~3,skip_connect~1,"
         "skip_connect~4,skip_connect~2", note="all skip: FactorizedReduce edges, identity sums"),
    case("sep_conv_5x5~1,sep_conv_3x3~0,avg_pool_3x3~0,skip_connect~1,avg_pool_3x3~1,avg_pool_3x3~0,"
         "sep_conv_5x5~0,sep_conv_3x3~0,skip_connect~4,conv_7x1_1x7~5",
         "max_pool_2x2~0,conv_3x1_1x3~1,avg_pool_5x5~0,max_pool_7x7~1,max_pool_5x5~0,dil_conv_5x5~1,"
         "none~3,sep_conv_3x3~2,dil_sep_conv_3x3~4,sep_conv_7x7~1",
         normal_concat=[0, 2, 3, 6], reduce_concat=[5, 6],
         note="5-node cells, loose-end concats (NASNet-like), s0 in the normal concat"),
    case("conv_3x3~1,max_pool_5x5~0,dil_sep_conv_3x3~2,avg_pool_5x5~1,sep_conv_7x7~3,conv_1x1~0,"
         "max_pool_7x7~4,none~1",
         "skip_connect~1,avg_pool_2x2~0,conv_7x1_1x7~2,max_pool_2x2~1,dil_conv_5x5~0,none~3,"
         "conv_3x1_1x3~4,sep_conv_5x5~2", note="mixed, concat 2..5"),
    case(V2_NORMAL, V2_REDUCE, imagenet=True, note="DARTS_V2, NetworkImageNet"),
    case("sep_conv_7x7~0,conv_1x1~1,avg_pool_5x5~2,dil_conv_3x3~1,none~0,max_pool_7x7~3,"
         "conv_3x1_1x3~4,sep_conv_3x3~2",
         "max_pool_2x2~0,avg_pool_2x2~1,dil_sep_conv_3x3~2,skip_connect~0,conv_7x1_1x7~3,dil_conv_5x5~1,"
         "max_pool_5x5~4,conv_3x3~2", imagenet=True, note="NetworkImageNet, rarer ops"),
    case("sep_conv_3x3~1,dil_conv_3x3~1,sep_conv_3x3~1,skip_connect~2,avg_pool_3x3~3,conv_1x1~1,"
         "sep_conv_5x5~4,skip_connect~3",
         "skip_connect~1,max_pool_3x3~1,sep_conv_3x3~2,avg_pool_3x3~1,skip_connect~3,dil_conv_3x3~1,"
         "sep_conv_3x3~4,max_pool_3x3~1", imagenet=True, unused=True,
         note="NetworkImageNet, s0 never read: every preprocess0 unused (stem1's ReLU still reaches)"),
]
N_QUICK = 6


def nb301_cases(count):
    if not os.path.exists(NB301_CSV):
        return []
    out = []
    with open(NB301_CSV, newline="") as f:
        for row in csv.DictReader(f):
            out.append(case(row["normal"], row["reduce"], unused=None, note=f"NB301 naslib_idx {row['naslib_idx']}"))
            if len(out) == count:
                break
    return out


def random_cases(count, seed):
    """Seeded genotypes over every op; 2x2 pools only where they halve an even map (reduction cell
    edges that read a cell input), since elsewhere they shrink the map by one and the reference fails."""
    rng = random.Random(seed)
    out = []
    for k in range(count):
        def cell(reduction):
            edges = []
            for node in range(4):
                for _ in range(2):
                    i = rng.randrange(node + 2)
                    ops = [op for op in OPS if "2x2" not in op or (reduction and i < 2)]
                    edges.append(f"{rng.choice(ops)}~{i}")
            return ",".join(edges)
        out.append(case(cell(False), cell(True), imagenet=(k == count - 1), unused=None, note=f"random {k}"))
    return out


def imagenet_batch(batch):
    """64x64: CIFAR-10 test images upsampled 2x (nearest), ImageNet normalisation; noise without them."""
    if os.path.exists(CIFAR10_BIN):
        raw = np.fromfile(CIFAR10_BIN, dtype=np.uint8)
        if raw.size % RECORD_BYTES == 0 and raw.size // RECORD_BYTES >= batch:
            px = raw.reshape(-1, RECORD_BYTES)[:batch, 1:].reshape(batch, 3, 32, 32).astype(np.float32) / 255
            px = px.repeat(2, axis=2).repeat(2, axis=3)
            x = (px - IMAGENET_MEAN[None, :, None, None]) / IMAGENET_STD[None, :, None, None]
            return np.ascontiguousarray(x, dtype=np.float32), "CIFAR-10 test images 2x upsampled"
    rng = np.random.default_rng(64)
    return rng.standard_normal((batch, 3, IMAGENET_SIZE, IMAGENET_SIZE), dtype=np.float32), "N(0,1) noise"


def main() -> int:
    args = cc.parse_args(__doc__, f"the first {N_QUICK} named cases only")
    if not cc.naswot_usable("crosscheck_darts", args.naswot):
        return 1
    cc.set_threads(args.threads)
    cases = NAMED[:N_QUICK] if args.quick else NAMED + nb301_cases(N_NB301) + random_cases(N_RANDOM, RANDOM_SEED)
    tally = cc.Tally()
    covered = set().union(*(ops_used(c["genotype"]) for c in cases))
    if not args.quick and covered != set(OPS):
        print(f"FAIL the cases miss ops {sorted(set(OPS) - covered)}")
        tally.add(False)
    with cc.work_dir(args.keep, "naswot_crosscheck_darts_") as workdir:
        worst = check_cases(args, cases, workdir, tally)
    print(f"crosscheck_darts: {len(cases)} networks, worst relative score difference {worst:.2e}")
    return tally.finish("crosscheck_darts")


def check_cases(args, cases, workdir: str, tally: cc.Tally) -> float:
    """Runs every case; returns the worst relative score difference seen."""
    inputs = {}
    for imagenet in (False, True):
        if imagenet:
            x, src = imagenet_batch(IMAGENET_BATCH)
        else:
            x, src = make_batch(CIFAR_BATCH, CIFAR_SIZE)
        path = os.path.join(workdir, f"input_{'in' if imagenet else 'cifar'}.npy")
        write_npy(path, x)
        inputs[imagenet] = (path, torch.from_numpy(x))
        print(f"   input {'ImageNet' if imagenet else 'CIFAR'} {tuple(x.shape)}: {src}")

    worst = 0.0
    print(f"{'#':>2} {'net':<3} {'counting':<9} {'n_units':>8} {'pytorch':>20} {'naswot':>20} {'rel diff':>9} "
          f"{'unvis':>5} {'t_py':>5} {'t_nw':>5}  result  case")
    for k, c in enumerate(cases):
        g, imagenet = c["genotype"], c["imagenet"]
        weights = os.path.join(workdir, f"net{k:02d}.safetensors")
        network = NetworkImageNet if imagenet else NetworkCIFAR
        net = cc.export_network(lambda: network(g, WIDTH, DEPTH), k, WEIGHT_SEED_BASE, BN_PERTURB_SEED, weights)
        npy, x = inputs[imagenet]
        t0 = time.perf_counter()
        kernels = naswot_kernels(net, x, COUNTINGS)
        t_py = time.perf_counter() - t0
        genotype = format_genotype(g)
        for counting in COUNTINGS:
            kr = kernels[counting]
            why = []
            if c["unused"] is True and not kr.unvisited:
                why.append("case marked unused but every hooked module was visited (reachability not exercised)")
            if c["unused"] is False and kr.unvisited:
                why.append(f"unexpected unvisited hooked modules {kr.unvisited}")
            run = cc.run_naswot(args.naswot, [
                "--space", "darts_in" if imagenet else "darts", "--genotype", genotype, "--width", str(WIDTH),
                "--depth", str(DEPTH), "--data", f"npy:{npy}", "--batch", str(x.shape[0]), "--weights", weights,
                "--counting", counting])
            verdict = cc.judge(run, kr.score, kr.n_units)
            if verdict.rel is not None:
                worst = max(worst, verdict.rel)
            tally.record(why + verdict.why,
                         f"{k:>2} {'in' if imagenet else 'c10':<3} {counting:<9} {kr.n_units:>8} {kr.score!r:>20} "
                         f"{verdict.got:>20} {cc.format_rel(verdict.rel):>9} {len(kr.unvisited):>5} {t_py:>5.1f} "
                         f"{run.seconds:>5.1f}", genotype, c["note"])
        sys.stdout.flush()
    return worst


if __name__ == "__main__":
    sys.exit(main())
