// The im2col addressing of conv2d_tc (conv2d_tc.cuh): which input element (or padding) the
// implicit GEMM's A[m][k] is, for output pixel m = (img * out_h + oy) * out_w + ox and reduction
// index k = (ky * kernel_w + kx) * c_in + ci. Plain C++ usable from host code, so that
// tests/kernels/conv2d_tc_index_test.cpp checks it against conv2d_reference without a GPU; the
// kernel calls the same functions.
// Split in three so the kernel pays each division once where it can: tc_row once per pixel and
// block, tc_tap once per reduction chunk, tc_input_offset (adds and two compares) per load.
#pragma once
#include <cstdint>

#include "kernels/cpu/conv2d.h"

#if defined(__CUDACC__)
#define NASWOT_TC_HD __host__ __device__ __forceinline__
#else
#define NASWOT_TC_HD inline
#endif

namespace naswot::cuda {

struct TcGeometry {
  int h, w, c_in;
  int kernel_w;
  int stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w;
  int out_h, out_w;
  int k_total;  // kernel_h * kernel_w * c_in: the GEMM's reduction length
  int pixels;   // n * out_h * out_w: the GEMM's rows
};

// iy0/ix0 of a row past the last pixel: every tap of it lands above the image (tap offsets are
// below 2^30, conv2d_tc_supports), so it reads as padding without a separate test.
inline constexpr int kTcDeadRow = -(1 << 30);

struct TcRow {
  int64_t image_offset;  // img * h * w * c_in
  int iy0, ix0;          // top-left input position of the receptive field (may be negative)
};

struct TcTap {
  int dy, dx;  // ky * dilation_h, kx * dilation_w
  int ci;
};

// The geometry of a shape conv2d_tc_supports accepts (every product below then fits in int).
inline TcGeometry tc_geometry(const cpu::Conv2dShape& s) {
  TcGeometry g{};
  g.h = s.h;
  g.w = s.w;
  g.c_in = s.c_in;
  g.kernel_w = s.kernel_w;
  g.stride_h = s.stride_h;
  g.stride_w = s.stride_w;
  g.pad_h = s.pad_h;
  g.pad_w = s.pad_w;
  g.dilation_h = s.dilation_h;
  g.dilation_w = s.dilation_w;
  g.out_h = s.out_h();
  g.out_w = s.out_w();
  g.k_total = s.kernel_h * s.kernel_w * s.c_in;
  g.pixels = s.n * g.out_h * g.out_w;
  return g;
}

NASWOT_TC_HD TcRow tc_row(const TcGeometry& g, int m) {
  if (m >= g.pixels) return TcRow{0, kTcDeadRow, kTcDeadRow};
  const int per_image = g.out_h * g.out_w;
  const int img = m / per_image;
  const int rest = m - img * per_image;
  const int oy = rest / g.out_w;
  const int ox = rest - oy * g.out_w;
  return TcRow{static_cast<int64_t>(img) * g.h * g.w * g.c_in, oy * g.stride_h - g.pad_h, ox * g.stride_w - g.pad_w};
}

// k < g.k_total (k past the end would decode to a tap below the kernel, possibly inside the image).
NASWOT_TC_HD TcTap tc_tap(const TcGeometry& g, int k) {
  const int tap = k / g.c_in;
  const int ci = k - tap * g.c_in;
  const int ky = tap / g.kernel_w;
  const int kx = tap - ky * g.kernel_w;
  return TcTap{ky * g.dilation_h, kx * g.dilation_w, ci};
}

// Offset of A[m][k] in x, or -1 where it is padding (or the row is dead). The in-image part is
// 32-bit: (iy * w + ix) * c_in + ci < h * w * c_in <= INT_MAX.
NASWOT_TC_HD int64_t tc_input_offset(const TcGeometry& g, const TcRow& row, const TcTap& tap) {
  const int iy = row.iy0 + tap.dy;
  const int ix = row.ix0 + tap.dx;
  // One unsigned compare per axis also rejects negative positions.
  if (static_cast<unsigned>(iy) >= static_cast<unsigned>(g.h) ||
      static_cast<unsigned>(ix) >= static_cast<unsigned>(g.w))
    return -1;
  return row.image_offset + ((iy * g.w + ix) * g.c_in + tap.ci);
}

}  // namespace naswot::cuda
