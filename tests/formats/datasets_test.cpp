// Batch loading: data-spec parsing, the normalisation constants and per-pixel arithmetic
// against values computed independently here in double, the NCHW -> NHWC placement of every
// value (CIFAR, npy uint8 and float32, synthetic), the seeded choice (deterministic, different
// across seeds), the too-few-images message, synthetic statistics, and the shared CIFAR files.
#include "tools/formats/datasets.h"

#include <gtest/gtest.h>

#include <cmath>

#include "formats/format_test_util.h"
#include "runtime/philox.h"
#include "tools/formats/cifar.h"
#include "tools/formats/npy.h"

namespace naswot::test {
namespace {

using formats::DatasetKind;
using formats::load_batch;
using formats::parse_data_spec;

// Pixel value of record r, channel c, position p in the generated files.
uint8_t pix(uint64_t r, int c, int p) {
  return static_cast<uint8_t>((r * 131 + static_cast<uint64_t>(c) * 17 + static_cast<uint64_t>(p) * 3) % 256);
}

std::vector<uint8_t> cifar_file(uint64_t n) {
  std::vector<uint8_t> out;
  for (uint64_t r = 0; r < n; ++r) {
    out.push_back(static_cast<uint8_t>(r % 10));
    for (int c = 0; c < 3; ++c)
      for (int p = 0; p < 1024; ++p) out.push_back(pix(r, c, p));
  }
  return out;
}

// The reference constants (reference-semantics.md section 2), written out again here.
struct Ref {
  DatasetKind kind;
  double mean[3], std[3];
};
const Ref kRefs[] = {
    {DatasetKind::Cifar10, {125.3, 123.0, 113.9}, {63.0, 62.1, 66.7}},
    {DatasetKind::Cifar100, {129.3, 124.1, 112.4}, {68.2, 65.4, 70.4}},
    {DatasetKind::ImageNet16, {122.68, 116.66, 104.01}, {63.22, 61.26, 65.09}},
};

double ref_value(uint8_t v, const Ref& r, int c) { return (v / 255.0 - r.mean[c] / 255.0) / (r.std[c] / 255.0); }

TEST(Datasets, ParseDataSpec) {
  EXPECT_EQ(parse_data_spec("synthetic").kind, "synthetic");
  const formats::DataSpec c = parse_data_spec("cifar10:/data/x:y.bin");
  EXPECT_EQ(c.kind, "cifar10");
  EXPECT_EQ(c.path, "/data/x:y.bin");
  EXPECT_EQ(parse_data_spec("cifar100:d").kind, "cifar100");
  EXPECT_EQ(parse_data_spec("npy:a.npy").path, "a.npy");
  for (const char* bad : {"", "cifar10", "cifar10:", "imagenet:x", "synthetic:1", "npy", "Synthetic"})
    EXPECT_TRUE(
        throws_error([&] { parse_data_spec(bad); }, ErrorKind::BadInput, {"'" + std::string(bad) + "'", "npy:FILE"}))
        << bad;
  EXPECT_EQ(formats::parse_dataset_kind("ImageNet16-120"), DatasetKind::ImageNet16);
  EXPECT_TRUE(throws_error([] { formats::parse_dataset_kind("mnist"); }, ErrorKind::BadInput, {"'mnist'"}));
}

TEST(Datasets, NormalizationMatchesIndependentValues) {
  for (const Ref& r : kRefs) {
    const formats::Normalization n = formats::normalization(r.kind);
    for (int c = 0; c < 3; ++c) {
      EXPECT_EQ(n.mean[static_cast<size_t>(c)], static_cast<float>(r.mean[c] / 255.0))
          << to_string(r.kind) << " c" << c;
      EXPECT_EQ(n.std[static_cast<size_t>(c)], static_cast<float>(r.std[c] / 255.0)) << to_string(r.kind) << " c" << c;
      // float32 arithmetic vs exact double: within a few float ulps of values up to ~4.
      for (int v = 0; v < 256; ++v) {
        const double ref = ref_value(static_cast<uint8_t>(v), r, c);
        const float got = formats::normalize_pixel(static_cast<uint8_t>(v), n.mean[static_cast<size_t>(c)],
                                                   n.std[static_cast<size_t>(c)]);
        EXPECT_NEAR(got, ref, 2e-6 * (1 + std::fabs(ref))) << to_string(r.kind) << " channel " << c << " value " << v;
      }
    }
  }
}

TEST(Datasets, CifarBatchIsChosenNormalisedNhwc) {
  TempDir tmp;
  const std::string path = tmp.path("c.bin");
  write_bytes(path, cifar_file(40));
  const rt::Batch b = load_batch(parse_data_spec("cifar10:" + path), 8, 5, DatasetKind::ImageNet16, 32);
  EXPECT_EQ(b.shape, (rt::Shape4{8, 32, 32, 3}));
  ASSERT_EQ(b.data.size(), 8u * 32 * 32 * 3);
  EXPECT_NE(b.source.find(path), std::string::npos);
  const std::vector<uint64_t> chosen = formats::choose_records(40, 8, 5);
  const formats::Normalization n = formats::normalization(DatasetKind::Cifar10);  // the dataset's own, not `norm`
  for (size_t k = 0; k < 8; ++k)
    for (int h = 0; h < 32; ++h)
      for (int w = 0; w < 32; ++w)
        for (int c = 0; c < 3; ++c) {
          const float want = formats::normalize_pixel(pix(chosen[k], c, h * 32 + w), n.mean[static_cast<size_t>(c)],
                                                      n.std[static_cast<size_t>(c)]);
          ASSERT_EQ(
              b.data[((k * 32 + static_cast<size_t>(h)) * 32 + static_cast<size_t>(w)) * 3 + static_cast<size_t>(c)],
              want)
              << "image " << k << " (record " << chosen[k] << ") h " << h << " w " << w << " c " << c;
        }
  EXPECT_EQ(load_batch(parse_data_spec("cifar10:" + path), 8, 5, DatasetKind::Cifar10, 32).data, b.data);
  EXPECT_NE(load_batch(parse_data_spec("cifar10:" + path), 8, 6, DatasetKind::Cifar10, 32).data, b.data);
  // cifar100 on a 1-label file uses the CIFAR-100 constants.
  const rt::Batch b100 = load_batch(parse_data_spec("cifar100:" + path), 8, 5, DatasetKind::Cifar10, 32);
  const formats::Normalization n100 = formats::normalization(DatasetKind::Cifar100);
  EXPECT_EQ(b100.data[1], formats::normalize_pixel(pix(chosen[0], 1, 0), n100.mean[1], n100.std[1]));
}

TEST(Datasets, TooFewImagesAndWrongSize) {
  TempDir tmp;
  const std::string path = tmp.path("c.bin");
  write_bytes(path, cifar_file(20));
  const formats::DataSpec spec = parse_data_spec("cifar10:" + path);
  EXPECT_TRUE(
      throws_error([&] { load_batch(spec, 128, 1, DatasetKind::Cifar10, 32); }, ErrorKind::BadInput,
                   {path + " holds 20 images; --batch 128 needs at least 128 (use --batch 20 or a larger file)"}));
  EXPECT_EQ(load_batch(spec, 20, 1, DatasetKind::Cifar10, 32).shape.n, 20);
  EXPECT_TRUE(
      throws_error([&] { load_batch(spec, 4, 1, DatasetKind::Cifar10, 16); }, ErrorKind::BadInput, {"32x32", "16x16"}));
  EXPECT_TRUE(
      throws_error([&] { load_batch(spec, 0, 1, DatasetKind::Cifar10, 32); }, ErrorKind::BadInput, {"batch size 0"}));
}

TEST(Datasets, SyntheticBatchIsPhiloxNormalNhwc) {
  const int n = 128, s = 32;
  const rt::Batch b = load_batch(parse_data_spec("synthetic"), n, 1, DatasetKind::Cifar10, s);
  EXPECT_EQ(b.shape, (rt::Shape4{n, s, s, 3}));
  EXPECT_EQ(b.source, "synthetic(seed=1)");
  double sum = 0, sq = 0;
  for (float v : b.data) sum += v, sq += static_cast<double>(v) * v;
  const double count = static_cast<double>(b.data.size()), mean = sum / count, var = sq / count - mean * mean;
  // 393,216 draws: the mean's standard error is 0.0016, the variance's about 0.0023.
  EXPECT_NEAR(mean, 0.0, 0.01);
  EXPECT_NEAR(std::sqrt(var), 1.0, 0.01);
  // Placement: NHWC element (i, h, w, c) is the draw of NCHW flat index ((i*3 + c)*S + h)*S + w.
  for (int i : {0, 77, 127})
    for (int h : {0, 5, 31})
      for (int w : {0, 19, 31})
        for (int c = 0; c < 3; ++c) {
          const uint64_t flat =
              ((static_cast<uint64_t>(i) * 3 + static_cast<uint64_t>(c)) * s + static_cast<uint64_t>(h)) * s +
              static_cast<uint64_t>(w);
          EXPECT_EQ(b.data[((static_cast<size_t>(i) * s + static_cast<size_t>(h)) * s + static_cast<size_t>(w)) * 3 +
                           static_cast<size_t>(c)],
                    philox_normal(1, kStreamSyntheticBatch, flat));
        }
  EXPECT_EQ(load_batch(parse_data_spec("synthetic"), n, 1, DatasetKind::Cifar100, s).data, b.data);
  EXPECT_NE(load_batch(parse_data_spec("synthetic"), n, 2, DatasetKind::Cifar10, s).data, b.data);
  EXPECT_EQ(load_batch(parse_data_spec("synthetic"), 4, 3, DatasetKind::ImageNet16, 16).shape,
            (rt::Shape4{4, 16, 16, 3}));
}

TEST(Datasets, NpyFirstImagesFloatAsGivenUint8Normalised) {
  TempDir tmp;
  const std::string fpath = tmp.path("f.npy"), upath = tmp.path("u.npy");
  const int n = 5, s = 4;
  const std::vector<float> f = random_normal(n * 3 * s * s, 0, 1, kSeed + 11);
  formats::write_npy_f32(fpath, {n, 3, s, s}, f);
  std::vector<uint8_t> u(f.size());
  for (size_t i = 0; i < u.size(); ++i) u[i] = static_cast<uint8_t>(i * 7);
  formats::write_npy_u8(upath, {n, 3, s, s}, u);
  const rt::Batch bf = load_batch(parse_data_spec("npy:" + fpath), 3, 99, DatasetKind::Cifar10, 32);
  const rt::Batch bu = load_batch(parse_data_spec("npy:" + upath), 3, 99, DatasetKind::ImageNet16, 32);
  EXPECT_EQ(bf.shape, (rt::Shape4{3, s, s, 3}));  // the file's size, not image_size
  EXPECT_EQ(bu.shape, (rt::Shape4{3, s, s, 3}));
  const formats::Normalization norm = formats::normalization(DatasetKind::ImageNet16);
  for (size_t i = 0; i < 3; ++i)
    for (size_t c = 0; c < 3; ++c)
      for (size_t p = 0; p < static_cast<size_t>(s * s); ++p) {
        const size_t nchw = (i * 3 + c) * s * s + p, nhwc = (i * s * s + p) * 3 + c;
        ASSERT_EQ(bf.data[nhwc], f[nchw]) << "image " << i << " c " << c << " p " << p;
        ASSERT_EQ(bu.data[nhwc], formats::normalize_pixel(u[nchw], norm.mean[c], norm.std[c]))
            << "image " << i << " c " << c;
      }
  EXPECT_EQ(load_batch(parse_data_spec("npy:" + fpath), 5, 1, DatasetKind::Cifar10, 32).shape.n, 5);
  EXPECT_TRUE(throws_error([&] { load_batch(parse_data_spec("npy:" + fpath), 6, 1, DatasetKind::Cifar10, 32); },
                           ErrorKind::BadInput,
                           {fpath + " holds 5 images; --batch 6 needs at least 6 (use --batch 5"}));
  formats::write_npy_f32(fpath, {2, 1, 4, 4}, std::vector<float>(32));
  EXPECT_TRUE(throws_error([&] { load_batch(parse_data_spec("npy:" + fpath), 1, 1, DatasetKind::Cifar10, 32); },
                           ErrorKind::BadInput, {fpath, "(2, 1, 4, 4)", "(N, 3, H, W)"}));
  formats::write_npy_f32(fpath, {2, 3, 4, 5}, std::vector<float>(120));
  EXPECT_TRUE(throws_error([&] { load_batch(parse_data_spec("npy:" + fpath), 1, 1, DatasetKind::Cifar10, 32); },
                           ErrorKind::BadInput, {"H == W"}));
  formats::write_npy_f32(fpath, {3, 4, 4}, std::vector<float>(48));
  EXPECT_TRUE(throws_error([&] { load_batch(parse_data_spec("npy:" + fpath), 1, 1, DatasetKind::Cifar10, 32); },
                           ErrorKind::BadInput, {"(3, 4, 4)"}));
}

TEST(Datasets, SharedCifarBatches) {
  const std::string dir = shared_data_dir();
  if (dir.empty()) GTEST_SKIP() << "NASWOT_SHARED_DATA (../shared/data) is absent: real CIFAR batches not checked";
  const std::string eembc = dir + "/cifar10/cifar10_test_eembc200.bin";
  const rt::Batch b = load_batch(parse_data_spec("cifar10:" + eembc), 128, 1, DatasetKind::Cifar10, 32);
  EXPECT_EQ(b.shape, (rt::Shape4{128, 32, 32, 3}));
  // Real images normalise to roughly zero mean, unit spread (loose: 128 natural images).
  double sum = 0, sq = 0;
  for (float v : b.data) sum += v, sq += static_cast<double>(v) * v;
  const double mean = sum / static_cast<double>(b.data.size());
  EXPECT_NEAR(mean, 0.0, 0.3);
  EXPECT_NEAR(std::sqrt(sq / static_cast<double>(b.data.size()) - mean * mean), 1.0, 0.3);
  EXPECT_TRUE(throws_error([&] { load_batch(parse_data_spec("cifar10:" + eembc), 201, 1, DatasetKind::Cifar10, 32); },
                           ErrorKind::BadInput, {"holds 200 images; --batch 201"}));
  const std::string c100 = dir + "/cifar100/cifar100_test_first20.bin";
  EXPECT_EQ(load_batch(parse_data_spec("cifar100:" + c100), 20, 1, DatasetKind::Cifar100, 32).shape.n, 20);
  EXPECT_TRUE(throws_error(
      [&] { load_batch(parse_data_spec("cifar100:" + c100), 128, 1, DatasetKind::Cifar100, 32); }, ErrorKind::BadInput,
      {c100 + " holds 20 images; --batch 128 needs at least 128 (use --batch 20 or a larger file)"}));
}

}  // namespace
}  // namespace naswot::test
