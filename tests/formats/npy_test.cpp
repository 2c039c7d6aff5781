// .npy reader/writer: round trips (float32 and uint8, ranks 0..4), the writer's header is
// byte-identical to what NumPy 1.24 np.save writes (strings recorded from np.save), version 2.0
// and 3.0 headers, and each rejection (magic, version, dtype, Fortran order, shape, truncation,
// trailing bytes, NaN/Inf with flat index and (n, c, h, w) position). Prefix truncation and
// random corruption must never crash.
#include "tools/formats/npy.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "formats/format_test_util.h"

namespace naswot::test {
namespace {

using formats::read_npy;
using formats::write_npy_f32;
using formats::write_npy_u8;

// A v1/v2/v3 file from a header dict text (padded here to 64-byte alignment plus '\n').
std::vector<uint8_t> make_npy(int major, std::string dict, const std::vector<uint8_t>& data) {
  const size_t prefix = major == 1 ? 10 : 12;
  dict.append((64 - (prefix + dict.size() + 1) % 64) % 64, ' ');
  dict += '\n';
  std::vector<uint8_t> out = {0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<uint8_t>(major), 0};
  for (size_t i = 0; i < prefix - 8; ++i) out.push_back(static_cast<uint8_t>(dict.size() >> (8 * i)));
  out.insert(out.end(), dict.begin(), dict.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

std::vector<uint8_t> float_bytes(const std::vector<float>& v) {
  std::vector<uint8_t> b(v.size() * 4);
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

TEST(Npy, RoundTripFloat32AndUint8) {
  TempDir tmp;
  const std::vector<std::vector<int64_t>> shapes = {{}, {5}, {2, 3}, {1, 3, 4, 4}, {3, 3, 2, 5}, {0, 3, 2, 2}};
  uint32_t seed = kSeed;
  for (const auto& shape : shapes) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    const std::vector<float> f = random_normal(static_cast<size_t>(n), 0, 10, seed++);
    const std::string path = tmp.path("f.npy");
    write_npy_f32(path, shape, f);
    const formats::NpyArray a = read_npy(path);
    EXPECT_EQ(a.shape, shape);
    EXPECT_EQ(a.dtype, "<f4");
    ASSERT_EQ(a.f32.size(), f.size());
    EXPECT_TRUE(all_equal(a.f32.data(), f.data(), f.size()));
    EXPECT_TRUE(a.u8.empty());
    EXPECT_EQ(read_bytes(path).size() % 64, static_cast<size_t>(n * 4) % 64) << "header not 64-byte aligned";

    std::vector<uint8_t> u(static_cast<size_t>(n));
    for (size_t i = 0; i < u.size(); ++i) u[i] = static_cast<uint8_t>(i * 37 + 11);
    write_npy_u8(path, shape, u);
    const formats::NpyArray b = read_npy(path);
    EXPECT_EQ(b.shape, shape);
    EXPECT_EQ(b.dtype, "|u1");
    EXPECT_EQ(b.u8, u);
  }
}

// Headers as NumPy 1.24's np.save writes them (copied from its output for these arrays).
TEST(Npy, WriterHeaderMatchesNumpy) {
  TempDir tmp;
  const std::string path = tmp.path("h.npy");
  auto header_of = [&] {
    const std::vector<uint8_t> b = read_bytes(path);
    return std::string(b.begin() + 10, b.begin() + 10 + (b[8] | (b[9] << 8)));
  };
  auto padded = [](std::string s) { return s + std::string(118 - s.size() - 1, ' ') + "\n"; };
  write_npy_f32(path, {1, 3, 2, 2}, std::vector<float>(12));
  EXPECT_EQ(header_of(), padded("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 2, 2), }"));
  write_npy_u8(path, {5}, std::vector<uint8_t>(5));
  EXPECT_EQ(header_of(), padded("{'descr': '|u1', 'fortran_order': False, 'shape': (5,), }"));
  write_npy_f32(path, {}, {1.0f});
  EXPECT_EQ(header_of(), padded("{'descr': '<f4', 'fortran_order': False, 'shape': (), }"));
  EXPECT_TRUE(throws_error(
      [&] {
        write_npy_f32(path, {2, 2}, std::vector<float>(3));
      },
      ErrorKind::BadInput, {path, "3 values"}));
}

TEST(Npy, ReadsVersions2And3AndHeaderVariants) {
  TempDir tmp;
  const std::string path = tmp.path("v.npy");
  const std::vector<float> v{1, 2, 3, 4, 5, 6};
  for (int major : {1, 2, 3}) {
    write_bytes(path,
                make_npy(major, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 1, 2), }", float_bytes(v)));
    const formats::NpyArray a = read_npy(path);
    EXPECT_EQ(a.shape, (std::vector<int64_t>{1, 3, 1, 2})) << "version " << major;
    EXPECT_EQ(a.f32, v);
  }
  // Key order, double quotes, no trailing comma, Python 2 long suffix: all valid dict literals.
  write_bytes(path, make_npy(1, "{\"shape\": (2L, 3L), \"fortran_order\": False, \"descr\": \"<f4\"}", float_bytes(v)));
  EXPECT_EQ(read_npy(path).shape, (std::vector<int64_t>{2, 3}));
}

TEST(Npy, RejectsWithFieldAndReason) {
  TempDir tmp;
  const std::string path = tmp.path("bad.npy");
  const std::vector<uint8_t> d24(24, 0);
  struct Case {
    const char* what;
    std::vector<uint8_t> bytes;
    std::vector<std::string> needles;
  };
  std::vector<uint8_t> bad_magic = make_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }", d24);
  bad_magic[1] = 'X';
  std::vector<uint8_t> bad_version = make_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }", d24);
  bad_version[6] = 4;
  const std::vector<Case> cases = {
      {"magic", bad_magic, {"not a .npy file"}},
      {"version", bad_version, {"version 4.0", "1.0, 2.0 or 3.0"}},
      {"float64",
       make_npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", d24),
       {"'<f8'", "astype(np.float32)"}},
      {"big endian",
       make_npy(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (6,), }", d24),
       {"'>f4'", "not supported"}},
      {"fortran",
       make_npy(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", d24),
       {"fortran_order", "C-order"}},
      {"no shape", make_npy(1, "{'descr': '<f4', 'fortran_order': False, }", d24), {"'shape'"}},
      {"shape not tuple",
       make_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': '6', }", d24),
       {"'shape'", "tuple"}},
      {"negative dim",
       make_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (-6,), }", d24),
       {"header byte", "non-negative"}},
      {"structured",
       make_npy(1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (6,), }", d24),
       {"header byte", "structured"}},
      {"fortran not bool", make_npy(1, "{'descr': '<f4', 'fortran_order': 0, 'shape': (6,), }", d24), {"header byte"}},
      {"unterminated", make_npy(1, "{'descr': '<f4, 'fortran_order': False, 'shape': (6,), }", d24), {"header byte"}},
      {"duplicate key",
       make_npy(1, "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (6,), }", d24),
       {"duplicate key 'descr'"}},
      {"too short",
       make_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (7,), }", d24),
       {"needs 28", "truncated"}},
      {"trailing",
       make_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }", d24),
       {"needs 20", "trailing"}},
      {"huge shape",
       make_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4000000000, 4000000000, 4000000000), }", d24),
       {"needs more"}},
      {"overflow dim",
       make_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", d24),
       {"too large"}},
  };
  for (const Case& c : cases) {
    write_bytes(path, c.bytes);
    std::vector<std::string> needles = c.needles;
    needles.push_back(path);
    EXPECT_TRUE(throws_error([&] { read_npy(path); }, ErrorKind::BadInput, needles)) << c.what;
  }
  EXPECT_TRUE(throws_error([&] { read_npy(tmp.path("absent.npy")); }, ErrorKind::Io, {"absent.npy"}));
}

TEST(Npy, NonFiniteValueNamesFlatIndexAndPosition) {
  TempDir tmp;
  const std::string path = tmp.path("nan.npy");
  const std::vector<int64_t> shape{2, 3, 4, 5};
  std::vector<float> v(120, 0.25f);
  const size_t flat = ((1 * 3 + 2) * 4 + 3) * 5 + 1;  // (n, c, h, w) = (1, 2, 3, 1)
  v[flat] = NAN;
  write_npy_f32(path, shape, v);
  EXPECT_TRUE(throws_error([&] { read_npy(path); }, ErrorKind::BadInput,
                           {path, "element " + std::to_string(flat), "(1, 2, 3, 1) = (n, c, h, w)", "finite"}));
  v[flat] = 0;
  v[7] = -INFINITY;
  write_npy_f32(path, shape, v);
  EXPECT_TRUE(throws_error([&] { read_npy(path); }, ErrorKind::BadInput, {"element 7", "(0, 0, 1, 2)", "-inf"}));
}

TEST(Npy, EveryPrefixIsRejected) {
  TempDir tmp;
  const std::string good = tmp.path("good.npy");
  write_npy_f32(good, {1, 3, 2, 2}, random_normal(12, 0, 1, kSeed + 5));
  expect_every_prefix_rejected(read_bytes(good), tmp.path("cut.npy"), [](const std::string& f) { read_npy(f); });
  write_bytes(good, make_npy(2, "{'descr': '|u1', 'fortran_order': False, 'shape': (1, 3, 2, 2), }",
                             std::vector<uint8_t>(12, 7)));
  expect_every_prefix_rejected(read_bytes(good), tmp.path("cut.npy"), [](const std::string& f) { read_npy(f); });
}

TEST(Npy, RandomCorruptionNeverCrashes) {
  TempDir tmp;
  const std::string good = tmp.path("good.npy");
  write_npy_f32(good, {2, 3, 2, 2}, random_normal(24, 0, 1, kSeed + 6));
  const std::vector<uint8_t> bytes = read_bytes(good);
  // Corrupt only the first 128 bytes (the header) half the time, anywhere otherwise.
  const std::vector<uint8_t> header(bytes.begin(), bytes.begin() + 128);
  int rejected =
      corrupt_and_read(bytes, tmp.path("bad.npy"), 300, kSeed + 7, [](const std::string& f) { read_npy(f); });
  std::vector<uint8_t> tail(bytes.begin() + 128, bytes.end());
  for (int t = 0; t < 300; ++t) {
    std::vector<uint8_t> h = header;
    std::mt19937 rng(kSeed + 100 + static_cast<uint32_t>(t));
    h[rng() % h.size()] = static_cast<uint8_t>(rng());
    h.insert(h.end(), tail.begin(), tail.end());
    write_bytes(tmp.path("bad.npy"), h);
    try {
      read_npy(tmp.path("bad.npy"));
    } catch (const Error&) {
      ++rejected;
    } catch (const std::exception& e) {
      ADD_FAILURE() << "trial " << t << ": non-naswot exception " << e.what();
    }
  }
  EXPECT_GT(rejected, 0);
}

}  // namespace
}  // namespace naswot::test
