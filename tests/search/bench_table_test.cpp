// search::BenchTable: the embedded NB201 table is byte-for-byte data/nb201/nb201_accuracies.csv and
// agrees with the NB201 index order; its maxima are the ones data/README.md documents (the NB201
// paper's "optimal" row); lookups by index and arch; other column orders, extra columns, quotes and
// CRLF; and every kind of malformed table or failed lookup gives BadInput naming file:line, the
// column and what was expected.
#include "search/bench_table.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "cells/nb201.h"
#include "formats/format_test_util.h"
#include "search/summary.h"

namespace naswot::search {
namespace {

using test::throws_error;

const char* const kHeader =
    "index,arch,cifar10_test,cifar100_test,imagenet16_test,cifar10_valid,cifar100_valid,imagenet16_valid,params_mb\n";
const char* const kArch0 =
    "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|";
const char* const kArch1 =
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|";

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(BenchTable, EmbeddedTableIsTheShippedCsv) {
  const std::string shipped = read_text(std::string(NASWOT_SOURCE_DIR) + "/data/nb201/nb201_accuracies.csv");
  ASSERT_FALSE(shipped.empty()) << "data/nb201/nb201_accuracies.csv is missing";
  const std::string embedded = embedded_nb201_accuracies_csv();
  EXPECT_EQ(embedded.size(), shipped.size());
  EXPECT_TRUE(embedded == shipped) << "the compiled-in table differs from data/nb201/nb201_accuracies.csv";
}

TEST(BenchTable, DefaultTableHasEveryNb201ArchitectureInIndexOrder) {
  const BenchTable& t = BenchTable::nb201_default();
  ASSERT_EQ(t.size(), static_cast<size_t>(cells::kNb201Size));
  const auto space = make_space("nb201", {});
  EXPECT_NO_THROW(t.check_against(*space));
  // data/README.md: index 1 is the example architecture of the NB201 docs.
  EXPECT_EQ(t.by_index(1).arch, kArch1);
  EXPECT_EQ(&t.by_arch(kArch1), &t.by_index(1));
  EXPECT_EQ(&t.lookup({-1, kArch1}), &t.by_index(1));
  EXPECT_EQ(&t.lookup({1, ""}), &t.by_index(1));
}

TEST(BenchTable, DefaultTableMaximaAreTheNb201OptimalRow) {
  // data/README.md "Sanity values": maxima 94.3733 / 73.5133 / 47.3111 (test) and 91.6067 /
  // 73.4933 / 46.7333 (valid); the best CIFAR-10 architecture is named there too.
  const BenchTable& t = BenchTable::nb201_default();
  Accuracies best{};
  const BenchRow* best_c10 = nullptr;
  for (const BenchRow& r : t.rows()) {
    for (DatasetKind d : kBenchDatasets)
      for (Split s : {Split::Valid, Split::Test})
        best[static_cast<size_t>(d)][static_cast<size_t>(s)] =
            std::max(best[static_cast<size_t>(d)][static_cast<size_t>(s)], r.accuracy(d, s));
    if (!best_c10 ||
        r.accuracy(DatasetKind::Cifar10, Split::Test) > best_c10->accuracy(DatasetKind::Cifar10, Split::Test))
      best_c10 = &r;
  }
  EXPECT_NEAR(best[0][1], 94.3733, 1e-4);
  EXPECT_NEAR(best[1][1], 73.5133, 1e-4);
  EXPECT_NEAR(best[2][1], 47.3111, 1e-4);
  EXPECT_NEAR(best[0][0], 91.6067, 1e-4);
  EXPECT_NEAR(best[1][0], 73.4933, 1e-4);
  EXPECT_NEAR(best[2][0], 46.7333, 1e-4);
  ASSERT_NE(best_c10, nullptr);
  EXPECT_EQ(best_c10->arch,
            "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|");
}

TEST(BenchTable, ParsesFieldsIntoTheRightColumns) {
  // Columns in another order, an extra column, a quoted arch, CRLF line ends and a blank line.
  const std::string text =
      "imagenet16_valid,cifar10_valid,arch,extra,index,cifar100_valid,cifar10_test,cifar100_test,imagenet16_test\r\n"
      "6,4,\"" +
      std::string(kArch0) +
      "\",x,0,5,1,2,3\r\n"
      "\r\n"
      "16,14," +
      std::string(kArch1) + ",y,1,15,11,12,13\r\n";
  const BenchTable t = BenchTable::parse(text, "t.csv");
  ASSERT_EQ(t.size(), 2u);
  const BenchRow& r0 = t.by_index(0);
  EXPECT_EQ(r0.arch, kArch0);
  EXPECT_EQ(r0.line, 2);
  EXPECT_EQ(r0.accuracy(DatasetKind::Cifar10, Split::Test), 1.0);
  EXPECT_EQ(r0.accuracy(DatasetKind::Cifar100, Split::Test), 2.0);
  EXPECT_EQ(r0.accuracy(DatasetKind::ImageNet16, Split::Test), 3.0);
  EXPECT_EQ(r0.accuracy(DatasetKind::Cifar10, Split::Valid), 4.0);
  EXPECT_EQ(r0.accuracy(DatasetKind::Cifar100, Split::Valid), 5.0);
  EXPECT_EQ(r0.accuracy(DatasetKind::ImageNet16, Split::Valid), 6.0);
  EXPECT_EQ(t.by_arch(kArch1).index, 1);
  EXPECT_EQ(t.by_arch(kArch1).line, 4);
  EXPECT_EQ(t.by_index(1).accuracy(DatasetKind::ImageNet16, Split::Valid), 16.0);
}

TEST(BenchTable, MalformedTablesNameFileLineColumnAndExpectation) {
  const std::string row0 = "0," + std::string(kArch0) + ",85.8,52.9,26.6,81.9,52.7,28.2,0.13\n";
  const std::string row1 = "1," + std::string(kArch1) + ",93.6,70.3,44.0,90.7,69.8,44.4,0.80\n";
  auto parse = [](const std::string& text) { return [text] { BenchTable::parse(text, "t.csv"); }; };
  EXPECT_TRUE(throws_error(parse(""), ErrorKind::BadInput, {"t.csv", "empty", "cifar10_test"}));
  EXPECT_TRUE(throws_error(parse(kHeader), ErrorKind::BadInput, {"t.csv", "no rows"}));
  EXPECT_TRUE(throws_error(parse("index,arch,cifar10_test\n" + row0), ErrorKind::BadInput,
                           {"t.csv:1", "lacks column 'cifar100_test'"}));
  EXPECT_TRUE(throws_error(parse(std::string(kHeader) + row0 + "1," + kArch1 + ",93.6,abc,44.0,90.7,69.8,44.4,0.8\n"),
                           ErrorKind::BadInput, {"t.csv:3", "column 4 (cifar100_test)", "'abc'", "[0, 100]"}));
  EXPECT_TRUE(throws_error(parse(std::string(kHeader) + row0 + "1," + kArch1 + ",93.6,70.3\n"), ErrorKind::BadInput,
                           {"t.csv:3", "4 fields, expected 9"}));
  EXPECT_TRUE(throws_error(parse(std::string(kHeader) + row0 + "1," + kArch1 + ",193.6,70.3,44.0,90.7,69.8,44.4,0.8\n"),
                           ErrorKind::BadInput, {"t.csv:3", "column 3 (cifar10_test)", "'193.6'"}));
  EXPECT_TRUE(throws_error(parse(std::string(kHeader) + row0 + "-1," + kArch1 + ",93.6,70.3,44.0,90.7,69.8,44.4,0.8\n"),
                           ErrorKind::BadInput, {"t.csv:3", "column 1 (index)", "non-negative integer", "'-1'"}));
  EXPECT_TRUE(throws_error(parse(std::string(kHeader) + row0 + "0," + kArch1 + ",93.6,70.3,44.0,90.7,69.8,44.4,0.8\n"),
                           ErrorKind::BadInput, {"t.csv:3", "index 0 repeats line 2"}));
  EXPECT_TRUE(throws_error(parse(std::string(kHeader) + row0 + "1," + kArch0 + ",93.6,70.3,44.0,90.7,69.8,44.4,0.8\n"),
                           ErrorKind::BadInput, {"t.csv:3", "repeats line 2"}));
  EXPECT_TRUE(throws_error(parse(std::string(kHeader) + row0 + "1,,93.6,70.3,44.0,90.7,69.8,44.4,0.8\n"),
                           ErrorKind::BadInput, {"t.csv:3", "column 2 (arch)", "empty"}));
  EXPECT_TRUE(throws_error(parse(std::string(kHeader) + row0 + "1,\"" + kArch1 + ",93.6\n"), ErrorKind::BadInput,
                           {"t.csv:3", "not closed"}));
  EXPECT_TRUE(throws_error(parse("index,arch,arch,cifar10_test\n"), ErrorKind::BadInput, {"t.csv:1", "'arch' twice"}));
  // Well-formed but for another index order: caught against the space, with the line.
  const BenchTable swapped = BenchTable::parse(
      std::string(kHeader) + "0," + kArch1 + ",1,1,1,1,1,1,0\n" + "1," + kArch0 + ",1,1,1,1,1,1,0\n", "swapped.csv");
  const auto space = make_space("nb201", {});
  EXPECT_TRUE(
      throws_error([&] { swapped.check_against(*space); }, ErrorKind::BadInput, {"swapped.csv:2", "index 0", kArch0}));
  const BenchTable t = BenchTable::parse(std::string(kHeader) + row0 + row1, "t.csv");
  EXPECT_EQ(t.size(), 2u);
  EXPECT_TRUE(throws_error([&] { t.by_index(20000); }, ErrorKind::BadInput, {"index 20000", "t.csv", "2 rows"}));
  EXPECT_TRUE(throws_error([&] { t.by_arch("|none~0|"); }, ErrorKind::BadInput, {"|none~0|", "t.csv"}));
  EXPECT_EQ(t.find_index(7), nullptr);
}

TEST(BenchTable, FilesAreReadAndUnreadableFilesNamed) {
  test::TempDir dir;
  const std::string path = dir.path("table.csv");
  test::write_bytes(path, test::to_bytes(std::string(kHeader) + "3," + kArch1 + ",93,70,44,90,69,44,0.8\n"));
  const BenchTable t = load_bench_table(path);
  EXPECT_EQ(t.source(), path);
  EXPECT_EQ(t.by_index(3).accuracy(DatasetKind::Cifar100, Split::Valid), 69.0);
  EXPECT_TRUE(throws_error([&] { load_bench_table(dir.path("absent.csv")); }, ErrorKind::Io, {"absent.csv"}));
  EXPECT_EQ(load_bench_table("").size(), static_cast<size_t>(cells::kNb201Size));
}

TEST(BenchTable, SplitAndDatasetNames) {
  EXPECT_EQ(parse_split("valid"), Split::Valid);
  EXPECT_EQ(parse_split("test"), Split::Test);
  EXPECT_TRUE(throws_error([] { parse_split("train"); }, ErrorKind::BadInput, {"train", "valid or test"}));
  EXPECT_TRUE(throws_error([] { formats::parse_dataset_kind("mnist"); }, ErrorKind::BadInput, {"mnist", "cifar10"}));
}

}  // namespace
}  // namespace naswot::search
