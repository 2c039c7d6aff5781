// cuda::logabsdet_batched (cuSOLVER batched Cholesky) vs cpu::logabsdet on K matrices built from
// seeded random codes (cpu::popcount_k_reference), n = 1, 7 and 128, several per batch.
// Tolerance |gpu - cpu| <= 1e-9 * max(1, |cpu|): both factor the same float64 matrix with
// different blockings, so they differ by a few ulps of each diagonal term.
// Host-only tests: combine_logdet applies the CPU's rules around the device result (equal rows
// -> -inf Singular; a rejected Cholesky -> cpu::logabsdet's LU path).
#include <cmath>
#include <random>

#include "cuda_test_util.h"
#include "kernels/cpu/logdet.h"
#include "kernels/cpu/popcount_k.h"
#include "kernels/cuda/logdet.cuh"
#include "runtime/cuda/cuda_backend_impl.h"

namespace naswot::test {
namespace {

constexpr uint32_t kLogdetSeed = kSeed + 801;

// K of n images with `units` random binary units each; duplicate_last copies image 0's code.
std::vector<int64_t> random_k(int n, int64_t units, uint32_t seed, bool duplicate_last = false) {
  std::vector<uint8_t> codes(static_cast<size_t>(n) * static_cast<size_t>(units));
  std::mt19937 rng(seed);
  for (auto& c : codes) c = static_cast<uint8_t>(rng() & 1u);
  if (duplicate_last && n > 1)
    std::copy(codes.begin(), codes.begin() + units, codes.begin() + static_cast<int64_t>(n - 1) * units);
  std::vector<int64_t> k(static_cast<size_t>(n) * static_cast<size_t>(n), 0);
  cpu::popcount_k_reference(codes.data(), n, units, 2, k.data());
  return k;
}

void check_batch(int n, int batch) {
  SCOPED_TRACE(testing::Message() << "n=" << n << " batch=" << batch);
  const size_t kk = static_cast<size_t>(n) * static_cast<size_t>(n);
  std::vector<int64_t> all;
  std::vector<cpu::LogDet> ref;
  for (int b = 0; b < batch; ++b) {
    const std::vector<int64_t> k = random_k(n, 4 * n + 50, kLogdetSeed + static_cast<uint32_t>(b));
    ref.push_back(cpu::logabsdet(k.data(), n));
    ASSERT_EQ(ref.back().method, cpu::LogDetMethod::Cholesky) << "test matrix " << b << " should be positive definite";
    all.insert(all.end(), k.begin(), k.end());
  }
  TestStream s;
  rt::CusolverHandle solver = rt::make_cusolver_handle();
  auto dk = to_device(all, s.get());
  DeviceGuarded<unsigned char> scratch(cuda::logabsdet_batched_scratch_bytes(n, batch), s.get());
  DeviceGuarded<int> info(static_cast<size_t>(batch), s.get());
  DeviceGuarded<double> logdet(static_cast<size_t>(batch), s.get());
  cuda::logabsdet_batched(dk.data(), n, batch, scratch.data(), info.data(), logdet.data(), solver.get(), s.get());
  const std::vector<int> ginfo = info.download();
  const std::vector<double> gld = logdet.download();
  for (int b = 0; b < batch; ++b) {
    const auto ub = static_cast<size_t>(b);
    EXPECT_EQ(ginfo[ub], 0) << "matrix " << b;
    const double tol = 1e-9 * std::max(1.0, std::fabs(ref[ub].value));
    EXPECT_NEAR(gld[ub], ref[ub].value, tol) << "matrix " << b;
    const cpu::LogDet combined = rt::combine_logdet(all.data() + ub * kk, n, ginfo[ub], gld[ub]);
    EXPECT_EQ(combined.method, cpu::LogDetMethod::Cholesky);
  }
  EXPECT_TRUE(info.guards_intact() && logdet.guards_intact() && scratch.guards_intact());
  EXPECT_TRUE(dk.guards_intact()) << "the K batch is read-only";
}

TEST(CudaLogdet, BatchedCholeskyMatchesCpu) {
  NASWOT_REQUIRE_CUDA_DEVICE();
  check_batch(1, 1);
  check_batch(7, 3);
  check_batch(128, 5);
}

TEST(CudaLogdet, CombineFollowsCpuRulesForSingularK) {  // host only
  const int n = 9;
  const std::vector<int64_t> k = random_k(n, 40, kLogdetSeed + 50, /*duplicate_last=*/true);
  const cpu::LogDet ref = cpu::logabsdet(k.data(), n);
  ASSERT_EQ(ref.method, cpu::LogDetMethod::Singular);
  // Even if the device Cholesky "succeeded" on a rounding residue, equal rows win.
  const cpu::LogDet got = rt::combine_logdet(k.data(), n, 0, -123.0);
  EXPECT_EQ(got.method, cpu::LogDetMethod::Singular);
  EXPECT_TRUE(std::isinf(got.value) && got.value < 0);
}

TEST(CudaLogdet, CombineFallsBackToCpuWhenCholeskyRejects) {  // host only
  const int n = 6;
  const std::vector<int64_t> k = random_k(n, 40, kLogdetSeed + 60);
  const cpu::LogDet ref = cpu::logabsdet(k.data(), n);
  const cpu::LogDet got = rt::combine_logdet(k.data(), n, 3, std::nan(""));
  EXPECT_EQ(got.method, ref.method);
  EXPECT_EQ(got.value, ref.value) << "the fallback is cpu::logabsdet itself";
}

TEST(CudaLogdet, RejectsEmptyBatch) {
  int64_t k = 0;
  int info = 0;
  double ld = 0;
  NASWOT_EXPECT_BAD_INPUT(cuda::logabsdet_batched(&k, 1, 0, &k, &info, &ld, nullptr, nullptr), "n and batch");
}

}  // namespace
}  // namespace naswot::test
