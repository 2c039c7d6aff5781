#!/usr/bin/env python3
"""Helpers of tools/gpu-check (the one GPU check run on a lent H200): architecture samples, the
CPU-vs-CUDA agreement, GoogleTest and throughput statistics, and the final summary table.

Data: `naswot score --format jsonl` records ({index, arch, score, status, n_units, seconds}; score
is a number or "-inf"), GoogleTest's --gtest_output=json file, and the stage table the bash script
writes (stages.tsv: name, status, seconds, note; env.tsv: key, value). Each subcommand writes its statistics as one JSON
object into the work folder; `summary` merges them into summary.json and prints the table last.
Why Python: the device's python3 is always there (it holds PyTorch); no numpy is needed here.
Standard library only, so it also runs with a bare python3 on a machine without torch.
"""
from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import random
import statistics
import sys

NB201_OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
NB201_SIZE = 15625
AGREE_SAMPLE_SEED = 16      # the 11 seeded indices of the agreement sample
AGREE_RANDOM = 11
STRICT_RTOL = 1e-6          # "within 1e-6": counted and reported
AGREE_RTOL = 1e-6           # the issue's bar: CPU vs CUDA and PyTorch vs naswot fail above this
THROUGHPUT_SEED = 2000
DARTS_SEED = 301
# The NB301 / DARTS search-space ops (the compact form of the shared NB301 table).
DARTS_OPS = ("max_pool_3x3", "avg_pool_3x3", "skip_connect", "sep_conv_3x3", "sep_conv_5x5",
             "dil_conv_3x3", "dil_conv_5x5")


def uniform_arch(op: str) -> str:
    return f"|{op}~0|+|{op}~0|{op}~1|+|{op}~0|{op}~1|{op}~2|"


def as_float(score) -> float:
    if isinstance(score, str):
        return {"-inf": -math.inf, "inf": math.inf}.get(score, math.nan)
    return float(score)


def rel_diff(a: float, b: float) -> float:
    """|a - b| / max(1, |a|); 0 when both are -inf (singular), inf when only one is finite."""
    if math.isinf(a) or math.isinf(b) or math.isnan(a) or math.isnan(b):
        return 0.0 if (a == b and not math.isnan(a)) else math.inf
    return abs(a - b) / max(1.0, abs(a))


def load_jsonl(path: str) -> list[dict]:
    out = []
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError:
                    pass  # a record cut off by a timeout
    return out


def _strict(v):
    """NaN -> null, +-inf -> "inf"/"-inf": summary.json stays strict JSON."""
    if isinstance(v, float) and not math.isfinite(v):
        return None if math.isnan(v) else ("inf" if v > 0 else "-inf")
    if isinstance(v, dict):
        return {k: _strict(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_strict(x) for x in v]
    return v


def write_json(path: str, obj) -> None:
    with open(path, "w") as f:
        json.dump(_strict(obj), f, indent=1, allow_nan=False)
        f.write("\n")


def cmd_samples(a) -> int:
    """The agreement sample (5 uniform archs + 11 seeded indices) and the throughput sample."""
    with open(a.agreement, "w") as f:
        f.write("# gpu-check agreement sample: the five uniform cells, then seeded indices\n")
        for op in NB201_OPS:
            f.write(uniform_arch(op) + "\n")
        for i in random.Random(AGREE_SAMPLE_SEED).sample(range(NB201_SIZE), AGREE_RANDOM):
            f.write(f"{i}\n")
    with open(a.throughput, "w") as f:
        f.write(f"# gpu-check throughput sample: {a.count} NB-201 indices, random.Random({THROUGHPUT_SEED})\n")
        for i in random.Random(THROUGHPUT_SEED).sample(range(NB201_SIZE), a.count):
            f.write(f"{i}\n")
    if a.darts:
        with open(a.darts, "w") as f:
            f.write(f"# gpu-check DARTS sample: {a.darts_count} random NB301-space genotypes, "
                    f"random.Random({DARTS_SEED})\n")
            rng = random.Random(DARTS_SEED)
            for _ in range(a.darts_count):
                f.write(darts_genotype(rng) + "\n")
    return 0


def darts_genotype(rng: random.Random) -> str:
    """A DARTS genotype as the NB301 space draws them: 4 nodes, each two edges from two distinct
    earlier states, ops from DARTS_OPS, concat 2..5."""
    def cell() -> str:
        edges = []
        for node in range(4):
            for j in sorted(rng.sample(range(node + 2), 2)):
                edges.append(f"('{rng.choice(DARTS_OPS)}', {j})")
        return "[" + ", ".join(edges) + "]"
    return (f"Genotype(normal={cell()}, normal_concat=[2, 3, 4, 5], "
            f"reduce={cell()}, reduce_concat=[2, 3, 4, 5])")


def load_npy_i8(path: str) -> tuple[list[int], list[int]]:
    """(shape, flat values) of a C-order '<i8' .npy file (`naswot score --export-k`), without numpy."""
    import ast
    import struct
    with open(path, "rb") as f:
        data = f.read()
    if data[:6] != b"\x93NUMPY":
        raise ValueError(f"{path}: not a .npy file")
    major = data[6]
    hlen, start = (struct.unpack_from("<H", data, 8)[0], 10) if major == 1 else (struct.unpack_from("<I", data, 8)[0], 12)
    header = ast.literal_eval(data[start:start + hlen].decode("latin1"))
    if header.get("descr") != "<i8" or header.get("fortran_order"):
        raise ValueError(f"{path}: expected a C-order '<i8' array, got {header}")
    shape = list(header["shape"])
    count = 1
    for d in shape:
        count *= d
    body = data[start + hlen:]
    if len(body) != 8 * count:
        raise ValueError(f"{path}: {len(body) // 8} of {count} values (a run cut short?)")
    return shape, list(struct.unpack_from(f"<{count}q", body))


def flip_rate_from_k(k_cpu: str, k_cuda: str, n_units: list[int]) -> dict:
    """The flipped-code-bit rate between two backends, estimated from their K matrices: a code bit
    of image i at a unit of tap weight w that flips changes K[i][j] and K[j][i] by w for every
    j != i, so sum_{i != j} |dK| / (2 (N - 1)) is the weighted count of flipped bits (a lower bound
    if two flips cancel in one entry, negligible at small rates), out of N * N_A weighted bits."""
    sc, vc = load_npy_i8(k_cpu)
    sg, vg = load_npy_i8(k_cuda)
    if sc != sg or len(sc) != 3 or sc[1] != sc[2]:
        raise ValueError(f"K shapes differ or are not [archs, N, N]: {sc} vs {sg}")
    archs, n = sc[0], sc[1]
    if len(n_units) != archs:
        raise ValueError(f"{archs} K matrices for {len(n_units)} records")
    flips = total = 0.0
    per_arch = []
    for a in range(archs):
        base = a * n * n
        d = sum(abs(vc[base + q] - vg[base + q]) for q in range(n * n) if q // n != q % n)
        f = d / (2 * (n - 1)) if n > 1 else 0.0
        flips += f
        total += n * n_units[a]
        per_arch.append(f)
    return {"flipped_bits_est": flips, "code_bits": total, "rate": flips / total if total else math.nan,
            "archs_with_flips": sum(f > 0 for f in per_arch), "batch": n}


def cmd_agree(a) -> int:
    cpu, cuda = load_jsonl(a.cpu), load_jsonl(a.cuda)
    n = min(len(cpu), len(cuda))
    rows, why, unpaired = [], [], []
    for k in range(max(len(cpu), len(cuda))):
        c, g = (cpu[k] if k < len(cpu) else {}), (cuda[k] if k < len(cuda) else {})
        row = {"index": (c or g).get("index"), "arch": (c or g).get("arch")}
        for side, rec in (("cpu", c), ("cuda", g)):
            for key in ("score", "n_units", "status", "seconds"):
                row[f"{side}_{key}"] = rec.get(key)
        if c and g:
            row["rel_diff"] = rel_diff(as_float(c["score"]), as_float(g["score"]))
            if c["arch"] != g["arch"]:
                why.append(f"record order differs: {c['arch']} vs {g['arch']}")
            rows.append(row)
        else:
            unpaired.append(row)  # one side failed or timed out: kept in the file, not compared
    with open(a.out, "w") as f:
        for r in rows + unpaired:
            f.write(json.dumps(_strict(r)) + "\n")
    units_eq = sum(r["cpu_n_units"] == r["cuda_n_units"] for r in rows)
    sing_eq = sum((r["cpu_status"] == "singular") == (r["cuda_status"] == "singular") for r in rows)
    within = sum(r["rel_diff"] <= STRICT_RTOL for r in rows)
    max_rel = max((r["rel_diff"] for r in rows), default=math.nan)
    if len(cpu) != a.expected or len(cuda) != a.expected:
        why.append(f"records: cpu {len(cpu)}, cuda {len(cuda)}, expected {a.expected}")
    if units_eq != n:
        why.append(f"n_units differ in {n - units_eq} archs")
    if sing_eq != n:
        why.append(f"singular status differs in {n - sing_eq} archs")
    if n and not max_rel <= AGREE_RTOL:
        why.append(f"max rel diff {max_rel:.3g} > {AGREE_RTOL:g}")
    flip = None
    if a.k_cpu and a.k_cuda:
        try:
            if units_eq == n == len(cpu) == len(cuda):
                flip = flip_rate_from_k(a.k_cpu, a.k_cuda, [int(r["n_units"]) for r in cpu])
        except (OSError, ValueError) as e:
            flip = {"error": str(e)}
    stats = {"compared": n, "expected": a.expected, "n_units_equal": units_eq, "singular_agree": sing_eq,
             "within_1e-6": within, "max_rel_diff": max_rel, "tolerance": AGREE_RTOL,
             "cpu_seconds": sum(r["cpu_seconds"] for r in rows), "cuda_seconds": sum(r["cuda_seconds"] for r in rows),
             "flip_from_k": flip, "ok": not why, "why": "; ".join(why)}
    write_json(a.stats, stats)
    for r in sorted(rows, key=lambda r: -r["rel_diff"])[:5]:
        print(f"  rel {r['rel_diff']:.2e}  cpu {r['cpu_score']}  cuda {r['cuda_score']}  "
              f"units {r['cpu_n_units']}/{r['cuda_n_units']}  {r['arch']}")
    print(f"  compared {n}/{a.expected}: n_units equal {units_eq}, singular agree {sing_eq}, "
          f"within 1e-6 {within}, max rel diff {max_rel:.3g}" + (f"  FAIL: {stats['why']}" if why else ""))
    if flip and "rate" in flip:
        print(f"  flipped code bits from K (estimate): {flip['flipped_bits_est']:.1f} of {flip['code_bits']:.4g} "
              f"(rate {flip['rate']:.3e}) at batch {flip['batch']}, {flip['archs_with_flips']} archs with any")
    elif flip:
        print(f"  flipped code bits from K: not measured ({flip['error']})")
    return 0 if not why else 1


def cmd_gtest(a) -> int:
    """Counts from --gtest_output=json; falls back to the text log when the JSON is missing."""
    stats = {"passed": 0, "failed": 0, "skipped": 0, "failed_names": [], "source": "json"}
    if os.path.exists(a.json):
        with open(a.json) as f:
            doc = json.load(f)
        for suite in doc.get("testsuites", []):
            for t in suite.get("testsuite", []):
                name = f"{suite['name']}.{t['name']}"
                if t.get("failures"):
                    stats["failed"] += 1
                    stats["failed_names"].append(name)
                elif t.get("result") == "SKIPPED":
                    stats["skipped"] += 1
                elif t.get("result", "COMPLETED") == "COMPLETED" and t.get("status", "RUN") == "RUN":
                    stats["passed"] += 1
    else:
        stats["source"] = "log (no JSON: crashed or never ran)"
        if os.path.exists(a.log):
            for line in open(a.log, errors="replace"):
                if line.startswith("[       OK ]"):
                    stats["passed"] += 1
                elif line.startswith("[  FAILED  ]") and "(" in line:
                    stats["failed"] += 1
                    stats["failed_names"].append(line.split()[3] if len(line.split()) > 3 else line.strip())
                elif line.startswith("[  SKIPPED ]") and "(" in line:
                    stats["skipped"] += 1
    stats["failed_names"] = sorted(set(stats["failed_names"]))
    write_json(a.stats, stats)
    print(f"  passed {stats['passed']}, failed {stats['failed']}, skipped {stats['skipped']} ({stats['source']})")
    for name in stats["failed_names"][:10]:
        print(f"  FAILED {name}")
    if len(stats["failed_names"]) > 10:
        print(f"  ... and {len(stats['failed_names']) - 10} more failed (cuda_tests.log)")
    return 0


def cmd_throughput(a) -> int:
    recs = load_jsonl(a.jsonl)
    secs = [float(r["seconds"]) for r in recs]
    n = len(recs)
    stats = {"records": n, "expected": a.expected, "wall_s": a.wall, "rc": a.rc,
             "sum_record_s": sum(secs), "median_record_s": statistics.median(secs) if secs else math.nan,
             "archs_per_s_wall": n / a.wall if n and a.wall > 0 else math.nan,
             "archs_per_s_records": n / sum(secs) if secs and sum(secs) > 0 else math.nan,
             "bad_status": sum(r.get("status") not in ("ok", "singular") for r in recs)}
    rate = stats["archs_per_s_wall"]
    stats["full_space_s"] = NB201_SIZE / rate if rate == rate and rate > 0 else math.nan
    stats["ok"] = a.rc == 0 and n == a.expected and stats["bad_status"] == 0
    write_json(a.stats, stats)
    print(f"  {n}/{a.expected} records in {a.wall:.1f} s wall (rc {a.rc}): {rate:.1f} archs/s wall, "
          f"{stats['archs_per_s_records']:.1f} archs/s by record seconds (median {stats['median_record_s'] * 1e3:.2f} ms); "
          f"full NB-201 space ~{stats['full_space_s']:.0f} s")
    return 0 if stats["ok"] else 1


def kendall_tau_b(x: list[float], y: list[float]) -> float:
    """Kendall tau-b by its O(n^2) definition (n = 2,000: 2M pairs, a few seconds): concordant
    minus discordant over sqrt((n0 - ties_x)(n0 - ties_y)), as scipy.stats.kendalltau."""
    conc = disc = tx = ty = 0
    n = len(x)
    for i in range(n):
        xi, yi = x[i], y[i]
        for j in range(i + 1, n):
            dx, dy = xi - x[j], yi - y[j]
            if dx == 0 and dy == 0:
                tx += 1
                ty += 1
            elif dx == 0:
                tx += 1
            elif dy == 0:
                ty += 1
            elif (dx > 0) == (dy > 0):
                conc += 1
            else:
                disc += 1
    n0 = n * (n - 1) // 2
    denom = math.sqrt((n0 - tx) * (n0 - ty))
    return (conc - disc) / denom if denom > 0 else math.nan


def record_keys(recs: list[dict]) -> list[tuple]:
    """One key per record, to pair the records of two runs over the same sample: the space index
    when it is an integer (NB-201), else the arch string with its occurrence number among the
    records keyed that way (DARTS genotypes from an arch file have "index": null, and a sample may
    hold one genotype twice: (arch, 0), (arch, 1), ...)."""
    keys, seen = [], {}
    for r in recs:
        i = r.get("index")
        if isinstance(i, int) and not isinstance(i, bool):
            keys.append(("index", i))
        else:
            arch = str(r.get("arch"))
            k = seen.get(arch, 0)
            seen[arch] = k + 1
            keys.append(("arch", arch, k))
    return keys


def keyed_scores(recs: list[dict]) -> dict:
    return {key: as_float(r["score"]) for key, r in zip(record_keys(recs), recs)}


def compare_runs(ref_path: str, got_path: str, wall: float) -> dict:
    """A run's records against a reference run's over the same sample: rate, and over the
    architectures both scored finitely (paired by record_keys) the relative differences and Kendall tau-b."""
    ref = keyed_scores(load_jsonl(ref_path))
    recs = load_jsonl(got_path)
    got = keyed_scores(recs)
    both = [i for i in got if i in ref and math.isfinite(ref[i]) and math.isfinite(got[i])]
    n = len(recs)
    rel = [abs(got[i] - ref[i]) / max(1.0, abs(ref[i])) for i in both]
    return {"records": n, "archs_per_s_wall": n / wall if n and wall > 0 else math.nan, "compared": len(both),
            "rel": rel, "kendall_tau": kendall_tau_b([ref[i] for i in both], [got[i] for i in both])
            if len(both) > 1 else math.nan,
            "singular_agree": sum((not math.isfinite(got[i])) == (not math.isfinite(ref[i])) for i in got if i in ref),
            "bad_status": sum(r.get("status") not in ("ok", "singular") for r in recs)}


def cmd_tf32(a) -> int:
    """Reduced-precision stage: rate of the tf32 run and Kendall tau of its scores against the fp32
    run over the same sample (finite scores of both only). Issue 3's stretch: > 8,000 archs/s and
    tau >= 0.99."""
    c = compare_runs(a.fp32, a.tf32, a.wall)
    n, rate, tau, rel = c["records"], c["archs_per_s_wall"], c["kendall_tau"], c["rel"]
    stats = {"records": n, "expected": a.expected, "rc": a.rc, "wall_s": a.wall, "archs_per_s_wall": rate,
             "compared": c["compared"], "kendall_tau_vs_fp32": tau,
             "max_rel_diff_vs_fp32": max(rel) if rel else math.nan,
             "median_rel_diff_vs_fp32": statistics.median(rel) if rel else math.nan,
             "goal_archs_per_s": 8000, "goal_tau": 0.99}
    stats["ok"] = a.rc == 0 and n == a.expected and tau == tau and tau >= 0.99
    write_json(a.stats, stats)
    print(f"  tf32: {n}/{a.expected} records in {a.wall:.1f} s ({rate:.1f} archs/s wall); Kendall tau vs fp32 "
          f"{tau:.4f} over {c['compared']} archs (goal >= 0.99); rel diff median "
          f"{stats['median_rel_diff_vs_fp32']:.3g}, max {stats['max_rel_diff_vs_fp32']:.3g}")
    return 0 if stats["ok"] else 1


def cmd_stacked(a) -> int:
    """Stacked execution (--stack G,W): rate, and agreement with the lane run over the same
    sample: fp32 must stay within 1e-6 relative except where a code bit flips (>= 99% of scores, none
    off by more than 1e-3), and so must 3xtf32 (its claim: errors of fp32's order; never the fp32
    headline); tf32 is judged like stage g (Kendall tau >= 0.99)."""
    c = compare_runs(a.lanes, a.jsonl, a.wall)
    n, rate, tau, rel, singular_agree = c["records"], c["archs_per_s_wall"], c["kendall_tau"], c["rel"], c["singular_agree"]
    within = sum(r <= 1e-6 for r in rel)
    stats = {"config": a.config, "precision": a.precision, "records": n, "expected": a.expected, "rc": a.rc,
             "wall_s": a.wall, "archs_per_s_wall": rate, "compared": c["compared"], "within_1e-6": within,
             "max_rel_diff_vs_lanes": max(rel) if rel else math.nan, "kendall_tau_vs_lanes": tau,
             "singular_agree": singular_agree, "bad_status": c["bad_status"]}
    stats["full_space_s"] = NB201_SIZE / rate if rate == rate and rate > 0 else math.nan
    complete = a.rc == 0 and n == a.expected and stats["bad_status"] == 0 and singular_agree == n
    if a.precision == "tf32":
        stats["ok"] = complete and tau == tau and tau >= 0.99
    else:
        stats["ok"] = complete and within >= 0.99 * c["compared"] and (not rel or max(rel) < 1e-3)
    write_json(a.stats, stats)
    print(f"  stacked {a.config} {a.precision}: {n}/{a.expected} records in {a.wall:.1f} s ({rate:.1f} archs/s wall, "
          f"full space ~{stats['full_space_s']:.1f} s); vs lanes: {within}/{c['compared']} within 1e-6, max rel diff "
          f"{stats['max_rel_diff_vs_lanes']:.3g}, tau {tau:.4f}, singular agree {singular_agree}/{n}")
    return 0 if stats["ok"] else 1


def _load(path: str) -> dict:
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def _fmt(v, spec: str = ".3g") -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return format(v, spec) if isinstance(v, (int, float)) else str(v)


def cmd_summary(a) -> int:
    w = a.work
    env = {}
    if os.path.exists(os.path.join(w, "env.tsv")):
        for line in open(os.path.join(w, "env.tsv")):
            key, _, value = line.rstrip("\n").partition("\t")
            env[key] = value
    stages = []
    if os.path.exists(os.path.join(w, "stages.tsv")):
        for line in open(os.path.join(w, "stages.tsv")):
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 3:
                stages.append({"stage": parts[0], "status": parts[1], "seconds": float(parts[2]),
                               "note": parts[3] if len(parts) > 3 else ""})
    agree, ref = _load(os.path.join(w, "agreement.json")), _load(os.path.join(w, "reference.json"))
    thr, tests = _load(os.path.join(w, "throughput.json")), _load(os.path.join(w, "cuda_tests.json"))
    tf32 = _load(os.path.join(w, "tf32.json"))
    darts = _load(os.path.join(w, "darts.json"))
    stacked = [_load(os.path.join(w, f)) for f in sorted(os.listdir(w)) if f.startswith("stacked_") and f.endswith(".json")]
    darts_stacked = _load(os.path.join(w, "darts_stacked.json"))
    naswot_rate = thr.get("archs_per_s_wall")
    rate_source = "throughput (wall, lanes)"
    for st in stacked:  # the fastest fp32 configuration that agreed with the lanes is the headline
        r = st.get("archs_per_s_wall")
        if st.get("ok") and st.get("precision") == "fp32" and r and (not naswot_rate or r > naswot_rate):
            naswot_rate, rate_source = r, f"stacked {st.get('config')} (wall)"
    if not naswot_rate:
        naswot_rate, rate_source = ref.get("naswot_archs_per_s_records"), "reference stage (record seconds)"
    if not naswot_rate:
        naswot_rate, rate_source = None, "not measured"
    py_rate = ref.get("pytorch_archs_per_s")
    ratio = naswot_rate / py_rate if naswot_rate and py_rate else None
    summary = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        **env, "stages": stages,
        "cuda_tests": tests,
        "cpu_cuda": {k: agree.get(k) for k in ("compared", "n_units_equal", "singular_agree", "within_1e-6",
                                               "max_rel_diff", "tolerance", "why")},
        "flipped_bit_rate": a.flip or "not measured",
        "flipped_bit_rate_from_k": (agree.get("flip_from_k") or {}).get("rate"),
        "pytorch": {k: ref.get(k) for k in ("archs", "max_rel_diff", "max_rel_diff_cpu", "n_units_equal",
                                            "pytorch_archs_per_s", "pytorch_protocol_s_median", "why")},
        "throughput": thr,
        "naswot_archs_per_s": naswot_rate, "naswot_rate_source": rate_source,
        "pytorch_archs_per_s": py_rate, "speedup_vs_pytorch": ratio, "speedup_goal": 300,
        "full_space_s": NB201_SIZE / naswot_rate if naswot_rate else thr.get("full_space_s"),
        "stacked": [{k: st.get(k) for k in ("config", "precision", "archs_per_s_wall", "within_1e-6", "compared",
                                            "max_rel_diff_vs_lanes", "kendall_tau_vs_lanes", "ok")} for st in stacked],
        "tf32": {k: tf32.get(k) for k in ("archs_per_s_wall", "kendall_tau_vs_fp32", "compared",
                                          "max_rel_diff_vs_fp32", "median_rel_diff_vs_fp32")},
        "darts": {k: darts.get(k) for k in ("records", "archs_per_s_wall", "median_record_s")},
        "darts_stacked": {k: darts_stacked.get(k) for k in ("config", "archs_per_s_wall", "within_1e-6", "compared",
                                                            "max_rel_diff_vs_lanes", "ok")},
    }
    write_json(a.out, summary)
    bad = [s for s in stages if s["status"] != "PASS"]
    print("=" * 78)
    print(f"GPU CHECK SUMMARY  {summary['date']}  git {env.get('git', '-')}")
    print(f"GPU {env.get('gpu', '-')} | driver {env.get('driver', '-')} | CUDA {env.get('cuda', '-')} | "
          f"cuDNN {env.get('cudnn', '-')} | torch {env.get('torch', '-')}")
    print(f"{'stage':<14}{'status':<7}{'seconds':>8}  note")
    for s in stages:
        print(f"{s['stage']:<14}{s['status']:<7}{s['seconds']:>8.1f}  {s['note'][:100]}")
    print(f"cuda tests     : passed {_fmt(tests.get('passed'))}, failed {_fmt(tests.get('failed'))}, "
          f"skipped {_fmt(tests.get('skipped'))}")
    print(f"cpu vs cuda    : max rel diff {_fmt(agree.get('max_rel_diff'))}, within 1e-6 "
          f"{_fmt(agree.get('within_1e-6'))}/{_fmt(agree.get('compared'))}, n_units equal "
          f"{_fmt(agree.get('n_units_equal'))}, singular agree {_fmt(agree.get('singular_agree'))}; "
          f"flipped bits: {summary['flipped_bit_rate']}; from K at batch 128: "
          f"{_fmt(summary['flipped_bit_rate_from_k'], '.3e')}")
    print(f"pytorch vs cuda: max rel diff {_fmt(ref.get('max_rel_diff'))} over {_fmt(ref.get('archs'))} archs "
          f"(vs cpu {_fmt(ref.get('max_rel_diff_cpu'))})")
    print(f"speed          : naswot {_fmt(naswot_rate, '.1f')} archs/s [{rate_source}], pytorch "
          f"{_fmt(py_rate, '.2f')} archs/s, ratio {_fmt(ratio, '.0f')}x (goal >= 300x); full space "
          f"{_fmt(summary['full_space_s'], '.0f')} s")
    for st in stacked:
        print(f"stacked {st.get('config', '?'):<7}: {_fmt(st.get('archs_per_s_wall'), '.1f')} archs/s {st.get('precision')}, "
              f"{_fmt(st.get('within_1e-6'))}/{_fmt(st.get('compared'))} within 1e-6 of lanes, max rel diff "
              f"{_fmt(st.get('max_rel_diff_vs_lanes'))}, tau {_fmt(st.get('kendall_tau_vs_lanes'), '.4f')}"
              f"{'' if st.get('ok') else '  NOT OK'}")
    print(f"tf32 (opt-in)  : {_fmt(tf32.get('archs_per_s_wall'), '.1f')} archs/s (goal > 8000), Kendall tau vs "
          f"fp32 {_fmt(tf32.get('kendall_tau_vs_fp32'), '.4f')} over {_fmt(tf32.get('compared'))} archs (goal >= 0.99)")
    print(f"darts (C=32x8) : {_fmt(darts.get('archs_per_s_wall'), '.1f')} archs/s over "
          f"{_fmt(darts.get('records'))} random NB301-space genotypes, batch 128, fp32; stacked "
          f"{_fmt(darts_stacked.get('config'))}: {_fmt(darts_stacked.get('archs_per_s_wall'), '.1f')} archs/s, "
          f"{_fmt(darts_stacked.get('within_1e-6'))}/{_fmt(darts_stacked.get('compared'))} within 1e-6 of lanes")
    print(f"RESULT: {'ALL PASS' if stages and not bad else 'NOT PASSED: ' + ', '.join(s['stage'] for s in bad)}"
          f"  (details: {a.out})")
    return 0 if stages and not bad else 1


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("samples")
    p.add_argument("--agreement", required=True)
    p.add_argument("--throughput", required=True)
    p.add_argument("--count", type=int, default=2000)
    p.add_argument("--darts", default="")
    p.add_argument("--darts-count", type=int, default=200)
    p.set_defaults(fn=cmd_samples)
    p = sub.add_parser("agree")
    p.add_argument("cpu")
    p.add_argument("cuda")
    p.add_argument("--out", required=True)
    p.add_argument("--stats", required=True)
    p.add_argument("--expected", type=int, default=len(NB201_OPS) + AGREE_RANDOM)
    p.add_argument("--k-cpu", default="", help="naswot score --export-k file of the CPU run")
    p.add_argument("--k-cuda", default="", help="the same for the CUDA run")
    p.set_defaults(fn=cmd_agree)
    p = sub.add_parser("gtest")
    p.add_argument("json")
    p.add_argument("log")
    p.add_argument("--stats", required=True)
    p.set_defaults(fn=cmd_gtest)
    p = sub.add_parser("throughput")
    p.add_argument("jsonl")
    p.add_argument("--wall", type=float, required=True)
    p.add_argument("--rc", type=int, required=True)
    p.add_argument("--expected", type=int, required=True)
    p.add_argument("--stats", required=True)
    p.set_defaults(fn=cmd_throughput)
    p = sub.add_parser("tf32")
    p.add_argument("fp32")
    p.add_argument("tf32")
    p.add_argument("--wall", type=float, required=True)
    p.add_argument("--rc", type=int, required=True)
    p.add_argument("--expected", type=int, required=True)
    p.add_argument("--stats", required=True)
    p.set_defaults(fn=cmd_tf32)
    p = sub.add_parser("stacked")
    p.add_argument("lanes")
    p.add_argument("jsonl")
    p.add_argument("--config", required=True)
    p.add_argument("--precision", choices=("fp32", "tf32", "3xtf32"), default="fp32")
    p.add_argument("--wall", type=float, required=True)
    p.add_argument("--rc", type=int, required=True)
    p.add_argument("--expected", type=int, required=True)
    p.add_argument("--stats", required=True)
    p.set_defaults(fn=cmd_stacked)
    p = sub.add_parser("summary")
    p.add_argument("--work", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--flip", default="")
    p.set_defaults(fn=cmd_summary)
    a = ap.parse_args()
    return a.fn(a)


if __name__ == "__main__":
    sys.exit(main())
