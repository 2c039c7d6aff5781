// CIFAR binary reader: records written here (known labels, pixel values that encode record,
// channel and position) read back exactly; the record-layout decision for CIFAR-100 (1 or 2
// label bytes, the ambiguous size, the official names); directory resolution; size and label
// errors; the seeded batch choice (a permutation, deterministic per seed, different across
// seeds, uniform over records); and, when the shared data is present, the real files against
// their label CSVs.
#include "tools/formats/cifar.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "formats/format_test_util.h"

namespace naswot::test {
namespace {

using formats::choose_records;
using formats::kCifarPixels;
using formats::open_cifar;
using formats::read_cifar_records;

uint8_t pixel_value(uint64_t record, int c, int p) {
  return static_cast<uint8_t>(record * 31 + static_cast<uint64_t>(c) * 7 + static_cast<uint64_t>(p));
}

// `n` records; label bytes are (coarse, fine) = (r % 20, r % 100) or the single label `r % classes`.
std::vector<uint8_t> make_records(uint64_t n, int label_bytes, int classes, uint64_t first = 0) {
  std::vector<uint8_t> out;
  for (uint64_t r = first; r < first + n; ++r) {
    if (label_bytes == 2) out.push_back(static_cast<uint8_t>(r % 20));
    out.push_back(static_cast<uint8_t>(r % static_cast<uint64_t>(classes)));
    for (int c = 0; c < 3; ++c)
      for (int p = 0; p < 1024; ++p) out.push_back(pixel_value(r, c, p));
  }
  return out;
}

void expect_record(const formats::CifarRecords& got, size_t k, uint64_t r, int classes) {
  EXPECT_EQ(got.labels[k], r % static_cast<uint64_t>(classes)) << "record " << r;
  for (int c = 0; c < 3; ++c)
    for (int p = 0; p < 1024; ++p)
      ASSERT_EQ(got.pixels[k * kCifarPixels + static_cast<size_t>(c * 1024 + p)], pixel_value(r, c, p))
          << "record " << r << " channel " << c << " pixel " << p;
}

TEST(Cifar, ReadsChosenRecordsExactly) {
  TempDir tmp;
  const std::string path = tmp.path("tiny.bin");
  write_bytes(path, make_records(7, 1, 10));
  const formats::CifarSource src = open_cifar(path, false);
  EXPECT_EQ(src.records(), 7u);
  EXPECT_EQ(src.label_bytes, 1);
  const std::vector<uint64_t> want{6, 0, 3, 3};
  const formats::CifarRecords got = read_cifar_records(src, want);
  for (size_t k = 0; k < want.size(); ++k) expect_record(got, k, want[k], 10);
  EXPECT_TRUE(throws_error([&] { read_cifar_records(src, {7}); }, ErrorKind::BadInput, {"record 7", "7 records"}));
}

TEST(Cifar, Cifar100LayoutDecidedBySize) {
  TempDir tmp;
  const std::string one = tmp.path("one.bin"), two = tmp.path("two.bin");
  write_bytes(one, make_records(5, 1, 100));
  write_bytes(two, make_records(5, 2, 100));
  const formats::CifarSource s1 = open_cifar(one, true), s2 = open_cifar(two, true);
  EXPECT_EQ(s1.label_bytes, 1);
  EXPECT_EQ(s2.label_bytes, 2);
  expect_record(read_cifar_records(s1, {4}), 0, 4, 100);
  expect_record(read_cifar_records(s2, {4}), 0, 4, 100);  // the fine label is reported
}

// 3073 two-label records = 3074 one-label records: the name decides (cifar.h).
TEST(Cifar, AmbiguousSizeUsesOfficialName) {
  TempDir tmp;
  const std::vector<uint8_t> two = make_records(3073, 2, 100);
  write_bytes(tmp.path("train.bin"), two);
  const formats::CifarSource official = open_cifar(tmp.path("train.bin"), true);
  EXPECT_EQ(official.label_bytes, 2);
  EXPECT_EQ(official.records(), 3073u);
  expect_record(read_cifar_records(official, {3072}), 0, 3072, 100);
  write_bytes(tmp.path("export.bin"), two);
  const formats::CifarSource other = open_cifar(tmp.path("export.bin"), true);
  EXPECT_EQ(other.label_bytes, 1);
  EXPECT_EQ(other.records(), 3074u);
}

TEST(Cifar, SizeErrorsExplainLayout) {
  TempDir tmp;
  const std::string path = tmp.path("odd.bin");
  std::vector<uint8_t> bytes = make_records(2, 1, 10);
  bytes.pop_back();
  write_bytes(path, bytes);
  EXPECT_TRUE(throws_error([&] { open_cifar(path, false); }, ErrorKind::BadInput,
                           {path, "truncated or not a CIFAR-10 file", "size 6145", "multiple of 3073"}));
  EXPECT_TRUE(throws_error([&] { open_cifar(path, true); }, ErrorKind::BadInput,
                           {path, "truncated or not a CIFAR file: size 6145 is not a multiple of 3073 (or 3074)"}));
  write_bytes(path, make_records(2, 2, 100));
  EXPECT_TRUE(
      throws_error([&] { open_cifar(path, false); }, ErrorKind::BadInput, {"multiple of 3074", "cifar100:PATH"}));
  write_bytes(path, {});
  EXPECT_TRUE(throws_error([&] { open_cifar(path, false); }, ErrorKind::BadInput, {path, "empty"}));
  EXPECT_TRUE(throws_error([&] { open_cifar(tmp.path("absent.bin"), false); }, ErrorKind::Io, {"absent.bin"}));
}

TEST(Cifar, LabelOutOfRangeIsReported) {
  TempDir tmp;
  const std::string path = tmp.path("labels.bin");
  std::vector<uint8_t> bytes = make_records(3, 1, 10);
  bytes[3073] = 10;  // record 1
  write_bytes(path, bytes);
  const formats::CifarSource src = open_cifar(path, false);
  EXPECT_NO_THROW(read_cifar_records(src, {0, 2}));
  EXPECT_TRUE(throws_error([&] { read_cifar_records(src, {1}); }, ErrorKind::BadInput,
                           {path, "record 1", "offset 3073", "label < 10", "not a CIFAR-10 file"}));
  bytes = make_records(3, 2, 100);
  bytes[3074 * 2] = 25;  // coarse label of record 2
  write_bytes(path, bytes);
  EXPECT_TRUE(throws_error([&] { read_cifar_records(open_cifar(path, true), {2}); }, ErrorKind::BadInput,
                           {"record 2", "coarse < 20"}));
}

TEST(Cifar, DirectoryMeansOfficialTrainFiles) {
  TempDir tmp;
  const std::filesystem::path sub = std::filesystem::path(tmp.dir()) / "cifar-10-batches-bin";
  std::filesystem::create_directory(sub);
  for (int b = 1; b <= 5; ++b)
    write_bytes((sub / ("data_batch_" + std::to_string(b) + ".bin")).string(),
                make_records(2, 1, 10, static_cast<uint64_t>(b - 1) * 2));
  write_bytes((sub / "test_batch.bin").string(), make_records(3, 1, 10));  // never used
  const formats::CifarSource src = open_cifar(tmp.dir(), false);
  ASSERT_EQ(src.files.size(), 5u);
  EXPECT_EQ(src.records(), 10u);
  const formats::CifarRecords got = read_cifar_records(src, {9, 0, 4});
  expect_record(got, 0, 9, 10);  // record 9 = second record of data_batch_5
  expect_record(got, 1, 0, 10);
  expect_record(got, 2, 4, 10);
  EXPECT_EQ(open_cifar(sub.string(), false).records(), 10u);  // the subfolder itself works too
  std::filesystem::remove(sub / "data_batch_3.bin");
  EXPECT_TRUE(
      throws_error([&] { open_cifar(tmp.dir(), false); }, ErrorKind::BadInput, {"data_batch_3.bin", "missing"}));
  EXPECT_TRUE(throws_error([&] { open_cifar(tmp.dir(), true); }, ErrorKind::BadInput, {tmp.dir(), "train.bin"}));
}

TEST(Cifar, BatchChoiceIsSeededPermutation) {
  const uint64_t n = 1000;
  const std::vector<uint64_t> a = choose_records(n, 128, 1), b = choose_records(n, 128, 1),
                              c = choose_records(n, 128, 2);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_EQ(std::set<uint64_t>(a.begin(), a.end()).size(), a.size()) << "repeated record";
  for (uint64_t r : a) EXPECT_LT(r, n);
  // A full-size choice is a permutation of every record.
  const std::vector<uint64_t> all = choose_records(50, 50, 7);
  EXPECT_EQ(std::set<uint64_t>(all.begin(), all.end()).size(), 50u);
  EXPECT_EQ(choose_records(1, 1, 3), (std::vector<uint64_t>{0}));
  // A prefix of a larger choice with the same seed: the batch does not depend on its size.
  const std::vector<uint64_t> small = choose_records(n, 16, 1);
  EXPECT_TRUE(std::equal(small.begin(), small.end(), a.begin()));
}

// The first record over many seeds is uniform over 10 records: each count within 5 sigma.
TEST(Cifar, BatchChoiceIsUniform) {
  const int trials = 20000, n = 10;
  std::vector<int> count(n, 0);
  for (int s = 0; s < trials; ++s) ++count[choose_records(n, 1, kSeed + static_cast<uint64_t>(s))[0]];
  const double expected = static_cast<double>(trials) / n, sigma = std::sqrt(expected * (1.0 - 1.0 / n));
  for (int r = 0; r < n; ++r)
    EXPECT_NEAR(count[static_cast<size_t>(r)], expected, 5 * sigma)
        << "record " << r << " chosen first " << count[static_cast<size_t>(r)] << " times";
}

std::vector<int> csv_labels(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  std::stringstream header(line);
  std::string col;
  int label_col = -1;
  for (int i = 0; std::getline(header, col, ','); ++i)
    if (col == "label") label_col = i;
  std::vector<int> labels;
  while (std::getline(in, line)) {
    std::stringstream row(line);
    for (int i = 0; std::getline(row, col, ','); ++i)
      if (i == label_col) labels.push_back(std::stoi(col));
  }
  return labels;
}

void check_shared(const std::string& bin, const std::string& csv, bool cifar100, uint64_t records) {
  const formats::CifarSource src = open_cifar(bin, cifar100);
  ASSERT_EQ(src.records(), records);
  EXPECT_EQ(src.label_bytes, 1);
  const std::vector<int> labels = csv_labels(csv);
  ASSERT_EQ(labels.size(), records);
  std::vector<uint64_t> all(records);
  for (uint64_t r = 0; r < records; ++r) all[r] = r;
  const formats::CifarRecords got = read_cifar_records(src, all);
  for (uint64_t r = 0; r < records; ++r) EXPECT_EQ(got.labels[r], labels[r]) << bin << " record " << r;
}

TEST(Cifar, SharedDataLabelsMatchCsv) {
  const std::string dir = shared_data_dir();
  if (dir.empty()) GTEST_SKIP() << "NASWOT_SHARED_DATA (../shared/data) is absent: real CIFAR files not checked";
  check_shared(dir + "/cifar10/cifar10_test_eembc200.bin", dir + "/cifar10/cifar10_test_eembc200_labels.csv", false,
               200);
  check_shared(dir + "/cifar10/cifar10_test_first20.bin", dir + "/cifar10/cifar10_test_first20_labels.csv", false, 20);
  check_shared(dir + "/cifar100/cifar100_test_first20.bin", dir + "/cifar100/cifar100_test_first20_labels.csv", true,
               20);
}

}  // namespace
}  // namespace naswot::test
