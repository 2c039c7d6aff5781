#!/usr/bin/env python3
"""The GPU check's plumbing, without a GPU: bench/gpu_check.py's samples, comparisons and summary
on records that naswot's CPU backend writes (and copies of them, perturbed the way a CUDA run can
differ), then tools/gpu-check itself with every stage but `env` left out, which must still print
the summary table and write summary.json. The check runs once per lent H200 (a few minutes of a
15-minute budget): a Python slip there costs a session's only measurement, so it is caught here.

Usage: gpu_check_test.py --naswot PATH/naswot   (CTest: tools.gpu_check_plumbing)
"""
from __future__ import annotations

import argparse
import copy
import json
import math
import os
import random
import struct
import subprocess
import sys
import tarfile
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "bench"))
import gpu_check  # noqa: E402  (bench/gpu_check.py)

NASWOT = ""


def write_jsonl(path: str, records: list[dict]) -> None:
    with open(path, "w") as f:
        for r in records:
            f.write(json.dumps(r) + "\n")


def helper(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, os.path.join(ROOT, "bench", "gpu_check.py"), *args],
                          capture_output=True, text=True, check=False)


def strict_json(path: str):
    """json.load that refuses NaN and Infinity (summary.json must be strict JSON)."""
    def bad(token):
        raise ValueError(f"{path}: non-standard JSON constant {token}")
    with open(path) as f:
        return json.load(f, parse_constant=bad)


class Plumbing(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="naswot-gpu-check-test-")
        d = cls.tmp.name
        cls.agree_sample = os.path.join(d, "sample_agreement.txt")
        cls.thr_sample = os.path.join(d, "sample_throughput.txt")
        cls.darts_sample = os.path.join(d, "sample_darts.txt")
        r = helper("samples", "--agreement", cls.agree_sample, "--throughput", cls.thr_sample, "--count", "40",
                   "--darts", cls.darts_sample, "--darts-count", "3")
        assert r.returncode == 0, r.stderr
        # The agreement sample scored for real on the CPU (small batch: the records' shape is what matters).
        cls.cpu_jsonl = os.path.join(d, "agree_cpu.jsonl")
        cls.k_cpu = os.path.join(d, "k_cpu.npy")
        r = subprocess.run([NASWOT, "score", "--space", "nb201", "--arch-file", cls.agree_sample, "--backend", "cpu",
                            "--data", "synthetic", "--batch", "8", "--image-size", "16", "--seed", "1",
                            "--format", "jsonl", "--output", cls.cpu_jsonl, "--export-k", cls.k_cpu],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        cls.cpu = gpu_check.load_jsonl(cls.cpu_jsonl)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def path(self, name: str) -> str:
        return os.path.join(self.tmp.name, name)

    def test_samples(self):
        def lines_of(path):
            with open(path) as f:
                return [l.strip() for l in f if l.strip() and not l.startswith("#")]
        lines = lines_of(self.agree_sample)
        self.assertEqual(len(lines), len(gpu_check.NB201_OPS) + gpu_check.AGREE_RANDOM)
        self.assertEqual(lines[:5], [gpu_check.uniform_arch(op) for op in gpu_check.NB201_OPS])
        idx = [int(l) for l in lines_of(self.thr_sample)]
        self.assertEqual(len(idx), 40)
        self.assertEqual(len(set(idx)), 40, "throughput indices are distinct")
        self.assertTrue(all(0 <= i < gpu_check.NB201_SIZE for i in idx))
        self.assertEqual(len(self.cpu), 16, "naswot scored every line of the agreement sample")
        # The DARTS genotypes parse: score them on a tiny network (2 cells of 4 channels, batch 4).
        r = subprocess.run([NASWOT, "score", "--space", "darts", "--arch-file", self.darts_sample, "--backend", "cpu",
                            "--width", "4", "--depth", "2", "--batch", "4", "--image-size", "8", "--format", "jsonl"],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(sum(l.startswith("{") for l in r.stdout.splitlines()), 3)

    def agree(self, cuda: list[dict], k_cuda: str = "") -> tuple[int, dict]:
        write_jsonl(self.path("agree_cuda.jsonl"), cuda)
        k = ["--k-cpu", self.k_cpu, "--k-cuda", k_cuda] if k_cuda else []
        r = helper("agree", self.cpu_jsonl, self.path("agree_cuda.jsonl"), "--out", self.path("agreement.jsonl"),
                   "--stats", self.path("agreement.json"), *k)
        return r.returncode, strict_json(self.path("agreement.json"))

    def test_agreement_passes_on_equal_scores(self):
        rc, st = self.agree(copy.deepcopy(self.cpu), k_cuda=self.k_cpu)
        self.assertEqual(rc, 0, st["why"])
        self.assertEqual(st["compared"], 16)
        self.assertEqual(st["within_1e-6"], 16)
        self.assertEqual(st["max_rel_diff"], 0.0)
        self.assertEqual(st["flip_from_k"]["flipped_bits_est"], 0.0)
        self.assertEqual(st["flip_from_k"]["batch"], 8)

    def test_flip_rate_from_k_counts_a_simulated_flip(self):
        shape, values = gpu_check.load_npy_i8(self.k_cpu)
        self.assertEqual(shape, [16, 8, 8])
        n = 8
        # One code bit of image 3 of architecture 6 flips (a unit of weight 1): K[3][j] and K[j][3]
        # move by one for every j != 3.
        base = 6 * n * n
        for j in range(n):
            if j != 3:
                values[base + 3 * n + j] += 1
                values[base + j * n + 3] += 1
        k_cuda = self.path("k_cuda.npy")
        with open(self.k_cpu, "rb") as f:
            raw = f.read()
        header_end = len(raw) - 8 * len(values)
        with open(k_cuda, "wb") as f:
            f.write(raw[:header_end] + struct.pack(f"<{len(values)}q", *values))
        rc, st = self.agree(copy.deepcopy(self.cpu), k_cuda=k_cuda)
        self.assertEqual(rc, 0, st["why"])
        flip = st["flip_from_k"]
        self.assertAlmostEqual(flip["flipped_bits_est"], 1.0)
        self.assertEqual(flip["archs_with_flips"], 1)
        total = sum(8 * int(r["n_units"]) for r in self.cpu)
        self.assertAlmostEqual(flip["rate"], 1.0 / total)
        with open(k_cuda, "wb") as f:  # cut short: reported, not misread
            f.write(raw[:header_end + 8 * 100])
        rc, st = self.agree(copy.deepcopy(self.cpu), k_cuda=k_cuda)
        self.assertIn("of 1024 values", st["flip_from_k"]["error"])

    def test_agreement_fails_on_a_score_off_by_1e_5(self):
        cuda = copy.deepcopy(self.cpu)
        k = next(i for i, r in enumerate(cuda) if isinstance(r["score"], (int, float)))
        cuda[k]["score"] = cuda[k]["score"] * (1 + 1e-5) + (1e-5 if cuda[k]["score"] == 0 else 0)
        rc, st = self.agree(cuda)
        self.assertEqual(rc, 1)
        self.assertIn("max rel diff", st["why"])

    def test_agreement_fails_on_n_units_and_missing_records(self):
        cuda = copy.deepcopy(self.cpu)
        cuda[3]["n_units"] += 1
        rc, st = self.agree(cuda[:-1])
        self.assertEqual(rc, 1)
        self.assertIn("n_units differ in 1", st["why"])
        self.assertIn("records: cpu 16, cuda 15", st["why"])

    def test_kendall_tau_b(self):
        rng = random.Random(5)
        x = [rng.random() for _ in range(30)]
        self.assertAlmostEqual(gpu_check.kendall_tau_b(x, x), 1.0)
        self.assertAlmostEqual(gpu_check.kendall_tau_b(x, [-v for v in x]), -1.0)
        # Ties: tau-b of (1,2,2,3) against (1,2,3,4) is 5 / sqrt(5 * 6).
        self.assertAlmostEqual(gpu_check.kendall_tau_b([1, 2, 2, 3], [1, 2, 3, 4]), 5 / math.sqrt(30))
        self.assertTrue(math.isnan(gpu_check.kendall_tau_b([1, 1], [2, 3])))

    def lane_records(self, n: int = 200) -> list[dict]:
        rng = random.Random(7)
        return [{"index": i, "arch": str(i), "score": 1000 + rng.random() * 50, "status": "ok", "n_units": 100,
                 "seconds": 0.003} for i in range(n)]

    def stacked(self, got: list[dict], precision: str = "fp32", expected: int = 200) -> tuple[int, dict]:
        write_jsonl(self.path("lanes.jsonl"), self.lane_records())
        write_jsonl(self.path("stacked.jsonl"), got)
        r = helper("stacked", self.path("lanes.jsonl"), self.path("stacked.jsonl"), "--config", "32,3",
                   "--precision", precision, "--wall", "0.5", "--rc", "0", "--expected", str(expected),
                   "--stats", self.path("stacked.json"))
        return r.returncode, strict_json(self.path("stacked.json"))

    def test_stacked_fp32_allows_a_rare_flipped_bit_only(self):
        got = self.lane_records()
        got[10]["score"] *= 1 + 2e-5  # one flipped code bit: 1 of 200 off by more than 1e-6
        rc, st = self.stacked(got)
        self.assertEqual(rc, 0)
        self.assertEqual(st["within_1e-6"], 199)
        self.assertAlmostEqual(st["archs_per_s_wall"], 400.0)
        got[11]["score"] *= 1 + 2e-5
        got[12]["score"] *= 1 + 2e-5  # 3 of 200: below the 99% bar
        self.assertEqual(self.stacked(got)[0], 1)
        got = self.lane_records()
        got[10]["score"] *= 1 + 2e-3  # one score far off
        self.assertEqual(self.stacked(got)[0], 1)
        got = self.lane_records()
        got[10]["score"] = "-inf"  # singular on one path only
        self.assertEqual(self.stacked(got)[0], 1)
        self.assertEqual(self.stacked(self.lane_records()[:150])[0], 1, "missing records fail")

    def test_stacked_pairs_index_null_records_by_arch(self):
        """DARTS records carry "index": null (genotypes from an arch file): pairing by index would put
        every record on one key (the H200 run's "1/1 within 1e-6, singular agree 1/200"). They pair by
        arch string, a repeated genotype by its occurrence, whatever the order of the stacked output."""
        rng = random.Random(11)
        lanes = [{"index": None, "arch": f"Genotype({i})", "score": 1000 + rng.random() * 50, "status": "ok",
                  "n_units": 100, "seconds": 0.02} for i in range(20)]
        lanes[7]["arch"] = lanes[3]["arch"]  # one genotype drawn twice, the same score both times
        lanes[7]["score"] = lanes[3]["score"]
        lanes[12]["score"] = "-inf"  # singular on both paths
        got = copy.deepcopy(lanes)
        got.reverse()  # stacked groups may finish in another order
        write_jsonl(self.path("darts_lanes.jsonl"), lanes)
        write_jsonl(self.path("darts_stacked.jsonl"), got)

        def run() -> tuple[int, dict]:
            r = helper("stacked", self.path("darts_lanes.jsonl"), self.path("darts_stacked.jsonl"), "--config",
                       "darts:16,2", "--wall", "0.5", "--rc", "0", "--expected", "20",
                       "--stats", self.path("darts_stacked.json"))
            return r.returncode, strict_json(self.path("darts_stacked.json"))
        rc, st = run()
        self.assertEqual(rc, 0, st)
        self.assertEqual(st["compared"], 19)
        self.assertEqual(st["within_1e-6"], 19)
        self.assertEqual(st["singular_agree"], 20)
        self.assertAlmostEqual(st["kendall_tau_vs_lanes"], 1.0)
        self.assertEqual(gpu_check.record_keys(lanes)[7], ("arch", lanes[3]["arch"], 1))
        got[0]["score"] = got[0]["score"] * (1 + 2e-3)  # one genotype far off: caught
        write_jsonl(self.path("darts_stacked.jsonl"), got)
        self.assertEqual(run()[0], 1)
        # Integer indices still pair by index (the NB-201 runs), null ones by arch, in one file.
        mixed = [{"index": 5, "arch": "x", "score": 1.0}, {"index": None, "arch": "x", "score": 2.0},
                 {"index": None, "arch": "x", "score": 3.0}]
        self.assertEqual(gpu_check.record_keys(mixed), [("index", 5), ("arch", "x", 0), ("arch", "x", 1)])

    def test_stacked_tf32_is_judged_by_kendall_tau(self):
        got = self.lane_records()
        for r in got:
            r["score"] *= 1 + 1e-4  # every score moves, the order does not
        rc, st = self.stacked(got, "tf32")
        self.assertEqual(rc, 0)
        self.assertAlmostEqual(st["kendall_tau_vs_lanes"], 1.0)
        rng = random.Random(3)
        for r in got:
            r["score"] = rng.random()  # order lost
        self.assertEqual(self.stacked(got, "tf32")[0], 1)

    def test_stacked_3xtf32_is_judged_like_fp32(self):
        got = self.lane_records()
        for r in got:
            r["score"] *= 1 + 1e-4  # the order holds (tau 1), but every score is 1e-4 off: not fp32's class
        self.assertEqual(self.stacked(got, "3xtf32")[0], 1)
        self.assertEqual(self.stacked(got, "tf32")[0], 0)
        got = self.lane_records()
        for r in got:
            r["score"] *= 1 + 1e-8
        self.assertEqual(self.stacked(got, "3xtf32")[0], 0)

    def test_throughput(self):
        write_jsonl(self.path("thr.jsonl"), self.lane_records(40))
        r = helper("throughput", self.path("thr.jsonl"), "--wall", "2", "--rc", "0", "--expected", "40",
                   "--stats", self.path("thr.json"))
        self.assertEqual(r.returncode, 0, r.stdout)
        st = strict_json(self.path("thr.json"))
        self.assertAlmostEqual(st["archs_per_s_wall"], 20.0)
        self.assertAlmostEqual(st["full_space_s"], gpu_check.NB201_SIZE / 20.0)
        r = helper("throughput", self.path("thr.jsonl"), "--wall", "2", "--rc", "124", "--expected", "40",
                   "--stats", self.path("thr.json"))
        self.assertEqual(r.returncode, 1, "a timed-out run is not a pass")

    def test_summary_headline_is_the_fastest_stacked_run_that_agreed(self):
        w = self.path("work")
        os.makedirs(w, exist_ok=True)
        with open(os.path.join(w, "stages.tsv"), "w") as f:
            for stage in ("env", "build", "cuda_tests", "throughput", "stacked"):
                f.write(f"{stage}\tPASS\t1.0\tnote\n")
        with open(os.path.join(w, "env.tsv"), "w") as f:
            f.write("git\tabc1234\ngpu\tNVIDIA H200\n")
        gpu_check.write_json(os.path.join(w, "throughput.json"), {"archs_per_s_wall": 300.0, "full_space_s": 52.0})
        gpu_check.write_json(os.path.join(w, "reference.json"), {"pytorch_archs_per_s": 10.0, "max_rel_diff": math.nan})
        gpu_check.write_json(os.path.join(w, "stacked_1.json"),
                             {"config": "32,3", "precision": "fp32", "archs_per_s_wall": 1500.0, "ok": True})
        gpu_check.write_json(os.path.join(w, "stacked_2.json"),  # faster but disagreed: not the headline
                             {"config": "64,3", "precision": "fp32", "archs_per_s_wall": 2500.0, "ok": False})
        gpu_check.write_json(os.path.join(w, "stacked_3.json"),  # tf32 is never the fp32 headline
                             {"config": "64,3", "precision": "tf32", "archs_per_s_wall": 5000.0, "ok": True})
        r = helper("summary", "--work", w, "--out", self.path("summary.json"), "--flip", "0 of 10")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        s = strict_json(self.path("summary.json"))
        self.assertEqual(s["naswot_archs_per_s"], 1500.0)
        self.assertEqual(s["naswot_rate_source"], "stacked 32,3 (wall)")
        self.assertAlmostEqual(s["speedup_vs_pytorch"], 150.0)
        self.assertAlmostEqual(s["full_space_s"], gpu_check.NB201_SIZE / 1500.0)
        self.assertEqual(len(s["stacked"]), 3)
        self.assertIn("RESULT: ALL PASS", r.stdout.splitlines()[-1])
        with open(os.path.join(w, "stages.tsv"), "a") as f:
            f.write("agreement\tFAIL\t2.0\tmax rel diff 3e-3\n")
        r = helper("summary", "--work", w, "--out", self.path("summary.json"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("NOT PASSED: agreement", r.stdout)

    # What tools/gpu-check leaves out of details.tar.gz (the device tool returns at most 8 files).
    KEPT = ("gpu-check.log", "summary.json", "cuda_tests.log", "conv_algos.txt", "profile.txt", "profile_stacked.txt")

    def test_stack_configs_are_read_as_documented(self):
        # Stage f2's configurations decide which kernels a device call measures: read them without a device.
        def listed(configs):
            env = dict(os.environ, OUT=self.path("gpu-check-configs"), GPU_CHECK_LIST_STACK_CONFIGS="1")
            if configs is not None:
                env["STACK_CONFIGS"] = configs
            return subprocess.run(["bash", os.path.join(ROOT, "tools", "gpu-check")], env=env, capture_output=True,
                                  text=True, timeout=60)
        r = listed(None)  # the default list
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = [line.split("\t") for line in r.stdout.splitlines()]
        self.assertIn(["32,3", "32,3", "fp32", "per-element", "1", "32_3_fp32"], rows)
        self.assertIn(["32,3", "32,3+batched", "fp32", "batched", "1", "32_3_fp32_batched"], rows)
        self.assertIn(["32,3", "32,3+cudnn", "fp32", "per-element", "0", "32_3_fp32_cudnn"], rows)
        self.assertIn(["32,3", "32,3", "3xtf32", "per-element", "1", "32_3_3xtf32"], rows)
        self.assertEqual(len({row[5] for row in rows}), len(rows), "every configuration writes its own file")
        r = listed("64,2:tf32:batched:cudnn 16 8,1:3xtf32 32,3:tf32:tc")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual([line.split("\t") for line in r.stdout.splitlines()],
                         [["64,2", "64,2+batched+cudnn", "tf32", "batched", "0", "64_2_tf32_batched_cudnn"],
                          ["16", "16", "fp32", "per-element", "1", "16_fp32"],
                          ["8,1", "8,1", "3xtf32", "per-element", "1", "8_1_3xtf32"],
                          ["32,3", "32,3+tc", "tf32", "per-element", "1", "32_3_tf32_tc"]])
        for bad in ("32,3:fast", "x,3", "32,3,1", "32,3:own"):
            r = listed(bad)
            self.assertEqual(r.returncode, 1, bad)
            self.assertIn("stack config", r.stderr)

    def test_script_prints_the_summary_with_every_stage_left_out(self):
        out = self.path("gpu-check-out")
        # Files the stages would have written, seeded: those read first stay, the rest go into details.tar.gz.
        os.makedirs(out, exist_ok=True)
        packed = ("throughput.jsonl", "reference.log", "darts_throughput.jsonl", "build.log")
        for name in packed + ("cuda_tests.log", "conv_algos.txt", "profile.txt", "profile_stacked.txt"):
            with open(os.path.join(out, name), "w") as f:
                f.write(f"{name}\n")
        with open(os.path.join(out, "details.tar.gz"), "w") as f:
            f.write("an earlier run's pack\n")
        env = dict(os.environ, OUT=out, GPU_CHECK_ONLY="none", GPU_CHECK_BUILD=self.path("gpu-check-build"),
                   GPU_CHECK_BUDGET="60", NASWOT_PYTHON=sys.executable)
        r = subprocess.run(["bash", os.path.join(ROOT, "tools", "gpu-check")], env=env, capture_output=True, text=True,
                           timeout=120)
        # Every stage skipped: never "ALL PASS", whatever the machine has.
        self.assertEqual(r.returncode, 1, r.stdout[-2000:] + r.stderr[-2000:])
        self.assertIn("GPU CHECK SUMMARY", r.stdout)
        self.assertIn("RESULT: NOT PASSED", r.stdout.splitlines()[-1])
        s = strict_json(os.path.join(out, "summary.json"))
        stages = {st["stage"]: st for st in s["stages"]}
        for name in ("build", "cuda_tests", "agreement", "reference", "throughput", "stacked", "tf32", "profile",
                     "darts", "convs"):
            self.assertEqual(stages[name]["status"], "SKIP", name)
        self.assertIn(stages["env"]["status"], ("PASS", "FAIL"))
        self.assertTrue(os.path.exists(os.path.join(out, "gpu-check.log")))
        # Packed: the kept files and details.tar.gz remain (at most 7 files), the rest is in the archive.
        self.assertEqual(sorted(os.listdir(out)), sorted(self.KEPT + ("details.tar.gz",)))
        with open(os.path.join(out, "gpu-check.log")) as f:
            self.assertIn("RESULT: NOT PASSED", f.read())
        with tarfile.open(os.path.join(out, "details.tar.gz")) as tar:
            members = {m.name.removeprefix("./"): m for m in tar.getmembers()}
            self.assertEqual(sorted(members), sorted(packed))
            for name in packed:
                self.assertEqual(tar.extractfile(members[name]).read().decode(), f"{name}\n")

    def test_script_packs_the_default_out_folder_too(self):
        """OUT unset: ./gpu-check-out of a copy of the script's tree (the script cds to its parent folder)."""
        tree = self.path("tree")
        os.makedirs(os.path.join(tree, "tools"), exist_ok=True)
        os.makedirs(os.path.join(tree, "bench"), exist_ok=True)
        for rel in ("tools/gpu-check", "bench/gpu_check.py"):
            with open(os.path.join(ROOT, rel)) as src, open(os.path.join(tree, rel), "w") as dst:
                dst.write(src.read())
        out = os.path.join(tree, "gpu-check-out")
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, "throughput_tf32.jsonl"), "w") as f:
            f.write("{}\n")
        env = {k: v for k, v in os.environ.items() if k != "OUT"}
        env.update(GPU_CHECK_ONLY="none", GPU_CHECK_BUILD=self.path("gpu-check-build-2"), GPU_CHECK_BUDGET="60",
                   NASWOT_PYTHON=sys.executable)
        r = subprocess.run(["bash", os.path.join(tree, "tools", "gpu-check")], env=env, capture_output=True,
                           text=True, timeout=120)
        self.assertEqual(r.returncode, 1, r.stdout[-2000:] + r.stderr[-2000:])
        self.assertIn("RESULT: NOT PASSED", r.stdout.splitlines()[-1])
        self.assertEqual(sorted(os.listdir(out)), ["details.tar.gz", "gpu-check.log", "summary.json"])
        with tarfile.open(os.path.join(out, "details.tar.gz")) as tar:
            self.assertEqual([m.name.removeprefix("./") for m in tar.getmembers()], ["throughput_tf32.jsonl"])


class DeviceDeps(unittest.TestCase):
    """tools/prepare-device-deps (run here before every device call) fills its folder and exits 0."""

    def test_prepare_device_deps(self):
        needed = ["/usr/include/CLI", "/usr/include/nlohmann", "/usr/src/googletest"]
        if not all(os.path.exists(p) for p in needed):
            self.skipTest("Debian's CLI11 / nlohmann-json / googletest packages are not installed")
        with tempfile.TemporaryDirectory(prefix="naswot-devdeps-") as d:
            dest = os.path.join(d, "devdeps")
            r = subprocess.run(["bash", os.path.join(ROOT, "tools", "prepare-device-deps")], cwd=ROOT,
                               env=dict(os.environ, DEVDEPS_DIR=dest), capture_output=True, text=True, timeout=120)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            for rel in ("include/CLI", "include/nlohmann", "share/cmake/CLI11", "share/cmake/nlohmann_json",
                        "src/googletest", "lib/liblapack.so.3", "lib/libblas.so", "git.txt"):
                self.assertTrue(os.path.exists(os.path.join(dest, rel)), rel)
            with open(os.path.join(dest, "git.txt")) as f:
                self.assertRegex(f.read(), r"^([0-9a-f]{4,}|no-commit)(\+dirty)?$")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--naswot", required=True)
    a, rest = ap.parse_known_args()
    global NASWOT
    NASWOT = os.path.abspath(a.naswot)
    prog = unittest.main(argv=[sys.argv[0], "-v", *rest], exit=False)
    return 0 if prog.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
