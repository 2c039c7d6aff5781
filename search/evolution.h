// Regularized evolution (REA, Real et al., AAAI 2019) and AREA, the NASWOT paper's "assisted" REA
// (Mellor et al., ICML 2021, §4.1; reference-semantics.md §6), on a benchmark table.
//
// REA with a budget of B queries, population P, tournament size S:
//   1. Draw P architectures uniformly from the space; query each (one query = one lookup of the
//      oracle, the table's validation accuracy: the stand-in for training the network).
//   2. Until B queries are spent: draw S members of the population uniformly with replacement
//      (the tournament), take the most accurate (first on ties) as parent, mutate it, query the
//      child, append it and drop the oldest member (ageing, the "regularized" part).
//   Answer: the most accurate architecture queried over the whole run (first on ties).
// AREA: draw `area_samples` architectures uniformly (paper: 20), score them with NASWOT (no
//   query), and start REA from the top P by score (NaN last, ties by draw order) instead of step 1.
//
// Defaults: P = 10 (paper §4.1), S = 3 (the tournament size of the NAS-Bench-201/NATS-Bench REA
// scripts, whose population is also 10; the NASWOT paper does not state its own), B = 100 queries.
// The paper's budget is 12,000 s of simulated training time with the 12-epoch validation accuracy as
// the oracle; this table holds 200-epoch accuracies only, so we count queries instead and the
// oracle is the 200-epoch validation accuracy (less noisy than the paper's, so REA gains).
// A query of an architecture already queried counts again (it would be trained again).
//
// The space plugs in through a mutation hook; nb201_mutation is NB201's (mutate_arch of the
// reference's nasspace.py: one uniformly chosen edge gets a different op, uniformly among the 4);
// darts_mutation (darts_mutation.h) is the DARTS space's, over the genotypes of a table.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "search/rng.h"
#include "search/score_cache.h"
#include "search/space.h"

namespace naswot::search {

class BenchTable;

struct EvolutionOptions {
  int population = 10;    // P
  int tournament = 3;     // S
  int budget = 100;       // B, oracle queries per run
  int area_samples = 20;  // AREA: architectures scored to seed the population
};

// A mutation of `parent` (a different architecture of the same space), drawing from `rng`.
using MutationFn = std::function<ArchEntry(const ArchEntry& parent, Rng& rng)>;
// The oracle: validation accuracy of one architecture. Each call is one query.
using OracleFn = std::function<double(const ArchEntry&)>;

struct Queried {
  ArchEntry arch;
  double accuracy = 0;
};

struct EvolutionRun {
  std::vector<ArchEntry> area_candidates;     // AREA: the scored sample, draw order (empty for REA)
  std::vector<ArchEntry> initial_population;  // the population before the first mutation
  std::vector<Queried> history;               // every query in order; history.size() == budget
  size_t best = 0;                            // position in history of the answer
};

// BadInput for population < 1, tournament < 1, budget < 1, or (AREA) area_samples < population.
EvolutionRun regularized_evolution(const Space& space, const MutationFn& mutate, const OracleFn& oracle,
                                   const EvolutionOptions& options, Rng& rng);
EvolutionRun assisted_regularized_evolution(const Space& space, const MutationFn& mutate, const OracleFn& oracle,
                                            ScoreCache& scores, const EvolutionOptions& options, Rng& rng);

// The mutation hook of a space by name: "nb201" -> nb201_mutation; the darts spaces ->
// darts_mutation over the genotypes of `table` (required: BadInput without one, or when it is not
// a DARTS table); Unsupported otherwise. Keeps references to `space` (not to `table`).
MutationFn mutation_for(const Space& space, const BenchTable* table = nullptr);
// NB201: one uniformly chosen edge changes to one of the 4 other ops, uniformly. The result comes
// from space.from_string, so it carries its index. Keeps a reference to `space`.
MutationFn nb201_mutation(const Space& space);

}  // namespace naswot::search
