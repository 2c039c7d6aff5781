// cuda::*_segments (kernels/cuda/segments.cuh) vs the CPU twins (kernels/cpu/segments.h) on seeded
// random inputs, the descriptor tables uploaded to device memory. Tolerances: exact for gathered
// floats (bits_equal: any NaN equals any NaN), node tensors, sign bits and K. BatchNorm statistics:
// within tests/cuda/batchnorm_test.cpp's tolerance of the CPU (mean |d| <= 2.5e-7 |mean| +
// 1e-9 (|mean| + std), var |d| <= 2.5e-7 var + 1e-12), bit-identical to cuda::batchnorm_stats_invstd
// run per segment (same block decomposition and summation order), invstd bit-identical to
// cpu::batchnorm_invstd of the GPU's var, and bit-identical run to run with a dirty scratch.
// Cases: one segment and several, shared sources, sizes not multiples of 32 or 64, one image, one
// channel, num_terms 1..8 by segment, segments without sign bits or invstd (their buffers must stay
// untouched), NB-201 shapes, more segments than a grid dimension holds (70,000), zero segments.
#include <cstring>
#include <limits>
#include <random>
#include <type_traits>

#include "cuda_test_util.h"
#include "kernels/cpu/batchnorm.h"
#include "kernels/cpu/bn_add_pack.h"
#include "kernels/cpu/segments.h"
#include "kernels/cpu/signpack.h"
#include "kernels/cuda/batchnorm.cuh"
#include "kernels/cuda/segments.cuh"

namespace naswot::test {
namespace {

constexpr uint32_t kSegSeed = kSeed + 1401;
constexpr unsigned char kUntouched = 0xA5;  // DeviceGuarded fills payload and guards with it

// A descriptor table in device memory (guarded bytes; the payload is 256-byte aligned).
template <class T>
DeviceGuarded<unsigned char> upload_table(const std::vector<T>& table, cudaStream_t stream) {
  static_assert(std::is_trivially_copyable_v<T>, "descriptors are copied as bytes");
  std::vector<unsigned char> bytes(table.size() * sizeof(T));
  std::memcpy(bytes.data(), table.data(), bytes.size());
  return to_device(bytes, stream);
}

template <class T>
const T* as_table(DeviceGuarded<unsigned char>& bytes) {
  return reinterpret_cast<const T*>(bytes.data());
}

template <class T>
bool untouched(const std::vector<T>& v) {
  const auto* p = reinterpret_cast<const unsigned char*>(v.data());
  for (size_t b = 0; b < v.size() * sizeof(T); ++b)
    if (p[b] != kUntouched) return false;
  return true;
}

// Random codes in the signpack layout: padding bits and the extra words past ceil(units/64) zero.
std::vector<uint64_t> random_codes(int n, int64_t units, int64_t words, uint32_t seed) {
  std::vector<uint64_t> bits(static_cast<size_t>(n) * static_cast<size_t>(words), 0);
  std::mt19937_64 rng(seed);
  const int64_t used = cpu::sign_words(units);
  const int64_t tail = units - 64 * (used - 1);
  const uint64_t mask = tail == 64 ? ~0ull : ((1ull << tail) - 1);
  for (int i = 0; i < n; ++i)
    for (int64_t w = 0; w < used; ++w)
      bits[static_cast<size_t>(i * words + w)] = w == used - 1 ? (rng() & mask) : rng();
  return bits;
}

// --- gather ---------------------------------------------------------------------------------

void check_gather(int segments, int64_t seg_floats, bool relu) {
  SCOPED_TRACE(testing::Message() << "segments=" << segments << " seg_floats=" << seg_floats << " relu=" << relu);
  TestStream s;
  // Three distinct sources; segments use them in the order 0, 2, 1, 0, ... (broadcast).
  std::vector<std::vector<float>> pool;
  std::vector<DeviceGuarded<float>> dpool;
  dpool.reserve(3);
  for (uint32_t k = 0; k < 3; ++k) {
    pool.push_back(awkward_input(static_cast<size_t>(seg_floats), kSegSeed + k));
    dpool.push_back(to_device(pool.back(), s.get()));
  }
  std::vector<const float*> host_src, dev_src;
  for (int q = 0; q < segments; ++q) {
    host_src.push_back(pool[static_cast<size_t>(2 * q % 3)].data());
    dev_src.push_back(dpool[static_cast<size_t>(2 * q % 3)].data());
  }
  const size_t total = static_cast<size_t>(segments) * static_cast<size_t>(seg_floats);
  std::vector<float> ref(total);
  cpu::gather_segments(host_src.data(), segments, seg_floats, relu, ref.data());

  auto table = upload_table(dev_src, s.get());
  DeviceGuarded<float> dst(total, s.get());
  cuda::gather_segments(as_table<const float*>(table), segments, seg_floats, relu, dst.data(), s.get());
  const std::vector<float> got = dst.download();
  EXPECT_TRUE(bits_equal(got.data(), ref.data(), total));
  EXPECT_TRUE(dst.guards_intact()) << "gather_segments wrote outside dst";
}

TEST(CudaSegments, GatherMatchesCpu) {
  NASWOT_REQUIRE_CUDA_DEVICE();
  for (const int segments : {1, 3, 6})
    for (const int64_t seg_floats : {int64_t{1}, int64_t{77}, int64_t{4097}})
      for (const bool relu : {false, true}) check_gather(segments, seg_floats, relu);
}

// --- batchnorm statistics -------------------------------------------------------------------

struct StatsCase {
  int segments;
  int64_t rows;
  int channels;
};

void check_stats(const StatsCase& k, uint32_t seed) {
  SCOPED_TRACE(testing::Message() << "segments=" << k.segments << " rows=" << k.rows << " channels=" << k.channels);
  const size_t count = static_cast<size_t>(k.rows) * static_cast<size_t>(k.channels);
  const auto cn = static_cast<size_t>(k.channels);
  const auto segs = static_cast<size_t>(k.segments);
  TestStream s;
  std::vector<std::vector<float>> x(segs), mean(segs, std::vector<float>(cn)), var(segs, std::vector<float>(cn)),
      invstd(segs, std::vector<float>(cn));
  std::vector<DeviceGuarded<float>> dx, dmean, dvar, dinv;
  for (auto* v : {&dx, &dmean, &dvar, &dinv}) v->reserve(segs);
  std::vector<cpu::StatsSegment> host_table(segs);
  std::vector<cuda::StatsSegment> dev_table(segs);
  for (size_t q = 0; q < segs; ++q) {
    // Segment 1 has mean 50 and std 0.1 (the cancellation case).
    x[q] = q == 1 ? random_normal(count, 50.0, 0.1, seed + static_cast<uint32_t>(q))
                  : random_normal(count, 0.2 * static_cast<double>(q), 1.0 + static_cast<double>(q),
                                  seed + static_cast<uint32_t>(q));
    dx.push_back(to_device(x[q], s.get()));
    dmean.emplace_back(cn, s.get());
    dvar.emplace_back(cn, s.get());
    dinv.emplace_back(cn, s.get());
    const bool with_invstd = q % 3 != 2;
    const float eps = 1e-5f * static_cast<float>(q + 1);
    host_table[q] = {x[q].data(), mean[q].data(), var[q].data(), with_invstd ? invstd[q].data() : nullptr, eps};
    dev_table[q] = {dx[q].data(), dmean[q].data(), dvar[q].data(), with_invstd ? dinv[q].data() : nullptr, eps};
  }
  cpu::batchnorm_stats_segments(host_table.data(), k.segments, k.rows, k.channels);

  auto table = upload_table(dev_table, s.get());
  // The scratch starts dirty (0xA5 bytes): the segment kernels need no zeroing.
  DeviceGuarded<unsigned char> scratch(cuda::batchnorm_stats_segments_scratch_bytes(k.segments, k.rows, k.channels),
                                       s.get());
  std::vector<std::vector<float>> first_mean, first_var, first_inv;
  for (int round = 0; round < 2; ++round) {
    cuda::batchnorm_stats_segments(as_table<cuda::StatsSegment>(table), k.segments, k.rows, k.channels,
                                   scratch.data(), s.get());
    for (size_t q = 0; q < segs; ++q) {
      SCOPED_TRACE(testing::Message() << "segment " << q << " round " << round);
      const std::vector<float> gm = dmean[q].download(), gv = dvar[q].download(), gi = dinv[q].download();
      if (round == 0) {
        first_mean.push_back(gm);
        first_var.push_back(gv);
        first_inv.push_back(gi);
        for (size_t j = 0; j < cn; ++j) {
          const double sd = std::sqrt(static_cast<double>(var[q][j]));
          const double mean_tol = 2.5e-7 * std::fabs(mean[q][j]) + 1e-9 * (std::fabs(mean[q][j]) + sd);
          EXPECT_TRUE(all_close(&gm[j], &mean[q][j], 1, mean_tol, 0.0)) << "mean, channel " << j;
          EXPECT_TRUE(all_close(&gv[j], &var[q][j], 1, 1e-12, 2.5e-7)) << "var, channel " << j;
        }
        if (host_table[q].invstd != nullptr) {
          std::vector<float> inv(cn);
          cpu::batchnorm_invstd(gv.data(), k.channels, host_table[q].eps, inv.data());
          EXPECT_TRUE(bits_equal(gi.data(), inv.data(), cn)) << "invstd of the GPU's var";
        } else {
          EXPECT_TRUE(untouched(gi)) << "invstd written although nullptr";
        }
      } else {  // deterministic run to run
        EXPECT_TRUE(bits_equal(gm.data(), first_mean[q].data(), cn)) << "mean changed between runs";
        EXPECT_TRUE(bits_equal(gv.data(), first_var[q].data(), cn)) << "var changed between runs";
        EXPECT_TRUE(bits_equal(gi.data(), first_inv[q].data(), cn)) << "invstd changed between runs";
      }
      EXPECT_TRUE(dmean[q].guards_intact() && dvar[q].guards_intact() && dinv[q].guards_intact())
          << "batchnorm_stats_segments wrote out of bounds";
    }
  }
  EXPECT_TRUE(scratch.guards_intact()) << "batchnorm_stats_segments wrote outside its scratch";

  // The per-tensor kernel gives the same bits.
  DeviceGuarded<unsigned char> single_scratch(cuda::batchnorm_stats_scratch_bytes(k.rows, k.channels), s.get());
  rt::fill_zero(single_scratch.data(), single_scratch.size(), s.get());  // its tickets start at zero
  for (size_t q = 0; q < segs; ++q) {
    SCOPED_TRACE(testing::Message() << "segment " << q << " vs batchnorm_stats_invstd");
    DeviceGuarded<float> m(cn, s.get()), v(cn, s.get()), inv(cn, s.get());
    cuda::batchnorm_stats_invstd(dx[q].data(), k.rows, k.channels, dev_table[q].eps, m.data(), v.data(), inv.data(),
                                 single_scratch.data(), s.get());
    const std::vector<float> sm = m.download(), sv = v.download(), si = inv.download();
    EXPECT_TRUE(bits_equal(first_mean[q].data(), sm.data(), cn)) << "mean";
    EXPECT_TRUE(bits_equal(first_var[q].data(), sv.data(), cn)) << "var";
    if (dev_table[q].invstd != nullptr) {
      EXPECT_TRUE(bits_equal(first_inv[q].data(), si.data(), cn)) << "invstd";
    }
  }
}

TEST(CudaSegments, BatchNormStatsMatchCpuAndPerTensorKernel) {
  NASWOT_REQUIRE_CUDA_DEVICE();
  const StatsCase cases[] = {{1, 1, 1}, {2, 777, 33}, {5, 4096, 7}, {3, 128 * 8 * 8, 64}, {2, 128 * 32 * 32, 16}};
  uint32_t seed = kSegSeed + 100;
  for (const StatsCase& k : cases) check_stats(k, seed += 10);
}

// --- fused node -----------------------------------------------------------------------------

// One node segment's host inputs, their device copies and both descriptor forms.
struct NodeInputs {
  std::vector<std::vector<float>> host;  // per term: x, then mean, invstd, gamma, beta for a BN term
  std::vector<DeviceGuarded<float>> dev;
  std::vector<cpu::BnAddTerm> cpu_terms;
  std::vector<cuda::BnAddTerm> gpu_terms;
};

// Terms: (segment + k) % 3 != 2 a BatchNorm term; else plain, pooled when k is odd (3x3, stride 1,
// pad 1; by segment: avg, avg with count_include_pad, max; the stacked path's pool views).
void make_node(NodeInputs& in, int num_terms, int segment, int n, int h, int w, int channels, uint32_t seed,
               cudaStream_t stream) {
  const int64_t rows = static_cast<int64_t>(n) * h * w, units = static_cast<int64_t>(h) * w * channels;
  const auto cn = static_cast<size_t>(channels);
  const size_t count = static_cast<size_t>(n) * static_cast<size_t>(units);
  in.host.reserve(5 * static_cast<size_t>(num_terms));
  in.dev.reserve(5 * static_cast<size_t>(num_terms));
  for (int k = 0; k < num_terms; ++k) {
    const uint32_t sk = seed + 10 * static_cast<uint32_t>(k);
    in.host.push_back(random_normal(count, 0.05 * k, 1.0 + 0.25 * k, sk));
    in.dev.push_back(to_device(in.host.back(), stream));
    cpu::BnAddTerm ct;
    cuda::BnAddTerm gt;
    ct.x = in.host.back().data();
    gt.x = in.dev.back().data();
    if ((segment + k) % 3 != 2) {  // a BatchNorm term; the others are plain (skip, pool, zero edges)
      std::vector<float> var(cn), mean(cn), inv(cn);
      cpu::batchnorm_stats(ct.x, rows, channels, mean.data(), var.data());
      cpu::batchnorm_invstd(var.data(), channels, 1e-5f, inv.data());
      const size_t b = in.host.size();
      in.host.push_back(mean);
      in.host.push_back(inv);
      in.host.push_back(random_uniform(cn, 0.5, 1.5, sk + 1));
      in.host.push_back(random_uniform(cn, -0.3, 0.3, sk + 2));
      for (size_t q = b; q < b + 4; ++q) in.dev.push_back(to_device(in.host[q], stream));
      ct = {ct.x, in.host[b].data(), in.host[b + 1].data(), in.host[b + 2].data(), in.host[b + 3].data()};
      const size_t d = in.dev.size() - 4;
      gt = {gt.x, in.dev[d].data(), in.dev[d + 1].data(), in.dev[d + 2].data(), in.dev[d + 3].data()};
    }
    if ((segment + k) % 3 == 2 && k % 2 == 1) {
      cpu::TermPool p;
      const int flavour = segment % 3;
      p.kind = flavour == 2 ? cpu::TermPoolKind::Max : cpu::TermPoolKind::Avg;
      p.count_include_pad = flavour == 1;
      p.in_h = static_cast<int16_t>(h);
      p.in_w = static_cast<int16_t>(w);
      p.kernel = 3;
      p.stride = 1;
      p.pad = 1;
      ct.pool = gt.pool = p;
    }
    in.cpu_terms.push_back(ct);
    in.gpu_terms.push_back(gt);
  }
}

struct NodeCase {
  int segments;
  int n, h, w, c;
  bool sum_from_zero;
};

void check_node(const NodeCase& k, uint32_t seed, cuda::NodePass pass) {
  SCOPED_TRACE(testing::Message() << "segments=" << k.segments << " n=" << k.n << " " << k.h << "x" << k.w << "x"
                                  << k.c << " sum_from_zero=" << k.sum_from_zero << " pass "
                                  << (pass == cuda::NodePass::Batched ? "batched" : "per-element"));
  const int term_counts[] = {1, 8, 3, 5, 2, 4, 7, 6};
  const int64_t units = static_cast<int64_t>(k.h) * k.w * k.c;
  const int64_t words = cpu::sign_words(units);
  const size_t count = static_cast<size_t>(k.n) * static_cast<size_t>(units);
  const size_t nwords = static_cast<size_t>(k.n) * static_cast<size_t>(words);
  const auto segs = static_cast<size_t>(k.segments);
  TestStream s;
  std::vector<NodeInputs> inputs(segs);
  std::vector<std::vector<float>> y(segs, std::vector<float>(count));
  std::vector<std::vector<uint64_t>> bits(segs, std::vector<uint64_t>(nwords));
  std::vector<DeviceGuarded<float>> dy;
  std::vector<DeviceGuarded<uint64_t>> dbits;
  dy.reserve(segs);
  dbits.reserve(segs);
  // Copies: 0 .. kMaxNodeCopies by segment, relu on alternate ones; every third segment stores no y.
  std::vector<std::vector<std::vector<float>>> copies(segs);
  std::vector<std::vector<DeviceGuarded<float>>> dcopies(segs);
  std::vector<cpu::NodeSegment> host_table(segs);
  std::vector<cuda::NodeSegment> dev_table(segs);
  for (size_t q = 0; q < segs; ++q) {
    const int num_terms = k.segments == 1 ? 1 : term_counts[q % 8];
    make_node(inputs[q], num_terms, static_cast<int>(q), k.n, k.h, k.w, k.c, seed + 100 * static_cast<uint32_t>(q),
              s.get());
    dy.emplace_back(count, s.get());
    dbits.emplace_back(nwords, s.get());
    const bool with_bits = q % 2 == 0;  // odd segments: no sign bits
    for (int t = 0; t < num_terms; ++t) {
      host_table[q].terms[t] = inputs[q].cpu_terms[static_cast<size_t>(t)];
      dev_table[q].terms[t] = inputs[q].gpu_terms[static_cast<size_t>(t)];
    }
    host_table[q].num_terms = dev_table[q].num_terms = num_terms;
    const bool with_y = q % 3 != 2;
    host_table[q].y = with_y ? y[q].data() : nullptr;
    dev_table[q].y = with_y ? dy[q].data() : nullptr;
    const int num_copies = static_cast<int>(q % (cuda::kMaxNodeCopies + 1));
    copies[q].assign(static_cast<size_t>(num_copies), std::vector<float>(count));
    dcopies[q].reserve(static_cast<size_t>(num_copies));
    for (int i = 0; i < num_copies; ++i) {
      dcopies[q].emplace_back(count, s.get());
      host_table[q].copies[i] = copies[q][static_cast<size_t>(i)].data();
      dev_table[q].copies[i] = dcopies[q].back().data();
      if ((static_cast<int>(q) + i) % 2 == 1) {
        host_table[q].copy_relu |= 1u << i;
        dev_table[q].copy_relu |= 1u << i;
      }
    }
    host_table[q].num_copies = dev_table[q].num_copies = num_copies;
    host_table[q].bits = with_bits ? bits[q].data() : nullptr;
    dev_table[q].bits = with_bits ? dbits[q].data() : nullptr;
  }
  cpu::bn_add_pack_segments(host_table.data(), k.segments, k.sum_from_zero, k.n, units, k.c);

  auto table = upload_table(dev_table, s.get());
  cuda::bn_add_pack_segments(as_table<cuda::NodeSegment>(table), k.segments, k.sum_from_zero, k.n, units, k.c,
                             s.get(), pass);
  for (size_t q = 0; q < segs; ++q) {
    SCOPED_TRACE(testing::Message() << "segment " << q << " num_terms=" << host_table[q].num_terms);
    const std::vector<float> gy = dy[q].download();
    const std::vector<uint64_t> gbits = dbits[q].download();
    if (host_table[q].y != nullptr) {
      EXPECT_TRUE(bits_equal(gy.data(), y[q].data(), count)) << "node tensor";
    } else {
      EXPECT_TRUE(untouched(gy)) << "y written although nullptr";
    }
    for (size_t i = 0; i < copies[q].size(); ++i) {
      const std::vector<float> gc = dcopies[q][i].download();
      EXPECT_TRUE(bits_equal(gc.data(), copies[q][i].data(), count))
          << "copy " << i << ((host_table[q].copy_relu >> i) & 1u ? " (relu)" : " (plain)");
      EXPECT_TRUE(dcopies[q][i].guards_intact()) << "copy " << i << " written out of bounds";
    }
    if (host_table[q].bits != nullptr) {
      EXPECT_TRUE(all_equal(gbits.data(), bits[q].data(), nwords)) << "sign bits";
    } else {
      EXPECT_TRUE(untouched(gbits)) << "sign bits written although nullptr";
    }
    EXPECT_TRUE(dy[q].guards_intact() && dbits[q].guards_intact()) << "bn_add_pack_segments wrote out of bounds";
  }
}

TEST(CudaSegments, BnAddPackMatchesCpu) {
  NASWOT_REQUIRE_CUDA_DEVICE();
  const NodeCase cases[] = {{1, 1, 1, 1, 1, false},   // lone BN, one unit
                            {3, 2, 3, 5, 5, true},    // 75 units: not a multiple of 64
                            {8, 3, 4, 4, 16, true},   // num_terms 1..8
                            {4, 2, 7, 3, 1, false},   // one channel
                            {3, 128, 8, 8, 16, true},
                            {2, 16, 32, 32, 16, true},
                            {3, 5, 4, 4, 64, false},    // C = 64: a lane's channel differs per half
                            {2, 3, 3, 3, 48, true},     // C = 48 does not divide 64
                            {2, 2, 2, 2, 160, false},   // C = 160: BN parameters not staged (batched)
                            {2, 3, 2, 2, 128, true},    // C = 128: the largest staged, no lane shortcut
                            {3, 4, 5, 5, 8, false}};    // C = 8: a lane's channel wraps (lane % 8)
  for (cuda::NodePass pass : {cuda::NodePass::PerElement, cuda::NodePass::Batched}) {
    uint32_t seed = kSegSeed + 200;  // the same cases for both passes
    for (const NodeCase& k : cases) check_node(k, seed += 1000, pass);
  }
}

// --- popcount K -----------------------------------------------------------------------------

struct PopCase {
  int segments;
  int n;
  int64_t units;
  int64_t extra_words;
};

void check_popcount(const PopCase& k, uint32_t seed) {
  SCOPED_TRACE(testing::Message() << "segments=" << k.segments << " n=" << k.n << " units=" << k.units
                                  << " extra_words=" << k.extra_words);
  const int64_t weights[] = {1, -3, 7, int64_t{1} << 20};
  const int64_t words = cpu::sign_words(k.units) + k.extra_words;
  const auto segs = static_cast<size_t>(k.segments);
  const size_t nn = static_cast<size_t>(k.n) * static_cast<size_t>(k.n);
  TestStream s;
  std::vector<std::vector<uint64_t>> bits(segs);
  std::vector<std::vector<int64_t>> kmat(segs, std::vector<int64_t>(nn));
  std::vector<DeviceGuarded<uint64_t>> dbits;
  std::vector<DeviceGuarded<int64_t>> dk;
  dbits.reserve(segs);
  dk.reserve(segs);
  std::vector<cpu::PopcountSegment> host_table(segs);
  std::vector<cuda::PopcountSegment> dev_table(segs);
  for (size_t q = 0; q < segs; ++q) {
    bits[q] = random_codes(k.n, k.units, words, seed + static_cast<uint32_t>(q));
    for (size_t i = 0; i < nn; ++i) kmat[q][i] = static_cast<int64_t>(i % 17) - 5 + static_cast<int64_t>(q);
    dbits.push_back(to_device(bits[q], s.get()));
    dk.push_back(to_device(kmat[q], s.get()));  // K starts non-zero: accumulation
    host_table[q] = {bits[q].data(), kmat[q].data(), weights[q % 4]};
    dev_table[q] = {dbits[q].data(), dk[q].data(), weights[q % 4]};
  }
  cpu::popcount_k_segments(host_table.data(), k.segments, k.n, words, k.units);
  auto table = upload_table(dev_table, s.get());
  cuda::popcount_k_segments(as_table<cuda::PopcountSegment>(table), k.segments, k.n, words, k.units, s.get());
  for (size_t q = 0; q < segs; ++q) {
    const std::vector<int64_t> got = dk[q].download();
    EXPECT_TRUE(all_equal(got.data(), kmat[q].data(), nn)) << "segment " << q;
    EXPECT_TRUE(dk[q].guards_intact()) << "popcount_k_segments wrote outside K of segment " << q;
  }
}

TEST(CudaSegments, PopcountKMatchesCpu) {
  NASWOT_REQUIRE_CUDA_DEVICE();
  const PopCase cases[] = {{1, 1, 1, 0},
                           {4, 33, 75, 2},
                           {3, 128, 16 * 32 * 32, 0},  // NB-201: 256 words
                           {2, 40, 1000, 1},
                           {2, 128, 64 * 4096, 0}};  // many words: split over blocks
  uint32_t seed = kSegSeed + 300;
  for (const PopCase& k : cases) check_popcount(k, seed += 10);
}

// --- sign pack ------------------------------------------------------------------------------

void check_sign_pack(int segments, int n, int64_t units, uint32_t seed) {
  SCOPED_TRACE(testing::Message() << "segments=" << segments << " n=" << n << " units=" << units);
  const int64_t words = cpu::sign_words(units);
  const auto segs = static_cast<size_t>(segments);
  const size_t nwords = static_cast<size_t>(n) * static_cast<size_t>(words);
  TestStream s;
  std::vector<std::vector<float>> x(segs);
  std::vector<std::vector<uint64_t>> bits(segs, std::vector<uint64_t>(nwords));
  std::vector<DeviceGuarded<float>> dx;
  std::vector<DeviceGuarded<uint64_t>> dbits;
  dx.reserve(segs);
  dbits.reserve(segs);
  std::vector<cpu::SignPackSegment> host_table(segs);
  std::vector<cuda::SignPackSegment> dev_table(segs);
  for (size_t q = 0; q < segs; ++q) {
    x[q] = awkward_input(static_cast<size_t>(n) * static_cast<size_t>(units), seed + static_cast<uint32_t>(q));
    dx.push_back(to_device(x[q], s.get()));
    dbits.emplace_back(nwords, s.get());
    host_table[q] = {x[q].data(), bits[q].data()};
    dev_table[q] = {dx[q].data(), dbits[q].data()};
  }
  cpu::sign_pack_segments(host_table.data(), segments, n, units);
  auto table = upload_table(dev_table, s.get());
  cuda::sign_pack_segments(as_table<cuda::SignPackSegment>(table), segments, n, units, s.get());
  for (size_t q = 0; q < segs; ++q) {
    const std::vector<uint64_t> got = dbits[q].download();
    EXPECT_TRUE(all_equal(got.data(), bits[q].data(), nwords)) << "segment " << q;
    EXPECT_TRUE(dbits[q].guards_intact()) << "sign_pack_segments wrote outside segment " << q;
  }
}

TEST(CudaSegments, SignPackMatchesCpu) {
  NASWOT_REQUIRE_CUDA_DEVICE();
  uint32_t seed = kSegSeed + 400;
  check_sign_pack(1, 1, 1, seed += 10);
  check_sign_pack(3, 2, 63, seed += 10);
  check_sign_pack(5, 2, 64, seed += 10);
  check_sign_pack(4, 3, 65, seed += 10);
  check_sign_pack(2, 128, 16 * 32 * 32, seed += 10);
}

// --- more segments than one grid dimension holds ----------------------------------------------

// 70,000 tiny segments packed into shared buffers: every kernel must loop past the 65,535 limit.
TEST(CudaSegments, ManySegmentsPassTheGridLimit) {
  NASWOT_REQUIRE_CUDA_DEVICE();
  constexpr int kSegs = 70000;
  constexpr auto kSegsZ = static_cast<size_t>(kSegs);
  TestStream s;

  {  // gather: 3 floats per segment, relu
    const std::vector<float> src = awkward_input(3 * kSegsZ, kSegSeed + 500);
    auto dsrc = to_device(src, s.get());
    std::vector<const float*> host_src(kSegsZ), dev_src(kSegsZ);
    for (size_t q = 0; q < kSegsZ; ++q) {
      host_src[q] = src.data() + 3 * q;
      dev_src[q] = dsrc.data() + 3 * q;
    }
    std::vector<float> ref(3 * kSegsZ);
    cpu::gather_segments(host_src.data(), kSegs, 3, true, ref.data());
    auto table = upload_table(dev_src, s.get());
    DeviceGuarded<float> dst(3 * kSegsZ, s.get());
    cuda::gather_segments(as_table<const float*>(table), kSegs, 3, true, dst.data(), s.get());
    const std::vector<float> got = dst.download();
    EXPECT_TRUE(bits_equal(got.data(), ref.data(), ref.size())) << "gather";
    EXPECT_TRUE(dst.guards_intact()) << "gather";
  }
  {  // statistics: 3 rows x 2 channels per segment
    const std::vector<float> x = random_normal(6 * kSegsZ, 0.0, 1.0, kSegSeed + 501);
    auto dx = to_device(x, s.get());
    std::vector<float> mean(2 * kSegsZ), var(2 * kSegsZ), inv(2 * kSegsZ);
    DeviceGuarded<float> dmean(2 * kSegsZ, s.get()), dvar(2 * kSegsZ, s.get()), dinv(2 * kSegsZ, s.get());
    std::vector<cpu::StatsSegment> host_table(kSegsZ);
    std::vector<cuda::StatsSegment> dev_table(kSegsZ);
    for (size_t q = 0; q < kSegsZ; ++q) {
      host_table[q] = {x.data() + 6 * q, mean.data() + 2 * q, var.data() + 2 * q, inv.data() + 2 * q, 1e-5f};
      dev_table[q] = {dx.data() + 6 * q, dmean.data() + 2 * q, dvar.data() + 2 * q, dinv.data() + 2 * q, 1e-5f};
    }
    cpu::batchnorm_stats_segments(host_table.data(), kSegs, 3, 2);
    auto table = upload_table(dev_table, s.get());
    DeviceGuarded<unsigned char> scratch(cuda::batchnorm_stats_segments_scratch_bytes(kSegs, 3, 2), s.get());
    cuda::batchnorm_stats_segments(as_table<cuda::StatsSegment>(table), kSegs, 3, 2, scratch.data(), s.get());
    const std::vector<float> gm = dmean.download(), gv = dvar.download();
    EXPECT_TRUE(all_close(gm.data(), mean.data(), gm.size(), 1e-6, 2.5e-7)) << "mean";
    EXPECT_TRUE(all_close(gv.data(), var.data(), gv.size(), 1e-12, 2.5e-7)) << "var";
    EXPECT_TRUE(dmean.guards_intact() && dvar.guards_intact() && dinv.guards_intact() && scratch.guards_intact())
        << "stats";
  }
  {  // node: one image of 2 units (2 channels), one BN term and one plain term
    const std::vector<float> xa = random_normal(2 * kSegsZ, 0.0, 1.0, kSegSeed + 502);
    const std::vector<float> xb = random_normal(2 * kSegsZ, 0.0, 1.0, kSegSeed + 503);
    const std::vector<float> mean = random_normal(2, 0.0, 0.1, kSegSeed + 504);
    const std::vector<float> inv = random_uniform(2, 0.5, 2.0, kSegSeed + 505);
    const std::vector<float> gamma = random_uniform(2, 0.5, 1.5, kSegSeed + 506);
    const std::vector<float> beta = random_uniform(2, -0.3, 0.3, kSegSeed + 507);
    auto dxa = to_device(xa, s.get()), dxb = to_device(xb, s.get()), dmean = to_device(mean, s.get()),
         dinv = to_device(inv, s.get()), dgamma = to_device(gamma, s.get()), dbeta = to_device(beta, s.get());
    std::vector<float> y(2 * kSegsZ);
    std::vector<uint64_t> bits(kSegsZ);
    DeviceGuarded<float> dy(2 * kSegsZ, s.get());
    DeviceGuarded<uint64_t> dbits(kSegsZ, s.get());
    std::vector<cpu::NodeSegment> host_table(kSegsZ);
    std::vector<cuda::NodeSegment> dev_table(kSegsZ);
    for (size_t q = 0; q < kSegsZ; ++q) {
      host_table[q].terms[0] = {xa.data() + 2 * q, mean.data(), inv.data(), gamma.data(), beta.data()};
      host_table[q].terms[1].x = xb.data() + 2 * q;
      host_table[q].num_terms = 2;
      host_table[q].y = y.data() + 2 * q;
      host_table[q].bits = bits.data() + q;
      dev_table[q].terms[0] = {dxa.data() + 2 * q, dmean.data(), dinv.data(), dgamma.data(), dbeta.data()};
      dev_table[q].terms[1].x = dxb.data() + 2 * q;
      dev_table[q].num_terms = 2;
      dev_table[q].y = dy.data() + 2 * q;
      dev_table[q].bits = dbits.data() + q;
    }
    cpu::bn_add_pack_segments(host_table.data(), kSegs, true, 1, 2, 2);
    auto table = upload_table(dev_table, s.get());
    cuda::bn_add_pack_segments(as_table<cuda::NodeSegment>(table), kSegs, true, 1, 2, 2, s.get());
    const std::vector<float> gy = dy.download();
    const std::vector<uint64_t> gbits = dbits.download();
    EXPECT_TRUE(bits_equal(gy.data(), y.data(), y.size())) << "node tensor";
    EXPECT_TRUE(all_equal(gbits.data(), bits.data(), bits.size())) << "node sign bits";
    EXPECT_TRUE(dy.guards_intact() && dbits.guards_intact()) << "node";
  }
  {  // popcount: n = 2 images of one 65-unit code (2 words) per segment
    const std::vector<uint64_t> bits = random_codes(2 * kSegs, 65, 2, kSegSeed + 508);
    auto dbits = to_device(bits, s.get());
    std::vector<int64_t> k(4 * kSegsZ, 3);
    auto dk = to_device(k, s.get());
    std::vector<cpu::PopcountSegment> host_table(kSegsZ);
    std::vector<cuda::PopcountSegment> dev_table(kSegsZ);
    for (size_t q = 0; q < kSegsZ; ++q) {
      const auto weight = static_cast<int64_t>(q % 5) - 2;
      host_table[q] = {bits.data() + 4 * q, k.data() + 4 * q, weight};
      dev_table[q] = {dbits.data() + 4 * q, dk.data() + 4 * q, weight};
    }
    cpu::popcount_k_segments(host_table.data(), kSegs, 2, 2, 65);
    auto table = upload_table(dev_table, s.get());
    cuda::popcount_k_segments(as_table<cuda::PopcountSegment>(table), kSegs, 2, 2, 65, s.get());
    const std::vector<int64_t> got = dk.download();
    EXPECT_TRUE(all_equal(got.data(), k.data(), k.size())) << "popcount K";
    EXPECT_TRUE(dk.guards_intact()) << "popcount K";
  }
  {  // sign pack: one image of 65 units per segment
    const std::vector<float> x = awkward_input(65 * kSegsZ, kSegSeed + 509);
    auto dx = to_device(x, s.get());
    std::vector<uint64_t> bits(2 * kSegsZ);
    DeviceGuarded<uint64_t> dbits(2 * kSegsZ, s.get());
    std::vector<cpu::SignPackSegment> host_table(kSegsZ);
    std::vector<cuda::SignPackSegment> dev_table(kSegsZ);
    for (size_t q = 0; q < kSegsZ; ++q) {
      host_table[q] = {x.data() + 65 * q, bits.data() + 2 * q};
      dev_table[q] = {dx.data() + 65 * q, dbits.data() + 2 * q};
    }
    cpu::sign_pack_segments(host_table.data(), kSegs, 1, 65);
    auto table = upload_table(dev_table, s.get());
    cuda::sign_pack_segments(as_table<cuda::SignPackSegment>(table), kSegs, 1, 65, s.get());
    const std::vector<uint64_t> got = dbits.download();
    EXPECT_TRUE(all_equal(got.data(), bits.data(), bits.size())) << "sign bits";
    EXPECT_TRUE(dbits.guards_intact()) << "sign bits";
  }
}

// --- no device needed: nothing is launched --------------------------------------------------

TEST(CudaSegments, ZeroSegmentsLaunchNothing) {
  cuda::gather_segments(nullptr, 0, 16, true, nullptr, nullptr);
  EXPECT_EQ(cuda::batchnorm_stats_segments_scratch_bytes(0, 100, 16), 0u);
  cuda::batchnorm_stats_segments(nullptr, 0, 100, 16, nullptr, nullptr);
  cuda::bn_add_pack_segments(nullptr, 0, true, 1, 1, 1, nullptr);
  cuda::popcount_k_segments(nullptr, 0, 1, 1, 1, nullptr);
  cuda::sign_pack_segments(nullptr, 0, 1, 1, nullptr);
}

TEST(CudaSegments, RejectsBadArguments) {
  float f = 0.0f;
  const void* fake = &f;  // never dereferenced: every call below throws before launching
  NASWOT_EXPECT_BAD_INPUT(cuda::gather_segments(nullptr, -1, 1, false, &f, nullptr), "segments expected >= 0");
  NASWOT_EXPECT_BAD_INPUT(cuda::gather_segments(nullptr, 2, 1, false, &f, nullptr), "table expected non-null");
  NASWOT_EXPECT_BAD_INPUT(
      cuda::batchnorm_stats_segments(static_cast<const cuda::StatsSegment*>(fake), 1, 0, 1, &f, nullptr),
      "rows and channels");
  NASWOT_EXPECT_BAD_INPUT(
      cuda::batchnorm_stats_segments(static_cast<const cuda::StatsSegment*>(fake), 1, 1, 1, nullptr, nullptr),
      "scratch");
  NASWOT_EXPECT_BAD_INPUT(
      cuda::bn_add_pack_segments(static_cast<const cuda::NodeSegment*>(fake), 1, true, 1, 10, 3, nullptr),
      "multiple of channels");
  NASWOT_EXPECT_BAD_INPUT(
      cuda::popcount_k_segments(static_cast<const cuda::PopcountSegment*>(fake), 1, 1, 1, 65, nullptr), "words=1");
  NASWOT_EXPECT_BAD_INPUT(cuda::sign_pack_segments(nullptr, -2, 1, 1, nullptr), "segments expected >= 0");
}

}  // namespace
}  // namespace naswot::test
