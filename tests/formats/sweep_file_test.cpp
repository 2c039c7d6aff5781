// Sweep files (tools/formats/sweep_file.h): header and record round trips (a -inf score, members),
// header_differences naming each field, batch and file fingerprints, a cut-short last line
// reported with the byte length to keep, and bad files (missing, a directory, empty, not a
// sweep, a wrong format version, a bad field, members in a non-unique file) rejected with the
// file, the line and what was expected; random corruption never crashes.
#include "tools/formats/sweep_file.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "formats/format_test_util.h"
#include "runtime/batch.h"

namespace naswot::formats {
namespace {

SweepHeader header(bool unique = false) {
  SweepHeader h;
  h.naswot_version = "0.1.0";
  h.space = "nb201";
  h.space_size = 15625;
  h.image_size = 16;
  h.data = "synthetic";
  h.data_fingerprint = "fnv1a64:0123456789abcdef";
  h.batch = 8;
  h.seed = 7;
  h.counting = "reference";
  h.norm = "imagenet16";
  h.unique = unique;
  h.unique_by = unique ? "function" : "";
  h.shard = "3/1000";
  h.part = "1/2";
  h.backend = "cpu";
  return h;
}

SweepRecord record(int64_t index, double score) {
  SweepRecord r;
  r.score = {index, "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|", score, "ok", 1234, 0.5};
  return r;
}

std::string file_text(const SweepHeader& h, const std::vector<std::string>& lines) {
  std::string s = header_to_json(h) + "\n";
  for (const std::string& l : lines) s += l + "\n";
  return s;
}

TEST(SweepFile, RoundTrip) {
  test::TempDir dir;
  const std::string path = dir.path("s.jsonl");
  SweepRecord a = record(46, -1234.5678901234567);
  SweepRecord b = record(47, -std::numeric_limits<double>::infinity());
  b.score.status = "singular";
  {
    const auto w = SweepWriter::create(path, header(true));
    a.members = {46, 100, 15624};
    b.members = {47};
    w->write(a);
    w->write(b);
    w->close();
  }
  SweepReader r(path);
  EXPECT_TRUE(header_differences(r.header(), "file", header(true), "expected", true).empty());
  EXPECT_EQ(r.header().seed, 7u);
  EXPECT_TRUE(r.header().unique);
  SweepRecord got;
  std::string text;
  ASSERT_TRUE(r.next(got, &text));
  EXPECT_EQ(got.score.index, 46);
  EXPECT_EQ(got.score.score, a.score.score) << "scores round-trip exactly";
  EXPECT_EQ(got.members, a.members);
  EXPECT_EQ(text, record_to_json(a));
  EXPECT_EQ(r.line(), 2);
  ASSERT_TRUE(r.next(got));
  EXPECT_TRUE(std::isinf(got.score.score) && got.score.score < 0);
  EXPECT_EQ(got.score.status, "singular");
  EXPECT_FALSE(r.next(got));
  EXPECT_FALSE(r.truncated_tail());
  EXPECT_EQ(r.complete_bytes(), test::read_bytes(path).size());
}

TEST(SweepFile, HeaderDifferencesNameEachField) {
  SweepHeader b = header();
  b.seed = 8;
  b.space_options = "width=16 depth=5";
  b.counting = "unit";
  b.shard = "4/1000";
  b.backend = "cuda";  // informational: not a difference
  b.data = "cifar10:/elsewhere";  // only the fingerprint counts
  const auto with = header_differences(header(), "a.jsonl", b, "this run", true);
  ASSERT_EQ(with.size(), 4u);
  EXPECT_EQ(with[0], "space_options: '' in a.jsonl, 'width=16 depth=5' in this run");
  EXPECT_EQ(with[1], "seed: 7 in a.jsonl, 8 in this run");
  EXPECT_EQ(with[2], "counting: reference in a.jsonl, unit in this run");
  EXPECT_EQ(with[3], "shard: 3/1000 in a.jsonl, 4/1000 in this run");
  EXPECT_EQ(header_differences(header(), "a", b, "b", false).size(), 3u) << "shard ignored";
  b = header();
  b.data_fingerprint = "fnv1a64:ffffffffffffffff";
  const auto fp = header_differences(header(), "a", b, "b", false);
  ASSERT_EQ(fp.size(), 1u);
  EXPECT_NE(fp[0].find("data_fingerprint"), std::string::npos) << fp[0];
}

TEST(SweepFile, FingerprintFollowsTheBatchValues) {
  rt::Batch x;
  x.shape = {2, 1, 1, 3};
  x.data = {1, 2, 3, 4, 5, 6};
  rt::Batch y = x;
  EXPECT_EQ(batch_fingerprint(x), batch_fingerprint(y));
  y.data[5] = std::nextafter(6.0f, 7.0f);
  EXPECT_NE(batch_fingerprint(x), batch_fingerprint(y));
  y = x;
  y.shape = {1, 2, 1, 3};
  EXPECT_NE(batch_fingerprint(x), batch_fingerprint(y)) << "same values, other shape";
  EXPECT_EQ(batch_fingerprint(x).rfind("fnv1a64:", 0), 0u);
}

TEST(SweepFile, FileFingerprintFollowsTheBytes) {
  test::TempDir dir;
  const std::string a = dir.path("a.txt"), b = dir.path("b.txt");
  test::write_bytes(a, test::to_bytes("genotype one\n"));
  test::write_bytes(b, test::to_bytes("genotype one\n"));
  EXPECT_EQ(file_fingerprint(a), file_fingerprint(b));
  test::write_bytes(b, test::to_bytes("genotype two\n"));
  EXPECT_NE(file_fingerprint(a), file_fingerprint(b));
  EXPECT_TRUE(test::throws_error([&] { file_fingerprint(dir.path("none.txt")); }, ErrorKind::Io, {"none.txt"}));
}

TEST(SweepFile, CutShortLastLineIsReportedNotParsed) {
  test::TempDir dir;
  const std::string path = dir.path("t.jsonl");
  const std::string full = file_text(header(), {record_to_json(record(46, -1.0))});
  const std::string partial = record_to_json(record(47, -2.0)).substr(0, 30);
  test::write_bytes(path, test::to_bytes(full + partial));
  SweepReader r(path);
  SweepRecord got;
  ASSERT_TRUE(r.next(got));
  EXPECT_FALSE(r.next(got));
  EXPECT_TRUE(r.truncated_tail());
  EXPECT_EQ(r.line(), 3);
  EXPECT_EQ(r.complete_bytes(), full.size());
}

TEST(SweepFile, HeaderPresence) {
  test::TempDir dir;
  const std::string path = dir.path("h.jsonl");
  test::write_bytes(path, {});
  EXPECT_FALSE(sweep_file_has_header(path));
  test::write_bytes(path, test::to_bytes(header_to_json(header()).substr(0, 20)));
  EXPECT_FALSE(sweep_file_has_header(path));
  test::write_bytes(path, test::to_bytes(header_to_json(header()) + "\n"));
  EXPECT_TRUE(sweep_file_has_header(path));
  EXPECT_TRUE(test::throws_error([&] { sweep_file_has_header(dir.path("missing.jsonl")); }, ErrorKind::Io,
                                 {"missing.jsonl"}));
}

TEST(SweepFile, BadFilesNameFileLineAndField) {
  test::TempDir dir;
  const std::string path = dir.path("bad.jsonl");
  auto read_all = [](const std::string& p) {
    SweepReader r(p);
    SweepRecord rec;
    while (r.next(rec)) {
    }
  };
  auto expect_bad = [&](const std::string& text, ErrorKind kind, const std::vector<std::string>& needles) {
    test::write_bytes(path, test::to_bytes(text));
    EXPECT_TRUE(test::throws_error([&] { read_all(path); }, kind, needles)) << text.substr(0, 200);
  };
  EXPECT_TRUE(test::throws_error([&] { read_all(dir.path("none.jsonl")); }, ErrorKind::Io,
                                 {"none.jsonl", "cannot open"}));
  EXPECT_TRUE(test::throws_error([&] { read_all(dir.dir()); }, ErrorKind::Io, {"is a directory"}));
  expect_bad("", ErrorKind::BadInput, {"bad.jsonl:1", "empty file"});
  expect_bad("{\"index\":1}\n", ErrorKind::BadInput, {"bad.jsonl:1", "not a naswot sweep file"});
  expect_bad("index,arch\n", ErrorKind::BadInput, {"bad.jsonl:1", "not a JSON line"});
  std::string v2 = header_to_json(header());
  v2.replace(v2.find("\"naswot_sweep\":1"), 16, "\"naswot_sweep\":2");
  expect_bad(v2 + "\n", ErrorKind::BadInput, {"bad.jsonl:1", "format 2", "rerun"});
  std::string noseed = header_to_json(header());
  noseed.replace(noseed.find("\"seed\":7"), 8, "\"seed\":\"7\"");
  expect_bad(noseed + "\n", ErrorKind::BadInput, {"bad.jsonl:1", "'seed'"});
  std::string rec = record_to_json(record(46, -1));
  expect_bad(file_text(header(), {rec, "{\"index\":47}"}), ErrorKind::BadInput,
             {"bad.jsonl:3", "missing field 'arch'"});
  expect_bad(file_text(header(), {rec, "", rec}), ErrorKind::BadInput, {"bad.jsonl:3", "empty line"});
  std::string negative = rec;
  negative.replace(negative.find("\"index\":46"), 10, "\"index\":-4");
  expect_bad(file_text(header(), {negative}), ErrorKind::BadInput, {"bad.jsonl:2", "'index'", ">= 0"});
  std::string badscore = rec;
  badscore.replace(badscore.find("\"score\":-1.0"), 12, "\"score\":\"lo\"");
  expect_bad(file_text(header(), {badscore}), ErrorKind::BadInput, {"bad.jsonl:2", "'score'"});
  SweepRecord with_members = record(46, -1);
  with_members.members = {46};
  expect_bad(file_text(header(false), {record_to_json(with_members)}), ErrorKind::BadInput,
             {"bad.jsonl:2", "unique: false"});
  expect_bad(file_text(header(true), {rec}), ErrorKind::BadInput, {"bad.jsonl:2", "'members'"});
}

TEST(SweepFile, CorruptionNeverCrashes) {
  test::TempDir dir;
  SweepRecord r = record(46, -1);
  const std::string text = file_text(header(), {record_to_json(r), record_to_json(record(47, -2))});
  const int rejected = test::corrupt_and_read(test::to_bytes(text), dir.path("c.jsonl"), 300, test::kSeed + 71,
                                              [](const std::string& p) {
                                                SweepReader reader(p);
                                                SweepRecord rec;
                                                while (reader.next(rec)) {
                                                }
                                              });
  EXPECT_GT(rejected, 100) << "most random corruptions of a JSON file must be caught";
}

}  // namespace
}  // namespace naswot::formats
