// Op-by-op agreement of the CUDA backend with the CPU oracle on real NB201 networks: for every
// op of the network, the prefix graph that ends at that op (its output becomes the graph output,
// which the arena keeps to the end) runs on both backends, and the output tensors are compared.
// The first op whose output departs from the CPU's by more than convolution rounding names the
// culprit; every op's deviation is printed so one GPU run locates a bug.
// The same comparison measures the flipped-bit rate of the issue: for every tensor that a tap
// reads, the fraction of units whose code (x > 0) differs between the backends when both ran the
// same network on the same input (a pre-activation within rounding of zero).
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "cells/nb201.h"
#include "cuda_test_util.h"
#include "runtime/cpu_backend.h"
#include "runtime/params.h"
#include "runtime/plan.h"

namespace naswot::test {
namespace {

constexpr rt::Shape4 kSmall{8, 32, 32, 3};
// Relative to the largest reference magnitude: cuDNN and the CPU convolution sum in different
// orders (float32 rounding ~1e-6 relative per layer, growing with depth); a wrong kernel is off by
// O(1).
constexpr double kPrefixRtol = 1e-3;

rt::Graph prefix(const rt::Graph& g, size_t last_op) {
  rt::Graph p = g;
  p.ops.resize(last_op + 1);
  p.output = g.ops[last_op].output;
  return p;
}

void check_arch(const char* arch) {
  SCOPED_TRACE(arch);
  const rt::Graph g = cells::build_nb201(cells::parse_nb201(arch));
  const rt::Params params = rt::init_params(g, 7);
  rt::Batch batch;
  batch.shape = kSmall;
  batch.data = random_normal(static_cast<size_t>(kSmall.numel()), 0.0, 1.0, kSeed + 77);
  batch.source = "prefix_test";
  rt::CpuBackend cpu;
  rt::CudaBackend gpu;
  cpu.set_batch(batch);
  gpu.set_batch(batch);
  std::vector<bool> tapped(static_cast<size_t>(g.num_tensors), false);
  for (const rt::Op& op : g.ops)
    if (op.kind == rt::OpKind::Tap) tapped[static_cast<size_t>(op.inputs[0])] = true;
  int64_t flipped = 0, code_bits = 0;
  int failures = 0;
  for (size_t i = 1; i < g.ops.size(); ++i) {
    const rt::Op& op = g.ops[i];
    if (op.kind == rt::OpKind::Tap) continue;
    const rt::Graph pg = prefix(g, i);
    const rt::Plan plan(pg, kSmall);
    rt::KMatrix kc, kg;
    cpu.compute_k(plan, params, rt::Counting::Reference, kc);
    gpu.compute_k(plan, params, rt::Counting::Reference, kg);
    const float* ref = cpu.tensor_data(plan, pg.output);
    const std::vector<float> got = gpu.tensor_values(plan, pg.output);
    double max_ref = 0.0, max_diff = 0.0;
    for (size_t e = 0; e < got.size(); ++e) {
      max_ref = std::max(max_ref, std::fabs(static_cast<double>(ref[e])));
      max_diff = std::max(max_diff, std::fabs(static_cast<double>(got[e]) - ref[e]));
    }
    if (tapped[static_cast<size_t>(pg.output)]) {
      for (size_t e = 0; e < got.size(); ++e) flipped += (got[e] > 0.0f) != (ref[e] > 0.0f);
      code_bits += static_cast<int64_t>(got.size());
    }
    int64_t k_diff = 0;
    for (size_t e = 0; e < kc.values.size(); ++e) k_diff = std::max<int64_t>(k_diff, std::llabs(kc.values[e] - kg.values[e]));
    const bool bad = !(max_diff <= kPrefixRtol * max_ref + 1e-6);
    std::printf("prefix op %3zu %-14s %-28s max|ref| %.3e max|diff| %.3e max|dK| %lld%s\n", i, rt::to_string(op.kind),
                op.name.c_str(), max_ref, max_diff, static_cast<long long>(k_diff), bad ? "  <-- DIFFERS" : "");
    if (bad && ++failures >= 3) break;  // the first few are what matters
  }
  std::printf("flipped code bits: %lld of %lld (rate %.3e) [%s, batch %d]\n", static_cast<long long>(flipped),
              static_cast<long long>(code_bits), code_bits > 0 ? static_cast<double>(flipped) / code_bits : 0.0, arch,
              kSmall.n);
  EXPECT_LE(flipped * 10000, code_bits) << "more than 1e-4 of the code bits flip between CPU and CUDA";
  EXPECT_EQ(failures, 0) << "the first op marked DIFFERS above is where the CUDA backend departs from the CPU";
}

TEST(CudaBackendPrefix, AllSkipNetworkMatchesCpuOpByOp) {
  NASWOT_REQUIRE_CUDA_DEVICE();
  check_arch("|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|");
}

TEST(CudaBackendPrefix, MixedNetworkMatchesCpuOpByOp) {
  NASWOT_REQUIRE_CUDA_DEVICE();
  check_arch("|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|none~1|nor_conv_3x3~2|");
}

}  // namespace
}  // namespace naswot::test
