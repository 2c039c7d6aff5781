// The eval protocol: which records are dropped (accuracy <= min_acc, NaN or 0 score; -inf kept),
// tau/rho computed on exactly what is left, the seeded subsample (size, subset, file order,
// determinism), top-k hit rates on a hand-made example, and the errors for records the table does
// not know, an index/arch mismatch, a repeated architecture or nothing left to rank.
#include "search/score_eval.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <set>
#include <string>

#include "formats/format_test_util.h"
#include "search/eval_test_util.h"
#include "search/rank_stats.h"

namespace naswot::search {
namespace {

using test::throws_error;

// A table of n made-up architectures (arch "a<i>"): CIFAR-10 test accuracy acc[i], others 50.
BenchTable table_of(const std::vector<double>& acc) {
  std::string text =
      "index,arch,cifar10_test,cifar100_test,imagenet16_test,cifar10_valid,cifar100_valid,imagenet16_valid\n";
  for (size_t i = 0; i < acc.size(); ++i)
    text += std::to_string(i) + ",a" + std::to_string(i) + "," + std::to_string(acc[i]) + ",50,50,50,50,50\n";
  return BenchTable::parse(text, "table.csv");
}

constexpr auto record = &test::eval_record;

TEST(ScoreEval, DropsFollowThePaperAndTauIsComputedOnWhatIsLeft) {
  const double nan = std::nan(""), inf = std::numeric_limits<double>::infinity();
  const BenchTable t = table_of({10, 15, 15.01, 60, 70, 80, 90, 85, 75, 65});
  const std::vector<double> scores = {5, 6, 1, 2, 3, nan, 0, -inf, 9, 4};
  std::vector<formats::ReadScore> records;
  for (size_t i = 0; i < scores.size(); ++i)
    records.push_back(
        record(static_cast<int64_t>(i), i % 2 ? "" : "a" + std::to_string(i), scores[i], static_cast<int>(i) + 2));
  records[3].record.index = -1;  // joined by arch
  records[3].record.arch = "a3";
  EvalOptions o;
  o.top_k = {3};
  const EvalResult r = evaluate_scores(records, t, o, "s.csv");
  EXPECT_EQ(r.records, 10u);
  EXPECT_EQ(r.dropped_acc, 2u);    // 10 and 15 (<= 15); 15.01 stays
  EXPECT_EQ(r.dropped_score, 2u);  // NaN and 0; -inf stays
  EXPECT_EQ(r.left, 6u);
  ASSERT_EQ(r.used.size(), 6u);
  const std::vector<int64_t> expected = {2, 3, 4, 7, 8, 9};
  std::vector<double> s, a;
  for (size_t i = 0; i < r.used.size(); ++i) {
    EXPECT_EQ(r.used[i].arch.index, expected[i]);
    s.push_back(r.used[i].score);
    a.push_back(r.used[i].accuracy);
  }
  EXPECT_EQ(s, (std::vector<double>{1, 2, 3, -inf, 9, 4}));
  EXPECT_EQ(a, (std::vector<double>{15.01, 60, 70, 85, 75, 65}));
  EXPECT_EQ(r.tau, kendall_tau_b(s, a));
  EXPECT_EQ(r.rho, spearman_rho(s, a));
  EXPECT_EQ(r.max_target, 85);
  // Top 3 by score: 8 (75), 9 (65), 4 (70); by accuracy: 7 (85), 8 (75), 4 (70) -> 2 hits.
  ASSERT_EQ(r.top_k.size(), 1u);
  EXPECT_EQ(r.top_k[0].k, 3u);
  EXPECT_EQ(r.top_k[0].hits, 2u);
  EXPECT_DOUBLE_EQ(r.top_k[0].hit_rate, 2.0 / 3.0);
  EXPECT_EQ(r.top_k[0].best_target, 75);
  // min_acc and the split are options.
  o.min_acc = 0;
  EXPECT_EQ(evaluate_scores(records, t, o, "s.csv").dropped_acc, 0u);
}

TEST(ScoreEval, TopKIsCappedAndCountsOverlap) {
  const BenchTable t = table_of({90, 80, 70, 60, 50, 40});
  std::vector<formats::ReadScore> records;
  const std::vector<double> scores = {6, 1, 5, 2, 4, 3};
  for (size_t i = 0; i < scores.size(); ++i) records.push_back(record(static_cast<int64_t>(i), "", scores[i], 1));
  EvalOptions o;
  o.top_k = {1, 3, 10};
  const EvalResult r = evaluate_scores(records, t, o, "s.csv");
  ASSERT_EQ(r.top_k.size(), 3u);
  EXPECT_EQ(r.top_k[0].hits, 1u);  // the best score is the best network
  EXPECT_EQ(r.top_k[1].hits, 2u);  // {0, 2, 4} vs {0, 1, 2}
  EXPECT_EQ(r.top_k[1].best_target, 90);
  EXPECT_EQ(r.top_k[2].k, 6u);  // capped at n
  EXPECT_EQ(r.top_k[2].hits, 6u);
  EXPECT_DOUBLE_EQ(r.top_k[2].hit_rate, 1.0);
  // Two k above n clip to the same k = n: one entry, not a repeated line.
  o.top_k = {3, 10, 100};
  const EvalResult clipped = evaluate_scores(records, t, o, "s.csv");
  ASSERT_EQ(clipped.top_k.size(), 2u);
  EXPECT_EQ(clipped.top_k[0].k, 3u);
  EXPECT_EQ(clipped.top_k[1].k, 6u);
}

TEST(ScoreEval, SubsampleIsASeededSubsetInFileOrder) {
  std::vector<double> acc;
  std::vector<formats::ReadScore> records;
  for (int i = 0; i < 300; ++i) {
    acc.push_back(20 + (i * 37) % 70);
    records.push_back(record(i, "", (i * 53) % 101 + 1, i + 2));
  }
  const BenchTable t = table_of(acc);
  EvalOptions o;
  o.subsample = 100;
  const EvalResult a = evaluate_scores(records, t, o, "s.csv");
  const EvalResult b = evaluate_scores(records, t, o, "s.csv");
  o.seed = 2;
  const EvalResult c = evaluate_scores(records, t, o, "s.csv");
  ASSERT_EQ(a.used.size(), 100u);
  EXPECT_EQ(a.left, 300u);
  std::set<int64_t> seen;
  bool differs = false;
  for (size_t i = 0; i < 100; ++i) {
    EXPECT_EQ(a.used[i].arch.index, b.used[i].arch.index);
    differs = differs || a.used[i].arch.index != c.used[i].arch.index;
    if (i > 0) {
      EXPECT_LT(a.used[i - 1].arch.index, a.used[i].arch.index) << "file order";
    }
    seen.insert(a.used[i].arch.index);
    EXPECT_EQ(a.used[i].score, records[static_cast<size_t>(a.used[i].arch.index)].record.score);
  }
  EXPECT_EQ(seen.size(), 100u);
  EXPECT_TRUE(differs) << "another seed should draw another subset";
  o.subsample = 0;
  EXPECT_EQ(evaluate_scores(records, t, o, "s.csv").used.size(), 300u);
}

TEST(ScoreEval, RecordsTheTableCannotPlaceAreErrorsWithTheirLine) {
  const BenchTable t = table_of({50, 60, 70});
  const EvalOptions o;
  auto eval = [&](std::vector<formats::ReadScore> records) {
    return [&t, &o, records] { evaluate_scores(records, t, o, "s.csv"); };
  };
  EXPECT_TRUE(throws_error(eval({record(0, "", 1, 2), record(7, "", 2, 3)}), ErrorKind::BadInput,
                           {"s.csv:3", "index 7", "table.csv"}));
  EXPECT_TRUE(throws_error(eval({record(-1, "zz", 1, 4)}), ErrorKind::BadInput, {"s.csv:4", "arch zz"}));
  EXPECT_TRUE(throws_error(eval({record(1, "a2", 1, 5)}), ErrorKind::BadInput, {"s.csv:5", "a2", "a1"}));
  EXPECT_TRUE(throws_error(eval({record(1, "", 1, 2), record(-1, "a1", 2, 6)}), ErrorKind::BadInput,
                           {"s.csv:6", "already scored on line 2"}));
  EXPECT_TRUE(throws_error(eval({record(0, "", std::nan(""), 2), record(1, "", 3, 3)}), ErrorKind::BadInput,
                           {"s.csv", "1 architecture(s) left", "at least 2"}));
}

}  // namespace
}  // namespace naswot::search
