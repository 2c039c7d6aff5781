"""Driver pieces shared by the PyTorch cross-checks (crosscheck.py: NB-201 TinyNetwork,
crosscheck_darts.py: DARTS/NDS networks).

  * require_torch: import guard. Without torch/numpy, re-run once under Debian's python3 (where
    python3-torch lives), else exit 77, which CTest reports as skipped (SKIP_RETURN_CODE 77).
  * parse_args / naswot_usable / set_threads: the common command line and its checks.
  * work_dir: the directory for weights and inputs, removed at the end unless --keep names it.
  * export_network: build network k under its seed, randomise BatchNorm on odd k, write its
    state_dict as safetensors (the initial state, before any scoring).
  * run_naswot: one `naswot score ... --format jsonl --backend cpu` process, one record expected.
  * judge: the comparison rule (n_units exact; score within SCORE_RTOL relative with a floor of 1
    on the scale, or both -inf with status singular).
  * Tally: pass/fail counts, the result rows, the closing line and the exit code (0 when all
    passed, 1 otherwise).

This module imports no torch at load time: call require_torch() before importing anything that does.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Callable, Iterator, NamedTuple

DEBIAN_PYTHON = "/usr/bin/python3"  # Debian's python3-torch lives there (a pyenv python may not)
SKIPPED = 77                        # CTest SKIP_RETURN_CODE

# Scores differ only through codes whose sign flips under fp32 round-off (oneDNN vs PyTorch
# convolution order). Worst seen: 4.1e-7 (NB-201 all-skip, 16x16, batch 128), where one stem-BN value
# lies 3e-8 x RMS from zero and one flipped code moves the score by 1e-4..6e-4 (~3e-7 relative).
SCORE_RTOL = 1e-6
NASWOT_TIMEOUT_S = 600


def require_torch(prog: str) -> None:
    """Returns when torch and numpy import; otherwise re-executes under DEBIAN_PYTHON once, or exits 77."""
    try:
        import numpy  # noqa: F401
        import torch  # noqa: F401
    except ImportError as exc:
        if (os.path.exists(DEBIAN_PYTHON) and not os.environ.get("NASWOT_CROSSCHECK_REEXEC")
                and os.path.realpath(sys.executable) != os.path.realpath(DEBIAN_PYTHON)):
            os.environ["NASWOT_CROSSCHECK_REEXEC"] = "1"
            os.execv(DEBIAN_PYTHON, [DEBIAN_PYTHON] + sys.argv)
        print(f"{prog}: skipped, cannot import torch/numpy with {sys.executable} ({exc})")
        sys.exit(SKIPPED)


def parse_args(doc: str, quick_help: str) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    ap.add_argument("--naswot", required=True, help="path of the naswot binary")
    ap.add_argument("--quick", action="store_true", help=quick_help)
    ap.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    ap.add_argument("--keep", metavar="DIR", help="write weights/inputs here and keep them")
    return ap.parse_args()


def naswot_usable(prog: str, binary: str) -> bool:
    """False (after printing the failure and a 0 passed, 1 failed summary) when `binary` cannot run."""
    if os.access(binary, os.X_OK):
        return True
    print(f"{prog}: naswot binary {binary!r} is not executable")
    print(f"{prog}: 0 passed, 1 failed")
    return False


def set_threads(threads: int) -> None:
    """The same thread count for PyTorch and the naswot children; the children wait passively
    (OpenMP's default spinning makes oversubscribed runs many times slower)."""
    import torch
    torch.set_num_threads(threads)
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


@contextlib.contextmanager
def work_dir(keep: str | None, prefix: str) -> Iterator[str]:
    path = keep or tempfile.mkdtemp(prefix=prefix)
    os.makedirs(path, exist_ok=True)
    try:
        yield path
    finally:
        if not keep:
            shutil.rmtree(path, ignore_errors=True)


def perturb_batchnorm(net, seed: int) -> None:
    """Random gamma in [0.5, 1.5) and beta ~ 0.2 N(0, 1): naswot must then really read every BN
    tensor from the file (the default gamma=1, beta=0 would hide a reader that ignores them)."""
    import torch
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.copy_(0.5 + torch.rand(m.weight.shape, generator=g))
                m.bias.copy_(0.2 * torch.randn(m.bias.shape, generator=g))


def export_network(make_net: Callable, k: int, weight_seed_base: int, bn_perturb_seed: int, path: str):
    """Network k: make_net() under torch.manual_seed(weight_seed_base + k); odd k get randomised
    BatchNorm (seed bn_perturb_seed + k), even k keep PyTorch's default init as the reference does.
    Writes its state_dict to `path` before any scoring and returns the network."""
    import torch
    from safetensors_io import state_dict_to_numpy, write_safetensors
    torch.manual_seed(weight_seed_base + k)
    net = make_net()
    if k % 2 == 1:
        perturb_batchnorm(net, bn_perturb_seed + k)
    write_safetensors(path, state_dict_to_numpy(net))
    return net


class NaswotRun(NamedTuple):
    record: dict | None  # the one jsonl record, None on failure
    error: str           # why it failed ("" on success)
    seconds: float       # wall time of the process


def run_naswot(binary: str, score_args: list[str]) -> NaswotRun:
    """`naswot score <score_args> --format jsonl --backend cpu`; exactly one record expected."""
    cmd = [binary, "score", *score_args, "--format", "jsonl", "--backend", "cpu"]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=NASWOT_TIMEOUT_S)
    seconds = time.perf_counter() - t0
    records = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or len(records) != 1:
        return NaswotRun(None, (f"exit {proc.returncode}, {len(records)} records; cmd: {' '.join(cmd)}\n"
                                f"stderr: {proc.stderr.strip()[-2000:]}"), seconds)
    return NaswotRun(records[0], "", seconds)


def as_float(score) -> float:
    return -math.inf if score == "-inf" else float(score)


def relative_diff(got: float, ref: float) -> float:
    return abs(got - ref) / max(1.0, abs(ref))


def compare(ref_score: float, ref_units: int, rec: dict) -> list[str]:
    """Reasons for failure of one naswot record against the PyTorch score and N_A (empty = pass)."""
    why = []
    if int(rec["n_units"]) != ref_units:
        why.append(f"n_units {rec['n_units']} != pytorch {ref_units}")
    got = as_float(rec["score"])
    if math.isinf(ref_score):
        if not (math.isinf(got) and got < 0 and rec.get("status") == "singular"):
            why.append(f"pytorch -inf (singular) but naswot {rec['score']} status {rec.get('status')}")
    elif not math.isfinite(got) or rec.get("status") != "ok":
        why.append(f"naswot {rec['score']} status {rec.get('status')}, pytorch {ref_score!r}")
    elif relative_diff(got, ref_score) > SCORE_RTOL:
        why.append(f"score {got!r} vs pytorch {ref_score!r}: rel diff "
                   f"{relative_diff(got, ref_score):.3e} > {SCORE_RTOL:g}")
    return why


class Verdict(NamedTuple):
    why: list[str]      # reasons for failure (empty = pass)
    got: str            # naswot's score as printed ("-" when it failed)
    rel: float | None   # relative score difference when both are finite


def judge(run: NaswotRun, ref_score: float, ref_units: int) -> Verdict:
    if run.record is None:
        return Verdict([f"naswot failed: {run.error}"], "-", None)
    got = run.record["score"]
    gf = as_float(got)
    rel = relative_diff(gf, ref_score) if math.isfinite(gf) and math.isfinite(ref_score) else None
    return Verdict(compare(ref_score, ref_units, run.record), str(got), rel)


def format_rel(rel: float | None) -> str:
    return "-" if rel is None else f"{rel:.1e}"


class Tally:
    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0

    def add(self, ok: bool) -> None:
        self.passed += ok
        self.failed += not ok

    def record(self, why: list[str], columns: str, label: str, note: str = "") -> None:
        """One comparison: counts it, prints its table row (columns, PASS/FAIL, note) and then
        each reason for failure under it, prefixed with `label` (the architecture)."""
        ok = not why
        self.add(ok)
        print(f"{columns}  {'PASS' if ok else 'FAIL'}" + (f"    {note}" if note else ""))
        for w in why:
            print(f"     {label}: {w}")

    def finish(self, prog: str) -> int:
        """Prints the closing count line; the exit code: 0 when all passed, 1 otherwise."""
        print(f"{prog}: {self.passed} passed, {self.failed} failed")
        return 0 if self.failed == 0 else 1
