#!/usr/bin/env python3
"""CPU throughput of `naswot score` against the PyTorch reference protocol, on the same cores.

What: a fixed, seeded sample of NB201_SAMPLE NAS-Bench-201 architectures (indices mapped to arch
strings with `naswot list --space nb201`) is scored at batch 128 on one 32x32 input batch:
  * naswot: ONE process, `naswot score --space nb201 --arch-file F --data npy:X --batch 128
    --backend cpu --format jsonl`, timed end to end (start-up, plan, weights init, all archs);
  * PyTorch: tests/reference/naswot_reference.py per architecture -- build the network (default
    init), hooks, forward, backward(ones), forward, K, slogdet -- timed per architecture after
    one untimed warm-up network (so one-time start-up is charged to naswot only: conservative).
Both use the same thread count (OMP_NUM_THREADS for naswot, torch.set_num_threads for PyTorch).
Prints architectures/s of both and their ratio (goal: naswot >= GOAL_RATIO x the reference), and
appends one JSON line to bench/results/cpu_bench.jsonl (date, git hash, CPU, threads, figures,
load average: the dev machine is shared, so a high load marks a noisy row).
"""
from __future__ import annotations

import argparse
import csv
import os
import random
import subprocess
import sys

from bench_util import HERE, ROOT, add_common_args, finish_row, start_row, time_each, time_naswot_score

NB201_SAMPLE = 50
SAMPLE_SEED = 2021        # fixes the architecture list (random.Random.sample is stable)
NB201_SIZE = 15625
BATCH = 128
GOAL_RATIO = 5.0
RESULTS = os.path.join(HERE, "results", "cpu_bench.jsonl")


def sample_indices() -> list[int]:
    return sorted(random.Random(SAMPLE_SEED).sample(range(NB201_SIZE), NB201_SAMPLE))


def index_to_arch(naswot: str) -> dict[int, str]:
    out = subprocess.run([naswot, "list", "--space", "nb201"], capture_output=True, text=True, check=True)
    table = {}
    for line in out.stdout.splitlines():
        index, _, arch = line.partition(",")
        if index.strip().isdigit():
            table[int(index)] = arch.strip()
    if len(table) != NB201_SIZE:
        raise RuntimeError(f"naswot list --space nb201 gave {len(table)} rows, expected {NB201_SIZE}")
    return table


def check_against_table(table: dict[int, str], indices: list[int]) -> str:
    """Compare the sampled index->arch pairs with the shared NB-201 table when it is present, so a
    wrong index map in naswot cannot silently change which architectures are benchmarked."""
    path = os.path.join(ROOT, "..", "shared", "data", "nb201", "nb201_accuracies.csv")
    if not os.path.exists(path):
        return "not checked (no shared NB-201 table)"
    with open(path) as f:
        known = {int(r["index"]): r["arch"] for r in csv.DictReader(f)}
    bad = [i for i in indices if known.get(i) != table[i]]
    if bad:
        raise RuntimeError(f"naswot list disagrees with {path} at indices {bad[:5]}")
    return "matches the shared NB-201 table"


def run_torch(archs, x, threads, counting):
    import torch
    from naswot_reference import naswot_kernels
    from tiny_network import TinyNetwork

    torch.set_num_threads(threads)
    xt = torch.from_numpy(x)

    def one(arch):
        torch.manual_seed(1)
        net = TinyNetwork(arch)
        return naswot_kernels(net, xt, (counting,))[counting].score

    return time_each(one, archs), torch.__version__


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_common_args(ap)
    ap.add_argument("--samples", type=int, default=NB201_SAMPLE,
                    help="architectures for the PyTorch side (first N of the fixed list)")
    ap.add_argument("--counting", choices=("reference", "unit"), default="reference")
    args = ap.parse_args()
    samples = max(1, min(args.samples, NB201_SAMPLE))
    row = start_row(args.threads, BATCH, "nb201", counting=args.counting, sample_seed=SAMPLE_SEED)

    def measure() -> None:
        from inputs import make_batch
        indices = sample_indices()
        table = index_to_arch(args.naswot)
        archs = [table[i] for i in indices]
        row["index_map"] = check_against_table(table, indices)
        x, source = make_batch(BATCH, 32)
        row["input"] = source
        nw_wall, records = time_naswot_score(args.naswot, x, archs, [
            "--space", "nb201", "--batch", str(BATCH), "--counting", args.counting], args.threads)
        nw_rec = [float(r["seconds"]) for r in records]
        py_sec, torch_version = run_torch(archs[:samples], x, args.threads, args.counting)
        nw_rate = len(archs) / nw_wall
        py_rate = samples / sum(py_sec)
        # Same-subset ratio from naswot's per-record seconds: fair when --samples < 50, because
        # the first `samples` archs need not have the sample's mean cost.
        subset_ratio = sum(py_sec) / max(sum(nw_rec[:samples]), 1e-9)
        row.update({
            "n_archs": len(archs), "naswot_wall_s": round(nw_wall, 3),
            "naswot_archs_per_s": round(nw_rate, 3),
            "naswot_record_s_sum": round(sum(nw_rec), 3),
            "naswot_singular": sum(r.get("status") == "singular" for r in records),
            "torch_version": torch_version, "torch_samples": samples,
            "torch_s_sum": round(sum(py_sec), 3), "torch_s_per_arch": round(sum(py_sec) / samples, 3),
            "torch_archs_per_s": round(py_rate, 4),
            "ratio": round(nw_rate / py_rate, 2), "ratio_same_archs_records": round(subset_ratio, 2),
            "goal_ratio": GOAL_RATIO, "goal_met": nw_rate / py_rate >= GOAL_RATIO})
        print(f"CPU: {row['cpu']}, {args.threads} threads, batch {BATCH}, counting {args.counting}, "
              f"input: {source}")
        print(f"naswot : {len(archs)} archs in {nw_wall:.2f} s wall (one process) = {nw_rate:.2f} archs/s"
              f"  [per-record sum {sum(nw_rec):.2f} s]")
        print(f"PyTorch: {samples} archs in {sum(py_sec):.2f} s = {py_rate:.3f} archs/s"
              f"  ({sum(py_sec) / samples:.2f} s/arch, torch {torch_version})")
        print(f"ratio  : {nw_rate / py_rate:.1f}x end to end (goal >= {GOAL_RATIO:g}x: "
              f"{'met' if row['goal_met'] else 'NOT met'}); same {samples} archs by per-record time: "
              f"{subset_ratio:.1f}x")

    return finish_row("bench_cpu", row, measure, args.threads, RESULTS, not args.no_append)


if __name__ == "__main__":
    sys.exit(main())
