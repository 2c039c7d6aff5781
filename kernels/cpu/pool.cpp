// Pooling over NHWC tensors: avgpool2d and maxpool2d with PyTorch's window rules (floor mode,
// dilation 1), global_avgpool over h*w.
// avgpool2d: the window [h0, h0 + k) is first clipped to the padded image [-pad, h + pad) to get the
// count_include_pad divisor, then to the image [0, h) for the taps (and the divisor when
// count_include_pad is false). The sum runs over rows then columns in float, then one division,
// as PyTorch's CPU kernel does. maxpool2d starts at -inf, never sees padding, and lets a NaN win.
// global_avgpool accumulates each (n, c) in double. Loops are parallel over n * out_h rows of the
// output, innermost over channels (contiguous in NHWC).
#include "kernels/cpu/pool.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "runtime/error.h"

namespace naswot::cpu {
namespace {

void check_pool(const char* who, const Pool2dShape& s, const float* x, const float* y) {
  NASWOT_EXPECT(s.n >= 1 && s.h >= 1 && s.w >= 1 && s.c >= 1, BadInput,
                who << ": n, h, w, c expected >= 1, got n=" << s.n << " h=" << s.h << " w=" << s.w << " c=" << s.c);
  NASWOT_EXPECT(s.kernel >= 1 && s.stride >= 1 && s.pad >= 0 && 2 * s.pad <= s.kernel, BadInput,
                who << ": kernel=" << s.kernel << " stride=" << s.stride << " pad=" << s.pad
                    << " expected kernel, stride >= 1 and 0 <= pad <= kernel/2");
  NASWOT_EXPECT(s.h + 2 * s.pad >= s.kernel && s.w + 2 * s.pad >= s.kernel, BadInput,
                who << ": kernel=" << s.kernel << " larger than the padded input " << s.h << "x" << s.w);
  NASWOT_EXPECT(x != nullptr && y != nullptr, BadInput, who << ": x and y expected non-null");
}

}  // namespace

void avgpool2d(const Pool2dShape& s, bool count_include_pad, const float* x, float* y) {
  check_pool("avgpool2d", s, x, y);
  const int oh = s.out_h(), ow = s.out_w();
  const int64_t c = s.c;
#pragma omp parallel for schedule(static)
  for (int64_t row = 0; row < static_cast<int64_t>(s.n) * oh; ++row) {
    const int64_t n = row / oh;
    const int oy = static_cast<int>(row % oh);
    int y0 = oy * s.stride - s.pad;
    int y1 = std::min(y0 + s.kernel, s.h + s.pad);
    const int pool_h = y1 - y0;
    y0 = std::max(y0, 0);
    y1 = std::min(y1, s.h);
    for (int ox = 0; ox < ow; ++ox) {
      int x0 = ox * s.stride - s.pad;
      int x1 = std::min(x0 + s.kernel, s.w + s.pad);
      const int pool_w = x1 - x0;
      x0 = std::max(x0, 0);
      x1 = std::min(x1, s.w);
      const float divisor = static_cast<float>(count_include_pad ? pool_h * pool_w : (y1 - y0) * (x1 - x0));
      float* out = y + ((n * oh + oy) * ow + ox) * c;
      // Channels in blocks of kBlock summed in a local accumulator (the window order is PyTorch's:
      // rows, then columns), so the inner loop vectorises without aliasing worries.
      constexpr int64_t kBlock = 64;
      for (int64_t j0 = 0; j0 < c; j0 += kBlock) {
        const int64_t cb = std::min(kBlock, c - j0);
        float acc[kBlock] = {};
        for (int iy = y0; iy < y1; ++iy) {
          for (int ix = x0; ix < x1; ++ix) {
            const float* in = x + ((n * s.h + iy) * s.w + ix) * c + j0;
            for (int64_t j = 0; j < cb; ++j) acc[j] += in[j];
          }
        }
        for (int64_t j = 0; j < cb; ++j) out[j0 + j] = acc[j] / divisor;
      }
    }
  }
}

void maxpool2d(const Pool2dShape& s, const float* x, float* y) {
  check_pool("maxpool2d", s, x, y);
  const int oh = s.out_h(), ow = s.out_w();
  const int64_t c = s.c;
#pragma omp parallel for schedule(static)
  for (int64_t row = 0; row < static_cast<int64_t>(s.n) * oh; ++row) {
    const int64_t n = row / oh;
    const int oy = static_cast<int>(row % oh);
    const int y0 = std::max(oy * s.stride - s.pad, 0);
    const int y1 = std::min(oy * s.stride - s.pad + s.kernel, s.h);
    for (int ox = 0; ox < ow; ++ox) {
      const int x0 = std::max(ox * s.stride - s.pad, 0);
      const int x1 = std::min(ox * s.stride - s.pad + s.kernel, s.w);
      float* out = y + ((n * oh + oy) * ow + ox) * c;
      // As avgpool2d: channel blocks in a local accumulator, and a branch-free select (v != v is
      // isnan) so the inner loop vectorises; a NaN, once taken, stays (NaN > v is false).
      constexpr int64_t kBlock = 64;
      for (int64_t j0 = 0; j0 < c; j0 += kBlock) {
        const int64_t cb = std::min(kBlock, c - j0);
        float acc[kBlock];
        std::fill(acc, acc + kBlock, -std::numeric_limits<float>::infinity());
        for (int iy = y0; iy < y1; ++iy) {
          for (int ix = x0; ix < x1; ++ix) {
            const float* in = x + ((n * s.h + iy) * s.w + ix) * c + j0;
            for (int64_t j = 0; j < cb; ++j) {
              const float v = in[j];
              acc[j] = (v > acc[j] || v != v) ? v : acc[j];
            }
          }
        }
        std::copy(acc, acc + cb, out + j0);
      }
    }
  }
}

void global_avgpool(int n, int64_t hw, int c, const float* x, float* y) {
  NASWOT_EXPECT(n >= 1 && hw >= 1 && c >= 1, BadInput,
                "global_avgpool: n, hw, c expected >= 1, got n=" << n << " hw=" << hw << " c=" << c);
  NASWOT_EXPECT(x != nullptr && y != nullptr, BadInput, "global_avgpool: x and y expected non-null");
  constexpr int kBlock = 256;  // channels accumulated at once in a stack array of doubles
#pragma omp parallel for schedule(static)
  for (int i = 0; i < n; ++i) {
    const float* img = x + static_cast<int64_t>(i) * hw * c;
    for (int c0 = 0; c0 < c; c0 += kBlock) {
      const int cb = std::min(kBlock, c - c0);
      double acc[kBlock] = {};
      for (int64_t p = 0; p < hw; ++p) {
        const float* in = img + p * c + c0;
        for (int j = 0; j < cb; ++j) acc[j] += in[j];
      }
      for (int j = 0; j < cb; ++j) y[static_cast<int64_t>(i) * c + c0 + j] = static_cast<float>(acc[j] / hw);
    }
  }
}

namespace {

template <class Pool>
void pool_segments(const char* who, const Pool2dShape& s, const float* const* x_table, int segments, float* y,
                   Pool pool) {
  NASWOT_EXPECT(segments >= 0, BadInput, who << ": segments expected >= 0, got " << segments);
  if (segments == 0) return;
  NASWOT_EXPECT(x_table != nullptr && y != nullptr, BadInput, who << ": table and y expected non-null");
  const int64_t out = static_cast<int64_t>(s.n) * s.out_h() * s.out_w() * s.c;
  for (int k = 0; k < segments; ++k) pool(x_table[k], y + k * out);
}

}  // namespace

void avgpool2d_segments(const Pool2dShape& s, bool count_include_pad, const float* const* x_table, int segments,
                        float* y) {
  pool_segments("avgpool2d_segments", s, x_table, segments, y,
                [&](const float* x, float* out) { avgpool2d(s, count_include_pad, x, out); });
}

void maxpool2d_segments(const Pool2dShape& s, const float* const* x_table, int segments, float* y) {
  pool_segments("maxpool2d_segments", s, x_table, segments, y, [&](const float* x, float* out) { maxpool2d(s, x, out); });
}

}  // namespace naswot::cpu
