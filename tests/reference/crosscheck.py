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
  * score within SCORE_RTOL relative (floor 1 on the scale); singular K: both -inf, status singular.
Odd-numbered architectures get randomised BatchNorm gamma/beta so that naswot must really read
every BN parameter from the file (default init, gamma=1 beta=0, would hide a reader that ignores
them); even ones keep PyTorch's default init, as the reference does.

Exit 0 when all pass, 1 otherwise, 77 (CTest "skipped") when torch or numpy is missing.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time

DEBIAN_PYTHON = "/usr/bin/python3"  # Debian's python3-torch lives there (a pyenv python may not)

try:
    import numpy  # noqa: F401  (the reference modules need it)
    import torch
except ImportError as exc:
    if (os.path.exists(DEBIAN_PYTHON) and not os.environ.get("NASWOT_CROSSCHECK_REEXEC")
            and os.path.realpath(sys.executable) != os.path.realpath(DEBIAN_PYTHON)):
        os.environ["NASWOT_CROSSCHECK_REEXEC"] = "1"
        os.execv(DEBIAN_PYTHON, [DEBIAN_PYTHON] + sys.argv)
    # CTest treats 77 as skipped (SKIP_RETURN_CODE 77)
    print(f"crosscheck: skipped, cannot import torch/numpy with {sys.executable} ({exc})")
    sys.exit(77)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from inputs import make_batch, write_npy  # noqa: E402
from naswot_reference import COUNTINGS, naswot_kernels, self_check  # noqa: E402
from safetensors_io import state_dict_to_numpy, write_safetensors  # noqa: E402
from tiny_network import NB201_OPS, conv_edge_count, expected_n_units, format_arch, TinyNetwork  # noqa: E402

# Scores differ only through codes whose sign flips under fp32 round-off (oneDNN vs PyTorch
# convolution order). Worst seen: 4.1e-7 (all-skip, 16x16, batch 128), where one stem-BN value lies
# 3e-8 x RMS from zero and one flipped code moves the score by 1e-4..6e-4 (~3e-7 relative).
SCORE_RTOL = 1e-6
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


def perturb_batchnorm(net: torch.nn.Module, seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.copy_(0.5 + torch.rand(m.weight.shape, generator=g))
                m.bias.copy_(0.2 * torch.randn(m.bias.shape, generator=g))


def run_naswot(binary, arch, npy, batch, weights, counting, size):
    cmd = [binary, "score", "--space", "nb201", "--arch", arch, "--data", f"npy:{npy}",
           "--batch", str(batch), "--weights", weights, "--counting", counting,
           "--image-size", str(size), "--format", "jsonl", "--backend", "cpu"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    records = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or len(records) != 1:
        return None, (f"exit {proc.returncode}, {len(records)} records; cmd: {' '.join(cmd)}\n"
                      f"stderr: {proc.stderr.strip()[-2000:]}")
    return records[0], ""


def as_float(score) -> float:
    return -math.inf if score == "-inf" else float(score)


def compare(ref_score, ref_units, closed_form, rec) -> list[str]:
    """Reasons for failure (empty list = pass)."""
    why = []
    if ref_units != closed_form:
        why.append(f"pytorch N_A {ref_units} != closed form {closed_form} (reference side wrong)")
    if int(rec["n_units"]) != ref_units:
        why.append(f"n_units {rec['n_units']} != pytorch {ref_units}")
    got = as_float(rec["score"])
    if math.isinf(ref_score):
        if not (math.isinf(got) and got < 0 and rec.get("status") == "singular"):
            why.append(f"pytorch -inf (singular) but naswot {rec['score']} status {rec.get('status')}")
    elif not math.isfinite(got) or rec.get("status") != "ok":
        why.append(f"naswot {rec['score']} status {rec.get('status')}, pytorch {ref_score!r}")
    elif abs(got - ref_score) > SCORE_RTOL * max(1.0, abs(ref_score)):
        why.append(f"score {got!r} vs pytorch {ref_score!r}: rel diff "
                   f"{abs(got - ref_score) / max(1.0, abs(ref_score)):.3e} > {SCORE_RTOL:g}")
    return why


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--naswot", required=True, help="path of the naswot binary")
    ap.add_argument("--quick", action="store_true", help="six named architectures, small batches")
    ap.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    ap.add_argument("--keep", metavar="DIR", help="write weights/inputs here and keep them")
    args = ap.parse_args()
    if not os.access(args.naswot, os.X_OK):
        print(f"crosscheck: naswot binary {args.naswot!r} is not executable")
        print("crosscheck: 0 passed, 1 failed")
        return 1
    torch.set_num_threads(args.threads)
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    archs = architectures(args.quick)
    workdir = args.keep or tempfile.mkdtemp(prefix="naswot_crosscheck_")
    os.makedirs(workdir, exist_ok=True)

    inputs = {}  # (size, batch) -> (npy path, torch tensor)
    passed, failed = 0, 0
    try:  # the PyTorch side's own invariants (census, reachability, Gram identity) first
        self_check()
        passed += 1
    except AssertionError as exc:
        print(f"FAIL pytorch reference self-check: {exc!r}")
        failed += 1
    header = f"{'#':>2} {'S':>2} {'B':>3} {'counting':<9} {'c':>1} {'n_units':>9} {'pytorch':>20} " \
             f"{'naswot':>20} {'rel diff':>9} {'t_py':>5} {'t_nw':>5}  result"
    print(header)
    for k, arch in enumerate(archs):
        torch.manual_seed(WEIGHT_SEED_BASE + k)
        net = TinyNetwork(arch)
        if k % 2 == 1:
            perturb_batchnorm(net, BN_PERTURB_SEED + k)
        weights = os.path.join(workdir, f"arch{k:02d}.safetensors")
        write_safetensors(weights, state_dict_to_numpy(net))  # before scoring: initial state
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
                t0 = time.perf_counter()
                rec, err = run_naswot(args.naswot, arch, npy, batch, weights, counting, size)
                t_nw = time.perf_counter() - t0
                if rec is None:
                    why.append(f"naswot failed: {err}")
                    got, rel = "-", "-"
                else:
                    why += compare(ref_score, ref_units, expected_n_units(arch, size, counting), rec)
                    got = rec["score"]
                    gf = as_float(got)
                    rel = (f"{abs(gf - ref_score) / max(1.0, abs(ref_score)):.1e}"
                           if math.isfinite(gf) and math.isfinite(ref_score) else "-")
                ok = not why
                passed += ok
                failed += not ok
                print(f"{k:>2} {size:>2} {batch:>3} {counting:<9} {c:>1} {ref_units:>9} {ref_score!r:>20} "
                      f"{str(got):>20} {rel:>9} {t_py:>5.1f} {t_nw:>5.1f}  {'PASS' if ok else 'FAIL'}")
                for w in why:
                    print(f"     {arch}: {w}")
        sys.stdout.flush()
    if not args.keep:
        for name in os.listdir(workdir):
            os.remove(os.path.join(workdir, name))
        os.rmdir(workdir)
    print(f"crosscheck: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
