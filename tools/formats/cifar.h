// CIFAR binary files: the record layout of the official "binary version" downloads.
// A record is label byte(s) then 3072 pixel bytes: a 32x32 R plane, then G, then B, each
// row-major (CHW, uint8). CIFAR-10 records have 1 label byte (3073 bytes); official CIFAR-100
// records have 2 (coarse, fine: 3074 bytes), but single-label CIFAR-100 exports (such as
// shared/data/cifar100/cifar100_test_first20.bin) use 3073. There is no header, so the layout
// of a CIFAR-100 file is decided by its size:
//   * a multiple of 3074 only -> 2 label bytes; a multiple of 3073 only -> 1 label byte;
//   * a multiple of both (only possible from 3073 records up) -> 2 label bytes if the file is
//     named train.bin or test.bin (the official names), else 1 label byte;
//   * neither -> BadInput "truncated or not a CIFAR file".
// Every label read is range-checked (CIFAR-10 < 10, coarse < 20, fine < 100), which also
// catches a wrong layout guess. A directory means the official train set: CIFAR-10
// data_batch_1..5.bin, CIFAR-100 train.bin, directly inside or in the archive's subfolder
// (cifar-10-batches-bin/, cifar-100-binary/). Test files are never picked from a directory.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace naswot::formats {

inline constexpr int kCifarSide = 32;
inline constexpr int kCifarPixels = 3 * kCifarSide * kCifarSide;  // 3072

struct CifarFile {
  std::string path;
  uint64_t records = 0;
};

struct CifarSource {
  bool cifar100 = false;
  int label_bytes = 1;
  std::vector<CifarFile> files;  // records are numbered across files in this order
  uint64_t records() const;
};

// Resolve `path` (a .bin file or a directory) and decide the record layout from file sizes.
// Reads no pixel data. BadInput/Io naming the file and the expected layout.
CifarSource open_cifar(const std::string& path, bool cifar100);

struct CifarRecords {
  std::vector<uint8_t> labels;  // the fine label for CIFAR-100
  std::vector<uint8_t> pixels;  // kCifarPixels bytes per record, CHW, in request order
};

// Read the given records (global numbers, any order, repeats allowed). BadInput naming the file
// and record if a number is out of range or a label byte is out of range.
CifarRecords read_cifar_records(const CifarSource& source, const std::vector<uint64_t>& records);

// The batch choice: a seeded Fisher-Yates permutation of 0..n-1 (for i = n-1 down to 1, swap i
// with philox_below(seed, kStreamBatchChoice, i, i+1)), first `batch` entries.
// Requires 1 <= batch <= n (callers check and explain).
std::vector<uint64_t> choose_records(uint64_t n, int batch, uint64_t seed);

}  // namespace naswot::formats
