// `naswot score` and `naswot list` on the DARTS spaces, run as a real process: one genotype in
// each notation gives one canonical record; --nds-json with --index (top before mid, the aux note,
// the item's own width/depth); the nds space picks NetworkImageNet for a `_in` file; n_units equals
// the plan of the same network built in-process; and bad input fails with one message naming the
// culprit. Small networks (width 4, depth 3, batch 8) keep each run well under a second.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cells/darts.h"
#include "cli/cli_util.h"
#include "runtime/plan.h"

namespace naswot::cli {
namespace {

namespace fs = std::filesystem;

std::vector<nlohmann::json> records(const std::string& output) {
  std::vector<nlohmann::json> out;
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line[0] == '{') out.push_back(nlohmann::json::parse(line));
  return out;
}

const char* const kScore = "score --backend cpu --batch 8 --format jsonl";
const char* const kSmall = " --width 4 --depth 3";
const char* const kNormal = "sep_conv_3x3~0,dil_conv_3x3~1,skip_connect~0,max_pool_3x3~2";
const char* const kReduce = "skip_connect~0,avg_pool_3x3~1,conv_1x1~2,sep_conv_5x5~1";
const char* const kGenotype =
    "Genotype(normal=[('sep_conv_3x3', 0), ('dil_conv_3x3', 1), ('skip_connect', 0), ('max_pool_3x3', 2)], "
    "normal_concat=[2, 3], reduce=[('skip_connect', 0), ('avg_pool_3x3', 1), ('conv_1x1', 2), ('sep_conv_5x5', 1)], "
    "reduce_concat=[2, 3])";

int64_t plan_units(const std::string& genotype, int width, int depth, bool imagenet, int size) {
  cells::DartsConfig c;
  c.width = width;
  c.depth = depth;
  c.imagenet = imagenet;
  c.input_size = size;
  const rt::Graph g = cells::build_darts(cells::parse_darts_arch(genotype).genotype, c);
  return rt::Plan(g, {8, size, size, 3}).n_units(rt::Counting::Reference);
}

std::string nds_item(int width, bool aux) {
  return std::string(R"({"net": {"aux": )") + (aux ? "true" : "false") + R"(, "depth": 3, "width": )" +
         std::to_string(width) + R"(, "genotype": {"normal": [["sep_conv_3x3", 0], ["dil_conv_3x3", 1],
         ["skip_connect", 0], ["max_pool_3x3", 2]], "normal_concat": [2, 3], "reduce": [["skip_connect", 0],
         ["avg_pool_3x3", 1], ["conv_1x1", 2], ["sep_conv_5x5", 1]], "reduce_concat": [2, 3]}},
         "test_ep_top1": [50.0, 10.0]})";
}

class DartsCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { s_dir = make_suite_dir("naswot_darts_cli_test_"); }
  static void TearDownTestSuite() { remove_dir(s_dir); }
  static std::string write(const std::string& name, const std::string& text) {
    const std::string p = (s_dir / name).string();
    std::ofstream(p) << text;
    return p;
  }
  // Bad input is a naswot::Error: exit status 1 exactly, never a crash.
  static void expect_failure(const std::string& args, const std::string& culprit) {
    cli::expect_failure(args, {culprit}, 1);
  }
  static fs::path s_dir;
};
fs::path DartsCli::s_dir;

TEST_F(DartsCli, OneGenotypeInEveryNotationScoresTheSame) {
  const CliRun one = run_cli(std::string(kScore) + kSmall + " --space darts --genotype " + quote(kGenotype));
  ASSERT_EQ(one.exit_code, 0) << one.output;
  const auto r = records(one.output);
  ASSERT_EQ(r.size(), 1u) << one.output;
  EXPECT_TRUE(r[0]["index"].is_null());
  EXPECT_EQ(r[0]["arch"], kGenotype);
  EXPECT_EQ(r[0]["status"], "ok");
  EXPECT_EQ(r[0]["n_units"], plan_units(kGenotype, 4, 3, false, 32));
  ASSERT_TRUE(r[0]["score"].is_number());

  // The same genotype as a compact line, an NDS genotype object and a DARTS string with range().
  std::string with_range = kGenotype;
  with_range.replace(with_range.find("normal_concat=[2, 3]"), 20, "normal_concat=range(2, 4)");
  const std::string file =
      write("genotypes.txt",
            std::string("# three notations\n") + kNormal + ";" + kReduce + "\n" +
                R"({"normal": [["sep_conv_3x3", 0], ["dil_conv_3x3", 1], ["skip_connect", 0], ["max_pool_3x3", 2]],)"
                R"( "normal_concat": [2, 3], "reduce": [["skip_connect", 0], ["avg_pool_3x3", 1], ["conv_1x1", 2],)"
                R"( ["sep_conv_5x5", 1]], "reduce_concat": [2, 3]})"
                "\n\n" +
                with_range + "\n");
  const CliRun many = run_cli(std::string(kScore) + kSmall + " --space darts --arch-file " + quote(file));
  ASSERT_EQ(many.exit_code, 0) << many.output;
  const auto m = records(many.output);
  ASSERT_EQ(m.size(), 3u) << many.output;
  // Compact lists default to concat 2..steps+1: for 2-node cells that is [2, 3], the same genotype.
  for (const auto& rec : m) {
    EXPECT_EQ(rec["arch"], kGenotype);
    EXPECT_EQ(rec["score"], r[0]["score"]) << "same genotype, same weights: bit-identical scores";
    EXPECT_EQ(rec["n_units"], r[0]["n_units"]);
  }
  // Defaults: C=32, 8 cells.
  const CliRun big =
      run_cli("score --backend cpu --batch 4 --format jsonl --space darts --genotype " + quote(kGenotype));
  ASSERT_EQ(big.exit_code, 0) << big.output;
  EXPECT_EQ(records(big.output).at(0)["n_units"], plan_units(kGenotype, 32, 8, false, 32));
}

TEST_F(DartsCli, NdsJsonIndicesAuxNoteAndImageNet) {
  const std::string json =
      "{\"mid\": [" + nds_item(6, false) + "], \"top\": [" + nds_item(4, false) + ", " + nds_item(4, true) + "]}";
  const std::string file = write("DARTS.json", json);
  const CliRun r = run_cli(std::string(kScore) + " --space darts --nds-json " + quote(file) + " --index 2 1 0");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto recs = records(r.output);
  ASSERT_EQ(recs.size(), 3u) << r.output;
  EXPECT_EQ(recs[0]["index"], 2);
  EXPECT_EQ(recs[0]["arch"], std::string(kGenotype) + " width=6 depth=3");  // mid[0], after top
  EXPECT_EQ(recs[0]["n_units"], plan_units(kGenotype, 6, 3, false, 32));    // the item's own width
  EXPECT_EQ(recs[1]["arch"], std::string(kGenotype) + " width=4 depth=3 aux=true");
  EXPECT_EQ(recs[2]["arch"], std::string(kGenotype) + " width=4 depth=3");
  EXPECT_EQ(recs[1]["score"], recs[2]["score"]) << "aux=true is scored without the head";
  EXPECT_NE(r.output.find("naswot score: note: index 1: aux=true: scored without the auxiliary head"),
            std::string::npos)
      << r.output;
  EXPECT_EQ(r.output.find("note: index 0"), std::string::npos) << r.output;
  // A genotype string finds its index in the source.
  const CliRun s = run_cli(std::string(kScore) + " --space darts --nds-json " + quote(file) + " --genotype " +
                       quote(std::string(kNormal) + ";" + kReduce + " width=6 depth=3"));
  ASSERT_EQ(s.exit_code, 0) << s.output;
  EXPECT_EQ(records(s.output).at(0)["index"], 2);

  // nds: NetworkImageNet when the file name contains "_in" (the reference's rule). The synthetic
  // batch is then 224x224 unless --image-size says otherwise (32x32 below, to compare with CIFAR).
  const std::string in_file = write("DARTS_in.json", json);
  const CliRun in224 = run_cli(std::string(kScore) + " --space nds --nds-json " + quote(in_file) + " --index 0");
  ASSERT_EQ(in224.exit_code, 0) << in224.output;
  EXPECT_EQ(records(in224.output).at(0)["n_units"], plan_units(kGenotype, 4, 3, true, 224));
  const CliRun in =
      run_cli(std::string(kScore) + " --space nds --nds-json " + quote(in_file) + " --index 0 --image-size 32");
  ASSERT_EQ(in.exit_code, 0) << in.output;
  EXPECT_EQ(records(in.output).at(0)["n_units"], plan_units(kGenotype, 4, 3, true, 32));
  const CliRun cifar = run_cli(std::string(kScore) + " --space nds --nds-json " + quote(file) + " --index 0");
  ASSERT_EQ(cifar.exit_code, 0) << cifar.output;
  EXPECT_EQ(records(cifar.output).at(0)["n_units"], recs[2]["n_units"]);
  EXPECT_NE(records(cifar.output).at(0)["n_units"], records(in.output).at(0)["n_units"]);

  const CliRun list = run_cli("list --space darts --nds-json " + quote(file));
  ASSERT_EQ(list.exit_code, 0) << list.output;
  EXPECT_EQ(list.output, "index,arch\n0," + std::string(kGenotype) + " width=4 depth=3\n1," + kGenotype +
                             " width=4 depth=3 aux=true\n2," + kGenotype + " width=6 depth=3\n");
}

TEST_F(DartsCli, BadInputNamesTheCulprit) {
  std::string bad = kGenotype;
  bad.replace(bad.find("dil_conv_3x3"), 12, "dil_conv_4x4");
  expect_failure(std::string(kScore) + " --space darts --genotype " + quote(bad), "unknown op 'dil_conv_4x4'");
  expect_failure(std::string(kScore) + " --space darts --index 3", "darts index 3: this space has indices only over");
  expect_failure(std::string(kScore) + " --space nb201 --index 0 --width 8", "--width, --depth and --nds-json apply");
  expect_failure(std::string(kScore) + " --space nds --index 0", "--space nds needs an NDS JSON file");
  const std::string file =
      write("bad.txt", std::string(kGenotype) + "\nsep_conv_3x3~0,sep_conv_3x3~2;" + kReduce + "\n");
  expect_failure(std::string(kScore) + " --space darts --arch-file " + quote(file), "bad.txt:2: compact genotype");
  const std::string json = write("bad.json", "{\"top\": [" + nds_item(4, false) + "], \"mid\": [{\"net\": {}}]}");
  expect_failure(std::string(kScore) + " --space darts --nds-json " + quote(json) + " --index 0",
                 "bad.json: mid[0].net: no 'genotype'");
  expect_failure(
      std::string(kScore) + " --space darts --nds-json " + quote(json.substr(0, json.size() - 5) + "none.json"),
      "cannot open");
  // A network the reference itself cannot run (a 2x2 pool at stride 1 shrinks the map).
  expect_failure(std::string(kScore) + kSmall + " --space darts --genotype " +
                     quote("avg_pool_2x2~0,conv_1x1~1;skip_connect~0,skip_connect~1"),
                 "its score is NaN");
  expect_failure(std::string(kScore) + " --space darts_in --width 3 --genotype " + quote(kGenotype),
                 "even channel count");
}

}  // namespace
}  // namespace naswot::cli
