// logabsdet (LAPACK Cholesky, then LU) against logabsdet_reference (partial-pivot elimination in
// long double) on seeded random integer matrices: SPD matrices A A^T + I, NASWOT-like K from random
// codes (Cholesky path), symmetric indefinite matrices (Cholesky fails: LU path), and singular
// matrices: duplicate rows, the all-equal K of a dead network, and proportional rows that give LU
// an exact zero pivot (-inf, Singular). Tolerance: relative 1e-9 on the log-det (both are
// backward-stable factorizations of well-conditioned matrices; measured differences are ~1e-14).
#include "kernels/cpu/logdet.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "kernels/cpu/popcount_k.h"
#include "test_util.h"

namespace naswot::cpu {
namespace {

using test::kSeed;

constexpr double kRelTol = 1e-9;
constexpr double kMinusInf = -std::numeric_limits<double>::infinity();

// K = A A^T + I with A an n x (n + 3) matrix of integers in [-3, 3]: symmetric positive definite.
std::vector<int64_t> random_spd(int n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int64_t> entry(-3, 3);
  const int m = n + 3;
  std::vector<int64_t> a(static_cast<size_t>(n) * m), k(static_cast<size_t>(n) * n);
  for (auto& v : a) v = entry(rng);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      int64_t dot = i == j ? 1 : 0;
      for (int t = 0; t < m; ++t) dot += a[i * m + t] * a[j * m + t];
      k[i * n + j] = dot;
    }
  return k;
}

void expect_close_logdet(double got, double ref) {
  ASSERT_TRUE(std::isfinite(got) && std::isfinite(ref)) << "got " << got << ", ref " << ref;
  EXPECT_LE(std::fabs(got - ref), kRelTol * std::fabs(ref) + kRelTol)
      << "got " << got << ", ref " << ref << ", tolerance " << kRelTol << " relative";
}

TEST(LogDet, SpdMatricesUseCholesky) {
  uint32_t seed = kSeed;
  for (int n : {1, 2, 8, 33, 128}) {
    SCOPED_TRACE(::testing::Message() << "n=" << n);
    const std::vector<int64_t> k = random_spd(n, seed++);
    const LogDet got = logabsdet(k.data(), n);
    EXPECT_EQ(got.method, LogDetMethod::Cholesky) << to_string(got.method);
    expect_close_logdet(got.value, logabsdet_reference(k.data(), n));
  }
}

TEST(LogDet, NaswotKernelMatrix) {
  // K from 128 random 2048-unit codes, weight 2: the matrix the scorer hands over.
  const int n = 128;
  const int64_t units = 2048;
  std::mt19937 rng(kSeed + 10);
  std::bernoulli_distribution bit(0.5);
  std::vector<uint8_t> codes(static_cast<size_t>(n) * units);
  for (auto& c : codes) c = bit(rng) ? 1 : 0;
  std::vector<int64_t> k(static_cast<size_t>(n) * n, 0);
  popcount_k_reference(codes.data(), n, units, 2, k.data());
  const LogDet got = logabsdet(k.data(), n);
  EXPECT_EQ(got.method, LogDetMethod::Cholesky) << to_string(got.method);
  expect_close_logdet(got.value, logabsdet_reference(k.data(), n));
}

TEST(LogDet, IndefiniteMatrixFallsBackToLu) {
  uint32_t seed = kSeed + 20;
  for (int n : {2, 9, 64}) {
    SCOPED_TRACE(::testing::Message() << "n=" << n);
    // Symmetric with a negative diagonal: not positive definite, so dpotrf fails.
    std::mt19937 rng(seed++);
    std::uniform_int_distribution<int64_t> entry(-50, 50);
    std::vector<int64_t> k(static_cast<size_t>(n) * n);
    for (int i = 0; i < n; ++i)
      for (int j = i; j < n; ++j) k[i * n + j] = k[j * n + i] = entry(rng);
    k[0] = -100;
    const double ref = logabsdet_reference(k.data(), n);
    ASSERT_TRUE(std::isfinite(ref)) << "test matrix must be non-singular";
    const LogDet got = logabsdet(k.data(), n);
    EXPECT_EQ(got.method, LogDetMethod::Lu) << to_string(got.method);
    expect_close_logdet(got.value, ref);
  }
}

TEST(LogDet, KnownDeterminants) {
  // diag(2, 3, 5): det 30. [[1, 2], [2, 1]]: det -3, |det| 3, indefinite.
  const int64_t diag[] = {2, 0, 0, 0, 3, 0, 0, 0, 5};
  EXPECT_NEAR(logabsdet(diag, 3).value, std::log(30.0), 1e-14);
  EXPECT_NEAR(logabsdet_reference(diag, 3), std::log(30.0), 1e-14);
  const int64_t indefinite[] = {1, 2, 2, 1};
  const LogDet got = logabsdet(indefinite, 2);
  EXPECT_EQ(got.method, LogDetMethod::Lu);
  EXPECT_NEAR(got.value, std::log(3.0), 1e-14);
}

TEST(LogDet, DuplicateRowsAreSingular) {
  const int n = 40;
  std::vector<int64_t> k = random_spd(n, kSeed + 30);
  // Make image 7 a copy of image 3: row 7 = row 3 and column 7 = column 3, K stays symmetric.
  for (int j = 0; j < n; ++j) k[7 * n + j] = k[3 * n + j];
  for (int i = 0; i < n; ++i) k[i * n + 7] = k[i * n + 3];
  k[7 * n + 7] = k[3 * n + 3];
  const LogDet got = logabsdet(k.data(), n);
  EXPECT_EQ(got.value, kMinusInf);
  EXPECT_EQ(got.method, LogDetMethod::Singular) << to_string(got.method);
  EXPECT_EQ(logabsdet_reference(k.data(), n), kMinusInf);
}

TEST(LogDet, AllEqualMatrixIsSingular) {
  // A dead network: every code identical, K = c * ones. For some (n, c) a floating-point Cholesky
  // of c * ones does not fail but leaves a rounding residue on the diagonal (with this machine's
  // reference LAPACK: n = 2 with c = 2 or 7); numpy's slogdet still reports -inf and so must we.
  struct Case {
    int n;
    int64_t c;
  };
  for (const Case& t : {Case{2, 2}, Case{2, 7}, Case{128, 3}, Case{128, 2 * 16384 * 5}}) {
    SCOPED_TRACE(::testing::Message() << "n=" << t.n << " c=" << t.c);
    const std::vector<int64_t> k(static_cast<size_t>(t.n) * t.n, t.c);
    const LogDet got = logabsdet(k.data(), t.n);
    EXPECT_EQ(got.value, kMinusInf);
    EXPECT_EQ(got.method, LogDetMethod::Singular) << to_string(got.method);
    EXPECT_EQ(logabsdet_reference(k.data(), t.n), kMinusInf);
  }
}

TEST(LogDet, ExactZeroPivotInLuIsSingular) {
  // SPD block plus the block [[1, 2], [2, 4]] (proportional rows, none equal): Cholesky fails
  // exactly (4 - 2*2 = 0), LU pivots on 2 and eliminates 1 - 0.5 * 2 = 0 exactly.
  const int n = 6;
  const std::vector<int64_t> spd = random_spd(4, kSeed + 40);
  std::vector<int64_t> k(n * n, 0);
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) k[i * n + j] = spd[i * 4 + j];
  k[4 * n + 4] = 1, k[4 * n + 5] = 2, k[5 * n + 4] = 2, k[5 * n + 5] = 4;
  const LogDet got = logabsdet(k.data(), n);
  EXPECT_EQ(got.value, kMinusInf);
  EXPECT_EQ(got.method, LogDetMethod::Singular);
  EXPECT_EQ(logabsdet_reference(k.data(), n), kMinusInf);
}

TEST(LogDet, MethodNames) {
  EXPECT_STREQ(to_string(LogDetMethod::Cholesky), "cholesky");
  EXPECT_STREQ(to_string(LogDetMethod::Lu), "lu");
  EXPECT_STREQ(to_string(LogDetMethod::Singular), "singular");
}

TEST(LogDet, RejectsBadArguments) {
  const int64_t k[1] = {1};
  NASWOT_EXPECT_BAD_INPUT(logabsdet(k, 0), "n expected");
  NASWOT_EXPECT_BAD_INPUT(logabsdet(nullptr, 2), "non-null");
  NASWOT_EXPECT_BAD_INPUT(logabsdet_reference(k, -1), "n expected");
}

}  // namespace
}  // namespace naswot::cpu
