// sign_pack against a bit-by-bit reference written here from the layout in signpack.h: bit b of
// word w of image i is (x[i][64w + b] > 0), padding bits zero. Exact equality (packed integers).
// Unit counts: 1, 63, 64, 65 (tail word edges), 100, 4097, and NB201's largest tensor
// 16 x 32 x 32 = 16384 at batch 128; one image. Inputs include exact zeros, -0, NaN, +-inf and
// denormals, which the strict > must all classify like the reference.
#include "kernels/cpu/signpack.h"

#include <gtest/gtest.h>

#include <limits>
#include <vector>

#include "test_util.h"

namespace naswot::cpu {
namespace {

using test::GuardedBuffer;
using test::kSeed;

std::vector<uint64_t> pack_reference(const std::vector<float>& x, int n, int64_t units) {
  const int64_t words = (units + 63) / 64;
  std::vector<uint64_t> bits(static_cast<size_t>(n) * words, 0);
  for (int i = 0; i < n; ++i)
    for (int64_t u = 0; u < units; ++u)
      if (x[static_cast<size_t>(i) * units + u] > 0.0f) bits[i * words + u / 64] |= uint64_t{1} << (u % 64);
  return bits;
}

TEST(SignPack, MatchesReferenceExactly) {
  struct Case {
    int n;
    int64_t units;
  };
  const Case cases[] = {{3, 1}, {4, 63}, {4, 64}, {4, 65}, {5, 100}, {1, 4097}, {128, 16 * 32 * 32}, {128, 64 * 8 * 8}};
  uint32_t seed = kSeed;
  for (const Case& k : cases) {
    SCOPED_TRACE(::testing::Message() << "n=" << k.n << " units=" << k.units);
    const std::vector<float> x = test::awkward_input(static_cast<size_t>(k.n) * k.units, seed++);
    const int64_t words = sign_words(k.units);
    ASSERT_EQ(words, (k.units + 63) / 64);
    GuardedBuffer<uint64_t> bits(static_cast<size_t>(k.n) * words, ~uint64_t{0});  // stale ones must be cleared
    sign_pack(x.data(), k.n, k.units, bits.data());
    const std::vector<uint64_t> ref = pack_reference(x, k.n, k.units);
    EXPECT_TRUE(bits.check()) << "sign_pack wrote outside n * words";
    EXPECT_TRUE(test::all_equal(bits.data(), ref.data(), ref.size()));
  }
}

TEST(SignPack, SpecialValuesGiveDocumentedBits) {
  // 0, -0, NaN, -inf, -denorm are not > 0; inf and +denorm are.
  const float x[] = {0.0f,
                     -0.0f,
                     std::numeric_limits<float>::quiet_NaN(),
                     -std::numeric_limits<float>::infinity(),
                     -std::numeric_limits<float>::denorm_min(),
                     std::numeric_limits<float>::infinity(),
                     std::numeric_limits<float>::denorm_min(),
                     1.0f};
  GuardedBuffer<uint64_t> bits(1, ~uint64_t{0});
  sign_pack(x, 1, 8, bits.data());
  EXPECT_EQ(bits[0], uint64_t{0b11100000});
  EXPECT_TRUE(bits.check());
}

TEST(SignPack, RejectsBadArguments) {
  float x[4] = {};
  uint64_t bits[1] = {};
  NASWOT_EXPECT_BAD_INPUT(sign_pack(x, 1, 0, bits), "units");
  NASWOT_EXPECT_BAD_INPUT(sign_pack(x, 0, 4, bits), "n");
  NASWOT_EXPECT_BAD_INPUT(sign_pack(nullptr, 1, 4, bits), "non-null");
}

}  // namespace
}  // namespace naswot::cpu
