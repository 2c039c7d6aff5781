// CudaBackend on real NAS-Bench-201 networks (batch 128 of 32x32x3, seeded synthetic images and
// weights) against the CPU oracle, plus the backend's contracts:
//  * scores agree with the CPU within 1e-6 relative (the bar), diag(K) = N_A exactly;
//  * after reserve(worst case), scoring more architectures allocates no device or pinned memory
//    and grows no workspace (compute_k and score_many);
//  * score_many returns exactly compute_k's K and a log-det equal to cpu::logabsdet of it
//    within 1e-9 relative; results are deterministic run to run and backend to backend;
//  * conv plans built by reserve() are hits afterwards;
//  * bad parameters are rejected naming the tensor.
#include <cmath>
#include <cstdio>
#include <memory>

#include "cells/nb201.h"
#include "cuda_test_util.h"
#include "kernels/cpu/logdet.h"
#include "runtime/cpu_backend.h"
#include "runtime/params.h"
#include "runtime/plan.h"

namespace naswot::test {
namespace {

constexpr uint32_t kNetSeed = kSeed + 1001;
constexpr rt::Shape4 kCifar{128, 32, 32, 3};
constexpr double kScoreRtol = 1e-6;

const char* const kWorst = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|";
const char* const kArchs[] = {
    "|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|none~1|nor_conv_3x3~2|",
    "|nor_conv_1x1~0|+|skip_connect~0|nor_conv_3x3~1|+|avg_pool_3x3~0|nor_conv_1x1~1|skip_connect~2|",
    "|avg_pool_3x3~0|+|none~0|nor_conv_1x1~1|+|nor_conv_3x3~0|none~1|avg_pool_3x3~2|",
    "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|",
    "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|",
};

rt::Batch cifar_like_batch() {
  rt::Batch b;
  b.shape = kCifar;
  b.data = random_normal(static_cast<size_t>(kCifar.numel()), 0.0, 1.0, kNetSeed);
  b.source = "synthetic normal (backend_test)";
  return b;
}

// The Plan points at the graph beside it: a Net never moves (held by unique_ptr in vectors).
struct Net {
  rt::Graph graph;
  rt::Plan plan;
  rt::Params params;
  explicit Net(const std::string& arch)
      : graph(cells::build_nb201(cells::parse_nb201(arch))), plan(graph, kCifar), params(rt::init_params(graph, 1)) {}
  Net(const Net&) = delete;
  Net& operator=(const Net&) = delete;
};

using Nets = std::vector<std::unique_ptr<Net>>;

void as_pointers(const Nets& nets, std::vector<const rt::Plan*>& plans, std::vector<const rt::Params*>& params) {
  for (const auto& n : nets) {
    plans.push_back(&n->plan);
    params.push_back(&n->params);
  }
}

void expect_scores_match_cpu(rt::ConvPrecision precision = rt::ConvPrecision::Fp32) {
  const rt::Batch batch = cifar_like_batch();
  rt::CpuBackend cpu;
  rt::CudaBackend gpu;
  gpu.set_conv_precision(precision);
  std::fprintf(stderr, "device: %s, %s convolutions\n", gpu.device_description().c_str(), rt::to_string(precision));
  cpu.set_batch(batch);
  gpu.set_batch(batch);
  // Three architectures: the CPU oracle on the GPU machine runs reference convolution loops.
  for (const char* arch : {kWorst, kArchs[0], kArchs[4]}) {
    SCOPED_TRACE(arch);
    const Net net(arch);
    rt::KMatrix kc, kg;
    cpu.compute_k(net.plan, net.params, rt::Counting::Reference, kc);
    gpu.compute_k(net.plan, net.params, rt::Counting::Reference, kg);
    ASSERT_EQ(kg.n, kc.n);
    int64_t max_diff = 0;
    for (size_t i = 0; i < kc.values.size(); ++i) max_diff = std::max<int64_t>(max_diff, std::llabs(kg.values[i] - kc.values[i]));
    for (int i = 0; i < kc.n; ++i) EXPECT_EQ(kg.at(i, i), net.plan.n_units(rt::Counting::Reference));
    const cpu::LogDet lc = cpu::logabsdet(kc.values.data(), kc.n);
    const cpu::LogDet lg = cpu::logabsdet(kg.values.data(), kg.n);
    std::fprintf(stderr, "%s: N_A %lld, max |dK| %lld, logdet cpu %.12g (%s) gpu %.12g (%s)\n", arch,
                 static_cast<long long>(net.plan.n_units(rt::Counting::Reference)), static_cast<long long>(max_diff),
                 lc.value, cpu::to_string(lc.method), lg.value, cpu::to_string(lg.method));
    EXPECT_EQ(lg.method == cpu::LogDetMethod::Singular, lc.method == cpu::LogDetMethod::Singular);
    if (std::isfinite(lc.value)) {
      EXPECT_NEAR(lg.value, lc.value, kScoreRtol * std::fabs(lc.value)) << "score, rtol " << kScoreRtol;
    } else {
      EXPECT_EQ(lg.value, lc.value);
    }
  }
}

TEST(CudaBackendNb201, ScoresMatchCpu) {
  NASWOT_REQUIRE_CUDA_DEVICE();
  expect_scores_match_cpu();
}

// NASWOT_CONV_OWN=force: every cell convolution through naswot's conv2d_tiled (the stem's 3
// input channels stay with cuDNN), through the plan path (ConvPlan::tiled, KRSC weights).
TEST(CudaBackendNb201, ScoresMatchCpuWithNaswotsOwnConv) {
  NASWOT_REQUIRE_CUDA_DEVICE();
  const ScopedEnv own("NASWOT_CONV_OWN", "force");
  expect_scores_match_cpu();
}

// --precision 3xtf32 with NASWOT_CONV_OWN=force: every cell convolution through conv2d_tc's
// three-product split; its claim is fp32's class of results, so the fp32 test's tolerances hold.
TEST(CudaBackendNb201, ScoresMatchCpuWith3xTf32TensorCoreConv) {
  NASWOT_REQUIRE_CUDA_DEVICE();
  const ScopedEnv own("NASWOT_CONV_OWN", "force");
  expect_scores_match_cpu(rt::ConvPrecision::Tf32x3);
}

TEST(CudaBackendNb201, NoAllocationAfterReserve) {
  NASWOT_REQUIRE_CUDA_DEVICE();
  rt::CudaBackend gpu;
  gpu.set_batch(cifar_like_batch());
  const Net worst(kWorst);
  gpu.reserve(worst.plan);
  // Every conv shape planned: a miss of the timed choice allocates scratch to time candidates on
  // (the worst case has no 1x1 convs).
  for (const char* arch : kArchs) gpu.reserve(Net(arch).plan);
  const rt::AllocationCounters before = rt::allocation_counters();
  const int64_t growths = gpu.workspace_growths();
  rt::KMatrix k;
  for (const char* arch : kArchs) {
    const Net net(arch);
    gpu.compute_k(net.plan, net.params, rt::Counting::Reference, k);
    EXPECT_EQ(rt::allocation_counters(), before) << "compute_k allocated for " << arch;
    EXPECT_EQ(gpu.workspace_growths(), growths) << "compute_k grew a workspace for " << arch;
  }
  // score_many: the first call sizes its lanes; from then on nothing is allocated.
  Nets nets;
  for (const char* arch : kArchs) nets.push_back(std::make_unique<Net>(arch));
  std::vector<const rt::Plan*> plans;
  std::vector<const rt::Params*> params;
  as_pointers(nets, plans, params);
  gpu.set_lanes(3);
  (void)gpu.score_many(plans, params, rt::Counting::Reference);
  const rt::AllocationCounters warm = rt::allocation_counters();
  const int64_t warm_growths = gpu.workspace_growths();
  (void)gpu.score_many(plans, params, rt::Counting::Reference);
  EXPECT_EQ(rt::allocation_counters(), warm) << "score_many allocated on its second call";
  EXPECT_EQ(gpu.workspace_growths(), warm_growths);
}

TEST(CudaBackendNb201, ScoreManyEqualsComputeKAndIsDeterministic) {
  NASWOT_REQUIRE_CUDA_DEVICE();
  const rt::Batch batch = cifar_like_batch();
  Nets nets;
  for (const char* arch : kArchs) nets.push_back(std::make_unique<Net>(arch));
  nets.push_back(std::make_unique<Net>(kWorst));
  std::vector<const rt::Plan*> plans;
  std::vector<const rt::Params*> params;
  as_pointers(nets, plans, params);
  for (bool threaded : {true, false}) {
    SCOPED_TRACE(threaded ? "threaded lanes" : "single host thread");
    rt::CudaBackend gpu;
    gpu.set_conv_timing(false);  // cuDNN's ranking: `other` below plans the same algorithms
    gpu.set_batch(batch);
    gpu.set_lanes(4, threaded);  // 6 architectures: one full group and one partial
    std::vector<rt::KMatrix> ks;
    const std::vector<cpu::LogDet> many = gpu.score_many(plans, params, rt::Counting::Reference, &ks);
    ASSERT_EQ(many.size(), nets.size());
    rt::CudaBackend other;  // a second backend instance must give the same K bit for bit
    other.set_conv_timing(false);
    other.set_batch(batch);
    for (size_t i = 0; i < nets.size(); ++i) {
      SCOPED_TRACE(i);
      rt::KMatrix k1, k2;
      gpu.compute_k(nets[i]->plan, nets[i]->params, rt::Counting::Reference, k1);
      other.compute_k(nets[i]->plan, nets[i]->params, rt::Counting::Reference, k2);
      EXPECT_TRUE(all_equal(ks[i].values.data(), k1.values.data(), k1.values.size())) << "score_many K vs compute_k K";
      EXPECT_TRUE(all_equal(k2.values.data(), k1.values.data(), k1.values.size())) << "two backends";
      const cpu::LogDet ref = cpu::logabsdet(k1.values.data(), k1.n);
      EXPECT_EQ(many[i].method == cpu::LogDetMethod::Singular, ref.method == cpu::LogDetMethod::Singular);
      if (std::isfinite(ref.value)) {
        EXPECT_NEAR(many[i].value, ref.value, 1e-9 * std::max(1.0, std::fabs(ref.value)));
      } else {
        EXPECT_EQ(many[i].value, ref.value);
      }
    }
  }
}

TEST(CudaBackendNb201, ReserveBuildsConvPlansOnce) {
  NASWOT_REQUIRE_CUDA_DEVICE();
  rt::CudaBackend gpu;
  gpu.set_batch(cifar_like_batch());
  const Net worst(kWorst);
  gpu.reserve(worst.plan);
  const int64_t misses = gpu.conv_plan_misses();
  EXPECT_GT(misses, 0);
  rt::KMatrix k;
  gpu.compute_k(worst.plan, worst.params, rt::Counting::Unit, k);
  EXPECT_EQ(gpu.conv_plan_misses(), misses) << "scoring the reserved architecture built a new conv plan";
  EXPECT_GT(gpu.conv_plan_hits(), 0);
}

// The opt-in TF32 mode builds its own conv plans (the fp32 ones stay cached and unchanged), keeps
// N_A exact (the taps do not depend on precision) and moves scores only slightly: 1e-2 relative
// is a sanity bound (a wrong plan or stale math type moves them by far more); the rank agreement
// over a real sample is the GPU check's Kendall tau.
TEST(CudaBackendNb201, Tf32PlansAreSeparateAndScoresStayClose) {
  NASWOT_REQUIRE_CUDA_DEVICE();
  rt::CudaBackend gpu;
  gpu.set_batch(cifar_like_batch());
  const Net net(kArchs[0]);
  rt::KMatrix k32, ktf, kback;
  gpu.compute_k(net.plan, net.params, rt::Counting::Reference, k32);
  const int64_t fp32_plans = gpu.conv_plan_misses();
  gpu.set_conv_precision(rt::ConvPrecision::Tf32);
  gpu.compute_k(net.plan, net.params, rt::Counting::Reference, ktf);
  EXPECT_EQ(gpu.conv_plan_misses(), 2 * fp32_plans) << "tf32 must build one new plan per fp32 shape";
  gpu.set_conv_precision(rt::ConvPrecision::Fp32);
  gpu.compute_k(net.plan, net.params, rt::Counting::Reference, kback);
  EXPECT_EQ(gpu.conv_plan_misses(), 2 * fp32_plans) << "back to fp32: cached plans, no new ones";
  EXPECT_EQ(kback.values, k32.values) << "fp32 after tf32 must give the identical K";
  for (int i = 0; i < ktf.n; ++i) EXPECT_EQ(ktf.at(i, i), net.plan.n_units(rt::Counting::Reference));
  const cpu::LogDet l32 = cpu::logabsdet(k32.values.data(), k32.n);
  const cpu::LogDet ltf = cpu::logabsdet(ktf.values.data(), ktf.n);
  std::fprintf(stderr, "tf32: logdet %.12g vs fp32 %.12g (rel %.3g)\n", ltf.value, l32.value,
               std::fabs(ltf.value - l32.value) / std::fabs(l32.value));
  EXPECT_NEAR(ltf.value, l32.value, 1e-2 * std::fabs(l32.value));
}

TEST(CudaBackendNb201, RejectsBadParams) {
  NASWOT_REQUIRE_CUDA_DEVICE();
  rt::CudaBackend gpu;
  gpu.set_batch(cifar_like_batch());
  const Net net(kArchs[0]);
  rt::KMatrix k;
  rt::Params wrong = net.params;
  rt::ParamTensor stem = net.params.at("stem.0.weight");
  stem.shape = {16, 3, 3, 2};  // a 3x2 kernel: 288 values where the op expects 432
  stem.data.resize(16 * 3 * 3 * 2);
  wrong.set("stem.0.weight", stem);
  NASWOT_EXPECT_BAD_INPUT(gpu.compute_k(net.plan, wrong, rt::Counting::Reference, k), "stem.0.weight");
}

TEST(CudaBackendNb201, FusedBatchNormOutputIsNotMaterialised) {
  NASWOT_REQUIRE_CUDA_DEVICE();
  rt::CudaBackend gpu;
  gpu.set_batch(cifar_like_batch());
  const Net net(kWorst);
  rt::KMatrix k;
  gpu.compute_k(net.plan, net.params, rt::Counting::Reference, k);
  rt::TensorId absorbed = rt::kNoTensor;
  for (const rt::Op& op : net.graph.ops)
    if (op.kind == rt::OpKind::BatchNorm && op.name == "cells.0.layers.5.op.2") absorbed = op.output;
  ASSERT_NE(absorbed, rt::kNoTensor);
  try {
    (void)gpu.tensor_values(net.plan, absorbed);
    ADD_FAILURE() << "reading a fused-away tensor must throw";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Internal) << e.what();
  }
}

TEST(CudaBackendNb201, ProfilingReportsOpsAndKeepsK) {
  NASWOT_REQUIRE_CUDA_DEVICE();
  rt::CudaBackend gpu;
  gpu.set_batch(cifar_like_batch());
  const Net net(kArchs[0]);
  rt::KMatrix plain, profiled;
  gpu.compute_k(net.plan, net.params, rt::Counting::Reference, plain);
  gpu.set_profiling(true);
  gpu.compute_k(net.plan, net.params, rt::Counting::Reference, profiled);
  EXPECT_TRUE(all_equal(profiled.values.data(), plain.values.data(), plain.values.size()));
  const std::string report = gpu.profile_report();
  std::fprintf(stderr, "%s", report.c_str());
  for (const char* kind : {"conv", "add", "relu", "params+zero"})
    EXPECT_NE(report.find(kind), std::string::npos) << "profile lacks '" << kind << "':\n" << report;
}

}  // namespace
}  // namespace naswot::test
