// CpuBackend against the naive reference executor (tests/runtime/reference_executor.h) on random
// graphs and NB-201 networks, plus workspace reuse (no growth after reserve(worst case)) and
// determinism (same inputs -> identical K, also after other architectures reused the arena).
//
// Why K is compared with a tolerance: K is exact integer arithmetic on sign codes, but the codes
// are signs of float pre-activations. oneDNN accumulates convolutions in float in its own blocked
// order and the BatchNorm statistics are summed differently, while the reference accumulates in
// double/long double; a pre-activation within a few ulps of zero can therefore land on the other
// side of zero. One such flip in image i moves K[i][j] by at most the tap's weight (<= 3 here) for
// every j. So: N_A (the diagonal) must match exactly, K must be symmetric, the largest deviation
// must stay below max(kFlipTolerance * N_A, kFlips x the largest merged tap weight), and most
// entries must be exactly equal: at least half over all NB-201 cases together and a quarter in
// each case (flips hit whole rows: measured on this AVX-512 machine, the all-nor_conv_3x3 network
// at 16x16, n = 8, has 2 of 8 images touched, max |dK| = 4; with ONEDNN_MAX_CPU_ISA=AVX2, 3 images,
// max |dK| = 8, 28 of 64 entries equal, so a per-case majority would be flaky across CPUs). A
// systematic error (a wrong op, tap or weight, stale arena data) moves nearly every off-diagonal
// entry by thousands and fails all of these. Random graphs must agree exactly in nearly all cases.
#include "runtime/cpu_backend.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "cells/nb201.h"
#include "runtime/params.h"
#include "runtime/plan.h"
#include "test_util.h"
#include "tests/runtime/random_graph.h"
#include "tests/runtime/reference_executor.h"

namespace naswot::rt {
namespace {

constexpr uint32_t kGraphSeed = test::kSeed + 21;
constexpr uint32_t kBatchSeed = test::kSeed + 22;
constexpr uint64_t kWeightSeed = test::kSeed + 23;
constexpr uint32_t kArchSeed = test::kSeed + 24;
constexpr double kFlipTolerance = 5e-5;  // max |K_cpu - K_ref| as a fraction of N_A
constexpr int kFlips = 2;                // ... or this many sign flips of the heaviest tap

Batch random_batch(Shape4 s, uint32_t seed) {
  Batch b;
  b.shape = s;
  b.data = test::random_normal(static_cast<size_t>(s.numel()), 0.0, 1.0, seed);
  b.source = "random_normal(seed=" + std::to_string(seed) + ")";
  return b;
}

struct KComparison {
  int64_t max_abs = 0;
  size_t equal = 0;  // entries exactly equal
  size_t total = 0;
};

// Asserts the comparison rules of the file comment; returns the statistics for aggregate checks.
KComparison compare_k(const KMatrix& got, const test::ReferenceResult& ref, const Plan& plan, Counting counting,
                      const std::string& what) {
  KComparison c;
  EXPECT_EQ(plan.n_units(counting), ref.n_units) << what << ": plan N_A vs reference N_A";
  EXPECT_EQ(got.n, ref.k.n) << what;
  if (got.n != ref.k.n) return c;
  const auto n = static_cast<size_t>(got.n);
  c.total = n * n;
  size_t first_bad = n * n;
  for (size_t e = 0; e < n * n; ++e) {
    const int64_t d = std::llabs(got.values[e] - ref.k.values[e]);
    c.max_abs = std::max(c.max_abs, d);
    if (d == 0)
      ++c.equal;
    else if (first_bad == n * n)
      first_bad = e;
  }
  for (size_t i = 0; i < n; ++i) {
    EXPECT_EQ(got.values[i * n + i], ref.n_units) << what << ": K[" << i << "][" << i << "] is not N_A";
    for (size_t j = 0; j < i; ++j)
      EXPECT_EQ(got.values[i * n + j], got.values[j * n + i]) << what << ": K not symmetric";
  }
  int max_weight = 0;
  for (const PlannedTap& t : plan.taps()) max_weight = std::max(max_weight, t.weight(counting));
  const double tol =
      std::max(kFlipTolerance * static_cast<double>(ref.n_units), static_cast<double>(kFlips * max_weight));
  EXPECT_LE(static_cast<double>(c.max_abs), tol)
      << what << ": max |K_cpu - K_ref| " << c.max_abs << " > tolerance " << tol << "; first at (" << first_bad / n
      << ", " << first_bad % n << "): cpu " << got.values[first_bad % (n * n)] << ", ref "
      << ref.k.values[first_bad % (n * n)];
  EXPECT_GE(4 * c.equal, n * n) << what << ": only " << c.equal << " of " << n * n << " entries are exactly equal";
  return c;
}

TEST(CpuBackend, TapOnTheInputCountsAgreeingSigns) {
  // K by hand: K[i][j] = weight x #units where (x_i > 0) == (x_j > 0); no rounding involved, so
  // backend and reference must both match it exactly.
  GraphBuilder b;
  const TensorId x = b.input();
  const TensorId r = b.hooked_relu(x, "r", true);
  const Graph g = b.finish(b.linear(b.global_avgpool(r, "gap"), "fc", 2));
  const Batch batch = random_batch({7, 5, 3, 3}, kBatchSeed);
  const Params params = init_params(g, kWeightSeed);
  const int64_t units = 5 * 3 * 3;
  std::vector<int64_t> want(49, 0);
  for (size_t i = 0; i < 7; ++i)
    for (size_t j = 0; j < 7; ++j)
      for (size_t u = 0; u < static_cast<size_t>(units); ++u)
        want[i * 7 + j] += 2 * ((batch.data[i * 45 + u] > 0.0f) == (batch.data[j * 45 + u] > 0.0f));
  CpuBackend backend;
  backend.set_batch(batch);
  KMatrix got;
  backend.compute_k(Plan(g, batch.shape), params, Counting::Reference, got);
  EXPECT_TRUE(test::all_equal(got.values.data(), want.data(), want.size()));
  const test::ReferenceResult ref = test::reference_compute_k(g, params, batch, Counting::Reference);
  EXPECT_TRUE(test::all_equal(ref.k.values.data(), want.data(), want.size()));
  EXPECT_EQ(ref.n_units, 2 * units);
  EXPECT_EQ(ref.counted_taps, 1);
}

TEST(CpuBackend, RandomGraphsMatchReferenceExecutor) {
  constexpr int kGraphs = 40;
  int exact = 0;
  CpuBackend backend;
  for (int k = 0; k < kGraphs; ++k) {
    const Graph g = test::random_graph(kGraphSeed + static_cast<uint32_t>(k));
    const Batch batch = random_batch({5, 8, 8, 3}, kBatchSeed + static_cast<uint32_t>(k));
    const Params params = init_params(g, kWeightSeed + static_cast<uint64_t>(k));
    const Plan plan(g, batch.shape);
    backend.set_batch(batch);
    for (Counting counting : {Counting::Reference, Counting::Unit}) {
      KMatrix got;
      backend.compute_k(plan, params, counting, got);
      const test::ReferenceResult ref = test::reference_compute_k(g, params, batch, counting);
      const KComparison c =
          compare_k(got, ref, plan, counting, "random graph " + std::to_string(k) + " " + to_string(counting));
      exact += c.max_abs == 0;
    }
  }
  // Small graphs rarely put a value within rounding of zero: nearly all must agree exactly.
  EXPECT_GE(exact, 2 * kGraphs * 9 / 10);
}

struct Nb201Case {
  std::string arch;
  int image_size;
  int batch;
};

TEST(CpuBackend, Nb201MatchesReferenceExecutor) {
  std::vector<Nb201Case> cases = {
      {cells::to_string(cells::nb201_from_index(0)), 32, 8},
      {"|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|", 16, 8},
      {"|avg_pool_3x3~0|+|none~0|skip_connect~1|+|nor_conv_1x1~0|none~1|avg_pool_3x3~2|", 16, 16},
  };
  std::mt19937 rng(kArchSeed);
  for (int k = 0; k < 2; ++k)
    cases.push_back(
        {cells::to_string(cells::nb201_from_index(std::uniform_int_distribution<int>(0, 15624)(rng))), 16, 12});
  CpuBackend backend;
  size_t equal = 0, total = 0;
  for (const Nb201Case& c : cases) {
    const Graph g = cells::build_nb201(cells::parse_nb201(c.arch), cells::Nb201Config{c.image_size, 16, 5, 1});
    const Batch batch = random_batch({c.batch, c.image_size, c.image_size, 3}, kBatchSeed);
    const Params params = init_params(g, kWeightSeed);
    const Plan plan(g, batch.shape);
    backend.set_batch(batch);
    KMatrix got;
    backend.compute_k(plan, params, Counting::Reference, got);
    const KComparison cmp = compare_k(got, test::reference_compute_k(g, params, batch, Counting::Reference), plan,
                                      Counting::Reference, c.arch + " @" + std::to_string(c.image_size));
    equal += cmp.equal;
    total += cmp.total;
  }
  EXPECT_GE(2 * equal, total) << "only " << equal << " of " << total << " K entries are exactly equal";
}

TEST(CpuBackend, DeadNb201NetworkGivesConstantK) {
  // All edges none: every cell outputs exact zeros, so every counted code is identical across
  // images and K is N_A everywhere, in the backend and the reference alike (exactly).
  cells::Nb201Arch none;
  none.edges.fill(cells::Nb201Op::None);
  const Graph g = cells::build_nb201(none, cells::Nb201Config{16, 16, 5, 1});
  const Batch batch = random_batch({6, 16, 16, 3}, kBatchSeed);
  const Params params = init_params(g, kWeightSeed);
  const Plan plan(g, batch.shape);
  CpuBackend backend;
  backend.set_batch(batch);
  KMatrix got;
  backend.compute_k(plan, params, Counting::Reference, got);
  const test::ReferenceResult ref = test::reference_compute_k(g, params, batch, Counting::Reference);
  EXPECT_TRUE(test::all_equal(got.values.data(), ref.k.values.data(), got.values.size()));
  const std::vector<int64_t> constant(got.values.size(), plan.n_units(Counting::Reference));
  EXPECT_TRUE(test::all_equal(got.values.data(), constant.data(), constant.size()));
}

std::vector<cells::Nb201Arch> other_archs(int count) {
  std::vector<cells::Nb201Arch> out;
  std::mt19937 rng(kArchSeed + 1);
  while (static_cast<int>(out.size()) < count) {
    const cells::Nb201Arch a = cells::nb201_from_index(std::uniform_int_distribution<int>(0, 15624)(rng));
    if (cells::nb201_conv_edges(a) < 6) out.push_back(a);
  }
  return out;
}

TEST(CpuBackend, NoWorkspaceGrowthAfterReservingTheWorstCase) {
  cells::Nb201Arch worst;
  worst.edges.fill(cells::Nb201Op::NorConv3x3);
  const cells::Nb201Config config{16, 16, 5, 1};
  const Batch batch = random_batch({8, 16, 16, 3}, kBatchSeed);
  const Graph worst_graph = cells::build_nb201(worst, config);
  CpuBackend backend;
  backend.set_batch(batch);
  backend.reserve(Plan(worst_graph, batch.shape));
  const int64_t growths = backend.workspace_growths();
  EXPECT_GT(growths, 0) << "reserve() on an empty backend must size its workspaces";
  for (const cells::Nb201Arch& a : other_archs(10)) {
    const Graph g = cells::build_nb201(a, config);
    const Plan plan(g, batch.shape);
    KMatrix k;
    backend.compute_k(plan, init_params(g, kWeightSeed), Counting::Reference, k);
    EXPECT_EQ(backend.workspace_growths(), growths) << cells::to_string(a) << " grew a workspace";
    EXPECT_EQ(k.at(0, 0), plan.n_units(Counting::Reference)) << cells::to_string(a);
  }
}

TEST(CpuBackend, ComputeKIsDeterministicAndLeavesNoState) {
  const cells::Nb201Config config{16, 16, 5, 1};
  const Batch batch = random_batch({8, 16, 16, 3}, kBatchSeed);
  const Graph a = cells::build_nb201(cells::nb201_from_index(1), config);
  const Graph b = cells::build_nb201(cells::nb201_from_index(2), config);
  const Params pa = init_params(a, kWeightSeed), pb = init_params(b, kWeightSeed);
  const Plan plan_a(a, batch.shape), plan_b(b, batch.shape);
  CpuBackend backend;
  backend.set_batch(batch);
  KMatrix first, other, again;
  backend.compute_k(plan_a, pa, Counting::Reference, first);
  backend.compute_k(plan_b, pb, Counting::Reference, other);  // reuses the arena with other data
  backend.compute_k(plan_a, pa, Counting::Reference, again);
  EXPECT_TRUE(test::all_equal(again.values.data(), first.values.data(), first.values.size()));
  CpuBackend fresh;
  fresh.set_batch(batch);
  KMatrix from_fresh;
  fresh.compute_k(plan_a, pa, Counting::Reference, from_fresh);
  EXPECT_TRUE(test::all_equal(from_fresh.values.data(), first.values.data(), first.values.size()));
}

// The reduced-precision mode is a CUDA opt-in: the CPU oracle accepts fp32 and refuses tf32 with
// an error that says what to do, instead of silently computing fp32 under a tf32 label.
TEST(CpuBackend, RefusesTf32Convolutions) {
  CpuBackend cpu;
  EXPECT_NO_THROW(cpu.set_conv_precision(ConvPrecision::Fp32));
  try {
    cpu.set_conv_precision(ConvPrecision::Tf32);
    ADD_FAILURE() << "tf32 accepted by the cpu backend";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Unsupported);
    EXPECT_NE(std::string(e.what()).find("--backend cuda"), std::string::npos) << e.what();
  }
  EXPECT_EQ(parse_conv_precision("tf32"), ConvPrecision::Tf32);
  EXPECT_EQ(parse_conv_precision("fp32"), ConvPrecision::Fp32);
  EXPECT_EQ(parse_conv_precision("3xtf32"), ConvPrecision::Tf32x3);
  EXPECT_STREQ(to_string(ConvPrecision::Tf32x3), "3xtf32");
  EXPECT_THROW(cpu.set_conv_precision(ConvPrecision::Tf32x3), Error);
  EXPECT_THROW(parse_conv_precision("bf16"), Error);
}

}  // namespace
}  // namespace naswot::rt
