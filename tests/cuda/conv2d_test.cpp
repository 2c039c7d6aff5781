// cuDNN convolution (cuda::conv2d through rt::ConvPlanCache) vs cpu::conv2d_reference (double
// accumulation). Tolerance |gpu - ref| <= 1e-5 + 1e-5 |ref|: cuDNN sums fan_in float products in
// its own order (FP32 FMA, no TF32); with inputs in [-1, 1] and PyTorch-scaled weights |y| is
// O(1) and the float summation error is ~sqrt(fan_in) * 6e-8 ~ 2e-6 at fan_in 576 (3x3x64).
// Shapes: NB-201's 3x3 and 1x1 edges, the stride-2 ResNet conv, a strided stem-like conv with
// bias, grouped and dilated convolutions, one image with one channel. Every shape also runs
// naswot's direct kernel and, where it applies, its register-tiled kernel (conv2d_tiled.cuh)
// against the same reference. Also: the plan cache misses once and then hits for an identical
// key, and the host OIHW -> OHWI reorder.
#include <cmath>
#include <cstdlib>
#include <optional>

#include "cuda_test_util.h"
#include "kernels/cpu/conv2d.h"
#include "kernels/cuda/conv2d.cuh"
#include "kernels/cuda/conv2d_tc.cuh"
#include "kernels/cuda/conv2d_tiled.cuh"
#include "runtime/cuda/conv_plan.h"

namespace naswot::test {
namespace {

constexpr uint32_t kConvSeed = kSeed + 701;
constexpr double kConvAtol = 1e-5;
constexpr double kConvRtol = 1e-5;

void check_conv(const cpu::Conv2dShape& s, bool bias, rt::ConvChoice choice = rt::conv_choice_from_env()) {
  SCOPED_TRACE(testing::Message() << s.n << "x" << s.h << "x" << s.w << "x" << s.c_in << " -> " << s.c_out << " k"
                                  << s.kernel_h << "x" << s.kernel_w << " s" << s.stride_h << " p" << s.pad_h << " d"
                                  << s.dilation_h << " g" << s.groups << " bias " << bias << " choice "
                                  << rt::to_string(choice));
  const int cig = s.c_in / s.groups;
  const size_t xn = static_cast<size_t>(s.n) * s.h * s.w * s.c_in;
  const size_t wn = static_cast<size_t>(s.c_out) * cig * s.kernel_h * s.kernel_w;
  const size_t yn = static_cast<size_t>(s.n) * s.out_h() * s.out_w() * s.c_out;
  const double bound = 1.0 / std::sqrt(static_cast<double>(cig * s.kernel_h * s.kernel_w));
  const std::vector<float> x = random_uniform(xn, -1.0, 1.0, kConvSeed);
  const std::vector<float> w = random_uniform(wn, -bound, bound, kConvSeed + 1);
  const std::vector<float> b = random_uniform(static_cast<size_t>(s.c_out), -bound, bound, kConvSeed + 2);
  std::vector<float> ref(yn);
  cpu::conv2d_reference(s, x.data(), w.data(), bias ? b.data() : nullptr, ref.data());

  TestStream stream;
  rt::CudnnHandle handle = rt::make_cudnn_handle();
  rt::ConvPlanCache cache;
  cache.set_choice(choice);
  const rt::ConvPlan& plan = cache.get(handle.get(), rt::conv_key(s));
  std::vector<float> w_dev_layout(wn);
  if (plan.filter_ohwi)
    cuda::conv2d_weight_oihw_to_ohwi(w.data(), s.c_out, cig, s.kernel_h, s.kernel_w, w_dev_layout.data());
  else
    w_dev_layout = w;
  auto dx = to_device(x, stream.get());
  auto dw = to_device(w_dev_layout, stream.get());
  auto db = to_device(b, stream.get());
  DeviceGuarded<float> dy(yn, stream.get());
  DeviceGuarded<unsigned char> ws(std::max<size_t>(plan.workspace_bytes, 1), stream.get());
  cuda::conv2d(plan.view(handle.get()), s, dx.data(), dw.data(), bias ? db.data() : nullptr, dy.data(), ws.data(),
               stream.get());
  const std::vector<float> got = dy.download();
  if (std::getenv("NASWOT_CONV_DIRECT") == nullptr) {
    EXPECT_FALSE(plan.direct) << "cuDNN offered no admissible algorithm (see the warning on stderr)";
  }
  EXPECT_TRUE(all_close(got.data(), ref.data(), yn, kConvAtol, kConvRtol))
      << "algo " << plan.algo << ", filter " << (plan.filter_ohwi ? "KRSC" : "KCRS");
  EXPECT_TRUE(dy.guards_intact()) << "conv wrote outside y";
  EXPECT_TRUE(ws.guards_intact()) << "conv wrote outside its workspace";

  // naswot's own kernels, KRSC weights, same tolerance: the direct one (the fallback when cuDNN has
  // no admissible algorithm) and, where it applies, the register-tiled one (NASWOT_CONV_OWN=1).
  std::vector<float> w_ohwi(wn);
  cuda::conv2d_weight_oihw_to_ohwi(w.data(), s.c_out, cig, s.kernel_h, s.kernel_w, w_ohwi.data());
  auto dw_ohwi = to_device(w_ohwi, stream.get());
  auto check_own = [&](const char* what, auto&& run) {
    DeviceGuarded<float> dy_own(yn, stream.get());
    run(dy_own.data());
    const std::vector<float> got_own = dy_own.download();
    EXPECT_TRUE(all_close(got_own.data(), ref.data(), yn, kConvAtol, kConvRtol)) << what;
    EXPECT_TRUE(dy_own.guards_intact()) << what << " wrote outside y";
  };
  const float* b_dev = bias ? db.data() : nullptr;
  check_own("direct kernel", [&](float* out) { cuda::conv2d_direct(s, dx.data(), dw_ohwi.data(), b_dev, out, stream.get()); });
  if (cuda::conv2d_tiled_supports(s))
    check_own("tiled kernel", [&](float* out) { cuda::conv2d_tiled(s, dx.data(), dw_ohwi.data(), b_dev, out, stream.get()); });
  // The 3xTF32 tensor-core kernel (`--precision 3xtf32`) claims fp32's class of errors: same tolerance.
  if (cuda::conv2d_tc_supports(s))
    check_own("3xtf32 tensor-core kernel", [&](float* out) {
      cuda::conv2d_tc(s, cuda::TcSplit::Three, dx.data(), dw_ohwi.data(), b_dev, out, stream.get());
    });
}

TEST(CudaConv2d, MatchesCpuReferenceOnNb201Shapes) {
  NASWOT_REQUIRE_CUDA_DEVICE();
  check_conv(conv_shape(128, 32, 32, 3, 16, 3, 1, 1), false);   // stem
  check_conv(conv_shape(128, 32, 32, 16, 16, 3, 1, 1), false);  // nor_conv_3x3
  check_conv(conv_shape(128, 32, 32, 16, 16, 1, 1, 0), false);  // nor_conv_1x1
  check_conv(conv_shape(128, 32, 32, 16, 32, 3, 2, 1), false);  // ResNet conv_a
  check_conv(conv_shape(128, 8, 8, 64, 64, 3, 1, 1), false);    // last stage
}

TEST(CudaConv2d, TiledKernelCoversItsShapes) {  // host only: which shapes conv2d_tiled takes
  EXPECT_TRUE(cuda::conv2d_tiled_supports(conv_shape(128, 32, 32, 16, 16, 3, 1, 1)));
  EXPECT_TRUE(cuda::conv2d_tiled_supports(conv_shape(128, 8, 8, 64, 64, 3, 1, 1)));
  EXPECT_TRUE(cuda::conv2d_tiled_supports(conv_shape(4096, 32, 32, 16, 32, 3, 2, 1)));
  EXPECT_FALSE(cuda::conv2d_tiled_supports(conv_shape(128, 32, 32, 3, 16, 3, 1, 1))) << "stem: c_in 3";
  EXPECT_FALSE(cuda::conv2d_tiled_supports(conv_shape(2, 6, 6, 8, 12, 3, 1, 1, 1, 4))) << "groups";
  EXPECT_FALSE(cuda::conv2d_tiled_supports(conv_shape(2, 6, 6, 8, 24, 3, 1, 1))) << "c_out 24";
  EXPECT_FALSE(cuda::conv2d_tiled_supports(conv_shape(2, 6, 6, 128, 64, 1, 1, 0))) << "weights over 16 KB";
}

TEST(CudaConv2d, ForcedOwnKernelRunsThroughThePlan) {
  NASWOT_REQUIRE_CUDA_DEVICE();
  std::optional<ScopedEnv> own(std::in_place, "NASWOT_CONV_OWN", "force");
  rt::CudnnHandle handle = rt::make_cudnn_handle();
  rt::ConvPlanCache cache;
  const cpu::Conv2dShape s = conv_shape(6, 12, 10, 16, 32, 3, 1, 1);
  const rt::ConvPlan& plan = cache.get(handle.get(), rt::conv_key(s));
  EXPECT_EQ(plan.kernel, cuda::ConvKernel::Tiled) << "NASWOT_CONV_OWN=force and a supported shape";
  EXPECT_TRUE(plan.filter_ohwi);
  EXPECT_EQ(plan.workspace_bytes, 0u);
  const rt::ConvPlan& stem = cache.get(handle.get(), rt::conv_key(conv_shape(6, 12, 10, 3, 16, 3, 1, 1)));
  EXPECT_EQ(stem.kernel, cuda::ConvKernel::Cudnn) << "c_in 3 stays with cuDNN";
  // Each math forces its own kernel: tf32 conv2d_tc's one product, 3xtf32 its three.
  cache.set_math(rt::ConvMath::Tf32);
  EXPECT_EQ(cache.get(handle.get(), rt::conv_key(s)).kernel, cuda::ConvKernel::TcTf32);
  cache.set_math(rt::ConvMath::Tf32x3);
  EXPECT_EQ(cache.get(handle.get(), rt::conv_key(s)).kernel, cuda::ConvKernel::Tc3xTf32);
  cache.set_math(rt::ConvMath::Fp32);
  own->set("sometimes");
  EXPECT_THROW((void)cache.get(handle.get(), rt::conv_key(conv_shape(6, 12, 10, 16, 16, 1, 1, 0))), Error);
  own.reset();  // the environment as it was
  // The forced plan computes the convolution (conv2d's dispatch, KRSC weights, bias).
  const int cig = s.c_in;
  const size_t xn = static_cast<size_t>(s.n) * s.h * s.w * s.c_in;
  const size_t wn = static_cast<size_t>(s.c_out) * cig * s.kernel_h * s.kernel_w;
  const size_t yn = static_cast<size_t>(s.n) * s.out_h() * s.out_w() * s.c_out;
  const std::vector<float> x = random_uniform(xn, -1.0, 1.0, kConvSeed + 11);
  const std::vector<float> w = random_uniform(wn, -0.1, 0.1, kConvSeed + 12);
  const std::vector<float> b = random_uniform(static_cast<size_t>(s.c_out), -0.1, 0.1, kConvSeed + 13);
  std::vector<float> ref(yn), w_krsc(wn);
  cpu::conv2d_reference(s, x.data(), w.data(), b.data(), ref.data());
  cuda::conv2d_weight_oihw_to_ohwi(w.data(), s.c_out, cig, s.kernel_h, s.kernel_w, w_krsc.data());
  TestStream stream;
  auto dx = to_device(x, stream.get());
  auto dw = to_device(w_krsc, stream.get());
  auto db = to_device(b, stream.get());
  DeviceGuarded<float> dy(yn, stream.get());
  cuda::conv2d(plan.view(handle.get()), s, dx.data(), dw.data(), db.data(), dy.data(), nullptr, stream.get());
  const std::vector<float> got = dy.download();
  EXPECT_TRUE(all_close(got.data(), ref.data(), yn, kConvAtol, kConvRtol));
  EXPECT_TRUE(dy.guards_intact());
}

TEST(CudaConv2d, TiledKernelMatchesCpuReference) {
  NASWOT_REQUIRE_CUDA_DEVICE();
  // check_conv compares every kernel that supports the shape, conv2d_tiled included.
  check_conv(conv_shape(3, 7, 5, 8, 16, 3, 2, 1), true);         // odd sizes, stride 2, bias
  check_conv(conv_shape(2, 9, 9, 4, 32, 3, 1, 2, 2), false);     // dilation 2, c_in 4
  check_conv(conv_shape(1, 1, 1, 12, 64, 1, 1, 0), true);        // one pixel
  check_conv(conv_shape(5, 11, 13, 64, 64, 3, 1, 1), false);     // 715 pixels: a partial block, K = 64
  check_conv(conv_shape(300, 16, 16, 32, 32, 1, 1, 0), false);   // many blocks, 1x1, K = 32
  check_conv(conv_shape(2, 10, 10, 16, 16, 5, 1, 2), false);     // 5x5
  check_conv(conv_shape(3, 8, 8, 16, 32, 3, 1, 1), true);         // K = 32 with bias
  check_conv(conv_shape(2, 6, 6, 128, 32, 1, 1, 0), false);       // 4,096 weights: the staging limit
  cpu::Conv2dShape mixed = conv_shape(2, 9, 11, 8, 16, 3, 2, 1, 1);  // kernel 3x2, stride 2x3, pad 1x0, dilation 1x2
  mixed.kernel_w = 2;
  mixed.stride_w = 3;
  mixed.pad_w = 0;
  mixed.dilation_w = 2;
  check_conv(mixed, true);
}

TEST(CudaConv2d, BothChoicesMatchCpuReferenceOnAStackedShape) {
  NASWOT_REQUIRE_CUDA_DEVICE();
  // n = 4 x 128: a stacked group's batch, where timing and cuDNN's first rank picked differently
  // on the H200 (precomputed-index GEMM with a large workspace vs implicit GEMM).
  for (rt::ConvChoice choice : {rt::ConvChoice::Timed, rt::ConvChoice::Heuristic}) {
    check_conv(conv_shape(512, 32, 32, 16, 16, 3, 1, 1), false, choice);
    check_conv(conv_shape(512, 16, 16, 16, 32, 3, 2, 1), false, choice);
  }
}

TEST(CudaConv2d, TimedVerdictIsSharedWithinABatchBucket) {
  NASWOT_REQUIRE_CUDA_DEVICE();
  rt::CudnnHandle handle = rt::make_cudnn_handle();
  rt::ConvPlanCache cache;
  cache.set_choice(rt::ConvChoice::Heuristic);
  rt::ConvKey key = rt::conv_key(conv_shape(384, 32, 32, 16, 16, 3, 1, 1));
  (void)cache.get(handle.get(), key);
  EXPECT_EQ(cache.timings(), 0) << "the heuristic choice times nothing";

  cache.set_choice(rt::ConvChoice::Timed);
  key.n = 300;  // bucket 512
  const rt::ConvPlan& first = cache.get(handle.get(), key);
  const int64_t timed = cache.timings();
  std::printf("timed %lld candidates for %s: algo %d, %.4f ms\n", static_cast<long long>(timed),
              rt::describe(key).c_str(), static_cast<int>(first.algo), first.measured_ms);
  if (timed == 0) {
    GTEST_SKIP() << "cuDNN offers a single admissible algorithm for this shape: nothing to time";
  }
  EXPECT_GT(first.measured_ms, 0.0f);
  key.n = 500;  // same bucket: the verdict is reused, nothing timed
  const rt::ConvPlan& second = cache.get(handle.get(), key);
  EXPECT_EQ(cache.timings(), timed);
  EXPECT_EQ(second.algo, first.algo);
  EXPECT_EQ(second.kernel, first.kernel) << "cuDNN or naswot's own kernel: the verdict says which";
  EXPECT_LT(second.measured_ms, 0.0f) << "a bucket verdict is not a measurement";
  key.n = 513;  // next bucket: timed again
  (void)cache.get(handle.get(), key);
  EXPECT_GT(cache.timings(), timed);
  EXPECT_EQ(cache.misses(), 4);
}

TEST(CudaConv2d, ConvAlgoEnvironmentIsChecked) {  // host only
  ScopedEnv algo("NASWOT_CONV_ALGO", "heuristic");
  EXPECT_EQ(rt::conv_choice_from_env(), rt::ConvChoice::Heuristic);
  algo.set("timed");
  EXPECT_EQ(rt::conv_choice_from_env(), rt::ConvChoice::Timed);
  algo.set("fastest");
  try {
    (void)rt::conv_choice_from_env();
    ADD_FAILURE() << "NASWOT_CONV_ALGO=fastest accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::BadInput);
    EXPECT_NE(std::string(e.what()).find("expected timed or heuristic"), std::string::npos) << e.what();
  }
}

TEST(CudaConv2d, MatchesCpuReferenceOnAwkwardShapes) {
  NASWOT_REQUIRE_CUDA_DEVICE();
  check_conv(conv_shape(1, 1, 1, 1, 1, 1, 1, 0), true);
  check_conv(conv_shape(3, 7, 5, 6, 4, 3, 2, 1), true);
  check_conv(conv_shape(2, 9, 9, 8, 6, 3, 1, 2, 2), false);     // dilation 2
  check_conv(conv_shape(2, 6, 6, 8, 12, 3, 1, 1, 1, 4), true);  // groups 4
}

TEST(CudaConv2d, PlanCacheMissesOnceThenHits) {
  NASWOT_REQUIRE_CUDA_DEVICE();
  rt::CudnnHandle handle = rt::make_cudnn_handle();
  rt::ConvPlanCache cache;
  const rt::ConvKey key = rt::conv_key(conv_shape(128, 32, 32, 16, 16, 3, 1, 1));
  const rt::ConvPlan& first = cache.get(handle.get(), key);
  EXPECT_EQ(cache.misses(), 1);
  EXPECT_EQ(cache.hits(), 0);
  const rt::ConvPlan& second = cache.get(handle.get(), key);
  EXPECT_EQ(cache.misses(), 1);
  EXPECT_EQ(cache.hits(), 1);
  EXPECT_EQ(&first, &second) << "an identical key must return the cached plan";
  EXPECT_LE(first.workspace_bytes, rt::kConvWorkspaceLimit);
  rt::ConvKey other = key;
  other.stride_h = other.stride_w = 2;
  (void)cache.get(handle.get(), other);
  EXPECT_EQ(cache.misses(), 2) << "a key differing in one field is a new plan";
  EXPECT_EQ(cache.size(), 2u);
}

TEST(CudaConv2d, WeightReorderOihwToOhwi) {  // host only
  const int out = 3, in = 2, kh = 2, kw = 3;
  std::vector<float> oihw(static_cast<size_t>(out * in * kh * kw)), ohwi(oihw.size());
  for (size_t i = 0; i < oihw.size(); ++i) oihw[i] = static_cast<float>(i);
  cuda::conv2d_weight_oihw_to_ohwi(oihw.data(), out, in, kh, kw, ohwi.data());
  for (int o = 0; o < out; ++o)
    for (int i = 0; i < in; ++i)
      for (int r = 0; r < kh; ++r)
        for (int q = 0; q < kw; ++q)
          ASSERT_EQ(ohwi[static_cast<size_t>(((o * kh + r) * kw + q) * in + i)],
                    oihw[static_cast<size_t>(((o * in + i) * kh + r) * kw + q)])
              << "o " << o << " i " << i << " r " << r << " q " << q;
}

TEST(CudaConv2d, ConvKeyHoldsEveryField) {  // host only
  const cpu::Conv2dShape s = conv_shape(2, 9, 8, 6, 4, 3, 2, 1, 2, 2);
  const rt::ConvKey k = rt::conv_key(s);
  EXPECT_EQ(k.n, 2);
  EXPECT_EQ(k.h, 9);
  EXPECT_EQ(k.w, 8);
  EXPECT_EQ(k.c, 6);
  EXPECT_EQ(k.k, 4);
  EXPECT_EQ(k.r, 3);
  EXPECT_EQ(k.s, 3);
  EXPECT_EQ(k.stride_h, 2);
  EXPECT_EQ(k.pad_w, 1);
  EXPECT_EQ(k.dilation_h, 2);
  EXPECT_EQ(k.groups, 2);
  EXPECT_NE(rt::describe(k).find("groups 2"), std::string::npos) << rt::describe(k);
}

}  // namespace
}  // namespace naswot::test
