// Memory-bound elementwise kernels (see elementwise.cuh). All use grid-stride loops with 256
// threads per block and a grid capped at kMaxBlocks, so any size is one launch. add_n takes up to
// kAddChunk inputs per launch through the kernel parameters and continues from y for longer sums,
// which keeps the left-to-right order. linear is one thread per output (n x out is tiny: the
// classifier), accumulating in double like the CPU.
#include <algorithm>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/device_info.cuh"
#include "kernels/cuda/elementwise.cuh"

namespace naswot::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kMaxBlocks = 65535LL * 8;
constexpr int kAddChunk = 8;

unsigned blocks_for(int64_t count) {
  return static_cast<unsigned>(std::clamp<int64_t>((count + kThreads - 1) / kThreads, 1, kMaxBlocks));
}

#define NASWOT_GRID_STRIDE(e, count)                                                                       \
  for (int64_t e = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < (count); \
       e += static_cast<int64_t>(gridDim.x) * blockDim.x)

__global__ void relu_kernel(const float* __restrict__ x, int64_t count, float* __restrict__ y) {
  NASWOT_GRID_STRIDE(e, count) {
    const float v = x[e];
    y[e] = v < 0.0f ? 0.0f : v;
  }
}

struct AddChunk {
  const float* x[kAddChunk];
  int count;
};

// continue_sum: y already holds the sum of earlier inputs (y is then read, so no __restrict__).
__global__ void add_n_kernel(const AddChunk chunk, bool continue_sum, int64_t count, float* y) {
  NASWOT_GRID_STRIDE(e, count) {
    float v = continue_sum ? y[e] : __fadd_rn(0.0f, chunk.x[0][e]);
    for (int k = continue_sum ? 0 : 1; k < chunk.count; ++k) v = __fadd_rn(v, chunk.x[k][e]);
    y[e] = v;
  }
}

__global__ void zero_kernel(const float* __restrict__ x, int h, int w, int c, int stride, int oh, int ow,
                            int64_t count, float* __restrict__ y) {
  NASWOT_GRID_STRIDE(e, count) {
    const int64_t ch = e % c;
    int64_t rest = e / c;
    const int64_t ox = rest % ow;
    rest /= ow;
    const int64_t oy = rest % oh;
    const int64_t img = rest / oh;
    const float v = x[((img * h + oy * stride) * w + ox * stride) * c + ch];
    y[e] = __fmul_rn(v, 0.0f);
  }
}

__global__ void shift_kernel(const float* __restrict__ x, int h, int w, int c, int64_t count,
                             float* __restrict__ y) {
  NASWOT_GRID_STRIDE(e, count) {
    const int64_t ch = e % c;
    int64_t rest = e / c;
    const int64_t ox = rest % w;
    rest /= w;
    const int64_t oy = rest % h;
    const int64_t img = rest / h;
    y[e] = oy + 1 < h && ox + 1 < w ? x[((img * h + oy + 1) * w + ox + 1) * c + ch] : 0.0f;
  }
}

__global__ void concat_kernel(const float* __restrict__ x, int64_t rows, int c_in, int c_out, int offset,
                              float* __restrict__ y) {
  NASWOT_GRID_STRIDE(e, rows * c_in) {
    const int64_t r = e / c_in;
    const int64_t ch = e % c_in;
    y[r * c_out + offset + ch] = x[e];
  }
}

__global__ void linear_kernel(const float* __restrict__ x, int n, int in, int out, const float* __restrict__ weight,
                              const float* __restrict__ bias, float* __restrict__ y) {
  NASWOT_GRID_STRIDE(e, static_cast<int64_t>(n) * out) {
    const int64_t i = e / out;
    const int64_t o = e % out;
    const float* xr = x + i * in;
    const float* wr = weight + o * in;
    double acc = bias != nullptr ? static_cast<double>(bias[o]) : 0.0;
    for (int k = 0; k < in; ++k)
      acc = __dadd_rn(acc, __dmul_rn(static_cast<double>(xr[k]), static_cast<double>(wr[k])));
    y[e] = static_cast<float>(acc);
  }
}

#undef NASWOT_GRID_STRIDE

}  // namespace

void relu(const float* x, int64_t count, float* y, cudaStream_t stream) {
  NASWOT_EXPECT(count >= 0, BadInput, "cuda::relu: count expected >= 0, got " << count);
  if (count == 0) return;
  NASWOT_EXPECT(x != nullptr && y != nullptr, BadInput, "cuda::relu: x and y expected non-null");
  relu_kernel<<<blocks_for(count), kThreads, 0, stream>>>(x, count, y);
  NASWOT_CHECK_LAUNCH(relu_kernel, stream);
}

void add_n(const float* const* xs, int num_inputs, int64_t count, float* y, cudaStream_t stream) {
  NASWOT_EXPECT(num_inputs >= 1 && xs != nullptr, BadInput, "cuda::add_n: num_inputs expected >= 1, got " << num_inputs);
  NASWOT_EXPECT(count >= 0, BadInput, "cuda::add_n: count expected >= 0, got " << count);
  NASWOT_EXPECT(y != nullptr, BadInput, "cuda::add_n: y expected non-null");
  if (count == 0) return;
  for (int first = 0; first < num_inputs; first += kAddChunk) {
    AddChunk chunk{};
    chunk.count = std::min(kAddChunk, num_inputs - first);
    for (int k = 0; k < chunk.count; ++k) {
      NASWOT_EXPECT(xs[first + k] != nullptr, BadInput, "cuda::add_n: input " << first + k << " expected non-null");
      chunk.x[k] = xs[first + k];
    }
    add_n_kernel<<<blocks_for(count), kThreads, 0, stream>>>(chunk, first > 0, count, y);
    NASWOT_CHECK_LAUNCH(add_n_kernel, stream);
  }
}

void zero(const float* x, int n, int h, int w, int c, int stride, float* y, cudaStream_t stream) {
  NASWOT_EXPECT(n >= 1 && h >= 1 && w >= 1 && c >= 1 && stride >= 1, BadInput,
                "cuda::zero: n, h, w, c, stride expected >= 1, got n=" << n << " h=" << h << " w=" << w << " c=" << c
                                                                       << " stride=" << stride);
  NASWOT_EXPECT(x != nullptr && y != nullptr, BadInput, "cuda::zero: x and y expected non-null");
  const int oh = (h + stride - 1) / stride, ow = (w + stride - 1) / stride;
  const int64_t count = static_cast<int64_t>(n) * oh * ow * c;
  zero_kernel<<<blocks_for(count), kThreads, 0, stream>>>(x, h, w, c, stride, oh, ow, count, y);
  NASWOT_CHECK_LAUNCH(zero_kernel, stream);
}

void shift_up_left(const float* x, int n, int h, int w, int c, float* y, cudaStream_t stream) {
  NASWOT_EXPECT(n >= 1 && h >= 1 && w >= 1 && c >= 1, BadInput,
                "cuda::shift_up_left: n, h, w, c expected >= 1, got n=" << n << " h=" << h << " w=" << w
                                                                        << " c=" << c);
  NASWOT_EXPECT(x != nullptr && y != nullptr && x != y, BadInput,
                "cuda::shift_up_left: x and y expected non-null and distinct");
  const int64_t count = static_cast<int64_t>(n) * h * w * c;
  shift_kernel<<<blocks_for(count), kThreads, 0, stream>>>(x, h, w, c, count, y);
  NASWOT_CHECK_LAUNCH(shift_kernel, stream);
}

void concat_channels(const float* const* xs, const int* channels, int num_inputs, int64_t rows, float* y,
                     cudaStream_t stream) {
  NASWOT_EXPECT(num_inputs >= 1 && rows >= 0, BadInput,
                "cuda::concat_channels: num_inputs expected >= 1 and rows >= 0, got " << num_inputs << ", " << rows);
  NASWOT_EXPECT(xs != nullptr && channels != nullptr && y != nullptr, BadInput,
                "cuda::concat_channels: xs, channels and y expected non-null");
  int total = 0;
  for (int k = 0; k < num_inputs; ++k) {
    NASWOT_EXPECT(xs[k] != nullptr && channels[k] >= 1, BadInput,
                  "cuda::concat_channels: input " << k << " expected non-null with channels >= 1, got " << channels[k]);
    total += channels[k];
  }
  if (rows == 0) return;
  int offset = 0;
  for (int k = 0; k < num_inputs; ++k) {
    concat_kernel<<<blocks_for(rows * channels[k]), kThreads, 0, stream>>>(xs[k], rows, channels[k], total, offset, y);
    NASWOT_CHECK_LAUNCH(concat_kernel, stream);
    offset += channels[k];
  }
}

void linear(const float* x, int n, int in, int out, const float* weight, const float* bias, float* y,
            cudaStream_t stream) {
  NASWOT_EXPECT(n >= 1 && in >= 1 && out >= 1, BadInput,
                "cuda::linear: n, in, out expected >= 1, got n=" << n << " in=" << in << " out=" << out);
  NASWOT_EXPECT(x != nullptr && weight != nullptr && y != nullptr, BadInput,
                "cuda::linear: x, weight and y expected non-null");
  const int64_t count = static_cast<int64_t>(n) * out;
  linear_kernel<<<blocks_for(count), kThreads, 0, stream>>>(x, n, in, out, weight, bias, y);
  NASWOT_CHECK_LAUNCH(linear_kernel, stream);
}

}  // namespace naswot::cuda
