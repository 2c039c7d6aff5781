"""Helpers shared by the CPU benchmarks (bench_cpu.py: NB-201, bench_darts_cpu.py: DARTS).

  * add_common_args: --naswot, --threads, --no-append.
  * start_row: the first fields of a bench/results row (date, git hash, CPU, threads, batch,
    space, the caller's fields, load average at the start: the dev machine is shared, so a high
    load marks a noisy row).
  * time_naswot_score: ONE `naswot score --arch-file F --data npy:X ... --backend cpu --format
    jsonl` process over a list of architectures, timed end to end (start-up, plans, weight init,
    all archs).
  * time_each: per-item wall time after one untimed warm-up (the PyTorch side).
  * finish_row: runs the measurement, records success or the error in the row (a failed run
    leaves a row too), notes a noisy load and appends the row as one JSON line.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
from typing import Callable

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "reference"))  # inputs, naswot_reference, networks


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


def add_common_args(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--naswot", default=os.path.join(ROOT, "build", "tools", "naswot"))
    ap.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    ap.add_argument("--no-append", action="store_true", help="do not write bench/results")


def start_row(threads: int, batch: int, space: str, **fields) -> dict:
    row = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
           "git": git_hash(), "cpu": cpu_model(), "threads": threads, "batch": batch, "space": space}
    row.update(fields)
    row["load_avg_1m_start"] = os.getloadavg()[0]
    return row


def time_naswot_score(naswot: str, x, archs: list[str], score_args: list[str], threads: int,
                      extra_env: dict | None = None) -> tuple[float, list[dict]]:
    """Scores `archs` (arch-file lines) on the input batch `x` (float32 NCHW) in one naswot process
    with OMP_NUM_THREADS=threads (plus extra_env). Returns (wall seconds, records); raises
    RuntimeError when naswot fails or gives other than one record per architecture."""
    from inputs import write_npy
    with tempfile.TemporaryDirectory(prefix="naswot_bench_") as workdir:
        npy = os.path.join(workdir, "batch.npy")
        write_npy(npy, x)
        arch_file = os.path.join(workdir, "archs.txt")
        with open(arch_file, "w") as f:
            f.write("".join(a + "\n" for a in archs))
        env = dict(os.environ, OMP_NUM_THREADS=str(threads), **(extra_env or {}))
        cmd = [naswot, "score", "--arch-file", arch_file, "--data", f"npy:{npy}", *score_args,
               "--backend", "cpu", "--format", "jsonl"]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        wall = time.perf_counter() - t0
    records = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or len(records) != len(archs):
        raise RuntimeError(f"naswot exit {proc.returncode}, {len(records)}/{len(archs)} records: "
                           f"{proc.stderr.strip()[-1500:]}")
    return wall, records


def time_each(fn: Callable, items: list) -> list[float]:
    """fn(items[0]) once untimed (warm-up: oneDNN primitive caches, allocator; one-time start-up is
    then charged to naswot only, which is conservative), then the wall seconds of fn(item) for each."""
    fn(items[0])
    seconds = []
    for item in items:
        t0 = time.perf_counter()
        fn(item)
        seconds.append(time.perf_counter() - t0)
    return seconds


def finish_row(prog: str, row: dict, measure: Callable[[], None], threads: int, results: str,
               append: bool) -> int:
    """Runs measure() (which fills `row`), then records ok/error and the closing load average and
    appends the row to `results` unless append is False. Returns the exit code: 0, or 1 when
    measure() raised."""
    try:
        measure()
        row.update(ok=True, error="")
        rc = 0
    except Exception as exc:  # record the failure too (a row per attempt)
        row.update(ok=False, error=f"{type(exc).__name__}: {exc}"[:2000])
        print(f"{prog}: failed: {row['error']}", file=sys.stderr)
        rc = 1
    row["load_avg_1m_end"] = os.getloadavg()[0]
    if row["load_avg_1m_start"] > threads or row["load_avg_1m_end"] > threads:
        print(f"note: load average {row['load_avg_1m_start']:.1f}/{row['load_avg_1m_end']:.1f} "
              f"exceeds {threads} threads: figures are noisy")
    if append:
        os.makedirs(os.path.dirname(results), exist_ok=True)
        with open(results, "a") as f:
            f.write(json.dumps(row) + "\n")
        print(f"appended to {os.path.relpath(results, ROOT)}")
    return rc
