// `naswot sweep` and `naswot merge` as real processes (fork/exec of NASWOT_BINARY, output in a
// log file): a sweep killed with SIGKILL and resumed holds every index once with the scores of an
// uninterrupted run; SIGINT finishes the group, exits 130 and says how to resume; a cut-short last
// line is cut off; a resume with other settings, an existing output without --resume and bad
// shards are refused; the Slurm array shard; --unique records; merge joins shards and reports a
// gap, a duplicate, incompatible headers and unreadable files by name. Every run: CPU, --batch 8
// --image-size 16, shards of 4-52 architectures.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cells/nb201_unique.h"
#include "cli/cli_util.h"
#include "formats/format_test_util.h"

namespace naswot::cli {
namespace {

namespace fs = std::filesystem;

const std::vector<std::string> kFast = {"--backend", "cpu", "--batch", "8", "--image-size", "16"};

std::vector<std::string> sweep_args(const std::string& shard, const std::string& output,
                                    const std::vector<std::string>& extra = {}) {
  std::vector<std::string> a = {"sweep"};
  a.insert(a.end(), kFast.begin(), kFast.end());
  if (!shard.empty()) a.insert(a.end(), {"--shard", shard});
  a.insert(a.end(), {"--output", output});
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

// Number of complete lines in a file being written.
size_t complete_lines(const std::string& path) {
  const std::string t = read_text(path);
  return static_cast<size_t>(std::count(t.begin(), t.end(), '\n'));
}

// index -> (score text, status, n_units) of every record; fails on a duplicated index.
std::map<int64_t, std::string> records_of(const std::string& path) {
  std::map<int64_t, std::string> out;
  const std::vector<std::string> lines = read_lines(path);
  EXPECT_FALSE(lines.empty()) << path;
  for (size_t i = 1; i < lines.size(); ++i) {
    const nlohmann::json j = nlohmann::json::parse(lines[i]);
    const int64_t index = j.at("index").get<int64_t>();
    const std::string value = j.at("score").dump() + " " + j.at("status").get<std::string>() + " " +
                              std::to_string(j.at("n_units").get<int64_t>()) +
                              (j.contains("members") ? " " + j.at("members").dump() : "");
    EXPECT_TRUE(out.emplace(index, value).second) << path << ":" << i + 1 << ": index " << index << " twice";
  }
  return out;
}

// The indices of shard i/n of the 15,625 (same formula as search/shard.h, written out).
std::set<int64_t> shard_indices(int64_t i, int64_t n) {
  std::set<int64_t> s;
  for (int64_t p = 15625 * i / n; p < 15625 * (i + 1) / n; ++p) s.insert(p);
  return s;
}

std::set<int64_t> keys(const std::map<int64_t, std::string>& m) {
  std::set<int64_t> s;
  for (const auto& [k, v] : m) s.insert(k);
  return s;
}

class SweepCli : public ::testing::Test {
 protected:
  std::string path(const std::string& name) const { return m_dir.path(name); }
  // An uninterrupted sweep of `shard`, made once per test that asks.
  std::string reference(const std::string& shard, const std::vector<std::string>& extra = {}) {
    const std::string out = path("reference.jsonl");
    const CliExit e = run_cli_logged(sweep_args(shard, out, extra), path("reference.log"));
    EXPECT_EQ(e.code, 0) << e.output;
    EXPECT_FALSE(e.signalled);
    return out;
  }
  void expect_failure(const std::vector<std::string>& args, const std::vector<std::string>& needles,
                      const std::vector<std::string>& env = {}) {
    const CliExit e = run_cli_logged(args, path("fail.log"), env);
    EXPECT_FALSE(e.signalled) << "crashed with signal " << e.code << "\n" << e.output;
    EXPECT_NE(e.code, 0) << e.output;
    for (const std::string& n : needles)
      EXPECT_NE(e.output.find(n), std::string::npos) << "output does not name '" << n << "':\n" << e.output;
  }
  test::TempDir m_dir;
};

// Waits until `file` has at least `lines` complete lines or the process ends; true if it still
// runs with them written.
bool wait_for_lines(const CliProcess& p, const std::string& file, size_t lines) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (std::chrono::steady_clock::now() < deadline) {
    if (complete_lines(file) >= lines) return true;
    int status = 0;
    if (waitpid(p.pid, &status, WNOHANG) == p.pid) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return false;
}

constexpr const char* kKillShard = "3/300";  // 52 architectures: long enough to be killed mid-run
constexpr size_t kKillShardSize = 52;

TEST_F(SweepCli, KilledAndResumedEqualsUninterrupted) {
  const auto expected = records_of(reference(kKillShard));
  ASSERT_EQ(expected.size(), kKillShardSize);
  EXPECT_EQ(keys(expected), shard_indices(3, 300));

  const std::string out = path("killed.jsonl");
  const CliProcess p = spawn_cli(sweep_args(kKillShard, out), path("killed.log"));
  ASSERT_TRUE(wait_for_lines(p, out, 1 + 5)) << "the sweep ended before 5 records:\n" << read_text(p.log);
  ASSERT_EQ(kill(p.pid, SIGKILL), 0);
  const CliExit killed = wait_cli(p);
  ASSERT_TRUE(killed.signalled && killed.code == SIGKILL) << killed.output;
  const size_t written = complete_lines(out) - 1;
  ASSERT_LT(written, kKillShardSize) << "the kill came after the sweep finished";

  const CliExit resumed = run_cli_logged(sweep_args(kKillShard, out, {"--resume"}), path("resume.log"));
  ASSERT_EQ(resumed.code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find(std::to_string(written) + " already in the file"), std::string::npos)
      << resumed.output;
  EXPECT_EQ(records_of(out), expected) << "every index once, with the uninterrupted run's scores";
  EXPECT_EQ(read_lines(out).size(), kKillShardSize + 1);
}

TEST_F(SweepCli, SigintFinishesTheGroupAndSaysHowToResume) {
  const std::string out = path("int.jsonl");
  const CliProcess p = spawn_cli(sweep_args(kKillShard, out), path("int.log"));
  ASSERT_TRUE(wait_for_lines(p, out, 1 + 3)) << read_text(p.log);
  ASSERT_EQ(kill(p.pid, SIGINT), 0);
  const CliExit e = wait_cli(p);
  ASSERT_FALSE(e.signalled) << "SIGINT must be handled, not kill: " << e.output;
  EXPECT_EQ(e.code, 130) << e.output;
  EXPECT_NE(e.output.find("--resume"), std::string::npos) << e.output;
  EXPECT_NE(e.output.find("interrupted"), std::string::npos) << e.output;
  const std::string text = read_text(out);
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n') << "a clean stop leaves no partial line";
  const size_t written = complete_lines(out) - 1;
  EXPECT_LT(written, kKillShardSize);

  const CliExit resumed = run_cli_logged(sweep_args(kKillShard, out, {"--resume"}), path("resume.log"));
  ASSERT_EQ(resumed.code, 0) << resumed.output;
  EXPECT_EQ(keys(records_of(out)), shard_indices(3, 300));
}

// Groups of several (the GPU's way, here on the CPU backend's score_many) build the next group
// on a second thread while one is scored: same records as one at a time, and an interrupted
// grouped run resumes to the full set.
TEST_F(SweepCli, GroupedSweepEqualsOneAtATimeAndResumes) {
  const auto expected = records_of(reference(kKillShard));
  const std::string grouped = path("grouped.jsonl");
  const CliExit g = run_cli_logged(sweep_args(kKillShard, grouped, {"--group", "5"}), path("grouped.log"));
  ASSERT_EQ(g.code, 0) << g.output;
  EXPECT_EQ(records_of(grouped), expected);

  const std::string out = path("grouped_int.jsonl");
  const CliProcess p = spawn_cli(sweep_args(kKillShard, out, {"--group", "5"}), path("grouped_int.log"));
  ASSERT_TRUE(wait_for_lines(p, out, 1 + 5)) << read_text(p.log);
  ASSERT_EQ(kill(p.pid, SIGINT), 0);
  const CliExit e = wait_cli(p);
  ASSERT_FALSE(e.signalled) << e.output;
  const CliExit resumed = run_cli_logged(sweep_args(kKillShard, out, {"--group", "5", "--resume"}), path("gr.log"));
  ASSERT_EQ(resumed.code, 0) << resumed.output;
  EXPECT_EQ(records_of(out), expected) << "every index once, with the one-at-a-time scores";
}

TEST_F(SweepCli, CutShortLastLineIsCutAndRescored) {
  const std::string ref = reference("3/1000");
  const std::vector<std::string> lines = read_lines(ref);
  ASSERT_EQ(lines.size(), 17u);
  // A copy killed mid-write: header, 5 records, and half of the 6th.
  const std::string out = path("cut.jsonl");
  {
    std::ofstream f(out, std::ios::binary);
    for (size_t i = 0; i < 6; ++i) f << lines[i] << '\n';
    f << lines[6].substr(0, lines[6].size() / 2);
  }
  const CliExit e = run_cli_logged(sweep_args("3/1000", out, {"--resume"}), path("cut.log"));
  ASSERT_EQ(e.code, 0) << e.output;
  EXPECT_NE(e.output.find("cut short"), std::string::npos) << e.output;
  EXPECT_EQ(records_of(out), records_of(ref));
  EXPECT_EQ(read_lines(out).size(), 17u);
}

TEST_F(SweepCli, ResumeWithOtherSettingsIsRefused) {
  const std::string ref = reference("3/1000");
  const std::string before = read_text(ref);
  for (const auto& [extra, field] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"--seed", "2"}, "seed: 1 in"},
           {{"--counting", "unit"}, "counting: reference in"},
           {{"--unique"}, "unique: false in"}}) {
    std::vector<std::string> args = sweep_args("3/1000", ref, {"--resume"});
    args.insert(args.end(), extra.begin(), extra.end());
    expect_failure(args, {"reference.jsonl:1", "different settings", field});
  }
  expect_failure(sweep_args("4/1000", ref, {"--resume"}), {"shard: 3/1000 in"});
  std::vector<std::string> batch16 = sweep_args("3/1000", ref, {"--resume"});
  batch16[4] = "16";  // --batch 16
  expect_failure(batch16, {"batch: 8 in", "data_fingerprint"});
  EXPECT_EQ(read_text(ref), before) << "a refused resume leaves the file alone";
}

TEST_F(SweepCli, ExistingOutputNeedsResumeAndBadShardsAreRefused) {
  const std::string ref = reference("3/1000");
  expect_failure(sweep_args("3/1000", ref), {"exists", "--resume"});
  for (const char* shard : {"0/0", "3/2", "a/b", "1/", "-1/4"})
    expect_failure(sweep_args(shard, path("x.jsonl")), {"--shard", shard});
  EXPECT_FALSE(fs::exists(path("x.jsonl")));
  expect_failure(sweep_args("3/1000", path("no/such/dir/x.jsonl")), {"no/such/dir/x.jsonl"});
  expect_failure({"sweep", "--shard", "1/2"}, {"--output"});
}

TEST_F(SweepCli, ResumeOfAFinishedFileScoresNothing) {
  const std::string ref = reference("3/1000");
  const std::string before = read_text(ref);
  const CliExit e = run_cli_logged(sweep_args("3/1000", ref, {"--resume"}), path("again.log"));
  ASSERT_EQ(e.code, 0) << e.output;
  EXPECT_NE(e.output.find("nothing left to score"), std::string::npos) << e.output;
  EXPECT_EQ(read_text(ref), before);
}

TEST_F(SweepCli, SlurmArrayTaskPicksTheShardAndProgressEndsWithPeakRss) {
  const std::string out = path("slurm.jsonl");
  const CliExit e =
      run_cli_logged(sweep_args("", out), path("slurm.log"),
                     {"SLURM_ARRAY_TASK_ID=13", "SLURM_ARRAY_TASK_MIN=10", "SLURM_ARRAY_TASK_COUNT=1000"});
  ASSERT_EQ(e.code, 0) << e.output;
  EXPECT_NE(read_lines(out)[0].find("\"shard\":\"3/1000\""), std::string::npos) << read_lines(out)[0];
  EXPECT_EQ(keys(records_of(out)), shard_indices(3, 1000));
  EXPECT_NE(e.output.find("archs/s"), std::string::npos) << e.output;
  EXPECT_NE(e.output.find("peak RSS"), std::string::npos) << e.output;
  EXPECT_EQ(e.output.find('\r'), std::string::npos) << "not a terminal: plain lines, no redrawn bar";
}

TEST_F(SweepCli, UniqueRecordsListTheirClass) {
  const std::string out = path("unique.jsonl");
  const CliExit e = run_cli_logged(sweep_args("0/1000", out, {"--unique"}), path("unique.log"));
  ASSERT_EQ(e.code, 0) << e.output;
  const std::vector<std::string> lines = read_lines(out);
  ASSERT_EQ(lines.size(), 1u + 6u) << "classes 0..5 of 6,466 (shard 0/1000)";
  EXPECT_NE(lines[0].find("\"unique_by\":\"benchmark\""), std::string::npos) << lines[0];
  const cells::Nb201Classes& classes = cells::nb201_unique_classes(cells::Nb201Equivalence::Benchmark);
  for (size_t i = 1; i < lines.size(); ++i) {
    const nlohmann::json j = nlohmann::json::parse(lines[i]);
    const auto& m = classes.members[i - 1];
    EXPECT_EQ(j.at("index").get<int64_t>(), m.front()) << lines[i];
    EXPECT_EQ(j.at("members").get<std::vector<int32_t>>(), m) << lines[i];
  }
  const CliExit merged = run_cli_logged({"merge", path("u.merged.jsonl"), out}, path("merge.log"));
  EXPECT_EQ(merged.code, 0) << merged.output;
}

// --unique-by function: the stricter classes, named in the header, so a resume or merge with the
// other equivalence is refused; a bad name is refused before anything runs.
TEST_F(SweepCli, UniqueByFunctionUsesTheFunctionClasses) {
  const std::string out = path("fn.jsonl");
  const CliExit e = run_cli_logged(sweep_args("0/1000", out, {"--unique-by", "function"}), path("fn.log"));
  ASSERT_EQ(e.code, 0) << e.output;
  const std::vector<std::string> lines = read_lines(out);
  EXPECT_NE(lines[0].find("\"unique_by\":\"function\""), std::string::npos) << lines[0];
  const cells::Nb201Classes& classes = cells::nb201_unique_classes(cells::Nb201Equivalence::Function);
  ASSERT_GE(lines.size(), 2u);
  for (size_t i = 1; i < lines.size(); ++i)
    EXPECT_EQ(nlohmann::json::parse(lines[i]).at("members").get<std::vector<int32_t>>(), classes.members[i - 1]);
  expect_failure(sweep_args("0/1000", out, {"--resume", "--unique"}), {"unique_by: 'function' in"});
  expect_failure(sweep_args("0/1000", path("x.jsonl"), {"--unique-by", "iso"}), {"--unique-by"});
}

// Splits a sweep file into two with its header (as the MPI ranks of one shard write their parts):
// records 1..cut into the first, the rest into the second.
std::vector<std::string> split_file(const std::string& file, const std::vector<std::string>& names, size_t cut) {
  const std::vector<std::string> lines = read_lines(file);
  std::ofstream a(names[0]), b(names[1]);
  a << lines[0] << '\n';
  b << lines[0] << '\n';
  for (size_t i = 1; i < lines.size(); ++i) (i <= cut ? a : b) << lines[i] << '\n';
  return names;
}

TEST_F(SweepCli, MergeJoinsPartsOfAShardInIndexOrder) {
  const std::string ref = reference("3/1000");
  const auto parts = split_file(ref, {path("a.jsonl"), path("b.jsonl")}, 7);
  const std::string out = path("merged.jsonl");
  const CliExit e = run_cli_logged({"merge", out, parts[1], parts[0]}, path("merge.log"));  // given out of order
  ASSERT_EQ(e.code, 0) << e.output;
  EXPECT_NE(e.output.find("16 records"), std::string::npos) << e.output;
  const std::vector<std::string> want = read_lines(ref), got = read_lines(out);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 1; i < want.size(); ++i) EXPECT_EQ(got[i], want[i]) << "line " << i + 1 << ": copied in index order";
  EXPECT_NE(got[0].find("\"shard\":\"3/1000\""), std::string::npos) << got[0];
  EXPECT_FALSE(fs::exists(out + ".tmp"));
}

TEST_F(SweepCli, MergeReportsGapsAndDuplicates) {
  const std::string ref = reference("3/1000");
  const std::vector<std::string> lines = read_lines(ref);
  // Gap: line 6 (index 50) dropped from the first half.
  {
    std::ofstream a(path("a.jsonl")), b(path("b.jsonl"));
    for (size_t i = 0; i < 9; ++i)
      if (i != 5) a << lines[i] << '\n';
    b << lines[0] << '\n';
    for (size_t i = 9; i < lines.size(); ++i) b << lines[i] << '\n';
  }
  expect_failure({"merge", path("m.jsonl"), path("a.jsonl"), path("b.jsonl")},
                 {"shard 3/1000", "1 indices missing: 50"});
  EXPECT_FALSE(fs::exists(path("m.jsonl"))) << "a failed merge writes nothing";
  // Duplicate: index 54 (line 10) also at the end of the first half (its line 10).
  {
    std::ofstream a(path("a.jsonl"));
    for (size_t i = 0; i < 9; ++i) a << lines[i] << '\n';
    a << lines[9] << '\n';
  }
  expect_failure({"merge", path("m.jsonl"), path("a.jsonl"), path("b.jsonl")},
                 {"1 records duplicated", "54 (", "a.jsonl:10 and ", "b.jsonl:2)"});
  // Different shards: the whole space is expected; the gaps are listed as ranges.
  const std::string other = path("other.jsonl");
  ASSERT_EQ(run_cli_logged(sweep_args("4/1000", other), path("other.log")).code, 0);
  expect_failure({"merge", path("m.jsonl"), ref, other}, {"shard 0/1", "15593 indices missing: 0..45, 78..15624"});
  expect_failure({"merge", path("m.jsonl"), ref, ref}, {"given twice"});
  expect_failure({"merge", ref, ref}, {"also an input"});
}

TEST_F(SweepCli, MergeOfUniqueFilesChecksEveryMember) {
  const std::string ref = reference("0/1000", {"--unique"});
  const std::vector<std::string> lines = read_lines(ref);
  ASSERT_EQ(lines.size(), 7u);
  {
    std::ofstream a(path("a.jsonl"));
    for (size_t i = 0; i < lines.size(); ++i)
      if (i != 2) a << lines[i] << '\n';  // class 1 dropped
  }
  const auto& members = cells::nb201_unique_classes(cells::Nb201Equivalence::Benchmark).members[1];
  std::string listed;
  for (size_t i = 0; i < members.size(); ++i) listed += (i ? ", " : "") + std::to_string(members[i]);
  expect_failure({"merge", path("m.jsonl"), path("a.jsonl")},
                 {"(unique classes)", std::to_string(members.size()) + " indices missing: " + listed});
  // A record whose members are not its class.
  {
    std::ofstream a(path("a.jsonl"));
    std::string bad = lines[1];
    bad.replace(bad.find("\"members\":[0,"), 13, "\"members\":[0,1,");
    a << lines[0] << '\n' << bad << '\n';
  }
  expect_failure({"merge", path("m.jsonl"), path("a.jsonl")}, {"a.jsonl:2", "members of index 0"});
}

TEST_F(SweepCli, MergeRefusesIncompatibleUnreadableAndCutShortFiles) {
  const std::string ref = reference("3/1000");
  const std::vector<std::string> lines = read_lines(ref);
  {
    std::ofstream b(path("seed2.jsonl"));
    std::string h = lines[0];
    h.replace(h.find("\"seed\":1,"), 9, "\"seed\":2,");
    b << h << '\n' << lines[1] << '\n';
  }
  expect_failure({"merge", path("m.jsonl"), ref, path("seed2.jsonl")},
                 {"seed2.jsonl:1", "header incompatible", "seed: 1 in", "2 in"});
  expect_failure({"merge", path("m.jsonl"), ref, path("missing.jsonl")}, {"missing.jsonl", "cannot open"});
  expect_failure({"merge", path("m.jsonl"), m_dir.dir()}, {"is a directory"});
  {
    std::ofstream c(path("scores.csv"));
    c << "index,arch,score\n0,x,1\n";
  }
  expect_failure({"merge", path("m.jsonl"), path("scores.csv")}, {"scores.csv:1", "not a JSON line"});
  {
    std::ofstream t(path("cut.jsonl"));
    t << lines[0] << '\n' << lines[1] << '\n' << lines[2].substr(0, 40);
  }
  expect_failure({"merge", path("m.jsonl"), path("cut.jsonl")}, {"cut.jsonl:3", "cut short", "--resume"});
  expect_failure({"merge", path("m.jsonl")}, {"inputs"});
}

}  // namespace
}  // namespace naswot::cli
