// Rank correlations between two paired samples (scores vs accuracies in `naswot eval`).
//  * kendall_tau_b: Kendall's tau-b, the statistic scipy.stats.kendalltau returns by default (and
//    the one the NASWOT paper reports): (C - D) / sqrt((n0 - n1) (n0 - n2)), n0 = n(n-1)/2 pairs,
//    n1 / n2 the pairs tied in x / in y, C / D the concordant / discordant pairs (a pair tied in x
//    or y is neither). O(n log n): sort by (x, y), count tied runs, count the discordant pairs as
//    the inversions of a merge sort of y (Knight 1966, the algorithm scipy also uses).
//  * spearman_rho: Pearson's r of the ranks, ties given the average of the ranks they span
//    (scipy.stats.spearmanr).
// Both return NaN when a side is constant (the statistic is 0/0, as scipy) or n < 2. Infinities
// are ordinary extreme values (a -inf score, status "singular", ranks lowest). NaN inputs are
// BadInput: drop them first (scipy's default would return NaN for the whole sample).
#pragma once
#include <span>
#include <vector>

namespace naswot::search {

double kendall_tau_b(std::span<const double> x, std::span<const double> y);
double spearman_rho(std::span<const double> x, std::span<const double> y);

// 1-based ranks; equal values get the mean of the ranks they occupy.
std::vector<double> average_ranks(std::span<const double> v);

}  // namespace naswot::search
