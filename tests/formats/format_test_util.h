// Helpers for the file-format tests: a per-test temporary directory, raw byte writers, an
// error matcher (kind + every needle in the message), the prefix-truncation and random-corruption
// drivers (a reader must either succeed or throw naswot::Error, never crash or throw anything
// else), and the shared-data location (tests skip when it is absent).
#pragma once
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "runtime/error.h"
#include "test_util.h"

namespace naswot::test {

// A fresh directory under the system temp dir, removed (with its files) on destruction.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string stem = "naswot_fmt_";
    if (info) stem += std::string(info->test_suite_name()) + "_" + info->name() + "_";
    std::random_device rd;
    for (int attempt = 0;; ++attempt) {
      m_dir = std::filesystem::temp_directory_path() / (stem + std::to_string(rd()));
      if (std::filesystem::create_directory(m_dir) || attempt > 100) break;
    }
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(m_dir, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string path(const std::string& name) const { return (m_dir / name).string(); }
  std::string dir() const { return m_dir.string(); }

 private:
  std::filesystem::path m_dir;
};

inline void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes, size_t count = SIZE_MAX) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(std::min(count, bytes.size())));
  ASSERT_TRUE(out.good()) << "cannot write test file " << path;
}

inline std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

inline std::vector<uint8_t> to_bytes(const std::string& s) { return std::vector<uint8_t>(s.begin(), s.end()); }

// Runs `f`; passes if it throws naswot::Error of `kind` whose message contains every needle.
inline ::testing::AssertionResult throws_error(const std::function<void()>& f, ErrorKind kind,
                                               const std::vector<std::string>& needles) {
  try {
    f();
  } catch (const Error& e) {
    if (e.kind() != kind)
      return ::testing::AssertionFailure()
             << "error kind " << to_string(e.kind()) << ", expected " << to_string(kind) << ": " << e.what();
    for (const std::string& n : needles)
      if (std::string(e.what()).find(n) == std::string::npos)
        return ::testing::AssertionFailure() << "message '" << e.what() << "' does not contain '" << n << "'";
    return ::testing::AssertionSuccess();
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << "threw a non-naswot exception: " << e.what();
  }
  return ::testing::AssertionFailure() << "did not throw";
}

// Every strict prefix of `bytes` (lengths 0 .. size-1), written to `path`, must make `read`
// throw naswot::Error (BadInput or Io) and nothing else.
inline void expect_every_prefix_rejected(const std::vector<uint8_t>& bytes, const std::string& path,
                                         const std::function<void(const std::string&)>& read) {
  for (size_t len = 0; len < bytes.size(); ++len) {
    write_bytes(path, bytes, len);
    try {
      read(path);
      ADD_FAILURE() << "prefix of " << len << " of " << bytes.size() << " bytes was accepted";
    } catch (const Error& e) {
      EXPECT_TRUE(e.kind() == ErrorKind::BadInput || e.kind() == ErrorKind::Io) << "prefix " << len << ": " << e.what();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "prefix " << len << ": non-naswot exception " << e.what();
    }
  }
}

// `trials` copies of `bytes`, each with 1..4 random bytes overwritten (seeded): `read` must
// succeed or throw naswot::Error. Returns how many were rejected (for a sanity check).
inline int corrupt_and_read(const std::vector<uint8_t>& bytes, const std::string& path, int trials, uint32_t seed,
                            const std::function<void(const std::string&)>& read) {
  std::mt19937 rng(seed);
  int rejected = 0;
  for (int t = 0; t < trials; ++t) {
    std::vector<uint8_t> copy = bytes;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < flips; ++k) copy[rng() % copy.size()] = static_cast<uint8_t>(rng());
    write_bytes(path, copy);
    try {
      read(path);
    } catch (const Error&) {
      ++rejected;
    } catch (const std::exception& e) {
      ADD_FAILURE() << "trial " << t << ": non-naswot exception " << e.what();
    }
  }
  return rejected;
}

// The shared data folder, or "" when absent (callers GTEST_SKIP with a message).
inline std::string shared_data_dir() {
#ifdef NASWOT_SHARED_DATA
  std::error_code ec;
  if (std::filesystem::is_directory(NASWOT_SHARED_DATA, ec)) return NASWOT_SHARED_DATA;
#endif
  return "";
}

}  // namespace naswot::test
