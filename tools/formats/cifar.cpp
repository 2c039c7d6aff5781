// CIFAR binary reader (layout and layout-decision rules in cifar.h). Only the chosen records
// are read (one seek each), so a 150 MB training set costs 128 x 3 KB of I/O per batch.
#include "tools/formats/cifar.h"

#include <filesystem>
#include <fstream>
#include <numeric>

#include "runtime/error.h"
#include "runtime/philox.h"
#include "tools/formats/binary_io.h"

namespace naswot::formats {

namespace {

namespace fs = std::filesystem;

constexpr uint64_t kRecord1 = kCifarPixels + 1;  // 3073
constexpr uint64_t kRecord2 = kCifarPixels + 2;  // 3074

int decide_label_bytes(const std::string& path, uint64_t size, bool cifar100) {
  NASWOT_EXPECT(size > 0, BadInput, path << ": file is empty; expected CIFAR records of " << kRecord1 << " bytes");
  const bool by1 = size % kRecord1 == 0, by2 = size % kRecord2 == 0;
  if (!cifar100) {
    NASWOT_EXPECT(by1, BadInput,
                  path << ": truncated or not a CIFAR-10 file: size " << size << " is not a multiple of " << kRecord1
                       << " (1 label byte + 3072 pixels)"
                       << (by2 ? "; it is a multiple of 3074, the CIFAR-100 layout: use cifar100:PATH" : ""));
    return 1;
  }
  NASWOT_EXPECT(by1 || by2, BadInput,
                path << ": truncated or not a CIFAR file: size " << size << " is not a multiple of " << kRecord1
                     << " (or " << kRecord2 << ")");
  if (by1 && by2) {
    const std::string name = fs::path(path).filename().string();
    return name == "train.bin" || name == "test.bin" ? 2 : 1;
  }
  return by2 ? 2 : 1;
}

// Files of the official train set inside `dir` (or its archive subfolder); empty if absent.
std::vector<std::string> official_files(const std::string& dir, bool cifar100) {
  const std::vector<std::string> names =
      cifar100 ? std::vector<std::string>{"train.bin"}
               : std::vector<std::string>{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
                                          "data_batch_4.bin", "data_batch_5.bin"};
  for (const fs::path& base :
       {fs::path(dir), fs::path(dir) / (cifar100 ? "cifar-100-binary" : "cifar-10-batches-bin")}) {
    std::error_code ec;
    if (!fs::exists(base / names[0], ec)) continue;
    std::vector<std::string> files;
    for (const std::string& n : names) {
      NASWOT_EXPECT(fs::exists(base / n, ec), BadInput,
                    (base / n).string() << ": missing; the CIFAR-10 train set is data_batch_1.bin .. data_batch_5.bin");
      files.push_back((base / n).string());
    }
    return files;
  }
  return {};
}

}  // namespace

uint64_t CifarSource::records() const {
  uint64_t n = 0;
  for (const CifarFile& f : files) n += f.records;
  return n;
}

CifarSource open_cifar(const std::string& path, bool cifar100) {
  CifarSource src;
  src.cifar100 = cifar100;
  std::vector<std::string> paths{path};
  if (is_directory(path)) {
    paths = official_files(path, cifar100);
    NASWOT_EXPECT(!paths.empty(), BadInput,
                  path << ": directory holds no "
                       << (cifar100 ? "train.bin (or cifar-100-binary/train.bin)"
                                    : "data_batch_1.bin .. data_batch_5.bin (or cifar-10-batches-bin/)")
                       << "; expected the official binary CIFAR files or a single .bin file");
  }
  for (size_t i = 0; i < paths.size(); ++i) {
    const uint64_t size = file_size(paths[i]);
    const int lb = decide_label_bytes(paths[i], size, cifar100);
    NASWOT_EXPECT(i == 0 || lb == src.label_bytes, BadInput,
                  paths[i] << ": record layout (" << lb << " label bytes) differs from " << paths[0]);
    src.label_bytes = lb;
    src.files.push_back({paths[i], size / static_cast<uint64_t>(kCifarPixels + lb)});
  }
  return src;
}

CifarRecords read_cifar_records(const CifarSource& source, const std::vector<uint64_t>& records) {
  const uint64_t record_bytes = static_cast<uint64_t>(kCifarPixels + source.label_bytes);
  const uint64_t total = source.records();
  CifarRecords out;
  out.labels.reserve(records.size());
  out.pixels.resize(records.size() * kCifarPixels);
  std::vector<std::ifstream> streams(source.files.size());
  std::vector<uint8_t> buf(record_bytes);
  for (size_t k = 0; k < records.size(); ++k) {
    NASWOT_EXPECT(records[k] < total, BadInput,
                  "record " << records[k] << " requested from a CIFAR source of " << total << " records");
    uint64_t r = records[k];
    size_t f = 0;
    while (r >= source.files[f].records) r -= source.files[f++].records;
    const std::string& path = source.files[f].path;
    std::ifstream& in = streams[f];
    if (!in.is_open()) {
      in.open(path, std::ios::binary);
      NASWOT_EXPECT(in.good(), Io, path << ": cannot open for reading");
    }
    in.seekg(static_cast<std::streamoff>(r * record_bytes));
    in.read(reinterpret_cast<char*>(buf.data()), static_cast<std::streamsize>(record_bytes));
    NASWOT_EXPECT(in.good(), Io, path << ": short read of record " << r << " at offset " << r * record_bytes);
    const int fine = buf[static_cast<size_t>(source.label_bytes - 1)];
    const int limit = source.cifar100 ? 100 : 10;
    const bool coarse_ok = source.label_bytes == 1 || buf[0] < 20;
    NASWOT_EXPECT(fine < limit && coarse_ok, BadInput,
                  path << ": record " << r << " (offset " << r * record_bytes << "): label byte"
                       << (source.label_bytes == 2 ? "s " + std::to_string(buf[0]) + ", " : " ") << fine
                       << " out of range (expected " << (source.label_bytes == 2 ? "coarse < 20, " : "") << "label < "
                       << limit << "): not a " << (source.cifar100 ? "CIFAR-100" : "CIFAR-10")
                       << " file or wrong record layout");
    out.labels.push_back(static_cast<uint8_t>(fine));
    std::copy(buf.begin() + source.label_bytes, buf.end(),
              out.pixels.begin() + static_cast<ptrdiff_t>(k * kCifarPixels));
  }
  return out;
}

std::vector<uint64_t> choose_records(uint64_t n, int batch, uint64_t seed) {
  NASWOT_EXPECT(batch >= 1 && static_cast<uint64_t>(batch) <= n && n <= 0xFFFFFFFFull, Internal,
                "choose_records: batch " << batch << " of " << n << " records");
  std::vector<uint64_t> perm(n);
  std::iota(perm.begin(), perm.end(), uint64_t{0});
  for (uint64_t i = n - 1; i >= 1; --i) {
    const uint64_t j = philox_below(seed, kStreamBatchChoice, i, static_cast<uint32_t>(i + 1));
    std::swap(perm[i], perm[j]);
  }
  perm.resize(static_cast<size_t>(batch));
  return perm;
}

}  // namespace naswot::formats
