// An NDS JSON file as the accuracy table of the CLI, as real processes: `naswot search --table
// DARTS.json` over the file's items (naswot with --space nds, rea/area with --space darts and the
// table as the genotype source), JSON lines carrying the rows' CIFAR-10 test accuracy; `naswot
// sweep --space nds` scores joined by `naswot eval --table` by index and, with the index column
// dropped, by arch, tau recomputed here; and another dataset or split, or an item without
// test_ep_top1, failing with the file and JSON path. The items are tiny (width 4-8, 3 cells).
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/cli_util.h"
#include "cli/table_cli_fixture.h"
#include "search/bench_table.h"
#include "search/nds_test_file.h"
#include "search/rank_stats.h"
#include "tools/formats/results_reader.h"

namespace naswot::cli {
namespace {

const char* const kFast = " --batch 8 --image-size 16 --backend cpu";

struct NdsFile {
  static constexpr const char* kStem = "naswot_nds_cli_test_";
  static constexpr const char* kName = "DARTS.json";
  static std::string text() { return test::nds_test_json(true); }
};

class NdsCli : public TableCliTest<NdsFile> {
 protected:
  // An arch record of a search's JSON line: a row of the file with its test accuracy only.
  static void expect_row(const nlohmann::json& arch) {
    const search::BenchRow& row = TableCliTest::expect_row(arch, "cifar10_test", "cifar10_valid");
    EXPECT_EQ(arch.value("cifar10_test", 0.0), test::nds_test_accuracy(static_cast<size_t>(row.index)));
  }
};

TEST_F(NdsCli, NaswotReaAndAreaSearchTheItems) {
  const std::string out = path("naswot.jsonl");
  const CliRun r = run_cli("search --space nds --nds-json " + quote(file()) + " --table " + quote(file()) +
                           " --samples 3 --runs 2 --seed 5" + kFast + " --output " + quote(out));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("cifar10 test"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("cifar10 val"), std::string::npos) << r.output;
  std::vector<std::string> lines = read_lines(out);
  ASSERT_EQ(lines.size(), 2u);
  for (const std::string& line : lines) {
    const nlohmann::json j = nlohmann::json::parse(line);
    expect_row(j.at("chosen"));
    expect_row(j.at("random"));
    EXPECT_TRUE(j.at("chosen").at("score").is_number());
  }

  const std::string rea_out = path("rea.jsonl");
  const CliRun rea = run_cli("search --space darts --table " + quote(file()) +
                             " --algo rea --runs 3 --budget 6 --population 3 --output " + quote(rea_out));
  ASSERT_EQ(rea.exit_code, 0) << rea.output;
  EXPECT_NE(rea.output.find("oracle: cifar10 test accuracy"), std::string::npos) << rea.output;
  lines = read_lines(rea_out);
  ASSERT_EQ(lines.size(), 3u);
  for (const std::string& line : lines) expect_row(nlohmann::json::parse(line).at("best"));

  const CliRun area = run_cli("search --space nds --table " + quote(file()) +
                              " --algo area --runs 1 --budget 4 --population 2 --area-samples 3" + kFast);
  ASSERT_EQ(area.exit_code, 0) << area.output;
  EXPECT_NE(area.output.find("AREA (B=4)"), std::string::npos) << area.output;
}

// The tau line of eval's output for `scores` against `values` (by row index).
std::string tau_line(const std::vector<double>& scores, const std::vector<double>& values) {
  char want[64];
  std::snprintf(want, sizeof want, "kendall tau-b  %.4f", search::kendall_tau_b(scores, values));
  return want;
}

TEST_F(NdsCli, SweepScoresJoinByIndexAndByArch) {
  const std::string sweep = path("sweep.csv");
  const CliRun sw = run_cli("sweep --space nds --nds-json " + quote(file()) + kFast + " --output " + quote(sweep));
  ASSERT_EQ(sw.exit_code, 0) << sw.output;
  std::vector<double> scores, accuracy, params;
  for (const formats::ReadScore& rec : formats::read_score_file(sweep)) {
    const auto i = static_cast<size_t>(rec.record.index);
    ASSERT_LT(i, test::kNdsTestItems.size());
    EXPECT_EQ(rec.record.arch, table().rows()[i].arch);  // with its width=/depth= suffix
    scores.push_back(rec.record.score);
    accuracy.push_back(test::nds_test_accuracy(i));
    params.push_back(test::kNdsTestItems[i].params);
  }
  ASSERT_EQ(scores.size(), test::kNdsTestItems.size());
  const CliRun e = run_cli("eval --scores " + quote(sweep) + " --table " + quote(file()) + " --against params");
  ASSERT_EQ(e.exit_code, 0) << e.output;
  EXPECT_NE(e.output.find(tau_line(scores, params)), std::string::npos) << e.output;
  const CliRun plain = run_cli("eval --scores " + quote(sweep) + " --table " + quote(file()));
  ASSERT_EQ(plain.exit_code, 0) << plain.output;
  EXPECT_NE(plain.output.find("against cifar10 test accuracy (100 - test_ep_top1[-1])"), std::string::npos)
      << plain.output;
  EXPECT_NE(plain.output.find(tau_line(scores, accuracy)), std::string::npos) << plain.output;

  // The same records with the index column emptied join by their arch strings.
  const std::string by_arch = path("by_arch.jsonl");
  {
    std::ofstream o(by_arch);
    for (const formats::ReadScore& rec : formats::read_score_file(sweep))
      o << nlohmann::json{{"arch", rec.record.arch}, {"score", rec.record.score}}.dump() << "\n";
  }
  const CliRun a = run_cli("eval --scores " + quote(by_arch) + " --table " + quote(file()));
  ASSERT_EQ(a.exit_code, 0) << a.output;
  EXPECT_NE(a.output.find(tau_line(scores, accuracy)), std::string::npos) << a.output;
}

TEST_F(NdsCli, OtherDatasetsSplitsAndBadItemsFailClearly) {
  const std::string scores = path("two.jsonl");
  std::ofstream(scores) << "{\"index\": 0, \"score\": 1.5}\n{\"index\": 1, \"score\": 2.5}\n";
  const std::string t = " --table " + quote(file());
  expect_failure("eval --scores " + quote(scores) + t + " --dataset cifar100", {"cifar100", "test_ep_top1"}, 1);
  expect_failure("eval --scores " + quote(scores) + t + " --split valid", {"cifar10 valid", "CIFAR-10 test"}, 1);
  expect_failure("search --algo rea --space darts" + t + " --dataset imagenet16", {"imagenet16", "test_ep_top1"}, 1);
  const std::string bad = path("bad.json");
  std::ofstream(bad) << "{\"top\": [" << test::nds_test_item_json(0) << "], \"mid\": [" << test::nds_test_item_json(1)
                     << ", " << test::nds_test_item_json(2, "[]") << "]}";
  expect_failure("eval --scores " + quote(scores) + " --table " + quote(bad), {bad + ": mid[1].test_ep_top1"}, 1);
  expect_failure("search --algo rea --space nds --table " + quote(bad), {bad + ": mid[1].test_ep_top1"}, 1);
}

}  // namespace
}  // namespace naswot::cli
