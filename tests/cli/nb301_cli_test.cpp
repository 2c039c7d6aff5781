// The NB301 genotype table through the CLI, as real processes: `naswot search --space darts --table`
// for naswot, rea and area (rows, JSON lines and accuracies are the table's; only the CIFAR-10
// validation column is printed); `naswot score --arch-file TABLE` and `naswot sweep --nds-json
// TABLE` produce files that `naswot eval --table TABLE --against val_accuracy,nwot` joins, with
// tau and rho recomputed here; and asking such a table for another dataset, split or an unknown
// column fails with one message. Small networks (width 4, 3 cells, batch 8, 16x16) keep runs short.
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
#include "search/nb301_test_table.h"
#include "search/rank_stats.h"
#include "tools/formats/results_reader.h"

namespace naswot::cli {
namespace {

const char* const kFast = " --width 4 --depth 3 --batch 8 --image-size 16 --backend cpu";

struct Nb301File {
  static constexpr const char* kStem = "naswot_nb301_cli_test_";
  static constexpr const char* kName = "nb301.csv";
  static std::string text() { return test::nb301_test_csv(); }
};

class Nb301Cli : public TableCliTest<Nb301File> {
 protected:
  // An arch record of a search's JSON line: a row of the table, with the table's accuracy and no
  // column the table lacks.
  static void expect_row(const nlohmann::json& arch) {
    const search::BenchRow& row = TableCliTest::expect_row(arch, "cifar10_valid", "cifar10_test");
    EXPECT_EQ(arch.value("cifar10_valid", 0.0), row.accuracy(search::DatasetKind::Cifar10, search::Split::Valid));
  }
};

TEST_F(Nb301Cli, NaswotSearchOverTheTableRows) {
  const std::string out = path("naswot.jsonl");
  const CliRun r = run_cli("search --space darts --table " + quote(file()) + " --samples 3 --runs 2 --seed 5" + kFast +
                           " --output " + quote(out));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* text : {"NASWOT (N=3)", "Optimal in sample (N=3)", "cifar10 val"})
    EXPECT_NE(r.output.find(text), std::string::npos) << text << "\n" << r.output;
  EXPECT_EQ(r.output.find("cifar10 test"), std::string::npos) << r.output;
  const std::vector<std::string> lines = read_lines(out);
  ASSERT_EQ(lines.size(), 2u);
  for (const std::string& line : lines) {
    const nlohmann::json j = nlohmann::json::parse(line);
    expect_row(j.at("chosen"));
    expect_row(j.at("random"));
    EXPECT_TRUE(j.at("chosen").at("score").is_number());
  }
}

TEST_F(Nb301Cli, ReaAndAreaMutateWithinTheTable) {
  const std::string out = path("rea.jsonl");
  const CliRun rea = run_cli("search --space darts --table " + quote(file()) +
                             " --algo rea --runs 3 --budget 9 --population 3 "
                             "--output " +
                             quote(out));
  ASSERT_EQ(rea.exit_code, 0) << rea.output;
  EXPECT_NE(rea.output.find("REA (B=9)"), std::string::npos) << rea.output;
  const std::vector<std::string> lines = read_lines(out);
  ASSERT_EQ(lines.size(), 3u);
  for (const std::string& line : lines) {
    const nlohmann::json j = nlohmann::json::parse(line);
    EXPECT_EQ(j.at("queries"), 9);
    expect_row(j.at("best"));
  }
  const CliRun area = run_cli("search --space darts --table " + quote(file()) +
                              " --algo area --runs 1 --budget 5 --population 2 --area-samples 3" + kFast);
  ASSERT_EQ(area.exit_code, 0) << area.output;
  EXPECT_NE(area.output.find("AREA (B=5)"), std::string::npos) << area.output;
}

// Tau and rho of a score file against the table's accuracy and nwot, as eval prints them.
void expect_eval_matches(const search::BenchTable& t, const std::string& scores, const std::string& output) {
  std::vector<double> s, acc, nwot;
  for (const formats::ReadScore& rec : formats::read_score_file(scores)) {
    const search::BenchRow& row = t.by_arch(rec.record.arch);
    s.push_back(rec.record.score);
    acc.push_back(row.accuracy(search::DatasetKind::Cifar10, search::Split::Valid));
    nwot.push_back(row.values[t.column("nwot")]);
  }
  ASSERT_EQ(s.size(), test::kNb301TestRows.size());
  const size_t nwot_block = output.find("against column nwot");
  ASSERT_NE(nwot_block, std::string::npos) << output;
  char want[64];
  std::snprintf(want, sizeof want, "kendall tau-b  %.4f", search::kendall_tau_b(s, acc));
  EXPECT_LT(output.find(want), nwot_block) << want << "\n" << output;
  std::snprintf(want, sizeof want, "kendall tau-b  %.4f", search::kendall_tau_b(s, nwot));
  EXPECT_NE(output.find(want, nwot_block), std::string::npos) << want << "\n" << output;
  std::snprintf(want, sizeof want, "spearman rho   %.4f", search::spearman_rho(s, nwot));
  EXPECT_NE(output.find(want, nwot_block), std::string::npos) << want << "\n" << output;
  EXPECT_NE(output.find("n              6\n"), std::string::npos) << output;
}

TEST_F(Nb301Cli, ScoreAndSweepFilesJoinTheTableInEval) {
  const std::string csv = path("scores.csv");
  ASSERT_EQ(run_cli(std::string("score --space darts --format csv --arch-file ") + quote(file()) + kFast +
                    " --output " + quote(csv))
                .exit_code,
            0);
  ASSERT_EQ(read_lines(csv).size(), 7u);  // header + 6 rows
  const std::string eval_args = " --table " + quote(file()) + " --against val_accuracy,nwot --top-k 2";
  const CliRun e = run_cli("eval --scores " + quote(csv) + eval_args);
  ASSERT_EQ(e.exit_code, 0) << e.output;
  expect_eval_matches(table(), csv, e.output);

  const std::string sweep = path("sweep.jsonl");
  const CliRun sw = run_cli("sweep --space darts --nds-json " + quote(file()) + kFast + " --output " + quote(sweep));
  ASSERT_EQ(sw.exit_code, 0) << sw.output;
  const CliRun es = run_cli("eval --scores " + quote(sweep) + eval_args);
  ASSERT_EQ(es.exit_code, 0) << es.output;
  expect_eval_matches(table(), sweep, es.output);
  // The same networks and weights either way: everything after the line naming the file agrees.
  EXPECT_EQ(es.output.substr(es.output.find('\n')), e.output.substr(e.output.find('\n')));
  const CliRun plain = run_cli("eval --scores " + quote(sweep) + " --table " + quote(file()));
  ASSERT_EQ(plain.exit_code, 0) << plain.output;
  EXPECT_NE(plain.output.find("against cifar10 valid accuracy (val_accuracy)"), std::string::npos) << plain.output;
}

TEST_F(Nb301Cli, OtherDatasetsSplitsAndColumnsFailClearly) {
  const std::string scores = path("two.csv");
  std::ofstream(scores) << "index,arch,score,status,n_units,seconds\n,\"" << test::nb301_test_compact(0)
                        << "\",1.5,ok,1,0\n,\"" << test::nb301_test_compact(1) << "\",2.5,ok,1,0\n";
  const std::string t = " --table " + quote(file());
  expect_failure("eval --scores " + quote(scores) + t + " --dataset cifar100", {"cifar100", "val_accuracy"}, 1);
  expect_failure("eval --scores " + quote(scores) + t + " --split test", {"cifar10 test", "CIFAR-10 validation"}, 1);
  expect_failure("eval --scores " + quote(scores) + t + " --against nwot,zen", {"'zen'", "nwot"}, 1);
  expect_failure("search --algo rea --space darts" + t + " --dataset imagenet16", {"imagenet16", "val_accuracy"}, 1);
  expect_failure("search --algo rea" + t, {"DARTS genotype table", "--space darts"}, 1);
  const std::string bad = path("bad.csv");
  std::ofstream(bad) << test::kNb301TestHeader << test::nb301_test_line(0) << "7,\"sep_conv_3x3~0\",\"x\",90,1,2\n";
  expect_failure("search --algo rea --space darts --table " + quote(bad), {bad + ":3", "(normal)"}, 1);
}

}  // namespace
}  // namespace naswot::cli
