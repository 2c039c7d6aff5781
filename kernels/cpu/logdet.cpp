// log|det K| for the n x n symmetric integer kernel matrix K (row-major int64), in float64.
// K is positive semi-definite in exact arithmetic, so Cholesky (LAPACK dpotrf, lower) is tried
// first: logdet = 2 * sum log L_ii. When it fails (K singular or indefinite in floating point), LU
// with partial pivoting (dgetrf, what numpy.linalg.slogdet uses) gives sum log|U_ii|; an exact zero
// pivot means det = 0 and the result is -inf with method Singular, as numpy reports.
// Two exactly equal rows (two images with identical codes; every row of a dead network's K) also
// mean det = 0 exactly. They are found first by comparing rows, because in floating point a
// Cholesky of such a matrix can "succeed" on a rounding residue and return a finite log-det where
// numpy's LU gives -inf (e.g. the all-equal K = c * ones with c not a perfect square).
// Since K is symmetric, its row-major storage is also its column-major storage: no transpose.
// The double copy and the pivot array live in per-thread buffers that only grow, so steady-state
// calls do not allocate.
#include "kernels/cpu/logdet.h"

#include <cmath>
#include <cstddef>
#include <cstring>
#include <limits>
#include <utility>
#include <vector>

#include "runtime/error.h"

// Fortran LAPACK (LP64: 32-bit integers). The trailing size_t is the hidden length of the
// CHARACTER argument that gfortran-built LAPACK expects.
extern "C" {
void dpotrf_(const char* uplo, const int* n, double* a, const int* lda, int* info, size_t uplo_len);
void dgetrf_(const int* m, const int* n, double* a, const int* lda, int* ipiv, int* info);
}

namespace naswot::cpu {
namespace {

constexpr double kMinusInf = -std::numeric_limits<double>::infinity();

// True when two rows of the row-major n x n matrix are bitwise equal. O(n^2) row comparisons
// that almost always stop at the first element.
bool has_equal_rows(const int64_t* k, int n) {
  const size_t row_bytes = static_cast<size_t>(n) * sizeof(int64_t);
  for (int i = 0; i < n; ++i) {
    for (int j = i + 1; j < n; ++j) {
      if (k[static_cast<int64_t>(i) * n] == k[static_cast<int64_t>(j) * n] &&
          std::memcmp(k + static_cast<int64_t>(i) * n, k + static_cast<int64_t>(j) * n, row_bytes) == 0) {
        return true;
      }
    }
  }
  return false;
}

void copy_to_double(const int64_t* k, int64_t count, double* a) {
  for (int64_t i = 0; i < count; ++i) a[i] = static_cast<double>(k[i]);
}

}  // namespace

const char* to_string(LogDetMethod m) {
  switch (m) {
    case LogDetMethod::Cholesky: return "cholesky";
    case LogDetMethod::Lu: return "lu";
    case LogDetMethod::Singular: return "singular";
  }
  return "unknown";
}

LogDet logabsdet(const int64_t* k, int n) {
  NASWOT_EXPECT(n >= 1, BadInput, "logabsdet: n expected >= 1, got " << n);
  NASWOT_EXPECT(n <= 46340, BadInput, "logabsdet: n=" << n << " expected <= 46340 (LAPACK 32-bit indexing)");
  NASWOT_EXPECT(k != nullptr, BadInput, "logabsdet: k expected non-null");
  if (has_equal_rows(k, n)) return {kMinusInf, LogDetMethod::Singular};
  const int64_t count = static_cast<int64_t>(n) * n;
  thread_local std::vector<double> a;
  thread_local std::vector<int> ipiv;
  if (static_cast<int64_t>(a.size()) < count) a.resize(count);
  if (static_cast<int>(ipiv.size()) < n) ipiv.resize(n);

  copy_to_double(k, count, a.data());
  int info = 0;
  dpotrf_("L", &n, a.data(), &n, &info, 1);
  NASWOT_EXPECT(info >= 0, Internal, "logabsdet: dpotrf argument " << -info << " rejected");
  if (info == 0) {
    double sum = 0.0;
    for (int i = 0; i < n; ++i) sum += std::log(a[static_cast<int64_t>(i) * n + i]);
    return {2.0 * sum, LogDetMethod::Cholesky};
  }

  copy_to_double(k, count, a.data());  // dpotrf overwrote part of the copy
  dgetrf_(&n, &n, a.data(), &n, ipiv.data(), &info);
  NASWOT_EXPECT(info >= 0, Internal, "logabsdet: dgetrf argument " << -info << " rejected");
  if (info > 0) return {kMinusInf, LogDetMethod::Singular};
  double sum = 0.0;
  for (int i = 0; i < n; ++i) {
    const double u = a[static_cast<int64_t>(i) * n + i];
    if (u == 0.0) return {kMinusInf, LogDetMethod::Singular};
    sum += std::log(std::fabs(u));
  }
  return {sum, LogDetMethod::Lu};
}

double logabsdet_reference(const int64_t* k, int n) {
  NASWOT_EXPECT(n >= 1, BadInput, "logabsdet_reference: n expected >= 1, got " << n);
  NASWOT_EXPECT(k != nullptr, BadInput, "logabsdet_reference: k expected non-null");
  std::vector<long double> a(static_cast<size_t>(n) * n);
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<long double>(k[i]);
  long double sum = 0.0L;
  for (int col = 0; col < n; ++col) {
    int piv = col;
    for (int r = col + 1; r < n; ++r) {
      if (std::fabs(a[static_cast<size_t>(r) * n + col]) > std::fabs(a[static_cast<size_t>(piv) * n + col])) piv = r;
    }
    const long double p = a[static_cast<size_t>(piv) * n + col];
    if (p == 0.0L) return kMinusInf;
    if (piv != col) {
      for (int c = 0; c < n; ++c) std::swap(a[static_cast<size_t>(piv) * n + c], a[static_cast<size_t>(col) * n + c]);
    }
    sum += std::log(std::fabs(p));
    for (int r = col + 1; r < n; ++r) {
      const long double f = a[static_cast<size_t>(r) * n + col] / p;
      if (f == 0.0L) continue;
      for (int c = col; c < n; ++c) a[static_cast<size_t>(r) * n + c] -= f * a[static_cast<size_t>(col) * n + c];
    }
  }
  return static_cast<double>(sum);
}

}  // namespace naswot::cpu
