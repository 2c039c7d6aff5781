// The naswot command line, run as a real process (NASWOT_BINARY, through popen with stderr merged
// into stdout): help texts, `list`, the csv and jsonl shapes of `score`, one clear message and a
// non-zero exit (never a crash) for each kind of bad input, and the weights export/import round
// trip (bit-identical score). Every score run uses --batch 8 on the CPU and one or two archs.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "cells/nb201.h"
#include "cli/cli_util.h"
#include "runtime/backend.h"
#include "search/scorer.h"
#include "tools/formats/safetensors.h"

namespace naswot::cli {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream in(line);
  for (std::string field; std::getline(in, field, ',');) out.push_back(field);
  return out;
}

const char* const kScore = "score --batch 8 --backend cpu";
const char* const kIndex0 =
    "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|";
const char* const kAllNone = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|";

class Cli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { s_dir = make_suite_dir("naswot_cli_test_"); }
  static void TearDownTestSuite() { remove_dir(s_dir); }
  static std::string path(const std::string& name) { return (s_dir / name).string(); }
  // Weights of index 0 as --export-weights writes them (made once per suite run).
  static std::string exported_weights() {
    const std::string w = path("index0.safetensors");
    if (!fs::exists(w)) {
      const CliRun r = run_cli(std::string(kScore) + " --index 0 --format csv --export-weights " + quote(w));
      EXPECT_EQ(r.exit_code, 0) << r.output;
    }
    return w;
  }
  static fs::path s_dir;
};
fs::path Cli::s_dir;

TEST_F(Cli, HelpForTopLevelAndEachSubcommand) {
  const CliRun top = run_cli("--help");
  EXPECT_EQ(top.exit_code, 0) << top.output;
  for (const char* word : {"Usage", "score", "list", "--help"})
    EXPECT_NE(top.output.find(word), std::string::npos) << word;
  const CliRun score = run_cli("score --help");
  EXPECT_EQ(score.exit_code, 0) << score.output;
  for (const char* opt : {"--space", "--arch", "--index", "--arch-file", "--data", "--batch", "--seed", "--counting",
                          "--weights", "--export-weights", "--backend", "--format", "--output", "--image-size"})
    EXPECT_NE(score.output.find(opt), std::string::npos) << "score --help does not mention " << opt;
  const CliRun list = run_cli("list --help");
  EXPECT_EQ(list.exit_code, 0) << list.output;
  EXPECT_NE(list.output.find("--space"), std::string::npos) << list.output;
  const CliRun none = run_cli("");
  EXPECT_NE(none.exit_code, 0) << "no subcommand must fail";
  EXPECT_FALSE(none.crashed);
}

TEST_F(Cli, ListNb201PrintsEveryArchitectureInIndexOrder) {
  const CliRun r = run_cli("list --space nb201");
  ASSERT_EQ(r.exit_code, 0) << r.output.substr(0, 500);
  const std::vector<std::string> lines = lines_of(r.output);
  ASSERT_EQ(lines.size(), 15626u);
  EXPECT_EQ(lines[0], "index,arch");
  EXPECT_EQ(lines[1], std::string("0,") + kIndex0);
  std::set<std::string> archs;
  for (size_t i = 1; i < lines.size(); ++i) {
    const std::string prefix = std::to_string(i - 1) + ",";
    ASSERT_EQ(lines[i].rfind(prefix, 0), 0u) << "line " << i << ": " << lines[i];
    archs.insert(lines[i].substr(prefix.size()));
  }
  EXPECT_EQ(archs.size(), 15625u) << "duplicate architectures";
  EXPECT_EQ(lines.back(), "15624," + cells::to_string(cells::nb201_from_index(15624)));
}

TEST_F(Cli, ScoreCsvAndJsonlShapes) {
  // Two --arch values keep their order (the CLI collects every --arch before every --index).
  const std::string archs = std::string(" --arch ") + quote(kIndex0) + " --arch " + quote(kAllNone);
  const CliRun csv = run_cli(std::string(kScore) + archs + " --format csv");
  ASSERT_EQ(csv.exit_code, 0) << csv.output;
  const std::vector<std::string> lines = lines_of(csv.output);
  ASSERT_EQ(lines.size(), 3u) << csv.output;
  EXPECT_EQ(lines[0], "index,arch,score,status,n_units,seconds");
  const std::vector<std::string> first = split_csv(lines[1]), second = split_csv(lines[2]);
  ASSERT_EQ(first.size(), 6u) << lines[1];
  ASSERT_EQ(second.size(), 6u) << lines[2];
  EXPECT_EQ(first[0], "0");
  EXPECT_EQ(first[1], kIndex0);
  EXPECT_TRUE(std::isfinite(std::stod(first[2]))) << first[2];
  EXPECT_EQ(first[3], "ok");
  EXPECT_EQ(first[4], "651264");  // 286,720 c + 77,824 with c = 2
  EXPECT_GE(std::stod(first[5]), 0.0);
  EXPECT_EQ(second[0], std::to_string(cells::nb201_index(cells::parse_nb201(kAllNone))));
  EXPECT_EQ(second[2], "-inf");
  EXPECT_EQ(second[3], "singular");
  EXPECT_EQ(second[4], "77824");

  const CliRun jsonl = run_cli(std::string(kScore) + archs + " --format jsonl");
  ASSERT_EQ(jsonl.exit_code, 0) << jsonl.output;
  const std::vector<std::string> records = lines_of(jsonl.output);
  ASSERT_EQ(records.size(), 2u) << jsonl.output;
  nlohmann::json a, b;
  ASSERT_NO_THROW(a = nlohmann::json::parse(records[0])) << records[0];
  ASSERT_NO_THROW(b = nlohmann::json::parse(records[1])) << records[1];
  for (const char* key : {"index", "arch", "score", "status", "n_units", "seconds"}) {
    EXPECT_TRUE(a.contains(key)) << key << " missing from " << records[0];
    EXPECT_TRUE(b.contains(key)) << key << " missing from " << records[1];
  }
  EXPECT_EQ(a["index"], 0);
  EXPECT_EQ(a["arch"], kIndex0);
  ASSERT_TRUE(a["score"].is_number()) << records[0];
  EXPECT_EQ(a["score"].get<double>(), std::stod(first[2])) << "csv and jsonl disagree";
  EXPECT_EQ(a["status"], "ok");
  EXPECT_EQ(a["n_units"], 651264);
  EXPECT_TRUE(a["seconds"].is_number());
  EXPECT_EQ(b["score"], "-inf");  // JSON has no infinities
  EXPECT_EQ(b["status"], "singular");
}

TEST_F(Cli, BadArchitectureInputsNameTheCulprit) {
  expect_failure(
      std::string(kScore) + " --arch " + quote("|nor_conv_3x3~0|+|bogus_op~0|none~1|+|none~0|none~1|none~2|"),
      {"bogus_op"});
  expect_failure(std::string(kScore) + " --index 15625", {"15625"});
  expect_failure(kScore, {"--arch"});
  const std::string missing = path("no_such_arch_file.txt");
  expect_failure(std::string(kScore) + " --arch-file " + quote(missing), {missing});
  const std::string bad = path("bad_archs.txt");
  std::ofstream(bad) << "0\n# a comment\n\n|nor_conv_3x3~0|+|typo~0|\n";
  expect_failure(std::string(kScore) + " --arch-file " + quote(bad), {bad + ":4"});
}

TEST_F(Cli, BadDataAndOptionValuesNameTheCulprit) {
  expect_failure(std::string(kScore) + " --index 0 --data bogus:x", {"bogus:x"});
  expect_failure(std::string(kScore) + " --index 0 --data npy:/nonexistent/batch.npy", {"/nonexistent/batch.npy"});
  expect_failure(std::string(kScore) + " --index 0 --counting other", {"other"});
  expect_failure(std::string(kScore) + " --index 0 --image-size 24", {"24"});
  expect_failure(std::string(kScore) + " --index 0 --precision bf16", {"bf16"});
  // The reduced-precision mode is a CUDA opt-in: the CPU refuses it instead of computing fp32.
  expect_failure(std::string(kScore) + " --index 0 --precision tf32", {"--backend cuda"});
  // Stacked execution too; malformed group/worker counts are named.
  expect_failure(std::string(kScore) + " --index 0 --stack 32", {"--backend cuda"});
  for (const char* bad : {"32,0", "-1", "32,", "x", "32,3,1"})
    expect_failure(std::string(kScore) + " --index 0 --stack " + bad, {std::string("--stack '") + bad + "'"});
}

TEST_F(Cli, CudaBackendWithoutCudaFailsCleanly) {
  std::string why;
  if (rt::cuda_available(&why)) GTEST_SKIP() << "a CUDA device is available here";
  const CliRun r = run_cli("score --batch 8 --backend cuda --index 0");
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_FALSE(r.crashed) << r.output;
  EXPECT_NE(r.output.find("cuda"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(why), std::string::npos) << "expected the reason '" << why << "' in:\n" << r.output;
}

TEST_F(Cli, ExportedWeightsRoundTripToTheSameScore) {
  const std::string w = exported_weights();
  const formats::SafetensorsFile file = formats::read_safetensors_file(w);
  EXPECT_EQ(file.metadata.at("arch"), kIndex0);
  const rt::Graph g = cells::build_nb201(cells::nb201_from_index(0));
  EXPECT_EQ(file.params.size(), g.params.size());
  const CliRun drawn = run_cli(std::string(kScore) + " --index 0 --format csv");
  const CliRun imported = run_cli(std::string(kScore) + " --index 0 --format csv --weights " + quote(w));
  ASSERT_EQ(drawn.exit_code, 0) << drawn.output;
  ASSERT_EQ(imported.exit_code, 0) << imported.output;
  const std::vector<std::string> a = lines_of(drawn.output), b = lines_of(imported.output);
  ASSERT_EQ(a.size(), 2u);
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(split_csv(a[1]).at(2), split_csv(b[1]).at(2)) << "the %.17g score must be bit-identical";
}

// --export-k: one int64 [archs, N, N] .npy, in input order; each K symmetric with N_A on the
// diagonal, and its log-det is exactly the score the same run printed.
TEST_F(Cli, ExportedKMatricesGiveThePrintedScores) {
  const std::string k_path = path("k.npy");
  const CliRun r = run_cli(std::string(kScore) + " --index 0 --arch " + quote(kAllNone) +
                           " --image-size 16 --format jsonl --export-k " + quote(k_path));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::ifstream in(k_path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(bytes.size(), 10u);
  ASSERT_EQ(bytes.substr(0, 6), "\x93NUMPY");
  const size_t header_len = static_cast<unsigned char>(bytes[8]) | static_cast<size_t>(static_cast<unsigned char>(bytes[9])) << 8;
  const std::string header = bytes.substr(10, header_len);
  EXPECT_NE(header.find("'descr': '<i8'"), std::string::npos) << header;
  EXPECT_NE(header.find("'shape': (2, 8, 8)"), std::string::npos) << header;
  ASSERT_EQ(bytes.size(), 10 + header_len + 2 * 64 * sizeof(int64_t));
  const std::vector<std::string> records = lines_of(r.output);
  ASSERT_EQ(records.size(), 2u);
  for (size_t a = 0; a < 2; ++a) {
    rt::KMatrix k;
    k.reset(8);
    std::memcpy(k.values.data(), bytes.data() + 10 + header_len + a * 64 * sizeof(int64_t), 64 * sizeof(int64_t));
    const nlohmann::json rec = nlohmann::json::parse(records[a]);
    for (int i = 0; i < 8; ++i) {
      EXPECT_EQ(k.at(i, i), rec.at("n_units").get<int64_t>()) << "architecture " << a;
      for (int j = 0; j < 8; ++j) EXPECT_EQ(k.at(i, j), k.at(j, i));
    }
    const search::Score s = search::score_from_k(k);
    if (rec.at("score").is_string()) {
      EXPECT_EQ(rec.at("score").get<std::string>(), "-inf");
      EXPECT_EQ(s.status, "singular");
    } else {
      EXPECT_EQ(s.value, rec.at("score").get<double>()) << "architecture " << a << ": the printed score is log|det K|";
    }
  }
  const CliRun bad = run_cli(std::string(kScore) + " --index 0 --export-k " + quote(path("no/such/dir/k.npy")));
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.output.find("cannot open for writing"), std::string::npos) << bad.output;
}

TEST_F(Cli, WeightsWithAMissingOrMisshapedTensorAreRejected) {
  const formats::SafetensorsFile file = formats::read_safetensors_file(exported_weights());
  const std::string dropped_name = "cells.2.layers.1.op.1.weight";  // edge 0->2 of cell 2: nor_conv_1x1
  ASSERT_TRUE(file.params.has(dropped_name));
  rt::Params dropped, reshaped;
  std::vector<std::string> order;
  for (const std::string& name : file.order) {
    const rt::ParamTensor& t = file.params.at(name);
    if (name != dropped_name) {
      dropped.set(name, t);
      order.push_back(name);
    }
    rt::ParamTensor r = t;
    if (name == "classifier.weight") {
      r.shape.back() -= 1;
      r.data.resize(r.data.size() - static_cast<size_t>(r.shape.front()));
    }
    reshaped.set(name, r);
  }
  const std::string missing_file = path("missing_tensor.safetensors");
  formats::write_safetensors(missing_file, dropped, order);
  expect_failure(std::string(kScore) + " --index 0 --weights " + quote(missing_file), {dropped_name});
  const std::string reshaped_file = path("reshaped_tensor.safetensors");
  formats::write_safetensors(reshaped_file, reshaped, file.order);
  expect_failure(std::string(kScore) + " --index 0 --weights " + quote(reshaped_file), {"classifier.weight"});
  expect_failure(std::string(kScore) + " --index 0 --weights " + quote(path("no_such.safetensors")),
                 {"no_such.safetensors"});
}

}  // namespace
}  // namespace naswot::cli
