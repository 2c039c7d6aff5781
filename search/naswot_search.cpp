// NASWOT search, Algorithm 1 (naswot_search.h).
#include "search/naswot_search.h"

#include <cmath>

#include "runtime/error.h"
#include "search/rng.h"

namespace naswot::search {

size_t nan_argmax(const std::vector<double>& values) {
  size_t best = NaswotRun::kNone;
  for (size_t i = 0; i < values.size(); ++i) {
    if (std::isnan(values[i])) continue;
    if (best == NaswotRun::kNone || values[i] > values[best]) best = i;
  }
  return best;
}

std::vector<NaswotRun> naswot_search(const Space& space, ScoreCache& cache, const NaswotSearchOptions& options) {
  NASWOT_EXPECT(options.samples >= 1, BadInput, "--samples " << options.samples << ": expected at least 1");
  NASWOT_EXPECT(options.runs >= 1, BadInput, "--runs " << options.runs << ": expected at least 1");
  NASWOT_EXPECT(space.size() > 0, BadInput, "space " << space.name() << " has no indexed architectures to sample");
  const auto samples = static_cast<size_t>(options.samples);
  std::vector<NaswotRun> runs(static_cast<size_t>(options.runs));
  std::vector<ArchEntry> all;
  all.reserve(runs.size() * samples);
  for (size_t r = 0; r < runs.size(); ++r) {
    Rng rng(derive_seed(options.seed, r));
    NaswotRun& run = runs[r];
    run.sample.reserve(samples);
    for (size_t i = 0; i < samples; ++i)
      run.sample.push_back(space.from_index(static_cast<int64_t>(rng.below(static_cast<uint64_t>(space.size())))));
    run.random_pick = static_cast<size_t>(rng.below(samples));
    all.insert(all.end(), run.sample.begin(), run.sample.end());
  }
  cache.ensure(all);
  for (NaswotRun& run : runs) {
    run.scores.reserve(samples);
    for (const ArchEntry& a : run.sample) {
      const Score& s = cache.at(a);
      run.scores.push_back(s.value);
      run.search_seconds += s.seconds;
    }
    run.chosen = nan_argmax(run.scores);
  }
  return runs;
}

}  // namespace naswot::search
