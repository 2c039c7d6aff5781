// REA and AREA: the oracle is queried exactly `budget` times; the NB201 mutation changes exactly
// one edge to a different op (and reaches every alternative); every child descends from a member of
// the population at its time, i.e. one of the previous P queries (ageing); the answer is the best
// query; AREA's initial population is the top P of its scored sample; runs repeat with a seed.
#include "search/evolution.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

#include "cells/nb201.h"
#include "search/bench_table.h"
#include "search/search_test_util.h"
#include "test_util.h"

namespace naswot::search {
namespace {

constexpr uint64_t kEvoSeed = test::kSeed + 51;

int edges_differing(const std::string& a, const std::string& b) {
  const cells::Nb201Arch x = cells::parse_nb201(a), y = cells::parse_nb201(b);
  int n = 0;
  for (size_t e = 0; e < x.edges.size(); ++e) n += x.edges[e] != y.edges[e];
  return n;
}

// The table's CIFAR-10 validation accuracy, counting queries.
struct CountingOracle {
  double operator()(const ArchEntry& a) {
    ++queries;
    return BenchTable::nb201_default().lookup(a).accuracy(DatasetKind::Cifar10, Split::Valid);
  }
  int queries = 0;
};

TEST(Evolution, Nb201MutationChangesExactlyOneEdgeToEveryOtherOp) {
  const auto space = make_space("nb201", {});
  const MutationFn mutate = mutation_for(*space);
  Rng rng(kEvoSeed);
  std::set<std::pair<size_t, int>> reached;  // (edge, new op) from the all-skip cell
  const ArchEntry skip = space->from_string(
      "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|"
      "skip_connect~1|skip_connect~2|");
  for (int i = 0; i < 2000; ++i) {
    const ArchEntry parent = space->from_index(static_cast<int64_t>(rng.below(cells::kNb201Size)));
    const ArchEntry child = mutate(parent, rng);
    ASSERT_EQ(edges_differing(parent.arch, child.arch), 1) << parent.arch << " -> " << child.arch;
    EXPECT_EQ(child.index, cells::nb201_index(cells::parse_nb201(child.arch)));
    const ArchEntry from_skip = mutate(skip, rng);
    const cells::Nb201Arch m = cells::parse_nb201(from_skip.arch);
    for (size_t e = 0; e < m.edges.size(); ++e)
      if (m.edges[e] != cells::Nb201Op::SkipConnect) reached.insert({e, static_cast<int>(m.edges[e])});
  }
  EXPECT_EQ(reached.size(), 6u * 4u) << "every edge should reach each of the 4 other ops";
}

TEST(Evolution, ReaSpendsExactlyTheBudgetAndChildrenDescendFromTheLivingPopulation) {
  const auto space = make_space("nb201", {});
  const MutationFn mutate = mutation_for(*space);
  for (int budget : {1, 7, 10, 11, 60}) {
    CountingOracle oracle;
    EvolutionOptions o;
    o.budget = budget;
    Rng rng(kEvoSeed + static_cast<uint64_t>(budget));
    const EvolutionRun run = regularized_evolution(*space, mutate, std::ref(oracle), o, rng);
    EXPECT_EQ(oracle.queries, budget);
    ASSERT_EQ(run.history.size(), static_cast<size_t>(budget));
    ASSERT_EQ(run.initial_population.size(), 10u);
    EXPECT_TRUE(run.area_candidates.empty());
    for (size_t i = 0; i < run.history.size(); ++i) {
      if (i < 10) {
        EXPECT_EQ(run.history[i].arch.arch, run.initial_population[i].arch);
        continue;
      }
      // The parent was alive: one of the previous 10 queries (the population after ageing).
      bool has_parent = false;
      for (size_t j = i - 10; j < i; ++j)
        has_parent = has_parent || edges_differing(run.history[j].arch.arch, run.history[i].arch.arch) == 1;
      EXPECT_TRUE(has_parent) << "budget " << budget << ": query " << i << " has no parent in the living population";
    }
    // The answer is the first best query.
    for (size_t i = 0; i < run.history.size(); ++i) {
      EXPECT_LE(run.history[i].accuracy, run.history[run.best].accuracy);
      if (i < run.best) {
        EXPECT_LT(run.history[i].accuracy, run.history[run.best].accuracy);
      }
    }
  }
}

TEST(Evolution, SelectionClimbsTowardsTheOptimumOfASimpleOracle) {
  // Oracle: the number of nor_conv_3x3 edges (0..6; one architecture of 15,625 has 6). A mutation
  // changes it by at most one. Tournament selection (S = 3, the default) must climb clearly higher
  // than the same evolution without selection (S = 1: the parent is a uniform member).
  const auto space = make_space("nb201", {});
  const MutationFn mutate = mutation_for(*space);
  const OracleFn conv3x3 = [](const ArchEntry& a) {
    const cells::Nb201Arch arch = cells::parse_nb201(a.arch);
    return static_cast<double>(std::count(arch.edges.begin(), arch.edges.end(), cells::Nb201Op::NorConv3x3));
  };
  auto mean_best = [&](int tournament, int& optimum_found) {
    EvolutionOptions o;
    o.tournament = tournament;
    o.budget = 200;
    double sum = 0;
    optimum_found = 0;
    for (uint64_t r = 0; r < 40; ++r) {
      Rng rng(derive_seed(kEvoSeed, r));
      const EvolutionRun run = regularized_evolution(*space, mutate, conv3x3, o, rng);
      sum += run.history[run.best].accuracy;
      optimum_found += run.history[run.best].accuracy == 6.0;
    }
    return sum / 40;
  };
  int found_with = 0, found_without = 0;
  const double with_selection = mean_best(3, found_with), without = mean_best(1, found_without);
  // Measured with these seeds: 5.50 (22 of 40 runs reach 6) against 4.05 (none).
  EXPECT_GT(with_selection, without + 1.0);
  EXPECT_GE(found_with, 10);
  EXPECT_LE(found_without, 2);
}

TEST(Evolution, AreaStartsFromTheTopScoredArchitecturesAndRepeatsWithASeed) {
  const auto space = make_space("nb201", {});
  const MutationFn mutate = mutation_for(*space);
  test::RecordingScorer scorer(test::scrambled_score);
  ScoreCache cache(scorer, 8);
  EvolutionOptions o;
  o.budget = 30;
  CountingOracle oracle;
  Rng rng(kEvoSeed);
  const EvolutionRun run = assisted_regularized_evolution(*space, mutate, std::ref(oracle), cache, o, rng);
  ASSERT_EQ(run.area_candidates.size(), 20u);
  ASSERT_EQ(run.initial_population.size(), 10u);
  EXPECT_EQ(oracle.queries, 30) << "scoring is free; only the oracle spends the budget";
  EXPECT_EQ(scorer.calls, 3) << "20 candidates in groups of 8";
  // Independently: candidates ranked by score, highest first, NaN last, ties by draw order.
  std::vector<size_t> order(20);
  std::iota(order.begin(), order.end(), size_t{0});
  auto key = [&](size_t i) {
    const double s = test::scrambled_score(run.area_candidates[i]);
    return std::isnan(s) ? -std::numeric_limits<double>::infinity() : s;
  };
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return key(a) > key(b); });
  for (size_t i = 0; i < 10; ++i) {
    EXPECT_EQ(run.initial_population[i].arch, run.area_candidates[order[i]].arch) << "rank " << i;
    EXPECT_EQ(run.history[i].arch.arch, run.initial_population[i].arch) << "queried in rank order";
  }
  const double worst_kept = cache.at(run.initial_population[9]).value;
  for (size_t i = 10; i < 20; ++i) {
    const double s = cache.at(run.area_candidates[order[i]]).value;
    EXPECT_TRUE(std::isnan(s) || s <= worst_kept) << "a dropped candidate outscored a kept one";
  }
  // Same seed, same run.
  CountingOracle oracle2;
  Rng rng2(kEvoSeed);
  const EvolutionRun again = assisted_regularized_evolution(*space, mutate, std::ref(oracle2), cache, o, rng2);
  ASSERT_EQ(again.history.size(), run.history.size());
  for (size_t i = 0; i < run.history.size(); ++i) EXPECT_EQ(again.history[i].arch.arch, run.history[i].arch.arch);
  EXPECT_EQ(scorer.calls, 3) << "the second run's candidates come from the cache";
}

TEST(Evolution, BadOptionsAreRejected) {
  const auto space = make_space("nb201", {});
  const MutationFn mutate = mutation_for(*space);
  CountingOracle oracle;
  Rng rng(kEvoSeed);
  EvolutionOptions o;
  o.population = 0;
  NASWOT_EXPECT_BAD_INPUT(regularized_evolution(*space, mutate, std::ref(oracle), o, rng), "--population 0");
  o = {};
  o.budget = 0;
  NASWOT_EXPECT_BAD_INPUT(regularized_evolution(*space, mutate, std::ref(oracle), o, rng), "--budget 0");
  o = {};
  o.tournament = 0;
  NASWOT_EXPECT_BAD_INPUT(regularized_evolution(*space, mutate, std::ref(oracle), o, rng), "--tournament 0");
  o = {};
  o.area_samples = 5;
  test::RecordingScorer scorer(test::scrambled_score);
  ScoreCache cache(scorer, 1);
  NASWOT_EXPECT_BAD_INPUT(assisted_regularized_evolution(*space, mutate, std::ref(oracle), cache, o, rng),
                          "--area-samples 5");
  EXPECT_EQ(oracle.queries, 0);
}

}  // namespace
}  // namespace naswot::search
