// Kendall tau-b and Spearman rho: a hand-worked example with ties in both variables, the extremes,
// constant samples (NaN, as scipy), and the O(n log n) tau against the O(n^2) definition and rho
// against rank-by-counting on seeded random data with many ties and infinities.
#include "search/rank_stats.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "test_util.h"

namespace naswot::search {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// The definitions, pair by pair.
double brute_kendall_tau_b(const std::vector<double>& x, const std::vector<double>& y) {
  double s = 0, x_untied = 0, y_untied = 0;
  for (size_t i = 0; i < x.size(); ++i)
    for (size_t j = i + 1; j < x.size(); ++j) {
      const int sx = (x[i] < x[j]) - (x[i] > x[j]), sy = (y[i] < y[j]) - (y[i] > y[j]);
      s += sx * sy;
      x_untied += sx != 0;
      y_untied += sy != 0;
    }
  return s / std::sqrt(x_untied * y_untied);
}

double brute_spearman(const std::vector<double>& x, const std::vector<double>& y) {
  // Average rank = 1 + #smaller + (#equal - 1) / 2.
  auto ranks = [](const std::vector<double>& v) {
    std::vector<double> r(v.size());
    for (size_t i = 0; i < v.size(); ++i) {
      double less = 0, equal = 0;
      for (double w : v) {
        less += w < v[i];
        equal += w == v[i];
      }
      r[i] = 1 + less + (equal - 1) / 2;
    }
    return r;
  };
  const std::vector<double> rx = ranks(x), ry = ranks(y);
  double mx = 0, my = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    mx += rx[i];
    my += ry[i];
  }
  mx /= static_cast<double>(x.size());
  my /= static_cast<double>(x.size());
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    sxy += (rx[i] - mx) * (ry[i] - my);
    sxx += (rx[i] - mx) * (rx[i] - mx);
    syy += (ry[i] - my) * (ry[i] - my);
  }
  return sxy / std::sqrt(sxx * syy);
}

TEST(RankStats, HandWorkedExampleWithTiesInBothVariables) {
  // x = (12, 2, 1, 12, 2), y = (1, 4, 7, 1, 0). Of the 10 pairs, 2 are concordant ((0,4), (3,4)),
  // 6 discordant, (0,3) tied in both, (1,4) tied in x. n1 = 2 x-tied pairs, n2 = 1 y-tied pair:
  // tau-b = (2 - 6) / sqrt((10 - 2)(10 - 1)) = -4 / sqrt(72).
  const std::vector<double> x = {12, 2, 1, 12, 2}, y = {1, 4, 7, 1, 0};
  EXPECT_NEAR(kendall_tau_b(x, y), -4.0 / std::sqrt(72.0), 1e-15);
  // Average ranks: x -> (4.5, 2.5, 1, 4.5, 2.5), y -> (2.5, 4, 5, 2.5, 1); about the mean 3 the
  // cross sum is -5 and the squares 9 and 9.5: rho = -5 / sqrt(85.5).
  EXPECT_EQ(average_ranks(x), (std::vector<double>{4.5, 2.5, 1, 4.5, 2.5}));
  EXPECT_EQ(average_ranks(y), (std::vector<double>{2.5, 4, 5, 2.5, 1}));
  EXPECT_NEAR(spearman_rho(x, y), -5.0 / std::sqrt(85.5), 1e-15);
}

TEST(RankStats, ExtremesAndDegenerateSamples) {
  const std::vector<double> x = {3, 1, 4, 1.5, 5, 9, 2, 6}, neg = {-3, -1, -4, -1.5, -5, -9, -2, -6};
  EXPECT_DOUBLE_EQ(kendall_tau_b(x, x), 1.0);
  EXPECT_DOUBLE_EQ(kendall_tau_b(x, neg), -1.0);
  EXPECT_DOUBLE_EQ(spearman_rho(x, x), 1.0);
  EXPECT_DOUBLE_EQ(spearman_rho(x, neg), -1.0);
  // Monotone transforms do not change ranks; -inf is the lowest value.
  std::vector<double> with_inf = x;
  with_inf[1] = -kInf;
  EXPECT_DOUBLE_EQ(kendall_tau_b(x, with_inf), 1.0);
  const std::vector<double> constant(8, 2.0);
  EXPECT_TRUE(std::isnan(kendall_tau_b(x, constant)));
  EXPECT_TRUE(std::isnan(spearman_rho(constant, x)));
  EXPECT_TRUE(std::isnan(kendall_tau_b(std::vector<double>{1}, std::vector<double>{2})));
  EXPECT_TRUE(std::isnan(spearman_rho(std::vector<double>{}, std::vector<double>{})));
}

TEST(RankStats, BadInputIsRejected) {
  const std::vector<double> a = {1, 2, 3}, b = {1, 2}, nan = {1, std::nan(""), 3};
  NASWOT_EXPECT_BAD_INPUT(kendall_tau_b(a, b), "differ in length");
  NASWOT_EXPECT_BAD_INPUT(spearman_rho(a, b), "differ in length");
  NASWOT_EXPECT_BAD_INPUT(kendall_tau_b(a, nan), "pair 1");
  NASWOT_EXPECT_BAD_INPUT(spearman_rho(nan, a), "NaN");
}

TEST(RankStats, FastStatisticsMatchTheDefinitionsOnRandomDataWithTies) {
  std::mt19937 rng(test::kSeed + 71);
  for (size_t n : {2u, 3u, 7u, 40u, 301u, 1000u}) {
    for (int levels : {2, 5, 50, 1000000}) {  // few levels: many ties; many levels: almost none
      std::uniform_int_distribution<int> level(0, levels - 1);
      std::vector<double> x(n), y(n);
      for (size_t i = 0; i < n; ++i) {
        x[i] = level(rng);
        // y follows x loosely, so tau is away from 0 and its sign matters.
        y[i] = level(rng) + (levels > 2 ? 0.5 * x[i] : 0.0);
        if (rng() % 17 == 0) y[i] = -kInf;  // singular scores
      }
      const double brute_tau = brute_kendall_tau_b(x, y), brute_rho = brute_spearman(x, y);
      if (std::isnan(brute_tau)) {
        EXPECT_TRUE(std::isnan(kendall_tau_b(x, y))) << "n " << n << " levels " << levels;
      } else {
        EXPECT_NEAR(kendall_tau_b(x, y), brute_tau, 1e-12) << "n " << n << " levels " << levels;
      }
      if (std::isnan(brute_rho)) {
        EXPECT_TRUE(std::isnan(spearman_rho(x, y))) << "n " << n << " levels " << levels;
      } else {
        EXPECT_NEAR(spearman_rho(x, y), brute_rho, 1e-12) << "n " << n << " levels " << levels;
      }
      // Symmetric in its arguments (NaN both ways when a side is constant).
      const double xy = kendall_tau_b(x, y), yx = kendall_tau_b(y, x);
      EXPECT_TRUE(xy == yx || (std::isnan(xy) && std::isnan(yx))) << xy << " vs " << yx << ", n " << n;
    }
  }
}

}  // namespace
}  // namespace naswot::search
