// CUDA twin of kernels/cpu/batchnorm.h: train-mode BatchNorm over NHWC data viewed as
// rows x channels (rows = n*h*w), channels contiguous.
//  * batchnorm_stats: per-channel mean and biased variance. One pass over x: each thread sums
//    d = x - shift and d^2 in double, shift = the channel's value in row 0 (so the sums do not
//    cancel when |mean| >> std); per-block partials go to `scratch` and the last block to finish
//    (atomic ticket) adds them in block order. Deterministic run to run; agrees with the CPU
//    (Chan-merged double chunks) to about one float ulp, not bit for bit.
//  * batchnorm_apply: y = (x - mean) * invstd * gamma + beta with invstd = float(1 / sqrt(double(var)
//    + eps)), float operations left to right without FMA contraction: bit-identical to
//    cpu::batchnorm_apply for the same mean and var.
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

namespace naswot::cuda {

// Bytes of device scratch batchnorm_stats needs for this shape (partials + tickets). The
// scratch's ticket words must be zero before the first call; every call leaves them zero again.
size_t batchnorm_stats_scratch_bytes(int64_t rows, int channels);

void batchnorm_stats(const float* x, int64_t rows, int channels, float* mean, float* var, void* scratch,
                     cudaStream_t stream);
// Same, and also invstd[c] = float(1 / sqrt(double(var[c]) + eps)) from the rounded var (the value
// cpu::batchnorm_apply and the fused node kernel use).
void batchnorm_stats_invstd(const float* x, int64_t rows, int channels, float eps, float* mean, float* var,
                            float* invstd, void* scratch, cudaStream_t stream);

void batchnorm_apply(const float* x, int64_t rows, int channels, const float* mean, const float* var,
                     const float* gamma, const float* beta, float eps, float* y, cudaStream_t stream);

}  // namespace naswot::cuda

#if defined(__CUDACC__)
// Device building blocks of the statistics (nvcc only), shared by batchnorm.cu and segments.cu.
namespace naswot::cuda::detail {

inline constexpr int kBnGroup = 32;      // channels per stats block (blockDim.x)
inline constexpr int kBnRowThreads = 8;  // rows per stats block step (blockDim.y)

// invstd = float(1 / sqrt(double(var) + double(eps))), double and correctly rounded, as the CPU.
__device__ __forceinline__ float bn_invstd_of(float var, float eps) {
  return static_cast<float>(__ddiv_rn(1.0, __dsqrt_rn(__dadd_rn(static_cast<double>(var), static_cast<double>(eps)))));
}

// One kBnGroup x kBnRowThreads block: thread (x, y) sums d = x[r][c] - shift and d^2 in double
// over rows r = row_block * kBnRowThreads + y, stride row_blocks * kBnRowThreads (nothing when
// !valid); thread (x, 0) then gets the block's sums, row lanes added in order 0..7 (the other
// threads get 0). Contains one __syncthreads and leaves shared memory in use by thread (x, 0):
// synchronize before calling it again in the same block.
__device__ __forceinline__ void bn_stats_block_sums(const float* x, int64_t rows, int channels, int c, bool valid,
                                                    double shift, int64_t row_block, int64_t row_blocks, double* s1,
                                                    double* s2) {
  double a = 0.0, b = 0.0;
  if (valid) {
    for (int64_t r = row_block * kBnRowThreads + threadIdx.y; r < rows; r += row_blocks * kBnRowThreads) {
      const double d = static_cast<double>(x[r * channels + c]) - shift;
      a += d;
      b += d * d;
    }
  }
  __shared__ double sh1[kBnRowThreads][kBnGroup];
  __shared__ double sh2[kBnRowThreads][kBnGroup];
  sh1[threadIdx.y][threadIdx.x] = a;
  sh2[threadIdx.y][threadIdx.x] = b;
  __syncthreads();
  a = 0.0;
  b = 0.0;
  if (threadIdx.y == 0 && valid) {
    for (int t = 0; t < kBnRowThreads; ++t) {
      a += sh1[t][threadIdx.x];
      b += sh2[t][threadIdx.x];
    }
  }
  *s1 = a;
  *s2 = b;
}

// Channel c's statistics from the total shifted sums a = sum d, b = sum d^2 over all rows:
// mean = shift + a/rows, var = max(b/rows - (a/rows)^2, 0) (biased), invstd unless nullptr.
__device__ __forceinline__ void bn_stats_finalize(double a, double b, int64_t rows, double shift, float eps, int c,
                                                  float* mean, float* var, float* invstd) {
  const double m = a / static_cast<double>(rows);
  const double v = fmax(b / static_cast<double>(rows) - m * m, 0.0);
  const float vf = static_cast<float>(v);
  mean[c] = static_cast<float>(shift + m);
  var[c] = vf;
  if (invstd != nullptr) invstd[c] = bn_invstd_of(vf, eps);
}

}  // namespace naswot::cuda::detail
#endif
