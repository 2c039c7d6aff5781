// cuda::sign_pack vs cpu::sign_pack: exact equality of the packed words, guard regions intact.
// Inputs: seeded normal values with exact zeros, -0 and NaN planted (all must pack as 0), on
// awkward unit counts (1, 63, 64, 65, 1000) and the largest NB-201 tap (n = 128, 32x32x16).
#include <cmath>
#include <limits>

#include "cuda_test_util.h"
#include "kernels/cpu/signpack.h"
#include "kernels/cuda/signpack.cuh"

namespace naswot::test {
namespace {

constexpr uint32_t kSignSeed = kSeed + 101;

void check_sign_pack(int n, int64_t units) {
  SCOPED_TRACE(testing::Message() << "n=" << n << " units=" << units);
  std::vector<float> x = random_normal(static_cast<size_t>(n) * static_cast<size_t>(units), 0.0, 1.0, kSignSeed);
  for (size_t i = 0; i < x.size(); i += 7) x[i] = 0.0f;
  for (size_t i = 3; i < x.size(); i += 11) x[i] = -0.0f;
  for (size_t i = 5; i < x.size(); i += 13) x[i] = std::numeric_limits<float>::quiet_NaN();
  const int64_t words = cpu::sign_words(units);
  std::vector<uint64_t> ref(static_cast<size_t>(n) * static_cast<size_t>(words));
  cpu::sign_pack(x.data(), n, units, ref.data());

  TestStream s;
  auto dx = to_device(x, s.get());
  DeviceGuarded<uint64_t> dbits(ref.size(), s.get());
  cuda::sign_pack(dx.data(), n, units, dbits.data(), s.get());
  const std::vector<uint64_t> got = dbits.download();
  EXPECT_TRUE(all_equal(got.data(), ref.data(), ref.size()));
  EXPECT_TRUE(dbits.guards_intact()) << "sign_pack wrote outside its output";
}

TEST(CudaSignPack, MatchesCpuOnAwkwardSizes) {
  NASWOT_REQUIRE_CUDA_DEVICE();
  check_sign_pack(1, 1);
  check_sign_pack(3, 63);
  check_sign_pack(5, 64);
  check_sign_pack(7, 65);
  check_sign_pack(2, 1000);
}

TEST(CudaSignPack, MatchesCpuOnLargestNb201Tap) {
  NASWOT_REQUIRE_CUDA_DEVICE();
  check_sign_pack(128, 32 * 32 * 16);
}

TEST(CudaSignPack, RejectsBadShapeBeforeTouchingTheDevice) {
  float x = 0.0f;
  uint64_t bits = 0;
  NASWOT_EXPECT_BAD_INPUT(cuda::sign_pack(&x, 0, 10, &bits, nullptr), "n and units");
  NASWOT_EXPECT_BAD_INPUT(cuda::sign_pack(nullptr, 1, 10, &bits, nullptr), "x and bits");
}

}  // namespace
}  // namespace naswot::test
