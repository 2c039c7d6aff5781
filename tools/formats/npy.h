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

}  // namespace naswot::formats
