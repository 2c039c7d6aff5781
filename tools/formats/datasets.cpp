// Batch loading for `naswot score` (contracts in datasets.h, CIFAR layout in cifar.h, .npy in
// npy.h). Every path converts to the NHWC float32 layout the backends consume.
#include "tools/formats/datasets.h"

#include <limits>

#include "runtime/error.h"
#include "runtime/philox.h"
#include "tools/formats/cifar.h"
#include "tools/formats/npy.h"

namespace naswot::formats {

namespace {

// Reference constants (x255) per dataset, in channel order R, G, B.
struct RawConstants {
  double mean[3];
  double std[3];
};
constexpr RawConstants kCifar10{{125.3, 123.0, 113.9}, {63.0, 62.1, 66.7}};
constexpr RawConstants kCifar100{{129.3, 124.1, 112.4}, {68.2, 65.4, 70.4}};
constexpr RawConstants kImageNet16{{122.68, 116.66, 104.01}, {63.22, 61.26, 65.09}};

// The largest batch tensor we build: Shape4 holds int dimensions, keep numel in int range too.
constexpr int64_t kMaxBatchFloats = std::numeric_limits<int32_t>::max();

void check_batch_size(int batch, int side) {
  NASWOT_EXPECT(batch >= 1, BadInput, "batch size " << batch << " must be at least 1");
  NASWOT_EXPECT(side >= 1, BadInput, "image size " << side << " must be at least 1");
  NASWOT_EXPECT(static_cast<int64_t>(batch) * 3 * side * side <= kMaxBatchFloats, BadInput,
                "batch " << batch << " x 3 x " << side << " x " << side << " is too large (at most " << kMaxBatchFloats
                         << " values)");
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + ")";
}

std::string too_few(const std::string& path, uint64_t have, int batch) {
  return path + " holds " + std::to_string(have) + " images; --batch " + std::to_string(batch) + " needs at least " +
         std::to_string(batch) + " (use --batch " + std::to_string(have) + " or a larger file)";
}

rt::Batch load_cifar(const DataSpec& spec, int batch, uint64_t seed, int image_size) {
  const bool c100 = spec.kind == "cifar100";
  NASWOT_EXPECT(image_size == kCifarSide, BadInput,
                spec.kind << ":" << spec.path << ": CIFAR images are 32x32 but the network expects " << image_size
                          << "x" << image_size);
  check_batch_size(batch, kCifarSide);
  const CifarSource src = open_cifar(spec.path, c100);
  const uint64_t n = src.records();
  NASWOT_EXPECT(static_cast<uint64_t>(batch) <= n, BadInput, too_few(spec.path, n, batch));
  NASWOT_EXPECT(n <= 0xFFFFFFFFull, BadInput, spec.path << ": " << n << " records is more than 2^32-1");
  const CifarRecords rec = read_cifar_records(src, choose_records(n, batch, seed));
  rt::Batch b;
  b.shape = {batch, kCifarSide, kCifarSide, 3};
  b.data = normalize_chw_u8_to_nhwc(rec.pixels.data(), batch, kCifarSide, kCifarSide,
                                    normalization(c100 ? DatasetKind::Cifar100 : DatasetKind::Cifar10));
  b.source = spec.kind + ":" + spec.path + " (" + std::to_string(batch) + " of " + std::to_string(n) +
             " images, seed " + std::to_string(seed) + ")";
  return b;
}

rt::Batch load_npy(const DataSpec& spec, int batch, DatasetKind norm) {
  const NpyArray a = read_npy(spec.path);
  NASWOT_EXPECT(a.shape.size() == 4 && a.shape[1] == 3 && a.shape[2] == a.shape[3] && a.shape[2] >= 1, BadInput,
                spec.path << ": shape " << shape_text(a.shape) << "; expected (N, 3, H, W) NCHW images with H == W");
  NASWOT_EXPECT(static_cast<int64_t>(batch) <= a.shape[0], BadInput,
                too_few(spec.path, static_cast<uint64_t>(a.shape[0]), batch));
  NASWOT_EXPECT(a.shape[2] <= std::numeric_limits<int32_t>::max(), BadInput,
                spec.path << ": image side " << a.shape[2] << " is too large");
  const int side = static_cast<int>(a.shape[2]);
  check_batch_size(batch, side);
  rt::Batch b;
  b.shape = {batch, side, side, 3};
  const size_t plane = static_cast<size_t>(side) * static_cast<size_t>(side);
  if (a.dtype == "|u1") {
    b.data = normalize_chw_u8_to_nhwc(a.u8.data(), batch, side, side, normalization(norm));
  } else {
    b.data.resize(static_cast<size_t>(batch) * 3 * plane);
    for (size_t img = 0; img < static_cast<size_t>(batch); ++img)
      for (size_t c = 0; c < 3; ++c)
        for (size_t p = 0; p < plane; ++p) b.data[(img * plane + p) * 3 + c] = a.f32[(img * 3 + c) * plane + p];
  }
  b.source = "npy:" + spec.path + " (first " + std::to_string(batch) + " of " + std::to_string(a.shape[0]) +
             " images, " +
             (a.dtype == "|u1" ? std::string("uint8 normalised as ") + to_string(norm) : "float32 as given") + ")";
  return b;
}

}  // namespace

DatasetKind parse_dataset_kind(const std::string& name) {
  if (name == "cifar10") return DatasetKind::Cifar10;
  if (name == "cifar100") return DatasetKind::Cifar100;
  if (name == "imagenet16" || name == "ImageNet16-120" || name == "imagenet16-120") return DatasetKind::ImageNet16;
  throw_error(ErrorKind::BadInput, "dataset '" + name + "': expected cifar10, cifar100 or imagenet16");
}

const char* to_string(DatasetKind kind) {
  switch (kind) {
    case DatasetKind::Cifar10:
      return "cifar10";
    case DatasetKind::Cifar100:
      return "cifar100";
    case DatasetKind::ImageNet16:
      return "imagenet16";
  }
  return "?";
}

Normalization normalization(DatasetKind kind) {
  const RawConstants& k = kind == DatasetKind::Cifar10    ? kCifar10
                          : kind == DatasetKind::Cifar100 ? kCifar100
                                                          : kImageNet16;
  Normalization n{};
  for (int c = 0; c < 3; ++c) {
    n.mean[static_cast<size_t>(c)] = static_cast<float>(k.mean[c] / 255.0);
    n.std[static_cast<size_t>(c)] = static_cast<float>(k.std[c] / 255.0);
  }
  return n;
}

DataSpec parse_data_spec(const std::string& s) {
  if (s == "synthetic") return {"synthetic", ""};
  const size_t colon = s.find(':');
  if (colon != std::string::npos && colon + 1 < s.size()) {
    const std::string kind = s.substr(0, colon);
    if (kind == "cifar10" || kind == "cifar100" || kind == "npy") return {kind, s.substr(colon + 1)};
  }
  throw_error(ErrorKind::BadInput,
              "data spec '" + s + "': expected synthetic, cifar10:PATH, cifar100:PATH or npy:FILE");
}

std::vector<float> normalize_chw_u8_to_nhwc(const uint8_t* chw, int n, int h, int w, const Normalization& norm) {
  const size_t plane = static_cast<size_t>(h) * static_cast<size_t>(w);
  std::vector<float> out(static_cast<size_t>(n) * 3 * plane);
  for (size_t img = 0; img < static_cast<size_t>(n); ++img)
    for (size_t c = 0; c < 3; ++c)
      for (size_t p = 0; p < plane; ++p)
        out[(img * plane + p) * 3 + c] = normalize_pixel(chw[(img * 3 + c) * plane + p], norm.mean[c], norm.std[c]);
  return out;
}

rt::Batch synthetic_batch(int batch, int image_size, uint64_t seed) {
  check_batch_size(batch, image_size);
  rt::Batch b;
  b.shape = {batch, image_size, image_size, 3};
  const size_t plane = static_cast<size_t>(image_size) * static_cast<size_t>(image_size);
  b.data.resize(static_cast<size_t>(batch) * 3 * plane);
  for (size_t img = 0; img < static_cast<size_t>(batch); ++img)
    for (size_t c = 0; c < 3; ++c)
      for (size_t p = 0; p < plane; ++p)
        b.data[(img * plane + p) * 3 + c] = philox_normal(seed, kStreamSyntheticBatch, (img * 3 + c) * plane + p);
  b.source = "synthetic(seed=" + std::to_string(seed) + ")";
  return b;
}

rt::Batch load_batch(const DataSpec& spec, int batch, uint64_t seed, DatasetKind norm, int image_size) {
  if (spec.kind == "synthetic") return synthetic_batch(batch, image_size, seed);
  if (spec.kind == "cifar10" || spec.kind == "cifar100") return load_cifar(spec, batch, seed, image_size);
  if (spec.kind == "npy") {
    check_batch_size(batch, 1);
    return load_npy(spec, batch, norm);
  }
  throw_error(ErrorKind::BadInput, "data spec kind '" + spec.kind + "': expected synthetic, cifar10, cifar100 or npy");
}

}  // namespace naswot::formats
