// Small memory-bound ops over NHWC tensors.
#pragma once
#include <cstdint>

namespace naswot::cpu {

void relu(const float* x, int64_t count, float* y);
// y = xs[0] + xs[1] + ... in that order (PyTorch's Python sum order: 0 + e1 + e2 ...).
void add_n(const float* const* xs, int num_inputs, int64_t count, float* y);
// y = x * 0 over a strided subsample (stride 1: same shape). x: [n,h,w,c] -> y: [n,ceil(h/s),ceil(w/s),c].
void zero(const float* x, int n, int h, int w, int c, int stride, float* y);
// y[n, i, j, :] = x[n, i+1, j+1, :], 0 where i+1 == h or j+1 == w (pad bottom/right by one, then
// drop the first row and column: FactorizedReduce's second branch). Same shape as x.
void shift_up_left(const float* x, int n, int h, int w, int c, float* y);
// Channel concatenation: y[..., offset_k : offset_k + c_k] = xs[k]; all inputs share n*h*w rows.
void concat_channels(const float* const* xs, const int* channels, int num_inputs, int64_t rows, float* y);
// y[n, out] = x[n, in] * weight[out, in]^T + bias[out] (bias may be nullptr).
void linear(const float* x, int n, int in, int out, const float* weight, const float* bias, float* y);

}  // namespace naswot::cpu
