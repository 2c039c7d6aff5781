// An NDS JSON file as an accuracy table (search/bench_table.h, TableKind::Nds): both file forms
// load with rows in the space's order and accuracy 100 - test_ep_top1[-1]; archs match by genotype
// and size (aux ignored, the suffix optional when the genotype is unique); eval joins by index and
// by arch; the DARTS mutation keeps children on table rows at their own size; and bad input (a
// missing, empty or out-of-range test_ep_top1, a non-numeric field, another dataset, an `_in`
// file) fails naming file and JSON path.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "cells/darts.h"
#include "formats/format_test_util.h"
#include "search/bench_table.h"
#include "search/darts_space.h"
#include "search/eval_test_util.h"
#include "search/evolution.h"
#include "search/nds_test_file.h"
#include "search/rank_stats.h"
#include "search/rng.h"
#include "search/score_eval.h"

namespace naswot::search {
namespace {

using test::kNdsTestItems;
using test::throws_error;

constexpr size_t kItems = kNdsTestItems.size();

std::string arch_string(size_t i) { return cells::to_string(test::nds_test_arch(i)); }
std::string genotype_string(size_t i) { return cells::to_string(test::nds_test_arch(i).genotype); }

TEST(NdsTable, ListAndTopMidFormsLoadInItemOrder) {
  for (bool top_mid : {false, true}) {
    const BenchTable t = BenchTable::parse(test::nds_test_json(top_mid), "DARTS.json");
    EXPECT_EQ(t.kind(), TableKind::Nds);
    ASSERT_EQ(t.size(), kItems);
    EXPECT_EQ(t.column_names(), (std::vector<std::string>{"test_accuracy", "width", "depth", "params", "flops"}));
    EXPECT_TRUE(t.has_accuracy(DatasetKind::Cifar10, Split::Test));
    EXPECT_EQ(t.accuracy_columns().size(), 1u);
    for (size_t i = 0; i < kItems; ++i) {
      const BenchRow& row = t.rows()[i];
      EXPECT_EQ(row.index, static_cast<int64_t>(i));
      EXPECT_EQ(row.arch, arch_string(i));
      EXPECT_EQ(row.accuracy(DatasetKind::Cifar10, Split::Test), test::nds_test_accuracy(i));
      EXPECT_TRUE(std::isnan(row.accuracy(DatasetKind::Cifar10, Split::Valid)));
      EXPECT_EQ(row.values[t.column("test_accuracy")], test::nds_test_accuracy(i));
      EXPECT_EQ(row.values[t.column("width")], kNdsTestItems[i].width);
      EXPECT_EQ(row.values[t.column("params")], kNdsTestItems[i].params);
      EXPECT_EQ(row.values[t.column("flops")], 100.0 * kNdsTestItems[i].params);
    }
  }
  EXPECT_NE(arch_string(2).find(" width=4 depth=3 aux=true"), std::string::npos);
}

TEST(NdsTable, ArchsMatchByGenotypeAndSize) {
  const BenchTable t = BenchTable::parse(test::nds_test_json(true), "DARTS.json");
  for (size_t i = 0; i < kItems; ++i) EXPECT_EQ(t.by_arch(arch_string(i)).index, static_cast<int64_t>(i));
  // aux is not part of the key; a unique genotype needs no size; a wrong size is absent.
  EXPECT_EQ(t.by_arch(genotype_string(2) + " width=4 depth=3").index, 2);
  EXPECT_EQ(t.by_arch(genotype_string(3)).index, 3);
  EXPECT_EQ(t.find_arch(genotype_string(3) + " width=8 depth=3"), nullptr);
  // Genotype 0 is rows 0 and 6, at two sizes: its suffix tells them apart, its absence is an error.
  EXPECT_EQ(t.by_arch(genotype_string(0) + " width=8 depth=3").index, 6);
  EXPECT_TRUE(throws_error([&] { t.find_arch(genotype_string(0)); }, ErrorKind::BadInput,
                           {"several rows", "DARTS.json", "width=W depth=D"}));
  EXPECT_TRUE(t.same_arch(t.rows()[0], genotype_string(0)));
  EXPECT_FALSE(t.same_arch(t.rows()[0], arch_string(6)));
  // lookup: the entry's index when its arch names that row, else by arch.
  EXPECT_EQ(t.lookup({6, arch_string(6)}).index, 6);
  EXPECT_EQ(t.lookup({0, arch_string(6)}).index, 6);
  EXPECT_EQ(t.lookup({4, ""}).index, 4);
}

TEST(NdsTable, OnlyCifar10TestAccuracy) {
  const BenchTable t = BenchTable::parse(test::nds_test_json(false), "DARTS.json");
  EXPECT_EQ(t.default_split(), Split::Test);
  EXPECT_EQ(t.oracle_split(), Split::Test);
  EXPECT_TRUE(throws_error([&] { t.require_accuracy(DatasetKind::Cifar10, Split::Valid); }, ErrorKind::BadInput,
                           {"DARTS.json", "cifar10 valid", "test_ep_top1"}));
  EXPECT_TRUE(throws_error([&] { t.require_accuracy(DatasetKind::Cifar100, Split::Test); }, ErrorKind::BadInput,
                           {"cifar100", "CIFAR-10 test"}));
  EXPECT_TRUE(throws_error([&] { BenchTable::parse(test::nds_test_json(false), "nds_data/DARTS_in.json"); },
                           ErrorKind::BadInput, {"DARTS_in.json", "ImageNet"}));
}

TEST(NdsTable, BadTestErrorsNameFileAndPath) {
  const auto with_item1 = [](const char* curve) {
    return "{\"top\": [" + test::nds_test_item_json(0) + ", " + test::nds_test_item_json(1, curve) +
           "], \"mid\": [" + test::nds_test_item_json(2) + "]}";
  };
  EXPECT_TRUE(throws_error([&] { BenchTable::parse(with_item1(""), "D.json"); }, ErrorKind::BadInput,
                           {"D.json: top[1].test_ep_top1: missing"}));
  EXPECT_TRUE(throws_error([&] { BenchTable::parse(with_item1("[]"), "D.json"); }, ErrorKind::BadInput,
                           {"D.json: top[1].test_ep_top1: ", "an empty list"}));
  EXPECT_TRUE(throws_error([&] { BenchTable::parse(with_item1("[3, null]"), "D.json"); }, ErrorKind::BadInput,
                           {"D.json: top[1].test_ep_top1[1]: ", "null"}));
  EXPECT_TRUE(throws_error([&] { BenchTable::parse(with_item1("[3, 120]"), "D.json"); }, ErrorKind::BadInput,
                           {"D.json: top[1].test_ep_top1[1]: ", "[0, 100]"}));
  EXPECT_TRUE(throws_error([&] { BenchTable::parse("[" + test::nds_test_item_json(0, "7") + "]", "L.json"); },
                           ErrorKind::BadInput, {"L.json: [0].test_ep_top1: ", "an integer"}));
  // The same file is still a list of networks for --nds-json.
  EXPECT_EQ(cells::parse_nds_json(with_item1(""), "D.json").size(), 3u);
  // A non-numeric field fails only when its column is asked for.
  std::string text = test::nds_test_json(false);
  text.replace(text.find("\"params\": 0.5"), 13, "\"params\": \"x\"");
  const BenchTable t = BenchTable::parse(text, "P.json");
  EXPECT_EQ(t.column("flops"), 4u);
  EXPECT_TRUE(throws_error([&] { t.column("params"); }, ErrorKind::BadInput, {"P.json: [1].params", "a string"}));
}

TEST(NdsTable, EvalJoinsByIndexAndByArch) {
  const BenchTable t = BenchTable::parse(test::nds_test_json(true), "DARTS.json");
  const std::vector<double> scores = {10, 30, 20, 50, 40, 60, 70};
  std::vector<formats::ReadScore> by_index, by_arch;
  std::vector<double> accuracy, params;
  for (size_t i = 0; i < kItems; ++i) {
    by_index.push_back(test::eval_record(static_cast<int64_t>(i), i % 2 ? arch_string(i) : "", scores[i],
                                         static_cast<int>(i) + 2));
    // Unique genotypes without a suffix, genotype 0 with it, row 2 without its aux.
    const std::string arch = kNdsTestItems[i].genotype == 0 ? arch_string(i)
                             : i == 2                       ? genotype_string(2) + " width=4 depth=3"
                                                            : genotype_string(i);
    by_arch.push_back(test::eval_record(-1, arch, scores[i], static_cast<int>(i) + 2));
    accuracy.push_back(test::nds_test_accuracy(i));
    params.push_back(kNdsTestItems[i].params);
  }
  EvalOptions o;
  o.split = Split::Test;
  o.top_k = {3};
  for (const auto* records : {&by_index, &by_arch}) {
    const EvalResult r = evaluate_scores(*records, t, o, "s.jsonl");
    ASSERT_EQ(r.used.size(), kItems);
    for (size_t i = 0; i < kItems; ++i) EXPECT_EQ(r.used[i].arch.index, static_cast<int64_t>(i));
    EXPECT_EQ(r.tau, kendall_tau_b(scores, accuracy));
    EXPECT_EQ(r.rho, spearman_rho(scores, accuracy));
  }
  o.against = "params";
  EXPECT_EQ(evaluate_scores(by_index, t, o, "s.jsonl").tau, kendall_tau_b(scores, params));
  // An index whose arch is another row's is an error naming the record.
  std::vector<formats::ReadScore> swapped = {test::eval_record(1, arch_string(3), 1.0, 9),
                                             test::eval_record(3, arch_string(3), 2.0, 10)};
  o.against.clear();
  EXPECT_TRUE(throws_error([&] { evaluate_scores(swapped, t, o, "s.jsonl"); }, ErrorKind::BadInput,
                           {"s.jsonl:9", "row 1", "DARTS.json"}));
}

TEST(NdsTable, SpaceOverTheFileAndMutationStayOnRows) {
  const std::filesystem::path file =
      std::filesystem::path(::testing::TempDir()) / ("nds_table_test_" + std::to_string(::getpid()) + ".json");
  std::ofstream(file) << test::nds_test_json(true);
  const BenchTable t = BenchTable::from_file(file.string());
  SpaceOptions options;
  options.source = file.string();
  const std::unique_ptr<Space> space = make_darts_space("nds", options);
  ASSERT_EQ(space->size(), static_cast<int64_t>(kItems));
  t.check_against(*space);
  for (int64_t i = 0; i < space->size(); ++i) EXPECT_EQ(space->from_index(i).arch, t.rows()[static_cast<size_t>(i)].arch);
  const MutationFn mutate = mutation_for(*space, &t);
  Rng rng(3);
  for (int64_t i = 0; i < space->size(); ++i) {
    for (int draw = 0; draw < 5; ++draw) {
      const ArchEntry child = mutate(space->from_index(i), rng);
      ASSERT_GE(child.index, 0) << child.arch;
      const BenchRow& row = t.lookup(child);
      EXPECT_EQ(row.arch, child.arch);  // the row's own width/depth/aux, not the parent's
      EXPECT_NE(cells::parse_darts_arch(child.arch).genotype, test::nds_test_arch(static_cast<size_t>(i)).genotype);
    }
  }
  std::filesystem::remove(file);
}

}  // namespace
}  // namespace naswot::search
