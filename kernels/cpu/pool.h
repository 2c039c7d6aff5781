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

}  // namespace naswot::cpu
