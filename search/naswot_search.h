// NASWOT search, Algorithm 1 of Mellor et al. (ICML 2021; reference-semantics.md §6): per run,
// draw N architectures uniformly with replacement, score each without training, keep the one with
// the highest score (NaN ignored, as np.nanargmax; -inf, a singular K, is an ordinary lowest
// score). Each run also draws one position of its sample uniformly: the "random" baseline of the
// paper's Table 2, an untrained pick from the same sample.
//
// Runs are independent: run r draws from Rng(derive_seed(seed, r)) (rng.h), so run r is the same
// whatever the number of runs. All runs' samples are scored together through the cache, in large
// groups (fast on the GPU), and an architecture drawn twice is scored once.
//
// Time: a run's search_seconds is the sum of its N architectures' scoring seconds, duplicates
// included, i.e. what the run costs when it is done alone as the paper does (the cache makes the
// whole batch of runs cheaper than the sum).
#pragma once
#include <cstdint>
#include <limits>
#include <vector>

#include "search/score_cache.h"
#include "search/space.h"

namespace naswot::search {

struct NaswotSearchOptions {
  int samples = 10;  // N per run
  int runs = 10;     // R
  uint64_t seed = 1;
};

struct NaswotRun {
  std::vector<ArchEntry> sample;  // the N draws, in draw order
  std::vector<double> scores;     // their scores, same order
  size_t chosen = kNone;          // position of the first largest non-NaN score; kNone if all are NaN
  size_t random_pick = 0;         // position of the random baseline
  double search_seconds = 0;
  static constexpr size_t kNone = std::numeric_limits<size_t>::max();
};

// BadInput for samples < 1, runs < 1 or a space without indexed architectures.
std::vector<NaswotRun> naswot_search(const Space& space, ScoreCache& cache, const NaswotSearchOptions& options);

// Position of the first largest non-NaN value (np.nanargmax), NaswotRun::kNone when every value is
// NaN or `values` is empty.
size_t nan_argmax(const std::vector<double>& values);

}  // namespace naswot::search
