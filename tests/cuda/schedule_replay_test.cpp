// Replays the CUDA backend's schedule (runtime/cuda/schedule.h) with the CPU kernels: same steps,
// same fusion (node steps through cpu::bn_add_pack, the CPU twin of the fused CUDA kernel), same
// arena offsets, same tap handling. Host-only, so it runs on every machine. Because the fused
// node is bit-identical to the unfused CPU path (tests/kernels/bn_add_pack_test.cpp), K must
// equal CpuBackend's exactly; an arena overlap, a wrong term, a lost or doubled tap would change
// it. This checks everything in the CUDA backend except the CUDA kernels themselves (which the
// twin tests compare one by one) and the device plumbing.
#include <cmath>
#include <limits>

#include "cells/nb201.h"
#include "cpu_run_op.h"
#include "cuda_test_util.h"
#include "kernels/cpu/batchnorm.h"
#include "kernels/cpu/bn_add_pack.h"
#include "kernels/cpu/popcount_k.h"
#include "kernels/cpu/signpack.h"
#include "runtime/cpu_backend.h"
#include "runtime/cuda/lane.h"
#include "runtime/cuda/schedule.h"

namespace naswot::test {
namespace {

constexpr uint32_t kReplaySeed = kSeed + 1101;

rt::KMatrix replay(const rt::Plan& plan, const rt::Params& params, rt::Counting counting, const rt::Batch& batch) {
  const rt::Graph& g = plan.graph();
  rt::Schedule s;
  s.build(plan, 8);
  std::vector<float> arena(s.tensor_floats(), std::numeric_limits<float>::quiet_NaN());
  auto tensor = [&](rt::TensorId t) -> float* {
    const size_t off = s.offset(t);
    if (off == rt::kBatchAlias) return const_cast<float*>(batch.data.data());
    EXPECT_NE(off, rt::kNotMaterialised) << "step reads tensor " << t << ", which is not materialised";
    return arena.data() + off;
  };
  const int n = plan.batch();
  rt::KMatrix k;
  k.reset(n);
  std::vector<uint64_t> bits(static_cast<size_t>(n) * static_cast<size_t>(cpu::sign_words(plan.max_tap_units() + 1)));
  auto accumulate = [&](int slot, const float* x, bool packed) {
    const rt::PlannedTap& tap = plan.taps()[static_cast<size_t>(slot)];
    const int w = tap.weight(counting);
    if (w == 0) return;
    if (!packed) cpu::sign_pack(x, n, tap.units, bits.data());
    cpu::popcount_k_accumulate(bits.data(), n, cpu::sign_words(tap.units), tap.units, w, k.values.data());
  };
  auto p = [&](const std::string& name) { return name.empty() ? nullptr : params.at(name).data.data(); };

  for (const rt::Step& st : s.steps()) {
    const rt::Op& op = g.ops[static_cast<size_t>(st.op)];
    if (st.kind == rt::StepKind::Tap) {
      accumulate(st.tap_slot, tensor(plan.taps()[static_cast<size_t>(st.tap_slot)].tensor), false);
      continue;
    }
    const rt::Shape4 out = plan.tensor(op.output).shape;
    float* y = tensor(op.output);
    if (st.kind == rt::StepKind::Node) {
      const auto c = static_cast<size_t>(out.c);
      std::vector<std::vector<float>> stats(static_cast<size_t>(st.num_terms), std::vector<float>(3 * c));
      std::vector<cpu::BnAddTerm> terms(static_cast<size_t>(st.num_terms));
      for (int t = 0; t < st.num_terms; ++t) {
        const rt::NodeTerm& nt = s.terms()[static_cast<size_t>(st.first_term + t)];
        cpu::BnAddTerm& term = terms[static_cast<size_t>(t)];
        term.x = tensor(nt.x);
        term.zero = nt.zero_op >= 0;
        if (nt.bn_op < 0) continue;
        const rt::Op& bn = g.ops[static_cast<size_t>(nt.bn_op)];
        float* mean = stats[static_cast<size_t>(t)].data();
        cpu::batchnorm_stats(term.x, static_cast<int64_t>(out.n) * out.h * out.w, out.c, mean, mean + c);
        cpu::batchnorm_invstd(mean + c, out.c, bn.eps, mean + 2 * c);
        term = {term.x, mean, mean + 2 * c, p(bn.weight), p(bn.bias)};
      }
      const bool tapped = st.tap_slot >= 0;
      cpu::bn_add_pack(terms.data(), st.num_terms, st.sum_from_zero, out.n, out.per_image(), out.c, y, nullptr,
                       tapped ? bits.data() : nullptr);
      if (tapped) accumulate(st.tap_slot, y, true);
      continue;
    }
    std::vector<rt::Shape4> in;
    std::vector<const float*> xs;
    for (rt::TensorId t : op.inputs) {
      in.push_back(plan.tensor(t).shape);
      xs.push_back(tensor(s.canonical(t)));
    }
    cpu_run_op(op, in, out, xs, p(op.weight), p(op.bias), y);
  }
  return k;
}

void check_replay_graph(const rt::Graph& g, const rt::Shape4& shape) {
  const rt::Plan plan(g, shape);
  const rt::Params params = rt::init_params(g, 7);
  rt::Batch batch;
  batch.shape = shape;
  batch.data = random_normal(static_cast<size_t>(shape.numel()), 0.0, 1.0, kReplaySeed);
  batch.source = "replay";
  rt::CpuBackend cpu;
  cpu.set_batch(batch);
  for (rt::Counting counting : {rt::Counting::Reference, rt::Counting::Unit}) {
    rt::KMatrix ref;
    cpu.compute_k(plan, params, counting, ref);
    const rt::KMatrix got = replay(plan, params, counting, batch);
    EXPECT_TRUE(all_equal(got.values.data(), ref.values.data(), ref.values.size())) << rt::to_string(counting);
  }
}

void check_replay(const std::string& arch) {
  SCOPED_TRACE(arch);
  cells::Nb201Config config;
  config.input_size = 8;
  config.channels = 4;
  config.cells_per_stage = 2;
  check_replay_graph(cells::build_nb201(cells::parse_nb201(arch), config), {6, 8, 8, 3});
}

TEST(CudaScheduleReplay, KEqualsCpuBackendOnNb201) {
  check_replay("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|");
  check_replay("|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|none~1|nor_conv_3x3~2|");
  check_replay("|nor_conv_1x1~0|+|skip_connect~0|nor_conv_3x3~1|+|avg_pool_3x3~0|nor_conv_1x1~1|skip_connect~2|");
  check_replay("|avg_pool_3x3~0|+|none~0|nor_conv_1x1~1|+|nor_conv_3x3~0|none~1|avg_pool_3x3~2|");
  check_replay("|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|");
}

TEST(CudaScheduleReplay, KEqualsCpuBackendOnRandomNb201) {
  for (int i = 0; i < 12; ++i) check_replay(cells::to_string(cells::nb201_from_preindex((i * 1303 + 17) % cells::kNb201Size)));
}

// Tap steps (taps on the input, on a concat), maxpool, concat, a duplicate hooked ReLU, a
// BatchNorm read twice (not absorbed) and one absorbed into a three-term add: paths NB-201 lacks.
TEST(CudaScheduleReplay, KEqualsCpuBackendOnMixedGraph) {
  rt::GraphBuilder b;
  const rt::TensorId x = b.input();
  const rt::TensorId m = b.maxpool(x, "pool", {3, 1, 1, false});
  const rt::TensorId cat = b.concat({x, m}, "cat");
  const rt::TensorId r1 = b.hooked_relu(cat, "act1", /*wrapped=*/false);
  const rt::TensorId r2 = b.hooked_relu(cat, "act2", /*wrapped=*/true);  // duplicate ReLU: aliased
  rt::ConvAttr a;
  a.out_channels = 4;
  a.kernel_h = a.kernel_w = 3;
  a.pad_h = a.pad_w = 1;
  const rt::TensorId b1 = b.batchnorm(b.conv(r1, "c1", a), "bn1");
  const rt::TensorId b2 = b.batchnorm(b.conv(r2, "c2", a), "bn2");
  const rt::TensorId z = b.zero(b1, "z");  // bn1 has two readers: a lone node step
  const rt::TensorId sum = b.add({b1, b2, z}, "sum");
  b.tap(x, sum, "input_tap", 1, 1);
  const rt::TensorId r3 = b.hooked_relu(sum, "act3", /*wrapped=*/false);
  const rt::Graph g = b.finish(b.linear(b.global_avgpool(r3, "gap"), "fc", 3, true));
  rt::Schedule s;
  s.build(rt::Plan(g, {5, 6, 7, 3}), 8);
  int taps = 0;
  for (const rt::Step& st : s.steps()) taps += st.kind == rt::StepKind::Tap;
  EXPECT_GE(taps, 2) << "the input and the concat taps run as Tap steps";
  EXPECT_EQ(s.absorbed_batchnorms(), 1) << "bn2 only";
  check_replay_graph(g, {5, 6, 7, 3});
}

}  // namespace
}  // namespace naswot::test
