// Result writers: csv header and fields (%.17g scores that parse back to the same double,
// -inf, empty index, quoting), jsonl lines that nlohmann parses back field by field ("-inf" as
// a string, null index), table columns aligned across rows, one line per record, unknown
// format rejected.
#include "tools/formats/results.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "formats/format_test_util.h"

namespace naswot::test {
namespace {

using formats::make_result_writer;
using formats::ScoreRecord;

std::vector<ScoreRecord> sample_records() {
  const double ninf = -std::numeric_limits<double>::infinity();
  return {
      {12172, "|avg_pool_3x3~0|+|avg_pool_3x3~0|avg_pool_3x3~1|+|nor_conv_3x3~0|none~1|avg_pool_3x3~2|",
       1663.2917823410034, "ok", 15360, 0.25},
      {-1, "normal=sep_conv_3x3~0,skip_connect~1", ninf, "singular", 0, 0.001},
      {7, "a\"b", 0.1 + 0.2, "ok", 3, 12.5},
  };
}

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

TEST(Results, CsvHeaderAndFields) {
  std::ostringstream os;
  auto w = make_result_writer("csv", os);
  EXPECT_EQ(os.str(), "index,arch,score,status,n_units,seconds\n");  // header before any record
  for (const ScoreRecord& r : sample_records()) w->write(r);
  const std::vector<std::string> lines = lines_of(os.str());
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[1].substr(0, 6), "12172,");
  EXPECT_EQ(lines[2], "," + std::string("\"normal=sep_conv_3x3~0,skip_connect~1\"") + ",-inf,singular,0,0.001000");
  EXPECT_EQ(lines[3], "7,\"a\"\"b\",0.30000000000000004,ok,3,12.500000");
  // The score field parses back to the identical double.
  const std::string score =
      lines[1].substr(lines[1].find(",1663") + 1, lines[1].find(",ok") - lines[1].find(",1663") - 1);
  EXPECT_EQ(std::stod(score), 1663.2917823410034);
  EXPECT_EQ(formats::format_score(-std::numeric_limits<double>::infinity()), "-inf");
}

TEST(Results, JsonlParsesBack) {
  std::ostringstream os;
  auto w = make_result_writer("jsonl", os);
  EXPECT_EQ(os.str(), "");
  const std::vector<ScoreRecord> recs = sample_records();
  for (const ScoreRecord& r : recs) w->write(r);
  const std::vector<std::string> lines = lines_of(os.str());
  ASSERT_EQ(lines.size(), recs.size());
  for (size_t i = 0; i < recs.size(); ++i) {
    const nlohmann::json j = nlohmann::json::parse(lines[i]);
    if (recs[i].index < 0)
      EXPECT_TRUE(j.at("index").is_null());
    else
      EXPECT_EQ(j.at("index").get<int64_t>(), recs[i].index);
    EXPECT_EQ(j.at("arch").get<std::string>(), recs[i].arch);
    if (std::isfinite(recs[i].score))
      EXPECT_EQ(j.at("score").get<double>(), recs[i].score);
    else
      EXPECT_EQ(j.at("score").get<std::string>(), "-inf");
    EXPECT_EQ(j.at("status").get<std::string>(), recs[i].status);
    EXPECT_EQ(j.at("n_units").get<int64_t>(), recs[i].n_units);
    EXPECT_EQ(j.at("seconds").get<double>(), recs[i].seconds);
  }
  EXPECT_EQ(lines[0].substr(0, 16), "{\"index\":12172,\"");  // keys in csv order
}

TEST(Results, TableColumnsAligned) {
  std::ostringstream os;
  auto w = make_result_writer("table", os);
  for (const ScoreRecord& r : sample_records()) w->write(r);
  const std::vector<std::string> lines = lines_of(os.str());
  ASSERT_EQ(lines.size(), 4u);
  const size_t arch_col = lines[0].find("arch");
  ASSERT_NE(arch_col, std::string::npos);
  const std::vector<ScoreRecord> recs = sample_records();
  for (size_t i = 1; i < lines.size(); ++i) EXPECT_EQ(lines[i].substr(arch_col), recs[i - 1].arch) << lines[i];
  EXPECT_NE(lines[1].find("1663.291782"), std::string::npos);
  EXPECT_NE(lines[2].find("-inf"), std::string::npos);
  EXPECT_NE(lines[2].find("singular"), std::string::npos);
  const size_t status_col = lines[0].find("status");
  EXPECT_EQ(lines[2].substr(status_col, 8), "singular");
}

TEST(Results, UnknownFormat) {
  std::ostringstream os;
  EXPECT_TRUE(
      throws_error([&] { make_result_writer("xml", os); }, ErrorKind::BadInput, {"'xml'", "table, csv or jsonl"}));
}

}  // namespace
}  // namespace naswot::test
