// NB201 isomorphism classes (cells/nb201_unique.h), both equivalences: the exact class counts
// (benchmark: NAS-Bench-201's published 6,466; function: 4,930), every index in exactly one
// class, representatives first and smallest, class ids in representative order, and hand-checked
// equivalences and non-equivalences for each rule (function: none edges and what only feeds them,
// skip as identity with flattened sums, commutative sums, ops on zero, multiplicities; benchmark:
// where its zero markers and unflattened skips keep cells apart that compute the same function).
#include "cells/nb201_unique.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "runtime/error.h"

namespace naswot::cells {
namespace {

constexpr Nb201Equivalence kFn = Nb201Equivalence::Function;
constexpr Nb201Equivalence kBench = Nb201Equivalence::Benchmark;

std::string canon(const char* arch, Nb201Equivalence eq = kFn) { return nb201_canonical(parse_nb201(arch), eq); }
int32_t class_of(const char* arch, Nb201Equivalence eq = kFn) {
  return nb201_unique_classes(eq).class_of[static_cast<size_t>(nb201_index(parse_nb201(arch)))];
}
void expect_same(const char* a, const char* b) {
  EXPECT_EQ(canon(a), canon(b)) << a << "\n" << b;
  EXPECT_EQ(class_of(a), class_of(b)) << a << "\n" << b;
}
void expect_different(const char* a, const char* b) {
  EXPECT_NE(canon(a), canon(b)) << a << "\n" << b;
  EXPECT_NE(class_of(a), class_of(b)) << a << "\n" << b;
}

const char* const kOnlySkip03 = "|none~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|";
const char* const kAllNone = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|";

TEST(Nb201Unique, BenchmarkClassCountIsThePublishedOne) {
  const Nb201Classes& c = nb201_unique_classes(kBench);
  EXPECT_EQ(c.members.size(), static_cast<size_t>(kNb201BenchmarkClasses));
  EXPECT_EQ(kNb201BenchmarkClasses, 6466) << "NAS-Bench-201 (Dong & Yang, ICLR 2020) reports 6,466 unique cells";
  ASSERT_EQ(c.class_of.size(), static_cast<size_t>(kNb201Size));
}

// Function classes are unions of benchmark classes: the benchmark string never joins two cells of
// different functions (it only keeps some equal functions apart).
TEST(Nb201Unique, FunctionClassesRefineNothingOfTheBenchmark) {
  const Nb201Classes& bench = nb201_unique_classes(kBench);
  const Nb201Classes& fn = nb201_unique_classes(kFn);
  for (const auto& members : bench.members)
    for (int32_t i : members)
      ASSERT_EQ(fn.class_of[static_cast<size_t>(i)], fn.class_of[static_cast<size_t>(members.front())])
          << "indices " << members.front() << " and " << i << " share a benchmark string but not a function";
}

TEST(Nb201Unique, BenchmarkKeepsZeroTermsAndUnflattenedSkips) {
  // x versus skip(x + 0) (node 2 sums x and a none edge): equal functions, different benchmark
  // strings ("#+#+x" against "#+#+#+x": the zero term inside node 2 stays).
  const char* const skip_of_x_plus_zero = "|none~0|+|skip_connect~0|none~1|+|none~0|none~1|skip_connect~2|";
  expect_same(skip_of_x_plus_zero, kOnlySkip03);
  EXPECT_NE(canon(skip_of_x_plus_zero, kBench), canon(kOnlySkip03, kBench));
  EXPECT_NE(class_of(skip_of_x_plus_zero, kBench), class_of(kOnlySkip03, kBench));
  // skip(c1(x) + 0) + c3(x) against skip(c3(x) + 0) + c1(x): equal functions, but the skip of a
  // sum is not flattened into the output's sum.
  const char* const a = "|nor_conv_3x3~0|+|nor_conv_1x1~0|none~1|+|none~0|skip_connect~1|skip_connect~2|";
  const char* const b = "|nor_conv_1x1~0|+|nor_conv_3x3~0|none~1|+|none~0|skip_connect~1|skip_connect~2|";
  expect_same(a, b);
  EXPECT_NE(canon(a, kBench), canon(b, kBench));
  // Node 1 is the benchmark's zero marker (its one edge is none), so conv(node 1) is zero too.
  EXPECT_EQ(canon("|none~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|none~2|", kBench),
            canon("|none~0|+|none~0|avg_pool_3x3~1|+|skip_connect~0|none~1|none~2|", kBench));
  // Sums stay commutative: node 2 = c3(x) + c1(skip(x)) = c1(x) + c3(skip(x)).
  EXPECT_EQ(canon("|skip_connect~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|none~0|none~1|skip_connect~2|", kBench),
            canon("|skip_connect~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|none~0|none~1|skip_connect~2|", kBench));
  EXPECT_THROW(parse_nb201_equivalence("iso"), Error);
  EXPECT_EQ(parse_nb201_equivalence(to_string(kBench)), kBench);
  EXPECT_EQ(parse_nb201_equivalence(to_string(kFn)), kFn);
}

TEST(Nb201Unique, FunctionClassCount) {
  const Nb201Classes& c = nb201_unique_classes(kFn);
  EXPECT_EQ(c.members.size(), static_cast<size_t>(kNb201FunctionClasses));
  EXPECT_EQ(kNb201FunctionClasses, 4930);
  ASSERT_EQ(c.class_of.size(), static_cast<size_t>(kNb201Size));
  // The zero cell's class: every architecture whose output node receives nothing.
  EXPECT_EQ(c.members[static_cast<size_t>(class_of(kAllNone))].size(), 341u);
}

void expect_partition(Nb201Equivalence eq) {
  SCOPED_TRACE(to_string(eq));
  const Nb201Classes& c = nb201_unique_classes(eq);
  std::vector<int> hits(kNb201Size, 0);
  int32_t previous_rep = -1;
  for (size_t k = 0; k < c.members.size(); ++k) {
    const std::vector<int32_t>& m = c.members[k];
    ASSERT_FALSE(m.empty()) << "class " << k;
    EXPECT_GT(m.front(), previous_rep) << "classes are numbered in representative order";
    previous_rep = m.front();
    const std::string rep_form = nb201_canonical(nb201_from_index(m.front()), eq);
    for (size_t i = 0; i < m.size(); ++i) {
      ASSERT_GE(m[i], 0);
      ASSERT_LT(m[i], kNb201Size);
      if (i) {
        ASSERT_LT(m[i - 1], m[i]) << "members ascending, so the representative is the smallest";
      }
      ++hits[static_cast<size_t>(m[i])];
      ASSERT_EQ(c.class_of[static_cast<size_t>(m[i])], static_cast<int32_t>(k)) << "index " << m[i];
      ASSERT_EQ(nb201_canonical(nb201_from_index(m[i]), eq), rep_form) << "index " << m[i] << " in class " << k;
    }
  }
  for (int i = 0; i < kNb201Size; ++i) ASSERT_EQ(hits[static_cast<size_t>(i)], 1) << "index " << i;
}

TEST(Nb201Unique, EveryIndexInExactlyOneClassWithItsRepresentativeFirst) {
  expect_partition(kBench);
  expect_partition(kFn);
}

TEST(Nb201Unique, CanonicalForms) {
  EXPECT_EQ(canon(kAllNone), "0");
  EXPECT_EQ(canon(kOnlySkip03), "x");
  EXPECT_EQ(canon("|nor_conv_3x3~0|+|nor_conv_1x1~0|none~1|+|none~0|skip_connect~1|skip_connect~2|"), "c1(x)+c3(x)");
  EXPECT_EQ(canon("|nor_conv_1x1~0|+|none~0|avg_pool_3x3~1|+|skip_connect~0|none~1|nor_conv_3x3~2|"),
            "c3(ap(c1(x)))+x");
}

TEST(Nb201Unique, NoneEdgesAndWhatOnlyFeedsThemVanish) {
  // Nodes 1 and 2 reach the output only through none edges: whatever they compute is irrelevant.
  expect_same("|nor_conv_3x3~0|+|avg_pool_3x3~0|nor_conv_1x1~1|+|skip_connect~0|none~1|none~2|",
              "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|skip_connect~0|none~1|none~2|");
  expect_same("|nor_conv_3x3~0|+|avg_pool_3x3~0|nor_conv_1x1~1|+|skip_connect~0|none~1|none~2|", kOnlySkip03);
  // Node 2's conv input from node 1 is dead only through node 2's none edge to the output.
  expect_same("|nor_conv_1x1~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|none~0|skip_connect~1|none~2|",
              "|nor_conv_1x1~0|+|none~0|none~1|+|none~0|skip_connect~1|none~2|");
}

TEST(Nb201Unique, OpsOnAZeroNodeAreZero) {
  // Node 1 is zero (none from the input), so conv(node 1) adds nothing to node 2.
  expect_same("|none~0|+|skip_connect~0|nor_conv_3x3~1|+|none~0|none~1|skip_connect~2|", kOnlySkip03);
  expect_same("|none~0|+|none~0|avg_pool_3x3~1|+|none~0|nor_conv_1x1~1|nor_conv_3x3~2|", kAllNone);
}

TEST(Nb201Unique, SumsAreCommutativeAndSkipIsIdentity) {
  expect_same("|nor_conv_3x3~0|+|nor_conv_1x1~0|none~1|+|none~0|skip_connect~1|skip_connect~2|",
              "|nor_conv_1x1~0|+|nor_conv_3x3~0|none~1|+|none~0|skip_connect~1|skip_connect~2|");
  // skip(x + c3(x)) into the output equals x and c3(x) arriving separately (flattened sum).
  expect_same("|nor_conv_3x3~0|+|skip_connect~0|skip_connect~1|+|none~0|none~1|skip_connect~2|",
              "|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|skip_connect~1|none~2|");
  // A chain of skips is the input.
  expect_same("|skip_connect~0|+|none~0|skip_connect~1|+|none~0|none~1|skip_connect~2|", kOnlySkip03);
  // A conv reached through skips is the same conv of the same input.
  expect_same("|skip_connect~0|+|none~0|nor_conv_3x3~1|+|none~0|none~1|skip_connect~2|",
              "|none~0|+|none~0|none~1|+|nor_conv_3x3~0|none~1|none~2|");
}

TEST(Nb201Unique, DifferentFunctionsStayApart) {
  // x + x is not x.
  expect_different("|skip_connect~0|+|none~0|none~1|+|skip_connect~0|skip_connect~1|none~2|", kOnlySkip03);
  expect_different("|none~0|+|none~0|none~1|+|nor_conv_1x1~0|none~1|none~2|",
                   "|none~0|+|none~0|none~1|+|nor_conv_3x3~0|none~1|none~2|");
  // c3(c1(x)) is not c1(c3(x)).
  expect_different("|nor_conv_1x1~0|+|none~0|nor_conv_3x3~1|+|none~0|none~1|skip_connect~2|",
                   "|nor_conv_3x3~0|+|none~0|nor_conv_1x1~1|+|none~0|none~1|skip_connect~2|");
  // Two convs on the same input hold different weights: c3(x) + c3(x) is not c3(x).
  expect_different("|nor_conv_3x3~0|+|none~0|none~1|+|nor_conv_3x3~0|skip_connect~1|none~2|",
                   "|none~0|+|none~0|none~1|+|nor_conv_3x3~0|none~1|none~2|");
  expect_different(kAllNone, kOnlySkip03);
}

}  // namespace
}  // namespace naswot::cells
