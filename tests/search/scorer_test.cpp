// search::Scorer and score_from_k: bit-identical scores for the same seed and architecture,
// different scores for different weight seeds, the dead (all-none) NB-201 network as "singular"
// with -inf, log|det| of hand-made K matrices, score_many against score, and ParamInitCache
// (same tensors as init_params, one shared tensor per name and shape across architectures).
#include "search/scorer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "cells/nb201.h"
#include "runtime/cpu_backend.h"
#include "runtime/params.h"
#include "test_util.h"

namespace naswot::search {
namespace {

constexpr uint32_t kBatchSeed = test::kSeed + 31;
constexpr uint64_t kWeightSeed = test::kSeed + 32;

const cells::Nb201Config kConfig{16, 16, 5, 1};

rt::Batch random_batch(int n) {
  rt::Batch b;
  b.shape = {n, 16, 16, 3};
  b.data = test::random_normal(static_cast<size_t>(b.shape.numel()), 0.0, 1.0, kBatchSeed);
  b.source = "random_normal";
  return b;
}

rt::Graph nb201(const std::string& arch) { return cells::build_nb201(cells::parse_nb201(arch), kConfig); }

const char* const kArch = "|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|none~2|";
const char* const kOtherArch =
    "|nor_conv_1x1~0|+|none~0|nor_conv_3x3~1|+|avg_pool_3x3~0|skip_connect~1|nor_conv_3x3~2|";
const char* const kAllNone = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|";

TEST(Scorer, SameSeedAndArchGiveABitIdenticalScore) {
  const rt::Batch batch = random_batch(8);
  const rt::Graph g = nb201(kArch);
  rt::CpuBackend backend;
  Scorer scorer(backend, batch, rt::Counting::Reference);
  const Score a = scorer.score(g, rt::init_params(g, kWeightSeed));
  const rt::KMatrix k = scorer.last_k();
  const Score b = scorer.score(g, rt::init_params(g, kWeightSeed));
  EXPECT_EQ(a.status, "ok");
  EXPECT_TRUE(std::isfinite(a.value));
  EXPECT_EQ(std::memcmp(&a.value, &b.value, sizeof(double)), 0) << a.value << " vs " << b.value;
  EXPECT_TRUE(test::all_equal(scorer.last_k().values.data(), k.values.data(), k.values.size()));
  EXPECT_EQ(a.n_units, 286720 / 4 * 3 + 77824 / 4);  // c = 3 at 16x16 (reference-semantics.md §3.7)
  // log|det K| <= n log N_A (Hadamard: K is PSD with diagonal N_A).
  EXPECT_LE(a.value, 8 * std::log(static_cast<double>(a.n_units)));
}

TEST(Scorer, DifferentWeightSeedsGiveDifferentScores) {
  const rt::Batch batch = random_batch(8);
  const rt::Graph g = nb201(kArch);
  rt::CpuBackend backend;
  Scorer scorer(backend, batch, rt::Counting::Reference);
  const Score a = scorer.score(g, rt::init_params(g, kWeightSeed));
  const Score b = scorer.score(g, rt::init_params(g, kWeightSeed + 1));
  EXPECT_NE(a.value, b.value);
  EXPECT_EQ(a.n_units, b.n_units);
}

TEST(Scorer, AllNoneArchIsSingular) {
  const rt::Batch batch = random_batch(8);
  const rt::Graph g = nb201(kAllNone);
  rt::CpuBackend backend;
  Scorer scorer(backend, batch, rt::Counting::Reference);
  const Score s = scorer.score(g, rt::init_params(g, kWeightSeed));
  EXPECT_EQ(s.status, "singular");
  EXPECT_EQ(s.method, cpu::LogDetMethod::Singular);
  EXPECT_EQ(s.value, -std::numeric_limits<double>::infinity());
  EXPECT_EQ(s.n_units, 77824 / 4);
}

TEST(Scorer, ScoreManyEqualsScoreOneByOne) {
  const rt::Batch batch = random_batch(8);
  const rt::Graph g1 = nb201(kArch), g2 = nb201(kAllNone), g3 = nb201(kOtherArch);
  const rt::Params p1 = rt::init_params(g1, kWeightSeed), p2 = rt::init_params(g2, kWeightSeed),
                   p3 = rt::init_params(g3, kWeightSeed);
  rt::CpuBackend backend;
  Scorer scorer(backend, batch, rt::Counting::Unit);
  scorer.reserve(cells::build_nb201(
      cells::parse_nb201("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|"
                         "nor_conv_3x3~2|"),
      kConfig));
  const std::vector<Score> many = scorer.score_many({&g1, &g2, &g3}, {&p1, &p2, &p3});
  ASSERT_EQ(many.size(), 3u);
  const Score one[] = {scorer.score(g1, p1), scorer.score(g2, p2), scorer.score(g3, p3)};
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(many[i].value, one[i].value) << i;
    EXPECT_EQ(many[i].status, one[i].status) << i;
    EXPECT_EQ(many[i].n_units, one[i].n_units) << i;
  }
}

rt::KMatrix k_from(int n, const std::vector<int64_t>& values) {
  rt::KMatrix k;
  k.reset(n);
  k.values = values;
  return k;
}

TEST(ScoreFromK, ScaledIdentityGivesNLogN) {
  for (int n : {1, 2, 7, 32}) {
    for (int64_t big_n : {int64_t{5}, int64_t{1798144}}) {
      rt::KMatrix k;
      k.reset(n);
      for (int i = 0; i < n; ++i) k.values[static_cast<size_t>(i) * static_cast<size_t>(n + 1)] = big_n;
      const Score s = score_from_k(k);
      const double want = n * std::log(static_cast<double>(big_n));
      EXPECT_NEAR(s.value, want, 1e-12 * want) << "n=" << n << " N=" << big_n;
      EXPECT_EQ(s.status, "ok");
      EXPECT_EQ(s.n_units, big_n);
    }
  }
}

TEST(ScoreFromK, GeneralMatrixMatchesReferenceDeterminant) {
  // [[4,2],[2,3]]: det 8.
  const Score s = score_from_k(k_from(2, {4, 2, 2, 3}));
  EXPECT_NEAR(s.value, std::log(8.0), 1e-14);
  EXPECT_EQ(s.status, "ok");
  EXPECT_EQ(s.n_units, 4);
}

TEST(ScoreFromK, SingularMatricesGiveMinusInfinity) {
  const double minus_inf = -std::numeric_limits<double>::infinity();
  const rt::KMatrix constant = k_from(3, {9, 9, 9, 9, 9, 9, 9, 9, 9});    // every code identical
  const rt::KMatrix equal_rows = k_from(3, {3, 1, 3, 1, 2, 1, 3, 1, 3});  // images 0 and 2 have one code
  for (const rt::KMatrix* k : {&constant, &equal_rows}) {
    const Score s = score_from_k(*k);
    EXPECT_EQ(s.value, minus_inf);
    EXPECT_EQ(s.status, "singular");
    EXPECT_EQ(s.method, cpu::LogDetMethod::Singular);
  }
  // Changing one entry pair of the singular matrix makes it regular again: [[3,1,2],[1,2,1],[2,1,3]], det 8.
  const Score regular = score_from_k(k_from(3, {3, 1, 2, 1, 2, 1, 2, 1, 3}));
  EXPECT_EQ(regular.status, "ok");
  EXPECT_NEAR(regular.value, std::log(8.0), 1e-14);
}

TEST(ParamInitCache, SameTensorsAsInitParamsAndSharedAcrossArchs) {
  const rt::Graph a = nb201(kArch), b = nb201(kOtherArch);
  rt::ParamInitCache cache(kWeightSeed);
  const rt::Params ca = cache.params_for(a);
  const size_t after_a = cache.cached_tensors();
  const rt::Params cb = cache.params_for(b);
  for (const auto& [graph, cached] : {std::pair{&a, &ca}, std::pair{&b, &cb}}) {
    const rt::Params direct = rt::init_params(*graph, kWeightSeed);
    ASSERT_EQ(cached->size(), direct.size());
    for (const rt::ParamSpec& spec : graph->params) {
      const rt::ParamTensor& got = cached->at(spec.name);
      const rt::ParamTensor& want = direct.at(spec.name);
      EXPECT_EQ(got.shape, want.shape) << spec.name;
      ASSERT_EQ(got.data.size(), want.data.size()) << spec.name;
      EXPECT_TRUE(test::all_equal(got.data.data(), want.data.data(), want.data.size())) << spec.name;
    }
  }
  // Same name and shape -> the very same tensor; same name, other shape -> a different one.
  int shared = 0, distinct = 0;
  for (const rt::ParamSpec& spec : a.params) {
    const rt::ParamTensor* in_b = cb.find(spec.name);
    if (!in_b) continue;
    if (in_b->shape == spec.shape) {
      EXPECT_EQ(in_b, &ca.at(spec.name)) << spec.name << " is not shared";
      ++shared;
    } else {
      EXPECT_NE(in_b, &ca.at(spec.name)) << spec.name;
      ++distinct;
    }
  }
  EXPECT_GT(shared, 0);
  EXPECT_GT(distinct, 0);  // edge 0 is a 3x3 conv in one arch and a 1x1 conv in the other
  EXPECT_EQ(cache.cached_tensors(), after_a + cb.size() - static_cast<size_t>(shared));
  // A second request for the same architecture draws nothing new.
  const rt::Params again = cache.params_for(a);
  EXPECT_EQ(&again.at("stem.0.weight"), &ca.at("stem.0.weight"));
}

}  // namespace
}  // namespace naswot::search
