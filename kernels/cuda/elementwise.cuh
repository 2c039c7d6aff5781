// CUDA twins of kernels/cpu/elementwise.h over NHWC device tensors, same semantics bit for bit:
// relu keeps NaN and -0 (x < 0 ? 0 : x); add_n sums in input order from 0 (0.0f + x0 + x1 ...);
// zero writes x * 0.0f of the strided sample (sign of zero and NaN as PyTorch's x.mul(0.));
// concat_channels copies; linear accumulates x*w in double in index order, bias first.
// Float/double arithmetic uses round-to-nearest intrinsics so nvcc cannot contract it into FMAs
// that the CPU does not use.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

namespace naswot::cuda {

void relu(const float* x, int64_t count, float* y, cudaStream_t stream);
// xs: host array of num_inputs device pointers.
void add_n(const float* const* xs, int num_inputs, int64_t count, float* y, cudaStream_t stream);
void zero(const float* x, int n, int h, int w, int c, int stride, float* y, cudaStream_t stream);
// y[n, i, j] = x[n, i+1, j+1], 0 past the bottom/right edge (FactorizedReduce's pad-then-crop).
void shift_up_left(const float* x, int n, int h, int w, int c, float* y, cudaStream_t stream);
// xs, channels: host arrays; y has sum(channels) channels per row.
void concat_channels(const float* const* xs, const int* channels, int num_inputs, int64_t rows, float* y,
                     cudaStream_t stream);
// y[n, out] = x[n, in] . weight[out, in] + bias[out] (bias may be nullptr).
void linear(const float* x, int n, int in, int out, const float* weight, const float* bias, float* y,
            cudaStream_t stream);

}  // namespace naswot::cuda
