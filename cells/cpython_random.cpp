// MT19937 with CPython's seeding and its integer helpers (see cpython_random.h). Only the
// integer path is implemented; random.random() (53-bit doubles) is not needed by any index map.
#include "cells/cpython_random.h"

#include <algorithm>
#include <bit>
#include <utility>

#include "runtime/error.h"

namespace naswot::cells {
namespace {
constexpr uint32_t kMatrixA = 0x9908b0dfu;
constexpr uint32_t kUpperMask = 0x80000000u;
constexpr uint32_t kLowerMask = 0x7fffffffu;
}  // namespace

CpythonRandom::CpythonRandom(uint64_t seed) {
  std::vector<uint32_t> key;
  while (seed != 0) {
    key.push_back(static_cast<uint32_t>(seed & 0xffffffffu));
    seed >>= 32;
  }
  if (key.empty()) key.push_back(0);
  init_by_array(key);
}

void CpythonRandom::init_genrand(uint32_t s) {
  m_state[0] = s;
  for (int i = 1; i < kN; ++i) {
    const uint32_t prev = m_state[static_cast<size_t>(i - 1)];
    m_state[static_cast<size_t>(i)] = 1812433253u * (prev ^ (prev >> 30)) + static_cast<uint32_t>(i);
  }
  m_pos = kN;
}

void CpythonRandom::init_by_array(const std::vector<uint32_t>& key) {
  init_genrand(19650218u);
  const int len = static_cast<int>(key.size());
  int i = 1;
  int j = 0;
  auto at = [this](int idx) -> uint32_t& { return m_state[static_cast<size_t>(idx)]; };
  for (int k = std::max(kN, len); k > 0; --k) {
    const uint32_t prev = at(i - 1);
    at(i) = (at(i) ^ ((prev ^ (prev >> 30)) * 1664525u)) + key[static_cast<size_t>(j)] + static_cast<uint32_t>(j);
    ++i;
    ++j;
    if (i >= kN) {
      at(0) = at(kN - 1);
      i = 1;
    }
    if (j >= len) j = 0;
  }
  for (int k = kN - 1; k > 0; --k) {
    const uint32_t prev = at(i - 1);
    at(i) = (at(i) ^ ((prev ^ (prev >> 30)) * 1566083941u)) - static_cast<uint32_t>(i);
    ++i;
    if (i >= kN) {
      at(0) = at(kN - 1);
      i = 1;
    }
  }
  at(0) = 0x80000000u;  // non-zero initial state is guaranteed
  m_pos = kN;
}

void CpythonRandom::twist() {
  auto mix = [](uint32_t hi, uint32_t lo) {
    const uint32_t y = (hi & kUpperMask) | (lo & kLowerMask);
    return (y >> 1) ^ ((y & 1u) ? kMatrixA : 0u);
  };
  for (int k = 0; k < kN; ++k) {
    const auto kk = static_cast<size_t>(k);
    m_state[kk] = m_state[static_cast<size_t>((k + kM) % kN)] ^ mix(m_state[kk], m_state[(kk + 1) % kN]);
  }
  m_pos = 0;
}

uint32_t CpythonRandom::next_u32() {
  if (m_pos >= kN) twist();
  uint32_t y = m_state[static_cast<size_t>(m_pos++)];
  y ^= y >> 11;
  y ^= (y << 7) & 0x9d2c5680u;
  y ^= (y << 15) & 0xefc60000u;
  y ^= y >> 18;
  return y;
}

uint32_t CpythonRandom::getrandbits(int k) {
  NASWOT_EXPECT(k >= 1 && k <= 32, Internal, "getrandbits(" << k << "): only 1..32 bits are implemented");
  return next_u32() >> (32 - k);
}

uint32_t CpythonRandom::randbelow(uint32_t n) {
  NASWOT_EXPECT(n >= 1, Internal, "randbelow(0)");
  const int k = std::bit_width(n);  // int.bit_length()
  uint32_t r = getrandbits(k);
  while (r >= n) r = getrandbits(k);
  return r;
}

void CpythonRandom::shuffle(std::vector<int>& xs) {
  for (size_t i = xs.size(); i-- > 1;) {
    const size_t j = randbelow(static_cast<uint32_t>(i + 1));
    std::swap(xs[i], xs[j]);
  }
}

}  // namespace naswot::cells
