// Replays a StackPlan (runtime/cuda/stack_plan.h) with the CPU kernels (stack_replay.h): the
// same stacked steps, blocks, gathers, node copies, broadcasts, per-segment terms, statistics and bits, in one
// arena filled with NaN. Every architecture's K must equal CpuBackend's exactly: a wrong rank, an overlapping
// block, a gather from the wrong segment, a lost ReLU view or a tap counted for the wrong
// architecture would change it. Host-only: runs on every machine that builds the CUDA sources.
// The CUDA kernels themselves are compared with their CPU twins in segments_test.cpp, and the
// stacked CUDA path with the lane path and with this replay, step by step, in
// stack_backend_test.cpp.
#include <algorithm>
#include <memory>

#include "cells/darts.h"
#include "cells/nb201.h"
#include "cuda_test_util.h"
#include "darts_test_genotypes.h"
#include "kernels/cuda/bn_add_pack.cuh"
#include "runtime/cpu_backend.h"
#include "runtime/cuda/schedule.h"
#include "runtime/cuda/stack_plan.h"
#include "runtime/random_graph.h"
#include "stack_replay.h"

namespace naswot::test {
namespace {

constexpr uint32_t kStackSeed = kSeed + 1201;

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
    const std::vector<rt::KMatrix> got = replay(sp, batch);
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
  // NB-201's avg_pool edges feed node sums only: every one is a pool view, pooled by the node
  // pass. The residual blocks' downsampling pools feed a conv and run on their own.
  EXPECT_GT(sp.pooled_terms(), 0);
  for (const rt::StackRun& run : sp.runs()) {
    const rt::Op& op = sp.plan(run.arch).graph().ops[static_cast<size_t>(run.op)];
    if (op.name.find("downsample") == std::string::npos) {
      EXPECT_NE(op.kind, rt::OpKind::AvgPool) << "pool '" << op.name << "' runs on its own: it should be a pool view";
    }
  }
  // Conv inputs are ReLU views of node outputs: the nodes write them (copies), so the only gathers
  // left read something else (none in NB-201: its stem output is a node too).
  EXPECT_GT(sp.copied_inputs(), 0);
  // A node member read only through copies (its out-edges all convs or none) does not store its
  // output; StackReplay fails any read of such a segment.
  EXPECT_GT(sp.unstored_outputs(), 0);
  // A gather of node outputs only is left where a source has used every copy slot (a computation
  // that several members share can feed more convolution classes than it has slots).
  std::vector<const rt::StackNode*> node_of_block(sp.blocks().size(), nullptr);
  for (const rt::StackNode& node : sp.nodes()) node_of_block[static_cast<size_t>(node.archs[0].y.block)] = &node;
  for (const rt::StackGather& gather : sp.gathers()) {
    bool all_nodes = true, some_full = false;
    for (const rt::StackRef& r : gather.src) {
      const rt::StackNode* node = r.block == rt::kBatchBlock ? nullptr : node_of_block[static_cast<size_t>(r.block)];
      all_nodes = all_nodes && node != nullptr;
      some_full = some_full || (node != nullptr && node->archs[static_cast<size_t>(r.rank)].copies.size() ==
                                                       static_cast<size_t>(rt::kMaxStackCopies));
    }
    EXPECT_TRUE(!all_nodes || some_full) << "a gather of node outputs with free copy slots: the nodes should have written it";
  }
  // Members that share their first edges share computations: the stem node, cell 0's nodes and
  // the convolutions reading them run once for several members.
  EXPECT_GT(sp.shared_member_steps(), 32) << "more than the stem should be shared";
  EXPECT_EQ(sp.nodes().front().archs.size(), 1u) << "the stem node is one computation for the whole group";
  for (const rt::StackNodeUse& use : sp.nodes().front().uses)
    EXPECT_EQ(use.computation, 0) << "every member that taps the stem takes the bits of that one computation";
  EXPECT_GT(sp.nodes().front().uses.size(), 1u);
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

// stack_order: a permutation that puts equal architectures next to each other and makes groups
// cut from it share more (fewer stacked steps than a group of unrelated architectures).
TEST(CudaStackReplay, StackOrderGroupsSimilarArchitectures) {
  std::vector<std::string> archs;
  for (int i = 0; i < 20; ++i) archs.push_back(cells::to_string(cells::nb201_from_preindex((i * 6007 + 3) % cells::kNb201Size)));
  for (int i = 0; i < 20; ++i) archs.push_back(archs[static_cast<size_t>(i)]);  // each twice, 20 apart
  Group g;
  g.graphs = nb201_graphs(archs);
  prepare(g, {4, 8, 8, 3});
  std::vector<const rt::Plan*> plans;
  for (const auto& p : g.plans) plans.push_back(p.get());
  const std::vector<size_t> order = rt::stack_order(plans);
  std::vector<size_t> sorted = order;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < sorted.size(); ++i) ASSERT_EQ(sorted[i], i) << "not a permutation";
  for (size_t i = 0; i < order.size(); i += 2)
    EXPECT_EQ(archs[order[i]], archs[order[i + 1]]) << "the two copies of an architecture are not adjacent";
  auto steps_of = [&](auto pick) {
    std::vector<const rt::Plan*> pp;
    std::vector<const rt::Params*> qq;
    std::vector<const rt::Schedule*> ss;
    for (size_t i = 0; i < 8; ++i) {
      const size_t a = pick(i);
      pp.push_back(g.plans[a].get());
      qq.push_back(&g.params[a]);
      ss.push_back(&g.schedules[a]);
    }
    rt::StackPlan sp;
    sp.build(pp, qq, ss, rt::Counting::Reference);
    return sp.steps().size();
  };
  EXPECT_LT(steps_of([&](size_t i) { return order[i]; }), steps_of([](size_t i) { return i; }))
      << "a group cut in stack_order should need fewer steps than 8 unrelated architectures";
}

// Node copies: a node read (through a ReLU view) by more convolutions than it has copy slots
// writes the first kMaxStackCopies conv inputs itself; the rest are gathered. K stays exact.
TEST(CudaStackReplay, NodeFanOutBeyondCopySlotsFallsBackToGathers) {
  auto fan = [](int last_kernel) {
    rt::GraphBuilder b;
    rt::ConvAttr a;
    a.out_channels = 3;
    a.kernel_h = a.kernel_w = 1;
    const rt::TensorId stem = b.batchnorm(b.conv(b.input(), "stem", a), "stem_bn");
    std::vector<rt::TensorId> branches;
    for (int i = 0; i < rt::kMaxStackCopies + 2; ++i) {
      rt::ConvAttr c = a;
      if (i == rt::kMaxStackCopies + 1) c.kernel_h = c.kernel_w = last_kernel, c.pad_h = c.pad_w = last_kernel / 2;
      const std::string name = "b" + std::to_string(i);
      branches.push_back(b.batchnorm(b.conv(b.hooked_relu(stem, name + "_relu", true), name + "_conv", c), name + "_bn"));
    }
    const rt::TensorId sum = b.hooked_relu(b.add(branches, "sum"), "out_relu", false);
    return b.finish(b.linear(b.global_avgpool(sum, "gap"), "fc", 2, true));
  };
  rt::StackPlan sp;
  check_group({fan(1), fan(3), fan(1)}, {3, 5, 5, 3}, &sp);
  EXPECT_GE(sp.copied_inputs(), rt::kMaxStackCopies) << "the stem node should write its first conv inputs itself";
  EXPECT_FALSE(sp.gathers().empty()) << "conv inputs beyond the copy slots are gathered";
  for (const rt::StackNodeArch& na : sp.nodes().front().archs)
    EXPECT_TRUE(na.store_y) << "the stem node's output is still gathered, so it is stored";
  for (const rt::StackNode& node : sp.nodes())
    for (const rt::StackNodeArch& na : node.archs) EXPECT_LE(na.copies.size(), static_cast<size_t>(rt::kMaxStackCopies));
}

// Pools: one whose output a convolution reads runs on its own, reading a member subset's inputs
// through a table (no gather); one whose output only node sums read is a pool view (the node
// pass pools), also with stride 2, max pools and both count_include_pad settings. K stays exact.
TEST(CudaStackReplay, PoolsRunThroughTablesOrAsViews) {
  auto graph = [](int first_kernel, bool pool_into_conv, bool max, int stride, bool include_pad) {
    rt::GraphBuilder b;
    rt::ConvAttr a;
    a.out_channels = 3;
    a.kernel_h = a.kernel_w = first_kernel;
    a.pad_h = a.pad_w = first_kernel / 2;
    const rt::TensorId stem = b.batchnorm(b.conv(b.input(), "stem", a), "stem_bn");
    rt::ConvAttr one;
    one.out_channels = 3;
    one.kernel_h = one.kernel_w = 1;
    // Into a conv: the pool's output is read by a Run (pool output stored, table read).
    const rt::TensorId into = pool_into_conv ? b.avgpool(stem, "pool_a", {3, 1, 1, false})
                                             : b.conv(stem, "alt", one);
    const rt::TensorId branch = b.batchnorm(b.conv(into, "after", one), "after_bn");
    // Into the node sum only: a pool view (stride 2 shrinks both terms alike).
    rt::ConvAttr down = one;
    down.stride_h = down.stride_w = stride;
    const rt::PoolAttr pa{3, stride, 1, include_pad};
    const rt::TensorId pooled = max ? b.maxpool(branch, "pool_b", pa) : b.avgpool(branch, "pool_b", pa);
    const rt::TensorId side = b.batchnorm(b.conv(b.hooked_relu(branch, "side_relu", true), "side", down), "side_bn");
    const rt::TensorId sum = b.hooked_relu(b.add({pooled, side}, "sum"), "out_relu", false);
    return b.finish(b.linear(b.global_avgpool(sum, "gap"), "fc", 2, true));
  };
  for (bool max : {false, true})
    for (int stride : {1, 2})
      for (bool include_pad : {false, true}) {
        SCOPED_TRACE(std::string(max ? "max" : "avg") + " pool view, stride " + std::to_string(stride) +
                     (include_pad ? ", count_include_pad" : ""));
        // Stems of kernel 1, 3, 5 differ: the pool class {0, 2} reads ranks 0 and 2 (a table).
        Group g;
        g.graphs = {graph(1, true, max, stride, include_pad), graph(3, false, max, stride, include_pad),
                    graph(5, true, max, stride, include_pad)};
        check_group(g.graphs, {3, 7, 7, 3});
        prepare(g, {3, 7, 7, 3});
        const rt::StackPlan sp = stack(g, rt::Counting::Reference);  // sp.plan() points into g
        int tables = 0, pool_runs = 0;
        for (const rt::StackRun& run : sp.runs()) {
          const rt::Op& op = sp.plan(run.arch).graph().ops[static_cast<size_t>(run.op)];
          pool_runs += op.kind == rt::OpKind::AvgPool || op.kind == rt::OpKind::MaxPool;
          tables += !run.table_src.empty();
        }
        EXPECT_EQ(pool_runs, 1) << "pool_a runs (a conv reads it); pool_b is a view";
        EXPECT_EQ(tables, 1) << "pool_a reads members 0 and 2 through a table";
        EXPECT_EQ(sp.pooled_terms(), 3) << "each member's sum pools branch itself";
      }
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
