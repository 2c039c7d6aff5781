// popcount_k_accumulate against popcount_k_reference (unpacked 0/1 bytes, every pair counted
// directly). Both add into a K that starts from the same random integers, so accumulation (+=) is
// tested too. Exact equality: K is integer. Sizes: NB201's largest code (16 x 32 x 32 = 16384 units)
// at batch 128, unit counts 1, 64, 65, 100 and 127, one image, rows padded with extra zero words.
// The packed codes are built here bit by bit (not with sign_pack) so this test stands alone.
#include "kernels/cpu/popcount_k.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "kernels/cpu/signpack.h"
#include "test_util.h"

namespace naswot::cpu {
namespace {

using test::GuardedBuffer;
using test::kSeed;

// Codes with a different density of ones per image so that agreement counts vary widely; image 1
// copies image 0 when n > 2 (identical codes: the situation behind singular K).
std::vector<uint8_t> random_codes(int n, int64_t units, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> codes(static_cast<size_t>(n) * units);
  for (int i = 0; i < n; ++i) {
    std::bernoulli_distribution one(0.1 + 0.8 * (i % 7) / 6.0);
    for (int64_t u = 0; u < units; ++u) codes[i * units + u] = one(rng) ? 1 : 0;
  }
  if (n > 2) std::copy(codes.begin(), codes.begin() + units, codes.begin() + units);
  return codes;
}

std::vector<uint64_t> pack(const std::vector<uint8_t>& codes, int n, int64_t units, int64_t words) {
  std::vector<uint64_t> bits(static_cast<size_t>(n) * words, 0);
  for (int i = 0; i < n; ++i)
    for (int64_t u = 0; u < units; ++u)
      if (codes[i * units + u]) bits[i * words + u / 64] |= uint64_t{1} << (u % 64);
  return bits;
}

TEST(PopcountK, MatchesReferenceExactly) {
  struct Case {
    int n;
    int64_t units, extra_words, weight;
  };
  const Case cases[] = {
      {128, 16 * 32 * 32, 0, 2}, {5, 100, 0, 1}, {1, 1, 0, 3}, {7, 64, 0, 1}, {3, 65, 0, 2}, {9, 127, 2, 1},
      {16, 4096, 0, 2}};
  uint32_t seed = kSeed;
  for (const Case& k : cases) {
    SCOPED_TRACE(::testing::Message() << "n=" << k.n << " units=" << k.units << " extra words=" << k.extra_words
                                      << " weight=" << k.weight);
    const int64_t words = sign_words(k.units) + k.extra_words;
    const std::vector<uint8_t> codes = random_codes(k.n, k.units, seed++);
    const std::vector<uint64_t> bits = pack(codes, k.n, k.units, words);

    // K starts from the same symmetric random integers in both.
    const size_t kk = static_cast<size_t>(k.n) * k.n;
    std::mt19937 rng(seed++);
    std::uniform_int_distribution<int64_t> init(-1000, 1000);
    std::vector<int64_t> start(kk);
    for (int i = 0; i < k.n; ++i)
      for (int j = i; j < k.n; ++j) start[i * k.n + j] = start[j * k.n + i] = init(rng);

    GuardedBuffer<int64_t> got(kk);
    std::copy(start.begin(), start.end(), got.data());
    std::vector<int64_t> ref = start;
    popcount_k_accumulate(bits.data(), k.n, words, k.units, k.weight, got.data());
    popcount_k_reference(codes.data(), k.n, k.units, k.weight, ref.data());
    EXPECT_TRUE(got.check()) << "popcount_k_accumulate wrote outside K";
    EXPECT_TRUE(test::all_equal(got.data(), ref.data(), kk));

    // A second accumulation adds the same amount again.
    popcount_k_accumulate(bits.data(), k.n, words, k.units, k.weight, got.data());
    popcount_k_reference(codes.data(), k.n, k.units, k.weight, ref.data());
    EXPECT_TRUE(test::all_equal(got.data(), ref.data(), kk)) << "second accumulation";
    for (int i = 0; i < k.n; ++i) {
      ASSERT_EQ(got[i * k.n + i], start[i * k.n + i] + 2 * k.weight * k.units) << "diagonal " << i;
    }
  }
}

TEST(PopcountK, ReferenceCountsAgreements) {
  // Two images, 3 units: codes 110 and 100 agree on 2 units.
  const uint8_t codes[] = {1, 1, 0, 1, 0, 0};
  int64_t k[4] = {};
  popcount_k_reference(codes, 2, 3, 5, k);
  EXPECT_EQ(k[0], 15);
  EXPECT_EQ(k[1], 10);
  EXPECT_EQ(k[2], 10);
  EXPECT_EQ(k[3], 15);
}

TEST(PopcountK, RejectsBadArguments) {
  uint64_t bits[4] = {};
  int64_t k[4] = {};
  NASWOT_EXPECT_BAD_INPUT(popcount_k_accumulate(bits, 2, 1, 65, 1, k), "words");
  NASWOT_EXPECT_BAD_INPUT(popcount_k_accumulate(bits, 0, 1, 1, 1, k), "n and units");
  NASWOT_EXPECT_BAD_INPUT(popcount_k_accumulate(bits, 2, 1, 1, 1, nullptr), "non-null");
  NASWOT_EXPECT_BAD_INPUT(popcount_k_reference(nullptr, 2, 1, 1, k), "non-null");
}

}  // namespace
}  // namespace naswot::cpu
