// 2-D convolution, NHWC activations, PyTorch OIHW weights. conv2d runs through oneDNN (one
// primitive per shape, created on first use and cached); conv2d_reference is the naive loop nest
// (double accumulation) the tests compare against.
#pragma once
#include <cstdint>

namespace naswot::cpu {

struct Conv2dShape {
  int n = 1, h = 1, w = 1, c_in = 1, c_out = 1;
  int kernel_h = 1, kernel_w = 1;
  int stride_h = 1, stride_w = 1;
  int pad_h = 0, pad_w = 0;
  int dilation_h = 1, dilation_w = 1;
  int groups = 1;
  int out_h() const { return (h + 2 * pad_h - dilation_h * (kernel_h - 1) - 1) / stride_h + 1; }
  int out_w() const { return (w + 2 * pad_w - dilation_w * (kernel_w - 1) - 1) / stride_w + 1; }
  bool operator==(const Conv2dShape&) const = default;
};

// x: [n, h, w, c_in]; weight: [c_out, c_in/groups, kernel_h, kernel_w]; bias: [c_out] or nullptr;
// y: [n, out_h, out_w, c_out]. Uses all OpenMP threads.
void conv2d(const Conv2dShape& s, const float* x, const float* weight, const float* bias, float* y);
void conv2d_reference(const Conv2dShape& s, const float* x, const float* weight, const float* bias, float* y);

// Number of distinct shapes with a cached primitive (tests assert miss, then hit).
int conv2d_cached_shapes();

}  // namespace naswot::cpu
