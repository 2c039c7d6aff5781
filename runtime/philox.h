// Philox4x32-10 counter-based generator (Salmon et al., SC'11): the same (counter, key) gives
// the same four 32-bit words on every machine, so seeded weights and synthetic batches are
// identical across backends and thread counts. Streams are separated by a 32-bit stream id
// (the FNV-1a hash of a parameter name, for example) in counter word 2.
#pragma once
#include <array>
#include <cmath>
#include <cstdint>
#include <string_view>

namespace naswot {

using Philox4 = std::array<uint32_t, 4>;

inline Philox4 philox4x32_10(Philox4 ctr, uint64_t seed) {
  constexpr uint32_t M0 = 0xD2511F53u, M1 = 0xCD9E8D57u;
  constexpr uint32_t W0 = 0x9E3779B9u, W1 = 0xBB67AE85u;
  uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
  for (int round = 0; round < 10; ++round) {
    const uint64_t p0 = static_cast<uint64_t>(M0) * ctr[0];
    const uint64_t p1 = static_cast<uint64_t>(M1) * ctr[2];
    ctr = {static_cast<uint32_t>(p1 >> 32) ^ ctr[1] ^ k0, static_cast<uint32_t>(p1),
           static_cast<uint32_t>(p0 >> 32) ^ ctr[3] ^ k1, static_cast<uint32_t>(p0)};
    k0 += W0;
    k1 += W1;
  }
  return ctr;
}

// 32-bit FNV-1a of a name: the stream id of a parameter tensor.
constexpr uint32_t fnv1a32(std::string_view s) {
  uint32_t h = 2166136261u;
  for (char c : s) {
    h ^= static_cast<uint8_t>(c);
    h *= 16777619u;
  }
  return h;
}

// Stream ids of the non-parameter draws (fixed, documented in README "Determinism").
inline constexpr uint32_t kStreamSyntheticBatch = fnv1a32("naswot.synthetic_batch");
inline constexpr uint32_t kStreamBatchChoice = fnv1a32("naswot.batch_choice");

// Word 0 of the block for element `index` of stream `stream`.
inline uint32_t philox_word(uint64_t seed, uint32_t stream, uint64_t index, uint32_t lane = 0) {
  return philox4x32_10({static_cast<uint32_t>(index), static_cast<uint32_t>(index >> 32), stream, lane},
                       seed)[0];
}

// Uniform in [0, 1) with 24 random bits (exactly representable in float).
inline float philox_uniform01(uint64_t seed, uint32_t stream, uint64_t index) {
  return static_cast<float>(philox_word(seed, stream, index) >> 8) * (1.0f / 16777216.0f);
}

// Uniform in [-bound, bound): PyTorch's default init distributions (kaiming_uniform(a=sqrt 5)
// for conv and linear weights, U(+-1/sqrt(fan_in)) for linear bias) have this form.
inline float philox_uniform_sym(uint64_t seed, uint32_t stream, uint64_t index, float bound) {
  return bound * (2.0f * philox_uniform01(seed, stream, index) - 1.0f);
}

// Standard normal by Box-Muller from one Philox block (computed in double, rounded once).
inline float philox_normal(uint64_t seed, uint32_t stream, uint64_t index) {
  const Philox4 r = philox4x32_10({static_cast<uint32_t>(index), static_cast<uint32_t>(index >> 32), stream, 1u},
                                  seed);
  const double u1 = (static_cast<double>(r[0]) + 1.0) * (1.0 / 4294967296.0);  // (0, 1]
  const double u2 = static_cast<double>(r[1]) * (1.0 / 4294967296.0);          // [0, 1)
  return static_cast<float>(std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2));
}

// Uniform integer in [0, n) by 64-bit multiply-shift (bias below 2^-32 * n; n <= 2^32).
inline uint32_t philox_below(uint64_t seed, uint32_t stream, uint64_t index, uint32_t n) {
  return static_cast<uint32_t>((static_cast<uint64_t>(philox_word(seed, stream, index)) * n) >> 32);
}

}  // namespace naswot
