// Pooling over NHWC tensors. avgpool2d follows PyTorch's AvgPool2d (floor mode; with
// count_include_pad=false a border window divides by the number of taps inside the image);
// maxpool2d ignores padding; global_avgpool averages over h*w.
#pragma once
#include <cstdint>

namespace naswot::cpu {

struct Pool2dShape {
  int n = 1, h = 1, w = 1, c = 1;
  int kernel = 1, stride = 1, pad = 0;
  int out_h() const { return (h + 2 * pad - kernel) / stride + 1; }
  int out_w() const { return (w + 2 * pad - kernel) / stride + 1; }
};

void avgpool2d(const Pool2dShape& s, bool count_include_pad, const float* x, float* y);
void maxpool2d(const Pool2dShape& s, const float* x, float* y);
void global_avgpool(int n, int64_t hw, int c, const float* x, float* y);  // y: [n, c]

// The same pools over `segments` tensors of shape s (one per architecture of a stacked step),
// read through a table of input pointers and written contiguously: segment k of y is
// avgpool2d / maxpool2d of x_table[k] (CUDA twins in kernels/cuda/pool.cuh, one launch).
void avgpool2d_segments(const Pool2dShape& s, bool count_include_pad, const float* const* x_table, int segments,
                        float* y);
void maxpool2d_segments(const Pool2dShape& s, const float* const* x_table, int segments, float* y);

}  // namespace naswot::cpu
