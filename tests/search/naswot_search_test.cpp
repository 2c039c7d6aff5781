// NASWOT search (Algorithm 1) and the score cache: with real scores (CPU, batch 8, 16x16) the same
// seed gives the same samples, scores and choices, and each run's choice is the argmax of the
// cached scores; run r does not depend on the number of runs; an architecture drawn many times is
// scored once; nan_argmax follows np.nanargmax; search time is the sum over the sample.
#include "search/naswot_search.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <set>

#include "runtime/cpu_backend.h"
#include "runtime/params.h"
#include "search/search_test_util.h"
#include "test_util.h"

namespace naswot::search {
namespace {

constexpr uint64_t kSearchSeed = test::kSeed + 41;

// A real scoring stack at batch 8, 16x16 (milliseconds per NB201 architecture on a CPU).
struct RealScoring {
  RealScoring()
      : space(make_space("nb201", {16})),
        batch(make_batch()),
        scorer(backend, batch, rt::Counting::Reference),
        weights(kSearchSeed),
        arch_scorer(*space, scorer, weights) {}
  static rt::Batch make_batch() {
    rt::Batch b;
    b.shape = {8, 16, 16, 3};
    b.data = test::random_normal(static_cast<size_t>(b.shape.numel()), 0.0, 1.0, test::kSeed + 42);
    b.source = "random_normal";
    return b;
  }
  std::unique_ptr<Space> space;
  rt::Batch batch;
  rt::CpuBackend backend;
  Scorer scorer;
  rt::ParamInitCache weights;
  NetworkArchScorer arch_scorer;
};

TEST(NaswotSearch, SameSeedSameRunsAndTheChoiceIsTheArgmaxOfTheCachedScores) {
  const NaswotSearchOptions options{6, 4, kSearchSeed};
  RealScoring a, b;
  ScoreCache cache_a(a.arch_scorer, 1), cache_b(b.arch_scorer, 3);  // group size must not matter
  const std::vector<NaswotRun> runs_a = naswot_search(*a.space, cache_a, options);
  const std::vector<NaswotRun> runs_b = naswot_search(*b.space, cache_b, options);
  ASSERT_EQ(runs_a.size(), 4u);
  ASSERT_EQ(runs_b.size(), 4u);
  std::set<std::string> all;
  for (size_t r = 0; r < runs_a.size(); ++r) {
    const NaswotRun& run = runs_a[r];
    ASSERT_EQ(run.sample.size(), 6u);
    ASSERT_EQ(runs_b[r].sample.size(), 6u);
    for (size_t i = 0; i < run.sample.size(); ++i) {
      EXPECT_EQ(run.sample[i].arch, runs_b[r].sample[i].arch) << "run " << r << " draw " << i;
      EXPECT_EQ(run.sample[i].arch, a.space->from_index(run.sample[i].index).arch);
      // Scores are bit-identical (same seed, batch and backend).
      EXPECT_EQ(std::memcmp(&run.scores[i], &runs_b[r].scores[i], sizeof(double)), 0) << "run " << r << " draw " << i;
      all.insert(run.sample[i].arch);
    }
    EXPECT_EQ(run.chosen, runs_b[r].chosen);
    EXPECT_EQ(run.random_pick, runs_b[r].random_pick);
    EXPECT_LT(run.random_pick, run.sample.size());
    // The choice is the first maximum of the cached scores.
    ASSERT_NE(run.chosen, NaswotRun::kNone);
    const double best = cache_a.at(run.sample[run.chosen]).value;
    for (size_t i = 0; i < run.sample.size(); ++i) {
      const double s = cache_a.at(run.sample[i]).value;
      EXPECT_EQ(s, run.scores[i]);
      if (i < run.chosen) {
        EXPECT_LT(s, best) << "run " << r << ": an earlier draw has an equal or better score";
      }
      EXPECT_LE(s, best) << "run " << r << " draw " << i;
    }
  }
  EXPECT_EQ(cache_a.size(), all.size());
  // A different seed draws other architectures.
  RealScoring c;
  ScoreCache cache_c(c.arch_scorer, 1);
  const std::vector<NaswotRun> other = naswot_search(*c.space, cache_c, {6, 1, kSearchSeed + 1});
  bool differs = false;
  for (size_t i = 0; i < 6; ++i) differs = differs || other[0].sample[i].arch != runs_a[0].sample[i].arch;
  EXPECT_TRUE(differs);
}

TEST(NaswotSearch, RepeatedDrawsAreScoredOnceAndRunRDoesNotDependOnTheRunCount) {
  test::SmallSpace space(7);  // 4 runs x 20 draws from 7 architectures: many repeats
  test::RecordingScorer scorer(test::scrambled_score);
  ScoreCache cache(scorer, 4);
  const std::vector<NaswotRun> runs = naswot_search(space, cache, {20, 4, kSearchSeed});
  EXPECT_LE(cache.size(), 7u);
  EXPECT_GE(cache.size(), 5u) << "80 uniform draws from 7 should reach most of them";
  for (const auto& [arch, times] : scorer.times_scored) EXPECT_EQ(times, 1) << arch << " was scored twice";
  EXPECT_EQ(static_cast<size_t>(scorer.calls), (cache.size() + 3) / 4) << "scored in groups of 4";
  // A second search through the same cache scores nothing new.
  const int calls = scorer.calls;
  const std::vector<NaswotRun> again = naswot_search(space, cache, {20, 2, kSearchSeed});
  EXPECT_EQ(scorer.calls, calls);
  for (size_t r = 0; r < again.size(); ++r) {
    for (size_t i = 0; i < again[r].sample.size(); ++i) EXPECT_EQ(again[r].sample[i].arch, runs[r].sample[i].arch);
    EXPECT_EQ(again[r].random_pick, runs[r].random_pick);
  }
  // Search time counts every draw, repeats included, as a run done alone would.
  for (const NaswotRun& run : runs) {
    double sum = 0;
    for (const ArchEntry& e : run.sample) sum += cache.at(e).seconds;
    EXPECT_DOUBLE_EQ(run.search_seconds, sum);
    // NaN scores (every 11th index) are never chosen while a number exists.
    ASSERT_NE(run.chosen, NaswotRun::kNone);
    EXPECT_FALSE(std::isnan(run.scores[run.chosen]));
  }
}

TEST(NaswotSearch, NanArgmaxFollowsNumpy) {
  const double nan = std::nan(""), inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(nan_argmax({nan, 1, 3, 3, nan, 2}), 2u);
  EXPECT_EQ(nan_argmax({-inf, nan}), 0u);
  EXPECT_EQ(nan_argmax({nan, -inf, -5}), 2u);
  EXPECT_EQ(nan_argmax({nan, nan}), NaswotRun::kNone);
  EXPECT_EQ(nan_argmax({}), NaswotRun::kNone);
}

TEST(NaswotSearch, BadOptionsAreRejected) {
  test::SmallSpace space(7);
  test::RecordingScorer scorer(test::scrambled_score);
  ScoreCache cache(scorer, 1);
  NASWOT_EXPECT_BAD_INPUT(naswot_search(space, cache, {0, 1, 1}), "--samples 0");
  NASWOT_EXPECT_BAD_INPUT(naswot_search(space, cache, {5, 0, 1}), "--runs 0");
  NASWOT_EXPECT_BAD_INPUT(ScoreCache(scorer, 0), "group");
  EXPECT_EQ(scorer.calls, 0);
}

}  // namespace
}  // namespace naswot::search
