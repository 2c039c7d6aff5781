// cuda::bn_add_pack (the fused node kernel) vs cpu::bn_add_pack: bit-exact node tensor, relu and
// packed sign bits for the same BN statistics (both compute ((x - mean) * invstd) * gamma + beta
// and the left-to-right sum with every float operation rounded, no FMA). Also
// cuda::batchnorm_invstd vs cpu::batchnorm_invstd, bit-exact.
// Cases: 1..4 terms mixing BN and plain inputs, Add semantics (0 + t0 + ...) and a lone BN,
// units not a multiple of 64, one image, one channel, the NB-201 node (128 x 32x32x16, 3 BN edges).
#include "cuda_test_util.h"
#include "kernels/cpu/batchnorm.h"
#include "kernels/cpu/bn_add_pack.h"
#include "kernels/cpu/signpack.h"
#include "kernels/cuda/bn_add_pack.cuh"

namespace naswot::test {
namespace {

constexpr uint32_t kNodeSeed = kSeed + 401;

struct NodeCase {
  int n, h, w, c;
  std::vector<bool> bn;  // per term: BatchNorm or plain
  bool sum_from_zero;
  std::vector<bool> zero = {};  // per term (when given): x * 0, NaN, infinities and -0 in x
};

void check_node(const NodeCase& nc) {
  SCOPED_TRACE(testing::Message() << "n=" << nc.n << " " << nc.h << "x" << nc.w << "x" << nc.c << " terms="
                                  << nc.bn.size() << " sum_from_zero=" << nc.sum_from_zero);
  const int64_t units = static_cast<int64_t>(nc.h) * nc.w * nc.c;
  const size_t count = static_cast<size_t>(nc.n) * static_cast<size_t>(units);
  const auto cn = static_cast<size_t>(nc.c);
  const int terms = static_cast<int>(nc.bn.size());
  const int64_t rows = static_cast<int64_t>(nc.n) * nc.h * nc.w;
  TestStream s;

  std::vector<std::vector<float>> x(nc.bn.size()), mean(nc.bn.size()), invstd(nc.bn.size()), gamma(nc.bn.size()),
      beta(nc.bn.size());
  std::vector<DeviceGuarded<float>> dev;  // x, mean, invstd, gamma, beta per term
  dev.reserve(5 * nc.bn.size());
  std::vector<cpu::BnAddTerm> cpu_terms(nc.bn.size());
  std::vector<cuda::BnAddTerm> gpu_terms(nc.bn.size());
  for (int k = 0; k < terms; ++k) {
    const auto uk = static_cast<size_t>(k);
    const uint32_t seed = kNodeSeed + 10 * static_cast<uint32_t>(k);
    const bool zero = uk < nc.zero.size() && nc.zero[uk];
    x[uk] = zero ? awkward_input(count, seed) : random_normal(count, 0.05 * k, 1.0 + 0.5 * k, seed);
    dev.push_back(to_device(x[uk], s.get()));
    cpu_terms[uk].x = x[uk].data();
    gpu_terms[uk].x = dev.back().data();
    cpu_terms[uk].zero = gpu_terms[uk].zero = zero;
    if (zero || !nc.bn[uk]) continue;
    std::vector<float> var(cn);
    mean[uk].resize(cn);
    invstd[uk].resize(cn);
    cpu::batchnorm_stats(x[uk].data(), rows, nc.c, mean[uk].data(), var.data());
    cpu::batchnorm_invstd(var.data(), nc.c, 1e-5f, invstd[uk].data());
    gamma[uk] = random_uniform(cn, 0.5, 1.5, seed + 1);
    beta[uk] = random_uniform(cn, -0.3, 0.3, seed + 2);
    cpu_terms[uk] = {x[uk].data(), mean[uk].data(), invstd[uk].data(), gamma[uk].data(), beta[uk].data()};
    for (const std::vector<float>* v : {&mean[uk], &invstd[uk], &gamma[uk], &beta[uk]}) dev.push_back(to_device(*v, s.get()));
    const size_t b = dev.size() - 4;
    gpu_terms[uk] = {gpu_terms[uk].x, dev[b].data(), dev[b + 1].data(), dev[b + 2].data(), dev[b + 3].data()};

    // batchnorm_invstd twin, bit-exact.
    auto dvar = to_device(var, s.get());
    DeviceGuarded<float> dinv(cn, s.get());
    cuda::batchnorm_invstd(dvar.data(), nc.c, 1e-5f, dinv.data(), s.get());
    const std::vector<float> ginv = dinv.download();
    EXPECT_TRUE(bits_equal(ginv.data(), invstd[uk].data(), cn)) << "batchnorm_invstd, term " << k;
  }

  const int64_t words = cpu::sign_words(units);
  std::vector<float> y(count), relu_y(count);
  std::vector<uint64_t> bits(static_cast<size_t>(nc.n) * static_cast<size_t>(words));
  cpu::bn_add_pack(cpu_terms.data(), terms, nc.sum_from_zero, nc.n, units, nc.c, y.data(), relu_y.data(), bits.data());

  DeviceGuarded<float> dy(count, s.get()), drelu(count, s.get());
  DeviceGuarded<uint64_t> dbits(bits.size(), s.get());
  cuda::bn_add_pack(gpu_terms.data(), terms, nc.sum_from_zero, nc.n, units, nc.c, dy.data(), drelu.data(),
                    dbits.data(), s.get());
  const std::vector<float> gy = dy.download(), grelu = drelu.download();
  const std::vector<uint64_t> gbits = dbits.download();
  EXPECT_TRUE(bits_equal(gy.data(), y.data(), count)) << "node tensor";
  EXPECT_TRUE(bits_equal(grelu.data(), relu_y.data(), count)) << "relu(node)";
  EXPECT_TRUE(all_equal(gbits.data(), bits.data(), bits.size())) << "sign bits";
  EXPECT_TRUE(dy.guards_intact() && drelu.guards_intact() && dbits.guards_intact()) << "bn_add_pack wrote out of bounds";

  // Optional outputs absent: y alone must still be identical.
  DeviceGuarded<float> dy2(count, s.get());
  cuda::bn_add_pack(gpu_terms.data(), terms, nc.sum_from_zero, nc.n, units, nc.c, dy2.data(), nullptr, nullptr, s.get());
  const std::vector<float> gy2 = dy2.download();
  EXPECT_TRUE(bits_equal(gy2.data(), y.data(), count)) << "node tensor without relu/bits";
}

TEST(CudaBnAddPack, MatchesCpuOnAwkwardShapes) {
  NASWOT_REQUIRE_CUDA_DEVICE();
  check_node({1, 1, 1, 1, {true}, false});            // lone BN, one unit
  check_node({1, 3, 5, 5, {true, false}, true});     // 75 units: not a multiple of 64
  check_node({3, 4, 4, 3, {false, false, false}, true});  // plain add of three
  check_node({2, 7, 3, 1, {true, true, false, true}, true});  // one channel, four terms
  check_node({5, 5, 5, 13, {false}, true});          // add of one input: 0 + x
  check_node({3, 5, 5, 7, {true, false, false}, true, {false, true, false}});  // a "none" edge: x * 0
  check_node({2, 4, 4, 3, {false, false}, true, {true, true}});                 // only zeros (NaN kept)
}

TEST(CudaBnAddPack, MatchesCpuOnNb201Node) {
  NASWOT_REQUIRE_CUDA_DEVICE();
  check_node({128, 32, 32, 16, {true, true, true}, true});
  check_node({128, 8, 8, 64, {true, false}, true});
}

TEST(CudaBnAddPack, RejectsBadTerms) {
  float f = 0.0f;
  cuda::BnAddTerm t;
  t.x = &f;
  NASWOT_EXPECT_BAD_INPUT(cuda::bn_add_pack(&t, 0, true, 1, 1, 1, &f, nullptr, nullptr, nullptr), "num_terms");
  NASWOT_EXPECT_BAD_INPUT(cuda::bn_add_pack(&t, 1, true, 1, 10, 3, &f, nullptr, nullptr, nullptr), "multiple of channels");
  t.mean = &f;
  NASWOT_EXPECT_BAD_INPUT(cuda::bn_add_pack(&t, 1, true, 1, 1, 1, &f, nullptr, nullptr, nullptr), "lacks invstd");
}

}  // namespace
}  // namespace naswot::test
