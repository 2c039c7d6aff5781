// Pooling kernels (see pool.cuh): one thread per output element, channel fastest so a warp reads
// consecutive channels of one pixel. Windows are at most 3x3 in the spaces naswot runs, so the
// straightforward loop is the default; global_avgpool is one thread per (n, c) over h*w pixels.
#include <algorithm>
#include <climits>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/device_info.cuh"
#include "kernels/cuda/pool.cuh"

namespace naswot::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kMaxBlocks = 65535LL * 8;

unsigned blocks_for(int64_t count) {
  return static_cast<unsigned>(std::clamp<int64_t>((count + kThreads - 1) / kThreads, 1, kMaxBlocks));
}

using detail::pool_element;
using Geometry = detail::PoolGeometry;

template <bool MAX>
__global__ void pool_kernel(const Geometry g, bool count_include_pad, int64_t count, const float* __restrict__ x,
                            float* __restrict__ y) {
  for (int64_t e = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < count;
       e += static_cast<int64_t>(gridDim.x) * blockDim.x)
    y[e] = pool_element<MAX>(g, count_include_pad, e, x);
}

// count = elements of one segment's output; blockIdx.y strides over the segments.
template <bool MAX>
__global__ void pool_segments_kernel(const Geometry g, bool count_include_pad, int64_t count,
                                     const float* const* __restrict__ x_table, int segments, float* __restrict__ y) {
  for (int k = static_cast<int>(blockIdx.y); k < segments; k += static_cast<int>(gridDim.y)) {
    const float* x = x_table[k];
    for (int64_t e = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < count;
         e += static_cast<int64_t>(gridDim.x) * blockDim.x)
      y[k * count + e] = pool_element<MAX>(g, count_include_pad, e, x);
  }
}

__global__ void global_avgpool_kernel(int n, int64_t hw, int c, const float* __restrict__ x, float* __restrict__ y) {
  const int64_t count = static_cast<int64_t>(n) * c;
  for (int64_t e = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < count;
       e += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t img = e / c, ch = e % c;
    const float* p = x + img * hw * c + ch;
    double acc = 0.0;
    for (int64_t q = 0; q < hw; ++q) acc = __dadd_rn(acc, static_cast<double>(p[q * c]));
    y[e] = static_cast<float>(__ddiv_rn(acc, static_cast<double>(hw)));
  }
}

void check_pool(const char* who, const Pool2dShape& s, const float* x, const float* y) {
  NASWOT_EXPECT(s.n >= 1 && s.h >= 1 && s.w >= 1 && s.c >= 1, BadInput,
                who << ": n, h, w, c expected >= 1, got n=" << s.n << " h=" << s.h << " w=" << s.w << " c=" << s.c);
  NASWOT_EXPECT(s.kernel >= 1 && s.stride >= 1 && s.pad >= 0 && 2 * s.pad <= s.kernel, BadInput,
                who << ": kernel=" << s.kernel << " stride=" << s.stride << " pad=" << s.pad
                    << " expected kernel, stride >= 1 and 0 <= pad <= kernel/2");
  NASWOT_EXPECT(s.h + 2 * s.pad >= s.kernel && s.w + 2 * s.pad >= s.kernel, BadInput,
                who << ": kernel=" << s.kernel << " larger than the padded input " << s.h << "x" << s.w);
  NASWOT_EXPECT(static_cast<int64_t>(s.h) * s.w * s.c <= INT_MAX, BadInput,
                who << ": one image of " << s.h << "x" << s.w << "x" << s.c << " exceeds 32-bit indexing");
  NASWOT_EXPECT(x != nullptr && y != nullptr, BadInput, who << ": x and y expected non-null");
}

template <bool MAX>
void launch_pool(const Pool2dShape& s, bool count_include_pad, const float* x, float* y, cudaStream_t stream) {
  const Geometry g{s.h, s.w, s.c, s.kernel, s.stride, s.pad, s.out_h(), s.out_w()};
  const int64_t count = static_cast<int64_t>(s.n) * g.oh * g.ow * g.c;
  pool_kernel<MAX><<<blocks_for(count), kThreads, 0, stream>>>(g, count_include_pad, count, x, y);
  NASWOT_CHECK_LAUNCH(pool_kernel, stream);
}

template <bool MAX>
void launch_pool_segments(const char* who, const Pool2dShape& s, bool count_include_pad, const float* const* x_table,
                          int segments, float* y, cudaStream_t stream) {
  NASWOT_EXPECT(segments >= 0, BadInput, who << ": segments expected >= 0, got " << segments);
  if (segments == 0) return;
  float probe = 0.0f;  // check_pool's pointer test: the table is checked below instead
  check_pool(who, s, &probe, y);
  NASWOT_EXPECT(x_table != nullptr, BadInput, who << ": x_table expected non-null");
  const Geometry g{s.h, s.w, s.c, s.kernel, s.stride, s.pad, s.out_h(), s.out_w()};
  const int64_t count = static_cast<int64_t>(s.n) * g.oh * g.ow * g.c;
  const unsigned blocks_x = std::max(1u, blocks_for(count) / static_cast<unsigned>(std::min(segments, 64)));
  const dim3 grid(blocks_x, static_cast<unsigned>(std::min(segments, 65535)));
  pool_segments_kernel<MAX><<<grid, kThreads, 0, stream>>>(g, count_include_pad, count, x_table, segments, y);
  NASWOT_CHECK_LAUNCH(pool_segments_kernel, stream);
}

}  // namespace

void avgpool2d_segments(const Pool2dShape& s, bool count_include_pad, const float* const* x_table, int segments,
                        float* y, cudaStream_t stream) {
  launch_pool_segments<false>("cuda::avgpool2d_segments", s, count_include_pad, x_table, segments, y, stream);
}

void maxpool2d_segments(const Pool2dShape& s, const float* const* x_table, int segments, float* y,
                        cudaStream_t stream) {
  launch_pool_segments<true>("cuda::maxpool2d_segments", s, false, x_table, segments, y, stream);
}

void avgpool2d(const Pool2dShape& s, bool count_include_pad, const float* x, float* y, cudaStream_t stream) {
  check_pool("cuda::avgpool2d", s, x, y);
  launch_pool<false>(s, count_include_pad, x, y, stream);
}

void maxpool2d(const Pool2dShape& s, const float* x, float* y, cudaStream_t stream) {
  check_pool("cuda::maxpool2d", s, x, y);
  launch_pool<true>(s, false, x, y, stream);
}

void global_avgpool(int n, int64_t hw, int c, const float* x, float* y, cudaStream_t stream) {
  NASWOT_EXPECT(n >= 1 && hw >= 1 && c >= 1, BadInput,
                "cuda::global_avgpool: n, hw, c expected >= 1, got n=" << n << " hw=" << hw << " c=" << c);
  NASWOT_EXPECT(x != nullptr && y != nullptr, BadInput, "cuda::global_avgpool: x and y expected non-null");
  const int64_t count = static_cast<int64_t>(n) * c;
  global_avgpool_kernel<<<blocks_for(count), kThreads, 0, stream>>>(n, hw, c, x, y);
  NASWOT_CHECK_LAUNCH(global_avgpool_kernel, stream);
}

}  // namespace naswot::cuda
