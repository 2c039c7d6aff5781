// DARTS genotype tables as benchmark tables (search/genotype_table.h, search/bench_table.h): the
// NB301 layout is recognised by its header; rows key by canonical genotype and index by position;
// the accuracy is CIFAR-10 validation only, and asking for any other is a clear error; every other
// column is numeric by name (another implementation's `nwot`); lookups accept any notation; a darts
// space over the same file indexes the same rows; check_against catches a genotype list the table
// does not cover; malformed rows name file:line and the column. The real NB301 subset from
// ../shared/data loads (725 rows, its documented Spearman of nwot vs accuracy), or the test skips.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "cells/darts.h"
#include "formats/format_test_util.h"
#include "search/bench_table.h"
#include "search/genotype_table.h"
#include "search/nb301_test_table.h"
#include "search/rank_stats.h"
#include "search/space.h"

namespace naswot::search {
namespace {

using test::kNb301TestRows;
using test::throws_error;

std::string canonical(size_t r) {
  return cells::to_string(cells::parse_darts_compact(kNb301TestRows[r].normal, kNb301TestRows[r].reduce));
}

TEST(DartsTable, HeaderDecidesTheFormat) {
  EXPECT_TRUE(looks_like_genotype_table(test::nb301_test_csv()));
  EXPECT_TRUE(looks_like_genotype_table("\n  \r\nid,\"reduce\",normal\n"));
  EXPECT_FALSE(looks_like_genotype_table(test::nb301_test_compact(0) + "\n"));
  EXPECT_FALSE(looks_like_genotype_table(canonical(0) + "\n"));
  EXPECT_FALSE(looks_like_genotype_table("index,arch,cifar10_test\n"));
  EXPECT_FALSE(looks_like_genotype_table(""));
  EXPECT_EQ(BenchTable::parse(test::nb301_test_csv(), "t.csv").kind(), TableKind::Darts);
  EXPECT_EQ(BenchTable::nb201_default().kind(), TableKind::Nb201);
}

TEST(DartsTable, RowsAccuraciesAndColumns) {
  const BenchTable t = BenchTable::parse(test::nb301_test_csv(), "t.csv");
  ASSERT_EQ(t.size(), kNb301TestRows.size());
  for (size_t r = 0; r < kNb301TestRows.size(); ++r) {
    const BenchRow& row = t.rows()[r];
    EXPECT_EQ(row.index, static_cast<int64_t>(r));
    EXPECT_EQ(row.line, static_cast<int>(r) + 2);
    EXPECT_EQ(row.arch, canonical(r));
    EXPECT_EQ(row.accuracy(DatasetKind::Cifar10, Split::Valid), kNb301TestRows[r].val_accuracy);
    EXPECT_TRUE(std::isnan(row.accuracy(DatasetKind::Cifar10, Split::Test)));
    EXPECT_EQ(row.values[t.column("nwot")], kNb301TestRows[r].nwot);
    EXPECT_EQ(row.values[t.column("naslib_idx")], 100.0 + static_cast<double>(r));
    EXPECT_EQ(row.values[t.column("val_accuracy")], kNb301TestRows[r].val_accuracy);
  }
  EXPECT_TRUE(std::isnan(t.rows()[3].values[t.column("synflow")]));  // empty field
  EXPECT_EQ(t.rows()[5].values[t.column("synflow")], 70.5);
  EXPECT_EQ(t.column_names(), (std::vector<std::string>{"naslib_idx", "val_accuracy", "nwot", "synflow"}));

  // CIFAR-10 validation only, and the default split says so.
  ASSERT_EQ(t.accuracy_columns().size(), 1u);
  EXPECT_TRUE(t.has_accuracy(DatasetKind::Cifar10, Split::Valid));
  EXPECT_FALSE(t.has_accuracy(DatasetKind::Cifar10, Split::Test));
  EXPECT_EQ(t.default_split(), Split::Valid);
  EXPECT_NO_THROW(t.require_accuracy(DatasetKind::Cifar10, Split::Valid));
  EXPECT_TRUE(throws_error([&] { t.require_accuracy(DatasetKind::Cifar100, Split::Valid); }, ErrorKind::BadInput,
                           {"t.csv", "cifar100 valid", "CIFAR-10 validation", "val_accuracy"}));
  EXPECT_TRUE(throws_error([&] { t.require_accuracy(DatasetKind::Cifar10, Split::Test); }, ErrorKind::BadInput,
                           {"cifar10 test", "expected one of: cifar10 valid"}));
  EXPECT_TRUE(throws_error([&] { t.column("normal"); }, ErrorKind::BadInput, {"'normal'", "nwot", "val_accuracy"}));
  EXPECT_TRUE(throws_error([&] { t.column("zen"); }, ErrorKind::BadInput, {"'zen'", "t.csv", "synflow"}));
}

TEST(DartsTable, LookupsMatchGenotypesInAnyNotation) {
  const BenchTable t = BenchTable::parse(test::nb301_test_csv(), "t.csv");
  const BenchRow* row2 = &t.rows()[2];
  EXPECT_EQ(t.find_arch(test::nb301_test_compact(2)), row2);
  EXPECT_EQ(t.find_arch(canonical(2)), row2);
  EXPECT_EQ(t.find_arch(canonical(2) + " width=16 depth=20"), row2);  // the network size is not the key
  EXPECT_EQ(&t.lookup({-1, canonical(2)}), row2);
  EXPECT_EQ(&t.lookup({5, canonical(2)}), row2);  // an index from another list does not override the genotype
  EXPECT_EQ(&t.lookup({2, ""}), row2);            // no arch: the row position
  EXPECT_EQ(&t.by_index(2), row2);
  // A genotype that is not in the table, and a string that is not a genotype.
  const std::string other =
      "sep_conv_3x3~0,sep_conv_3x3~1,sep_conv_3x3~0,sep_conv_3x3~1,sep_conv_3x3~0,"
      "sep_conv_3x3~1,sep_conv_3x3~0,sep_conv_3x3~1;" +
      std::string(kNb301TestRows[0].reduce);
  EXPECT_EQ(t.find_arch(other), nullptr);
  EXPECT_TRUE(throws_error([&] { t.by_arch(other); }, ErrorKind::BadInput, {"is not in t.csv", "6 rows"}));
  EXPECT_THROW(t.find_arch("|nor_conv_3x3~0|+|"), Error);
  EXPECT_TRUE(throws_error([&] { t.by_index(6); }, ErrorKind::BadInput, {"row 6", "t.csv"}));
}

TEST(DartsTable, MalformedRowsNameFileLineAndColumn) {
  const std::string header = test::kNb301TestHeader;
  const std::string row0 = test::nb301_test_line(0);
  auto parse = [](const std::string& text) { return [text] { BenchTable::parse(text, "t.csv"); }; };
  EXPECT_TRUE(throws_error(parse("naslib_idx,normal,reduce,accuracy,nwot,synflow\n" + row0), ErrorKind::BadInput,
                           {"t.csv:1", "lacks column 'val_accuracy'"}));
  EXPECT_TRUE(throws_error(parse(header), ErrorKind::BadInput, {"t.csv", "no genotype rows"}));
  EXPECT_TRUE(throws_error(parse("normal,reduce,normal\n"), ErrorKind::BadInput, {"t.csv:1", "'normal' twice"}));
  // Row 3 with a bad op, an input that no node 0 edge may read, a bad accuracy, a short row.
  std::string bad_op = test::nb301_test_line(1);
  bad_op.replace(bad_op.find("dil_conv_3x3~0"), 12, "dil_conv_9x9");
  EXPECT_TRUE(throws_error(parse(header + row0 + bad_op), ErrorKind::BadInput,
                           {"t.csv:3", "columns 2 (normal) and 3 (reduce)", "dil_conv_9x9"}));
  std::string bad_input = test::nb301_test_line(1);
  bad_input.replace(bad_input.find("dil_conv_3x3~0"), 14, "dil_conv_3x3~2");
  EXPECT_TRUE(throws_error(parse(header + row0 + bad_input), ErrorKind::BadInput, {"t.csv:3", "normal cell"}));
  EXPECT_TRUE(throws_error(
      parse(header + row0 + "101,\"" + kNb301TestRows[1].normal + "\",\"" + kNb301TestRows[1].reduce + "\",abc,1,2\n"),
      ErrorKind::BadInput, {"t.csv:3", "column 4 (val_accuracy)", "'abc'", "[0, 100]"}));
  EXPECT_TRUE(throws_error(parse(header + row0 + "101,\"" + kNb301TestRows[1].normal + "\"\n"), ErrorKind::BadInput,
                           {"t.csv:3", "2 fields, expected 6"}));
  // The same genotype twice.
  EXPECT_TRUE(throws_error(parse(header + row0 + test::nb301_test_line(1) + row0), ErrorKind::BadInput,
                           {"t.csv:4", "repeats line 2"}));
  // A column that is not numeric is an error only when asked for, naming where.
  const BenchTable notes =
      BenchTable::parse("normal,reduce,val_accuracy,note\n\"" + std::string(kNb301TestRows[0].normal) + "\",\"" +
                            kNb301TestRows[0].reduce + "\",93,fine\n",
                        "n.csv");
  EXPECT_TRUE(throws_error([&] { notes.column("note"); }, ErrorKind::BadInput,
                           {"n.csv:2", "column 4 (note)", "'fine'", "not a number"}));
}

TEST(DartsTable, DartsSpaceOverTheTableAndCheckAgainst) {
  test::TempDir dir;
  const std::string csv = dir.path("nb301.csv");
  test::write_bytes(csv, test::to_bytes(test::nb301_test_csv()));
  const BenchTable t = load_bench_table(csv);
  SpaceOptions o;
  o.source = csv;
  const auto space = make_space("darts", o);
  ASSERT_EQ(space->size(), static_cast<int64_t>(t.size()));
  for (int64_t i = 0; i < space->size(); ++i) EXPECT_EQ(space->from_index(i).arch, t.by_index(i).arch);
  EXPECT_NO_THROW(t.check_against(*space));

  // A genotype list the table covers (two rows, other notations), and one it does not.
  const std::string covered = dir.path("covered.txt");
  test::write_bytes(covered, test::to_bytes(canonical(4) + "\n" + test::nb301_test_compact(1) + "\n"));
  o.source = covered;
  EXPECT_NO_THROW(t.check_against(*make_space("darts", o)));
  const std::string uncovered = dir.path("uncovered.txt");
  test::write_bytes(uncovered, test::to_bytes(canonical(4) + "\n" + std::string(kNb301TestRows[1].normal) + ";" +
                                              kNb301TestRows[2].reduce + "\n"));
  o.source = uncovered;
  EXPECT_TRUE(throws_error([&] { t.check_against(*make_space("darts", o)); }, ErrorKind::BadInput,
                           {"darts entry 1", csv, "every genotype"}));

  EXPECT_TRUE(throws_error([&] { t.check_against(*make_space("darts", SpaceOptions())); }, ErrorKind::BadInput,
                           {"no indexed genotypes", "--nds-json"}));
  EXPECT_TRUE(throws_error([&] { t.check_against(*make_space("nb201", {})); }, ErrorKind::BadInput,
                           {"DARTS genotype table", "--space darts"}));
  EXPECT_TRUE(throws_error([&] { BenchTable::nb201_default().check_against(*space); }, ErrorKind::BadInput,
                           {"NB201 table", "--space nb201"}));
}

TEST(DartsTable, SharedNb301SubsetLoads) {
  const std::string data = test::shared_data_dir();
  if (data.empty()) GTEST_SKIP() << "../shared/data is absent (NASWOT_SHARED_DATA)";
  const std::string csv = data + "/nb301_darts/naslib_zc_nb301_subset.csv";
  if (!std::filesystem::exists(csv)) GTEST_SKIP() << "shared data lacks " << csv;
  const BenchTable t = load_bench_table(csv);
  EXPECT_EQ(t.kind(), TableKind::Darts);
  ASSERT_EQ(t.size(), 725u);
  std::vector<double> accuracy, nwot;
  for (const BenchRow& row : t.rows()) {
    const double a = row.accuracy(DatasetKind::Cifar10, Split::Valid);
    EXPECT_TRUE(a > 90 && a < 95) << row.line << ": " << a;  // data/README.md: NB301 networks, CIFAR-10
    accuracy.push_back(a);
    nwot.push_back(row.values[t.column("nwot")]);
    EXPECT_FALSE(std::isnan(nwot.back())) << row.line;
  }
  // data/README.md: "Observed Spearman correlations with val_accuracy: nwot 0.555".
  EXPECT_NEAR(spearman_rho(nwot, accuracy), 0.555, 0.0005);
  // The same file is a genotype source whose index r is row r, and the table covers it.
  SpaceOptions o;
  o.source = csv;
  const auto space = make_space("darts", o);
  ASSERT_EQ(space->size(), 725);
  EXPECT_EQ(space->from_index(724).arch, t.by_index(724).arch);
  EXPECT_NO_THROW(t.check_against(*space));
}

}  // namespace
}  // namespace naswot::search
