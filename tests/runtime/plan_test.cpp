// rt::Plan: reachability (dead branches dropped, Zero keeps its input, taps live iff their anchor
// does), ReLU aliasing with tap merging, arena safety (no two tensors alive at once share bytes;
// live ranges derived here from plan.order() and the op inputs, not taken from the plan),
// alignment, N_A against the closed form of reference-semantics.md §3.7 and shape errors.
// Hand-built graphs use rt::GraphBuilder; the census of random graphs is checked against the
// reference executor's independent ancestors and shapes.
#include "runtime/plan.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "cells/nb201.h"
#include "runtime/error.h"
#include "runtime/graph.h"
#include "test_util.h"
#include "tests/runtime/random_graph.h"
#include "tests/runtime/reference_executor.h"

namespace naswot::rt {
namespace {

constexpr uint32_t kArchSampleSeed = test::kSeed + 11;
constexpr uint32_t kRandomGraphSeed = test::kSeed + 12;
constexpr int kRandomGraphs = 200;

int op_index(const Graph& g, const std::string& name, OpKind kind) {
  for (size_t i = 0; i < g.ops.size(); ++i)
    if (g.ops[i].name == name && g.ops[i].kind == kind) return static_cast<int>(i);
  ADD_FAILURE() << "no " << to_string(kind) << " op named " << name;
  return -1;
}

bool in_order(const Plan& p, int op) { return std::find(p.order().begin(), p.order().end(), op) != p.order().end(); }

ConvAttr conv3x3(int out, int pad = 1, int stride = 1) {
  ConvAttr a;
  a.out_channels = out;
  a.kernel_h = a.kernel_w = 3;
  a.pad_h = a.pad_w = pad;
  a.stride_h = a.stride_w = stride;
  return a;
}

TEST(Plan, DeadBranchIsRemovedAndItsTapDoesNotCount) {
  GraphBuilder b;
  const TensorId x = b.input();
  const TensorId live = b.conv(x, "live", conv3x3(4));
  const TensorId dead = b.conv(x, "dead", conv3x3(4));
  b.hooked_relu(dead, "dead_relu", true);
  const TensorId r = b.hooked_relu(live, "live_relu", false);
  const Graph g = b.finish(b.linear(b.global_avgpool(r, "gap"), "fc", 1));
  const Plan p(g, {2, 6, 6, 3});

  EXPECT_FALSE(in_order(p, op_index(g, "dead", OpKind::Conv)));
  EXPECT_FALSE(in_order(p, op_index(g, "dead_relu", OpKind::Relu)));
  EXPECT_FALSE(in_order(p, op_index(g, "dead_relu", OpKind::Tap)));
  EXPECT_EQ(p.tap_slot(op_index(g, "dead_relu", OpKind::Tap)), -1);
  EXPECT_FALSE(p.tensor(dead).live);
  EXPECT_TRUE(in_order(p, op_index(g, "live", OpKind::Conv)));
  ASSERT_EQ(p.taps().size(), 1u);
  EXPECT_EQ(p.taps()[0].tensor, live);
  EXPECT_EQ(p.n_units(Counting::Reference), 6 * 6 * 4);
  EXPECT_EQ(p.n_units(Counting::Unit), 6 * 6 * 4);
}

TEST(Plan, ZeroKeepsItsInputAlive) {
  // x * 0 has a grad_fn in the reference, so the ReLU before it is visited by backward and counts.
  GraphBuilder b;
  const TensorId x = b.input();
  const TensorId c = b.conv(x, "c", conv3x3(4));
  const TensorId r = b.hooked_relu(c, "r", true);
  const TensorId z = b.zero(r, "z", 2);
  const TensorId other = b.conv(x, "other", conv3x3(4, 1, 2));
  const Graph g = b.finish(b.linear(b.global_avgpool(b.add({z, other}, "sum"), "gap"), "fc", 1));
  const Plan p(g, {2, 8, 8, 3});
  for (const char* name : {"c", "other"}) EXPECT_TRUE(in_order(p, op_index(g, name, OpKind::Conv))) << name;
  EXPECT_TRUE(in_order(p, op_index(g, "r", OpKind::Relu)));
  EXPECT_TRUE(in_order(p, op_index(g, "z", OpKind::Zero)));
  EXPECT_TRUE(in_order(p, op_index(g, "r", OpKind::Tap)));
  EXPECT_EQ(p.tensor(z).shape, (Shape4{2, 4, 4, 4}));
  EXPECT_EQ(p.n_units(Counting::Reference), 2 * 8 * 8 * 4);  // wrapped: weight 2
  EXPECT_EQ(p.n_units(Counting::Unit), 8 * 8 * 4);
}

TEST(Plan, TapCountsIffItsAnchorIsLive) {
  GraphBuilder b;
  const TensorId x = b.input();
  const TensorId c = b.conv(x, "c", conv3x3(4));
  const TensorId bn = b.batchnorm(c, "bn");
  const TensorId r = b.relu(bn, "r");
  const TensorId unread = b.conv(x, "unread", conv3x3(2));
  b.tap(c, r, "tap_live", 3, 2);            // anchored on a live ReLU: counts
  b.tap(unread, unread, "tap_dead", 5, 5);  // anchored on a dead tensor: neither counts nor revives it
  const Graph g = b.finish(b.linear(b.global_avgpool(r, "gap"), "fc", 1));
  const Plan p(g, {3, 5, 5, 3});
  ASSERT_EQ(p.taps().size(), 1u);
  EXPECT_EQ(p.taps()[0].tensor, c);
  EXPECT_EQ(p.taps()[0].weight_reference, 3);
  EXPECT_EQ(p.taps()[0].weight_unit, 2);
  EXPECT_EQ(p.taps()[0].units, 5 * 5 * 4);
  EXPECT_EQ(p.n_units(Counting::Reference), 3 * 100);
  EXPECT_EQ(p.n_units(Counting::Unit), 2 * 100);
  EXPECT_EQ(p.tap_slot(op_index(g, "tap_live", OpKind::Tap)), 0);
  EXPECT_EQ(p.tap_slot(op_index(g, "tap_dead", OpKind::Tap)), -1);
  EXPECT_FALSE(in_order(p, op_index(g, "unread", OpKind::Conv)));
  EXPECT_EQ(p.max_tap_units(), 100);
}

TEST(Plan, TwoRelusOnOneTensorAliasAndMergeTheirTaps) {
  GraphBuilder b;
  const TensorId x = b.input();
  const TensorId c = b.conv(x, "c", conv3x3(4));
  const TensorId r1 = b.hooked_relu(c, "r1", true);
  const TensorId r2 = b.hooked_relu(c, "r2", false);
  const TensorId a = b.conv(r1, "a", conv3x3(4));
  const TensorId d = b.conv(r2, "d", conv3x3(4));
  const Graph g = b.finish(b.linear(b.global_avgpool(b.add({a, d}, "sum"), "gap"), "fc", 1));
  const Plan p(g, {2, 4, 4, 3});
  const int relus = static_cast<int>(in_order(p, op_index(g, "r1", OpKind::Relu))) +
                    static_cast<int>(in_order(p, op_index(g, "r2", OpKind::Relu)));
  EXPECT_EQ(relus, 1) << "both ReLUs compute the same values: exactly one should run";
  EXPECT_EQ(p.tensor(r1).offset, p.tensor(r2).offset);
  EXPECT_EQ(p.tensor(r1).shape, p.tensor(r2).shape);
  ASSERT_EQ(p.taps().size(), 1u);
  EXPECT_EQ(p.taps()[0].tensor, c);
  EXPECT_EQ(p.taps()[0].weight_reference, 3);  // 2 (wrapped) + 1
  EXPECT_EQ(p.taps()[0].weight_unit, 2);
  EXPECT_EQ(p.tap_slot(op_index(g, "r1", OpKind::Tap)), p.tap_slot(op_index(g, "r2", OpKind::Tap)));
  EXPECT_EQ(p.n_units(Counting::Reference), 3 * 4 * 4 * 4);
}

// Tensor whose storage holds t's values: t itself when its op runs, else (an aliased ReLU) the
// output of the running ReLU that reads the same storage. -1 for a tensor that is not computed.
std::vector<TensorId> storage_of(const Plan& p) {
  const Graph& g = p.graph();
  std::vector<TensorId> storage(static_cast<size_t>(g.num_tensors), -1);
  for (size_t i = 0; i < g.ops.size(); ++i) {
    const Op& op = g.ops[i];
    if (op.kind == OpKind::Tap) continue;
    if (in_order(p, static_cast<int>(i))) {
      storage[static_cast<size_t>(op.output)] = op.output;
    } else if (op.kind == OpKind::Relu && p.tensor(op.output).live) {
      for (int j : p.order()) {
        const Op& other = g.ops[static_cast<size_t>(j)];
        if (other.kind == OpKind::Relu &&
            storage[static_cast<size_t>(other.inputs[0])] == storage[static_cast<size_t>(op.inputs[0])])
          storage[static_cast<size_t>(op.output)] = other.output;
      }
      EXPECT_NE(storage[static_cast<size_t>(op.output)], -1)
          << "live ReLU '" << op.name << "' is neither run nor aliased";
    }
  }
  return storage;
}

// No two storages alive at the same step share arena floats; every storage is aligned and inside
// the arena; every op reads storages that an earlier op wrote.
void expect_arena_safe(const Plan& p, const std::string& what) {
  const Graph& g = p.graph();
  const std::vector<TensorId> storage = storage_of(p);
  const size_t steps = p.order().size();
  std::vector<int> born(static_cast<size_t>(g.num_tensors), -1), dies(static_cast<size_t>(g.num_tensors), -1);
  for (size_t pos = 0; pos < steps; ++pos) {
    const Op& op = g.ops[static_cast<size_t>(p.order()[pos])];
    for (TensorId t : op.inputs) {
      const TensorId s = storage[static_cast<size_t>(t)];
      ASSERT_NE(s, -1) << what << ": op '" << op.name << "' reads an uncomputed tensor " << t;
      ASSERT_GE(born[static_cast<size_t>(s)], 0)
          << what << ": op '" << op.name << "' reads tensor " << s << " before it is written";
      dies[static_cast<size_t>(s)] = static_cast<int>(pos);
    }
    if (op.output != kNoTensor)
      born[static_cast<size_t>(op.output)] = dies[static_cast<size_t>(op.output)] = static_cast<int>(pos);
  }
  dies[static_cast<size_t>(storage[static_cast<size_t>(g.output)])] = static_cast<int>(steps);

  std::vector<TensorId> stored;
  size_t total = 0;
  for (TensorId t = 0; t < g.num_tensors; ++t) {
    if (born[static_cast<size_t>(t)] < 0) continue;
    stored.push_back(t);
    const PlannedTensor& pt = p.tensor(t);
    total += static_cast<size_t>(pt.shape.numel());
    EXPECT_EQ(pt.offset % kArenaAlignFloats, 0u) << what << ": tensor " << t << " offset " << pt.offset;
    EXPECT_LE(pt.offset + static_cast<size_t>(pt.shape.numel()), p.arena_floats()) << what << ": tensor " << t;
    EXPECT_GT(pt.shape.numel(), 0) << what << ": tensor " << t;
  }
  int overlaps = 0;
  for (size_t i = 0; i < stored.size(); ++i)
    for (size_t j = i + 1; j < stored.size(); ++j) {
      const auto a = static_cast<size_t>(stored[i]), b = static_cast<size_t>(stored[j]);
      if (born[a] > dies[b] || born[b] > dies[a]) continue;  // never alive together
      const PlannedTensor &ta = p.tensor(stored[i]), &tb = p.tensor(stored[j]);
      const bool disjoint = ta.offset + static_cast<size_t>(ta.shape.numel()) <= tb.offset ||
                            tb.offset + static_cast<size_t>(tb.shape.numel()) <= ta.offset;
      if (!disjoint && overlaps++ < 5)
        ADD_FAILURE() << what << ": tensors " << stored[i] << " [" << ta.offset << ", +" << ta.shape.numel()
                      << ") steps " << born[a] << ".." << dies[a] << " and " << stored[j] << " [" << tb.offset << ", +"
                      << tb.shape.numel() << ") steps " << born[b] << ".." << dies[b] << " share arena floats";
    }
  EXPECT_EQ(overlaps, 0) << what;
  EXPECT_LT(p.arena_floats(), total) << what << ": the arena reuses no memory at all";
}

std::vector<cells::Nb201Arch> nb201_sample(int random_count) {
  std::vector<cells::Nb201Arch> out;
  for (cells::Nb201Op op : {cells::Nb201Op::NorConv3x3, cells::Nb201Op::None, cells::Nb201Op::SkipConnect,
                            cells::Nb201Op::AvgPool3x3, cells::Nb201Op::NorConv1x1}) {
    cells::Nb201Arch a;
    a.edges.fill(op);
    out.push_back(a);
  }
  std::mt19937 rng(kArchSampleSeed);
  std::uniform_int_distribution<int> index(0, cells::kNb201Size - 1);
  for (int k = 0; k < random_count; ++k) out.push_back(cells::nb201_from_index(index(rng)));
  return out;
}

TEST(Plan, Nb201ArenaIsSafeAndAligned) {
  for (const cells::Nb201Arch& a : nb201_sample(12)) {
    const Graph g = cells::build_nb201(a);
    expect_arena_safe(Plan(g, {4, 32, 32, 3}), cells::to_string(a));
    const Graph g16 = cells::build_nb201(a, cells::Nb201Config{16, 16, 5, 1});
    expect_arena_safe(Plan(g16, {3, 16, 16, 3}), cells::to_string(a) + " @16");
  }
}

TEST(Plan, RandomGraphArenaIsSafe) {
  for (int k = 0; k < kRandomGraphs; ++k) {
    const Graph g = test::random_graph(kRandomGraphSeed + static_cast<uint32_t>(k));
    expect_arena_safe(Plan(g, {2, 8, 8, 3}), "random graph " + std::to_string(k));
  }
}

TEST(Plan, Nb201CodeLengthMatchesClosedForm) {
  for (const cells::Nb201Arch& a : nb201_sample(40)) {
    const int64_t c = cells::nb201_conv_edges(a);
    const Graph g = cells::build_nb201(a);
    const Plan p(g, {2, 32, 32, 3});
    EXPECT_EQ(p.n_units(Counting::Reference), 286720 * c + 77824) << cells::to_string(a);
    EXPECT_EQ(p.n_units(Counting::Unit), 143360 * c + 40960) << cells::to_string(a);
    const Graph g16 = cells::build_nb201(a, cells::Nb201Config{16, 16, 5, 1});
    const Plan p16(g16, {2, 16, 16, 3});
    EXPECT_EQ(p16.n_units(Counting::Reference), 71680 * c + 19456) << cells::to_string(a);
    EXPECT_EQ(p16.n_units(Counting::Unit), 35840 * c + 10240) << cells::to_string(a);
  }
}

// The plan's reachability and census against an independent one: a tap counts iff its anchor is an
// ancestor of the logits (DFS in the reference executor); N_A = sum of units x weight of those.
TEST(Plan, RandomGraphCensusMatchesIndependentReachability) {
  int dead_ops = 0, dead_taps = 0;
  for (int k = 0; k < kRandomGraphs; ++k) {
    const Graph g = test::random_graph(kRandomGraphSeed + static_cast<uint32_t>(k));
    const Shape4 in{2, 8, 8, 3};
    const Plan p(g, in);
    const std::vector<bool> anc = test::reference_ancestors(g);
    const std::vector<Shape4> shapes = test::reference_shapes(g, in);
    int64_t n_ref = 0, n_unit = 0;
    for (size_t i = 0; i < g.ops.size(); ++i) {
      const Op& op = g.ops[i];
      if (op.kind == OpKind::Tap) {
        const bool counts = anc[static_cast<size_t>(op.tap.anchor)];
        EXPECT_EQ(p.tap_slot(static_cast<int>(i)) >= 0, counts) << "graph " << k << " tap " << op.name;
        dead_taps += !counts;
        if (!counts) continue;
        const int64_t units = shapes[static_cast<size_t>(op.inputs[0])].per_image();
        n_ref += units * op.tap.weight_reference;
        n_unit += units * op.tap.weight_unit;
        continue;
      }
      if (anc[static_cast<size_t>(op.output)]) {
        EXPECT_TRUE(p.tensor(op.output).live) << "graph " << k << " op " << op.name;
        EXPECT_EQ(p.tensor(op.output).shape, shapes[static_cast<size_t>(op.output)])
            << "graph " << k << " op " << op.name;
      } else {
        dead_ops += !p.tensor(op.output).live;
      }
    }
    EXPECT_EQ(p.n_units(Counting::Reference), n_ref) << "graph " << k;
    EXPECT_EQ(p.n_units(Counting::Unit), n_unit) << "graph " << k;
  }
  // The generator must actually exercise dead branches and dead taps.
  EXPECT_GT(dead_ops, kRandomGraphs / 4);
  EXPECT_GT(dead_taps, 10);
}

TEST(Plan, InputTooSmallIsBadInput) {
  {
    GraphBuilder b;
    const TensorId c = b.conv(b.input(), "tiny_conv", conv3x3(2, 0));
    const Graph g = b.finish(c);
    NASWOT_EXPECT_BAD_INPUT(Plan(g, {1, 2, 2, 3}), "tiny_conv");
  }
  {
    // Numerator -1 with stride 2: C++ division truncates to 0, which must not read as one output.
    GraphBuilder b;
    const TensorId c = b.conv(b.input(), "strided_conv", conv3x3(2, 0, 2));
    const Graph g = b.finish(c);
    NASWOT_EXPECT_BAD_INPUT(Plan(g, {1, 2, 2, 3}), "strided_conv");
  }
  {
    GraphBuilder b;
    PoolAttr pool;
    pool.kernel = pool.stride = 2;
    const TensorId y = b.avgpool(b.input(), "tiny_pool", pool);
    const Graph g = b.finish(y);
    NASWOT_EXPECT_BAD_INPUT(Plan(g, {1, 1, 1, 3}), "tiny_pool");
  }
  const Graph nb = cells::build_nb201(cells::nb201_from_index(0));
  for (int size : {1, 2}) NASWOT_EXPECT_BAD_INPUT(Plan(nb, {2, size, size, 3}), "too small");
  NASWOT_EXPECT_BAD_INPUT(Plan(nb, {2, 32, 32, 1}), "channels");
  NASWOT_EXPECT_BAD_INPUT(Plan(nb, {0, 32, 32, 3}), "empty");
}

}  // namespace
}  // namespace naswot::rt
