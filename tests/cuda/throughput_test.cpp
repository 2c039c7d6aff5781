// Throughput figures for the lead's GPU run (printed, not asserted: the figure depends on the
// machine). NB-201 at batch 128 on 32x32 inputs, 48 architectures spread over the space, seeded
// weights built before timing. Prints architectures per second for compute_k (one stream, then
// the CPU-side log-det excluded), for score_many with 1, 4 and 8 lanes (host threads on) and
// stacked (16 per group on 2 workers, all 48 in one group), and checks that every score_many
// result has the lanes' status (finite vs -inf) and, stacked, a score close to theirs.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <utility>

#include "cells/nb201.h"
#include "cuda_test_util.h"
#include "runtime/params.h"
#include "runtime/plan.h"

namespace naswot::test {
namespace {

constexpr int kArchCount = 48;
constexpr rt::Shape4 kCifar{128, 32, 32, 3};

struct Arch {
  rt::Graph graph;
  rt::Plan plan;
  rt::Params params;
  explicit Arch(int preindex)
      : graph(cells::build_nb201(cells::nb201_from_preindex(preindex))), plan(graph, kCifar),
        params(rt::init_params(graph, 1)) {}
};

TEST(CudaThroughput, Nb201ArchitecturesPerSecond) {
  NASWOT_REQUIRE_CUDA_DEVICE();
  std::vector<std::unique_ptr<Arch>> archs;
  std::vector<const rt::Plan*> plans;
  std::vector<const rt::Params*> params;
  for (int i = 0; i < kArchCount; ++i) {
    archs.push_back(std::make_unique<Arch>((i * 7919 + 11) % cells::kNb201Size));
    plans.push_back(&archs.back()->plan);
    params.push_back(&archs.back()->params);
  }
  rt::Batch batch;
  batch.shape = kCifar;
  batch.data = random_normal(static_cast<size_t>(kCifar.numel()), 0.0, 1.0, kSeed + 1201);
  batch.source = "synthetic";
  rt::CudaBackend gpu;
  std::printf("throughput device: %s\n", gpu.device_description().c_str());
  gpu.set_batch(batch);
  const rt::Graph worst = cells::build_nb201(cells::parse_nb201(
      "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"));
  const rt::Plan worst_plan(worst, kCifar);
  gpu.reserve(worst_plan);

  using clock = std::chrono::steady_clock;
  rt::KMatrix k;
  gpu.compute_k(*plans[0], *params[0], rt::Counting::Reference, k);  // warm-up
  auto t0 = clock::now();
  for (int i = 0; i < kArchCount; ++i) gpu.compute_k(*plans[static_cast<size_t>(i)], *params[static_cast<size_t>(i)], rt::Counting::Reference, k);
  double sec = std::chrono::duration<double>(clock::now() - t0).count();
  std::printf("throughput compute_k (1 stream, K only): %.1f arch/s (%.2f ms/arch)\n", kArchCount / sec,
              1e3 * sec / kArchCount);

  std::vector<cpu::LogDet> reference;
  for (int lanes : {1, 4, 8}) {
    gpu.set_lanes(lanes, true);
    (void)gpu.score_many(plans, params, rt::Counting::Reference);  // warm-up: sizes the lanes
    t0 = clock::now();
    const std::vector<cpu::LogDet> r = gpu.score_many(plans, params, rt::Counting::Reference);
    sec = std::chrono::duration<double>(clock::now() - t0).count();
    std::printf("throughput score_many (%d lanes, K + log-det): %.1f arch/s (%.2f ms/arch)\n", lanes,
                kArchCount / sec, 1e3 * sec / kArchCount);
    ASSERT_EQ(r.size(), static_cast<size_t>(kArchCount));
    if (reference.empty()) {
      reference = r;
      continue;
    }
    for (size_t i = 0; i < r.size(); ++i) {
      EXPECT_EQ(r[i].method, reference[i].method) << "arch " << i << ", " << lanes << " lanes";
      if (std::isfinite(reference[i].value)) {
        EXPECT_NEAR(r[i].value, reference[i].value, 1e-9 * std::fabs(reference[i].value)) << "arch " << i;
      } else {
        EXPECT_EQ(r[i].value, reference[i].value) << "arch " << i;
      }
    }
  }

  // Stacked execution shares work through weights that are the same tensors (ParamInitCache, as
  // the CLI draws them); the values equal init_params', so scores compare with the lanes'.
  rt::ParamInitCache cache(1);
  std::vector<rt::Params> shared;
  shared.reserve(archs.size());
  for (const auto& a : archs) shared.push_back(cache.params_for(a->graph));
  std::vector<const rt::Params*> shared_ptrs;
  for (const rt::Params& p : shared) shared_ptrs.push_back(&p);
  for (auto [group, workers] : {std::pair{16, 2}, std::pair{48, 1}}) {
    gpu.set_stacking(group, workers);
    (void)gpu.score_many(plans, shared_ptrs, rt::Counting::Reference);  // warm-up: arenas, conv plans, weights
    t0 = clock::now();
    const std::vector<cpu::LogDet> r = gpu.score_many(plans, shared_ptrs, rt::Counting::Reference);
    sec = std::chrono::duration<double>(clock::now() - t0).count();
    double worst = 0.0;
    for (size_t i = 0; i < r.size(); ++i) {
      EXPECT_EQ(std::isfinite(r[i].value), std::isfinite(reference[i].value)) << "arch " << i;
      if (std::isfinite(reference[i].value))
        worst = std::max(worst, std::fabs(r[i].value - reference[i].value) / std::fabs(reference[i].value));
    }
    std::printf("throughput score_many (stacked %d,%d, K + log-det): %.1f arch/s (%.2f ms/arch), max rel diff vs "
                "lanes %.2e\n",
                group, workers, kArchCount / sec, 1e3 * sec / kArchCount, worst);
    EXPECT_LT(worst, 1e-4) << "stacked scores far from the lanes'";
  }
  gpu.set_stacking(0);
}

}  // namespace
}  // namespace naswot::test
