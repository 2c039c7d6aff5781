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
import os
import sys

from bench_util import HERE, ROOT, add_common_args, finish_row, start_row, time_each, time_naswot_score

N_ARCHS = 20
BATCH = 128
RESULTS = os.path.join(HERE, "results", "darts_cpu.jsonl")
NB301_CSV = os.path.join(ROOT, "..", "shared", "data", "nb301_darts", "naslib_zc_nb301_subset.csv")


def genotypes(count):
    with open(NB301_CSV, newline="") as f:
        rows = list(csv.DictReader(f))[:count]
    return [(row["normal"], row["reduce"]) for row in rows]


def run_torch(archs, x, threads):
    import torch
    from darts_network import NetworkCIFAR, parse_compact
    from naswot_reference import naswot_kernels
    torch.set_num_threads(threads)

    def one(arch):
        normal, reduce = arch
        net = NetworkCIFAR(parse_compact(normal, reduce), 32, 8)
        return naswot_kernels(net, x, ("reference",))["reference"].score

    return time_each(one, archs), torch.__version__


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_common_args(ap)
    ap.add_argument("--archs", type=int, default=N_ARCHS, help="rows of the NB301 table to score")
    ap.add_argument("--torch-samples", type=int, default=3, help="PyTorch reference on the first K (0: skip)")
    args = ap.parse_args()
    row = start_row(args.threads, BATCH, "darts", width=32, depth=8,
                    sample=f"first {args.archs} rows of nb301_darts/naslib_zc_nb301_subset.csv")

    def measure() -> None:
        if not os.path.exists(NB301_CSV):
            raise RuntimeError(f"{NB301_CSV} is missing (the shared data)")
        from inputs import make_batch
        archs = genotypes(args.archs)
        x, src = make_batch(BATCH, 32)
        row.update(input=src, n_archs=len(archs))
        wall, records = time_naswot_score(args.naswot, x, [f"{normal};{reduce}" for normal, reduce in archs],
                                          ["--space", "darts", "--batch", str(BATCH)], args.threads,
                                          {"OMP_WAIT_POLICY": "PASSIVE"})
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

    return finish_row("bench_darts_cpu", row, measure, args.threads, RESULTS, not args.no_append)


if __name__ == "__main__":
    sys.exit(main())
