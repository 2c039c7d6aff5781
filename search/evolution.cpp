// REA and AREA (evolution.h).
#include "search/evolution.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <numeric>

#include "cells/darts.h"
#include "cells/nb201.h"
#include "runtime/error.h"
#include "search/bench_table.h"
#include "search/darts_mutation.h"
#include "search/darts_space.h"

namespace naswot::search {

namespace {

void check_options(const EvolutionOptions& o) {
  NASWOT_EXPECT(o.population >= 1, BadInput, "--population " << o.population << ": expected at least 1");
  NASWOT_EXPECT(o.tournament >= 1, BadInput, "--tournament " << o.tournament << ": expected at least 1");
  NASWOT_EXPECT(o.budget >= 1, BadInput, "--budget " << o.budget << ": expected at least 1 query");
}

ArchEntry random_arch(const Space& space, Rng& rng) {
  return space.from_index(static_cast<int64_t>(rng.below(static_cast<uint64_t>(space.size()))));
}

// Steps 1 (from `initial`) and 2 of REA.
EvolutionRun evolve(const std::vector<ArchEntry>& initial, const MutationFn& mutate, const OracleFn& oracle,
                    const EvolutionOptions& o, Rng& rng) {
  EvolutionRun run;
  run.initial_population = initial;
  std::deque<Queried> population;
  auto query = [&](const ArchEntry& a) {
    Queried q{a, oracle(a)};
    run.history.push_back(q);
    if (run.history[run.best].accuracy < q.accuracy) run.best = run.history.size() - 1;
    return q;
  };
  const auto budget = static_cast<size_t>(o.budget);
  for (const ArchEntry& a : initial) {
    if (run.history.size() == budget) break;
    population.push_back(query(a));
  }
  while (run.history.size() < budget) {
    size_t parent = population.size();
    for (int i = 0; i < o.tournament; ++i) {
      const auto pick = static_cast<size_t>(rng.below(population.size()));
      if (parent == population.size() || population[parent].accuracy < population[pick].accuracy) parent = pick;
    }
    population.push_back(query(mutate(population[parent].arch, rng)));
    population.pop_front();
  }
  return run;
}

}  // namespace

EvolutionRun regularized_evolution(const Space& space, const MutationFn& mutate, const OracleFn& oracle,
                                   const EvolutionOptions& options, Rng& rng) {
  check_options(options);
  std::vector<ArchEntry> initial;
  for (int i = 0; i < options.population; ++i) initial.push_back(random_arch(space, rng));
  return evolve(initial, mutate, oracle, options, rng);
}

EvolutionRun assisted_regularized_evolution(const Space& space, const MutationFn& mutate, const OracleFn& oracle,
                                            ScoreCache& scores, const EvolutionOptions& options, Rng& rng) {
  check_options(options);
  NASWOT_EXPECT(options.area_samples >= options.population, BadInput,
                "--area-samples " << options.area_samples << ": AREA keeps the top " << options.population
                                  << " by score, so it needs at least that many");
  std::vector<ArchEntry> candidates;
  for (int i = 0; i < options.area_samples; ++i) candidates.push_back(random_arch(space, rng));
  scores.ensure(candidates);
  std::vector<size_t> order(candidates.size());
  std::iota(order.begin(), order.end(), size_t{0});
  // Highest score first; NaN after every number; equal scores keep draw order (stable).
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const double sa = scores.at(candidates[a]).value, sb = scores.at(candidates[b]).value;
    if (std::isnan(sb)) return !std::isnan(sa);
    return !std::isnan(sa) && sa > sb;
  });
  std::vector<ArchEntry> initial;
  for (size_t i = 0; i < static_cast<size_t>(options.population); ++i) initial.push_back(candidates[order[i]]);
  EvolutionRun run = evolve(initial, mutate, oracle, options, rng);
  run.area_candidates = std::move(candidates);
  return run;
}

MutationFn nb201_mutation(const Space& space) {
  return [&space](const ArchEntry& parent, Rng& rng) {
    cells::Nb201Arch arch = cells::parse_nb201(parent.arch);
    const auto edge = static_cast<size_t>(rng.below(cells::kNb201EdgeCount));
    const auto old_op = static_cast<uint64_t>(arch.edges[edge]);
    // One of the other kNb201OpCount - 1 ops, uniformly.
    const uint64_t new_op = (old_op + 1 + rng.below(cells::kNb201OpCount - 1)) % cells::kNb201OpCount;
    arch.edges[edge] = static_cast<cells::Nb201Op>(new_op);
    return space.from_string(cells::to_string(arch));
  };
}

MutationFn mutation_for(const Space& space, const BenchTable* table) {
  if (space.name() == "nb201") return nb201_mutation(space);
  if (is_darts_space(space.name())) {
    NASWOT_EXPECT(
        table && table->kind() != TableKind::Nb201, BadInput,
        "REA/AREA on " << space.name()
                       << " mutate within a DARTS genotype table or NDS file (the oracle); give --table with one");
    std::vector<cells::DartsArch> pool;  // NDS rows carry their width/depth, NB301 rows none
    for (const BenchRow& row : table->rows()) pool.push_back(cells::parse_darts_arch(row.arch));
    return darts_table_mutation(space, std::move(pool));
  }
  throw_error(ErrorKind::Unsupported,
              "space " + space.name() + " has no mutation for REA/AREA; expected nb201 or darts");
}

}  // namespace naswot::search
