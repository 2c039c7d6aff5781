// CudaBackend on DARTS/NDS networks (cells/darts.h) against the CPU oracle: grouped (depthwise)
// and dilated convolutions, rectangular kernels with per-axis strides, FactorizedReduce's Shift,
// concat of 4-5 states, pools with and without padding, strided `none`, and the ImageNet stem.
// Small networks (C=8, 5 cells, batch 32) keep the CPU side, which on the GPU machine runs the
// reference convolution loops, within seconds. Same bar as the NB201 test: diag(K) = N_A exactly,
// scores within 1e-6 relative, compute_k and score_many agreeing.
#include <cmath>
#include <cstdio>
#include <memory>

#include "cells/darts.h"
#include "cuda_test_util.h"
#include "darts_test_genotypes.h"
#include "kernels/cpu/logdet.h"
#include "runtime/cpu_backend.h"
#include "runtime/params.h"
#include "runtime/plan.h"

namespace naswot::test {
namespace {

constexpr uint32_t kDartsSeed = kSeed + 3001;
constexpr double kScoreRtol = 1e-6;

// Together they use every op of the pycls set, both cell types, a 5-step NDS-style cell with loose
// ends, and an input (state 0 of the normal cell) that no edge reads.
const char* const kGenotypes[] = {
    kDartsEveryOpGenotype,
    "Genotype(normal=[('conv_1x1', 1), ('conv_3x3', 1), ('avg_pool_5x5', 2), ('max_pool_5x5', 1), "
    "('max_pool_7x7', 3), ('skip_connect', 2), ('sep_conv_3x3', 4), ('avg_pool_3x3', 1), ('skip_connect', 5), "
    "('conv_1x1', 3)], normal_concat=[6], "
    "reduce=[('avg_pool_2x2', 0), ('max_pool_2x2', 1), ('skip_connect', 0), ('conv_3x3', 2), "
    "('sep_conv_5x5', 3), ('dil_conv_3x3', 1), ('none', 4), ('skip_connect', 2), ('conv_1x1', 5), "
    "('max_pool_3x3', 0)], reduce_concat=[4, 6])",
};

struct Case {
  const char* genotype;
  bool imagenet;
  int image;
};

void expect_agreement(const Case& c) {
  SCOPED_TRACE(::testing::Message() << (c.imagenet ? "NetworkImageNet " : "NetworkCIFAR ") << c.genotype);
  cells::DartsConfig config;
  config.width = 8;
  config.depth = 5;
  config.imagenet = c.imagenet;
  config.input_size = c.image;
  const rt::Graph graph = cells::build_darts(cells::parse_darts_genotype(c.genotype), config);
  const rt::Shape4 shape{32, c.image, c.image, 3};
  const rt::Plan plan(graph, shape);
  const rt::Params params = rt::init_params(graph, 7);
  rt::Batch batch;
  batch.shape = shape;
  batch.data = random_normal(static_cast<size_t>(shape.numel()), 0.0, 1.0, kDartsSeed);
  batch.source = "synthetic normal (darts_backend_test)";

  rt::CpuBackend cpu;
  rt::CudaBackend gpu;
  cpu.set_batch(batch);
  gpu.set_batch(batch);
  rt::KMatrix kc, kg;
  cpu.compute_k(plan, params, rt::Counting::Reference, kc);
  gpu.compute_k(plan, params, rt::Counting::Reference, kg);
  ASSERT_EQ(kg.n, kc.n);
  for (int i = 0; i < kc.n; ++i) EXPECT_EQ(kg.at(i, i), plan.n_units(rt::Counting::Reference)) << "diag(K) = N_A";
  const cpu::LogDet lc = cpu::logabsdet(kc.values.data(), kc.n);
  const cpu::LogDet lg = cpu::logabsdet(kg.values.data(), kg.n);
  std::fprintf(stderr, "darts %s %dx%d: N_A %lld, logdet cpu %.12g gpu %.12g\n", c.imagenet ? "imagenet" : "cifar",
               c.image, c.image, static_cast<long long>(plan.n_units(rt::Counting::Reference)), lc.value, lg.value);
  ASSERT_TRUE(std::isfinite(lc.value)) << "the test networks are expected to be alive";
  EXPECT_NEAR(lg.value, lc.value, kScoreRtol * std::fabs(lc.value)) << "score, rtol " << kScoreRtol;

  const std::vector<cpu::LogDet> many = gpu.score_many({&plan, &plan}, {&params, &params}, rt::Counting::Reference);
  ASSERT_EQ(many.size(), 2u);
  for (const cpu::LogDet& l : many) EXPECT_NEAR(l.value, lg.value, 1e-9 * std::fabs(lg.value)) << "score_many";
}

TEST(CudaBackendDarts, NetworkCifarMatchesCpu) {
  NASWOT_REQUIRE_CUDA_DEVICE();
  for (const char* g : kGenotypes) expect_agreement({g, false, 32});
}

TEST(CudaBackendDarts, NetworkImageNetMatchesCpu) {
  NASWOT_REQUIRE_CUDA_DEVICE();
  expect_agreement({kGenotypes[0], true, 64});
}

}  // namespace
}  // namespace naswot::test
