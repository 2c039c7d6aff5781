// BatchNorm (train mode) over NHWC data viewed as rows x channels, rows = n*h*w.
// Statistics: per-channel mean and biased variance in double. Rows are cut into fixed chunks of
// kChunkRows; each chunk computes its count, mean and M2 = sum (x - chunk_mean)^2 by two passes
// over data that sits in cache, then the chunks are merged in chunk order with Chan's pairwise
// formula. One pass over memory, numerically sound, and bit-identical for any thread count since
// the chunking and the merge order never depend on the threads.
// Apply: y = (x - mean) * invstd * gamma + beta in float, left to right, with
// invstd = 1 / sqrt(var + eps) computed in double and rounded once to float (PyTorch's CPU kernel
// also forms invstd from its double accumulation before going back to float).
#include "kernels/cpu/batchnorm.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "runtime/error.h"

namespace naswot::cpu {
namespace {

constexpr int64_t kChunkRows = 256;  // 256 rows x 64 channels x 4 B = 64 KiB: stays in L2

void check_args(const char* who, const float* x, int64_t rows, int channels, const float* a, const float* b,
                const float* out) {
  NASWOT_EXPECT(rows >= 1 && channels >= 1, BadInput,
                who << ": rows and channels expected >= 1, got rows=" << rows << " channels=" << channels);
  NASWOT_EXPECT(x != nullptr && a != nullptr && b != nullptr && out != nullptr, BadInput,
                who << ": x and the per-channel buffers expected non-null");
}

}  // namespace

void batchnorm_stats(const float* x, int64_t rows, int channels, float* mean, float* var) {
  check_args("batchnorm_stats", x, rows, channels, mean, var, mean);
  const int64_t chunks = (rows + kChunkRows - 1) / kChunkRows;
  const int64_t c = channels;
  // Per-chunk (mean, M2); kept per thread and only grown, so steady-state calls do not allocate.
  thread_local std::vector<double> part;
  if (static_cast<int64_t>(part.size()) < 2 * chunks * c) part.resize(2 * chunks * c);
  double* part_mean = part.data();
  double* part_m2 = part.data() + chunks * c;

#pragma omp parallel for schedule(static)
  for (int64_t k = 0; k < chunks; ++k) {
    const int64_t r0 = k * kChunkRows, r1 = std::min(rows, r0 + kChunkRows);
    double* m = part_mean + k * c;
    double* m2 = part_m2 + k * c;
    std::fill(m, m + c, 0.0);
    std::fill(m2, m2 + c, 0.0);
    for (int64_t r = r0; r < r1; ++r) {
      const float* row = x + r * c;
      for (int64_t j = 0; j < c; ++j) m[j] += row[j];
    }
    const double inv_count = 1.0 / static_cast<double>(r1 - r0);
    for (int64_t j = 0; j < c; ++j) m[j] *= inv_count;
    for (int64_t r = r0; r < r1; ++r) {
      const float* row = x + r * c;
      for (int64_t j = 0; j < c; ++j) {
        const double d = row[j] - m[j];
        m2[j] += d * d;
      }
    }
  }

  // Chan et al. merge, chunk 0, 1, 2, ... in order.
  for (int64_t j = 0; j < c; ++j) {
    double count = 0.0, mu = 0.0, m2 = 0.0;
    for (int64_t k = 0; k < chunks; ++k) {
      const double nk = static_cast<double>(std::min(rows, (k + 1) * kChunkRows) - k * kChunkRows);
      const double delta = part_mean[k * c + j] - mu;
      const double total = count + nk;
      mu += delta * (nk / total);
      m2 += part_m2[k * c + j] + delta * delta * (count * nk / total);
      count = total;
    }
    mean[j] = static_cast<float>(mu);
    var[j] = static_cast<float>(m2 / count);  // biased: divide by the row count
  }
}

void batchnorm_apply(const float* x, int64_t rows, int channels, const float* mean, const float* var,
                     const float* gamma, const float* beta, float eps, float* y) {
  check_args("batchnorm_apply", x, rows, channels, mean, var, y);
  NASWOT_EXPECT(gamma != nullptr && beta != nullptr, BadInput, "batchnorm_apply: gamma and beta expected non-null");
  NASWOT_EXPECT(eps >= 0.0f, BadInput, "batchnorm_apply: eps expected >= 0, got " << eps);
  constexpr int kMaxStackChannels = 4096;
  NASWOT_EXPECT(channels <= kMaxStackChannels, BadInput,
                "batchnorm_apply: channels=" << channels << " expected <= " << kMaxStackChannels);
  float invstd[kMaxStackChannels];
  for (int j = 0; j < channels; ++j) {
    invstd[j] = static_cast<float>(1.0 / std::sqrt(static_cast<double>(var[j]) + static_cast<double>(eps)));
  }
  const int64_t c = channels;
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    const float* in = x + r * c;
    float* out = y + r * c;
    for (int64_t j = 0; j < c; ++j) out[j] = (in[j] - mean[j]) * invstd[j] * gamma[j] + beta[j];
  }
}

void batchnorm_train_reference(const float* x, int64_t rows, int channels, const float* gamma, const float* beta,
                               float eps, float* y, float* mean, float* var) {
  check_args("batchnorm_train_reference", x, rows, channels, mean, var, y);
  NASWOT_EXPECT(gamma != nullptr && beta != nullptr, BadInput,
                "batchnorm_train_reference: gamma and beta expected non-null");
  for (int j = 0; j < channels; ++j) {
    long double sum = 0.0L;
    for (int64_t r = 0; r < rows; ++r) sum += x[r * channels + j];
    const long double mu = sum / rows;
    long double sq = 0.0L;
    for (int64_t r = 0; r < rows; ++r) {
      const long double d = x[r * channels + j] - mu;
      sq += d * d;
    }
    const long double v = sq / rows;
    const long double inv = 1.0L / std::sqrt(v + static_cast<long double>(eps));
    for (int64_t r = 0; r < rows; ++r) {
      y[r * channels + j] = static_cast<float>((x[r * channels + j] - mu) * inv * gamma[j] + beta[j]);
    }
    mean[j] = static_cast<float>(mu);
    var[j] = static_cast<float>(v);
  }
}

}  // namespace naswot::cpu
