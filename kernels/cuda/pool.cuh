// CUDA twins of kernels/cpu/pool.h over NHWC device tensors, bit-identical to the CPU:
// avgpool2d sums the window rows then columns in float from 0 and divides once (divisor per
// PyTorch: the window clipped to the padded image with count_include_pad, else to the image);
// maxpool2d starts at -inf, ignores padding and lets NaN win; global_avgpool sums each (n, c)
// over h*w in double, in pixel order, and rounds once.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/cpu/pool.h"

namespace naswot::cuda {

using cpu::Pool2dShape;

void avgpool2d(const Pool2dShape& s, bool count_include_pad, const float* x, float* y, cudaStream_t stream);
void maxpool2d(const Pool2dShape& s, const float* x, float* y, cudaStream_t stream);
void global_avgpool(int n, int64_t hw, int c, const float* x, float* y, cudaStream_t stream);  // y: [n, c]
// Twins of cpu::avgpool2d_segments / maxpool2d_segments: x_table is a DEVICE array of `segments`
// device pointers (tensors of shape s); y = [segments][n][oh][ow][c]; one launch.
void avgpool2d_segments(const Pool2dShape& s, bool count_include_pad, const float* const* x_table, int segments,
                        float* y, cudaStream_t stream);
void maxpool2d_segments(const Pool2dShape& s, const float* const* x_table, int segments, float* y,
                        cudaStream_t stream);

}  // namespace naswot::cuda
