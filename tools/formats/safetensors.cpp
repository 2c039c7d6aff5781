// safetensors reader/writer (format summary in safetensors.h).
// Reading validates, in order: file at least 8 bytes; header length within the file and below
// kMaxHeaderBytes; JSON syntax (nlohmann, with the byte position of the error); no duplicate
// key in any object (nlohmann would silently keep the last one, so a parse callback tracks
// the keys of every open object); each entry's dtype/shape/data_offsets; begin <= end within
// the data area; end - begin == numel * itemsize; no two tensors overlapping. Gaps between
// tensors are tolerated (they hold no tensor); the reference writer never produces them.
#include "tools/formats/safetensors.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "runtime/error.h"
#include "tools/formats/binary_io.h"

namespace naswot::formats {

namespace {

using json = nlohmann::json;
using ordered_json = nlohmann::ordered_json;

constexpr uint64_t kMaxHeaderBytes = 100u << 20;  // the reference library's limit
constexpr int kMaxJsonDepth = 8;                  // valid headers nest 3 deep
const char* const kMetadataKey = "__metadata__";
const char* const kDtypes = "F32, F64, F16, BF16, I64, I32";
constexpr int64_t kMaxExactInt = int64_t{1} << 24;  // every integer up to 2^24 is a float32

struct Entry {
  std::string name;
  std::string dtype;
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;
};

size_t dtype_size(const std::string& dtype) {
  if (dtype == "F32" || dtype == "I32") return 4;
  if (dtype == "F64" || dtype == "I64") return 8;
  if (dtype == "F16" || dtype == "BF16") return 2;
  return 0;
}

// Parse with syntax errors turned into BadInput and duplicate keys detected.
json parse_header(const std::string& path, const std::string& text) {
  std::vector<std::set<std::string>> open;  // keys seen in each open object (arrays: unused set)
  std::string duplicate;
  int duplicate_depth = 0;
  auto callback = [&](int depth, json::parse_event_t event, json& parsed) {
    if (depth > kMaxJsonDepth)
      throw_error(ErrorKind::BadInput, path + ": header: JSON nests deeper than " + std::to_string(kMaxJsonDepth) +
                                           " levels; a safetensors header nests 3");
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        open.emplace_back();
        break;
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        if (!open.empty()) open.pop_back();
        break;
      case json::parse_event_t::key:
        if (!open.empty() && !open.back().insert(parsed.get<std::string>()).second && duplicate.empty()) {
          duplicate = parsed.get<std::string>();
          duplicate_depth = depth;
        }
        break;
      case json::parse_event_t::value:
        break;
    }
    return true;
  };
  json header;
  try {
    header = json::parse(text, callback);
  } catch (const json::parse_error& e) {
    throw_error(ErrorKind::BadInput, path + ": header is not valid JSON at byte " + std::to_string(e.byte) + " of " +
                                         std::to_string(text.size()) + " (" + e.what() + ")");
  }
  NASWOT_EXPECT(duplicate.empty(), BadInput,
                path << ": header: duplicate key '" << duplicate << "'"
                     << (duplicate_depth == 1 ? " (two tensors with the same name)" : " inside an entry"));
  NASWOT_EXPECT(header.is_object(), BadInput,
                path << ": header: expected a JSON object of tensors, got " << header.type_name());
  return header;
}

uint64_t get_unsigned(const std::string& where, const json& v, const char* what) {
  NASWOT_EXPECT(v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0), BadInput,
                where << ": " << what << " must be a non-negative integer, got " << v.dump());
  return v.get<uint64_t>();
}

Entry parse_entry(const std::string& path, const std::string& name, const json& v) {
  const std::string where = path + ": tensor '" + name + "'";
  NASWOT_EXPECT(v.is_object(), BadInput,
                where << ": expected an object {dtype, shape, data_offsets}, got " << v.dump());
  for (const char* key : {"dtype", "shape", "data_offsets"})
    NASWOT_EXPECT(v.contains(key), BadInput, where << ": missing field '" << key << "'");
  Entry e;
  e.name = name;
  NASWOT_EXPECT(v["dtype"].is_string(), BadInput, where << ": dtype must be a string, got " << v["dtype"].dump());
  e.dtype = v["dtype"].get<std::string>();
  NASWOT_EXPECT(dtype_size(e.dtype) != 0, BadInput,
                where << ": dtype '" << e.dtype << "' is not supported (expected one of " << kDtypes << ")");
  NASWOT_EXPECT(v["shape"].is_array(), BadInput, where << ": shape must be an array, got " << v["shape"].dump());
  for (const json& d : v["shape"]) {
    const uint64_t dim = get_unsigned(where, d, "shape dimension");
    NASWOT_EXPECT(dim <= static_cast<uint64_t>(std::numeric_limits<int32_t>::max()), BadInput,
                  where << ": shape dimension " << dim << " is too large");
    e.shape.push_back(static_cast<int64_t>(dim));
  }
  const json& off = v["data_offsets"];
  NASWOT_EXPECT(off.is_array() && off.size() == 2, BadInput,
                where << ": data_offsets must be [begin, end], got " << off.dump());
  e.begin = get_unsigned(where, off[0], "data_offsets[0]");
  e.end = get_unsigned(where, off[1], "data_offsets[1]");
  return e;
}

// numel * itemsize, or UINT64_MAX when it exceeds `limit` (so no overflow is possible).
uint64_t expected_bytes(const Entry& e, uint64_t limit) {
  for (int64_t d : e.shape)
    if (d == 0) return 0;
  uint64_t bytes = dtype_size(e.dtype);
  for (int64_t d : e.shape) {
    if (bytes > limit / static_cast<uint64_t>(d)) return std::numeric_limits<uint64_t>::max();
    bytes *= static_cast<uint64_t>(d);
  }
  return bytes;
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

template <typename T>
T load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

using Decode = double (*)(const uint8_t*);

Decode decoder(const std::string& dtype) {
  if (dtype == "F32") return [](const uint8_t* q) { return static_cast<double>(load<float>(q)); };
  if (dtype == "F64") return [](const uint8_t* q) { return load<double>(q); };
  if (dtype == "F16") return [](const uint8_t* q) { return static_cast<double>(half_to_float(load<uint16_t>(q))); };
  if (dtype == "BF16")
    return [](const uint8_t* q) { return static_cast<double>(bfloat16_to_float(load<uint16_t>(q))); };
  if (dtype == "I32") return [](const uint8_t* q) { return static_cast<double>(load<int32_t>(q)); };
  return [](const uint8_t* q) { return static_cast<double>(load<int64_t>(q)); };  // I64 (validated dtype)
}

rt::ParamTensor convert(const std::string& path, const Entry& e, const uint8_t* p) {
  rt::ParamTensor t;
  t.shape = e.shape;
  const size_t n = static_cast<size_t>(t.numel());
  t.data.resize(n);
  const size_t w = dtype_size(e.dtype);
  const Decode decode = decoder(e.dtype);
  const bool integer = e.dtype[0] == 'I';
  for (size_t i = 0; i < n; ++i) {
    const double value = decode(p + i * w);  // every supported dtype is exact in double (I64 up to 2^53)
    // Integers (BN num_batches_tracked in a PyTorch state_dict) must be exact in float32.
    NASWOT_EXPECT(!integer || std::fabs(value) <= kMaxExactInt, BadInput,
                  path << ": tensor '" << e.name << "' element " << i << ": " << e.dtype << " value " << value
                       << " is not exactly representable as float32 (expected |value| <= 2^24)");
    NASWOT_EXPECT(
        std::isfinite(value), BadInput,
        path << ": tensor '" << e.name << "' element " << i << " is " << value << "; expected a finite value");
    t.data[i] = static_cast<float>(value);
    NASWOT_EXPECT(std::isfinite(t.data[i]), BadInput,
                  path << ": tensor '" << e.name << "' element " << i << " = " << value << " overflows float32");
  }
  return t;
}

}  // namespace

float half_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h >> 15) << 31;
  const uint32_t exp = (h >> 10) & 0x1Fu;
  const uint32_t mant = h & 0x3FFu;
  float magnitude;
  if (exp == 0)
    magnitude = std::ldexp(static_cast<float>(mant), -24);  // zero / subnormal: mant * 2^-24
  else if (exp == 31)
    magnitude = mant ? std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::infinity();
  else
    magnitude = std::ldexp(static_cast<float>(mant | 0x400u), static_cast<int>(exp) - 25);
  return sign ? -magnitude : magnitude;
}

float bfloat16_to_float(uint16_t bits) { return std::bit_cast<float>(static_cast<uint32_t>(bits) << 16); }

SafetensorsFile read_safetensors_file(const std::string& path) {
  const uint64_t size = file_size(path);
  NASWOT_EXPECT(size >= 8, BadInput,
                path << ": file is " << size << " bytes; a safetensors file starts with an 8-byte header length");
  const uint64_t header_len = load_u64_le(read_file_range(path, 0, 8).data());
  NASWOT_EXPECT(header_len <= size - 8, BadInput,
                path << ": header length " << header_len << " (bytes 0..7) exceeds the " << size - 8
                     << " bytes after it: truncated or not a safetensors file");
  NASWOT_EXPECT(header_len <= kMaxHeaderBytes, BadInput,
                path << ": header length " << header_len << " exceeds the " << kMaxHeaderBytes << "-byte limit");
  const std::vector<uint8_t> bytes = read_file_bytes(path);
  NASWOT_EXPECT(bytes.size() == size, Io, path << ": file changed size while being read");
  const json header =
      parse_header(path, std::string(bytes.begin() + 8, bytes.begin() + 8 + static_cast<ptrdiff_t>(header_len)));
  const uint64_t data_size = size - 8 - header_len;
  const uint8_t* data = bytes.data() + 8 + header_len;

  SafetensorsFile out;
  std::vector<Entry> entries;
  for (const auto& [name, value] : header.items()) {
    if (name == kMetadataKey) {
      NASWOT_EXPECT(value.is_object(), BadInput,
                    path << ": header: __metadata__ must be an object, got " << value.dump());
      for (const auto& [k, v] : value.items()) {
        NASWOT_EXPECT(v.is_string(), BadInput,
                      path << ": header: __metadata__ '" << k << "' must be a string, got " << v.dump());
        out.metadata[k] = v.get<std::string>();
      }
      continue;
    }
    Entry e = parse_entry(path, name, value);
    const std::string where = path + ": tensor '" + name + "'";
    NASWOT_EXPECT(e.begin <= e.end && e.end <= data_size, BadInput,
                  where << ": data_offsets [" << e.begin << ", " << e.end << "] outside the data area of " << data_size
                        << " bytes (expected begin <= end <= " << data_size << ")");
    const uint64_t want = expected_bytes(e, data_size);
    NASWOT_EXPECT(e.end - e.begin == want, BadInput,
                  where << ": data_offsets [" << e.begin << ", " << e.end << "] span " << e.end - e.begin
                        << " bytes; shape " << shape_text(e.shape) << " of " << e.dtype << " needs "
                        << (want == std::numeric_limits<uint64_t>::max() ? std::string("more than the file")
                                                                         : std::to_string(want)));
    entries.push_back(std::move(e));
  }
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.begin != b.begin ? a.begin < b.begin : a.end < b.end; });
  for (size_t i = 1; i < entries.size(); ++i) {
    const Entry &a = entries[i - 1], &b = entries[i];
    NASWOT_EXPECT(b.begin >= a.end, BadInput,
                  path << ": tensors '" << a.name << "' [" << a.begin << ", " << a.end << "] and '" << b.name << "' ["
                       << b.begin << ", " << b.end << "] overlap");
  }
  for (const Entry& e : entries) {
    out.params.set(e.name, convert(path, e, data + e.begin));
    out.order.push_back(e.name);
  }
  return out;
}

rt::Params read_safetensors(const std::string& path) { return read_safetensors_file(path).params; }

void write_safetensors(const std::string& path, const rt::Params& params, const std::vector<std::string>& order,
                       const std::map<std::string, std::string>& metadata) {
  std::vector<std::string> names = order;
  if (names.empty())
    for (const auto& kv : params.all()) names.push_back(kv.first);
  std::set<std::string> seen;
  for (const std::string& name : names) {
    NASWOT_EXPECT(params.all().count(name), BadInput,
                  path << ": write order names tensor '" << name << "' which is not in the parameter set");
    NASWOT_EXPECT(seen.insert(name).second, BadInput, path << ": write order lists tensor '" << name << "' twice");
    NASWOT_EXPECT(name != kMetadataKey, BadInput, path << ": a tensor cannot be named " << kMetadataKey);
  }
  for (const auto& kv : params.all())
    NASWOT_EXPECT(seen.count(kv.first), BadInput,
                  path << ": tensor '" << kv.first << "' is missing from the write order");

  ordered_json header = ordered_json::object();
  if (!metadata.empty()) {
    ordered_json meta = ordered_json::object();
    for (const auto& [k, v] : metadata) meta[k] = v;
    header[kMetadataKey] = meta;
  }
  uint64_t offset = 0;
  for (const std::string& name : names) {
    const rt::ParamTensor& t = params.at(name);
    const uint64_t bytes = static_cast<uint64_t>(t.data.size()) * sizeof(float);
    header[name] = {{"dtype", "F32"}, {"shape", t.shape}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const ordered_json::exception& e) {  // a name or metadata string that is not UTF-8
    throw_error(ErrorKind::BadInput, path + ": cannot encode the header: " + e.what());
  }
  text.append((8 - text.size() % 8) % 8, ' ');  // data starts 8-byte aligned

  std::vector<uint8_t> out;
  out.reserve(8 + text.size() + offset);
  append_u64_le(out, text.size());
  out.insert(out.end(), text.begin(), text.end());
  for (const std::string& name : names) {
    const rt::ParamTensor& t = params.at(name);
    append_floats_le(out, t.data.data(), t.data.size());
  }
  write_file_bytes(path, out);
}

}  // namespace naswot::formats
