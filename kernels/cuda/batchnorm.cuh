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
