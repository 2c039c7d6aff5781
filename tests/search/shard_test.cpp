// search::Shard: parsing of good and bad "i/n" specs (each bad one a BadInput naming the flag and
// the text), the slices of a range partitioning it with balanced sizes (also nested, as MPI ranks
// split a shard), and the Slurm job-array shard from the environment.
#include "search/shard.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <string>
#include <vector>

#include "formats/format_test_util.h"

namespace naswot::search {
namespace {

TEST(Shard, ParsesGoodSpecs) {
  EXPECT_EQ(parse_shard("0/1"), (Shard{0, 1}));
  EXPECT_EQ(parse_shard("3/1000"), (Shard{3, 1000}));
  EXPECT_EQ(parse_shard("999/1000"), (Shard{999, 1000}));
  EXPECT_EQ(parse_shard("007/010"), (Shard{7, 10}));
  EXPECT_EQ(to_string(Shard{3, 1000}), "3/1000");
}

TEST(Shard, RejectsBadSpecsNamingThem) {
  for (const char* spec : {"0/0", "3/2", "2/2", "a/b", "1/", "/4", "-1/4", "1/-4", "", "3", "1/2/3", " 1/2", "1 /2",
                           "1/2 ", "+1/2", "1.0/2", "0x1/2", "1/9999999999999"}) {
    EXPECT_TRUE(test::throws_error([&] { parse_shard(spec, "--shard"); }, ErrorKind::BadInput,
                                   {"--shard", std::string("'") + spec + "'"}))
        << "spec '" << spec << "'";
  }
  EXPECT_TRUE(test::throws_error([] { parse_shard("0/0"); }, ErrorKind::BadInput, {"at least 1"}));
  EXPECT_TRUE(test::throws_error([] { parse_shard("3/2"); }, ErrorKind::BadInput, {"below the count", "0..1"}));
  EXPECT_TRUE(test::throws_error([] { parse_shard("a/b"); }, ErrorKind::BadInput, {"expected i/n"}));
}

// The slices of [begin, end) for every n: contiguous, in order, covering every position once,
// sizes floor(size/n) or ceil(size/n).
void expect_partition(const Range& whole, int64_t n) {
  int64_t expect_begin = whole.begin;
  for (int64_t i = 0; i < n; ++i) {
    const Range r = shard_range(whole, {i, n});
    ASSERT_EQ(r.begin, expect_begin) << "shard " << i << "/" << n << " of [" << whole.begin << ", " << whole.end << ")";
    ASSERT_GE(r.size(), whole.size() / n) << i << "/" << n;
    ASSERT_LE(r.size(), (whole.size() + n - 1) / n) << i << "/" << n;
    expect_begin = r.end;
  }
  EXPECT_EQ(expect_begin, whole.end) << "n = " << n;
}

TEST(Shard, SlicesPartitionTheSpace) {
  for (int64_t n : {1, 2, 3, 7, 16, 100, 1000, 15624, 15625, 20000}) expect_partition({0, 15625}, n);
  for (int64_t n : {1, 2, 5, 4930}) expect_partition({0, 4930}, n);
  expect_partition({0, 0}, 4);  // an empty list gives empty slices
  EXPECT_EQ(shard_range({0, 15625}, {3, 1000}), (Range{46, 62}));
  EXPECT_EQ(shard_range({0, 15625}, {0, 1}), (Range{0, 15625}));
}

TEST(Shard, NestedSlicesPartitionTheirShard) {
  // K ranks splitting shard i/n cover exactly that shard.
  const Range shard = shard_range({0, 15625}, {3, 1000});
  for (int64_t k : {1, 2, 3, 16, 17}) expect_partition(shard, k);
  std::vector<int> hits(15625, 0);
  for (int64_t i = 0; i < 7; ++i) {
    const Range outer = shard_range({0, 15625}, {i, 7});
    for (int64_t r = 0; r < 3; ++r) {
      const Range part = shard_range(outer, {r, 3});
      for (int64_t p = part.begin; p < part.end; ++p) ++hits[static_cast<size_t>(p)];
    }
  }
  for (size_t p = 0; p < hits.size(); ++p) ASSERT_EQ(hits[p], 1) << "position " << p;
}

class SlurmEnv : public ::testing::Test {
 protected:
  void TearDown() override {
    for (const char* v : {"SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_COUNT",
                          "SLURM_ARRAY_TASK_STEP"})
      unsetenv(v);
  }
  static void set(const char* name, const char* value) { setenv(name, value, 1); }
};

TEST_F(SlurmEnv, ArrayTaskGivesTheShard) {
  Shard s{9, 9};
  EXPECT_FALSE(shard_from_slurm_array(s)) << "no array variables: no shard";
  EXPECT_EQ(s, (Shard{9, 9})) << "left untouched";
  set("SLURM_ARRAY_TASK_ID", "13");
  set("SLURM_ARRAY_TASK_MIN", "10");
  set("SLURM_ARRAY_TASK_COUNT", "8");
  set("SLURM_ARRAY_TASK_STEP", "1");
  ASSERT_TRUE(shard_from_slurm_array(s));
  EXPECT_EQ(s, (Shard{3, 8}));
}

TEST_F(SlurmEnv, BadArraysAreRejected) {
  Shard s;
  set("SLURM_ARRAY_TASK_ID", "3");
  EXPECT_TRUE(test::throws_error([&] { shard_from_slurm_array(s); }, ErrorKind::BadInput, {"SLURM_ARRAY_TASK_MIN"}));
  set("SLURM_ARRAY_TASK_MIN", "0");
  set("SLURM_ARRAY_TASK_COUNT", "3");
  EXPECT_TRUE(test::throws_error([&] { shard_from_slurm_array(s); }, ErrorKind::BadInput, {"task 3", "--shard"}));
  set("SLURM_ARRAY_TASK_COUNT", "4");
  set("SLURM_ARRAY_TASK_STEP", "2");
  EXPECT_TRUE(test::throws_error([&] { shard_from_slurm_array(s); }, ErrorKind::BadInput, {"SLURM_ARRAY_TASK_STEP=2"}));
  set("SLURM_ARRAY_TASK_STEP", "1");
  set("SLURM_ARRAY_TASK_ID", "x");
  EXPECT_TRUE(test::throws_error([&] { shard_from_slurm_array(s); }, ErrorKind::BadInput, {"SLURM_ARRAY_TASK_ID='x'"}));
}

}  // namespace
}  // namespace naswot::search
