// DARTS NetworkCIFAR / NetworkImageNet graphs (cells/darts_graph.cpp, reference-semantics.md
// §4.2-4.4): reference state_dict names, shapes and order; the hook census (ReLUConvBN wrappers
// weight 2, every other ReLU weight 1); hand-computed N_A; reachability (an unused cell input's
// preprocessing and a whole unused cell drop out, a `none` edge keeps its input counted); the
// ImageNet stem; FactorizedReduce's shift; networks the reference cannot run are rejected; and the
// CPU backend against the naive reference executor on small DARTS networks.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "cells/darts.h"
#include "runtime/cpu_backend.h"
#include "runtime/error.h"
#include "runtime/params.h"
#include "runtime/plan.h"
#include "runtime/reference_executor.h"
#include "test_util.h"

namespace naswot::cells {
namespace {

using rt::Counting;
using rt::Graph;
using rt::Op;
using rt::OpKind;

constexpr uint32_t kBatchSeed = test::kSeed + 51;
constexpr uint64_t kWeightSeed = test::kSeed + 52;

DartsGenotype genotype(const std::string& normal, const std::string& reduce) {
  return parse_darts_compact(normal, reduce);
}

DartsConfig config(int width, int depth, int size, bool imagenet = false) {
  DartsConfig c;
  c.width = width;
  c.depth = depth;
  c.input_size = size;
  c.imagenet = imagenet;
  return c;
}

const Op& op_named(const Graph& g, const std::string& name, OpKind kind) {
  for (const Op& op : g.ops)
    if (op.name == name && op.kind == kind) return op;
  throw std::runtime_error("no " + std::string(rt::to_string(kind)) + " op named " + name);
}

std::map<std::string, std::vector<int64_t>> param_shapes(const Graph& g) {
  std::map<std::string, std::vector<int64_t>> m;
  for (const rt::ParamSpec& p : g.params) EXPECT_TRUE(m.emplace(p.name, p.shape).second) << "duplicate " << p.name;
  return m;
}

// Names of the Tap ops the plan counts, and of those it drops.
struct TapSplit {
  std::set<std::string> counted, dropped;
};
TapSplit tap_split(const Graph& g, const rt::Plan& plan) {
  TapSplit s;
  for (size_t i = 0; i < g.ops.size(); ++i)
    if (g.ops[i].kind == OpKind::Tap)
      (plan.tap_slot(static_cast<int>(i)) >= 0 ? s.counted : s.dropped).insert(g.ops[i].name);
  return s;
}

bool any_with_prefix(const std::set<std::string>& names, const std::string& prefix) {
  return std::any_of(names.begin(), names.end(), [&](const std::string& n) { return n.rfind(prefix, 0) == 0; });
}

rt::Shape4 input_shape(int size, int n = 2) { return {n, size, size, 3}; }

TEST(DartsGraph, ReferenceParameterNamesAndShapes) {
  // width 4, depth 3: cell 0 normal (C=4), cells 1 and 2 reductions (C=8, 16); cell 2 follows a
  // reduction, so its preprocess0 is a FactorizedReduce.
  const DartsGenotype g = genotype("sep_conv_3x3~0,dil_conv_5x5~1,conv_3x1_1x3~2,skip_connect~0",
                                   "skip_connect~0,max_pool_3x3~1,conv_1x1~2,none~1");
  const Graph net = build_darts(g, config(4, 3, 8));
  const auto p = param_shapes(net);
  using V = std::vector<int64_t>;
  const std::map<std::string, V> want = {
      {"stem.0.weight", {12, 3, 3, 3}},
      {"stem.1.weight", {12}},
      {"cells.0.preprocess0.op.1.weight", {4, 12, 1, 1}},
      {"cells.0.preprocess0.op.2.running_var", {4}},
      {"cells.0.preprocess1.op.1.weight", {4, 12, 1, 1}},
      {"cells.0._ops.0.op.1.weight", {4, 1, 3, 3}},  // depthwise: groups = C
      {"cells.0._ops.0.op.2.weight", {4, 4, 1, 1}},
      {"cells.0._ops.0.op.3.bias", {4}},
      {"cells.0._ops.0.op.5.weight", {4, 1, 3, 3}},
      {"cells.0._ops.0.op.6.weight", {4, 4, 1, 1}},
      {"cells.0._ops.0.op.7.weight", {4}},
      {"cells.0._ops.1.op.1.weight", {4, 1, 5, 5}},
      {"cells.0._ops.1.op.2.weight", {4, 4, 1, 1}},
      {"cells.0._ops.1.op.3.weight", {4}},
      {"cells.0._ops.2.1.weight", {4, 4, 1, 3}},  // plain nn.Sequential: no .op
      {"cells.0._ops.2.2.weight", {4, 4, 3, 1}},
      {"cells.0._ops.2.3.weight", {4}},
      {"cells.1.preprocess0.op.1.weight", {8, 12, 1, 1}},
      {"cells.1.preprocess1.op.1.weight", {8, 8, 1, 1}},  // C_prev = len(concat) * 4
      {"cells.1._ops.0.conv_1.weight", {4, 8, 1, 1}},     // skip_connect at stride 2
      {"cells.1._ops.0.conv_2.weight", {4, 8, 1, 1}},
      {"cells.1._ops.0.bn.weight", {8}},
      {"cells.1._ops.2.1.weight", {8, 8, 1, 1}},
      {"cells.2.preprocess0.conv_1.weight", {8, 8, 1, 1}},  // FactorizedReduce(8 -> 16)
      {"cells.2.preprocess0.conv_2.weight", {8, 8, 1, 1}},
      {"cells.2.preprocess0.bn.weight", {16}},
      {"cells.2.preprocess1.op.1.weight", {16, 16, 1, 1}},
      {"classifier.classifier.weight", {1, 32}},
      {"classifier.classifier.bias", {1}},
  };
  for (const auto& [name, shape] : want) {
    ASSERT_TRUE(p.count(name)) << "missing " << name;
    EXPECT_EQ(p.at(name), shape) << name;
  }
  // Exactly these modules have parameters: 4 conv/linear-only tensors and 5 per BN. Count per
  // module: stem 1+5; cell0: 2x(1+5) + sep(4+10) + dil(2+5) + conv_3x1_1x3(2+5); cell1: 2x(1+5) +
  // FR(2+5) + conv_1x1(1+5); cell2: FR(2+5) + (1+5) + FR(2+5) + conv_1x1(1+5); classifier 2.
  EXPECT_EQ(net.params.size(), 6u + (12 + 14 + 7 + 7) + (12 + 7 + 6) + (7 + 6 + 7 + 6) + 2);
  // Parameters in module creation (state_dict) order: stem first, classifier last, cells ascending.
  EXPECT_EQ(net.params.front().name, "stem.0.weight");
  EXPECT_EQ(net.params.back().name, "classifier.classifier.bias");
  size_t last_cell = 0;
  for (const rt::ParamSpec& s : net.params) {
    if (s.name.rfind("cells.", 0) != 0) continue;
    const size_t k = std::stoul(s.name.substr(6));
    EXPECT_GE(k, last_cell) << s.name;
    last_cell = k;
  }
  // PyTorch default init: depthwise conv fan-in is k*k (C_in / groups = 1).
  for (const rt::ParamSpec& s : net.params)
    if (s.name == "cells.0._ops.0.op.1.weight") {
      EXPECT_EQ(s.init, rt::ParamInit::UniformFanIn);
      EXPECT_EQ(s.fan_in, 9);
    }
}

TEST(DartsGraph, HookWeights) {
  // Only ReLUConvBN (the 1x1 preprocessing) is a wrapper whose class name contains "ReLU":
  // weight 2 in reference counting; every other hooked ReLU weight 1; unit counting 1 throughout.
  const DartsGenotype v2 = parse_darts_genotype(
      "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), "
      "('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, "
      "5], "
      "reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', "
      "0), "
      "('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])");
  const Graph net = build_darts(v2, DartsConfig{});  // C=32, 8 cells: reductions at 2 and 5
  int wrapped = 0, plain = 0, relus = 0;
  for (const Op& op : net.ops) {
    relus += op.kind == OpKind::Relu;
    if (op.kind != OpKind::Tap) continue;
    EXPECT_EQ(op.tap.weight_unit, 1) << op.name;
    const bool preprocess_rcb = op.name.find(".preprocess") != std::string::npos && op.name.ends_with(".op.0");
    EXPECT_EQ(op.tap.weight_reference, preprocess_rcb ? 2 : 1) << op.name;
    (preprocess_rcb ? wrapped : plain) += 1;
  }
  // 8 preprocess1 + 6 preprocess0 ReLUConvBN (cells 3 and 6 follow a reduction: FactorizedReduce).
  EXPECT_EQ(wrapped, 14);
  // Normal cell: 5 sep_conv (2 ReLUs each) + 1 dil_conv; 6 normal cells. Reduce cell: the two
  // FactorizedReduce preprocessings, no ReLU in pools or stride-1 skips. So 6*11 + 2 = 68.
  EXPECT_EQ(plain, 68);
  EXPECT_EQ(relus, wrapped + plain);  // every ReLU is hooked, once per module
}

TEST(DartsGraph, HandComputedUnitsAndAnUnusedInput) {
  // depth 1: cell 0 is a reduction (1/3 = 0). Width 4, 8x8 input: stem 12 x 8 x 8 = 768 units.
  // reduce: node 2 = sep_conv_3x3(s1) + skip_connect(s1), both at stride 2; nothing reads s0.
  //  * preprocess1 ReLUConvBN on the stem: 768 units x 2 (wrapper + ReLU);
  //  * preprocess0 ReLUConvBN reads the same stem tensor but its output is unused: not counted
  //    (so the merged tap on the stem has weight 2, not 4);
  //  * sep_conv op.0 and FactorizedReduce relu both see s1p (8 x 8 x 8 = 512): 2 x 512;
  //  * sep_conv op.4 sees BN after the stride-2 dw/pw (8 x 4 x 4 = 128): 128.
  const DartsGenotype g = genotype("conv_1x1~0,conv_1x1~1", "sep_conv_3x3~1,skip_connect~1");
  const Graph net = build_darts(g, config(4, 1, 8));
  const rt::Plan plan(net, input_shape(8));
  EXPECT_EQ(plan.n_units(Counting::Reference), 768 * 2 + 512 * 2 + 128);
  EXPECT_EQ(plan.n_units(Counting::Unit), 768 + 512 * 2 + 128);
  const TapSplit s = tap_split(net, plan);
  EXPECT_EQ(s.dropped, (std::set<std::string>{"cells.0.preprocess0.op.0"}));
  EXPECT_EQ(s.counted.size(), 4u);
}

TEST(DartsGraph, NoneEdgeKeepsItsInputCounted) {
  // As above, but node 2 = none(s0) + sep_conv_3x3(s1): s0 * 0 keeps preprocess0 in the autograd
  // graph, so its ReLUConvBN counts: the stem tap now has weight 4.
  const DartsGenotype g = genotype("conv_1x1~0,conv_1x1~1", "none~0,sep_conv_3x3~1");
  const Graph net = build_darts(g, config(4, 1, 8));
  const rt::Plan plan(net, input_shape(8));
  EXPECT_EQ(plan.n_units(Counting::Reference), 768 * 4 + 512 + 128);
  EXPECT_EQ(plan.n_units(Counting::Unit), 768 * 2 + 512 + 128);
  EXPECT_TRUE(tap_split(net, plan).dropped.empty());
  const Op& zero = op_named(net, "cells.0._ops.0", OpKind::Zero);
  EXPECT_EQ(zero.pool.stride, 2);  // reduction cell, input < 2: x[:, :, ::2, ::2] * 0
}

TEST(DartsGraph, AnUnusedCellDropsOut) {
  // No edge reads state 1 (the previous cell), so with depth 3 cell 1's output feeds nothing (cell
  // 2 uses only cell 0's output through s0): every tap of cell 1 and both preprocess1 of cells 0
  // and 2 drop out.
  const DartsGenotype g = genotype("conv_3x3~0,sep_conv_3x3~0", "avg_pool_3x3~0,dil_conv_3x3~0");
  const Graph net = build_darts(g, config(4, 3, 8));
  const rt::Plan plan(net, input_shape(8));
  const TapSplit s = tap_split(net, plan);
  EXPECT_FALSE(any_with_prefix(s.counted, "cells.1.")) << *s.counted.begin();
  EXPECT_TRUE(any_with_prefix(s.dropped, "cells.1._ops."));
  EXPECT_TRUE(s.dropped.count("cells.0.preprocess1.op.0"));
  EXPECT_TRUE(s.dropped.count("cells.2.preprocess1.op.0"));
  EXPECT_TRUE(s.counted.count("cells.0.preprocess0.op.0"));
  EXPECT_TRUE(s.counted.count("cells.2.preprocess0.relu"));  // FactorizedReduce (cell 1 reduced)
  EXPECT_TRUE(s.counted.count("cells.2._ops.1.op.0"));
  // cell 0 (C=4, 8x8): preprocess0 on the stem 768 x 2, conv_3x3 and sep op.0 on s0p 256 x 2,
  // sep op.4 256; cell 2 (C=16): FR relu on cell 0's output (4 x 8 x 8 = 256), dil_conv op.0 on
  // its output (16 x 4 x 4 = 256).
  EXPECT_EQ(plan.n_units(Counting::Reference), 768 * 2 + 256 * 2 + 256 + 256 + 256);
}

TEST(DartsGraph, ImageNetStemAndFactorizedReduce) {
  const DartsGenotype g = genotype("skip_connect~0,sep_conv_5x5~1", "skip_connect~0,max_pool_2x2~1");
  const Graph net = build_darts(g, config(8, 3, 32, /*imagenet=*/true));
  const auto p = param_shapes(net);
  EXPECT_EQ(p.at("stem0.0.weight"), (std::vector<int64_t>{4, 3, 3, 3}));
  EXPECT_EQ(p.at("stem0.1.weight"), (std::vector<int64_t>{4}));
  EXPECT_EQ(p.at("stem0.3.weight"), (std::vector<int64_t>{8, 4, 3, 3}));
  EXPECT_EQ(p.at("stem1.1.weight"), (std::vector<int64_t>{8, 8, 3, 3}));
  EXPECT_EQ(p.at("cells.0.preprocess0.conv_1.weight"), (std::vector<int64_t>{4, 8, 1, 1}));  // reduction_prev
  EXPECT_FALSE(p.count("stem.0.weight"));
  // stem1's ReLU is in place: cell 0's FactorizedReduce reads the ReLU output, as does stem1's conv.
  const Op& stem_relu = op_named(net, "stem1.0", OpKind::Relu);
  EXPECT_EQ(op_named(net, "stem1.1", OpKind::Conv).inputs[0], stem_relu.output);
  const Op& fr_relu = op_named(net, "cells.0.preprocess0.relu", OpKind::Relu);
  EXPECT_EQ(fr_relu.inputs[0], stem_relu.output);
  // FactorizedReduce: conv_1 reads the ReLU, conv_2 the ReLU shifted up-left (the pad-and-crop).
  const Op& shift = op_named(net, "cells.0.preprocess0.pad", OpKind::Shift);
  EXPECT_EQ(shift.inputs[0], fr_relu.output);
  EXPECT_EQ(op_named(net, "cells.0.preprocess0.conv_1", OpKind::Conv).inputs[0], fr_relu.output);
  EXPECT_EQ(op_named(net, "cells.0.preprocess0.conv_2", OpKind::Conv).inputs[0], shift.output);
  EXPECT_EQ(op_named(net, "cells.0.preprocess0.conv_2", OpKind::Conv).conv.stride_h, 2);
  // Shapes: 32 -> 16 -> 8 (stem0) -> 4 (stem1); cell 1 reduces to 2, cell 2 to 1.
  const rt::Plan plan(net, input_shape(32));
  EXPECT_EQ(plan.tensor(stem_relu.output).shape, (rt::Shape4{2, 8, 8, 8}));
  EXPECT_EQ(plan.tensor(net.output).shape, (rt::Shape4{2, 1, 1, 1}));
  const TapSplit s = tap_split(net, plan);
  EXPECT_TRUE(s.counted.count("stem0.2"));
  EXPECT_TRUE(s.counted.count("stem1.0"));
}

TEST(DartsGraph, NetworksTheReferenceCannotRun) {
  auto message = [](const DartsGenotype& g, const DartsConfig& c) {
    try {
      build_darts(g, c);
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::BadInput);
      return std::string(e.what());
    }
    ADD_FAILURE() << "expected BadInput";
    return std::string();
  };
  // A 2x2 pool at stride 1 shrinks 8x8 to 7x7: the node sum fails in PyTorch too.
  std::string m = message(genotype("avg_pool_2x2~0,conv_1x1~1", "skip_connect~0,skip_connect~1"), config(4, 3, 8));
  EXPECT_NE(m.find("cells.0 node 2 sums a 7x7x4 and a 8x8x4 tensor"), std::string::npos) << m;
  EXPECT_NE(m.find("NaN"), std::string::npos) << m;
  // FactorizedReduce needs an even channel count (ImageNet cell 0 reduces the stem: C -> C).
  m = message(genotype("conv_1x1~0,conv_1x1~1", "skip_connect~0,skip_connect~1"), config(3, 3, 32, true));
  EXPECT_NE(m.find("FactorizedReduce 'cells.0.preprocess0' needs an even channel count, got 3"), std::string::npos)
      << m;
  // A cell input in a reduction cell's concat keeps the input's size.
  DartsGenotype cat = genotype("conv_1x1~0,conv_1x1~1", "skip_connect~0,skip_connect~1");
  cat.reduce.concat = {1, 2};
  m = message(cat, config(4, 3, 8));
  EXPECT_NE(m.find("cells.1 (its output concat) concatenates"), std::string::npos) << m;
  // A 2x2 pool with stride 2 does not fit a 1x1 map (ImageNet at 8x8: the stems leave 1x1).
  m = message(genotype("conv_1x1~0,conv_1x1~1", "max_pool_2x2~0,max_pool_2x2~1"), config(4, 3, 8, true));
  EXPECT_NE(m.find("pool 'cells.1._ops.0' (2x2) does not fit its 1x1 input"), std::string::npos) << m;
  m = message(genotype("conv_1x1~0,conv_1x1~1", "skip_connect~0,skip_connect~1"), config(0, 3, 8));
  EXPECT_NE(m.find("width 0"), std::string::npos) << m;
}

// The CPU backend against the naive reference executor (own shapes, own reachability, double
// accumulation) on small networks covering every op, both cell types, and both networks.
TEST(DartsGraph, CpuBackendMatchesReferenceExecutor) {
  struct Case {
    const char* normal;
    const char* reduce;
    bool imagenet;
    int size;
  };
  const Case cases[] = {
      {"sep_conv_3x3~0,dil_conv_3x3~1,sep_conv_5x5~2,conv_7x1_1x7~1,avg_pool_3x3~3,none~0",
       "skip_connect~0,max_pool_3x3~1,dil_sep_conv_3x3~2,avg_pool_5x5~0,conv_3x1_1x3~3,max_pool_2x2~1", false, 16},
      {"conv_1x1~1,conv_3x3~0,max_pool_5x5~2,sep_conv_7x7~1,dil_conv_5x5~3,max_pool_7x7~0",
       "avg_pool_2x2~0,none~1,skip_connect~2,sep_conv_3x3~1,avg_pool_3x3~3,max_pool_3x3~0", true, 32},
  };
  rt::CpuBackend backend;
  for (const Case& c : cases) {
    const Graph net = build_darts(genotype(c.normal, c.reduce), config(4, 4, c.size, c.imagenet));
    rt::Batch batch;
    batch.shape = input_shape(c.size, 6);
    batch.data = test::random_normal(static_cast<size_t>(batch.shape.numel()), 0.0, 1.0, kBatchSeed);
    batch.source = "random_normal";
    backend.set_batch(batch);
    const rt::Params params = rt::init_params(net, kWeightSeed);
    const rt::Plan plan(net, batch.shape);
    for (const Counting counting : {Counting::Reference, Counting::Unit}) {
      rt::KMatrix got;
      backend.compute_k(plan, params, counting, got);
      const test::ReferenceResult ref = test::reference_compute_k(net, params, batch, counting);
      EXPECT_EQ(ref.n_units, plan.n_units(counting)) << c.normal;
      EXPECT_EQ(got.at(0, 0), plan.n_units(counting));
      int64_t worst = 0;
      for (size_t i = 0; i < got.values.size(); ++i) worst = std::max(worst, std::abs(got.values[i] - ref.k.values[i]));
      // A unit whose value lies within float rounding of zero may flip; a handful at most.
      EXPECT_LE(worst, 4) << c.normal << " " << rt::to_string(counting);
    }
  }
}

}  // namespace
}  // namespace naswot::cells
