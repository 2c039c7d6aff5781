// The eval protocol on a DARTS genotype table (search/score_eval.h): records join by genotype in any
// notation (an index beside an arch is ignored, an index alone is the row position); tau / rho
// against the accuracy, and against another numeric column (`nwot`) with its empty fields
// dropped and --min-acc still applied to the accuracy; and the errors: another dataset or split,
// an unknown column, a genotype the table lacks, a string that is not a genotype, a genotype
// scored twice under two notations.
#include <gtest/gtest.h>

#include <cmath>

#include "cells/darts.h"
#include "formats/format_test_util.h"
#include "search/bench_table.h"
#include "search/eval_test_util.h"
#include "search/nb301_test_table.h"
#include "search/rank_stats.h"
#include "search/score_eval.h"

namespace naswot::search {
namespace {

using test::kNb301TestRows;
using test::throws_error;

constexpr auto record = &test::eval_record;

std::string canonical(size_t r) {
  return cells::to_string(cells::parse_darts_compact(kNb301TestRows[r].normal, kNb301TestRows[r].reduce));
}

const std::vector<double> kScores = {10, 30, 20, 50, 40, 60};  // by table row

// One record per row, in mixed notations: canonical, compact, index only, an index from another
// list beside the arch.
std::vector<formats::ReadScore> mixed_records() {
  return {record(-1, canonical(0), kScores[0], 2),
          record(-1, test::nb301_test_compact(1), kScores[1], 3),
          record(2, "", kScores[2], 4),
          record(9, canonical(3), kScores[3], 5),
          record(-1, canonical(4) + " width=32", kScores[4], 6),
          record(0, canonical(5), kScores[5], 7)};
}

TEST(DartsEval, JoinsByGenotypeAndRanksAgainstAccuracyOrAColumn) {
  const BenchTable t = BenchTable::parse(test::nb301_test_csv(), "nb301.csv");
  EvalOptions o;
  o.split = Split::Valid;
  o.top_k = {2};
  const EvalResult acc = evaluate_scores(mixed_records(), t, o, "s.jsonl");
  ASSERT_EQ(acc.used.size(), 6u);
  std::vector<double> accuracy, nwot;
  for (size_t r = 0; r < 6; ++r) {
    EXPECT_EQ(acc.used[r].arch.index, static_cast<int64_t>(r));
    EXPECT_EQ(acc.used[r].arch.arch, canonical(r));
    EXPECT_EQ(acc.used[r].score, kScores[r]);
    accuracy.push_back(kNb301TestRows[r].val_accuracy);
    nwot.push_back(kNb301TestRows[r].nwot);
  }
  EXPECT_EQ(acc.tau, kendall_tau_b(kScores, accuracy));
  EXPECT_EQ(acc.rho, spearman_rho(kScores, accuracy));
  // Top 2 by score: rows 5 (94.0) and 3 (93.0); by accuracy: rows 5 (94.0) and 2 (93.5).
  EXPECT_EQ(acc.top_k[0].hits, 1u);
  EXPECT_EQ(acc.top_k[0].best_target, 94.0);

  o.against = "nwot";
  const EvalResult by_nwot = evaluate_scores(mixed_records(), t, o, "s.jsonl");
  EXPECT_EQ(by_nwot.tau, kendall_tau_b(kScores, nwot));
  EXPECT_EQ(by_nwot.rho, spearman_rho(kScores, nwot));
  EXPECT_NE(by_nwot.tau, acc.tau);
  EXPECT_EQ(by_nwot.max_target, 455.0);
  o.against = "val_accuracy";  // the accuracy column by name: the same numbers
  EXPECT_EQ(evaluate_scores(mixed_records(), t, o, "s.jsonl").tau, acc.tau);

  // synflow is empty on row 3: that row is dropped for it. --min-acc drops by accuracy (row 4,
  // 92.5) whatever the target.
  o.against = "synflow";
  o.min_acc = 92.6;
  const EvalResult by_synflow = evaluate_scores(mixed_records(), t, o, "s.jsonl");
  EXPECT_EQ(by_synflow.dropped_acc, 1u);
  EXPECT_EQ(by_synflow.dropped_target, 1u);
  ASSERT_EQ(by_synflow.used.size(), 4u);
  std::vector<double> s, y;
  for (size_t r : {0, 1, 2, 5}) {
    s.push_back(kScores[r]);
    y.push_back(std::stod(kNb301TestRows[r].synflow));
  }
  EXPECT_EQ(by_synflow.tau, kendall_tau_b(s, y));
}

TEST(DartsEval, ErrorsNameTheRecordOrTheColumn) {
  const BenchTable t = BenchTable::parse(test::nb301_test_csv(), "nb301.csv");
  EvalOptions o;
  o.split = Split::Valid;
  auto eval = [&t](std::vector<formats::ReadScore> records, EvalOptions options) {
    return [&t, records, options] { evaluate_scores(records, t, options, "s.csv"); };
  };
  const std::vector<formats::ReadScore> good = mixed_records();
  EvalOptions other = o;
  other.dataset = DatasetKind::Cifar100;
  EXPECT_TRUE(throws_error(eval(good, other), ErrorKind::BadInput, {"nb301.csv", "cifar100", "val_accuracy"}));
  other = o;
  other.split = Split::Test;
  EXPECT_TRUE(throws_error(eval(good, other), ErrorKind::BadInput, {"cifar10 test", "CIFAR-10 validation"}));
  other = o;
  other.against = "zen_nas";
  EXPECT_TRUE(throws_error(eval(good, other), ErrorKind::BadInput, {"'zen_nas'", "nwot"}));

  const std::string absent = std::string(kNb301TestRows[1].normal) + ";" + kNb301TestRows[2].reduce;
  EXPECT_TRUE(throws_error(eval({good[0], record(-1, absent, 1, 9)}, o), ErrorKind::BadInput,
                           {"s.csv:9", "is not in nb301.csv", "genotypes"}));
  EXPECT_TRUE(
      throws_error(eval({good[0], record(-1, "|nor_conv_3x3~0|+|", 1, 4)}, o), ErrorKind::BadInput, {"s.csv:4"}));
  EXPECT_TRUE(throws_error(eval({good[0], record(6, "", 1, 5)}, o), ErrorKind::BadInput, {"s.csv:5", "row 6"}));
  EXPECT_TRUE(throws_error(eval({good[1], record(-1, canonical(1), 2, 8)}, o), ErrorKind::BadInput,
                           {"s.csv:8", "already scored on line 3"}));
}

}  // namespace
}  // namespace naswot::search
