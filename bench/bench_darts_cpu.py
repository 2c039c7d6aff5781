#!/usr/bin/env python3
"""CPU throughput of `naswot score --space darts` on a fixed sample of DARTS genotypes.

What: the first N_ARCHS rows of the shared NB301 table (../shared/data/nb301_darts/
naslib_zc_nb301_subset.csv, compact op~input columns) as a genotype list, scored at batch 128 on
one 32x32 input batch with the default network (NetworkCIFAR, C=32, 8 cells: NB301's setting):
  * naswot: ONE process, `naswot score --space darts --arch-file F --data npy:X --batch 128
    --backend cpu --format jsonl`, timed end to end (start-up, plans, weight init, all archs);
  * optionally (--torch-samples K, default 3) the PyTorch reference protocol on the first K of
    them (tests/reference/darts_network.py + naswot_reference.py: build, hooks, forward,
    backward(ones), forward, K, slogdet), timed per architecture after one untimed warm-up.
Both use the same thread count. Appends one JSON line to bench/results/darts_cpu.jsonl (date,
git hash, CPU, threads, figures, load average: the dev machine is shared, so a high load marks a
noisy row). Exits 1 when the shared table is missing or naswot fails (a row is still written).
"""
from __future__ import annotations

import argparse
import csv
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "reference"))
from bench_cpu import cpu_model, git_hash  # noqa: E402

N_ARCHS = 20
BATCH = 128
RESULTS = os.path.join(HERE, "results", "darts_cpu.jsonl")
NB301_CSV = os.path.join(ROOT, "..", "shared", "data", "nb301_darts", "naslib_zc_nb301_subset.csv")


def genotypes(count):
    with open(NB301_CSV, newline="") as f:
        rows = list(csv.DictReader(f))[:count]
    return [(row["normal"], row["reduce"]) for row in rows]


def run_naswot(naswot, archs, npy, threads, workdir):
    listing = os.path.join(workdir, "genotypes.txt")
    with open(listing, "w") as f:
        for normal, reduce in archs:
            f.write(f"{normal};{reduce}\n")
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OMP_WAIT_POLICY="PASSIVE")
    cmd = [naswot, "score", "--space", "darts", "--arch-file", listing, "--data", f"npy:{npy}", "--batch", str(BATCH),
           "--backend", "cpu", "--format", "jsonl"]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"naswot exit {proc.returncode}: {proc.stderr.strip()[-1000:]}")
    records = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    if len(records) != len(archs):
        raise RuntimeError(f"naswot gave {len(records)} records for {len(archs)} genotypes")
    return wall, records


def run_torch(archs, x, threads):
    import torch
    from darts_network import NetworkCIFAR, parse_compact
    from naswot_reference import naswot_kernels
    torch.set_num_threads(threads)
    seconds = []
    for k, (normal, reduce) in enumerate([archs[0]] + archs):  # the first run is a warm-up
        t0 = time.perf_counter()
        net = NetworkCIFAR(parse_compact(normal, reduce), 32, 8)
        naswot_kernels(net, x, ("reference",))["reference"].score
        if k > 0:
            seconds.append(time.perf_counter() - t0)
    return seconds, torch.__version__


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--naswot", default=os.path.join(ROOT, "build", "tools", "naswot"))
    ap.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    ap.add_argument("--archs", type=int, default=N_ARCHS, help="rows of the NB301 table to score")
    ap.add_argument("--torch-samples", type=int, default=3, help="PyTorch reference on the first K (0: skip)")
    ap.add_argument("--no-append", action="store_true")
    args = ap.parse_args()
    row = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"), "git": git_hash(),
           "cpu": cpu_model(), "threads": args.threads, "batch": BATCH, "space": "darts", "width": 32, "depth": 8,
           "sample": f"first {args.archs} rows of nb301_darts/naslib_zc_nb301_subset.csv",
           "load_avg_1m_start": os.getloadavg()[0]}
    rc = 0
    try:
        if not os.path.exists(NB301_CSV):
            raise RuntimeError(f"{NB301_CSV} is missing (the shared data)")
        from inputs import make_batch, write_npy
        archs = genotypes(args.archs)
        x, src = make_batch(BATCH, 32)
        row.update(input=src, n_archs=len(archs))
        with tempfile.TemporaryDirectory(prefix="naswot_bench_darts_") as workdir:
            npy = os.path.join(workdir, "batch.npy")
            write_npy(npy, x)
            wall, records = run_naswot(args.naswot, archs, npy, args.threads, workdir)
        row.update(naswot_wall_s=round(wall, 3), naswot_archs_per_s=round(len(archs) / wall, 3),
                   naswot_record_s_sum=round(sum(r["seconds"] for r in records), 3),
                   naswot_singular=sum(r["status"] != "ok" for r in records))
        print(f"naswot: {len(archs)} DARTS genotypes (C=32, 8 cells, batch {BATCH}) in {wall:.2f} s = "
              f"{len(archs) / wall:.3f} archs/s on {args.threads} threads")
        if args.torch_samples > 0:
            import torch
            seconds, version = run_torch(archs[:args.torch_samples], torch.from_numpy(x), args.threads)
            per = sum(seconds) / len(seconds)
            mine = sum(r["seconds"] for r in records[:len(seconds)]) / len(seconds)
            row.update(torch_version=version, torch_samples=len(seconds), torch_s_per_arch=round(per, 3),
                       torch_archs_per_s=round(1 / per, 4), ratio_same_archs_records=round(per / mine, 2))
            print(f"PyTorch reference protocol: {per:.2f} s/arch over {len(seconds)} = {1 / per:.3f} archs/s; "
                  f"same archs by naswot's per-record time: {per / mine:.1f}x")
        row.update(ok=True, error="")
    except Exception as exc:  # a failed run leaves a row too
        row.update(ok=False, error=str(exc))
        print(f"bench_darts_cpu: {exc}")
        rc = 1
    row["load_avg_1m_end"] = os.getloadavg()[0]
    if row["load_avg_1m_end"] > args.threads:
        print(f"note: load average {row['load_avg_1m_end']:.1f} > {args.threads} threads: noisy figures")
    if not args.no_append:
        os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
        with open(RESULTS, "a") as f:
            f.write(json.dumps(row) + "\n")
    return rc


if __name__ == "__main__":
    sys.exit(main())
