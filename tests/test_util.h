// Shared test helpers: guarded output buffers (catch out-of-bounds writes), seeded random fills
// (every random input derives from kSeed) and tolerance comparisons whose failure messages name the
// index, both values and the tolerance. NaN/Inf are checked before the tolerance: both finite, or
// both the same infinity (a NaN never matches).
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "runtime/error.h"

namespace naswot::test {

// The one seed of the test suite; tests derive distinct streams as kSeed + a small constant.
inline constexpr uint32_t kSeed = 0x5eed2021u;

// A payload of `count` elements with a guard region on each side filled with kGuardByte.
// check() says whether both guards are intact after a kernel wrote into data().
template <class T>
class GuardedBuffer {
 public:
  static constexpr unsigned char kGuardByte = 0xA5;
  static constexpr size_t kGuardBytes = 256;  // a multiple of 64 keeps the payload's alignment
  static_assert(kGuardBytes % alignof(T) == 0, "the guard must keep the payload aligned");

  explicit GuardedBuffer(size_t count, T init = T{})
      : m_count(count), m_bytes(count * sizeof(T) + 2 * kGuardBytes, kGuardByte) {
    for (size_t i = 0; i < count; ++i) data()[i] = init;
  }

  // The byte vector's storage (aligned for any scalar by operator new) implicitly holds the Ts.
  T* data() { return reinterpret_cast<T*>(m_bytes.data() + kGuardBytes); }
  const T* data() const { return reinterpret_cast<const T*>(m_bytes.data() + kGuardBytes); }
  size_t size() const { return m_count; }
  T& operator[](size_t i) { return data()[i]; }
  const T& operator[](size_t i) const { return data()[i]; }
  std::vector<T> to_vector() const { return std::vector<T>(data(), data() + m_count); }

  bool check() const {
    const size_t back = kGuardBytes + m_count * sizeof(T);
    for (size_t b = 0; b < kGuardBytes; ++b) {
      if (m_bytes[b] != kGuardByte || m_bytes[back + b] != kGuardByte) return false;
    }
    return true;
  }

 private:
  size_t m_count;
  std::vector<unsigned char> m_bytes;
};

// Seeded fills (std::mt19937). Distinct inputs of one test use distinct seeds (kSeed + k).
template <class T>
void fill_uniform(T* p, size_t n, double lo, double hi, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  for (size_t i = 0; i < n; ++i) p[i] = static_cast<T>(dist(rng));
}

template <class T>
void fill_normal(T* p, size_t n, double mean, double stddev, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> dist(mean, stddev);
  for (size_t i = 0; i < n; ++i) p[i] = static_cast<T>(dist(rng));
}

inline std::vector<float> random_uniform(size_t n, double lo, double hi, uint32_t seed) {
  std::vector<float> v(n);
  fill_uniform(v.data(), n, lo, hi, seed);
  return v;
}

inline std::vector<float> random_normal(size_t n, double mean, double stddev, uint32_t seed) {
  std::vector<float> v(n);
  fill_normal(v.data(), n, mean, stddev, seed);
  return v;
}

// Normal values with a special value at every 5th element (0, -0, NaN, +-inf, +-denormal): the
// inputs where sign tests and ReLUs differ from a naive x > 0.
inline std::vector<float> awkward_input(size_t count, uint32_t seed) {
  std::vector<float> x = random_normal(count, 0.0, 1.0, seed);
  const float specials[] = {0.0f,
                            -0.0f,
                            std::numeric_limits<float>::quiet_NaN(),
                            std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity(),
                            std::numeric_limits<float>::denorm_min(),
                            -std::numeric_limits<float>::denorm_min()};
  for (size_t i = 0; i < count; i += 5) x[i] = specials[(i / 5) % 7];
  return x;
}

// |got - ref| <= atol + rtol * |ref| elementwise, after the NaN/Inf rule. On failure the message
// names the first bad index, both values, the tolerance and how many elements failed.
template <class A, class B>
::testing::AssertionResult all_close(const A* got, const B* ref, size_t n, double atol, double rtol) {
  size_t bad = 0;
  std::ostringstream first;
  for (size_t i = 0; i < n; ++i) {
    const double g = static_cast<double>(got[i]);
    const double r = static_cast<double>(ref[i]);
    bool ok;
    double tol = atol + rtol * std::fabs(r);
    if (std::isnan(g) || std::isnan(r)) {
      ok = false;
    } else if (std::isinf(g) || std::isinf(r)) {
      ok = g == r;
    } else {
      ok = std::fabs(g - r) <= tol;
    }
    if (!ok && bad++ == 0) {
      first.precision(9);
      first << "index " << i << ": got " << g << ", ref " << r << ", |diff| " << std::fabs(g - r) << " > tol " << tol
            << " (atol " << atol << ", rtol " << rtol << ")";
    }
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << bad << " of " << n << " elements differ; first at " << first.str();
}

// Exact equality (integers, packed bits, values that must be bit-identical).
template <class T>
::testing::AssertionResult all_equal(const T* got, const T* ref, size_t n) {
  size_t bad = 0;
  std::ostringstream first;
  for (size_t i = 0; i < n; ++i) {
    if (!(got[i] == ref[i]) && bad++ == 0) {
      first << "index " << i << ": got " << +got[i] << ", ref " << +ref[i] << " (tolerance: exact)";
    }
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << bad << " of " << n << " elements differ; first at " << first.str();
}

// Asserts that `statement` throws naswot::Error of kind BadInput whose message contains `needle`.
#define NASWOT_EXPECT_BAD_INPUT(statement, needle)                            \
  do {                                                                        \
    try {                                                                     \
      statement;                                                              \
      ADD_FAILURE() << "expected naswot::Error(BadInput) from: " #statement;  \
    } catch (const ::naswot::Error& e) {                                      \
      EXPECT_EQ(e.kind(), ::naswot::ErrorKind::BadInput) << e.what();         \
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos)        \
          << "message '" << e.what() << "' does not name '" << needle << "'"; \
    }                                                                         \
  } while (0)

}  // namespace naswot::test
