// `naswot search` and `naswot eval` as real processes (NASWOT_BINARY, stderr merged into stdout):
// the Table-2 rows and the per-run JSON lines of each algorithm (their accuracies are the table's),
// eval's tau / rho / n recomputed here from the score file and the table, and one clear message with
// a non-zero exit (never a crash) for each kind of bad input. Scoring runs use --batch 8 and
// --image-size 16 on the CPU and a few architectures.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli/cli_util.h"
#include "search/bench_table.h"
#include "search/rank_stats.h"
#include "tools/formats/results_reader.h"

namespace naswot::cli {
namespace {

namespace fs = std::filesystem;

// The runner shared by the CLI tests (cli/cli_util.h) under the names this file's tests use.
using ProcessRun = CliRun;
ProcessRun naswot(const std::string& args) { return run_cli(args); }

const char* const kFast = " --batch 8 --image-size 16 --backend cpu";

class SearchCli : public ::testing::Test {
 protected:
  void SetUp() override {
    m_dir = fs::path(::testing::TempDir()) / ("naswot_search_cli_" + std::to_string(getpid()) + "_" +
                                              ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(m_dir);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(m_dir, ec);
  }
  std::string path(const std::string& name) const { return (m_dir / name).string(); }
  fs::path m_dir;
};

// The six accuracies of a JSON arch record must be the table's for its index.
void expect_table_accuracies(const nlohmann::json& arch) {
  const search::BenchRow& row = search::BenchTable::nb201_default().by_index(arch.at("index").get<int64_t>());
  EXPECT_EQ(arch.at("arch"), row.arch);
  EXPECT_EQ(arch.at("cifar10_test").get<double>(), row.accuracy(search::DatasetKind::Cifar10, search::Split::Test));
  EXPECT_EQ(arch.at("imagenet16_valid").get<double>(),
            row.accuracy(search::DatasetKind::ImageNet16, search::Split::Valid));
}

TEST_F(SearchCli, HelpListsTheOptions) {
  const ProcessRun search = naswot("search --help");
  EXPECT_EQ(search.exit_code, 0) << search.output;
  for (const char* opt : {"--algo", "--samples", "--runs", "--seed", "--dataset", "--budget", "--table", "--data",
                          "--batch", "--backend", "--output", "--population", "--tournament", "--area-samples"})
    EXPECT_NE(search.output.find(opt), std::string::npos) << "search --help lacks " << opt;
  const ProcessRun eval = naswot("eval --help");
  EXPECT_EQ(eval.exit_code, 0) << eval.output;
  for (const char* opt :
       {"--scores", "--dataset", "--table", "--split", "--subsample", "--seed", "--min-acc", "--top-k", "hit rate"})
    EXPECT_NE(eval.output.find(opt), std::string::npos) << "eval --help lacks " << opt;
}

TEST_F(SearchCli, NaswotSearchPrintsTheTableAndOneJsonLinePerRun) {
  const std::string out = path("runs.jsonl");
  const ProcessRun r = naswot(std::string("search --samples 4 --runs 3 --seed 7") + kFast + " --output '" + out + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* row : {"NASWOT (N=4)", "Optimal in sample (N=4)", "Random", "cifar100 test", "imgnet16 val"})
    EXPECT_NE(r.output.find(row), std::string::npos) << row << "\n" << r.output;
  const std::vector<std::string> lines = lines_of(read_text(out));
  ASSERT_EQ(lines.size(), 3u);
  for (size_t i = 0; i < lines.size(); ++i) {
    const nlohmann::json j = nlohmann::json::parse(lines[i]);
    EXPECT_EQ(j.at("run"), i);
    EXPECT_EQ(j.at("algo"), "naswot");
    expect_table_accuracies(j.at("chosen"));
    expect_table_accuracies(j.at("random"));
    EXPECT_GT(j.at("search_seconds").get<double>(), 0.0);
  }
  // Same seed: same choices (the seconds differ).
  const std::string again = path("again.jsonl");
  ASSERT_EQ(naswot(std::string("search --samples 4 --runs 3 --seed 7") + kFast + " --output '" + again + "'").exit_code,
            0);
  const std::vector<std::string> lines2 = lines_of(read_text(again));
  ASSERT_EQ(lines2.size(), 3u);
  for (size_t i = 0; i < 3; ++i)
    EXPECT_EQ(nlohmann::json::parse(lines[i])["chosen"], nlohmann::json::parse(lines2[i])["chosen"]);
}

TEST_F(SearchCli, ReaAndAreaRun) {
  const std::string out = path("rea.jsonl");
  const ProcessRun rea = naswot("search --algo rea --runs 4 --budget 25 --dataset cifar100 --output '" + out + "'");
  ASSERT_EQ(rea.exit_code, 0) << rea.output;
  EXPECT_NE(rea.output.find("REA (B=25)"), std::string::npos) << rea.output;
  EXPECT_NE(rea.output.find("cifar100 validation"), std::string::npos) << rea.output;
  const std::vector<std::string> lines = lines_of(read_text(out));
  ASSERT_EQ(lines.size(), 4u);
  for (const std::string& line : lines) {
    const nlohmann::json j = nlohmann::json::parse(line);
    EXPECT_EQ(j.at("queries"), 25);
    expect_table_accuracies(j.at("best"));
  }
  const ProcessRun area = naswot(std::string("search --algo area --runs 1 --budget 12 --area-samples 12") + kFast);
  ASSERT_EQ(area.exit_code, 0) << area.output;
  EXPECT_NE(area.output.find("AREA (B=12)"), std::string::npos) << area.output;
}

TEST_F(SearchCli, BadSearchInputFailsWithOneClearMessage) {
  expect_failure("search --algo rea --dataset mnist", {"mnist", "cifar10"});
  expect_failure("search --algo bogus", {"bogus"});
  expect_failure(std::string("search --samples 0") + kFast, {"--samples 0"});
  expect_failure("search --algo rea --budget 0", {"--budget 0"});
  expect_failure("search --algo rea --table '" + path("absent.csv") + "'", {"absent.csv"});
  const std::string bad = path("bad_table.csv");
  std::ofstream(bad) << "index,arch,cifar10_test,cifar100_test,imagenet16_test,cifar10_valid,cifar100_valid,"
                        "imagenet16_valid\n0,|none~0|,1,2,3,x,5,6\n";
  expect_failure("search --algo rea --table '" + bad + "'", {bad + ":2", "cifar10_valid"});
  expect_failure("search --dataset imagenet16 --data cifar10:/nonexistent.bin --batch 8", {"32x32", "16x16"});
}

TEST_F(SearchCli, EvalRanksAScoreFileAgainstTheTable) {
  // 14 architectures, written as csv and as jsonl.
  const std::string indices = "1 2 3 4 5 6 7 8 9 10 11 12 13 14";
  const std::string csv = path("scores.csv"), jsonl = path("scores.jsonl");
  ASSERT_EQ(naswot(std::string("score --format csv --index ") + indices + kFast + " --output '" + csv + "'").exit_code,
            0);
  ASSERT_EQ(
      naswot(std::string("score --format jsonl --index ") + indices + kFast + " --output '" + jsonl + "'").exit_code,
      0);
  for (const std::string& file : {csv, jsonl}) {
    const ProcessRun r = naswot("eval --scores '" + file + "' --dataset cifar100 --split valid --top-k 1,5");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    // Recompute from the file and the table: drop accuracy <= 15 and NaN/0 scores.
    std::vector<double> s, a;
    for (const formats::ReadScore& rec : formats::read_score_file(file)) {
      const double acc = search::BenchTable::nb201_default()
                             .by_index(rec.record.index)
                             .accuracy(search::DatasetKind::Cifar100, search::Split::Valid);
      if (acc <= 15 || std::isnan(rec.record.score) || rec.record.score == 0) continue;
      s.push_back(rec.record.score);
      a.push_back(acc);
    }
    char want[64];
    std::snprintf(want, sizeof want, "kendall tau-b  %.4f", search::kendall_tau_b(s, a));
    EXPECT_NE(r.output.find(want), std::string::npos) << want << "\n" << r.output;
    std::snprintf(want, sizeof want, "spearman rho   %.4f", search::spearman_rho(s, a));
    EXPECT_NE(r.output.find(want), std::string::npos) << want << "\n" << r.output;
    EXPECT_NE(r.output.find("n              " + std::to_string(s.size()) + "\n"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("top-1 by score"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("top-5 by score"), std::string::npos) << r.output;
  }
}

TEST_F(SearchCli, BadEvalInputFailsWithOneClearMessage) {
  expect_failure("eval --scores '" + path("absent.csv") + "' --dataset cifar10", {"absent.csv"});
  const std::string bad = path("bad.csv");
  std::ofstream(bad) << "index,arch,score,status,n_units,seconds\n1,,1600.5,ok,1,0\n2,,oops,ok,1,0\n";
  expect_failure("eval --scores '" + bad + "' --dataset cifar10", {bad + ":3", "'oops'"});
  const std::string unknown = path("unknown.csv");
  std::ofstream(unknown) << "index,arch,score,status,n_units,seconds\n1,,1600.5,ok,1,0\n99999,,1.5,ok,1,0\n";
  expect_failure("eval --scores '" + unknown + "' --dataset cifar10", {unknown + ":3", "index 99999"});
  const std::string good = path("good.csv");
  std::ofstream(good) << "index,arch,score,status,n_units,seconds\n1,,1600.5,ok,1,0\n2,,1500.5,ok,1,0\n";
  expect_failure("eval --scores '" + good + "' --dataset mnist", {"mnist"});
  expect_failure("eval --scores '" + good + "' --dataset cifar10 --split train", {"train"});
  expect_failure("eval --scores '" + good + "' --dataset cifar10 --top-k 10,x", {"--top-k", "'x'"});
  expect_failure("eval --scores '" + good + "'", {"--dataset"});
}

}  // namespace
}  // namespace naswot::cli
