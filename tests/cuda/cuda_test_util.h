// Helpers for the CUDA tests (tests/cuda/*_test.cpp, executable naswot_cuda_tests).
//  * NASWOT_REQUIRE_CUDA_DEVICE(): first statement of every test that needs a GPU. Without a
//    visible device it skips loudly ("SKIPPED: no CUDA device visible: <reason>", also on
//    stderr); with NASWOT_REQUIRE_GPU=1 in the environment (the GPU check script) it fails instead.
//  * TestStream: a stream owned by the test.
//  * DeviceGuarded<T>: a device buffer with 256-byte guard regions of 0xA5 on both sides;
//    guards_intact() downloads and checks them (out-of-bounds writes, STYLE.md habit 3).
//  * bits_equal: exact bitwise comparison of floats (-0 included); any NaN equals any NaN, because
//    the GPU writes the canonical NaN 0x7fffffff where the CPU keeps the quiet NaN 0x7fc00000.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/cpu/conv2d.h"
#include "runtime/cuda/cuda_backend.h"
#include "runtime/cuda/memory.h"
#include "test_util.h"

namespace naswot::test {

inline bool gpu_required() {
  const char* v = std::getenv("NASWOT_REQUIRE_GPU");
  return v != nullptr && std::string(v) == "1";
}

#define NASWOT_REQUIRE_CUDA_DEVICE()                                                                     \
  do {                                                                                                   \
    std::string naswot_why_;                                                                             \
    if (!::naswot::rt::cuda_device_available(&naswot_why_)) {                                            \
      if (::naswot::test::gpu_required()) {                                                              \
        FAIL() << "NASWOT_REQUIRE_GPU=1 but no CUDA device is visible: " << naswot_why_;                \
      }                                                                                                  \
      std::fprintf(stderr, "SKIPPED: no CUDA device visible: %s\n", naswot_why_.c_str());              \
      GTEST_SKIP() << "SKIPPED: no CUDA device visible: " << naswot_why_;                                \
    }                                                                                                    \
  } while (0)

struct TestStream {
  rt::Stream stream = rt::make_stream();
  cudaStream_t get() const { return stream.get(); }
};

template <class T>
class DeviceGuarded {
 public:
  static constexpr size_t kGuardBytes = 256;
  static constexpr unsigned char kGuardByte = 0xA5;
  static_assert(kGuardBytes % sizeof(T) == 0, "guards are whole elements");

  DeviceGuarded(size_t count, cudaStream_t stream)
      : m_count(count), m_stream(stream), m_buffer(count + 2 * guard_elems(), "test buffer") {
    std::vector<unsigned char> pattern(m_buffer.bytes(), kGuardByte);
    rt::copy_to_device(m_buffer.data(), pattern.data(), pattern.size(), m_stream);
    rt::synchronize(m_stream);
  }
  T* data() { return m_buffer.data() + guard_elems(); }
  size_t size() const { return m_count; }
  void upload(const std::vector<T>& host) {
    EXPECT_EQ(host.size(), m_count);
    rt::copy_to_device(data(), host.data(), m_count * sizeof(T), m_stream);
    rt::synchronize(m_stream);
  }
  std::vector<T> download() {
    std::vector<T> host(m_count);
    rt::copy_to_host(host.data(), data(), m_count * sizeof(T), m_stream);
    rt::synchronize(m_stream);
    return host;
  }
  bool guards_intact() {
    std::vector<unsigned char> all(m_buffer.bytes());
    rt::copy_to_host(all.data(), m_buffer.data(), all.size(), m_stream);
    rt::synchronize(m_stream);
    const size_t tail = kGuardBytes + m_count * sizeof(T);
    for (size_t b = 0; b < kGuardBytes; ++b)
      if (all[b] != kGuardByte || all[tail + b] != kGuardByte) return false;
    return true;
  }

 private:
  static constexpr size_t guard_elems() { return kGuardBytes / sizeof(T); }
  size_t m_count;
  cudaStream_t m_stream;
  rt::DeviceBuffer<T> m_buffer;
};

template <class T>
DeviceGuarded<T> to_device(const std::vector<T>& host, cudaStream_t stream) {
  DeviceGuarded<T> d(host.size(), stream);
  d.upload(host);
  return d;
}

inline ::testing::AssertionResult bits_equal(const float* got, const float* ref, size_t n) {
  size_t bad = 0;
  std::ostringstream first;
  for (size_t i = 0; i < n; ++i) {
    uint32_t a = 0, b = 0;
    std::memcpy(&a, got + i, 4);
    std::memcpy(&b, ref + i, 4);
    if (std::isnan(got[i]) && std::isnan(ref[i])) continue;
    if (a != b && bad++ == 0) {
      first.precision(9);
      first << "index " << i << ": got " << got[i] << " (0x" << std::hex << a << "), ref " << ref[i] << " (0x" << b
            << std::dec << ") (tolerance: bit-exact)";
    }
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << bad << " of " << n << " values differ; first at " << first.str();
}

// Code-bit flips between two K matrices of one network on one batch, estimated from K alone. A
// flip of one unit's bit in image i moves K[i][j] and K[j][i] by the tap's weight for every j != i
// (the diagonal stays N_A), so the summed off-diagonal |difference| / (2 (n - 1)) counts flips in
// units of tap weight (opposite flips in one row can cancel: an estimate, not a bound). Different
// cuDNN algorithms round differently, so a pre-activation within rounding of zero may flip; a
// wrong value flips about half of a tensor's bits, orders of magnitude more.
inline double estimated_flips(const int64_t* a, const int64_t* b, int n) {
  if (n < 2) return 0.0;
  double sum = 0.0;
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j)
      if (i != j) sum += std::fabs(static_cast<double>(a[static_cast<size_t>(i) * n + j] - b[static_cast<size_t>(i) * n + j]));
  return sum / (2.0 * (n - 1));
}
// Largest flipped-bit rate (estimated flips / (n x N_A)) tests accept between two fp32 paths. The
// GPU check measured 6e-7 between the CPU and CUDA at batch 128 (2026-12-04, H200).
inline constexpr double kMaxFlipRate = 1e-5;

// Sets an environment variable for one scope and restores what was there (or its absence) when
// the scope ends, also when an ASSERT returns early.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : m_name(name) {
    const char* old = std::getenv(name);
    m_had = old != nullptr;
    if (m_had) m_old = old;
    set(value);
  }
  ~ScopedEnv() {
    if (m_had) {
      setenv(m_name.c_str(), m_old.c_str(), 1);
    } else {
      unsetenv(m_name.c_str());
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;
  void set(const char* value) { setenv(m_name.c_str(), value, 1); }

 private:
  std::string m_name, m_old;
  bool m_had = false;
};

// A square-kernel convolution shape (the conv tests' cases): n images h x w x c -> k channels,
// kernel r x r, stride, padding and dilation the same on both axes.
inline cpu::Conv2dShape conv_shape(int n, int h, int w, int c, int k, int r, int stride, int pad, int dilation = 1,
                                   int groups = 1) {
  cpu::Conv2dShape s;
  s.n = n;
  s.h = h;
  s.w = w;
  s.c_in = c;
  s.c_out = k;
  s.kernel_h = s.kernel_w = r;
  s.stride_h = s.stride_w = stride;
  s.pad_h = s.pad_w = pad;
  s.dilation_h = s.dilation_w = dilation;
  s.groups = groups;
  return s;
}

}  // namespace naswot::test
