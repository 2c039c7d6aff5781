// CUDA pooling vs kernels/cpu/pool: bit-exact (same window order, one float division for avg,
// NaN wins for max, double accumulation for the global average), guard regions intact.
// Windows: NB-201's 3x3/1/1 (both count_include_pad), the ResNet shortcut's 2x2/2, a strided
// 3x3/2/1 on odd sizes, one pixel, one channel.
#include <limits>

#include "cuda_test_util.h"
#include "kernels/cpu/pool.h"
#include "kernels/cuda/pool.cuh"

namespace naswot::test {
namespace {

constexpr uint32_t kPoolSeed = kSeed + 601;

void check_pool(const cpu::Pool2dShape& p) {
  SCOPED_TRACE(testing::Message() << p.n << "x" << p.h << "x" << p.w << "x" << p.c << " k" << p.kernel << " s"
                                  << p.stride << " p" << p.pad);
  const size_t in = static_cast<size_t>(p.n) * p.h * p.w * p.c;
  std::vector<float> x = random_normal(in, 0.0, 1.0, kPoolSeed);
  for (size_t i = 5; i < x.size(); i += 97) x[i] = std::numeric_limits<float>::quiet_NaN();
  const size_t out = static_cast<size_t>(p.n) * p.out_h() * p.out_w() * p.c;
  TestStream s;
  auto dx = to_device(x, s.get());
  for (int variant = 0; variant < 3; ++variant) {  // avg exclude-pad, avg include-pad, max
    std::vector<float> ref(out);
    DeviceGuarded<float> dy(out, s.get());
    if (variant < 2) {
      cpu::avgpool2d(p, variant == 1, x.data(), ref.data());
      cuda::avgpool2d(p, variant == 1, dx.data(), dy.data(), s.get());
    } else {
      cpu::maxpool2d(p, x.data(), ref.data());
      cuda::maxpool2d(p, dx.data(), dy.data(), s.get());
    }
    EXPECT_TRUE(bits_equal(dy.download().data(), ref.data(), out)) << "variant " << variant;
    EXPECT_TRUE(dy.guards_intact()) << "variant " << variant;
  }
}

TEST(CudaPool, WindowsMatchCpu) {
  NASWOT_REQUIRE_CUDA_DEVICE();
  check_pool({1, 1, 1, 1, 1, 1, 0});
  check_pool({2, 5, 7, 3, 3, 1, 1});
  check_pool({3, 7, 5, 1, 3, 2, 1});
  check_pool({2, 8, 8, 5, 2, 2, 0});
  check_pool({128, 32, 32, 16, 3, 1, 1});
  check_pool({128, 16, 16, 32, 2, 2, 0});
}

// The stacked path's pools: segments read through a device table (one source twice: broadcast),
// written contiguously, bit-identical to the CPU twin; guards intact.
void check_pool_segments(const cpu::Pool2dShape& p, int segments) {
  SCOPED_TRACE(testing::Message() << segments << " segments of " << p.n << "x" << p.h << "x" << p.w << "x" << p.c
                                  << " k" << p.kernel << " s" << p.stride << " p" << p.pad);
  const size_t in = static_cast<size_t>(p.n) * p.h * p.w * p.c;
  const size_t out = static_cast<size_t>(p.n) * p.out_h() * p.out_w() * p.c;
  TestStream s;
  std::vector<std::vector<float>> x;
  std::vector<DeviceGuarded<float>> dx;
  dx.reserve(static_cast<size_t>(segments));
  std::vector<const float*> host_table, device_table;
  for (int k = 0; k < segments; ++k) {
    if (k == 1 && segments > 2) {  // segment 1 reads segment 0's tensor again
      host_table.push_back(host_table[0]);
      device_table.push_back(device_table[0]);
      continue;
    }
    x.push_back(awkward_input(in, kPoolSeed + 7 * static_cast<uint32_t>(k)));
    dx.push_back(to_device(x.back(), s.get()));
    host_table.push_back(x.back().data());
    device_table.push_back(dx.back().data());
  }
  rt::DeviceBuffer<const float*> table(device_table.size(), "pool table");
  rt::copy_to_device(table.data(), device_table.data(), device_table.size() * sizeof(float*), s.get());
  for (int variant = 0; variant < 3; ++variant) {
    std::vector<float> ref(out * static_cast<size_t>(segments));
    DeviceGuarded<float> dy(ref.size(), s.get());
    if (variant < 2) {
      cpu::avgpool2d_segments(p, variant == 1, host_table.data(), segments, ref.data());
      cuda::avgpool2d_segments(p, variant == 1, table.data(), segments, dy.data(), s.get());
    } else {
      cpu::maxpool2d_segments(p, host_table.data(), segments, ref.data());
      cuda::maxpool2d_segments(p, table.data(), segments, dy.data(), s.get());
    }
    EXPECT_TRUE(bits_equal(dy.download().data(), ref.data(), ref.size())) << "variant " << variant;
    EXPECT_TRUE(dy.guards_intact()) << "variant " << variant;
  }
}

TEST(CudaPool, SegmentsMatchCpu) {
  NASWOT_REQUIRE_CUDA_DEVICE();
  check_pool_segments({1, 1, 1, 1, 1, 1, 0}, 1);
  check_pool_segments({2, 5, 7, 3, 3, 1, 1}, 3);
  check_pool_segments({3, 7, 5, 1, 3, 2, 1}, 5);
  check_pool_segments({16, 32, 32, 16, 3, 1, 1}, 9);
}

TEST(CudaPool, GlobalAvgPoolMatchesCpu) {
  NASWOT_REQUIRE_CUDA_DEVICE();
  TestStream s;
  struct G { int n; int64_t hw; int c; };
  for (const G g : {G{1, 1, 1}, G{3, 49, 5}, G{128, 64, 64}}) {
    const std::vector<float> x = random_normal(static_cast<size_t>(g.n) * g.hw * g.c, 0.2, 1.0, kPoolSeed + 7);
    const size_t out = static_cast<size_t>(g.n) * g.c;
    std::vector<float> ref(out);
    cpu::global_avgpool(g.n, g.hw, g.c, x.data(), ref.data());
    auto dx = to_device(x, s.get());
    DeviceGuarded<float> dy(out, s.get());
    cuda::global_avgpool(g.n, g.hw, g.c, dx.data(), dy.data(), s.get());
    EXPECT_TRUE(bits_equal(dy.download().data(), ref.data(), out)) << "n " << g.n << " hw " << g.hw;
    EXPECT_TRUE(dy.guards_intact());
  }
}

TEST(CudaPool, RejectsBadWindows) {
  float f = 0.0f;
  NASWOT_EXPECT_BAD_INPUT(cuda::avgpool2d({1, 2, 2, 1, 3, 1, 2}, false, &f, &f, nullptr), "pad");
  NASWOT_EXPECT_BAD_INPUT(cuda::maxpool2d({1, 1, 1, 1, 3, 1, 0}, &f, &f, nullptr), "larger than");
  NASWOT_EXPECT_BAD_INPUT(cuda::global_avgpool(0, 1, 1, &f, &f, nullptr), "n, hw, c");
}

}  // namespace
}  // namespace naswot::test
