// search::Rng: the random draws of the search drivers (samples, tournaments, mutations).
// std::mt19937_64, whose output sequence the C++ standard fixes, with our own bounded draw:
// std::uniform_int_distribution is implementation-defined, so libstdc++ and libc++ could turn one
// seed into different samples. derive_seed gives run r its own stream, so run r of seed s draws
// the same architectures whatever --runs is.
#pragma once
#include <cstdint>
#include <random>

namespace naswot::search {

// SplitMix64's finaliser over (seed, stream): well-mixed, distinct seeds for nearby inputs.
inline uint64_t derive_seed(uint64_t seed, uint64_t stream) {
  uint64_t z = seed + 0x9E3779B97F4A7C15ull * (stream + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

class Rng {
 public:
  explicit Rng(uint64_t seed) : m_engine(seed) {}
  // Uniform in [0, n) for n >= 1: a draw masked to the next power of two, rejected when >= n
  // (no modulo bias; fewer than two draws on average).
  uint64_t below(uint64_t n) {
    if (n <= 1) return 0;
    uint64_t mask = n - 1;
    for (int shift = 1; shift < 64; shift *= 2) mask |= mask >> shift;
    while (true) {
      const uint64_t v = m_engine() & mask;
      if (v < n) return v;
    }
  }

 private:
  std::mt19937_64 m_engine;
};

}  // namespace naswot::search
