// CpythonRandom: the parts of CPython's `random` module that NB-201's index order depends on
// (reference-semantics.md §3.1): MT19937 seeded like random.seed(int), getrandbits(k <= 32),
// _randbelow and shuffle. Written from the published MT19937 algorithm (Matsumoto & Nishimura
// 1998, init_by_array variant) and CPython's documented seeding: a non-negative int seed
// becomes the key array of its 32-bit words, least significant first ([0] for zero).
#pragma once
#include <array>
#include <cstdint>
#include <vector>

namespace naswot::cells {

class CpythonRandom {
 public:
  explicit CpythonRandom(uint64_t seed);  // random.seed(seed)

  uint32_t next_u32();                    // one tempered MT19937 output (genrand_uint32)
  uint32_t getrandbits(int k);            // random.getrandbits(k), 1 <= k <= 32
  uint32_t randbelow(uint32_t n);         // random._randbelow(n), n >= 1: rejection on bit_length(n) bits
  void shuffle(std::vector<int>& xs);     // random.shuffle(xs)

 private:
  static constexpr int kN = 624;
  static constexpr int kM = 397;
  void init_genrand(uint32_t s);
  void init_by_array(const std::vector<uint32_t>& key);
  void twist();

  std::array<uint32_t, kN> m_state{};
  int m_pos = kN;
};

}  // namespace naswot::cells
