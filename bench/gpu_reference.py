#!/usr/bin/env python3
"""The NASWOT reference protocol in PyTorch on the GPU, against `naswot score --backend cuda`:
score agreement on identical weights and inputs, and the reference's speed (archs/s).

What it does (stage e of tools/gpu-check):
* Agreement: for the first --archs named architectures of tests/reference/crosscheck.py (all-none,
  the uniform cells, the worked example of reference-semantics §3.7), build TinyNetwork with the
  cross-check's seeds (odd ones with randomised BatchNorm), export weights (safetensors) and the
  input batch (float32 NCHW .npy), run naswot_reference.naswot_kernels on the GPU ("reference"
  counting) and `naswot score --weights W --data npy:X` on the CUDA and CPU backends. Compares
  n_units (exact) and the score (relative difference, floor 1 on the scale).
* Speed: --speed-archs seeded random architectures after --warmup untimed ones, each timed end to
  end as the original loop does it (build the network, move it to the GPU, protocol, slogdet),
  with torch.backends.cudnn.deterministic = True and benchmark = False as in the original, and
  TF32 off (the original's GPUs had none).
The model and the protocol are imported from tests/reference (one independent reference, not a
copy). Writes its statistics as JSON (--stats) for the summary; prints a compact table.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import subprocess
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "reference"))
sys.path.insert(0, HERE)
from crosscheck import BN_PERTURB_SEED, NAMED_ARCHS, WEIGHT_SEED_BASE  # noqa: E402
from crosscheck_common import perturb_batchnorm  # noqa: E402
from gpu_check import AGREE_RTOL, as_float, rel_diff, write_json  # noqa: E402
from inputs import make_batch, write_npy  # noqa: E402
from naswot_reference import naswot_kernels  # noqa: E402
from safetensors_io import state_dict_to_numpy, write_safetensors  # noqa: E402
from tiny_network import NB201_OPS, TinyNetwork, expected_n_units, format_arch  # noqa: E402

SPEED_SEED = 4242
COUNTING = "reference"


def run_naswot(binary: str, backend: str, arch: str, npy: str, weights: str, batch: int, timeout: float):
    cmd = [binary, "score", "--space", "nb201", "--arch", arch, "--data", f"npy:{npy}", "--batch", str(batch),
           "--weights", weights, "--counting", COUNTING, "--image-size", "32", "--format", "jsonl",
           "--backend", backend]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, f"timed out after {timeout:.0f} s"
    recs = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or len(recs) != 1:
        return None, f"exit {proc.returncode}: {proc.stderr.strip()[-300:]}"
    return recs[0], ""


def agreement(a, x_dev, npy: str, log) -> dict:
    rows, why = [], []
    for k, arch in enumerate(NAMED_ARCHS[:a.archs]):
        torch.manual_seed(WEIGHT_SEED_BASE + k)
        net = TinyNetwork(arch)
        if k % 2 == 1:
            perturb_batchnorm(net, BN_PERTURB_SEED + k)
        weights = os.path.join(a.work, f"ref_arch{k:02d}.safetensors")
        write_safetensors(weights, state_dict_to_numpy(net))
        net = net.to(a.device)
        kr = naswot_kernels(net, x_dev, (COUNTING,))[COUNTING]
        ref, units = kr.score, kr.n_units
        row = {"arch": arch, "pytorch_score": ref, "pytorch_n_units": units,
               "closed_form_n_units": expected_n_units(arch, 32, COUNTING)}
        for backend in ("cuda", "cpu"):
            rec, err = run_naswot(a.naswot, backend, arch, npy, weights, a.batch, a.naswot_timeout)
            row[backend] = rec or {"error": err}
            if rec is None:
                why.append(f"arch {k} naswot {backend}: {err}")
                continue
            got = as_float(rec["score"])
            row[f"{backend}_rel_diff"] = rel_diff(ref, got)
            if int(rec["n_units"]) != units:
                why.append(f"arch {k} {backend}: n_units {rec['n_units']} != pytorch {units}")
            if math.isinf(ref) != (rec["status"] == "singular"):
                why.append(f"arch {k} {backend}: status {rec['status']}, pytorch score {ref}")
        if units != row["closed_form_n_units"]:
            why.append(f"arch {k}: pytorch N_A {units} != closed form {row['closed_form_n_units']}")
        rows.append(row)
        cu, cp = row.get("cuda_rel_diff", math.nan), row.get("cpu_rel_diff", math.nan)
        msg = (f"  {k}: pytorch {ref:.6f} units {units}  cuda {row['cuda'].get('score', 'ERR')} (rel {cu:.1e})  "
               f"cpu {row['cpu'].get('score', 'ERR')} (rel {cp:.1e})  {arch}")
        print(msg)
        log.write(msg + "\n" + json.dumps(row, default=str) + "\n")
    diffs = [r["cuda_rel_diff"] for r in rows if "cuda_rel_diff" in r]
    diffs_cpu = [r["cpu_rel_diff"] for r in rows if "cpu_rel_diff" in r]
    max_rel = max(diffs) if diffs else math.nan
    if diffs and not max_rel <= AGREE_RTOL:
        why.append(f"max rel diff pytorch vs cuda {max_rel:.3g} > {AGREE_RTOL:g}")
    cuda_secs = [r["cuda"]["seconds"] for r in rows if "seconds" in r["cuda"]]
    return {"archs": len(rows), "max_rel_diff": max_rel, "max_rel_diff_cpu": max(diffs_cpu) if diffs_cpu else math.nan,
            "n_units_equal": sum(r["cuda"].get("n_units") == r["pytorch_n_units"] for r in rows),
            "naswot_archs_per_s_records": len(cuda_secs) / sum(cuda_secs) if cuda_secs and sum(cuda_secs) > 0
            else math.nan, "agree_ok": not why, "why": "; ".join(why)}


def speed(a, x_dev, log) -> dict:
    rng = random.Random(SPEED_SEED)
    archs = [format_arch([rng.choice(NB201_OPS) for _ in range(6)]) for _ in range(a.warmup + a.speed_archs)]
    totals, protocols = [], []
    sync = torch.cuda.synchronize if a.device.startswith("cuda") else (lambda: None)
    for i, arch in enumerate(archs):
        sync()
        t0 = time.perf_counter()
        torch.manual_seed(i)
        net = TinyNetwork(arch).to(a.device)
        t1 = time.perf_counter()
        kr = naswot_kernels(net, x_dev, (COUNTING,))[COUNTING]
        _ = kr.score  # slogdet, as the original computes per network
        sync()
        t2 = time.perf_counter()
        if i >= a.warmup:
            totals.append(t2 - t0)
            protocols.append(t2 - t1)
    total = sum(totals)
    stats = {"pytorch_archs_per_s": len(totals) / total if total > 0 else math.nan,
             "pytorch_arch_s_median": statistics.median(totals), "pytorch_protocol_s_median": statistics.median(protocols),
             "speed_archs": len(totals), "warmup": a.warmup}
    msg = (f"  pytorch reference on {a.device}: {len(totals)} archs in {total:.2f} s = "
           f"{stats['pytorch_archs_per_s']:.2f} archs/s (median {stats['pytorch_arch_s_median'] * 1e3:.0f} ms per arch, "
           f"protocol alone {stats['pytorch_protocol_s_median'] * 1e3:.0f} ms)")
    print(msg)
    log.write(msg + "\n")
    return stats


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--naswot", required=True, help="naswot binary built with the CUDA backend")
    ap.add_argument("--work", required=True, help="folder for weights and inputs")
    ap.add_argument("--stats", required=True, help="JSON statistics for tools/gpu-check's summary")
    ap.add_argument("--log", required=True, help="detailed log (appended)")
    ap.add_argument("--archs", type=int, default=6)
    ap.add_argument("--speed-archs", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--naswot-timeout", type=float, default=60.0)
    a = ap.parse_args()
    if a.device.startswith("cuda") and not torch.cuda.is_available():
        print("  torch.cuda.is_available() is False: no GPU for the PyTorch reference")
        write_json(a.stats, {"why": "torch sees no GPU"})
        return 2
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    os.makedirs(a.work, exist_ok=True)
    x, src = make_batch(a.batch, 32)
    npy = os.path.join(a.work, f"ref_input_{a.batch}.npy")
    write_npy(npy, x)
    x_dev = torch.from_numpy(x).to(a.device)
    with open(a.log, "a") as log:
        head = (f"  torch {torch.__version__}, device {torch.cuda.get_device_name() if a.device.startswith('cuda') else a.device}, "
                f"cuDNN {torch.backends.cudnn.version()}; input {a.batch}x3x32x32: {src}")
        print(head)
        log.write(head + "\n")
        stats = agreement(a, x_dev, npy, log)
        stats.update(speed(a, x_dev, log))
    write_json(a.stats, stats)
    if stats["why"]:
        print(f"  FAIL: {stats['why']}")
    return 0 if stats["agree_ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
