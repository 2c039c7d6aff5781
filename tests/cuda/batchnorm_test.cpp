// cuda::batchnorm_stats / batchnorm_apply vs the CPU twins.
// Stats tolerance: both sides accumulate in double and round once to float, by different
// schemes (GPU: shifted sums, CPU: Chan-merged chunks), so they may differ by the last float
// ulp: mean |d| <= 2.5e-7 * |mean| + 1e-9 * (|mean| + std), var |d| <= 2.5e-7 * var + 1e-12.
// Apply is bit-exact for the same mean and var (same float operation order, no FMA).
// Shapes: one row, one channel, channels not a multiple of 32, NB-201 sizes (128*32*32 rows x
// 16, 128*8*8 x 64); one input has mean 50 and std 0.1 (cancellation check).
#include <algorithm>
#include <cmath>

#include "cuda_test_util.h"
#include "kernels/cpu/batchnorm.h"
#include "kernels/cuda/batchnorm.cuh"

namespace naswot::test {
namespace {

constexpr uint32_t kBnSeed = kSeed + 301;

struct BnCase {
  int64_t rows;
  int channels;
  double mean, stddev;
};

void check_batchnorm(const BnCase& c) {
  SCOPED_TRACE(testing::Message() << "rows=" << c.rows << " channels=" << c.channels << " mean=" << c.mean);
  const size_t count = static_cast<size_t>(c.rows) * static_cast<size_t>(c.channels);
  const auto cn = static_cast<size_t>(c.channels);
  const std::vector<float> x = random_normal(count, c.mean, c.stddev, kBnSeed);
  const std::vector<float> gamma = random_uniform(cn, 0.5, 1.5, kBnSeed + 1);
  const std::vector<float> beta = random_uniform(cn, -0.5, 0.5, kBnSeed + 2);
  const float eps = 1e-5f;
  std::vector<float> mean(cn), var(cn), y(count);
  cpu::batchnorm_stats(x.data(), c.rows, c.channels, mean.data(), var.data());
  cpu::batchnorm_apply(x.data(), c.rows, c.channels, mean.data(), var.data(), gamma.data(), beta.data(), eps, y.data());

  TestStream s;
  auto dx = to_device(x, s.get());
  DeviceGuarded<float> dmean(cn, s.get()), dvar(cn, s.get());
  DeviceGuarded<unsigned char> scratch(cuda::batchnorm_stats_scratch_bytes(c.rows, c.channels), s.get());
  rt::fill_zero(scratch.data(), scratch.size(), s.get());  // tickets start at zero
  for (int round = 0; round < 2; ++round) {  // the second call checks that the tickets were reset
    cuda::batchnorm_stats(dx.data(), c.rows, c.channels, dmean.data(), dvar.data(), scratch.data(), s.get());
    const std::vector<float> gm = dmean.download(), gv = dvar.download();
    for (size_t j = 0; j < cn; ++j) {
      const double sd = std::sqrt(static_cast<double>(var[j]));
      const double mean_tol = 2.5e-7 * std::fabs(mean[j]) + 1e-9 * (std::fabs(mean[j]) + sd);
      EXPECT_TRUE(all_close(&gm[j], &mean[j], 1, mean_tol, 0.0)) << "mean, channel " << j << ", round " << round;
      EXPECT_TRUE(all_close(&gv[j], &var[j], 1, 1e-12, 2.5e-7)) << "var, channel " << j << ", round " << round;
    }
  }
  EXPECT_TRUE(dmean.guards_intact() && dvar.guards_intact()) << "batchnorm_stats wrote outside mean/var";
  EXPECT_TRUE(scratch.guards_intact()) << "batchnorm_stats wrote outside its scratch";

  // Apply with the CPU's statistics: bit-exact.
  auto dmean_cpu = to_device(mean, s.get());
  auto dvar_cpu = to_device(var, s.get());
  auto dgamma = to_device(gamma, s.get());
  auto dbeta = to_device(beta, s.get());
  DeviceGuarded<float> dy(count, s.get());
  cuda::batchnorm_apply(dx.data(), c.rows, c.channels, dmean_cpu.data(), dvar_cpu.data(), dgamma.data(), dbeta.data(),
                        eps, dy.data(), s.get());
  const std::vector<float> gy = dy.download();
  EXPECT_TRUE(bits_equal(gy.data(), y.data(), count));
  EXPECT_TRUE(dy.guards_intact()) << "batchnorm_apply wrote outside y";
}

TEST(CudaBatchNorm, MatchesCpuOnAwkwardShapes) {
  NASWOT_REQUIRE_CUDA_DEVICE();
  check_batchnorm({1, 1, 0.0, 1.0});
  check_batchnorm({1, 5, 0.0, 1.0});
  check_batchnorm({1000, 3, 0.3, 2.0});
  check_batchnorm({777, 33, 0.0, 1.0});
  check_batchnorm({4096, 7, 50.0, 0.1});
}

TEST(CudaBatchNorm, MatchesCpuOnNb201Shapes) {
  NASWOT_REQUIRE_CUDA_DEVICE();
  check_batchnorm({128 * 32 * 32, 16, 0.1, 0.7});
  check_batchnorm({128 * 8 * 8, 64, -0.2, 1.3});
}

TEST(CudaBatchNorm, StatsAreDeterministic) {
  NASWOT_REQUIRE_CUDA_DEVICE();
  const int64_t rows = 128 * 16 * 16;
  const int channels = 32;
  const std::vector<float> x = random_normal(static_cast<size_t>(rows) * channels, 0.0, 1.0, kBnSeed + 9);
  TestStream s;
  auto dx = to_device(x, s.get());
  DeviceGuarded<float> m1(channels, s.get()), v1(channels, s.get()), m2(channels, s.get()), v2(channels, s.get());
  DeviceGuarded<unsigned char> scratch(cuda::batchnorm_stats_scratch_bytes(rows, channels), s.get());
  rt::fill_zero(scratch.data(), scratch.size(), s.get());
  cuda::batchnorm_stats(dx.data(), rows, channels, m1.data(), v1.data(), scratch.data(), s.get());
  cuda::batchnorm_stats(dx.data(), rows, channels, m2.data(), v2.data(), scratch.data(), s.get());
  const auto a = m1.download(), b = m2.download(), c = v1.download(), d = v2.download();
  EXPECT_TRUE(bits_equal(a.data(), b.data(), a.size()));
  EXPECT_TRUE(bits_equal(c.data(), d.data(), c.size()));
}

// One scratch serves every BatchNorm of a network: calls with different shapes in sequence (the
// NB201 stages: 16 channels at 32x32, then 32 at 16x16, then 64 at 8x8, then 16 again) must each
// match the CPU. The H200 run of 2026-11-28 found shape-dependent ticket placement breaking this.
TEST(CudaBatchNorm, ShapesInSequenceShareOneScratch) {
  NASWOT_REQUIRE_CUDA_DEVICE();
  struct Shape { int64_t rows; int channels; };
  const Shape shapes[] = {{8 * 32 * 32, 16}, {8 * 16 * 16, 32}, {8 * 8 * 8, 64}, {8 * 32 * 32, 16}, {1000, 33}};
  size_t bytes = 0;
  for (const Shape& sh : shapes) bytes = std::max(bytes, cuda::batchnorm_stats_scratch_bytes(sh.rows, sh.channels));
  TestStream s;
  DeviceGuarded<unsigned char> scratch(bytes, s.get());
  rt::fill_zero(scratch.data(), scratch.size(), s.get());
  uint32_t seed = kBnSeed + 50;
  for (const Shape& sh : shapes) {
    SCOPED_TRACE(testing::Message() << "rows=" << sh.rows << " channels=" << sh.channels);
    const auto cn = static_cast<size_t>(sh.channels);
    const std::vector<float> x = random_normal(static_cast<size_t>(sh.rows) * cn, 3.0, 2.0, ++seed);
    std::vector<float> mean(cn), var(cn);
    cpu::batchnorm_stats(x.data(), sh.rows, sh.channels, mean.data(), var.data());
    auto dx = to_device(x, s.get());
    DeviceGuarded<float> dmean(cn, s.get()), dvar(cn, s.get());
    cuda::batchnorm_stats(dx.data(), sh.rows, sh.channels, dmean.data(), dvar.data(), scratch.data(), s.get());
    const std::vector<float> gm = dmean.download(), gv = dvar.download();
    EXPECT_TRUE(all_close(gm.data(), mean.data(), cn, 1e-6, 2.5e-7)) << "mean";
    EXPECT_TRUE(all_close(gv.data(), var.data(), cn, 1e-12, 2.5e-7)) << "var";
  }
  EXPECT_TRUE(scratch.guards_intact()) << "batchnorm_stats wrote outside its scratch";
}

TEST(CudaBatchNorm, RejectsEmptyShapes) {
  float f = 0.0f;
  NASWOT_EXPECT_BAD_INPUT(cuda::batchnorm_stats(&f, 0, 1, &f, &f, &f, nullptr), "rows and channels");
  NASWOT_EXPECT_BAD_INPUT(cuda::batchnorm_apply(&f, 1, 1, &f, &f, nullptr, &f, 1e-5f, &f, nullptr), "gamma");
}

}  // namespace
}  // namespace naswot::test
