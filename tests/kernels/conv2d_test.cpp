// conv2d (oneDNN) against conv2d_reference (naive loops, double accumulation) on seeded random
// NHWC inputs and OIHW weights: plain 3x3, 1x1 with bias, stride 2, depthwise with dilation,
// grouped, rectangular kernels, one channel, one image and an NB201-sized batch of 128. Also the
// shape cache (miss, then hit, with new weights on the hit) and concurrent callers.
// Tolerance: |conv - ref| <= atol + rtol*|ref| with rtol = 1e-4 and atol = 1e-5 * sqrt(fan_in):
// inputs are N(0,1) and weights U(-1,1)/sqrt(fan_in) (PyTorch's init scale), so outputs are O(1)
// and fp32 rounding grows about like sqrt(fan_in) ulps.
#include "kernels/cpu/conv2d.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <thread>
#include <vector>

#include "test_util.h"

namespace naswot::cpu {
namespace {

using test::GuardedBuffer;
using test::kSeed;

constexpr float kPoison = std::numeric_limits<float>::quiet_NaN();  // unwritten outputs fail

struct ConvCase {
  const char* name;
  Conv2dShape s;
  bool bias;
};

Conv2dShape make(int n, int h, int w, int c_in, int c_out, int kh, int kw, int stride, int pad_h, int pad_w,
                 int dilation = 1, int groups = 1) {
  Conv2dShape s;
  s.n = n, s.h = h, s.w = w, s.c_in = c_in, s.c_out = c_out, s.kernel_h = kh, s.kernel_w = kw;
  s.stride_h = s.stride_w = stride;
  s.pad_h = pad_h, s.pad_w = pad_w;
  s.dilation_h = s.dilation_w = dilation;
  s.groups = groups;
  return s;
}

// Height and width differ in stride, padding and dilation: catches swapped h/w parameters.
Conv2dShape asymmetric() {
  Conv2dShape s = make(2, 11, 9, 6, 10, 3, 3, 1, 2, 1, 1, 2);
  s.stride_w = 2;
  s.dilation_h = 2;
  return s;
}

size_t x_count(const Conv2dShape& s) { return static_cast<size_t>(s.n) * s.h * s.w * s.c_in; }
size_t w_count(const Conv2dShape& s) {
  return static_cast<size_t>(s.c_out) * (s.c_in / s.groups) * s.kernel_h * s.kernel_w;
}
size_t y_count(const Conv2dShape& s) { return static_cast<size_t>(s.n) * s.out_h() * s.out_w() * s.c_out; }
double fan_in(const Conv2dShape& s) { return static_cast<double>(s.c_in / s.groups) * s.kernel_h * s.kernel_w; }

// Runs conv2d and the reference on seeded inputs and compares them.
void check_against_reference(const Conv2dShape& s, bool with_bias, uint32_t seed) {
  const std::vector<float> x = test::random_normal(x_count(s), 0.0, 1.0, seed);
  const double scale = 1.0 / std::sqrt(fan_in(s));
  const std::vector<float> w = test::random_uniform(w_count(s), -scale, scale, seed + 1);
  const std::vector<float> b = test::random_uniform(s.c_out, -1.0, 1.0, seed + 2);
  const float* bias = with_bias ? b.data() : nullptr;

  GuardedBuffer<float> y(y_count(s), kPoison), ref(y_count(s), kPoison);
  conv2d(s, x.data(), w.data(), bias, y.data());
  conv2d_reference(s, x.data(), w.data(), bias, ref.data());
  EXPECT_TRUE(y.check()) << "conv2d wrote outside its output";
  EXPECT_TRUE(ref.check()) << "conv2d_reference wrote outside its output";
  const double atol = 1e-5 * std::sqrt(fan_in(s)), rtol = 1e-4;
  EXPECT_TRUE(test::all_close(y.data(), ref.data(), y.size(), atol, rtol));
}

TEST(Conv2d, MatchesReference) {
  const ConvCase cases[] = {
      {"3x3 pad1, NB201 cell", make(2, 8, 8, 16, 16, 3, 3, 1, 1, 1), false},
      {"1x1 with bias, awkward sizes", make(3, 7, 5, 3, 5, 1, 1, 1, 0, 0), true},
      {"3x3 stride 2, odd input", make(2, 9, 11, 8, 12, 3, 3, 2, 1, 1), false},
      {"3x3 stride 2 with bias", make(1, 8, 8, 16, 32, 3, 3, 2, 1, 1), true},
      {"1x1 stride 2 (shortcut)", make(2, 8, 8, 16, 32, 1, 1, 2, 0, 0), false},
      {"depthwise 3x3 dilation 2", make(2, 9, 9, 8, 8, 3, 3, 1, 2, 2, 2, 8), false},
      {"depthwise 5x5 stride 2 dilation 2", make(2, 12, 10, 6, 6, 5, 5, 2, 4, 4, 2, 6), true},
      {"groups 2, 5x5", make(2, 6, 7, 4, 6, 5, 5, 1, 2, 2, 1, 2), false},
      {"1x7 rectangular", make(2, 6, 9, 5, 7, 1, 7, 1, 0, 3), false},
      {"7x1 rectangular", make(2, 9, 6, 5, 7, 7, 1, 1, 3, 0), false},
      {"asymmetric stride, pad, dilation; groups 2", asymmetric(), true},
      {"7x7 stride 2 stem", make(2, 15, 15, 3, 16, 7, 7, 2, 3, 3), false},
      {"one channel, one image", make(1, 5, 5, 1, 1, 3, 3, 1, 1, 1), true},
      {"no padding, kernel = input", make(3, 3, 3, 4, 2, 3, 3, 1, 0, 0), false},
      {"batch 128, 64 channels 8x8", make(128, 8, 8, 64, 64, 3, 3, 1, 1, 1), false},
  };
  uint32_t seed = kSeed;
  for (const ConvCase& c : cases) {
    SCOPED_TRACE(c.name);
    check_against_reference(c.s, c.bias, seed);
    seed += 10;
  }
}

TEST(Conv2d, ReferenceComputesAKnownSum) {
  // 3x3 all-ones kernel, pad 1 over an all-ones image: each output counts the taps inside the
  // image (4 at corners, 6 on edges, 9 inside). Pins the reference's padding convention.
  const Conv2dShape s = make(1, 4, 5, 1, 1, 3, 3, 1, 1, 1);
  const std::vector<float> x(x_count(s), 1.0f), w(9, 1.0f);
  GuardedBuffer<float> y(y_count(s), kPoison);
  conv2d_reference(s, x.data(), w.data(), nullptr, y.data());
  std::vector<float> expected(y.size());
  for (int oy = 0; oy < 4; ++oy) {
    for (int ox = 0; ox < 5; ++ox) {
      const int rows = 3 - (oy == 0) - (oy == 3), cols = 3 - (ox == 0) - (ox == 4);
      expected[oy * 5 + ox] = static_cast<float>(rows * cols);
    }
  }
  EXPECT_TRUE(test::all_equal(y.data(), expected.data(), y.size()));
  EXPECT_TRUE(y.check());
}

TEST(Conv2d, CacheMissThenHitWithNewWeights) {
#if !NASWOT_HAVE_ONEDNN
  GTEST_SKIP() << "built with NASWOT_ONEDNN=OFF: conv2d is the reference loop nest, no primitive cache";
#endif
  // A shape no other test uses.
  const Conv2dShape s = make(3, 6, 5, 7, 9, 3, 3, 1, 1, 1);
  const int before = conv2d_cached_shapes();
  check_against_reference(s, false, kSeed + 500);
  EXPECT_EQ(conv2d_cached_shapes(), before + 1) << "first call of a new shape must build a primitive";
  // Different weights on the cached primitive: the per-call reorder must pick them up.
  check_against_reference(s, false, kSeed + 600);
  EXPECT_EQ(conv2d_cached_shapes(), before + 1) << "second call of the same shape must hit the cache";
}

TEST(Conv2d, ConcurrentCallersGetTheirOwnResults) {
  const Conv2dShape s = make(2, 8, 8, 8, 8, 3, 3, 1, 1, 1);
  const Conv2dShape t = make(2, 8, 8, 8, 16, 1, 1, 1, 0, 0);
  std::thread a([&] {
    for (uint32_t r = 0; r < 4; ++r) check_against_reference(s, r % 2 == 0, kSeed + 700 + r * 10);
  });
  std::thread b([&] {
    for (uint32_t r = 0; r < 4; ++r) check_against_reference(r % 2 ? s : t, false, kSeed + 800 + r * 10);
  });
  a.join();
  b.join();
}

TEST(Conv2d, RejectsBadShapes) {
  const std::vector<float> buf(4096, 0.0f);
  float out[4096];
  Conv2dShape s = make(1, 4, 4, 6, 4, 3, 3, 1, 1, 1, 1, 4);  // 4 groups do not divide 6 channels
  NASWOT_EXPECT_BAD_INPUT(conv2d(s, buf.data(), buf.data(), nullptr, out), "groups");
  s = make(1, 2, 2, 1, 1, 5, 5, 1, 0, 0);  // kernel larger than the input
  NASWOT_EXPECT_BAD_INPUT(conv2d(s, buf.data(), buf.data(), nullptr, out), "kernel");
  s = make(1, 4, 4, 1, 1, 3, 3, 1, 1, 1);
  NASWOT_EXPECT_BAD_INPUT(conv2d(s, nullptr, buf.data(), nullptr, out), "non-null");
  s.stride_h = 0;
  NASWOT_EXPECT_BAD_INPUT(conv2d_reference(s, buf.data(), buf.data(), nullptr, out), "stride");
}

}  // namespace
}  // namespace naswot::cpu
