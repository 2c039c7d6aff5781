// Replays a StackPlan (runtime/cuda/stack_plan.h) with the CPU kernels: the same stacked steps,
// blocks, gathers, broadcasts, per-segment terms, statistics and bits, in one arena filled with
// NaN. Every architecture's K must equal CpuBackend's exactly: a wrong rank, an overlapping
// block, a gather from the wrong segment, a lost ReLU view or a tap counted for the wrong
// architecture would change it. Host-only: runs on every machine that builds the CUDA sources.
// The CUDA kernels themselves are compared with their CPU twins in segments_test.cpp, and the
// stacked CUDA path with the lane path in backend_test.cpp.
#include <cmath>
#include <limits>
#include <memory>

#include "cells/darts.h"
#include "cells/nb201.h"
#include "cpu_run_op.h"
#include "cuda_test_util.h"
#include "darts_test_genotypes.h"
#include "kernels/cpu/batchnorm.h"
#include "kernels/cpu/bn_add_pack.h"
#include "kernels/cpu/popcount_k.h"
#include "kernels/cpu/signpack.h"
#include "kernels/cuda/bn_add_pack.cuh"
#include "runtime/cpu_backend.h"
#include "runtime/cuda/schedule.h"
#include "runtime/cuda/stack_plan.h"
#include "runtime/random_graph.h"

namespace naswot::test {
namespace {

constexpr uint32_t kStackSeed = kSeed + 1201;

std::vector<rt::KMatrix> replay(const rt::StackPlan& sp, rt::Counting counting, const rt::Batch& batch) {
  (void)counting;  // the weights are in the plan
  std::vector<float> arena(sp.arena_floats(), std::numeric_limits<float>::quiet_NaN());
  auto ptr = [&](const rt::StackRef& r) -> float* {
    if (r.block == rt::kBatchBlock) return const_cast<float*>(batch.data.data());
    return arena.data() + sp.blocks()[static_cast<size_t>(r.block)].segment_offset(r.rank);
  };
  auto seg = [&](int block, int rank) -> float* {
    if (block == rt::kBatchBlock) {
      EXPECT_EQ(rank, 0);
      return const_cast<float*>(batch.data.data());
    }
    return arena.data() + sp.blocks()[static_cast<size_t>(block)].segment_offset(rank);
  };
  auto bits_of = [&](int block, int rank) { return reinterpret_cast<uint64_t*>(seg(block, rank)); };
  const int n = batch.shape.n;
  std::vector<rt::KMatrix> ks(static_cast<size_t>(sp.architectures()));
  for (rt::KMatrix& k : ks) k.reset(n);

  for (const rt::StackStep& step : sp.steps()) {
    switch (step.kind) {
      case rt::StackStepKind::Gather: {
        const rt::StackGather& g = sp.gathers()[static_cast<size_t>(step.index)];
        const rt::StackBlock& dst = sp.blocks()[static_cast<size_t>(g.dst_block)];
        for (size_t s = 0; s < g.src.size(); ++s) {
          const float* x = ptr(g.src[s]);
          float* y = seg(g.dst_block, static_cast<int>(s));
          if (g.src[s].relu)
            cpu::relu(x, dst.seg_floats, y);
          else
            std::copy(x, x + dst.seg_floats, y);
        }
        break;
      }
      case rt::StackStepKind::Run: {
        const rt::StackRun& run = sp.runs()[static_cast<size_t>(step.index)];
        const rt::Plan& plan = sp.plan(run.arch);
        const rt::Op& op = plan.graph().ops[static_cast<size_t>(run.op)];
        std::vector<rt::Shape4> in;
        for (rt::TensorId t : op.inputs) in.push_back(plan.tensor(t).shape);
        for (int s = 0; s < run.segments; ++s) {  // per segment: conv results must not depend on N
          std::vector<const float*> xs;
          for (size_t k = 0; k < op.inputs.size(); ++k)
            xs.push_back(run.table_src.empty() ? seg(run.in_block[k], run.in_rank[k] + s)
                                               : ptr(run.table_src[static_cast<size_t>(s)]));
          cpu_run_op(op, in, plan.tensor(op.output).shape, xs, run.weight ? run.weight->data.data() : nullptr,
                     run.bias ? run.bias->data.data() : nullptr, seg(run.out_block, s));
        }
        break;
      }
      case rt::StackStepKind::Node: {
        const rt::StackNode& node = sp.nodes()[static_cast<size_t>(step.index)];
        const int c = node.out.c;
        const int64_t rows = static_cast<int64_t>(node.out.n) * node.out.h * node.out.w;
        const int64_t c_aligned = rt::stack_stats_floats(c) / 3;
        for (const rt::StackStats& st : node.stats) {
          float* mean = seg(node.stats_block, st.rank);
          cpu::batchnorm_stats(ptr(st.x), rows, c, mean, mean + c_aligned);
          cpu::batchnorm_invstd(mean + c_aligned, c, st.eps, mean + 2 * c_aligned);
        }
        for (size_t i = 0; i < node.archs.size(); ++i) {
          const rt::StackNodeArch& na = node.archs[i];
          std::vector<cpu::BnAddTerm> terms;
          for (const rt::StackNodeTerm& t : na.terms) {
            cpu::BnAddTerm term;
            term.x = ptr(t.x);
            term.zero = t.zero;
            if (t.stats >= 0) {
              const float* mean = seg(node.stats_block, node.stats[static_cast<size_t>(t.stats)].rank);
              term.mean = mean;
              term.invstd = mean + 2 * c_aligned;
              term.gamma = t.gamma->data.data();
              term.beta = t.beta->data.data();
            }
            terms.push_back(term);
          }
          uint64_t* bits = na.weight != 0 ? bits_of(node.bits_block, static_cast<int>(i)) : nullptr;
          cpu::bn_add_pack(terms.data(), static_cast<int>(terms.size()), node.sum_from_zero, node.out.n,
                           node.out.per_image(), c, ptr(na.y), nullptr, bits);
          if (bits != nullptr)
            cpu::popcount_k_accumulate(bits, n, cpu::sign_words(node.out.per_image()), node.out.per_image(), na.weight,
                                       ks[static_cast<size_t>(na.arch)].values.data());
        }
        break;
      }
      case rt::StackStepKind::Tap: {
        const rt::StackTap& tap = sp.taps()[static_cast<size_t>(step.index)];
        for (size_t i = 0; i < tap.archs.size(); ++i) {
          uint64_t* bits = bits_of(tap.bits_block, static_cast<int>(i));
          cpu::sign_pack(ptr(tap.archs[i].x), tap.n, tap.units, bits);
          cpu::popcount_k_accumulate(bits, tap.n, cpu::sign_words(tap.units), tap.units, tap.archs[i].weight,
                                     ks[static_cast<size_t>(tap.archs[i].arch)].values.data());
        }
        break;
      }
    }
  }
  return ks;
}

struct Group {
  std::vector<rt::Graph> graphs;
  std::vector<std::unique_ptr<rt::Plan>> plans;
  std::vector<rt::Params> params;
  std::vector<rt::Schedule> schedules;
};

// Plans, shared-weight parameters (one ParamInitCache) and schedules for `graphs`.
void prepare(Group& g, const rt::Shape4& shape) {
  rt::ParamInitCache cache(11);
  for (const rt::Graph& graph : g.graphs) {
    g.plans.push_back(std::make_unique<rt::Plan>(graph, shape));
    g.params.push_back(cache.params_for(graph));
  }
  g.schedules.resize(g.graphs.size());
  for (size_t i = 0; i < g.graphs.size(); ++i) g.schedules[i].build(*g.plans[i], cuda::kMaxBnAddTerms);
}

rt::StackPlan stack(const Group& g, rt::Counting counting) {
  std::vector<const rt::Plan*> plans;
  std::vector<const rt::Params*> params;
  std::vector<const rt::Schedule*> schedules;
  for (size_t i = 0; i < g.graphs.size(); ++i) {
    plans.push_back(g.plans[i].get());
    params.push_back(&g.params[i]);
    schedules.push_back(&g.schedules[i]);
  }
  rt::StackPlan sp;
  sp.build(plans, params, schedules, counting);
  return sp;
}

// Every architecture's K from the stacked replay equals CpuBackend's, both countings.
void check_group(std::vector<rt::Graph> graphs, const rt::Shape4& shape, rt::StackPlan* out = nullptr) {
  Group g;
  g.graphs = std::move(graphs);
  prepare(g, shape);
  rt::Batch batch;
  batch.shape = shape;
  batch.data = random_normal(static_cast<size_t>(shape.numel()), 0.0, 1.0, kStackSeed);
  batch.source = "stack replay";
  rt::CpuBackend cpu;
  cpu.set_batch(batch);
  for (rt::Counting counting : {rt::Counting::Reference, rt::Counting::Unit}) {
    const rt::StackPlan sp = stack(g, counting);
    const std::vector<rt::KMatrix> got = replay(sp, counting, batch);
    for (size_t a = 0; a < g.graphs.size(); ++a) {
      rt::KMatrix ref;
      cpu.compute_k(*g.plans[a], g.params[a], counting, ref);
      EXPECT_TRUE(all_equal(got[a].values.data(), ref.values.data(), ref.values.size()))
          << "architecture " << a << " of " << g.graphs.size() << ", counting " << rt::to_string(counting);
    }
    if (out != nullptr && counting == rt::Counting::Reference) *out = sp;
  }
}

cells::Nb201Config small_nb201() {
  cells::Nb201Config config;
  config.input_size = 8;
  config.channels = 4;
  config.cells_per_stage = 2;
  return config;
}

std::vector<rt::Graph> nb201_graphs(const std::vector<std::string>& archs) {
  std::vector<rt::Graph> graphs;
  for (const std::string& a : archs) graphs.push_back(cells::build_nb201(cells::parse_nb201(a), small_nb201()));
  return graphs;
}

TEST(CudaStackReplay, KEqualsCpuBackendOnNb201Group) {
  std::vector<std::string> archs = {
      "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|",
      "|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|none~1|nor_conv_3x3~2|",
      "|nor_conv_1x1~0|+|skip_connect~0|nor_conv_3x3~1|+|avg_pool_3x3~0|nor_conv_1x1~1|skip_connect~2|",
      "|avg_pool_3x3~0|+|none~0|nor_conv_1x1~1|+|nor_conv_3x3~0|none~1|avg_pool_3x3~2|",
      "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|",
      "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|",
  };
  archs.push_back(archs[1]);  // the same architecture twice in one group
  rt::StackPlan sp;
  check_group(nb201_graphs(archs), {6, 8, 8, 3}, &sp);
  EXPECT_GT(sp.broadcast_runs(), 0) << "the stem is the same for every member and runs once";
}

// The point of stacking: a group of 32 NB-201 architectures (full size, batch 128; plans only)
// needs a small fraction of the steps its members would run one by one.
TEST(CudaStackReplay, StackingMergesSteps) {
  Group g;
  for (int i = 0; i < 32; ++i) g.graphs.push_back(cells::build_nb201(cells::nb201_from_preindex((i * 7919 + 13) % cells::kNb201Size), {}));
  prepare(g, {128, 32, 32, 3});
  const rt::StackPlan sp = stack(g, rt::Counting::Reference);
  EXPECT_LT(static_cast<int64_t>(sp.steps().size()) * 4, sp.member_steps())
      << sp.steps().size() << " stacked steps for " << sp.member_steps() << " member steps";
  EXPECT_EQ(sp.architectures(), 32);
  int pools_through_tables = 0;
  for (const rt::StackRun& run : sp.runs()) pools_through_tables += !run.table_src.empty();
  EXPECT_GT(pools_through_tables, 0) << "avg pools of member subsets read through tables, not gathers";
}

TEST(CudaStackReplay, KEqualsCpuBackendOnRandomNb201Groups) {
  for (int group = 0; group < 3; ++group) {
    std::vector<std::string> archs;
    for (int i = 0; i < 9; ++i)
      archs.push_back(cells::to_string(cells::nb201_from_preindex((group * 7919 + i * 1303 + 17) % cells::kNb201Size)));
    SCOPED_TRACE("group " + std::to_string(group));
    check_group(nb201_graphs(archs), {5, 8, 8, 3});
  }
}

TEST(CudaStackReplay, SingleArchitectureGroupEqualsCpu) {
  check_group(nb201_graphs({"|nor_conv_1x1~0|+|skip_connect~0|nor_conv_3x3~1|+|avg_pool_3x3~0|nor_conv_1x1~1|"
                            "skip_connect~2|"}),
              {4, 8, 8, 3});
}

// DARTS networks: concats, separable and dilated convs, shifts, max pools, cells whose topology
// differs between members (one-edit neighbours of one genotype share most weights).
TEST(CudaStackReplay, KEqualsCpuBackendOnDartsNeighbours) {
  const std::vector<cells::DartsGenotype> genotypes = darts_neighbour_group(5);
  cells::DartsConfig config;
  config.width = 4;
  config.depth = 3;
  config.input_size = 8;
  std::vector<rt::Graph> graphs;
  for (const cells::DartsGenotype& gt : genotypes) graphs.push_back(cells::build_darts(gt, config));
  check_group(std::move(graphs), {4, 8, 8, 3});
}

// Unrelated random graphs (every op kind, dead branches, taps on the input, duplicate ReLUs):
// few classes merge, but every member's K must still be exact.
TEST(CudaStackReplay, KEqualsCpuBackendOnRandomGraphs) {
  std::vector<rt::Graph> graphs;
  for (uint32_t seed = 0; seed < 6; ++seed) graphs.push_back(random_graph(kStackSeed + seed));
  check_group(std::move(graphs), {4, 8, 8, 3});
}

// Two architectures that run the same two convolutions in opposite orders cannot share one order.
TEST(CudaStackReplay, InconsistentOrdersAreRefused) {
  auto chain = [](bool swap) {
    rt::GraphBuilder b;
    rt::TensorId x = b.input();
    rt::ConvAttr a;
    a.out_channels = 3;
    a.kernel_h = a.kernel_w = 1;
    for (const char* name : {swap ? "second" : "first", swap ? "first" : "second"}) x = b.conv(x, name, a);
    x = b.hooked_relu(x, "act", /*wrapped=*/false);
    return b.finish(b.linear(b.global_avgpool(x, "gap"), "fc", 2, true));
  };
  Group g;
  g.graphs.push_back(chain(false));
  g.graphs.push_back(chain(true));
  prepare(g, {2, 4, 4, 3});
  try {
    stack(g, rt::Counting::Reference);
    ADD_FAILURE() << "expected an Internal error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Internal);
    EXPECT_NE(std::string(e.what()).find("inconsistently"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace naswot::test
