// CUDA elementwise kernels vs kernels/cpu/elementwise: bit-exact (same float/double operation
// order, no FMA on either side), guard regions intact. NaN, -0 and exact zeros are planted where
// the semantics care (relu keeps NaN and -0, zero keeps the sign of x * 0).
#include <limits>

#include "cuda_test_util.h"
#include "kernels/cpu/elementwise.h"
#include "kernels/cuda/elementwise.cuh"

namespace naswot::test {
namespace {

constexpr uint32_t kEltSeed = kSeed + 501;

std::vector<float> with_specials(std::vector<float> v) {
  for (size_t i = 0; i < v.size(); i += 9) v[i] = -0.0f;
  for (size_t i = 4; i < v.size(); i += 17) v[i] = 0.0f;
  for (size_t i = 6; i < v.size(); i += 23) v[i] = std::numeric_limits<float>::quiet_NaN();
  return v;
}

TEST(CudaElementwise, ReluMatchesCpu) {
  NASWOT_REQUIRE_CUDA_DEVICE();
  TestStream s;
  for (size_t count : {size_t{1}, size_t{1000}, size_t{128} * 32 * 32 * 16}) {
    const std::vector<float> x = with_specials(random_normal(count, 0.0, 1.0, kEltSeed));
    std::vector<float> ref(count);
    cpu::relu(x.data(), static_cast<int64_t>(count), ref.data());
    auto dx = to_device(x, s.get());
    DeviceGuarded<float> dy(count, s.get());
    cuda::relu(dx.data(), static_cast<int64_t>(count), dy.data(), s.get());
    EXPECT_TRUE(bits_equal(dy.download().data(), ref.data(), count)) << "count " << count;
    EXPECT_TRUE(dy.guards_intact());
  }
}

TEST(CudaElementwise, AddNMatchesCpu) {
  NASWOT_REQUIRE_CUDA_DEVICE();
  TestStream s;
  const size_t count = 3 * 7 * 5 * 11;
  for (int inputs : {1, 2, 3, 8, 9, 20}) {  // 9 and 20 cross the kernel's 8-input chunk
    std::vector<std::vector<float>> xs;
    std::vector<DeviceGuarded<float>> dxs;
    std::vector<const float*> hp, dp;
    for (int k = 0; k < inputs; ++k) {
      xs.push_back(with_specials(random_normal(count, 0.0, 1.0 + k, kEltSeed + 1 + static_cast<uint32_t>(k))));
      dxs.push_back(to_device(xs.back(), s.get()));
    }
    for (int k = 0; k < inputs; ++k) {
      hp.push_back(xs[static_cast<size_t>(k)].data());
      dp.push_back(dxs[static_cast<size_t>(k)].data());
    }
    std::vector<float> ref(count);
    cpu::add_n(hp.data(), inputs, static_cast<int64_t>(count), ref.data());
    DeviceGuarded<float> dy(count, s.get());
    cuda::add_n(dp.data(), inputs, static_cast<int64_t>(count), dy.data(), s.get());
    EXPECT_TRUE(bits_equal(dy.download().data(), ref.data(), count)) << inputs << " inputs";
    EXPECT_TRUE(dy.guards_intact());
  }
}

TEST(CudaElementwise, ZeroMatchesCpu) {
  NASWOT_REQUIRE_CUDA_DEVICE();
  TestStream s;
  struct Z { int n, h, w, c, stride; };
  for (const Z z : {Z{1, 1, 1, 1, 1}, Z{2, 5, 7, 3, 1}, Z{3, 5, 7, 3, 2}, Z{128, 32, 32, 16, 2}}) {
    const size_t count = static_cast<size_t>(z.n) * z.h * z.w * z.c;
    const std::vector<float> x = with_specials(random_normal(count, 0.0, 1.0, kEltSeed + 40));
    const int oh = (z.h + z.stride - 1) / z.stride, ow = (z.w + z.stride - 1) / z.stride;
    const size_t out = static_cast<size_t>(z.n) * oh * ow * z.c;
    std::vector<float> ref(out);
    cpu::zero(x.data(), z.n, z.h, z.w, z.c, z.stride, ref.data());
    auto dx = to_device(x, s.get());
    DeviceGuarded<float> dy(out, s.get());
    cuda::zero(dx.data(), z.n, z.h, z.w, z.c, z.stride, dy.data(), s.get());
    EXPECT_TRUE(bits_equal(dy.download().data(), ref.data(), out)) << "stride " << z.stride << " h " << z.h;
    EXPECT_TRUE(dy.guards_intact());
  }
}

TEST(CudaElementwise, ShiftMatchesCpu) {
  NASWOT_REQUIRE_CUDA_DEVICE();
  TestStream s;
  struct Z { int n, h, w, c; };
  for (const Z z : {Z{1, 1, 1, 1}, Z{2, 5, 7, 3}, Z{128, 16, 16, 32}}) {
    const size_t count = static_cast<size_t>(z.n) * z.h * z.w * z.c;
    const std::vector<float> x = with_specials(random_normal(count, 0.0, 1.0, kEltSeed + 50));
    std::vector<float> ref(count);
    cpu::shift_up_left(x.data(), z.n, z.h, z.w, z.c, ref.data());
    auto dx = to_device(x, s.get());
    DeviceGuarded<float> dy(count, s.get());
    cuda::shift_up_left(dx.data(), z.n, z.h, z.w, z.c, dy.data(), s.get());
    EXPECT_TRUE(bits_equal(dy.download().data(), ref.data(), count)) << z.n << "x" << z.h << "x" << z.w << "x" << z.c;
    EXPECT_TRUE(dy.guards_intact());
  }
}

TEST(CudaElementwise, ConcatMatchesCpu) {
  NASWOT_REQUIRE_CUDA_DEVICE();
  TestStream s;
  const int64_t rows = 2 * 5 * 3;
  const std::vector<int> channels = {1, 5, 16};
  std::vector<std::vector<float>> xs;
  std::vector<DeviceGuarded<float>> dxs;
  std::vector<const float*> hp, dp;
  int total = 0;
  for (size_t k = 0; k < channels.size(); ++k) {
    xs.push_back(random_normal(static_cast<size_t>(rows) * channels[k], 0.0, 1.0, kEltSeed + 60 + static_cast<uint32_t>(k)));
    dxs.push_back(to_device(xs.back(), s.get()));
    total += channels[k];
  }
  for (size_t k = 0; k < channels.size(); ++k) {
    hp.push_back(xs[k].data());
    dp.push_back(dxs[k].data());
  }
  const size_t out = static_cast<size_t>(rows) * static_cast<size_t>(total);
  std::vector<float> ref(out);
  cpu::concat_channels(hp.data(), channels.data(), 3, rows, ref.data());
  DeviceGuarded<float> dy(out, s.get());
  cuda::concat_channels(dp.data(), channels.data(), 3, rows, dy.data(), s.get());
  EXPECT_TRUE(bits_equal(dy.download().data(), ref.data(), out));
  EXPECT_TRUE(dy.guards_intact());
}

TEST(CudaElementwise, LinearMatchesCpu) {
  NASWOT_REQUIRE_CUDA_DEVICE();
  TestStream s;
  struct L { int n, in, out; bool bias; };
  for (const L l : {L{1, 1, 1, true}, L{3, 100, 10, false}, L{128, 64, 1, true}, L{128, 576, 10, true}}) {
    const std::vector<float> x = random_normal(static_cast<size_t>(l.n) * l.in, 0.0, 1.0, kEltSeed + 80);
    const std::vector<float> w = random_uniform(static_cast<size_t>(l.out) * l.in, -0.1, 0.1, kEltSeed + 81);
    const std::vector<float> b = random_uniform(static_cast<size_t>(l.out), -0.1, 0.1, kEltSeed + 82);
    const size_t out = static_cast<size_t>(l.n) * l.out;
    std::vector<float> ref(out);
    cpu::linear(x.data(), l.n, l.in, l.out, w.data(), l.bias ? b.data() : nullptr, ref.data());
    auto dx = to_device(x, s.get());
    auto dw = to_device(w, s.get());
    auto db = to_device(b, s.get());
    DeviceGuarded<float> dy(out, s.get());
    cuda::linear(dx.data(), l.n, l.in, l.out, dw.data(), l.bias ? db.data() : nullptr, dy.data(), s.get());
    EXPECT_TRUE(bits_equal(dy.download().data(), ref.data(), out)) << "n " << l.n << " in " << l.in << " out " << l.out;
    EXPECT_TRUE(dy.guards_intact());
  }
}

TEST(CudaElementwise, RejectsBadShapes) {
  float f = 0.0f;
  const float* p = &f;
  NASWOT_EXPECT_BAD_INPUT(cuda::add_n(&p, 0, 1, &f, nullptr), "num_inputs");
  NASWOT_EXPECT_BAD_INPUT(cuda::zero(&f, 1, 1, 1, 1, 0, &f, nullptr), "stride");
  NASWOT_EXPECT_BAD_INPUT(cuda::linear(&f, 1, 0, 1, &f, nullptr, &f, nullptr), "in=0");
  const int c = 0;
  NASWOT_EXPECT_BAD_INPUT(cuda::concat_channels(&p, &c, 1, 1, &f, nullptr), "channels >= 1");
}

}  // namespace
}  // namespace naswot::test
