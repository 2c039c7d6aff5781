// The CUDA backend's schedule (runtime/cuda/schedule.h) on NB-201 networks. Host-only: runs on
// every machine. Checks, for a spread of architectures:
//  * every live op is executed exactly once (own step, or absorbed into exactly one node);
//  * every merged tap is packed exactly once (by its node or by one Tap step);
//  * no two tensors alive at the same step overlap in the arena (the re-run liveness is sound);
//  * the fusion count of the all-conv cell: 5 BatchNorms per cell (node 2: 2 edges, node 3: 3)
//    plus 1 per ResNet block = 77 for N = 5; none for an all-skip cell;
//  * parameter slots cover each parameter the network uses exactly once, with its PyTorch size.
#include <cstdio>
#include <map>
#include <set>

#include "cells/nb201.h"
#include "cuda_test_util.h"
#include "runtime/cuda/lane.h"
#include "runtime/cuda/schedule.h"

namespace naswot::test {
namespace {

const char* const kArchs[] = {
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|",
    "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|",
    "|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|none~1|nor_conv_3x3~2|",
    "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|",
    "|avg_pool_3x3~0|+|nor_conv_1x1~0|none~1|+|nor_conv_3x3~0|skip_connect~1|avg_pool_3x3~2|",
};

void check_schedule(const std::string& arch_string) {
  SCOPED_TRACE(arch_string);
  const rt::Graph g = cells::build_nb201(cells::parse_nb201(arch_string));
  const rt::Plan plan(g, {128, 32, 32, 3});
  rt::Schedule s;
  s.build(plan, 8);

  // Aliases: only a dropped duplicate ReLU may alias, and only a scheduled ReLU of the same input.
  std::vector<int> producer(static_cast<size_t>(g.num_tensors), -1);
  for (size_t i = 0; i < g.ops.size(); ++i)
    if (g.ops[i].output != rt::kNoTensor) producer[static_cast<size_t>(g.ops[i].output)] = static_cast<int>(i);
  for (rt::TensorId t = 0; t < g.num_tensors; ++t) {
    const rt::TensorId c = s.canonical(t);
    if (c == t) continue;
    const rt::Op& a = g.ops[static_cast<size_t>(producer[static_cast<size_t>(t)])];
    const rt::Op& b = g.ops[static_cast<size_t>(producer[static_cast<size_t>(c)])];
    EXPECT_TRUE(a.kind == rt::OpKind::Relu && b.kind == rt::OpKind::Relu &&
                s.canonical(a.inputs[0]) == s.canonical(b.inputs[0]))
        << "tensor " << t << " ('" << a.name << "') aliases " << c << " ('" << b.name << "')";
    EXPECT_EQ(s.offset(t), s.offset(c));
  }

  // Each live op executed once; each tap slot packed once.
  std::map<int, int> executed;
  std::vector<int> slot_packed(plan.taps().size(), 0);
  std::vector<int> def(static_cast<size_t>(g.num_tensors), -1), last(static_cast<size_t>(g.num_tensors), -1);
  for (size_t pos = 0; pos < s.steps().size(); ++pos) {
    const rt::Step& st = s.steps()[pos];
    const rt::Op& op = g.ops[static_cast<size_t>(st.op)];
    if (st.tap_slot >= 0) ++slot_packed[static_cast<size_t>(st.tap_slot)];
    if (st.kind == rt::StepKind::Tap) {
      last[static_cast<size_t>(s.canonical(plan.taps()[static_cast<size_t>(st.tap_slot)].tensor))] = static_cast<int>(pos);
      continue;
    }
    ++executed[st.op];
    def[static_cast<size_t>(op.output)] = static_cast<int>(pos);
    if (st.kind == rt::StepKind::Node) {
      for (int k = 0; k < st.num_terms; ++k) {
        const rt::NodeTerm& t = s.terms()[static_cast<size_t>(st.first_term + k)];
        EXPECT_EQ(s.canonical(t.x), t.x) << "node terms name canonical tensors";
        last[static_cast<size_t>(t.x)] = static_cast<int>(pos);
        if (t.bn_op >= 0 && t.bn_op != st.op) ++executed[t.bn_op];
        if (t.zero_op >= 0 && t.zero_op != st.op) ++executed[t.zero_op];  // a lone Zero node is its own op
      }
    } else {
      for (rt::TensorId t : op.inputs) last[static_cast<size_t>(s.canonical(t))] = static_cast<int>(pos);
    }
  }
  for (int i : plan.order()) {
    const rt::Op& op = g.ops[static_cast<size_t>(i)];
    if (op.kind == rt::OpKind::Input || op.kind == rt::OpKind::Tap) continue;
    EXPECT_EQ(executed[i], 1) << "op " << rt::to_string(op.kind) << " '" << op.name << "'";
  }
  for (size_t slot = 0; slot < slot_packed.size(); ++slot) EXPECT_EQ(slot_packed[slot], 1) << "tap slot " << slot;

  // Arena soundness: tensors with overlapping [def, last] must not overlap in memory.
  last[static_cast<size_t>(s.canonical(g.output))] = static_cast<int>(s.steps().size());
  struct Live { int def, last; size_t begin, end; rt::TensorId t; };
  std::vector<Live> live;
  for (rt::TensorId t = 0; t < g.num_tensors; ++t) {
    const size_t off = s.offset(t);
    if (off == rt::kBatchAlias || off == rt::kNotMaterialised || s.canonical(t) != t) continue;
    const int d = def[static_cast<size_t>(t)];
    ASSERT_GE(d, 0) << "tensor " << t << " has an offset but no writer";
    const int l = std::max(last[static_cast<size_t>(t)], d);
    const size_t numel = static_cast<size_t>(plan.tensor(t).shape.numel());
    EXPECT_LE(off + numel, s.tensor_floats()) << "tensor " << t << " ends past the region";
    live.push_back({d, l, off, off + numel, t});
  }
  for (size_t a = 0; a < live.size(); ++a)
    for (size_t b = a + 1; b < live.size(); ++b) {
      const Live& x = live[a];
      const Live& y = live[b];
      const bool time = x.def <= y.last && y.def <= x.last;
      const bool space = x.begin < y.end && y.begin < x.end;
      EXPECT_FALSE(time && space) << "tensors " << x.t << " and " << y.t << " overlap while both are live";
    }

  int runs = 0, nodes = 0, taps = 0;
  for (const rt::Step& st : s.steps()) {
    runs += st.kind == rt::StepKind::Run;
    nodes += st.kind == rt::StepKind::Node;
    taps += st.kind == rt::StepKind::Tap;
  }
  std::printf("schedule %s: %zu steps (%d run, %d node, %d tap), %d BN and %d zeros fused, %zu tensor floats (plan "
              "arena %zu)\n",
              arch_string.c_str(), s.steps().size(), runs, nodes, taps, s.absorbed_batchnorms(), s.absorbed_zeros(),
              s.tensor_floats(), plan.arena_floats());

  // Parameter slots: each used parameter once, with its PyTorch element count.
  std::vector<rt::ParamSlot> slots;
  std::vector<int> first;
  rt::param_slots(plan, s, slots, first);
  std::map<std::string, int64_t> expected;
  for (const rt::ParamSpec& p : g.params)
    if (!p.optional) expected[p.name] = p.numel();
  std::set<std::string> seen;
  for (const rt::ParamSlot& slot : slots) {
    EXPECT_TRUE(seen.insert(*slot.name).second) << "parameter '" << *slot.name << "' staged twice";
    ASSERT_TRUE(expected.count(*slot.name)) << "unknown parameter '" << *slot.name << "'";
    EXPECT_EQ(static_cast<int64_t>(slot.count), expected[*slot.name]) << *slot.name;
    EXPECT_EQ(slot.offset % rt::kArenaAlignFloats, 0u) << *slot.name;
  }
}

TEST(CudaSchedule, Nb201SchedulesAreSound) {
  for (const char* arch : kArchs) check_schedule(arch);
}

TEST(CudaSchedule, FusesEveryBatchNormFeedingAMultiEdgeNode) {
  const rt::Graph conv = cells::build_nb201(cells::parse_nb201(kArchs[0]));
  const rt::Plan conv_plan(conv, {128, 32, 32, 3});
  rt::Schedule s;
  s.build(conv_plan, 8);
  EXPECT_EQ(s.absorbed_batchnorms(), 5 * 15 + 2);
  const rt::Graph skip = cells::build_nb201(cells::parse_nb201(kArchs[1]));
  const rt::Plan skip_plan(skip, {128, 32, 32, 3});
  s.build(skip_plan, 8);
  EXPECT_EQ(s.absorbed_batchnorms(), 2) << "only the ResNet blocks' conv_b BatchNorms";
}

// "none" edges into a multi-edge node are node terms (x * 0), not ops: node 2 has 2, node 3 has
// 3 per all-none cell. Node 1 is the zero itself (read by later edges): a one-term node step
// (x * 0 and its sign bits), not a Zero op plus a Tap step.
TEST(CudaSchedule, FusesZerosIntoMultiEdgeNodes) {
  const rt::Graph g = cells::build_nb201(cells::parse_nb201("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"));
  rt::Schedule s;
  s.build(rt::Plan(g, {8, 32, 32, 3}), 8);
  EXPECT_EQ(s.absorbed_zeros(), 5 * 15);
  int zero_nodes = 0;
  for (const rt::Step& st : s.steps()) {
    const rt::Op& op = g.ops[static_cast<size_t>(st.op)];
    if (op.kind != rt::OpKind::Zero) continue;
    EXPECT_EQ(st.kind, rt::StepKind::Node) << "zero '" << op.name << "' runs as an op";
    ASSERT_EQ(st.num_terms, 1);
    const rt::NodeTerm& t = s.terms()[static_cast<size_t>(st.first_term)];
    EXPECT_EQ(t.zero_op, st.op);
    EXPECT_FALSE(st.sum_from_zero) << "y = x * 0 exactly, as the Zero op";
    ++zero_nodes;
  }
  EXPECT_EQ(zero_nodes, 15) << "node 1 of every cell";
  const rt::Graph mixed = cells::build_nb201(cells::parse_nb201("|nor_conv_3x3~0|+|none~0|skip_connect~1|+|none~0|none~1|nor_conv_1x1~2|"));
  s.build(rt::Plan(mixed, {8, 32, 32, 3}), 8);
  EXPECT_EQ(s.absorbed_zeros(), 3 * 15);
}

TEST(CudaSchedule, LongAddsStayUnfused) {
  rt::GraphBuilder b;
  const rt::TensorId x = b.input();
  std::vector<rt::TensorId> xs;
  for (int k = 0; k < 10; ++k) xs.push_back(b.batchnorm(x, "bn" + std::to_string(k)));
  const rt::TensorId y = b.add(xs, "sum");
  const rt::Graph g = b.finish(y);
  const rt::Plan plan(g, {2, 3, 3, 3});
  rt::Schedule s;
  s.build(plan, 8);
  EXPECT_EQ(s.absorbed_batchnorms(), 0);
  EXPECT_EQ(s.steps().back().kind, rt::StepKind::Run) << "an add of 10 inputs runs as add_n";
}

TEST(CudaSchedule, SupportsEveryOpKind) {
  for (int k = 0; k < rt::kOpKindCount; ++k) {
    rt::Op op;
    op.kind = static_cast<rt::OpKind>(k);
    EXPECT_TRUE(rt::supports(op)) << rt::to_string(op.kind);
  }
}

}  // namespace
}  // namespace naswot::test
