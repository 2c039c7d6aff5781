// CudaBackend's stacked execution (set_stacking; runtime/cuda/stack_plan.h, stack_runner.h) on
// the device, against the lane path and the CPU oracle:
//  * NB-201 groups (several groups per call, a partial last group, two workers): diag(K) = N_A
//    exactly, scores within 1e-6 relative of the CPU, K equal to the lane path's except for rare
//    flipped code bits (estimated_flips; cuDNN runs another algorithm for the larger stacked
//    batch, which can flip a bit whose pre-activation is within rounding of zero);
//  * deterministic call to call; the second call allocates nothing (arena, tables and parameter
//    copies are kept);
//  * DARTS neighbours (grouped, dilated and separable convs, Shift, concat) agree with the CPU;
//  * a group without a common order runs on the lane path and still scores correctly;
//  * the runner equals the CPU replay of the same plan after every step (locates a stacked bug).
// The plan logic itself is checked without a device in stack_replay_test.cpp.
#include <cmath>
#include <cstdio>
#include <memory>

#include "cells/darts.h"
#include "cells/nb201.h"
#include "cuda_test_util.h"
#include "darts_test_genotypes.h"
#include "kernels/cpu/logdet.h"
#include "kernels/cuda/bn_add_pack.cuh"
#include "runtime/cpu_backend.h"
#include "runtime/cuda/schedule.h"
#include "runtime/cuda/stack_runner.h"
#include "runtime/params.h"
#include "runtime/plan.h"
#include "stack_replay.h"

namespace naswot::test {
namespace {

constexpr uint32_t kStackNetSeed = kSeed + 1301;
constexpr double kScoreRtol = 1e-6;

rt::Batch batch_of(const rt::Shape4& shape) {
  rt::Batch b;
  b.shape = shape;
  b.data = random_normal(static_cast<size_t>(shape.numel()), 0.0, 1.0, kStackNetSeed);
  b.source = "synthetic normal (stack_backend_test)";
  return b;
}

// Graphs, plans and weights shared through one ParamInitCache, as the search spaces do.
struct Space {
  std::vector<std::unique_ptr<rt::Graph>> graphs;
  std::vector<std::unique_ptr<rt::Plan>> plans;
  std::vector<rt::Params> params;
  std::vector<const rt::Plan*> plan_ptrs;
  std::vector<const rt::Params*> param_ptrs;
  void add_all(std::vector<rt::Graph> gs, const rt::Shape4& shape) {
    rt::ParamInitCache cache(5);
    for (rt::Graph& g : gs) {
      graphs.push_back(std::make_unique<rt::Graph>(std::move(g)));
      plans.push_back(std::make_unique<rt::Plan>(*graphs.back(), shape));
      params.push_back(cache.params_for(*graphs.back()));
    }
    for (size_t i = 0; i < plans.size(); ++i) {
      plan_ptrs.push_back(plans[i].get());
      param_ptrs.push_back(&params[i]);
    }
  }
};

void expect_scores_match(const Space& s, const std::vector<cpu::LogDet>& got, const std::vector<rt::KMatrix>& kg,
                         rt::CpuBackend& cpu, rt::Counting counting) {
  for (size_t i = 0; i < s.plans.size(); ++i) {
    SCOPED_TRACE("architecture " + std::to_string(i));
    rt::KMatrix kc;
    cpu.compute_k(*s.plans[i], s.params[i], counting, kc);
    for (int d = 0; d < kc.n; ++d) EXPECT_EQ(kg[i].at(d, d), s.plans[i]->n_units(counting)) << "diag(K) = N_A";
    const cpu::LogDet lc = cpu::logabsdet(kc.values.data(), kc.n);
    EXPECT_EQ(got[i].method == cpu::LogDetMethod::Singular, lc.method == cpu::LogDetMethod::Singular);
    if (std::isfinite(lc.value)) {
      EXPECT_NEAR(got[i].value, lc.value, kScoreRtol * std::fabs(lc.value));
    } else {
      EXPECT_EQ(got[i].value, lc.value);
    }
  }
}

// Scores `s` stacked (groups of `group`, `workers` in flight) and checks them against the CPU.
void expect_stacked_matches_cpu(const Space& s, const rt::Shape4& shape, int group, int workers,
                                int64_t expected_fallbacks) {
  rt::CudaBackend gpu;
  gpu.set_batch(batch_of(shape));
  gpu.set_stacking(group, workers);
  std::vector<rt::KMatrix> kg;
  const std::vector<cpu::LogDet> got = gpu.score_many(s.plan_ptrs, s.param_ptrs, rt::Counting::Reference, &kg);
  EXPECT_EQ(gpu.stacking_fallbacks(), expected_fallbacks);
  rt::CpuBackend cpu;
  cpu.set_batch(batch_of(shape));
  expect_scores_match(s, got, kg, cpu, rt::Counting::Reference);
}

TEST(CudaStacked, Nb201MatchesCpuAndLanes) {
  NASWOT_REQUIRE_CUDA_DEVICE();
  const rt::Shape4 shape{32, 32, 32, 3};
  const rt::Batch batch = batch_of(shape);
  Space s;
  std::vector<rt::Graph> gs;
  for (int i = 0; i < 11; ++i) gs.push_back(cells::build_nb201(cells::nb201_from_preindex((i * 4099 + 7) % cells::kNb201Size)));
  gs.push_back(cells::build_nb201(cells::parse_nb201("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|")));
  s.add_all(std::move(gs), shape);

  rt::CudaBackend lanes;
  lanes.set_stacking(0);  // the lane path, whatever NASWOT_CUDA_STACK says
  lanes.set_batch(batch);
  std::vector<rt::KMatrix> kl;
  const std::vector<cpu::LogDet> by_lanes = lanes.score_many(s.plan_ptrs, s.param_ptrs, rt::Counting::Reference, &kl);

  rt::CudaBackend gpu;
  gpu.set_batch(batch);
  gpu.set_stacking(5, 2);  // 12 architectures: groups of 5, 5, 2 on two workers
  std::vector<rt::KMatrix> kg;
  const std::vector<cpu::LogDet> got = gpu.score_many(s.plan_ptrs, s.param_ptrs, rt::Counting::Reference, &kg);
  ASSERT_EQ(got.size(), s.plans.size());
  EXPECT_EQ(gpu.stacking_fallbacks(), 0);

  double flips = 0.0, bits = 0.0;
  for (size_t i = 0; i < kg.size(); ++i) {
    flips += estimated_flips(kg[i].values.data(), kl[i].values.data(), kg[i].n);
    bits += static_cast<double>(kg[i].n) * static_cast<double>(s.plans[i]->n_units(rt::Counting::Reference));
    if (std::isfinite(by_lanes[i].value)) {
      EXPECT_NEAR(got[i].value, by_lanes[i].value, kScoreRtol * std::fabs(by_lanes[i].value)) << "vs lanes, " << i;
    }
  }
  std::fprintf(stderr, "stacked vs lanes: ~%.1f flipped code bits of %.3g (rate %.2e)\n", flips, bits, flips / bits);
  EXPECT_LE(flips, kMaxFlipRate * bits) << "stacked K departs from the lane path's by more than rare flipped bits";

  rt::CpuBackend cpu;
  cpu.set_batch(batch);
  expect_scores_match(s, got, kg, cpu, rt::Counting::Reference);

  // Deterministic, and warm: the second call allocates nothing.
  const rt::AllocationCounters warm = rt::allocation_counters();
  const int64_t warm_growths = gpu.workspace_growths();
  std::vector<rt::KMatrix> again;
  (void)gpu.score_many(s.plan_ptrs, s.param_ptrs, rt::Counting::Reference, &again);
  EXPECT_EQ(rt::allocation_counters(), warm) << "the second stacked call allocated";
  EXPECT_EQ(gpu.workspace_growths(), warm_growths) << "the second stacked call grew a workspace";
  for (size_t i = 0; i < kg.size(); ++i) EXPECT_EQ(again[i].values, kg[i].values) << "call to call, " << i;

  // Unit counting through the same stacked path.
  std::vector<rt::KMatrix> ku;
  const std::vector<cpu::LogDet> unit = gpu.score_many(s.plan_ptrs, s.param_ptrs, rt::Counting::Unit, &ku);
  expect_scores_match(s, unit, ku, cpu, rt::Counting::Unit);
}

TEST(CudaStacked, DartsNeighboursMatchCpu) {
  NASWOT_REQUIRE_CUDA_DEVICE();
  const rt::Shape4 shape{16, 32, 32, 3};
  const std::vector<cells::DartsGenotype> genotypes = darts_neighbour_group(6);
  cells::DartsConfig config;
  config.width = 8;
  config.depth = 5;
  std::vector<rt::Graph> gs;
  for (const cells::DartsGenotype& g : genotypes) gs.push_back(cells::build_darts(g, config));
  Space s;
  s.add_all(std::move(gs), shape);
  expect_stacked_matches_cpu(s, shape, 4, 1, 0);
}

// Two networks that run the same convolutions in opposite orders: no common order, so the
// group falls back to the lane path (counted) and the scores are still the CPU's.
TEST(CudaStacked, GroupWithoutCommonOrderFallsBackToLanes) {
  NASWOT_REQUIRE_CUDA_DEVICE();
  auto chain = [](bool swap) {
    rt::GraphBuilder b;
    rt::TensorId x = b.input();
    rt::ConvAttr a;
    a.out_channels = 3;  // = input channels: both convs have one weight shape, so one tensor each
    a.kernel_h = a.kernel_w = 3;
    a.pad_h = a.pad_w = 1;
    for (const char* name : {swap ? "second" : "first", swap ? "first" : "second"})
      x = b.conv(b.hooked_relu(x, std::string(name) + ".act", /*wrapped=*/true), name, a);
    x = b.hooked_relu(b.batchnorm(x, "bn"), "act", /*wrapped=*/false);
    return b.finish(b.linear(b.global_avgpool(x, "gap"), "fc", 2, true));
  };
  const rt::Shape4 shape{16, 8, 8, 3};
  std::vector<rt::Graph> gs;
  gs.push_back(chain(false));
  gs.push_back(chain(true));
  Space s;
  s.add_all(std::move(gs), shape);
  expect_stacked_matches_cpu(s, shape, 2, 1, 1);
}

TEST(CudaStacked, ProfilingReportsStepKindsAndKeepsK) {
  NASWOT_REQUIRE_CUDA_DEVICE();
  const rt::Shape4 shape{16, 32, 32, 3};
  std::vector<rt::Graph> gs;
  for (int i = 0; i < 5; ++i) gs.push_back(cells::build_nb201(cells::nb201_from_preindex(i * 3001 + 11)));
  Space s;
  s.add_all(std::move(gs), shape);
  rt::CudaBackend gpu;
  gpu.set_batch(batch_of(shape));
  gpu.set_stacking(3, 1);
  std::vector<rt::KMatrix> plain, profiled;
  (void)gpu.score_many(s.plan_ptrs, s.param_ptrs, rt::Counting::Reference, &plain);
  gpu.set_profiling(true);
  (void)gpu.score_many(s.plan_ptrs, s.param_ptrs, rt::Counting::Reference, &profiled);
  for (size_t i = 0; i < plain.size(); ++i) EXPECT_EQ(profiled[i].values, plain[i].values) << i;
  const std::string report = gpu.profile_report();
  // (No "gather": NB-201 groups have none left now that node passes write the conv inputs.)
  for (const char* kind : {"stacked execution", "prepare", "conv", "node"})
    EXPECT_NE(report.find(kind), std::string::npos) << "profile lacks '" << kind << "':\n" << report;
}

// The runner against the CPU replay of the same StackPlan, step by step (like prefix_test.cpp
// for the lanes): after every step the block it wrote is downloaded and compared with the
// replay's; every step's deviation is printed and the first one beyond convolution rounding is
// marked, so a stacked bug is located in one GPU run. K is compared at the end.
void check_step_by_step(cuda::NodePass pass) {
  const rt::Shape4 shape{8, 32, 32, 3};
  std::vector<rt::Graph> gs;
  for (int i = 0; i < 6; ++i) gs.push_back(cells::build_nb201(cells::nb201_from_preindex(i * 2609 + 5)));
  gs.push_back(cells::build_nb201(cells::parse_nb201("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|")));
  Space s;
  s.add_all(std::move(gs), shape);
  std::vector<rt::Schedule> schedules(s.plans.size());
  std::vector<const rt::Schedule*> sched_ptrs;
  for (size_t i = 0; i < s.plans.size(); ++i) {
    schedules[i].build(*s.plans[i], cuda::kMaxBnAddTerms);
    sched_ptrs.push_back(&schedules[i]);
  }
  rt::StackPlan sp;
  sp.build(s.plan_ptrs, s.param_ptrs, sched_ptrs, rt::Counting::Reference);
  const rt::Batch batch = batch_of(shape);
  StackReplay cpu(sp, batch);

  TestStream stream;
  auto device_batch = to_device(batch.data, stream.get());
  const size_t kk = static_cast<size_t>(shape.n) * static_cast<size_t>(shape.n);
  rt::DeviceBuffer<int64_t> k(kk * s.plans.size(), "K");
  rt::fill_zero(k.data(), k.bytes(), stream.get());
  rt::synchronize(stream.get());
  std::vector<int64_t*> k_out;
  for (size_t i = 0; i < s.plans.size(); ++i) k_out.push_back(k.data() + i * kk);
  rt::ConvPlanCache convs;
  rt::StackRunner runner;
  runner.set_node_pass(pass);
  int failures = 0;
  runner.set_step_hook([&](size_t p) {
    cpu.step(p);
    const rt::StackStep& step = sp.steps()[p];
    // (block, first segment, segments) written by this step; taps write only bits and K (compared at the end).
    struct Written {
      int block, rank, segments;
      std::string label;  // empty: the step itself
    };
    std::vector<Written> written;
    std::string what;
    if (step.kind == rt::StackStepKind::Gather) {
      const int block = sp.gathers()[static_cast<size_t>(step.index)].dst_block;
      written.push_back({block, 0, sp.blocks()[static_cast<size_t>(block)].segments, ""});
      what = "gather";
    } else if (step.kind == rt::StackStepKind::Run) {
      const rt::StackRun& run = sp.runs()[static_cast<size_t>(step.index)];
      written.push_back({run.out_block, 0, sp.blocks()[static_cast<size_t>(run.out_block)].segments, ""});
      const rt::Op& op = sp.plan(run.arch).graph().ops[static_cast<size_t>(run.op)];
      what = std::string(rt::to_string(op.kind)) + " " + op.name;
    } else if (step.kind == rt::StackStepKind::Node) {
      const rt::StackNode& node = sp.nodes()[static_cast<size_t>(step.index)];
      for (const rt::StackNodeArch& na : node.archs)
        if (na.store_y)  // unread outputs are not stored
          written.push_back({na.y.block, na.y.rank, 1, "  output segment " + std::to_string(na.y.rank)});
      for (const rt::StackNodeArch& na : node.archs)
        for (const rt::StackCopy& copy : na.copies)
          written.push_back({copy.block, copy.rank, 1,
                             "  copy to block " + std::to_string(copy.block) + " segment " + std::to_string(copy.rank)});
      what = "node " + sp.plan(node.arch).graph().ops[static_cast<size_t>(node.op)].name;
      if (written.empty()) std::printf("stacked step %3zu %-44s bits only (compared through K)\n", p, what.c_str());
    }
    for (size_t w = 0; w < written.size(); ++w) {
      const Written& wr = written[w];
      const rt::StackBlock& b = sp.blocks()[static_cast<size_t>(wr.block)];
      const size_t floats = static_cast<size_t>(b.seg_floats) * static_cast<size_t>(wr.segments);
      const std::vector<float> got = runner.download(sp, wr.block, wr.rank, floats);
      const float* ref = cpu.seg(wr.block, wr.rank);
      double max_ref = 0.0, max_diff = 0.0;
      for (size_t e = 0; e < floats; ++e) {
        max_ref = std::max(max_ref, std::fabs(static_cast<double>(ref[e])));
        max_diff = std::max(max_diff, std::fabs(static_cast<double>(got[e]) - ref[e]));
      }
      const bool bad = !(max_diff <= 1e-3 * max_ref + 1e-6);
      std::printf("stacked step %3zu %-44s %2d segments max|ref| %.3e max|diff| %.3e%s\n", p,
                  (wr.label.empty() ? what : wr.label).c_str(),
                  wr.segments, max_ref, max_diff, bad ? "  <-- DIFFERS" : "");
      if (bad) ++failures;
    }
  });
  runner.enqueue(sp, device_batch.data(), convs, k_out);
  rt::synchronize(runner.stream());
  EXPECT_EQ(failures, 0) << "the first step marked DIFFERS above is where the stacked runner departs from the replay";
  EXPECT_GT(runner.param_uploads(), 0);
  const int64_t uploads = runner.param_uploads();
  runner.set_step_hook({});
  rt::fill_zero(k.data(), k.bytes(), runner.stream());
  runner.enqueue(sp, device_batch.data(), convs, k_out);  // again: every weight is already on the device
  rt::synchronize(runner.stream());
  EXPECT_EQ(runner.param_uploads(), uploads) << "the second run uploaded weights again";
  std::vector<int64_t> got(kk * s.plans.size());
  rt::copy_to_host(got.data(), k.data(), got.size() * sizeof(int64_t), stream.get());
  rt::synchronize(stream.get());
  for (size_t i = 0; i < s.plans.size(); ++i) {
    for (int d = 0; d < shape.n; ++d)
      EXPECT_EQ(got[i * kk + static_cast<size_t>(d) * shape.n + d], s.plans[i]->n_units(rt::Counting::Reference))
          << "architecture " << i << ": diag(K) = N_A";
    const double flips = estimated_flips(got.data() + i * kk, cpu.ks()[i].values.data(), shape.n);
    const double bits = static_cast<double>(shape.n) * static_cast<double>(s.plans[i]->n_units(rt::Counting::Reference));
    EXPECT_LE(flips, kMaxFlipRate * bits) << "architecture " << i << ": K differs from the replay's by ~" << flips
                                          << " flipped code bits of " << bits;
  }
}

TEST(CudaStacked, StepByStepMatchesCpuReplay) {
  NASWOT_REQUIRE_CUDA_DEVICE();
  check_step_by_step(cuda::NodePass::PerElement);
}

TEST(CudaStacked, StepByStepMatchesCpuReplayWithTheBatchedNodePass) {
  NASWOT_REQUIRE_CUDA_DEVICE();
  check_step_by_step(cuda::NodePass::Batched);
}

TEST(CudaStacked, RejectsBadSettings) {
  NASWOT_REQUIRE_CUDA_DEVICE();
  rt::CudaBackend gpu;
  NASWOT_EXPECT_BAD_INPUT(gpu.set_stacking(-1), "stacking group");
  NASWOT_EXPECT_BAD_INPUT(gpu.set_stacking(8, 0), "workers");
}

}  // namespace
}  // namespace naswot::test
