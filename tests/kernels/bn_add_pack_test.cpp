// cpu::bn_add_pack (the fused node reference) equals the unfused CPU path bit for bit:
// batchnorm_apply per BN term, add_n over the terms, relu, sign_pack. This is the contract that
// lets the CUDA backend fuse BatchNorm + node sum + sign bits without changing any score.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "kernels/cpu/batchnorm.h"
#include "kernels/cpu/bn_add_pack.h"
#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/pool.h"
#include "kernels/cpu/signpack.h"
#include "test_util.h"

namespace naswot::test {
namespace {

constexpr uint32_t kFusedSeed = kSeed + 451;

::testing::AssertionResult same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  for (size_t i = 0; i < a.size(); ++i)
    if (std::memcmp(&a[i], &b[i], sizeof(float)) != 0)
      return ::testing::AssertionFailure() << "index " << i << ": fused " << a[i] << ", unfused " << b[i]
                                           << " (tolerance: bit-exact)";
  return ::testing::AssertionSuccess();
}

// As same_bits, except that any NaN matches any NaN: which NaN an inf - inf inside a pool window
// yields (sign, payload) depends on the operand order the compiler picks for a vectorised add.
::testing::AssertionResult same_bits_or_nan(const std::vector<float>& a, const std::vector<float>& b) {
  for (size_t i = 0; i < a.size(); ++i)
    if (!(std::isnan(a[i]) && std::isnan(b[i])) && std::memcmp(&a[i], &b[i], sizeof(float)) != 0)
      return ::testing::AssertionFailure() << "index " << i << ": fused " << a[i] << ", unfused " << b[i]
                                           << " (tolerance: bit-exact, NaN = NaN)";
  return ::testing::AssertionSuccess();
}

// zero[k] (when given): term k is a stride-1 Zero op's output, x * 0 (cpu::zero), fused as term.zero.
void check_fused_equals_unfused(int n, int h, int w, int c, const std::vector<bool>& bn, bool add,
                                const std::vector<bool>& zero = {}) {
  SCOPED_TRACE(testing::Message() << n << "x" << h << "x" << w << "x" << c << " terms=" << bn.size() << " add=" << add);
  const int64_t units = static_cast<int64_t>(h) * w * c;
  const size_t count = static_cast<size_t>(n) * static_cast<size_t>(units);
  const int64_t rows = static_cast<int64_t>(n) * h * w;
  const auto cn = static_cast<size_t>(c);
  const size_t k_terms = bn.size();
  std::vector<std::vector<float>> x(k_terms), y_bn(k_terms), mean(k_terms), var(k_terms), inv(k_terms), gamma(k_terms),
      beta(k_terms);
  std::vector<cpu::BnAddTerm> terms(k_terms);
  std::vector<const float*> summands(k_terms);
  for (size_t k = 0; k < k_terms; ++k) {
    const uint32_t seed = kFusedSeed + 10 * static_cast<uint32_t>(k);
    x[k] = random_normal(count, 0.1, 1.0, seed);
    terms[k].x = x[k].data();
    summands[k] = x[k].data();
    if (k < zero.size() && zero[k]) {  // x with NaN, infinities and -0: x * 0 keeps NaN and the sign
      x[k] = awkward_input(count, seed);
      terms[k].x = x[k].data();
      terms[k].zero = true;
      y_bn[k].resize(count);
      cpu::zero(x[k].data(), n, h, w, c, 1, y_bn[k].data());
      summands[k] = y_bn[k].data();
      continue;
    }
    if (!bn[k]) continue;
    mean[k].resize(cn);
    var[k].resize(cn);
    inv[k].resize(cn);
    y_bn[k].resize(count);
    gamma[k] = random_uniform(cn, 0.5, 1.5, seed + 1);
    beta[k] = random_uniform(cn, -0.5, 0.5, seed + 2);
    cpu::batchnorm_stats(x[k].data(), rows, c, mean[k].data(), var[k].data());
    cpu::batchnorm_apply(x[k].data(), rows, c, mean[k].data(), var[k].data(), gamma[k].data(), beta[k].data(), 1e-5f,
                         y_bn[k].data());
    cpu::batchnorm_invstd(var[k].data(), c, 1e-5f, inv[k].data());
    terms[k] = {x[k].data(), mean[k].data(), inv[k].data(), gamma[k].data(), beta[k].data()};
    summands[k] = y_bn[k].data();
  }
  std::vector<float> unfused(count), unfused_relu(count);
  if (add)
    cpu::add_n(summands.data(), static_cast<int>(k_terms), static_cast<int64_t>(count), unfused.data());
  else
    unfused.assign(summands[0], summands[0] + count);
  cpu::relu(unfused.data(), static_cast<int64_t>(count), unfused_relu.data());
  std::vector<uint64_t> unfused_bits(static_cast<size_t>(n) * static_cast<size_t>(cpu::sign_words(units)));
  cpu::sign_pack(unfused.data(), n, units, unfused_bits.data());

  GuardedBuffer<float> y(count), relu_y(count);
  GuardedBuffer<uint64_t> bits(unfused_bits.size());
  cpu::bn_add_pack(terms.data(), static_cast<int>(k_terms), add, n, units, c, y.data(), relu_y.data(), bits.data());
  EXPECT_TRUE(same_bits(y.to_vector(), unfused)) << "node tensor";
  EXPECT_TRUE(same_bits(relu_y.to_vector(), unfused_relu)) << "relu(node)";
  EXPECT_TRUE(all_equal(bits.data(), unfused_bits.data(), unfused_bits.size())) << "sign bits";
  EXPECT_TRUE(y.check() && relu_y.check() && bits.check()) << "bn_add_pack wrote outside its outputs";
}

TEST(CpuBnAddPack, EqualsUnfusedPathBitForBit) {
  check_fused_equals_unfused(1, 1, 1, 1, {true}, false);
  check_fused_equals_unfused(2, 3, 5, 5, {true, false}, true);
  check_fused_equals_unfused(3, 4, 4, 3, {false, false, false}, true);
  check_fused_equals_unfused(4, 8, 8, 16, {true, true, true}, true);
  check_fused_equals_unfused(2, 5, 5, 7, {false}, true);
  check_fused_equals_unfused(3, 4, 4, 5, {true, false, false}, true, {false, true, false});
  check_fused_equals_unfused(2, 3, 3, 2, {false, false}, true, {true, true});
}

// A pooled term (the stacked path's pool views) equals avgpool2d / maxpool2d followed by the plain
// sum, bit for bit: windows clipped at the borders, both divisors, stride 2, and for max pools the
// NaN that wins (awkward inputs: NaN, infinities, -0).
void check_pooled_term(bool max, int kernel, int stride, int pad, bool include_pad, bool awkward) {
  SCOPED_TRACE(testing::Message() << (max ? "max" : "avg") << " k" << kernel << " s" << stride << " p" << pad
                                  << (include_pad ? " include_pad" : "") << (awkward ? " awkward" : ""));
  const int n = 3, h = 7, w = 6, c = 5;
  const cpu::Pool2dShape ps{n, h, w, c, kernel, stride, pad};
  const int oh = ps.out_h(), ow = ps.out_w();
  const int64_t units = static_cast<int64_t>(oh) * ow * c;
  const size_t in_count = static_cast<size_t>(n) * h * w * c, count = static_cast<size_t>(n) * static_cast<size_t>(units);
  const std::vector<float> x = awkward ? awkward_input(in_count, kFusedSeed + 71) : random_normal(in_count, 0.0, 1.0, kFusedSeed + 71);
  const std::vector<float> other = random_normal(count, 0.0, 1.0, kFusedSeed + 72);
  std::vector<float> pooled(count), unfused(count);
  if (max)
    cpu::maxpool2d(ps, x.data(), pooled.data());
  else
    cpu::avgpool2d(ps, include_pad, x.data(), pooled.data());
  const float* summands[2] = {other.data(), pooled.data()};
  cpu::add_n(summands, 2, static_cast<int64_t>(count), unfused.data());
  std::vector<uint64_t> unfused_bits(static_cast<size_t>(n) * static_cast<size_t>(cpu::sign_words(units)));
  cpu::sign_pack(unfused.data(), n, units, unfused_bits.data());

  cpu::BnAddTerm terms[2];
  terms[0].x = other.data();
  terms[1].x = x.data();
  terms[1].pool.kind = max ? cpu::TermPoolKind::Max : cpu::TermPoolKind::Avg;
  terms[1].pool.count_include_pad = include_pad;
  terms[1].pool.in_h = h;
  terms[1].pool.in_w = w;
  terms[1].pool.kernel = static_cast<int16_t>(kernel);
  terms[1].pool.stride = static_cast<int16_t>(stride);
  terms[1].pool.pad = static_cast<int16_t>(pad);
  GuardedBuffer<float> y(count);
  GuardedBuffer<uint64_t> bits(unfused_bits.size());
  cpu::bn_add_pack(terms, 2, true, n, units, c, y.data(), nullptr, bits.data());
  EXPECT_TRUE(same_bits_or_nan(y.to_vector(), unfused)) << "node tensor";
  EXPECT_TRUE(all_equal(bits.data(), unfused_bits.data(), unfused_bits.size())) << "sign bits";
  EXPECT_TRUE(y.check() && bits.check()) << "bn_add_pack wrote outside its outputs";
}

TEST(CpuBnAddPack, PooledTermEqualsPoolThenSum) {
  for (bool awkward : {false, true}) {
    check_pooled_term(false, 3, 1, 1, false, awkward);
    check_pooled_term(false, 3, 1, 1, true, awkward);
    check_pooled_term(false, 3, 2, 1, false, awkward);
    check_pooled_term(false, 2, 2, 0, true, awkward);
    check_pooled_term(true, 3, 1, 1, false, awkward);
    check_pooled_term(true, 3, 2, 1, false, awkward);
  }
}

TEST(CpuBnAddPack, RejectsBadPooledTerms) {
  float f[64] = {};
  cpu::BnAddTerm t;
  t.x = f;
  t.pool.kind = cpu::TermPoolKind::Avg;
  t.pool.in_h = t.pool.in_w = 4;
  t.pool.kernel = 3;
  t.pool.pad = 1;
  // 4x4 pooled with stride 1 gives 4x4: 16 units of one channel; 15 units is another node.
  NASWOT_EXPECT_BAD_INPUT(cpu::bn_add_pack(&t, 1, true, 1, 15, 1, f, nullptr, nullptr), "not the node's 15 units");
  t.pool.pad = 2;
  NASWOT_EXPECT_BAD_INPUT(cpu::bn_add_pack(&t, 1, true, 1, 16, 1, f, nullptr, nullptr), "pad <= kernel/2");
  t.pool.pad = 1;
  t.zero = true;
  NASWOT_EXPECT_BAD_INPUT(cpu::bn_add_pack(&t, 1, true, 1, 16, 1, f, nullptr, nullptr), "expected a plain term");
  t.zero = false;
  cpu::bn_add_pack(&t, 1, true, 1, 16, 1, f + 16, nullptr, nullptr);  // valid: no throw
  EXPECT_EQ(f[16], 0.0f);
}

TEST(CpuBnAddPack, RejectsBadArguments) {
  float f = 0.0f;
  cpu::BnAddTerm t;
  t.x = &f;
  NASWOT_EXPECT_BAD_INPUT(cpu::bn_add_pack(&t, 0, true, 1, 1, 1, &f, nullptr, nullptr), "num_terms");
  NASWOT_EXPECT_BAD_INPUT(cpu::bn_add_pack(&t, 1, true, 1, 10, 3, &f, nullptr, nullptr), "multiple of channels");
  t.mean = &f;
  NASWOT_EXPECT_BAD_INPUT(cpu::bn_add_pack(&t, 1, true, 1, 1, 1, &f, nullptr, nullptr), "lacks invstd");
  NASWOT_EXPECT_BAD_INPUT(cpu::batchnorm_invstd(&f, 0, 1e-5f, &f), "channels");
}

}  // namespace
}  // namespace naswot::test
