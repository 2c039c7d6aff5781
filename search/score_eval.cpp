// The score-vs-accuracy protocol (score_eval.h).
#include "search/score_eval.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_map>

#include "runtime/error.h"
#include "search/rank_stats.h"
#include "search/rng.h"

namespace naswot::search {

namespace {

// Positions 0..n-1 ordered by `key` descending, ties by position.
std::vector<size_t> descending(const std::vector<EvalPair>& pairs, double EvalPair::*key) {
  std::vector<size_t> order(pairs.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return pairs[a].*key > pairs[b].*key; });
  return order;
}

// The table row of one score record (lookup rules in score_eval.h step 1); BadInput naming `at`.
const BenchRow* find_row(const BenchTable& table, const formats::ScoreRecord& record, const std::string& at) {
  const bool darts = table.kind() == TableKind::Darts;
  const bool by_index = darts ? record.arch.empty() : record.index >= 0;
  const char* const row_word = table.kind() == TableKind::Nb201 ? "index " : "row ";
  const BenchRow* row = nullptr;
  try {
    row = by_index ? table.find_index(record.index) : table.find_arch(record.arch);
  } catch (const Error& e) {  // an arch that is not a DARTS genotype
    throw_error(e.kind(), at + ": " + e.what());
  }
  const std::string what =
      by_index ? row_word + std::to_string(record.index) : "arch " + record.arch;
  NASWOT_EXPECT(row, BadInput,
                at << ": " << what << " is not in " << table.source() << "; expected a score file of the table's "
                   << (darts ? "genotypes" : "space"));
  bool same = false;
  try {
    same = darts || record.arch.empty() || table.same_arch(*row, record.arch);
  } catch (const Error& e) {  // an arch that is not a DARTS genotype
    throw_error(e.kind(), at + ": " + e.what());
  }
  NASWOT_EXPECT(same, BadInput,
                at << ": " << row_word << row->index << " is " << record.arch << " here but " << row->arch << " in "
                   << table.source() << "; expected the table's index order");
  return row;
}

}  // namespace

EvalResult evaluate_scores(const std::vector<formats::ReadScore>& records, const BenchTable& table,
                           const EvalOptions& options, const std::string& source) {
  table.require_accuracy(options.dataset, options.split);
  const bool by_column = !options.against.empty();
  const size_t column = by_column ? table.column(options.against) : 0;
  EvalResult result;
  result.records = records.size();
  std::vector<EvalPair> kept;
  std::unordered_map<int64_t, int> seen;  // table index -> line of its first record
  for (const formats::ReadScore& r : records) {
    const std::string at = source + ":" + std::to_string(r.line);
    const BenchRow* row = find_row(table, r.record, at);
    const auto [it, first] = seen.emplace(row->index, r.line);
    NASWOT_EXPECT(first, BadInput,
                  at << ": " << (table.kind() == TableKind::Nb201 ? "index " : "row ") << row->index
                     << " was already scored on line " << it->second << "; expected each architecture once");
    const double accuracy = row->accuracy(options.dataset, options.split);
    if (accuracy <= options.min_acc) {
      ++result.dropped_acc;
      continue;
    }
    if (std::isnan(r.record.score) || r.record.score == 0.0) {
      ++result.dropped_score;
      continue;
    }
    const double target = by_column ? row->values[column] : accuracy;
    if (std::isnan(target)) {
      ++result.dropped_target;
      continue;
    }
    kept.push_back({{row->index, row->arch}, r.record.score, accuracy, target});
  }
  result.left = kept.size();
  NASWOT_EXPECT(
      kept.size() >= 2, BadInput,
      source << ": " << kept.size() << " architecture(s) left after dropping " << result.dropped_acc
             << " with accuracy <= " << options.min_acc << " and " << result.dropped_score << " with a NaN or 0 score"
             << (by_column ? ", " + std::to_string(result.dropped_target) + " with no " + options.against + " value"
                           : "")
             << "; expected at least 2 to rank");

  if (options.subsample > 0 && kept.size() > options.subsample) {
    std::vector<size_t> positions(kept.size());
    std::iota(positions.begin(), positions.end(), size_t{0});
    Rng rng(options.seed);
    for (size_t i = 0; i < options.subsample; ++i)
      std::swap(positions[i], positions[i + static_cast<size_t>(rng.below(positions.size() - i))]);
    positions.resize(options.subsample);
    std::sort(positions.begin(), positions.end());
    for (size_t p : positions) result.used.push_back(kept[p]);
  } else {
    result.used = std::move(kept);
  }

  std::vector<double> scores, targets;
  for (const EvalPair& p : result.used) {
    scores.push_back(p.score);
    targets.push_back(p.target);
  }
  result.tau = kendall_tau_b(scores, targets);
  result.rho = spearman_rho(scores, targets);
  result.max_target = *std::max_element(targets.begin(), targets.end());

  const std::vector<size_t> by_score = descending(result.used, &EvalPair::score);
  const std::vector<size_t> by_target = descending(result.used, &EvalPair::target);
  for (size_t requested : options.top_k) {
    NASWOT_EXPECT(requested >= 1, BadInput, "--top-k " << requested << ": expected k >= 1");
    TopK t;
    t.k = std::min(requested, result.used.size());
    // A k above n is clipped to n; several such k would print the same line: keep the first.
    if (!result.top_k.empty() && std::any_of(result.top_k.begin(), result.top_k.end(),
                                             [&](const TopK& seen) { return seen.k == t.k; }))
      continue;
    std::vector<char> in_top_target(result.used.size(), 0);
    for (size_t i = 0; i < t.k; ++i) in_top_target[by_target[i]] = 1;
    t.best_target = result.used[by_score[0]].target;
    for (size_t i = 0; i < t.k; ++i) {
      t.hits += static_cast<size_t>(in_top_target[by_score[i]]);
      t.best_target = std::max(t.best_target, result.used[by_score[i]].target);
    }
    t.hit_rate = static_cast<double>(t.hits) / static_cast<double>(t.k);
    result.top_k.push_back(t);
  }
  return result;
}

}  // namespace naswot::search
