// Kendall tau-b and Spearman rho (definitions in rank_stats.h).
#include "search/rank_stats.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>

#include "runtime/error.h"

namespace naswot::search {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

void check_inputs(std::span<const double> x, std::span<const double> y, const char* what) {
  NASWOT_EXPECT(x.size() == y.size(), BadInput,
                what << ": the samples differ in length (" << x.size() << " and " << y.size() << ")");
  for (size_t i = 0; i < x.size(); ++i)
    NASWOT_EXPECT(!std::isnan(x[i]) && !std::isnan(y[i]), BadInput,
                  what << ": pair " << i << " holds NaN; drop NaN values first");
}

// Pairs (i < j) with equal values in each run of equal values of a sorted sequence.
template <class Equal>
int64_t tied_pairs(size_t n, Equal equal) {
  int64_t pairs = 0;
  size_t run = 1;
  for (size_t i = 1; i <= n; ++i) {
    if (i < n && equal(i - 1, i)) {
      ++run;
      continue;
    }
    pairs += static_cast<int64_t>(run) * static_cast<int64_t>(run - 1) / 2;
    run = 1;
  }
  return pairs;
}

// Sorts v ascending (stable merge sort) and returns the number of pairs i < j with v[i] > v[j].
int64_t sort_counting_inversions(std::vector<double>& v) {
  std::vector<double> tmp(v.size());
  int64_t inversions = 0;
  for (size_t width = 1; width < v.size(); width *= 2) {
    for (size_t lo = 0; lo < v.size(); lo += 2 * width) {
      const size_t mid = std::min(lo + width, v.size()), hi = std::min(lo + 2 * width, v.size());
      size_t a = lo, b = mid, out = lo;
      while (a < mid && b < hi) {
        if (v[b] < v[a]) {  // strictly smaller: every remaining left element is an inversion with it
          inversions += static_cast<int64_t>(mid - a);
          tmp[out++] = v[b++];
        } else {
          tmp[out++] = v[a++];
        }
      }
      while (a < mid) tmp[out++] = v[a++];
      while (b < hi) tmp[out++] = v[b++];
    }
    v.swap(tmp);
  }
  return inversions;
}

}  // namespace

double kendall_tau_b(std::span<const double> x, std::span<const double> y) {
  check_inputs(x, y, "kendall tau");
  const size_t n = x.size();
  if (n < 2) return kNaN;
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return x[a] < x[b] || (x[a] == x[b] && y[a] < y[b]); });
  const int64_t x_ties = tied_pairs(n, [&](size_t a, size_t b) { return x[order[a]] == x[order[b]]; });
  const int64_t joint_ties =
      tied_pairs(n, [&](size_t a, size_t b) { return x[order[a]] == x[order[b]] && y[order[a]] == y[order[b]]; });
  // With x ascending and y ascending inside tied x, an inversion of y is exactly a discordant pair.
  std::vector<double> ys(n);
  for (size_t i = 0; i < n; ++i) ys[i] = y[order[i]];
  const int64_t discordant = sort_counting_inversions(ys);
  const int64_t y_ties = tied_pairs(n, [&](size_t a, size_t b) { return ys[a] == ys[b]; });
  const int64_t total = static_cast<int64_t>(n) * static_cast<int64_t>(n - 1) / 2;
  // C + D = total - x_ties - y_ties + joint_ties, so C - D = that - 2 D.
  const int64_t c_minus_d = total - x_ties - y_ties + joint_ties - 2 * discordant;
  const double denominator =
      std::sqrt(static_cast<double>(total - x_ties)) * std::sqrt(static_cast<double>(total - y_ties));
  if (denominator == 0.0) return kNaN;
  return std::clamp(static_cast<double>(c_minus_d) / denominator, -1.0, 1.0);
}

std::vector<double> average_ranks(std::span<const double> v) {
  const size_t n = v.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return v[a] < v[b]; });
  std::vector<double> ranks(n);
  for (size_t begin = 0; begin < n;) {
    size_t end = begin + 1;
    while (end < n && v[order[end]] == v[order[begin]]) ++end;
    // Positions begin..end-1 hold ranks begin+1..end; their mean is (begin + 1 + end) / 2.
    const double rank = 0.5 * static_cast<double>(begin + 1 + end);
    for (size_t i = begin; i < end; ++i) ranks[order[i]] = rank;
    begin = end;
  }
  return ranks;
}

double spearman_rho(std::span<const double> x, std::span<const double> y) {
  check_inputs(x, y, "spearman rho");
  const size_t n = x.size();
  if (n < 2) return kNaN;
  const std::vector<double> rx = average_ranks(x), ry = average_ranks(y);
  // Both rank vectors have mean (n + 1) / 2.
  const double mean = 0.5 * static_cast<double>(n + 1);
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < n; ++i) {
    const double dx = rx[i] - mean, dy = ry[i] - mean;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx == 0.0 || syy == 0.0) return kNaN;
  return std::clamp(sxy / std::sqrt(sxx * syy), -1.0, 1.0);
}

}  // namespace naswot::search
