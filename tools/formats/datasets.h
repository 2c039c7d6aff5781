// Input batches for scoring: the --data spec, per-dataset normalisation and the loaders.
// Normalisation follows the reference (torchvision ToTensor then Normalize), in float32:
//   x = (float(u8) / 255.0f - mean_f) / std_f,   mean_f = float(m / 255.0), std_f = float(s / 255.0)
// with m, s the reference's per-channel constants (reference-semantics.md section 2) divided in
// double and rounded once to float, as torch.as_tensor(list of Python floats, float32) does.
// Output batches are NHWC float32 (runtime/batch.h); files arrive NCHW/CHW and are transposed.
#pragma once
#include <array>
#include <cstdint>
#include <string>

#include "runtime/batch.h"

namespace naswot::formats {

enum class DatasetKind { Cifar10, Cifar100, ImageNet16 };

// "cifar10", "cifar100", "imagenet16" (also "ImageNet16-120"); BadInput otherwise.
DatasetKind parse_dataset_kind(const std::string& name);
const char* to_string(DatasetKind kind);

struct Normalization {
  std::array<float, 3> mean;
  std::array<float, 3> std;
};
Normalization normalization(DatasetKind kind);

// One pixel through ToTensor + Normalize, operation by operation in float32.
inline float normalize_pixel(uint8_t v, float mean, float std) {
  const float x = static_cast<float>(v) / 255.0f;
  return (x - mean) / std;
}

struct DataSpec {
  std::string kind;  // synthetic | cifar10 | cifar100 | npy
  std::string path;  // empty for synthetic
};

// "synthetic", "cifar10:PATH", "cifar100:PATH", "npy:FILE"; BadInput otherwise.
DataSpec parse_data_spec(const std::string& s);

// The batch described by `spec`:
//  * synthetic: batch x 3 x image_size^2 standard normals, value of NCHW flat index i =
//    philox_normal(seed, kStreamSyntheticBatch, i); not normalised.
//  * cifar10 / cifar100: `batch` records chosen by choose_records(seed) (cifar.h), normalised
//    with that dataset's constants; image_size must be 32.
//  * npy: the first `batch` images of an (N, 3, H, H) array; float32 used as given, uint8
//    normalised with `norm`. The batch keeps the file's H (the caller checks it).
// BadInput (with the file and what was expected) when the data cannot give that batch.
rt::Batch load_batch(const DataSpec& spec, int batch, uint64_t seed, DatasetKind norm, int image_size);

rt::Batch synthetic_batch(int batch, int image_size, uint64_t seed);

// n CHW uint8 images (3 channels) -> normalised NHWC float32.
std::vector<float> normalize_chw_u8_to_nhwc(const uint8_t* chw, int n, int h, int w, const Normalization& norm);

}  // namespace naswot::formats
