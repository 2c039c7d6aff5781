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
import datetime
import json
import os
import random
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "reference"))

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


def git_hash() -> str:
    try:
        h = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True).stdout.strip()
        return h + ("-dirty" if dirty else "")
    except (subprocess.CalledProcessError, OSError):
        return "uncommitted"


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def run_naswot(naswot, archs, npy, threads, workdir, counting):
    arch_file = os.path.join(workdir, "archs.txt")
    with open(arch_file, "w") as f:
        f.write("".join(a + "\n" for a in archs))
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    cmd = [naswot, "score", "--space", "nb201", "--arch-file", arch_file, "--data", f"npy:{npy}",
           "--batch", str(BATCH), "--counting", counting, "--backend", "cpu", "--format", "jsonl"]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    records = [json.loads(l) for l in proc.stdout.splitlines() if l.startswith("{")]
    if proc.returncode != 0 or len(records) != len(archs):
        raise RuntimeError(f"naswot exit {proc.returncode}, {len(records)}/{len(archs)} records: "
                           f"{proc.stderr.strip()[-1500:]}")
    return wall, records


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

    one(archs[0])  # warm-up: oneDNN primitive caches, allocator
    seconds = []
    for arch in archs:
        t0 = time.perf_counter()
        one(arch)
        seconds.append(time.perf_counter() - t0)
    return seconds, torch.__version__


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--naswot", default=os.path.join(ROOT, "build", "tools", "naswot"))
    ap.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    ap.add_argument("--samples", type=int, default=NB201_SAMPLE,
                    help="architectures for the PyTorch side (first N of the fixed list)")
    ap.add_argument("--counting", choices=("reference", "unit"), default="reference")
    ap.add_argument("--no-append", action="store_true", help="do not write bench/results")
    args = ap.parse_args()
    samples = max(1, min(args.samples, NB201_SAMPLE))

    from inputs import make_batch, write_npy

    row = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
           "git": git_hash(), "cpu": cpu_model(), "threads": args.threads, "batch": BATCH,
           "space": "nb201", "counting": args.counting, "sample_seed": SAMPLE_SEED,
           "load_avg_1m_start": os.getloadavg()[0]}
    try:
        indices = sample_indices()
        table = index_to_arch(args.naswot)
        archs = [table[i] for i in indices]
        row["index_map"] = check_against_table(table, indices)
        x, source = make_batch(BATCH, 32)
        row["input"] = source
        with tempfile.TemporaryDirectory(prefix="naswot_bench_") as workdir:
            npy = os.path.join(workdir, "batch.npy")
            write_npy(npy, x)
            nw_wall, records = run_naswot(args.naswot, archs, npy, args.threads, workdir, args.counting)
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
            "goal_ratio": GOAL_RATIO, "goal_met": nw_rate / py_rate >= GOAL_RATIO,
            "load_avg_1m_end": os.getloadavg()[0], "ok": True, "error": ""})
        print(f"CPU: {row['cpu']}, {args.threads} threads, batch {BATCH}, counting {args.counting}, "
              f"input: {source}")
        print(f"naswot : {len(archs)} archs in {nw_wall:.2f} s wall (one process) = {nw_rate:.2f} archs/s"
              f"  [per-record sum {sum(nw_rec):.2f} s]")
        print(f"PyTorch: {samples} archs in {sum(py_sec):.2f} s = {py_rate:.3f} archs/s"
              f"  ({sum(py_sec) / samples:.2f} s/arch, torch {torch_version})")
        print(f"ratio  : {nw_rate / py_rate:.1f}x end to end (goal >= {GOAL_RATIO:g}x: "
              f"{'met' if row['goal_met'] else 'NOT met'}); same {samples} archs by per-record time: "
              f"{subset_ratio:.1f}x")
        if row["load_avg_1m_start"] > args.threads or row["load_avg_1m_end"] > args.threads:
            print(f"note: load average {row['load_avg_1m_start']:.1f}/{row['load_avg_1m_end']:.1f} "
                  f"exceeds {args.threads} threads: figures are noisy")
        rc = 0
    except Exception as exc:  # record the failure too (a row per attempt)
        row.update({"ok": False, "error": f"{type(exc).__name__}: {exc}"[:2000]})
        print(f"bench_cpu: failed: {row['error']}", file=sys.stderr)
        rc = 1
    if not args.no_append:
        os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
        with open(RESULTS, "a") as f:
            f.write(json.dumps(row) + "\n")
        print(f"appended to {os.path.relpath(RESULTS, ROOT)}")
    return rc


if __name__ == "__main__":
    sys.exit(main())
