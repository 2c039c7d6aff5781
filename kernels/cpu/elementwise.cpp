// Small memory-bound ops over NHWC tensors: relu, add_n, zero, shift_up_left, concat_channels, linear.
// All are plain OpenMP loops over contiguous memory. Numerics follow PyTorch where it is visible:
// relu keeps NaN (x < 0 ? 0 : x); add_n sums in input order starting from 0 like Python's sum();
// zero writes x * 0.0f of each sampled element, so the sign of the zero matches x.mul(0.) (and a
// NaN/Inf input gives NaN, as in PyTorch); linear accumulates in double.
#include "kernels/cpu/elementwise.h"

#include <algorithm>

#include "runtime/error.h"

namespace naswot::cpu {

void relu(const float* x, int64_t count, float* y) {
  NASWOT_EXPECT(count >= 0, BadInput, "relu: count expected >= 0, got " << count);
  NASWOT_EXPECT(count == 0 || (x != nullptr && y != nullptr), BadInput, "relu: x and y expected non-null");
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < count; ++i) y[i] = x[i] < 0.0f ? 0.0f : x[i];
}

void add_n(const float* const* xs, int num_inputs, int64_t count, float* y) {
  NASWOT_EXPECT(num_inputs >= 1, BadInput, "add_n: num_inputs expected >= 1, got " << num_inputs);
  NASWOT_EXPECT(count >= 0, BadInput, "add_n: count expected >= 0, got " << count);
  NASWOT_EXPECT(xs != nullptr && y != nullptr, BadInput, "add_n: xs and y expected non-null");
  for (int k = 0; k < num_inputs; ++k) {
    NASWOT_EXPECT(xs[k] != nullptr, BadInput, "add_n: input " << k << " expected non-null");
  }
  constexpr int64_t kBlock = 4096;  // y's block stays in L1 while the inputs stream past it
  const int64_t blocks = (count + kBlock - 1) / kBlock;
#pragma omp parallel for schedule(static)
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t i0 = b * kBlock, i1 = std::min(count, i0 + kBlock);
    // 0.0f + x0 mirrors Python's sum(): only -0.0 changes (to +0.0).
    for (int64_t i = i0; i < i1; ++i) y[i] = 0.0f + xs[0][i];
    for (int k = 1; k < num_inputs; ++k) {
      const float* in = xs[k];
      for (int64_t i = i0; i < i1; ++i) y[i] += in[i];
    }
  }
}

void zero(const float* x, int n, int h, int w, int c, int stride, float* y) {
  NASWOT_EXPECT(n >= 1 && h >= 1 && w >= 1 && c >= 1 && stride >= 1, BadInput,
                "zero: n, h, w, c, stride expected >= 1, got n=" << n << " h=" << h << " w=" << w << " c=" << c
                                                                 << " stride=" << stride);
  NASWOT_EXPECT(x != nullptr && y != nullptr, BadInput, "zero: x and y expected non-null");
  const int oh = (h + stride - 1) / stride, ow = (w + stride - 1) / stride;
#pragma omp parallel for schedule(static)
  for (int64_t row = 0; row < static_cast<int64_t>(n) * oh; ++row) {
    const int64_t img = row / oh;
    const int64_t iy = (row % oh) * stride;
    for (int ox = 0; ox < ow; ++ox) {
      const float* in = x + ((img * h + iy) * w + static_cast<int64_t>(ox) * stride) * c;
      float* out = y + (row * ow + ox) * c;
      for (int j = 0; j < c; ++j) out[j] = in[j] * 0.0f;
    }
  }
}

void shift_up_left(const float* x, int n, int h, int w, int c, float* y) {
  NASWOT_EXPECT(n >= 1 && h >= 1 && w >= 1 && c >= 1, BadInput,
                "shift_up_left: n, h, w, c expected >= 1, got n=" << n << " h=" << h << " w=" << w << " c=" << c);
  NASWOT_EXPECT(x != nullptr && y != nullptr && x != y, BadInput,
                "shift_up_left: x and y expected non-null and distinct");
#pragma omp parallel for schedule(static)
  for (int64_t row = 0; row < static_cast<int64_t>(n) * h; ++row) {
    const int64_t img = row / h;
    const int64_t iy = row % h + 1;
    float* out = y + row * w * c;
    if (iy == h) {
      std::fill(out, out + static_cast<int64_t>(w) * c, 0.0f);
      continue;
    }
    const float* in = x + ((img * h + iy) * w + 1) * c;
    std::copy(in, in + static_cast<int64_t>(w - 1) * c, out);
    std::fill(out + static_cast<int64_t>(w - 1) * c, out + static_cast<int64_t>(w) * c, 0.0f);
  }
}

void concat_channels(const float* const* xs, const int* channels, int num_inputs, int64_t rows, float* y) {
  NASWOT_EXPECT(num_inputs >= 1 && rows >= 0, BadInput,
                "concat_channels: num_inputs expected >= 1 and rows >= 0, got " << num_inputs << ", " << rows);
  NASWOT_EXPECT(xs != nullptr && channels != nullptr && y != nullptr, BadInput,
                "concat_channels: xs, channels and y expected non-null");
  int64_t total = 0;
  for (int k = 0; k < num_inputs; ++k) {
    NASWOT_EXPECT(xs[k] != nullptr && channels[k] >= 1, BadInput,
                  "concat_channels: input " << k << " expected non-null with channels >= 1, got " << channels[k]);
    total += channels[k];
  }
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    float* out = y + r * total;
    for (int k = 0; k < num_inputs; ++k) {
      const int64_t ck = channels[k];
      std::copy(xs[k] + r * ck, xs[k] + (r + 1) * ck, out);
      out += ck;
    }
  }
}

void linear(const float* x, int n, int in, int out, const float* weight, const float* bias, float* y) {
  NASWOT_EXPECT(n >= 1 && in >= 1 && out >= 1, BadInput,
                "linear: n, in, out expected >= 1, got n=" << n << " in=" << in << " out=" << out);
  NASWOT_EXPECT(x != nullptr && weight != nullptr && y != nullptr, BadInput,
                "linear: x, weight and y expected non-null");
#pragma omp parallel for collapse(2) schedule(static)
  for (int i = 0; i < n; ++i) {
    for (int o = 0; o < out; ++o) {
      const float* xr = x + static_cast<int64_t>(i) * in;
      const float* wr = weight + static_cast<int64_t>(o) * in;
      double acc = bias ? bias[o] : 0.0;
      for (int k = 0; k < in; ++k) acc += static_cast<double>(xr[k]) * wr[k];
      y[static_cast<int64_t>(i) * out + o] = static_cast<float>(acc);
    }
  }
}

}  // namespace naswot::cpu
