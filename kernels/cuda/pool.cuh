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

#if defined(__CUDACC__)
// Device building block (nvcc only), shared by pool.cu and the node pass (bn_add_pack.cuh's
// pooled terms).
namespace naswot::cuda::detail {

struct PoolGeometry {
  int h, w, c, kernel, stride, pad, oh, ow;
};

// q / d and q % d for d > 0; a power of two d (NB-201's channels and widths) takes a shift and a
// mask instead of the division sequence (the node pass is instruction-bound: ncu, 2026-12-04).
__device__ __forceinline__ void div_mod(int q, int d, int& quotient, int& remainder) {
  if ((d & (d - 1)) == 0) {
    quotient = q >> (__ffs(d) - 1);
    remainder = q & (d - 1);
  } else {
    quotient = q / d;
    remainder = q - quotient * d;
  }
}

template <bool MAX>
__device__ __forceinline__ void pool_tap(float& acc, float v) {
  if (MAX) {
    if (v > acc || isnan(v)) acc = v;
  } else {
    acc = __fadd_rn(acc, v);
  }
}

// Output element u (NHWC within one image, u < oh * ow * c) of image img of a pool over x (all
// images): the window clipped as
// cpu::avgpool2d / maxpool2d clip it, summed rows then columns (explicitly rounded adds, one
// division) or max-selected with NaN winning.
// Index arithmetic in 32 bits within the image (64-bit division is a long emulated sequence on the
// GPU; one image's units fit an int, which the launchers check).
template <bool MAX>
__device__ __forceinline__ float pool_element_in_image(const PoolGeometry& g, bool count_include_pad, int64_t img,
                                                       int u, const float* __restrict__ x) {
  int rest = 0, ch = 0, oy = 0, ox = 0;
  div_mod(u, g.c, rest, ch);
  div_mod(rest, g.ow, oy, ox);
  const float* xi = x + img * (static_cast<int64_t>(g.h) * g.w * g.c);
  int y0 = oy * g.stride - g.pad, x0 = ox * g.stride - g.pad;
  int y1 = min(y0 + g.kernel, g.h + g.pad), x1 = min(x0 + g.kernel, g.w + g.pad);
  const int padded_taps = (y1 - y0) * (x1 - x0);
  float acc = MAX ? -__int_as_float(0x7f800000) : 0.0f;  // -inf for max
  if (g.kernel == 3) {
    // NB-201's and DARTS' 3x3 windows unrolled: the same taps in the same order (rows, then
    // columns, clipped to the image) as the general loop below, so the same bits.
    const int w0 = x0;
#pragma unroll
    for (int dy = 0; dy < 3; ++dy) {
      const int iy = y0 + dy;
      if (iy < 0 || iy >= y1 || iy >= g.h) continue;
#pragma unroll
      for (int dx = 0; dx < 3; ++dx) {
        const int ix = w0 + dx;
        if (ix < 0 || ix >= x1 || ix >= g.w) continue;
        pool_tap<MAX>(acc, xi[(iy * g.w + ix) * g.c + ch]);
      }
    }
    y0 = max(y0, 0);
    x0 = max(x0, 0);
    y1 = min(y1, g.h);
    x1 = min(x1, g.w);
  } else {
    y0 = max(y0, 0);
    x0 = max(x0, 0);
    y1 = min(y1, g.h);
    x1 = min(x1, g.w);
    for (int iy = y0; iy < y1; ++iy)
      for (int ix = x0; ix < x1; ++ix) pool_tap<MAX>(acc, xi[(iy * g.w + ix) * g.c + ch]);
  }
  if (!MAX) {
    const int divisor = count_include_pad ? padded_taps : (y1 - y0) * (x1 - x0);
    acc = __fdiv_rn(acc, static_cast<float>(divisor));
  }
  return acc;
}

// Output element e (NHWC over all images): one 64-bit division for the image, the rest in 32 bits.
template <bool MAX>
__device__ __forceinline__ float pool_element(const PoolGeometry& g, bool count_include_pad, int64_t e,
                                              const float* __restrict__ x) {
  const int64_t per_image = static_cast<int64_t>(g.oh) * g.ow * g.c;
  const int64_t img = e / per_image;
  return pool_element_in_image<MAX>(g, count_include_pad, img, static_cast<int>(e - img * per_image), x);
}

}  // namespace naswot::cuda::detail
#endif
