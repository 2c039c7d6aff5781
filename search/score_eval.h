// Scores against trained accuracies: the evaluation protocol of the NASWOT paper's Fig. 3
// (plot_scores.py, reference-semantics.md §7), plus top-k hit rates. Used by `naswot eval`.
//   1. Join each score record with the benchmark table (BenchTable::lookup). NB201: by index when
//      the record has one (and then its arch, if given, must be the table's), else by arch. DARTS
//      table: by genotype (any notation; the index of a record that has an arch may be a position
//      in another genotype list and is not used), else by row position. NDS table: as NB201 (the
//      row position is the nds space's index over the same file), the arch compared by genotype
//      and, when it has a width=/depth= suffix, size (BenchTable::same_arch).
//   2. Drop architectures whose accuracy (dataset, split) is <= min_acc (paper: 15; these are the
//      networks that did not train).
//   3. Drop scores that are NaN or exactly 0 (as the paper). -inf (a singular K) stays and ranks
//      lowest. With `against` (a numeric column of the table, e.g. another implementation's
//      `nwot`), also drop rows whose value there is NaN (an empty field).
//   4. If more than `subsample` pairs are left, keep a uniform random subset of that many without
//      replacement, drawn from Rng(seed) (partial Fisher-Yates; paper: 1,000 with numpy seed 1; our
//      draw is not numpy's, so the subset differs, not its law). 0 keeps all.
//   5. Kendall tau-b and Spearman rho of (score, target) over what is left. The target is the
//      accuracy (dataset, split), or the `against` column's value.
//   6. For each k: the top k by score and the top k by target (both descending, ties by file
//      order; k is capped at the number left). hit rate = |top-k by score ∩ top-k by target| / k;
//      best = the highest target among the top k by score, beside the highest target of all.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "search/bench_table.h"
#include "tools/formats/results_reader.h"

namespace naswot::search {

struct EvalOptions {
  DatasetKind dataset = DatasetKind::Cifar10;
  Split split = Split::Test;
  std::string against;  // a numeric column of the table to rank against; empty: the accuracy
  double min_acc = 15.0;
  size_t subsample = 1000;
  uint64_t seed = 1;
  std::vector<size_t> top_k = {10, 100};
};

struct EvalPair {
  ArchEntry arch;
  double score = 0;
  double accuracy = 0;  // (dataset, split)
  double target = 0;    // what the score is ranked against: the accuracy or the `against` column
};

struct TopK {
  size_t k = 0;  // after capping
  size_t hits = 0;
  double hit_rate = 0;     // hits / k
  double best_target = 0;  // among the top k by score
};

struct EvalResult {
  size_t records = 0;          // score records read
  size_t dropped_acc = 0;      // step 2
  size_t dropped_score = 0;    // step 3: NaN or 0 score
  size_t dropped_target = 0;   // step 3: NaN in the `against` column
  size_t left = 0;             // before the subsample
  std::vector<EvalPair> used;  // after step 4, in file order
  double tau = 0;
  double rho = 0;
  double max_target = 0;  // over `used`
  std::vector<TopK> top_k;
};

// `source` names the score file in messages (records carry their line). BadInput for an accuracy
// or `against` column the table lacks, a record absent from the table (or not a genotype, for a
// DARTS table), an index/arch mismatch, a repeated architecture, or nothing left to rank.
EvalResult evaluate_scores(const std::vector<formats::ReadScore>& records, const BenchTable& table,
                           const EvalOptions& options, const std::string& source);

}  // namespace naswot::search
