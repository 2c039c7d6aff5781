// batchnorm_stats + batchnorm_apply against batchnorm_train_reference (two passes in long double)
// on seeded random NHWC data: small, awkward (rows not a multiple of the kernel's chunk), one
// channel, one row, NB201's largest tensor (128 x 32 x 32 x 16), and data with a large mean where
// a naive E[x^2] - E[x]^2 would lose every digit. Also: statistics do not depend on the thread
// count (bit for bit), and bad arguments throw.
// Tolerances: mean and var are double results rounded to float, so they agree with the long double
// reference to float rounding: rtol 1e-6 (about 8 ulps), atol 1e-7 for means near zero. y is
// computed in float from float mean/invstd: each of its 4 float operations rounds, and |y| can reach
// ~5 for normal data, so atol 1e-5, rtol 1e-5.
#include "kernels/cpu/batchnorm.h"

#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <limits>
#include <vector>

#include "test_util.h"

namespace naswot::cpu {
namespace {

using test::GuardedBuffer;
using test::kSeed;

constexpr float kEps = 1e-5f;
constexpr float kPoison = std::numeric_limits<float>::quiet_NaN();

void check_case(int64_t rows, int channels, double mean, double stddev, uint32_t seed, double y_atol = 1e-5) {
  SCOPED_TRACE(::testing::Message() << "rows=" << rows << " channels=" << channels << " mean=" << mean);
  const size_t count = static_cast<size_t>(rows) * channels;
  const std::vector<float> x = test::random_normal(count, mean, stddev, seed);
  const std::vector<float> gamma = test::random_uniform(channels, 0.5, 1.5, seed + 1);
  const std::vector<float> beta = test::random_uniform(channels, -0.5, 0.5, seed + 2);

  GuardedBuffer<float> mu(channels, kPoison), var(channels, kPoison), y(count, kPoison);
  batchnorm_stats(x.data(), rows, channels, mu.data(), var.data());
  batchnorm_apply(x.data(), rows, channels, mu.data(), var.data(), gamma.data(), beta.data(), kEps, y.data());

  GuardedBuffer<float> ref_mu(channels, kPoison), ref_var(channels, kPoison), ref_y(count, kPoison);
  batchnorm_train_reference(x.data(), rows, channels, gamma.data(), beta.data(), kEps, ref_y.data(), ref_mu.data(),
                            ref_var.data());

  EXPECT_TRUE(mu.check() && var.check() && y.check()) << "kernel wrote outside its outputs";
  EXPECT_TRUE(ref_mu.check() && ref_var.check() && ref_y.check()) << "reference wrote outside its outputs";
  EXPECT_TRUE(test::all_close(mu.data(), ref_mu.data(), channels, 1e-7, 1e-6)) << "mean";
  EXPECT_TRUE(test::all_close(var.data(), ref_var.data(), channels, 1e-7, 1e-6)) << "variance";
  EXPECT_TRUE(test::all_close(y.data(), ref_y.data(), count, y_atol, 1e-5)) << "normalised output";
}

TEST(BatchNorm, MatchesReference) {
  check_case(2 * 8 * 8, 16, 0.0, 1.0, kSeed);
  check_case(1000, 3, 0.3, 2.0, kSeed + 10);            // 1000 rows: last chunk partial
  check_case(4 * 7 * 5, 1, -1.0, 0.5, kSeed + 20);      // one channel
  check_case(257, 64, 0.0, 1.0, kSeed + 30);            // one row past a chunk
  check_case(128 * 32 * 32, 16, 0.2, 1.0, kSeed + 40);  // NB201's largest BN input
}

TEST(BatchNorm, LargeMeanKeepsVarianceDigits) {
  // mean 1000, std 0.01: E[x^2] - E[x]^2 in double would keep ~6 of var's digits, in float none.
  // y gets a looser atol: the API hands mean over as a float, whose rounding (half an ulp of 1000,
  // 3.1e-5) is multiplied by invstd = 100 and gamma <= 1.5 in (x - mean) * invstd * gamma: 4.6e-3.
  check_case(5000, 4, 1000.0, 0.01, kSeed + 50, 5e-3);
}

TEST(BatchNorm, OneRowGivesBeta) {
  // A single row: mean = x, var = 0, so y = 0 * invstd * gamma + beta = beta exactly.
  const int c = 5;
  const std::vector<float> x = test::random_normal(c, 0.0, 3.0, kSeed + 60);
  const std::vector<float> gamma = test::random_uniform(c, 0.5, 1.5, kSeed + 61);
  const std::vector<float> beta = test::random_uniform(c, -1.0, 1.0, kSeed + 62);
  GuardedBuffer<float> mu(c, kPoison), var(c, kPoison), y(c, kPoison);
  batchnorm_stats(x.data(), 1, c, mu.data(), var.data());
  batchnorm_apply(x.data(), 1, c, mu.data(), var.data(), gamma.data(), beta.data(), kEps, y.data());
  const std::vector<float> zeros(c, 0.0f);
  EXPECT_TRUE(test::all_equal(mu.data(), x.data(), c));
  EXPECT_TRUE(test::all_equal(var.data(), zeros.data(), c));
  EXPECT_TRUE(test::all_equal(y.data(), beta.data(), c));
  EXPECT_TRUE(mu.check() && var.check() && y.check());
}

TEST(BatchNorm, StatsDoNotDependOnThreadCount) {
  const int64_t rows = 3 * 33 * 17;
  const int c = 24;
  const std::vector<float> x = test::random_normal(rows * c, 0.5, 2.0, kSeed + 70);
  std::vector<float> mu1(c), var1(c), mu2(c), var2(c);
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  batchnorm_stats(x.data(), rows, c, mu1.data(), var1.data());
  omp_set_num_threads(threads > 1 ? threads : 3);
  batchnorm_stats(x.data(), rows, c, mu2.data(), var2.data());
  omp_set_num_threads(threads);
  EXPECT_TRUE(test::all_equal(mu1.data(), mu2.data(), c)) << "mean";
  EXPECT_TRUE(test::all_equal(var1.data(), var2.data(), c)) << "variance";
}

TEST(BatchNorm, RejectsBadArguments) {
  float buf[16] = {};
  NASWOT_EXPECT_BAD_INPUT(batchnorm_stats(buf, 0, 4, buf, buf), "rows");
  NASWOT_EXPECT_BAD_INPUT(batchnorm_stats(nullptr, 4, 4, buf, buf), "non-null");
  NASWOT_EXPECT_BAD_INPUT(batchnorm_apply(buf, 4, 4, buf, buf, nullptr, buf, kEps, buf), "gamma");
  NASWOT_EXPECT_BAD_INPUT(batchnorm_apply(buf, 4, 4, buf, buf, buf, buf, -1.0f, buf), "eps");
  NASWOT_EXPECT_BAD_INPUT(batchnorm_train_reference(buf, 4, 0, buf, buf, kEps, buf, buf, buf), "channels");
}

}  // namespace
}  // namespace naswot::cpu
