// cuda::popcount_k_accumulate vs cpu::popcount_k_accumulate: exact int64 equality. Codes are
// seeded random words with the padding bits past `units` cleared (the layout's invariant); K
// starts non-zero to check accumulation; sizes cover n = 1, n not a multiple of the 32-image tile,
// the NB-201 case (n = 128, 256 words) and many words per image (n = 128, 4096 words, which
// splits the words over blocks).
#include <random>

#include "cuda_test_util.h"
#include "kernels/cpu/popcount_k.h"
#include "kernels/cpu/signpack.h"
#include "kernels/cuda/popcount_k.cuh"

namespace naswot::test {
namespace {

constexpr uint32_t kCodeSeed = kSeed + 201;

std::vector<uint64_t> random_codes(int n, int64_t units, uint32_t seed) {
  const int64_t words = cpu::sign_words(units);
  std::vector<uint64_t> bits(static_cast<size_t>(n) * static_cast<size_t>(words));
  std::mt19937_64 rng(seed);
  for (auto& w : bits) w = rng();
  const int64_t tail = units - 64 * (words - 1);  // bits used in the last word, 1..64
  const uint64_t mask = tail == 64 ? ~0ull : ((1ull << tail) - 1);
  for (int i = 0; i < n; ++i) bits[static_cast<size_t>(i) * static_cast<size_t>(words) + static_cast<size_t>(words - 1)] &= mask;
  return bits;
}

void check_popcount(int n, int64_t units, int64_t weight) {
  SCOPED_TRACE(testing::Message() << "n=" << n << " units=" << units << " weight=" << weight);
  const int64_t words = cpu::sign_words(units);
  const std::vector<uint64_t> bits = random_codes(n, units, kCodeSeed + static_cast<uint32_t>(n));
  std::vector<int64_t> ref(static_cast<size_t>(n) * static_cast<size_t>(n));
  for (size_t i = 0; i < ref.size(); ++i) ref[i] = static_cast<int64_t>(i % 17) - 5;  // non-zero start
  const std::vector<int64_t> start = ref;
  cpu::popcount_k_accumulate(bits.data(), n, words, units, weight, ref.data());

  TestStream s;
  auto dbits = to_device(bits, s.get());
  auto dk = to_device(start, s.get());
  cuda::popcount_k_accumulate(dbits.data(), n, words, units, weight, dk.data(), s.get());
  const std::vector<int64_t> got = dk.download();
  EXPECT_TRUE(all_equal(got.data(), ref.data(), ref.size()));
  EXPECT_TRUE(dk.guards_intact()) << "popcount_k_accumulate wrote outside K";
}

TEST(CudaPopcountK, MatchesCpuOnAwkwardSizes) {
  NASWOT_REQUIRE_CUDA_DEVICE();
  check_popcount(1, 1, 1);
  check_popcount(2, 63, 2);
  check_popcount(33, 100, 1);
  check_popcount(65, 64 * 40 + 7, 3);
}

TEST(CudaPopcountK, MatchesCpuOnNb201Sizes) {
  NASWOT_REQUIRE_CUDA_DEVICE();
  check_popcount(128, 32 * 32 * 16, 2);   // largest NB-201 tap: 256 words
  check_popcount(128, 64 * 4096, 1);      // 4096 words per image: the word splits
}

TEST(CudaPopcountK, RejectsShortRows) {
  uint64_t bits = 0;
  int64_t k = 0;
  NASWOT_EXPECT_BAD_INPUT(cuda::popcount_k_accumulate(&bits, 1, 1, 65, 1, &k, nullptr), "words=1");
  NASWOT_EXPECT_BAD_INPUT(cuda::popcount_k_accumulate(&bits, 0, 1, 1, 1, &k, nullptr), "n and units");
}

}  // namespace
}  // namespace naswot::test
