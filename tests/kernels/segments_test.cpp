// cpu::*_segments (kernels/cpu/segments.h) against the per-tensor CPU kernels run segment by
// segment and against naive references written here. Tolerances: exact (bitwise) for gathered
// floats, node tensors, statistics against batchnorm_stats, invstd, sign bits and K; the
// statistics against the long-double two-pass reference within mean |d| <= 2.5e-7 |mean| +
// 1e-9 (|mean| + std) and var |d| <= 2.5e-7 var + 1e-12 (both round a double result once).
// Cases: one segment and several, sources shared by several segments (broadcast), sizes that are
// not multiples of 32 or 64, one image, one channel, num_terms 1..8 varying by segment, segments
// with and without sign bits or invstd, NaN / -0 / inf / denormal inputs, zero segments; node
// segments with 0..kMaxNodeCopies copies (plain and relu) and without a stored y.
// Every output buffer is guarded (out-of-bounds writes).
#include "kernels/cpu/segments.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "kernels/cpu/batchnorm.h"
#include "kernels/cpu/bn_add_pack.h"
#include "kernels/cpu/popcount_k.h"
#include "kernels/cpu/signpack.h"
#include "test_util.h"

namespace naswot::test {
namespace {

constexpr uint32_t kSegSeed = kSeed + 1301;

::testing::AssertionResult same_bits(const float* got, const float* ref, size_t n) {
  for (size_t i = 0; i < n; ++i)
    if (std::memcmp(got + i, ref + i, sizeof(float)) != 0)
      return ::testing::AssertionFailure() << "index " << i << ": got " << got[i] << ", ref " << ref[i]
                                           << " (tolerance: bit-exact)";
  return ::testing::AssertionSuccess();
}

// Bit b of word w of image i is (x[i][64w + b] > 0); `words` may exceed ceil(units/64) (zero words).
std::vector<uint64_t> pack_reference(const float* x, int n, int64_t units, int64_t words) {
  std::vector<uint64_t> bits(static_cast<size_t>(n) * static_cast<size_t>(words), 0);
  for (int i = 0; i < n; ++i)
    for (int64_t u = 0; u < units; ++u)
      if (x[i * units + u] > 0.0f) bits[static_cast<size_t>(i * words + u / 64)] |= uint64_t{1} << (u % 64);
  return bits;
}

TEST(CpuSegments, GatherMatchesNaiveLoop) {
  for (const int segments : {1, 3, 6}) {
    for (const int64_t seg_floats : {int64_t{1}, int64_t{77}, int64_t{1001}}) {
      // Three distinct sources; with 6 segments each is used twice (broadcast).
      std::vector<std::vector<float>> pool;
      for (uint32_t k = 0; k < 3; ++k) pool.push_back(awkward_input(static_cast<size_t>(seg_floats), kSegSeed + k));
      std::vector<const float*> src(static_cast<size_t>(segments));
      for (int s = 0; s < segments; ++s) src[static_cast<size_t>(s)] = pool[static_cast<size_t>(2 * s % 3)].data();
      for (const bool relu : {false, true}) {
        SCOPED_TRACE(::testing::Message() << "segments=" << segments << " seg_floats=" << seg_floats
                                          << " relu=" << relu);
        const size_t total = static_cast<size_t>(segments) * static_cast<size_t>(seg_floats);
        GuardedBuffer<float> dst(total, 123.0f);
        cpu::gather_segments(src.data(), segments, seg_floats, relu, dst.data());
        std::vector<float> ref(total);
        for (size_t s = 0; s < src.size(); ++s)
          for (int64_t i = 0; i < seg_floats; ++i) {
            const float v = src[s][i];
            ref[s * static_cast<size_t>(seg_floats) + static_cast<size_t>(i)] = relu ? (v < 0.0f ? 0.0f : v) : v;
          }
        EXPECT_TRUE(same_bits(dst.data(), ref.data(), total));
        EXPECT_TRUE(dst.check()) << "gather_segments wrote outside dst";
      }
    }
  }
}

TEST(CpuSegments, GatherOfNothingWritesNothing) {
  const float x = 1.0f;
  const float* src[] = {&x, &x};
  GuardedBuffer<float> dst(1, 7.0f);
  cpu::gather_segments(nullptr, 0, 5, true, nullptr);
  cpu::gather_segments(src, 2, 0, false, dst.data());
  EXPECT_EQ(dst[0], 7.0f);
  EXPECT_TRUE(dst.check());
}

struct StatsCase {
  int segments;
  int64_t rows;
  int channels;
};

TEST(CpuSegments, BatchNormStatsMatchPerTensorAndReference) {
  const StatsCase cases[] = {{1, 1, 1}, {2, 777, 33}, {5, 300, 7}, {3, 8 * 8 * 8, 64}};
  uint32_t seed = kSegSeed + 100;
  for (const StatsCase& k : cases) {
    SCOPED_TRACE(::testing::Message() << "segments=" << k.segments << " rows=" << k.rows << " channels=" << k.channels);
    const size_t count = static_cast<size_t>(k.rows) * static_cast<size_t>(k.channels);
    const auto cn = static_cast<size_t>(k.channels);
    const auto segs = static_cast<size_t>(k.segments);
    std::vector<std::vector<float>> x(segs);
    std::vector<GuardedBuffer<float>> mean, var, invstd;
    mean.reserve(segs);
    var.reserve(segs);
    invstd.reserve(segs);
    std::vector<cpu::StatsSegment> table(segs);
    for (size_t s = 0; s < segs; ++s) {
      // Segment 1 has mean 50 and std 0.1 (the cancellation case).
      x[s] = s == 1 ? random_normal(count, 50.0, 0.1, ++seed) : random_normal(count, 0.2 * s, 1.0 + s, ++seed);
      mean.emplace_back(cn, -1.0f);
      var.emplace_back(cn, -1.0f);
      invstd.emplace_back(cn, -1.0f);
      const bool with_invstd = s % 3 != 2;  // segment 2 (of 3 or more) asks for no invstd
      table[s] = {x[s].data(), mean[s].data(), var[s].data(), with_invstd ? invstd[s].data() : nullptr,
                  1e-5f * static_cast<float>(s + 1)};
    }
    cpu::batchnorm_stats_segments(table.data(), k.segments, k.rows, k.channels);
    for (size_t s = 0; s < segs; ++s) {
      SCOPED_TRACE(::testing::Message() << "segment " << s);
      std::vector<float> m(cn), v(cn), y(count), rm(cn), rv(cn);
      const std::vector<float> gamma(cn, 1.0f), beta(cn, 0.0f);
      cpu::batchnorm_stats(x[s].data(), k.rows, k.channels, m.data(), v.data());
      EXPECT_TRUE(same_bits(mean[s].data(), m.data(), cn)) << "mean vs batchnorm_stats";
      EXPECT_TRUE(same_bits(var[s].data(), v.data(), cn)) << "var vs batchnorm_stats";
      cpu::batchnorm_train_reference(x[s].data(), k.rows, k.channels, gamma.data(), beta.data(), 1e-5f, y.data(),
                                     rm.data(), rv.data());
      for (size_t j = 0; j < cn; ++j) {
        const double sd = std::sqrt(static_cast<double>(rv[j]));
        const double mean_tol = 2.5e-7 * std::fabs(rm[j]) + 1e-9 * (std::fabs(rm[j]) + sd);
        EXPECT_TRUE(all_close(&mean[s][j], &rm[j], 1, mean_tol, 0.0)) << "mean vs reference, channel " << j;
        EXPECT_TRUE(all_close(&var[s][j], &rv[j], 1, 1e-12, 2.5e-7)) << "var vs reference, channel " << j;
      }
      if (table[s].invstd != nullptr) {
        std::vector<float> inv(cn);
        for (size_t j = 0; j < cn; ++j)
          inv[j] = static_cast<float>(1.0 / std::sqrt(static_cast<double>(v[j]) + static_cast<double>(table[s].eps)));
        EXPECT_TRUE(same_bits(invstd[s].data(), inv.data(), cn)) << "invstd";
      } else {
        for (size_t j = 0; j < cn; ++j) EXPECT_EQ(invstd[s][j], -1.0f) << "invstd written although nullptr";
      }
      EXPECT_TRUE(mean[s].check() && var[s].check() && invstd[s].check()) << "stats wrote out of bounds";
    }
  }
}

// One node segment's inputs: per term x (and BN statistics, gamma, beta when it is a BatchNorm).
struct NodeInputs {
  std::vector<std::vector<float>> x, mean, invstd, gamma, beta;
  std::vector<cpu::BnAddTerm> terms;
};

NodeInputs make_node(int num_terms, int segment, int n, int64_t rows, int channels, int64_t units, uint32_t seed) {
  NodeInputs in;
  const auto k_terms = static_cast<size_t>(num_terms);
  const auto cn = static_cast<size_t>(channels);
  const size_t count = static_cast<size_t>(n) * static_cast<size_t>(units);
  in.x.resize(k_terms);
  in.mean.resize(k_terms);
  in.invstd.resize(k_terms);
  in.gamma.resize(k_terms);
  in.beta.resize(k_terms);
  in.terms.resize(k_terms);
  for (size_t k = 0; k < k_terms; ++k) {
    const uint32_t sk = seed + 10 * static_cast<uint32_t>(k);
    in.x[k] = random_normal(count, 0.05 * static_cast<double>(k), 1.0 + 0.25 * static_cast<double>(k), sk);
    in.terms[k].x = in.x[k].data();
    if ((static_cast<size_t>(segment) + k) % 3 == 2) continue;  // a plain term (skip, pool, zero edge)
    std::vector<float> var(cn);
    in.mean[k].resize(cn);
    in.invstd[k].resize(cn);
    cpu::batchnorm_stats(in.x[k].data(), rows, channels, in.mean[k].data(), var.data());
    cpu::batchnorm_invstd(var.data(), channels, 1e-5f, in.invstd[k].data());
    in.gamma[k] = random_uniform(cn, 0.5, 1.5, sk + 1);
    in.beta[k] = random_uniform(cn, -0.3, 0.3, sk + 2);
    in.terms[k] = {in.x[k].data(), in.mean[k].data(), in.invstd[k].data(), in.gamma[k].data(), in.beta[k].data()};
  }
  return in;
}

struct NodeCase {
  int segments;
  int n, h, w, c;
  bool sum_from_zero;
};

TEST(CpuSegments, BnAddPackMatchesPerTensorKernel) {
  const NodeCase cases[] = {{1, 1, 1, 1, 1, false},  // lone BN, one unit
                            {3, 2, 3, 5, 5, true},   // 75 units: not a multiple of 64
                            {5, 3, 4, 4, 16, true},  // 256 units
                            {4, 2, 7, 3, 1, false}}; // one channel
  const int term_counts[] = {1, 8, 3, 5, 2};
  uint32_t seed = kSegSeed + 200;
  for (const NodeCase& k : cases) {
    SCOPED_TRACE(::testing::Message() << "segments=" << k.segments << " n=" << k.n << " " << k.h << "x" << k.w << "x"
                                      << k.c << " sum_from_zero=" << k.sum_from_zero);
    const int64_t units = static_cast<int64_t>(k.h) * k.w * k.c;
    const int64_t rows = static_cast<int64_t>(k.n) * k.h * k.w;
    const int64_t words = cpu::sign_words(units);
    const size_t count = static_cast<size_t>(k.n) * static_cast<size_t>(units);
    const size_t nwords = static_cast<size_t>(k.n) * static_cast<size_t>(words);
    const auto segs = static_cast<size_t>(k.segments);
    std::vector<NodeInputs> inputs;
    std::vector<GuardedBuffer<float>> y;
    std::vector<GuardedBuffer<uint64_t>> bits;
    std::vector<std::vector<GuardedBuffer<float>>> copies(segs);
    y.reserve(segs);
    bits.reserve(segs);
    std::vector<cpu::NodeSegment> table(segs);
    for (size_t s = 0; s < segs; ++s) {
      const int num_terms = k.segments == 1 ? 1 : term_counts[s % 5];
      inputs.push_back(make_node(num_terms, static_cast<int>(s), k.n, rows, k.c, units, seed += 100));
      y.emplace_back(count, -7.0f);
      bits.emplace_back(nwords, ~uint64_t{0});
      for (int t = 0; t < num_terms; ++t) table[s].terms[t] = inputs[s].terms[static_cast<size_t>(t)];
      table[s].num_terms = num_terms;
      table[s].y = s % 3 == 2 ? nullptr : y[s].data();        // every third segment: y not stored
      table[s].bits = s % 2 == 1 ? nullptr : bits[s].data();  // odd segments: no sign bits
      // Copies: 0, 1, .., kMaxNodeCopies by segment, relu on every other one (the first copy of
      // odd segments).
      const int num_copies = static_cast<int>(s % (cpu::kMaxNodeCopies + 1));
      copies[s].reserve(static_cast<size_t>(num_copies));
      for (int i = 0; i < num_copies; ++i) {
        copies[s].emplace_back(count, 55.0f);
        table[s].copies[i] = copies[s].back().data();
        if ((static_cast<int>(s) + i) % 2 == 1) table[s].copy_relu |= 1u << i;
      }
      table[s].num_copies = num_copies;
    }
    cpu::bn_add_pack_segments(table.data(), k.segments, k.sum_from_zero, k.n, units, k.c);
    for (size_t s = 0; s < segs; ++s) {
      SCOPED_TRACE(::testing::Message() << "segment " << s << " num_terms=" << table[s].num_terms);
      std::vector<float> ref_y(count);
      std::vector<uint64_t> ref_bits(nwords);
      cpu::bn_add_pack(inputs[s].terms.data(), table[s].num_terms, k.sum_from_zero, k.n, units, k.c, ref_y.data(),
                       nullptr, ref_bits.data());
      if (table[s].y != nullptr) {
        EXPECT_TRUE(same_bits(y[s].data(), ref_y.data(), count)) << "node tensor";
      } else {
        for (size_t i = 0; i < count; ++i) ASSERT_EQ(y[s][i], -7.0f) << "y written although nullptr";
      }
      for (int i = 0; i < table[s].num_copies; ++i) {
        const bool relu = (table[s].copy_relu >> i) & 1u;
        std::vector<float> want(ref_y);
        if (relu)
          for (float& v : want) v = v < 0.0f ? 0.0f : v;  // NaN and -0 kept
        EXPECT_TRUE(same_bits(copies[s][static_cast<size_t>(i)].data(), want.data(), count))
            << "copy " << i << (relu ? " (relu)" : " (plain)");
        EXPECT_TRUE(copies[s][static_cast<size_t>(i)].check()) << "copy " << i << " written out of bounds";
      }
      if (table[s].bits != nullptr) {
        EXPECT_TRUE(all_equal(bits[s].data(), ref_bits.data(), nwords)) << "sign bits vs bn_add_pack";
        const std::vector<uint64_t> naive = pack_reference(ref_y.data(), k.n, units, words);
        EXPECT_TRUE(all_equal(bits[s].data(), naive.data(), nwords)) << "sign bits vs naive packing of y";
      } else {
        for (size_t i = 0; i < nwords; ++i) EXPECT_EQ(bits[s][i], ~uint64_t{0}) << "bits written although nullptr";
      }
      EXPECT_TRUE(y[s].check() && bits[s].check()) << "bn_add_pack_segments wrote out of bounds";
    }
  }
}

struct PopCase {
  int segments;
  int n;
  int64_t units;
  int64_t extra_words;  // zero words past ceil(units/64)
};

TEST(CpuSegments, PopcountKMatchesReference) {
  const PopCase cases[] = {{1, 1, 1, 0}, {4, 33, 75, 2}, {3, 5, 200, 0}, {2, 40, 1000, 1}};
  const int64_t weights[] = {1, -3, 7, int64_t{1} << 20};
  uint32_t seed = kSegSeed + 300;
  for (const PopCase& k : cases) {
    SCOPED_TRACE(::testing::Message() << "segments=" << k.segments << " n=" << k.n << " units=" << k.units
                                      << " extra_words=" << k.extra_words);
    const int64_t words = cpu::sign_words(k.units) + k.extra_words;
    const auto segs = static_cast<size_t>(k.segments);
    const size_t nn = static_cast<size_t>(k.n) * static_cast<size_t>(k.n);
    std::vector<std::vector<uint8_t>> codes(segs);
    std::vector<std::vector<uint64_t>> packed(segs);
    std::vector<GuardedBuffer<int64_t>> kmat;
    kmat.reserve(segs);
    std::vector<cpu::PopcountSegment> table(segs);
    for (size_t s = 0; s < segs; ++s) {
      std::mt19937 rng(++seed);
      codes[s].resize(static_cast<size_t>(k.n) * static_cast<size_t>(k.units));
      std::vector<float> as_float(codes[s].size());
      for (size_t i = 0; i < codes[s].size(); ++i) {
        codes[s][i] = static_cast<uint8_t>(rng() & 1u);
        as_float[i] = codes[s][i] != 0 ? 1.0f : -1.0f;
      }
      packed[s] = pack_reference(as_float.data(), k.n, k.units, words);
      kmat.emplace_back(nn);
      for (size_t i = 0; i < nn; ++i) kmat[s][i] = static_cast<int64_t>(i % 17) - 5 + static_cast<int64_t>(s);
      table[s] = {packed[s].data(), kmat[s].data(), weights[s % 4]};
    }
    cpu::popcount_k_segments(table.data(), k.segments, k.n, words, k.units);
    for (size_t s = 0; s < segs; ++s) {
      SCOPED_TRACE(::testing::Message() << "segment " << s << " weight=" << table[s].weight);
      std::vector<int64_t> ref(nn);
      for (size_t i = 0; i < nn; ++i) ref[i] = static_cast<int64_t>(i % 17) - 5 + static_cast<int64_t>(s);
      cpu::popcount_k_reference(codes[s].data(), k.n, k.units, table[s].weight, ref.data());
      EXPECT_TRUE(all_equal(kmat[s].data(), ref.data(), nn));
      EXPECT_TRUE(kmat[s].check()) << "popcount_k_segments wrote outside K";
    }
  }
}

TEST(CpuSegments, SignPackMatchesNaivePacking) {
  struct Case {
    int segments, n;
    int64_t units;
  };
  const Case cases[] = {{1, 1, 1}, {3, 2, 63}, {5, 2, 64}, {4, 3, 65}, {2, 1, 1000}};
  uint32_t seed = kSegSeed + 400;
  for (const Case& k : cases) {
    SCOPED_TRACE(::testing::Message() << "segments=" << k.segments << " n=" << k.n << " units=" << k.units);
    const int64_t words = cpu::sign_words(k.units);
    const auto segs = static_cast<size_t>(k.segments);
    const size_t nwords = static_cast<size_t>(k.n) * static_cast<size_t>(words);
    std::vector<std::vector<float>> x(segs);
    std::vector<GuardedBuffer<uint64_t>> bits;
    bits.reserve(segs);
    std::vector<cpu::SignPackSegment> table(segs);
    for (size_t s = 0; s < segs; ++s) {
      x[s] = awkward_input(static_cast<size_t>(k.n) * static_cast<size_t>(k.units), ++seed);
      bits.emplace_back(nwords, ~uint64_t{0});  // stale ones must be cleared
      table[s] = {x[s].data(), bits[s].data()};
    }
    cpu::sign_pack_segments(table.data(), k.segments, k.n, k.units);
    for (size_t s = 0; s < segs; ++s) {
      const std::vector<uint64_t> ref = pack_reference(x[s].data(), k.n, k.units, words);
      EXPECT_TRUE(all_equal(bits[s].data(), ref.data(), nwords)) << "segment " << s;
      EXPECT_TRUE(bits[s].check()) << "sign_pack_segments wrote outside segment " << s;
    }
  }
}

TEST(CpuSegments, ZeroSegmentsDoNothing) {
  cpu::batchnorm_stats_segments(nullptr, 0, 1, 1);
  cpu::bn_add_pack_segments(nullptr, 0, true, 1, 1, 1);
  cpu::popcount_k_segments(nullptr, 0, 1, 1, 1);
  cpu::sign_pack_segments(nullptr, 0, 1, 1);
}

TEST(CpuSegments, RejectsBadArguments) {
  float f = 0.0f;
  const float* src[] = {&f};
  NASWOT_EXPECT_BAD_INPUT(cpu::gather_segments(src, -1, 1, false, &f), "segments expected >= 0");
  NASWOT_EXPECT_BAD_INPUT(cpu::gather_segments(nullptr, 1, 1, false, &f), "table expected non-null");
  NASWOT_EXPECT_BAD_INPUT(cpu::gather_segments(src, 1, -1, false, &f), "seg_floats");
  NASWOT_EXPECT_BAD_INPUT(cpu::batchnorm_stats_segments(nullptr, 2, 1, 1), "table expected non-null");
  NASWOT_EXPECT_BAD_INPUT(cpu::popcount_k_segments(nullptr, -3, 1, 1, 1), "segments expected >= 0");
  NASWOT_EXPECT_BAD_INPUT(cpu::sign_pack_segments(nullptr, 1, 1, 1), "table expected non-null");
  cpu::NodeSegment node;
  node.terms[0].x = &f;
  node.y = &f;
  node.num_terms = 0;
  NASWOT_EXPECT_BAD_INPUT(cpu::bn_add_pack_segments(&node, 1, true, 1, 1, 1), "num_terms expected 1..8");
  node.num_terms = cpu::kMaxBnAddTerms + 1;
  NASWOT_EXPECT_BAD_INPUT(cpu::bn_add_pack_segments(&node, 1, true, 1, 1, 1), "num_terms expected 1..8");
  node.num_terms = 1;
  node.num_copies = cpu::kMaxNodeCopies + 1;
  NASWOT_EXPECT_BAD_INPUT(cpu::bn_add_pack_segments(&node, 1, true, 1, 1, 1), "num_copies expected 0..4");
  node.num_copies = 1;  // copies[0] left null
  NASWOT_EXPECT_BAD_INPUT(cpu::bn_add_pack_segments(&node, 1, true, 1, 1, 1), "copy 0 is null");
}

}  // namespace
}  // namespace naswot::test
