// log|det K| of the symmetric integer kernel matrix in float64: LAPACK Cholesky (dpotrf) first,
// LU with partial pivoting (dgetrf) when Cholesky fails, -inf with status Singular when LU
// finds an exact zero pivot (numpy.linalg.slogdet returns -inf there too) or when two rows of K
// are exactly equal (checked first: det is then exactly 0, whatever the rounding of a factorization).
#pragma once
#include <cstdint>

namespace naswot::cpu {

enum class LogDetMethod : uint8_t { Cholesky, Lu, Singular };
const char* to_string(LogDetMethod m);

struct LogDet {
  double value = 0.0;  // natural log of |det|; -inf when Singular
  LogDetMethod method = LogDetMethod::Cholesky;
};

LogDet logabsdet(const int64_t* k, int n);
// Naive Gaussian elimination with partial pivoting in long double, for tests.
double logabsdet_reference(const int64_t* k, int n);

}  // namespace naswot::cpu
