// conv2d_tc's im2col addressing (kernels/cuda/conv2d_tc_index.h) without a GPU: the full matrix
// A[m][k] built from tc_row / tc_tap / tc_input_offset, times the OHWI weights (B[k][o] =
// w[o * K + k]) in double, must be conv2d_reference (double accumulation too, so the two differ
// by the reference's final float rounding: |diff| <= 1e-6 (|ref| + 1)). Also: every offset is
// inside x and 16-byte aligned at quad starts (ci % 4 == 0, what the kernel's cp.async needs),
// and the rows past the last pixel that a partial block stages read as padding.
// Shapes: NB-201's 3x3 and 1x1, stride 2, padding beyond the kernel, dilation 2, 5x5, c_in 8,
// an asymmetric kernel/stride/pad/dilation, one pixel.
#include "kernels/cuda/conv2d_tc_index.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "kernels/cpu/conv2d.h"
#include "test_util.h"

namespace naswot::cuda {
namespace {

using test::kSeed;

constexpr int kBlockRows = 64;  // conv2d_tc's rows per block: its last block stages up to 63 dead rows

cpu::Conv2dShape make(int n, int h, int w, int c_in, int c_out, int kh, int kw, int stride_h, int stride_w, int pad_h,
                      int pad_w, int dilation_h = 1, int dilation_w = 1) {
  cpu::Conv2dShape s;
  s.n = n, s.h = h, s.w = w, s.c_in = c_in, s.c_out = c_out, s.kernel_h = kh, s.kernel_w = kw;
  s.stride_h = stride_h, s.stride_w = stride_w, s.pad_h = pad_h, s.pad_w = pad_w;
  s.dilation_h = dilation_h, s.dilation_w = dilation_w;
  return s;
}

void check_im2col(const cpu::Conv2dShape& s, uint32_t seed) {
  SCOPED_TRACE(testing::Message() << s.n << "x" << s.h << "x" << s.w << "x" << s.c_in << " -> " << s.c_out << " k"
                                  << s.kernel_h << "x" << s.kernel_w << " s" << s.stride_h << "x" << s.stride_w << " p"
                                  << s.pad_h << "x" << s.pad_w << " d" << s.dilation_h << "x" << s.dilation_w);
  const TcGeometry g = tc_geometry(s);
  ASSERT_EQ(g.k_total, s.kernel_h * s.kernel_w * s.c_in);
  ASSERT_EQ(g.pixels, s.n * s.out_h() * s.out_w());
  const size_t xn = static_cast<size_t>(s.n) * s.h * s.w * s.c_in;
  const size_t wn = static_cast<size_t>(s.c_out) * g.k_total;
  const std::vector<float> x = test::random_uniform(xn, -1.0, 1.0, seed);
  const std::vector<float> w_oihw = test::random_uniform(wn, -0.5, 0.5, seed + 1);
  std::vector<float> w_ohwi(wn);
  for (int o = 0; o < s.c_out; ++o)
    for (int i = 0; i < s.c_in; ++i)
      for (int r = 0; r < s.kernel_h; ++r)
        for (int q = 0; q < s.kernel_w; ++q)
          w_ohwi[static_cast<size_t>(((o * s.kernel_h + r) * s.kernel_w + q) * s.c_in + i)] =
              w_oihw[static_cast<size_t>(((o * s.c_in + i) * s.kernel_h + r) * s.kernel_w + q)];
  std::vector<float> ref(static_cast<size_t>(g.pixels) * s.c_out);
  cpu::conv2d_reference(s, x.data(), w_oihw.data(), nullptr, ref.data());

  std::vector<double> a_row(static_cast<size_t>(g.k_total));
  size_t bad = 0;
  for (int m = 0; m < g.pixels; ++m) {
    const TcRow row = tc_row(g, m);
    for (int k = 0; k < g.k_total; ++k) {
      const TcTap tap = tc_tap(g, k);
      const int64_t offset = tc_input_offset(g, row, tap);
      ASSERT_GE(offset, -1);
      ASSERT_LT(offset, static_cast<int64_t>(xn)) << "m " << m << " k " << k;
      if (offset >= 0 && k % 4 == 0) {
        ASSERT_EQ(offset % 4, 0) << "a quad start must be 16-byte aligned; m " << m << " k " << k;
      }
      a_row[static_cast<size_t>(k)] = offset >= 0 ? x[static_cast<size_t>(offset)] : 0.0;
    }
    for (int o = 0; o < s.c_out; ++o) {
      double sum = 0.0;
      for (int k = 0; k < g.k_total; ++k)
        sum += a_row[static_cast<size_t>(k)] * w_ohwi[static_cast<size_t>(o) * g.k_total + k];
      const double r = ref[static_cast<size_t>(m) * s.c_out + o];
      if (std::fabs(sum - r) > 1e-6 * (std::fabs(r) + 1.0) && bad++ == 0) {
        ADD_FAILURE() << "first mismatch: pixel " << m << " channel " << o << ": im2col " << sum << ", reference " << r;
      }
    }
  }
  EXPECT_EQ(bad, 0u) << "outputs where im2col x weights differs from conv2d_reference";

  // The rows a partial last block stages past the end are all padding.
  for (int m = g.pixels; m < g.pixels + kBlockRows; ++m) {
    const TcRow row = tc_row(g, m);
    for (int k = 0; k < g.k_total; ++k) ASSERT_EQ(tc_input_offset(g, row, tc_tap(g, k)), -1) << "dead row " << m;
  }
}

TEST(Conv2dTcIndex, Im2colTimesWeightsIsTheReference) {
  uint32_t seed = kSeed + 911;
  check_im2col(make(2, 8, 8, 16, 16, 3, 3, 1, 1, 1, 1), seed += 2);        // NB-201 3x3
  check_im2col(make(2, 6, 6, 32, 16, 1, 1, 1, 1, 0, 0), seed += 2);        // 1x1
  check_im2col(make(3, 7, 5, 8, 16, 3, 3, 2, 2, 1, 1), seed += 2);         // odd sizes, stride 2, c_in 8
  check_im2col(make(2, 9, 9, 8, 16, 3, 3, 1, 1, 2, 2, 2, 2), seed += 2);   // dilation 2
  check_im2col(make(2, 10, 10, 8, 16, 5, 5, 1, 1, 2, 2), seed += 2);       // 5x5
  check_im2col(make(2, 9, 11, 8, 16, 3, 2, 2, 3, 1, 0, 1, 2), seed += 2);  // kernel 3x2, stride 2x3, pad 1x0, dil 1x2
  check_im2col(make(1, 4, 4, 8, 16, 3, 3, 1, 1, 4, 4), seed += 2);         // padding wider than the kernel
  check_im2col(make(1, 1, 1, 64, 16, 1, 1, 1, 1, 0, 0), seed += 2);        // one pixel
}

}  // namespace
}  // namespace naswot::cuda
