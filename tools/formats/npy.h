// NumPy .npy arrays: the input-batch exchange format (np.save of an NCHW uint8 or float32 array).
// Layout: magic "\x93NUMPY", version major/minor bytes (1.0, 2.0 or 3.0), header length (u16
// LE for v1, u32 LE for v2/v3), an ASCII/UTF-8 Python dict literal
//   {'descr': '<f4', 'fortran_order': False, 'shape': (N, C, H, W), }
// padded with spaces and ended by '\n', then the raw C-order data.
// Supported dtypes: '<f4' (float32, stored in f32) and '|u1' (uint8, stored in u8). Fortran
// order, big-endian and other dtypes are rejected with a hint. Float data must be finite: a NaN
// or Inf is reported with its flat index and its multi-index, e.g. (n, c, h, w).
#pragma once
#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

namespace naswot::formats {

struct NpyArray {
  std::vector<int64_t> shape;
  std::string dtype;  // "<f4" or "|u1"
  std::vector<float> f32;
  std::vector<uint8_t> u8;
  int64_t numel() const;
};

// Throws naswot::Error: Io (cannot open/read) or BadInput naming the file, the header field or
// byte offset, and what was expected.
NpyArray read_npy(const std::string& path);

// Write a C-order '<f4' (or '|u1') array as .npy version 1.0 (header padded to 64 bytes).
// BadInput if data.size() does not match the shape.
void write_npy_f32(const std::string& path, const std::vector<int64_t>& shape, const std::vector<float>& data);
void write_npy_u8(const std::string& path, const std::vector<int64_t>& shape, const std::vector<uint8_t>& data);

// A C-order '<i8' array written as it is produced (`naswot score --export-k`: the K matrices of
// a long run): the header with the full shape first, then append() in element order. The file
// holds a valid array once close() has checked that every element arrived; a run cut short
// leaves a shorter file, which numpy refuses to load rather than misread.
class NpyInt64Stream {
 public:
  NpyInt64Stream(const std::string& path, const std::vector<int64_t>& shape);  // Io if it cannot open
  void append(const int64_t* data, size_t count);  // BadInput past the end of the shape
  void close();                                    // BadInput if elements are missing
  NpyInt64Stream(const NpyInt64Stream&) = delete;
  NpyInt64Stream& operator=(const NpyInt64Stream&) = delete;

 private:
  std::string m_path;
  size_t m_expected = 0;
  size_t m_written = 0;
  std::ofstream m_out;
};

}  // namespace naswot::formats
