// relu, add_n, zero, concat_channels and linear against references written here.
// relu, add_n (same float additions in the same order), zero and concat are exact, so they are
// compared bit for bit; zero also checks the sign of each zero (x.mul(0.) keeps x's sign).
// linear accumulates in double like its reference: rtol 1e-6, atol 1e-6 (float rounding of the
// result; both sums are double).
#include "kernels/cpu/elementwise.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "test_util.h"

namespace naswot::cpu {
namespace {

using test::GuardedBuffer;
using test::kSeed;

constexpr float kPoison = std::numeric_limits<float>::quiet_NaN();

uint32_t bits_of(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

TEST(Elementwise, ReluIsExact) {
  for (int64_t count : {int64_t{1}, int64_t{1000}, int64_t{128} * 16 * 32 * 32 + 3}) {
    SCOPED_TRACE(::testing::Message() << "count=" << count);
    std::vector<float> x = test::random_normal(count, 0.0, 1.0, kSeed + static_cast<uint32_t>(count % 1000));
    x[0] = 0.0f;  // exact zeros stay zero
    GuardedBuffer<float> y(count, kPoison);
    relu(x.data(), count, y.data());
    std::vector<float> ref(count);
    for (int64_t i = 0; i < count; ++i) ref[i] = x[i] > 0.0f ? x[i] : 0.0f;
    EXPECT_TRUE(y.check());
    EXPECT_TRUE(test::all_equal(y.data(), ref.data(), count));
  }
}

TEST(Elementwise, AddNSumsInInputOrder) {
  const int64_t count = 10007;  // not a multiple of the kernel's block
  for (int inputs : {1, 2, 3, 5}) {
    SCOPED_TRACE(::testing::Message() << inputs << " inputs");
    std::vector<std::vector<float>> data;
    std::vector<const float*> ptrs;
    for (int k = 0; k < inputs; ++k) {
      // Mixed magnitudes make float addition order visible in the result.
      data.push_back(test::random_normal(count, 0.0, std::pow(100.0, k % 3), kSeed + 10 + k));
      ptrs.push_back(data.back().data());
    }
    GuardedBuffer<float> y(count, kPoison);
    add_n(ptrs.data(), inputs, count, y.data());
    std::vector<float> ref(count);
    for (int64_t i = 0; i < count; ++i) {
      float acc = 0.0f;  // Python's sum() starts from 0
      for (int k = 0; k < inputs; ++k) acc += data[k][i];
      ref[i] = acc;
    }
    EXPECT_TRUE(y.check());
    EXPECT_TRUE(test::all_equal(y.data(), ref.data(), count));
  }
}

TEST(Elementwise, ZeroSubsamplesAndKeepsSign) {
  struct Case {
    int n, h, w, c, stride;
  };
  const Case cases[] = {{2, 8, 8, 16, 1}, {2, 7, 5, 3, 2}, {1, 9, 9, 1, 2}, {3, 4, 6, 2, 3}};
  uint32_t seed = kSeed + 100;
  for (const Case& k : cases) {
    SCOPED_TRACE(::testing::Message() << k.n << "x" << k.h << "x" << k.w << "x" << k.c << " stride " << k.stride);
    const std::vector<float> x = test::random_normal(static_cast<size_t>(k.n) * k.h * k.w * k.c, 0.0, 1.0, seed++);
    const int oh = (k.h + k.stride - 1) / k.stride, ow = (k.w + k.stride - 1) / k.stride;  // x[:, :, ::s, ::s]
    GuardedBuffer<float> y(static_cast<size_t>(k.n) * oh * ow * k.c, kPoison);
    zero(x.data(), k.n, k.h, k.w, k.c, k.stride, y.data());
    EXPECT_TRUE(y.check()) << "zero wrote outside ceil(h/s) x ceil(w/s)";
    for (int n = 0; n < k.n; ++n)
      for (int oy = 0; oy < oh; ++oy)
        for (int ox = 0; ox < ow; ++ox)
          for (int c = 0; c < k.c; ++c) {
            const float src = x[((static_cast<size_t>(n) * k.h + oy * k.stride) * k.w + ox * k.stride) * k.c + c];
            const size_t o = ((static_cast<size_t>(n) * oh + oy) * ow + ox) * k.c + c;
            const uint32_t expected = std::signbit(src) ? 0x80000000u : 0u;  // +0 or -0
            ASSERT_EQ(bits_of(y[o]), expected) << "index " << o << ": got " << y[o] << " from x=" << src;
          }
  }
}

// FactorizedReduce's second branch reads ConstantPad2d((0,1,0,1))(x)[:, :, 1:, 1:]: built here
// literally (pad, then crop) and compared bit for bit, odd and even sizes, 1x1 included.
TEST(Elementwise, ShiftUpLeftIsPadThenCrop) {
  struct Case {
    int n, h, w, c;
  };
  const Case cases[] = {{2, 8, 8, 16}, {1, 7, 5, 3}, {3, 1, 1, 2}, {1, 2, 9, 1}};
  uint32_t seed = kSeed + 150;
  for (const Case& k : cases) {
    SCOPED_TRACE(::testing::Message() << k.n << "x" << k.h << "x" << k.w << "x" << k.c);
    const std::vector<float> x = test::random_normal(static_cast<size_t>(k.n) * k.h * k.w * k.c, 0.0, 1.0, seed++);
    const int ph = k.h + 1, pw = k.w + 1;
    std::vector<float> padded(static_cast<size_t>(k.n) * ph * pw * k.c, 0.0f);
    for (int n = 0; n < k.n; ++n)
      for (int y = 0; y < k.h; ++y)
        for (int xx = 0; xx < k.w; ++xx)
          for (int c = 0; c < k.c; ++c)
            padded[((static_cast<size_t>(n) * ph + y) * pw + xx) * k.c + c] =
                x[((static_cast<size_t>(n) * k.h + y) * k.w + xx) * k.c + c];
    GuardedBuffer<float> y(x.size(), kPoison);
    shift_up_left(x.data(), k.n, k.h, k.w, k.c, y.data());
    EXPECT_TRUE(y.check());
    for (int n = 0; n < k.n; ++n)
      for (int oy = 0; oy < k.h; ++oy)
        for (int ox = 0; ox < k.w; ++ox)
          for (int c = 0; c < k.c; ++c) {
            const float expected = padded[((static_cast<size_t>(n) * ph + oy + 1) * pw + ox + 1) * k.c + c];
            const size_t o = ((static_cast<size_t>(n) * k.h + oy) * k.w + ox) * k.c + c;
            ASSERT_EQ(bits_of(y[o]), bits_of(expected)) << "at (" << n << "," << oy << "," << ox << "," << c << ")";
          }
  }
  std::vector<float> x(4, 1.0f);
  EXPECT_THROW(shift_up_left(x.data(), 1, 0, 2, 2, x.data()), Error);
}

TEST(Elementwise, ConcatChannelsIsExact) {
  const int64_t rows = 2 * 5 * 7;
  const int channels[] = {3, 1, 16};
  std::vector<std::vector<float>> data;
  std::vector<const float*> ptrs;
  for (int k = 0; k < 3; ++k) {
    data.push_back(test::random_normal(rows * channels[k], 0.0, 1.0, kSeed + 200 + k));
    ptrs.push_back(data.back().data());
  }
  const int total = 3 + 1 + 16;
  GuardedBuffer<float> y(rows * total, kPoison);
  concat_channels(ptrs.data(), channels, 3, rows, y.data());
  std::vector<float> ref(rows * total);
  for (int64_t r = 0; r < rows; ++r) {
    int offset = 0;
    for (int k = 0; k < 3; ++k) {
      for (int c = 0; c < channels[k]; ++c) ref[r * total + offset + c] = data[k][r * channels[k] + c];
      offset += channels[k];
    }
  }
  EXPECT_TRUE(y.check());
  EXPECT_TRUE(test::all_equal(y.data(), ref.data(), ref.size()));
}

TEST(Elementwise, LinearMatchesReference) {
  struct Case {
    int n, in, out;
    bool bias;
  };
  const Case cases[] = {{128, 64, 1, true}, {1, 1, 1, false}, {5, 37, 10, true}};
  uint32_t seed = kSeed + 300;
  for (const Case& k : cases) {
    SCOPED_TRACE(::testing::Message() << "n=" << k.n << " in=" << k.in << " out=" << k.out);
    const std::vector<float> x = test::random_normal(static_cast<size_t>(k.n) * k.in, 0.0, 1.0, seed++);
    const std::vector<float> w = test::random_uniform(static_cast<size_t>(k.out) * k.in, -0.2, 0.2, seed++);
    const std::vector<float> b = test::random_uniform(k.out, -1.0, 1.0, seed++);
    GuardedBuffer<float> y(static_cast<size_t>(k.n) * k.out, kPoison);
    linear(x.data(), k.n, k.in, k.out, w.data(), k.bias ? b.data() : nullptr, y.data());
    std::vector<double> ref(y.size());
    for (int i = 0; i < k.n; ++i)
      for (int o = 0; o < k.out; ++o) {
        double acc = k.bias ? b[o] : 0.0;
        for (int j = 0; j < k.in; ++j) acc += static_cast<double>(x[i * k.in + j]) * w[o * k.in + j];
        ref[static_cast<size_t>(i) * k.out + o] = acc;
      }
    EXPECT_TRUE(y.check());
    EXPECT_TRUE(test::all_close(y.data(), ref.data(), y.size(), 1e-6, 1e-6));
  }
}

TEST(Elementwise, RejectsBadArguments) {
  float buf[16] = {};
  const float* ptrs[2] = {buf, nullptr};
  const int channels[2] = {1, 0};
  NASWOT_EXPECT_BAD_INPUT(relu(buf, -1, buf), "count");
  NASWOT_EXPECT_BAD_INPUT(add_n(ptrs, 2, 4, buf), "input 1");
  NASWOT_EXPECT_BAD_INPUT(zero(buf, 1, 2, 2, 1, 0, buf), "stride");
  NASWOT_EXPECT_BAD_INPUT(concat_channels(ptrs, channels, 1, 4, nullptr), "non-null");
  NASWOT_EXPECT_BAD_INPUT(linear(buf, 1, 0, 1, buf, nullptr, buf), "in");
}

}  // namespace
}  // namespace naswot::cpu
