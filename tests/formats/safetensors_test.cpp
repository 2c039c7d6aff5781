// safetensors reader/writer: round trips of random tensor sets (names, ranks, shapes from
// kSeed), the layout the reference library expects (8-byte aligned header, contiguous offsets
// in the requested order), the non-F32 dtypes against independently built bytes, and every
// malformed case the reader validates, each asserting the error kind and that the message names
// the file and the culprit. Prefix truncation and random corruption must never crash.
#include "tools/formats/safetensors.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>
#include <random>

#include "formats/format_test_util.h"

namespace naswot::test {
namespace {

using formats::read_safetensors;
using formats::read_safetensors_file;
using formats::write_safetensors;

// A file from a literal header and raw data bytes (header unpadded unless the text is).
std::vector<uint8_t> make_file(const std::string& header, const std::vector<uint8_t>& data) {
  std::vector<uint8_t> out;
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(static_cast<uint64_t>(header.size()) >> (8 * i)));
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

template <class T>
std::vector<uint8_t> raw(const std::vector<T>& v) {
  std::vector<uint8_t> b(v.size() * sizeof(T));
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

rt::Params random_params(std::mt19937& rng, std::vector<std::string>& order) {
  rt::Params p;
  const int count = 1 + static_cast<int>(rng() % 6);
  for (int t = 0; t < count; ++t) {
    rt::ParamTensor tensor;
    const int rank = static_cast<int>(rng() % 5);                                            // 0-D scalars included
    for (int d = 0; d < rank; ++d) tensor.shape.push_back(static_cast<int64_t>(rng() % 5));  // zero dims included
    tensor.data = random_normal(static_cast<size_t>(tensor.numel()), 0.0, 3.0, static_cast<uint32_t>(rng()));
    const std::string name = "cells." + std::to_string(t) + ".op" + std::to_string(rng() % 1000) + ".weight";
    order.insert(order.begin() + static_cast<long>(rng() % (order.size() + 1)), name);  // order != name order
    p.set(name, std::move(tensor));
  }
  return p;
}

TEST(Safetensors, RoundTripRandomSets) {
  TempDir tmp;
  std::mt19937 rng(kSeed);
  for (int trial = 0; trial < 40; ++trial) {
    std::vector<std::string> order;
    const rt::Params params = random_params(rng, order);
    const std::string path = tmp.path("t" + std::to_string(trial) + ".safetensors");
    write_safetensors(path, params, order, {{"format", "pt"}, {"trial", std::to_string(trial)}});
    const formats::SafetensorsFile f = read_safetensors_file(path);
    ASSERT_EQ(f.params.size(), params.size());
    for (const auto& [name, tp] : params.all()) {
      const rt::ParamTensor& t = *tp;
      ASSERT_TRUE(f.params.has(name)) << name;
      const rt::ParamTensor& got = f.params.at(name);
      EXPECT_EQ(got.shape, t.shape) << name;
      ASSERT_EQ(got.data.size(), t.data.size()) << name;
      EXPECT_TRUE(all_equal(got.data.data(), t.data.data(), t.data.size())) << name;
    }
    EXPECT_EQ(f.metadata.at("format"), "pt");
    EXPECT_EQ(f.metadata.at("trial"), std::to_string(trial));
    // Zero-size tensors share an offset with their neighbour, so compare the non-empty order.
    std::vector<std::string> nonempty_order, nonempty_read;
    for (const auto& n : order)
      if (params.at(n).numel()) nonempty_order.push_back(n);
    for (const auto& n : f.order)
      if (params.at(n).numel()) nonempty_read.push_back(n);
    EXPECT_EQ(nonempty_read, nonempty_order);
  }
}

// What the reference library checks: header length aligned, offsets contiguous from 0 in the
// requested order and covering the whole data area, F32 little-endian payload.
TEST(Safetensors, WrittenLayoutIsWhatReferenceReadersExpect) {
  TempDir tmp;
  rt::Params p;
  p.set("b", {{3}, {1.0f, 2.0f, 3.0f}});
  p.set("a", {{2, 2}, {4.0f, 5.0f, 6.0f, 7.0f}});
  p.set("c", {{}, {8.0f}});
  const std::string path = tmp.path("layout.safetensors");
  write_safetensors(path, p, {"c", "b", "a"});
  const std::vector<uint8_t> bytes = read_bytes(path);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | bytes[static_cast<size_t>(i)];
  EXPECT_EQ(n % 8, 0u);
  const std::string header(bytes.begin() + 8, bytes.begin() + 8 + static_cast<long>(n));
  const auto j = nlohmann::json::parse(header);  // trailing spaces are JSON whitespace
  EXPECT_FALSE(j.contains("__metadata__"));
  uint64_t expect_begin = 0;
  for (const char* name : {"c", "b", "a"}) {
    const auto& off = j.at(name).at("data_offsets");
    EXPECT_EQ(off[0].get<uint64_t>(), expect_begin) << name;
    expect_begin += static_cast<uint64_t>(p.at(name).numel()) * 4;
    EXPECT_EQ(off[1].get<uint64_t>(), expect_begin) << name;
    EXPECT_EQ(j.at(name).at("dtype"), "F32");
    EXPECT_EQ(j.at(name).at("shape").get<std::vector<int64_t>>(), p.at(name).shape);
  }
  EXPECT_EQ(bytes.size(), 8 + n + expect_begin);
  float first;
  std::memcpy(&first, bytes.data() + 8 + n, 4);
  EXPECT_EQ(first, 8.0f);
}

TEST(Safetensors, WriteRejectsBadOrder) {
  TempDir tmp;
  rt::Params p;
  p.set("x", {{1}, {1.0f}});
  p.set("y", {{1}, {2.0f}});
  const std::string path = tmp.path("o.safetensors");
  EXPECT_TRUE(throws_error([&] { write_safetensors(path, p, {"x"}); }, ErrorKind::BadInput, {path, "'y'", "missing"}));
  EXPECT_TRUE(throws_error(
      [&] {
        write_safetensors(path, p, {"x", "y", "x"});
      },
      ErrorKind::BadInput, {"'x'", "twice"}));
  EXPECT_TRUE(throws_error([&] { write_safetensors(path, p, {"x", "z"}); }, ErrorKind::BadInput, {"'z'"}));
  write_safetensors(path, p, {});  // empty order: name order
  EXPECT_EQ(read_safetensors_file(path).order, (std::vector<std::string>{"x", "y"}));
}

TEST(Safetensors, ReadsOtherDtypesExactly) {
  TempDir tmp;
  const std::vector<double> f64{1.5, -2.25, 1e-3, 3.0e38};
  const std::vector<uint16_t> f16{0x3C00, 0xC000, 0x0001, 0x7BFF, 0x8000, 0x3555};  // 1, -2, 2^-24, 65504, -0, ~1/3
  const std::vector<uint16_t> bf16{0x3F80, 0xC0A0, 0x0001};                         // 1, -5, smallest subnormal
  const std::vector<int64_t> i64{0, 7, -16777216};
  const std::vector<int32_t> i32{3, -4};
  std::vector<uint8_t> data;
  for (const auto& part : {raw(f64), raw(f16), raw(bf16), raw(i64), raw(i32)})
    data.insert(data.end(), part.begin(), part.end());
  const std::string header = R"({"d":{"dtype":"F64","shape":[2,2],"data_offsets":[0,32]},)"
                             R"("h":{"dtype":"F16","shape":[6],"data_offsets":[32,44]},)"
                             R"("b":{"dtype":"BF16","shape":[3],"data_offsets":[44,50]},)"
                             R"("n":{"dtype":"I64","shape":[3],"data_offsets":[50,74]},)"
                             R"("m":{"dtype":"I32","shape":[1,2],"data_offsets":[74,82]}})";
  const std::string path = tmp.path("dtypes.safetensors");
  write_bytes(path, make_file(header, data));
  const rt::Params p = read_safetensors(path);
  for (size_t i = 0; i < f64.size(); ++i) EXPECT_EQ(p.at("d").data[i], static_cast<float>(f64[i])) << i;
  const std::vector<float> half_ref{1.0f, -2.0f, std::ldexp(1.0f, -24), 65504.0f, -0.0f, 0x1.554p-2f};
  for (size_t i = 0; i < half_ref.size(); ++i) EXPECT_EQ(p.at("h").data[i], half_ref[i]) << i;
  EXPECT_TRUE(std::signbit(p.at("h").data[4]));
  const std::vector<float> bf_ref{1.0f, -5.0f, std::ldexp(1.0f, -133)};
  for (size_t i = 0; i < bf_ref.size(); ++i) EXPECT_EQ(p.at("b").data[i], bf_ref[i]) << i;
  EXPECT_EQ(p.at("n").data, (std::vector<float>{0.0f, 7.0f, -16777216.0f}));
  EXPECT_EQ(p.at("m").data, (std::vector<float>{3.0f, -4.0f}));
  EXPECT_EQ(p.at("m").shape, (std::vector<int64_t>{1, 2}));
}

TEST(Safetensors, HalfConversionCoversAllClasses) {
  EXPECT_TRUE(std::isinf(formats::half_to_float(0x7C00)));
  EXPECT_TRUE(std::isnan(formats::half_to_float(0x7E00)));
  EXPECT_EQ(formats::half_to_float(0x0400), std::ldexp(1.0f, -14));            // smallest normal
  EXPECT_EQ(formats::half_to_float(0x03FF), 1023.0f * std::ldexp(1.0f, -24));  // largest subnormal
}

struct BadCase {
  const char* what;
  std::string header;
  size_t data_bytes;
  std::vector<std::string> needles;  // besides the file name
};

TEST(Safetensors, MalformedHeadersNameFileAndCulprit) {
  TempDir tmp;
  const std::string ok = R"("w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
  const std::vector<BadCase> cases = {
      {"bad json", "{" + ok + ",}", 8, {"not valid JSON", "byte"}},
      {"not object", "[1,2]", 8, {"expected a JSON object"}},
      {"entry not object", R"({"w":[1]})", 8, {"'w'", "expected an object"}},
      {"missing dtype", R"({"w":{"shape":[2],"data_offsets":[0,8]}})", 8, {"'w'", "dtype"}},
      {"missing offsets", R"({"w":{"dtype":"F32","shape":[2]}})", 8, {"'w'", "data_offsets"}},
      {"unknown dtype",
       R"({"w":{"dtype":"F8_E4M3","shape":[8],"data_offsets":[0,8]}})",
       8,
       {"'w'", "F8_E4M3", "not supported"}},
      {"dtype not string",
       R"({"w":{"dtype":4,"shape":[2],"data_offsets":[0,8]}})",
       8,
       {"'w'", "dtype must be a string"}},
      {"negative dim",
       R"({"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})",
       8,
       {"'w'", "non-negative integer"}},
      {"float dim", R"({"w":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}})", 8, {"'w'", "non-negative integer"}},
      {"shape not array",
       R"({"w":{"dtype":"F32","shape":2,"data_offsets":[0,8]}})",
       8,
       {"'w'", "shape must be an array"}},
      {"offsets arity", R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0]}})", 8, {"'w'", "[begin, end]"}},
      {"offsets past data",
       R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
       8,
       {"'w'", "[4, 12]", "outside"}},
      {"begin after end", R"({"w":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})", 8, {"'w'", "[8, 0]"}},
      {"shape vs span", R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 12, {"'w'", "needs 12"}},
      {"huge shape",
       R"({"w":{"dtype":"F64","shape":[2000000000,2000000000,4],"data_offsets":[0,8]}})",
       8,
       {"'w'", "more than the file"}},
      {"overlap",
       R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"v":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
       12,
       {"'v'", "'w'", "overlap"}},
      {"duplicate tensor", "{" + ok + "," + ok + "}", 8, {"duplicate key 'w'", "same name"}},
      {"duplicate field",
       R"({"w":{"dtype":"F32","dtype":"F32","shape":[2],"data_offsets":[0,8]}})",
       8,
       {"duplicate key 'dtype'"}},
      {"metadata not object", R"({"__metadata__":3,)" + ok + "}", 8, {"__metadata__"}},
      {"metadata value", R"({"__metadata__":{"k":1},)" + ok + "}", 8, {"__metadata__", "'k'", "string"}},
      {"too deep", "{\"a\":[[[[[[[[[[1]]]]]]]]]]}", 0, {"deeper"}},
  };
  for (const BadCase& c : cases) {
    const std::string path = tmp.path("bad.safetensors");
    write_bytes(path, make_file(c.header, std::vector<uint8_t>(c.data_bytes, 0)));
    std::vector<std::string> needles = c.needles;
    needles.push_back(path);
    EXPECT_TRUE(throws_error([&] { read_safetensors(path); }, ErrorKind::BadInput, needles)) << c.what;
  }
}

TEST(Safetensors, NonFiniteAndInexactValuesNameTensorAndElement) {
  TempDir tmp;
  const std::string path = tmp.path("nan.safetensors");
  write_bytes(path, make_file(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}})",
                              raw(std::vector<float>{1.0f, NAN, 2.0f})));
  EXPECT_TRUE(throws_error([&] { read_safetensors(path); }, ErrorKind::BadInput, {path, "'w'", "element 1", "finite"}));
  write_bytes(path,
              make_file(R"({"d":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}})", raw(std::vector<double>{1e300})));
  EXPECT_TRUE(
      throws_error([&] { read_safetensors(path); }, ErrorKind::BadInput, {path, "'d'", "element 0", "overflows"}));
  write_bytes(path, make_file(R"({"n":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}})",
                              raw(std::vector<int64_t>{(int64_t{1} << 24) + 1})));
  EXPECT_TRUE(
      throws_error([&] { read_safetensors(path); }, ErrorKind::BadInput, {path, "'n'", "exactly representable"}));
}

TEST(Safetensors, HeaderLengthChecks) {
  TempDir tmp;
  const std::string path = tmp.path("len.safetensors");
  write_bytes(path, {1, 2, 3});
  EXPECT_TRUE(throws_error([&] { read_safetensors(path); }, ErrorKind::BadInput, {path, "8-byte header length"}));
  std::vector<uint8_t> f = make_file("{}", {});
  f[0] = 200;  // claims 200 header bytes, 2 present
  write_bytes(path, f);
  EXPECT_TRUE(
      throws_error([&] { read_safetensors(path); }, ErrorKind::BadInput, {path, "header length 200", "truncated"}));
  f[0] = 0xFF;
  f[7] = 0xFF;  // ~2^64
  write_bytes(path, f);
  EXPECT_TRUE(throws_error([&] { read_safetensors(path); }, ErrorKind::BadInput, {path, "header length"}));
  EXPECT_TRUE(
      throws_error([&] { read_safetensors(tmp.path("absent.safetensors")); }, ErrorKind::Io, {"absent.safetensors"}));
  EXPECT_TRUE(throws_error([&] { read_safetensors(tmp.dir()); }, ErrorKind::Io, {"directory"}));
  write_bytes(path, make_file("{}", {}));
  EXPECT_EQ(read_safetensors(path).size(), 0u);  // an empty set is valid
}

TEST(Safetensors, EveryPrefixIsRejected) {
  TempDir tmp;
  rt::Params p;
  p.set("conv.weight", {{2, 1, 2, 2}, random_normal(8, 0, 1, kSeed + 1)});
  p.set("bn.bias", {{2}, {0.5f, -0.5f}});
  const std::string good = tmp.path("good.safetensors");
  write_safetensors(good, p, {"conv.weight", "bn.bias"}, {{"k", "v"}});
  expect_every_prefix_rejected(read_bytes(good), tmp.path("cut.safetensors"),
                               [](const std::string& f) { read_safetensors(f); });
}

TEST(Safetensors, RandomCorruptionNeverCrashes) {
  TempDir tmp;
  rt::Params p;
  p.set("a", {{3, 2}, random_normal(6, 0, 1, kSeed + 2)});
  p.set("b", {{4}, random_normal(4, 0, 1, kSeed + 3)});
  const std::string good = tmp.path("good.safetensors");
  write_safetensors(good, p, {"a", "b"});
  const std::vector<uint8_t> bytes = read_bytes(good);
  const int rejected = corrupt_and_read(bytes, tmp.path("bad.safetensors"), 400, kSeed + 4,
                                        [](const std::string& f) { read_safetensors(f); });
  EXPECT_GT(rejected, 0);  // corruption of the header must be caught at least sometimes
}

}  // namespace
}  // namespace naswot::test
