// avgpool2d, maxpool2d and global_avgpool against naive references written here from PyTorch's
// definitions: every tap of the k x k window is visited; an average divides by the taps inside the
// padded image (count_include_pad) or inside the image; a max looks only inside the image.
// Shapes: NB201's 3x3/1/1 pools, the 2x2/2 shortcut, 5x5/1/2 and 7x7/1/3 from pycls, stride 2
// over odd sizes, one channel, one image.
// Tolerances: max pooling is exact (it selects an input). Average pooling sums at most 49 floats in
// float and divides: rtol 1e-6, atol 1e-6 against a double reference. global_avgpool accumulates in
// double like its reference: rtol 1e-6 (the float rounding of the result), atol 1e-7.
#include "kernels/cpu/pool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "test_util.h"

namespace naswot::cpu {
namespace {

using test::GuardedBuffer;
using test::kSeed;

constexpr float kPoison = std::numeric_limits<float>::quiet_NaN();

Pool2dShape make(int n, int h, int w, int c, int kernel, int stride, int pad) {
  Pool2dShape s;
  s.n = n, s.h = h, s.w = w, s.c = c, s.kernel = kernel, s.stride = stride, s.pad = pad;
  return s;
}

size_t in_count(const Pool2dShape& s) { return static_cast<size_t>(s.n) * s.h * s.w * s.c; }
size_t out_count(const Pool2dShape& s) { return static_cast<size_t>(s.n) * s.out_h() * s.out_w() * s.c; }

// mode 0: max, 1: average counting padding, 2: average over taps inside the image.
std::vector<float> pool_reference(const Pool2dShape& s, int mode, const std::vector<float>& x) {
  std::vector<float> y(out_count(s));
  const int oh = s.out_h(), ow = s.out_w();
  for (int n = 0; n < s.n; ++n)
    for (int oy = 0; oy < oh; ++oy)
      for (int ox = 0; ox < ow; ++ox)
        for (int c = 0; c < s.c; ++c) {
          double sum = 0.0, best = -std::numeric_limits<double>::infinity();
          int inside = 0, padded = 0;
          for (int ky = 0; ky < s.kernel; ++ky)
            for (int kx = 0; kx < s.kernel; ++kx) {
              const int iy = oy * s.stride - s.pad + ky, ix = ox * s.stride - s.pad + kx;
              if (iy < s.h + s.pad && ix < s.w + s.pad) ++padded;  // always >= -pad from below
              if (iy < 0 || iy >= s.h || ix < 0 || ix >= s.w) continue;
              const double v = x[((static_cast<size_t>(n) * s.h + iy) * s.w + ix) * s.c + c];
              sum += v;
              best = std::max(best, v);
              ++inside;
            }
          const size_t o = ((static_cast<size_t>(n) * oh + oy) * ow + ox) * s.c + c;
          y[o] = static_cast<float>(mode == 0 ? best : sum / (mode == 1 ? padded : inside));
        }
  return y;
}

const Pool2dShape kShapes[] = {
    make(2, 8, 8, 16, 3, 1, 1),    // NB201 avg_pool_3x3
    make(2, 8, 8, 16, 2, 2, 0),    // ResNet shortcut
    make(2, 9, 7, 5, 3, 2, 1),     // stride 2 over odd sizes
    make(1, 6, 6, 3, 5, 1, 2),     // pycls 5x5
    make(2, 9, 9, 2, 7, 1, 3),     // pycls max_pool_7x7
    make(3, 5, 4, 1, 2, 1, 1),     // 2x2 pad 1, one channel: windows hang over the border
    make(1, 16, 16, 64, 3, 2, 1),  // one image, many channels
    make(2, 6, 6, 100, 3, 1, 1),   // a full and a partial block of channels
};

TEST(Pool, AvgPoolMatchesReference) {
  uint32_t seed = kSeed;
  for (const Pool2dShape& s : kShapes) {
    const std::vector<float> x = test::random_normal(in_count(s), 0.0, 1.0, seed++);
    for (bool include_pad : {true, false}) {
      SCOPED_TRACE(::testing::Message() << s.n << "x" << s.h << "x" << s.w << "x" << s.c << " k" << s.kernel << " s"
                                        << s.stride << " p" << s.pad << " count_include_pad=" << include_pad);
      GuardedBuffer<float> y(out_count(s), kPoison);
      avgpool2d(s, include_pad, x.data(), y.data());
      const std::vector<float> ref = pool_reference(s, include_pad ? 1 : 2, x);
      EXPECT_TRUE(y.check()) << "avgpool2d wrote outside its output";
      EXPECT_TRUE(test::all_close(y.data(), ref.data(), y.size(), 1e-6, 1e-6));
    }
  }
}

TEST(Pool, MaxPoolMatchesReferenceExactly) {
  uint32_t seed = kSeed + 100;
  for (const Pool2dShape& s : kShapes) {
    SCOPED_TRACE(::testing::Message() << s.h << "x" << s.w << " k" << s.kernel << " s" << s.stride << " p" << s.pad);
    const std::vector<float> x = test::random_normal(in_count(s), 0.0, 1.0, seed++);
    GuardedBuffer<float> y(out_count(s), kPoison);
    maxpool2d(s, x.data(), y.data());
    const std::vector<float> ref = pool_reference(s, 0, x);
    EXPECT_TRUE(y.check()) << "maxpool2d wrote outside its output";
    EXPECT_TRUE(test::all_equal(y.data(), ref.data(), y.size()));
  }
}

TEST(Pool, MaxPoolPaddingNeverWins) {
  // All inputs negative: a zero-padded max would return 0 at the border.
  const Pool2dShape s = make(2, 5, 6, 3, 3, 1, 1);
  const std::vector<float> x = test::random_uniform(in_count(s), -2.0, -1.0, kSeed + 200);
  GuardedBuffer<float> y(out_count(s), kPoison);
  maxpool2d(s, x.data(), y.data());
  for (size_t i = 0; i < y.size(); ++i) ASSERT_LT(y[i], -0.5f) << "index " << i;
  const std::vector<float> ref = pool_reference(s, 0, x);
  EXPECT_TRUE(test::all_equal(y.data(), ref.data(), y.size()));
  EXPECT_TRUE(y.check());
}

// PyTorch's max pooling propagates NaN: a NaN anywhere in a window wins that window, whatever
// comes before or after it. 70 channels cover a full and a partial channel block.
TEST(Pool, MaxPoolLetsANaNWin) {
  const Pool2dShape s = make(1, 4, 4, 70, 2, 2, 0);
  std::vector<float> x = test::random_normal(in_count(s), 0.0, 1.0, kSeed + 300);
  auto at = [&](int yy, int xx, int c) { return (static_cast<size_t>(yy) * 4 + static_cast<size_t>(xx)) * 70 + static_cast<size_t>(c); };
  x[at(0, 0, 3)] = std::numeric_limits<float>::quiet_NaN();   // first tap of window (0, 0)
  x[at(3, 3, 69)] = std::numeric_limits<float>::quiet_NaN();  // last tap of window (1, 1)
  x[at(0, 2, 65)] = 1e30f;                                    // a large value beside no NaN
  GuardedBuffer<float> y(out_count(s), kPoison);
  maxpool2d(s, x.data(), y.data());
  EXPECT_TRUE(y.check());
  auto out = [&](int oy, int ox, int c) { return y[(static_cast<size_t>(oy) * 2 + static_cast<size_t>(ox)) * 70 + static_cast<size_t>(c)]; };
  EXPECT_TRUE(std::isnan(out(0, 0, 3)));
  EXPECT_TRUE(std::isnan(out(1, 1, 69)));
  EXPECT_EQ(out(0, 1, 65), 1e30f);
  int nans = 0;
  for (size_t i = 0; i < y.size(); ++i) nans += std::isnan(y[i]) ? 1 : 0;
  EXPECT_EQ(nans, 2) << "only the two windows holding a NaN";
}

TEST(Pool, GlobalAvgPoolMatchesReference) {
  struct Case {
    int n;
    int64_t hw;
    int c;
  };
  const Case cases[] = {{128, 8 * 8, 64}, {1, 7, 1}, {3, 1, 5}, {2, 32 * 32, 300}};  // 300 > one channel block
  uint32_t seed = kSeed + 300;
  for (const Case& k : cases) {
    SCOPED_TRACE(::testing::Message() << "n=" << k.n << " hw=" << k.hw << " c=" << k.c);
    const std::vector<float> x = test::random_normal(static_cast<size_t>(k.n) * k.hw * k.c, 0.5, 1.0, seed++);
    GuardedBuffer<float> y(static_cast<size_t>(k.n) * k.c, kPoison);
    global_avgpool(k.n, k.hw, k.c, x.data(), y.data());
    std::vector<float> ref(y.size());
    for (int n = 0; n < k.n; ++n)
      for (int c = 0; c < k.c; ++c) {
        double sum = 0.0;
        for (int64_t p = 0; p < k.hw; ++p) sum += x[(n * k.hw + p) * k.c + c];
        ref[static_cast<size_t>(n) * k.c + c] = static_cast<float>(sum / static_cast<double>(k.hw));
      }
    EXPECT_TRUE(y.check()) << "global_avgpool wrote outside its output";
    EXPECT_TRUE(test::all_close(y.data(), ref.data(), y.size(), 1e-7, 1e-6));
  }
}

TEST(Pool, RejectsBadShapes) {
  float buf[64] = {};
  NASWOT_EXPECT_BAD_INPUT(avgpool2d(make(1, 4, 4, 1, 3, 1, 2), false, buf, buf), "pad");  // pad > kernel/2
  NASWOT_EXPECT_BAD_INPUT(maxpool2d(make(1, 2, 2, 1, 5, 1, 1), buf, buf), "kernel");      // kernel > padded input
  NASWOT_EXPECT_BAD_INPUT(maxpool2d(make(0, 4, 4, 1, 3, 1, 1), buf, buf), "n, h, w, c");
  NASWOT_EXPECT_BAD_INPUT(global_avgpool(1, 0, 4, buf, buf), "hw");
  NASWOT_EXPECT_BAD_INPUT(global_avgpool(1, 4, 4, nullptr, buf), "non-null");
}

// Segments: each equals the single-tensor pool of its table entry, laid out one after another;
// zero segments write nothing.
TEST(Pool, SegmentsEqualPerTensorPools) {
  const Pool2dShape p{2, 5, 6, 3, 3, 1, 1};
  const size_t in = static_cast<size_t>(p.n) * p.h * p.w * p.c;
  const size_t out = static_cast<size_t>(p.n) * p.out_h() * p.out_w() * p.c;
  const std::vector<float> a = test::random_normal(in, 0.0, 1.0, kSeed + 611);
  const std::vector<float> b = test::random_normal(in, 0.0, 1.0, kSeed + 612);
  const float* table[] = {a.data(), b.data(), a.data()};
  for (int variant = 0; variant < 3; ++variant) {
    std::vector<float> got(3 * out, -1.0f), one(out);
    if (variant < 2)
      avgpool2d_segments(p, variant == 1, table, 3, got.data());
    else
      maxpool2d_segments(p, table, 3, got.data());
    for (size_t k = 0; k < 3; ++k) {
      if (variant < 2)
        avgpool2d(p, variant == 1, table[k], one.data());
      else
        maxpool2d(p, table[k], one.data());
      EXPECT_TRUE(test::all_equal(got.data() + k * out, one.data(), out)) << "variant " << variant << ", segment " << k;
    }
  }
  std::vector<float> untouched(4, 7.0f);
  avgpool2d_segments(p, false, table, 0, untouched.data());
  EXPECT_EQ(untouched, std::vector<float>(4, 7.0f));
  NASWOT_EXPECT_BAD_INPUT(maxpool2d_segments(p, table, -1, untouched.data()), "segments");
}

}  // namespace
}  // namespace naswot::cpu
