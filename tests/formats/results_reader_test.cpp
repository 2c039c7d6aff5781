// Reading score files back: what the csv and jsonl writers of results.h write comes back equal
// (including -inf, nan, a missing index and an arch that needs quoting), and bad files fail with
// file:line and what was expected. Also the CSV field splitter on its own.
#include "tools/formats/results_reader.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <sstream>

#include "formats/format_test_util.h"
#include "tools/formats/csv.h"

namespace naswot::formats {
namespace {

using test::throws_error;

std::vector<ScoreRecord> sample_records() {
  const double inf = std::numeric_limits<double>::infinity();
  return {
      {0, "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|",
       1661.2345678901234, "ok", 651264, 0.25},
      {15624, "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|", -inf, "singular", 77824, 0.125},
      {-1, "arch, with \"quotes\"", std::nan(""), "ok", 3, 1.5},
  };
}

void expect_round_trip(const std::string& format) {
  test::TempDir dir;
  const std::string path = dir.path("scores." + format);
  std::ostringstream out;
  {
    const auto writer = make_result_writer(format, out);
    for (const ScoreRecord& r : sample_records()) writer->write(r);
  }
  test::write_bytes(path, test::to_bytes(out.str()));
  const std::vector<ReadScore> back = read_score_file(path);
  const std::vector<ScoreRecord> want = sample_records();
  ASSERT_EQ(back.size(), want.size()) << format;
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(back[i].line, static_cast<int>(i) + (format == "csv" ? 2 : 1)) << format;
    EXPECT_EQ(back[i].record.index, want[i].index) << format;
    EXPECT_EQ(back[i].record.arch, want[i].arch) << format;
    if (std::isnan(want[i].score))
      EXPECT_TRUE(std::isnan(back[i].record.score)) << format;
    else
      EXPECT_EQ(back[i].record.score, want[i].score) << format << ": %.17g must round-trip";
    EXPECT_EQ(back[i].record.status, want[i].status) << format;
    EXPECT_EQ(back[i].record.n_units, want[i].n_units) << format;
  }
}

TEST(ResultsReader, CsvRoundTrip) { expect_round_trip("csv"); }
TEST(ResultsReader, JsonlRoundTrip) { expect_round_trip("jsonl"); }

TEST(ResultsReader, BadFilesNameTheLineAndWhatWasExpected) {
  test::TempDir dir;
  auto read = [&](const std::string& name, const std::string& text) {
    const std::string path = dir.path(name);
    test::write_bytes(path, test::to_bytes(text));
    return [path] { read_score_file(path); };
  };
  const std::string header = "index,arch,score,status,n_units,seconds\n";
  EXPECT_TRUE(throws_error(read("a.csv", header + "0,x,1.5,ok,1,0\n1,y,abc,ok,1,0\n"), ErrorKind::BadInput,
                           {"a.csv:3", "column 3 (score)", "'abc'"}));
  EXPECT_TRUE(throws_error(read("b.csv", header + "x1,y,1.5,ok,1,0\n"), ErrorKind::BadInput,
                           {"b.csv:2", "column 1 (index)", "'x1'"}));
  EXPECT_TRUE(
      throws_error(read("c.csv", header + "0,x,1.5\n"), ErrorKind::BadInput, {"c.csv:2", "3 fields, expected 6"}));
  EXPECT_TRUE(throws_error(read("d.csv", header + ",,1.5,ok,1,0\n"), ErrorKind::BadInput,
                           {"d.csv:2", "neither an index nor an arch"}));
  EXPECT_TRUE(throws_error(read("e.csv", "foo,bar\n1,2\n"), ErrorKind::BadInput, {"e.csv:1", "index, arch and score"}));
  EXPECT_TRUE(throws_error(read("f.jsonl", "{\"index\":0,\"score\":1}\n{\"index\":1,\n"), ErrorKind::BadInput,
                           {"f.jsonl:2", "JSON"}));
  EXPECT_TRUE(throws_error(read("g.jsonl", "{\"index\":0}\n"), ErrorKind::BadInput, {"g.jsonl:1", "\"score\""}));
  EXPECT_TRUE(throws_error(read("h.jsonl", "{\"index\":0,\"score\":\"high\"}\n"), ErrorKind::BadInput,
                           {"h.jsonl:1", "\"high\"", "\"-inf\""}));
  EXPECT_TRUE(throws_error(read("i.jsonl", "{\"index\":-3,\"score\":1}\n"), ErrorKind::BadInput,
                           {"i.jsonl:1", "non-negative"}));
  EXPECT_TRUE(throws_error(read("j.jsonl", "{\"score\":1}\n"), ErrorKind::BadInput, {"j.jsonl:1", "\"index\""}));
  EXPECT_TRUE(throws_error(read("k.csv", ""), ErrorKind::BadInput, {"k.csv", "no score record"}));
  EXPECT_TRUE(throws_error(read("l.csv", header), ErrorKind::BadInput, {"l.csv", "no score record"}));
  EXPECT_TRUE(throws_error([&] { read_score_file(dir.path("absent.csv")); }, ErrorKind::Io, {"absent.csv"}));
  // Random corruption of a valid file: parsed or rejected with naswot::Error, never a crash.
  std::ostringstream out;
  {
    const auto writer = make_result_writer("jsonl", out);
    for (const ScoreRecord& r : sample_records()) writer->write(r);
  }
  const std::string path = dir.path("corrupt.jsonl");
  const int rejected = test::corrupt_and_read(test::to_bytes(out.str()), path, 200, test::kSeed + 61,
                                              [](const std::string& p) { read_score_file(p); });
  EXPECT_GT(rejected, 0);
}

TEST(Csv, SplitsQuotedFields) {
  EXPECT_EQ(split_csv_line("a,b,,c", "x"), (std::vector<std::string>{"a", "b", "", "c"}));
  EXPECT_EQ(split_csv_line("a,", "x"), (std::vector<std::string>{"a", ""}));
  EXPECT_EQ(split_csv_line("", "x"), (std::vector<std::string>{""}));
  EXPECT_EQ(split_csv_line("\"a,b\",\"say \"\"hi\"\"\",c\r", "x"),
            (std::vector<std::string>{"a,b", "say \"hi\"", "c"}));
  EXPECT_TRUE(throws_error([] { split_csv_line("a,\"open", "f.csv:9"); }, ErrorKind::BadInput,
                           {"f.csv:9", "column 2", "not closed"}));
  EXPECT_TRUE(throws_error([] { split_csv_line("\"a\"b,c", "f.csv:3"); }, ErrorKind::BadInput,
                           {"f.csv:3", "column 1", "expected ','"}));
}

}  // namespace
}  // namespace naswot::formats
