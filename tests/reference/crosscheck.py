#!/usr/bin/env python3
"""Cross-check `naswot score` against an independent PyTorch run of the reference protocol.

For each NB-201 architecture (the five uniform ones incl. all-none, a few named ones and a seeded
random sample): build tiny_network.TinyNetwork under torch.manual_seed(WEIGHT_SEED_BASE + k),
export its state_dict to safetensors, export the input batch as float32 NCHW .npy, score it in
PyTorch (naswot_reference.py) and with
  naswot score --space nb201 --arch A --data npy:F --batch B --weights W --counting MODE
               --image-size S --format jsonl --backend cpu
for both counting modes and both image sizes (32: CIFAR network, 16: ImageNet16-120 network; the
parameters are the same, so one weights file serves both). Checks per comparison:
  * n_units equal exactly, and PyTorch's N_A equals the closed form of §3.7;
  * score within SCORE_RTOL (crosscheck_common.py) relative (floor 1 on the scale); singular K:
    both -inf, status singular.
Odd-numbered architectures get randomised BatchNorm gamma/beta so that naswot must really read
every BN parameter from the file (default init, gamma=1 beta=0, would hide a reader that ignores
them); even ones keep PyTorch's default init, as the reference does.

Exit 0 when all pass, 1 otherwise, 77 (CTest "skipped") when torch or numpy is missing.
"""
from __future__ import annotations

import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import crosscheck_common as cc  # noqa: E402

cc.require_torch("crosscheck")
import torch  # noqa: E402

from inputs import make_batch, write_npy  # noqa: E402
from naswot_reference import COUNTINGS, naswot_kernels, self_check  # noqa: E402
from tiny_network import NB201_OPS, conv_edge_count, expected_n_units, format_arch, TinyNetwork  # noqa: E402

WEIGHT_SEED_BASE = 1000
SAMPLE_SEED = 201
BN_PERTURB_SEED = 77
N_RANDOM = 10          # + the named list below = 20 architectures
N_QUICK = 6            # --quick: the first six named architectures only

NAMED_ARCHS = [
    "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|",  # dead network: K all equal, singular
    "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|",
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|",
    "|nor_conv_1x1~0|+|nor_conv_1x1~0|nor_conv_1x1~1|+|nor_conv_1x1~0|nor_conv_1x1~1|nor_conv_1x1~2|",
    "|avg_pool_3x3~0|+|avg_pool_3x3~0|avg_pool_3x3~1|+|avg_pool_3x3~0|avg_pool_3x3~1|avg_pool_3x3~2|",
    # NB-201 index 1 / the worked example of §3.7 (c = 3, 99 hooked modules)
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|",
    # best CIFAR-10 architecture
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|",
    # conv edge whose cell output is dead: later cells see exact zeros (code 0, still counted)
    "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|",
    # NB-201 index 9 (zeros into node 2, live path only through node 3)
    "|avg_pool_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|nor_conv_3x3~2|",
    # NB-201 index 0
    "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|",
]


def architectures(quick: bool) -> list[str]:
    if quick:
        return NAMED_ARCHS[:N_QUICK]
    rng = random.Random(SAMPLE_SEED)
    archs = list(NAMED_ARCHS)
    while len(archs) < len(NAMED_ARCHS) + N_RANDOM:
        a = format_arch([rng.choice(NB201_OPS) for _ in range(6)])
        if a not in archs:
            archs.append(a)
    return archs


def batch_for(k: int, size: int, quick: bool) -> int:
    """Runtime trade-off (CI: 2 cores, whole suite well under 20 min). The PyTorch protocol at
    32x32, batch 128, costs ~1.7 s per mean net on 2 idle cores and several times that on a
    loaded machine (a first version, 24 archs mostly at 128, took 14 min under load 8), so only
    the first six named nets use the reference batch of 128 and the others 64, at both sizes:
    ~35 s in all when idle. A smaller batch exercises the same code paths (K is
    just 64 x 64). --quick uses 32 (32x32) and 64 (16x16)."""
    if quick:
        return 32 if size == 32 else 64
    return 128 if k < 6 else 64


def main() -> int:
    args = cc.parse_args(__doc__, "six named architectures, small batches")
    if not cc.naswot_usable("crosscheck", args.naswot):
        return 1
    cc.set_threads(args.threads)
    archs = architectures(args.quick)
    tally = cc.Tally()
    try:  # the PyTorch side's own invariants (census, reachability, Gram identity) first
        self_check()
        tally.add(True)
    except AssertionError as exc:
        print(f"FAIL pytorch reference self-check: {exc!r}")
        tally.add(False)
    with cc.work_dir(args.keep, "naswot_crosscheck_") as workdir:
        check_archs(args, archs, workdir, tally)
    return tally.finish("crosscheck")


def check_archs(args, archs: list[str], workdir: str, tally: cc.Tally) -> None:
    inputs = {}  # (size, batch) -> (npy path, torch tensor)
    header = f"{'#':>2} {'S':>2} {'B':>3} {'counting':<9} {'c':>1} {'n_units':>9} {'pytorch':>20} " \
             f"{'naswot':>20} {'rel diff':>9} {'t_py':>5} {'t_nw':>5}  result"
    print(header)
    for k, arch in enumerate(archs):
        weights = os.path.join(workdir, f"arch{k:02d}.safetensors")
        net = cc.export_network(lambda: TinyNetwork(arch), k, WEIGHT_SEED_BASE, BN_PERTURB_SEED, weights)
        for size in (32, 16):
            batch = batch_for(k, size, args.quick)
            if (size, batch) not in inputs:
                x, src = make_batch(batch, size)
                path = os.path.join(workdir, f"input_{size}_{batch}.npy")
                write_npy(path, x)
                inputs[(size, batch)] = (path, torch.from_numpy(x))
                print(f"   input {size}x{size} batch {batch}: {src}")
            npy, x = inputs[(size, batch)]
            t0 = time.perf_counter()
            kernels = naswot_kernels(net, x, COUNTINGS)
            t_py = time.perf_counter() - t0
            for counting in COUNTINGS:
                kr = kernels[counting]
                ref_score, ref_units = kr.score, kr.n_units
                why = []
                c = conv_edge_count(arch)
                want_modules = 30 * c + 9 if counting == "reference" else 15 * c + 5
                if kr.hooked_modules != want_modules or kr.counted_calls != want_modules or kr.unvisited:
                    why.append(f"pytorch census: {kr.hooked_modules} hooked, {kr.counted_calls} counted, "
                               f"want {want_modules}; unvisited {kr.unvisited}")
                closed_form = expected_n_units(arch, size, counting)
                if ref_units != closed_form:
                    why.append(f"pytorch N_A {ref_units} != closed form {closed_form} (reference side wrong)")
                run = cc.run_naswot(args.naswot, [
                    "--space", "nb201", "--arch", arch, "--data", f"npy:{npy}", "--batch", str(batch),
                    "--weights", weights, "--counting", counting, "--image-size", str(size)])
                verdict = cc.judge(run, ref_score, ref_units)
                tally.record(why + verdict.why,
                             f"{k:>2} {size:>2} {batch:>3} {counting:<9} {c:>1} {ref_units:>9} {ref_score!r:>20} "
                             f"{verdict.got:>20} {cc.format_rel(verdict.rel):>9} {t_py:>5.1f} {run.seconds:>5.1f}",
                             arch)
        sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
