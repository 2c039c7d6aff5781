// conv2d_tc (TF32 tensor-core convolution, kernels/cuda/conv2d_tc.cuh) vs cpu::conv2d_reference.
// Tolerances scale with bound = sum over the receptive field of |x * w| (+ |bias|), computed here
// in double next to an exact (double) result, per output:
//  * TcSplit::One: |got - ref| <= 2^-9 bound + 1e-6. Both operands rounded to TF32 (10-bit
//    mantissa, round to nearest: relative error <= 2^-11 each) move a product by <= ~2^-10 of
//    |x w|; fp32 accumulation adds ~K ulps of the partial sums.
//  * TcSplit::Three: |got - ref| <= 4e-6 bound + 1e-6: the dropped lo*lo and the rounding of lo
//    cost ~3 * 2^-22 of |x w| per product, the accumulation stays fp32-like (3 K / 8 roundings of
//    partial sums far below bound).
//  * and Three's largest error (against the exact result) is below One's / 50: the split works.
// Inputs U(-1, 1), weights and bias U(-0.1, 0.1). Shapes: NB-201-like small batches (3x3 and 1x1
// at 16, 32 and 64 channels, stride-2 3x3 16 -> 32 and 32 -> 64), c_out 48, odd sizes with a
// pixel tail (not a multiple of 64 nor of 16), c_in 8 (a reduction tail of 8), 5x5, dilation 2,
// an asymmetric kernel/stride/pad/dilation, one pixel. Every run checks y's guard bands. Host
// only: which shapes conv2d_tc_supports takes, and that the launcher refuses the others (and
// misaligned pointers) with BadInput before touching the device. Speed: bench/conv_algos.cpp.
#include "kernels/cuda/conv2d_tc.cuh"

#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>

#include "cuda_test_util.h"
#include "kernels/cpu/conv2d.h"
#include "kernels/cuda/conv2d.cuh"
#include "kernels/cuda/cuda_check.h"

namespace naswot::test {
namespace {

constexpr uint32_t kTcSeed = kSeed + 907;
constexpr double kOneRel = 1.0 / 512.0;  // 2^-9
constexpr double kThreeRel = 4e-6;
constexpr double kAbs = 1e-6;
constexpr double kMinSplitGain = 50.0;

std::string describe(const cpu::Conv2dShape& s) {
  std::ostringstream os;
  os << s.n << "x" << s.h << "x" << s.w << "x" << s.c_in << " -> " << s.c_out << " k" << s.kernel_h << "x" << s.kernel_w
     << " s" << s.stride_h << "x" << s.stride_w << " p" << s.pad_h << "x" << s.pad_w << " d" << s.dilation_h << "x"
     << s.dilation_w << " g" << s.groups;
  return os.str();
}

// The exact convolution and each output's error scale sum |x w| + |b|, from NHWC x and OIHW w
// (groups 1), written from the definition independently of conv2d_tc_index.h.
struct Exact {
  std::vector<double> y, bound;
};

Exact exact_conv(const cpu::Conv2dShape& s, const std::vector<float>& x, const std::vector<float>& w_oihw,
                 const float* bias) {
  const int oh = s.out_h(), ow = s.out_w();
  Exact e;
  e.y.assign(static_cast<size_t>(s.n) * oh * ow * s.c_out, 0.0);
  e.bound.assign(e.y.size(), 0.0);
  for (int img = 0; img < s.n; ++img)
    for (int oy = 0; oy < oh; ++oy)
      for (int ox = 0; ox < ow; ++ox)
        for (int o = 0; o < s.c_out; ++o) {
          double sum = bias != nullptr ? bias[o] : 0.0;
          double abs_sum = bias != nullptr ? std::fabs(static_cast<double>(bias[o])) : 0.0;
          for (int r = 0; r < s.kernel_h; ++r) {
            const int iy = oy * s.stride_h - s.pad_h + r * s.dilation_h;
            if (iy < 0 || iy >= s.h) continue;
            for (int q = 0; q < s.kernel_w; ++q) {
              const int ix = ox * s.stride_w - s.pad_w + q * s.dilation_w;
              if (ix < 0 || ix >= s.w) continue;
              for (int i = 0; i < s.c_in; ++i) {
                const double p =
                    static_cast<double>(x[((static_cast<size_t>(img) * s.h + iy) * s.w + ix) * s.c_in + i]) *
                    w_oihw[((static_cast<size_t>(o) * s.c_in + i) * s.kernel_h + r) * s.kernel_w + q];
                sum += p;
                abs_sum += std::fabs(p);
              }
            }
          }
          const size_t at = ((static_cast<size_t>(img) * oh + oy) * ow + ox) * s.c_out + o;
          e.y[at] = sum;
          e.bound[at] = abs_sum;
        }
  return e;
}

struct SplitResult {
  size_t over_tolerance = 0;  // outputs with |got - ref| > rel * bound + kAbs
  std::string first_bad;
  double max_error = 0.0;  // largest |got - exact|
};

SplitResult compare(const std::vector<float>& got, const std::vector<float>& ref, const Exact& exact, double rel) {
  SplitResult r;
  for (size_t i = 0; i < got.size(); ++i) {
    const double g = got[i];
    const double allowed = rel * exact.bound[i] + kAbs;
    const double error = std::fabs(g - ref[i]);
    if (!(error <= allowed) && r.over_tolerance++ == 0) {  // NaN counts as bad
      std::ostringstream os;
      os.precision(9);
      os << "index " << i << ": got " << g << ", reference " << ref[i] << ", allowed " << allowed;
      r.first_bad = os.str();
    }
    r.max_error = std::max(r.max_error, std::isnan(g) ? INFINITY : std::fabs(g - exact.y[i]));
  }
  return r;
}

void check_tc(const cpu::Conv2dShape& s, bool bias, uint32_t seed) {
  SCOPED_TRACE(testing::Message() << describe(s) << " bias " << bias);
  ASSERT_TRUE(cuda::conv2d_tc_supports(s));
  const size_t xn = static_cast<size_t>(s.n) * s.h * s.w * s.c_in;
  const size_t wn = static_cast<size_t>(s.c_out) * s.c_in * s.kernel_h * s.kernel_w;
  const size_t yn = static_cast<size_t>(s.n) * s.out_h() * s.out_w() * s.c_out;
  const std::vector<float> x = random_uniform(xn, -1.0, 1.0, seed);
  const std::vector<float> w = random_uniform(wn, -0.1, 0.1, seed + 1);
  const std::vector<float> b = random_uniform(static_cast<size_t>(s.c_out), -0.1, 0.1, seed + 2);
  const float* host_bias = bias ? b.data() : nullptr;
  std::vector<float> ref(yn);
  cpu::conv2d_reference(s, x.data(), w.data(), host_bias, ref.data());
  const Exact exact = exact_conv(s, x, w, host_bias);
  // This file's own loop agrees with the reference (it supplies the bounds and the exact values).
  ASSERT_TRUE(all_close(ref.data(), exact.y.data(), yn, 1e-6, 1e-6));

  std::vector<float> w_ohwi(wn);
  cuda::conv2d_weight_oihw_to_ohwi(w.data(), s.c_out, s.c_in, s.kernel_h, s.kernel_w, w_ohwi.data());
  TestStream stream;
  auto dx = to_device(x, stream.get());
  auto dw = to_device(w_ohwi, stream.get());
  auto db = to_device(b, stream.get());
  auto run = [&](cuda::TcSplit split, double rel, const char* name) {
    DeviceGuarded<float> dy(yn, stream.get());
    cuda::conv2d_tc(s, split, dx.data(), dw.data(), bias ? db.data() : nullptr, dy.data(), stream.get());
    const std::vector<float> got = dy.download();
    const SplitResult r = compare(got, ref, exact, rel);
    EXPECT_EQ(r.over_tolerance, 0u) << name << ": " << r.over_tolerance << " of " << yn
                                    << " outputs over tolerance; first: " << r.first_bad;
    EXPECT_TRUE(dy.guards_intact()) << name << " wrote outside y";
    return r;
  };
  const SplitResult one = run(cuda::TcSplit::One, kOneRel, "TcSplit::One");
  const SplitResult three = run(cuda::TcSplit::Three, kThreeRel, "TcSplit::Three");
  EXPECT_GT(one.max_error, 0.0) << "TF32 rounding left no trace: were the operands rounded at all?";
  EXPECT_LT(three.max_error * kMinSplitGain, one.max_error)
      << "3xTF32 max error " << three.max_error << " vs 1xTF32 " << one.max_error;
}

TEST(CudaConv2dTc, SupportsNb201ShapesAndRefusesOthers) {  // host only
  EXPECT_TRUE(cuda::conv2d_tc_supports(conv_shape(4096, 32, 32, 16, 16, 3, 1, 1)));
  EXPECT_TRUE(cuda::conv2d_tc_supports(conv_shape(4096, 32, 32, 16, 16, 1, 1, 0)));
  EXPECT_TRUE(cuda::conv2d_tc_supports(conv_shape(4096, 16, 16, 32, 32, 3, 1, 1)));
  EXPECT_TRUE(cuda::conv2d_tc_supports(conv_shape(4096, 8, 8, 64, 64, 3, 1, 1)));
  EXPECT_TRUE(cuda::conv2d_tc_supports(conv_shape(4096, 32, 32, 16, 32, 3, 2, 1)));
  EXPECT_TRUE(cuda::conv2d_tc_supports(conv_shape(4096, 16, 16, 32, 64, 3, 2, 1)));
  EXPECT_TRUE(cuda::conv2d_tc_supports(conv_shape(2, 9, 7, 24, 48, 3, 1, 1))) << "c_out 48";
  EXPECT_TRUE(cuda::conv2d_tc_supports(conv_shape(1, 1, 1, 8, 16, 1, 1, 0))) << "one pixel, c_in 8";
  EXPECT_FALSE(cuda::conv2d_tc_supports(conv_shape(128, 32, 32, 3, 16, 3, 1, 1))) << "stem: c_in 3";
  EXPECT_FALSE(cuda::conv2d_tc_supports(conv_shape(2, 6, 6, 12, 16, 3, 1, 1))) << "c_in 12";
  EXPECT_FALSE(cuda::conv2d_tc_supports(conv_shape(2, 6, 6, 4, 16, 3, 1, 1))) << "c_in 4";
  EXPECT_FALSE(cuda::conv2d_tc_supports(conv_shape(2, 6, 6, 16, 24, 3, 1, 1))) << "c_out 24";
  EXPECT_FALSE(cuda::conv2d_tc_supports(conv_shape(2, 6, 6, 16, 8, 3, 1, 1))) << "c_out 8";
  EXPECT_FALSE(cuda::conv2d_tc_supports(conv_shape(2, 6, 6, 16, 128, 3, 1, 1))) << "c_out 128";
  EXPECT_FALSE(cuda::conv2d_tc_supports(conv_shape(2, 6, 6, 16, 16, 3, 1, 1, 1, 2))) << "groups 2";
  EXPECT_FALSE(cuda::conv2d_tc_supports(conv_shape(2, 2, 2, 16, 16, 5, 1, 0))) << "no output pixel";
  EXPECT_FALSE(cuda::conv2d_tc_supports(conv_shape(0, 8, 8, 16, 16, 3, 1, 1))) << "no image";
  EXPECT_FALSE(cuda::conv2d_tc_supports(conv_shape(2, 8, 8, 16, 16, 3, 1, -1))) << "negative padding";
  EXPECT_FALSE(cuda::conv2d_tc_supports(conv_shape(2, 8, 8, 16, 16, 3, 0, 1))) << "stride 0";
  EXPECT_FALSE(cuda::conv2d_tc_supports(conv_shape(1, 16384, 16384, 16, 16, 1, 1, 0))) << "an image over 2^31 elements";
  EXPECT_FALSE(cuda::conv2d_tc_supports(conv_shape(40000, 256, 256, 8, 16, 1, 1, 0))) << "over 2^31 output pixels";
  EXPECT_FALSE(cuda::conv2d_tc_supports(conv_shape(1, 8, 8, 16, 16, 3, 1, 1 << 30))) << "padding past 2^30";
}

TEST(CudaConv2dTc, LauncherRefusesBeforeTouchingTheDevice) {  // host only: the checks precede any CUDA call
  alignas(16) float host[8] = {};
  try {
    cuda::conv2d_tc(conv_shape(2, 6, 6, 12, 16, 3, 1, 1), cuda::TcSplit::One, host, host, nullptr, host, nullptr);
    ADD_FAILURE() << "c_in 12 accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::BadInput);
    EXPECT_NE(std::string(e.what()).find("2x6x6x12 -> 16"), std::string::npos) << "names the shape: " << e.what();
  }
  try {
    cuda::conv2d_tc(conv_shape(2, 6, 6, 16, 16, 3, 1, 1), cuda::TcSplit::Three, host + 1, host, nullptr, host, nullptr);
    ADD_FAILURE() << "a misaligned x accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::BadInput);
  }
  EXPECT_THROW(
      cuda::conv2d_tc(conv_shape(2, 6, 6, 16, 16, 3, 1, 1), cuda::TcSplit::One, host, nullptr, nullptr, host, nullptr),
      Error)
      << "a null weight accepted";
}

TEST(CudaConv2dTc, MatchesCpuReferenceOnNb201Shapes) {
  NASWOT_REQUIRE_CUDA_DEVICE();
  check_tc(conv_shape(4, 32, 32, 16, 16, 3, 1, 1), false, kTcSeed);       // nor_conv_3x3, first stage
  check_tc(conv_shape(4, 32, 32, 16, 16, 1, 1, 0), false, kTcSeed + 10);  // nor_conv_1x1
  check_tc(conv_shape(4, 16, 16, 32, 32, 3, 1, 1), false, kTcSeed + 20);  // second stage
  check_tc(conv_shape(8, 8, 8, 64, 64, 3, 1, 1), false, kTcSeed + 30);    // last stage
  check_tc(conv_shape(8, 8, 8, 64, 64, 1, 1, 0), false, kTcSeed + 40);
  check_tc(conv_shape(2, 32, 32, 16, 32, 3, 2, 1), false, kTcSeed + 50);  // ResNet conv_a, stride 2
  check_tc(conv_shape(2, 16, 16, 32, 64, 3, 2, 1), true, kTcSeed + 60);
}

TEST(CudaConv2dTc, MatchesCpuReferenceOnAwkwardShapes) {
  NASWOT_REQUIRE_CUDA_DEVICE();
  check_tc(conv_shape(3, 7, 5, 8, 16, 3, 2, 1), true, kTcSeed + 100);      // 3*4*3 = 36 pixels, K = 72
  check_tc(conv_shape(5, 11, 13, 64, 64, 3, 1, 1), false, kTcSeed + 110);  // 715 pixels: partial block
  check_tc(conv_shape(2, 9, 7, 24, 48, 3, 1, 1), true, kTcSeed + 120);     // c_out 48, K = 216 (tail 24)
  check_tc(conv_shape(2, 9, 9, 8, 32, 3, 1, 2, 2), false, kTcSeed + 130);  // dilation 2, c_in 8
  check_tc(conv_shape(2, 10, 10, 16, 16, 5, 1, 2), true, kTcSeed + 140);   // 5x5
  check_tc(conv_shape(1, 1, 1, 64, 64, 1, 1, 0), true, kTcSeed + 150);     // one pixel
  check_tc(conv_shape(300, 6, 6, 32, 32, 1, 1, 0), false, kTcSeed + 160);  // 10,800 pixels, 1x1
  cpu::Conv2dShape mixed = conv_shape(2, 9, 11, 8, 16, 3, 2, 1, 1);        // kernel 3x2, stride 2x3, pad 1x0, dil 1x2
  mixed.kernel_w = 2;
  mixed.stride_w = 3;
  mixed.pad_w = 0;
  mixed.dilation_w = 2;
  check_tc(mixed, true, kTcSeed + 170);
}

}  // namespace
}  // namespace naswot::test
