// Small binary-file helpers shared by the readers in tools/formats: whole-file and ranged reads
// that throw naswot::Error (Io) naming the file, and little-endian scalar decode/encode.
// All naswot file formats (safetensors, npy, CIFAR) are little-endian on disk; the host is
// required to be little-endian too (static_assert below), so float payloads are memcpy'd.
#pragma once
#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace naswot::formats {

static_assert(std::endian::native == std::endian::little,
              "naswot file formats assume a little-endian host (float payloads are copied as bytes)");

// Size in bytes of a regular file; Io error if it cannot be opened or is a directory.
uint64_t file_size(const std::string& path);

// The whole file. Io error naming the file if it cannot be read.
std::vector<uint8_t> read_file_bytes(const std::string& path);

// `count` bytes from `offset`; Io error naming the file, offset and count on a short read.
std::vector<uint8_t> read_file_range(const std::string& path, uint64_t offset, uint64_t count);

// Write `bytes` to `path` (truncating); Io error if any step fails, checked after close.
void write_file_bytes(const std::string& path, const std::vector<uint8_t>& bytes);

// True if `path` names an existing directory.
bool is_directory(const std::string& path);

inline uint64_t load_u64_le(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
inline uint32_t load_u32_le(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 | static_cast<uint32_t>(p[2]) << 16 |
         static_cast<uint32_t>(p[3]) << 24;
}
inline uint16_t load_u16_le(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
inline void append_u64_le(std::vector<uint8_t>& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
inline void append_u32_le(std::vector<uint8_t>& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
inline void append_u16_le(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v));
  out.push_back(static_cast<uint8_t>(v >> 8));
}
inline void append_floats_le(std::vector<uint8_t>& out, const float* data, size_t count) {
  const size_t at = out.size();
  out.resize(at + count * sizeof(float));
  if (count) std::memcpy(out.data() + at, data, count * sizeof(float));
}

}  // namespace naswot::formats
