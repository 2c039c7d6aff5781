// .npy reader/writer (format summary in npy.h). The header is a Python dict literal; a small
// recursive-descent parser accepts exactly what NumPy writes: string keys and values in ' or ",
// True/False, and tuples of non-negative integers (Python 2's 'L' suffix tolerated).
#include "tools/formats/npy.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <variant>

#include "runtime/error.h"
#include "tools/formats/binary_io.h"

namespace naswot::formats {

namespace {

const char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicLen = 6;

using Value = std::variant<std::string, bool, std::vector<int64_t>>;

// Parser over the header text; every error names the file and the byte offset in the file.
class DictParser {
 public:
  DictParser(const std::string& path, const std::string& text, size_t file_offset)
      : m_path(path), m_text(text), m_base(file_offset) {}

  std::map<std::string, Value> parse() {
    std::map<std::string, Value> dict;
    expect('{');
    while (peek() != '}') {
      const std::string key = parse_string();
      expect(':');
      NASWOT_EXPECT(!dict.count(key), BadInput, where() << ": duplicate key '" << key << "'");
      dict[key] = parse_value();
      if (peek() == ',')
        ++m_pos;
      else
        NASWOT_EXPECT(peek() == '}', BadInput, where() << ": expected ',' or '}' in the header dict");
    }
    ++m_pos;
    NASWOT_EXPECT(peek() == '\0', BadInput, where() << ": unexpected text after the header dict");
    return dict;
  }

 private:
  std::string where() const { return m_path + ": header byte " + std::to_string(m_base + m_pos); }
  char peek() {
    while (m_pos < m_text.size() &&
           (m_text[m_pos] == ' ' || m_text[m_pos] == '\n' || m_text[m_pos] == '\t' || m_text[m_pos] == '\r'))
      ++m_pos;
    return m_pos < m_text.size() ? m_text[m_pos] : '\0';
  }
  void expect(char c) {
    NASWOT_EXPECT(peek() == c, BadInput, where() << ": expected '" << c << "'");
    ++m_pos;
  }
  std::string parse_string() {
    const char q = peek();
    NASWOT_EXPECT(q == '\'' || q == '"', BadInput, where() << ": expected a quoted string");
    const size_t end = m_text.find(q, m_pos + 1);
    NASWOT_EXPECT(end != std::string::npos, BadInput, where() << ": unterminated string");
    std::string s = m_text.substr(m_pos + 1, end - m_pos - 1);
    NASWOT_EXPECT(s.find('\\') == std::string::npos, BadInput, where() << ": escapes in strings are not supported");
    m_pos = end + 1;
    return s;
  }
  int64_t parse_int() {
    const size_t start = m_pos;
    int64_t v = 0;
    while (m_pos < m_text.size() && m_text[m_pos] >= '0' && m_text[m_pos] <= '9') {
      NASWOT_EXPECT(v <= (std::numeric_limits<int64_t>::max() - 9) / 10, BadInput,
                    where() << ": dimension is too large");
      v = v * 10 + (m_text[m_pos++] - '0');
    }
    NASWOT_EXPECT(m_pos > start, BadInput, where() << ": expected a non-negative integer dimension");
    if (m_pos < m_text.size() && m_text[m_pos] == 'L') ++m_pos;
    return v;
  }
  Value parse_value() {
    const char c = peek();
    if (c == '\'' || c == '"') return parse_string();
    if (m_text.compare(m_pos, 4, "True") == 0) return m_pos += 4, true;
    if (m_text.compare(m_pos, 5, "False") == 0) return m_pos += 5, false;
    NASWOT_EXPECT(c == '(', BadInput,
                  where() << ": expected a string, True/False or a tuple (structured dtypes are not supported)");
    ++m_pos;
    std::vector<int64_t> dims;
    while (peek() != ')') {
      dims.push_back(parse_int());
      if (peek() == ',')
        ++m_pos;
      else
        NASWOT_EXPECT(peek() == ')', BadInput, where() << ": expected ',' or ')' in the shape tuple");
    }
    ++m_pos;
    return dims;
  }

  const std::string& m_path;
  const std::string& m_text;
  size_t m_base;
  size_t m_pos = 0;
};

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

std::string index_text(int64_t flat, const std::vector<int64_t>& shape) {
  std::vector<int64_t> idx(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    idx[d] = flat % shape[d];
    flat /= shape[d];
  }
  std::string s = "(";
  for (size_t d = 0; d < idx.size(); ++d) s += (d ? ", " : "") + std::to_string(idx[d]);
  return s + (shape.size() == 4 ? ") = (n, c, h, w)" : ")");
}

template <typename T>
const T& field(const std::string& path, const std::map<std::string, Value>& dict, const char* key,
               const char* expected) {
  auto it = dict.find(key);
  NASWOT_EXPECT(it != dict.end(), BadInput, path << ": header has no '" << key << "' field");
  NASWOT_EXPECT(std::holds_alternative<T>(it->second), BadInput,
                path << ": header field '" << key << "' must be " << expected);
  return std::get<T>(it->second);
}

int64_t shape_numel(const std::string& path, const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    NASWOT_EXPECT(d >= 0, BadInput, path << ": shape dimension " << d << " is negative");
    n *= d;
  }
  return n;
}

// Magic, version 1.0, header length and the padded header dict of a C-order array.
std::vector<uint8_t> npy_header(const std::string& path, const std::vector<int64_t>& shape, const char* descr) {
  std::string dims;
  for (size_t i = 0; i < shape.size(); ++i) dims += (i ? ", " : "") + std::to_string(shape[i]);
  if (shape.size() == 1) dims += ',';  // a 1-tuple is (5,) in Python
  std::string header = std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': (" + dims + "), }";
  const size_t total = kMagicLen + 4 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::vector<uint8_t> out(kMagic, kMagic + kMagicLen);
  out.push_back(1);
  out.push_back(0);
  NASWOT_EXPECT(header.size() <= 0xFFFF, BadInput, path << ": shape has too many dimensions for a version 1.0 header");
  append_u16_le(out, static_cast<uint16_t>(header.size()));
  out.insert(out.end(), header.begin(), header.end());
  return out;
}

void write_npy(const std::string& path, const std::vector<int64_t>& shape, const char* descr, const void* data,
               size_t count, size_t item) {
  const int64_t n = shape_numel(path, shape);
  NASWOT_EXPECT(static_cast<size_t>(n) == count, BadInput,
                path << ": " << count << " values do not fill the shape (" << n << " elements)");
  std::vector<uint8_t> out = npy_header(path, shape, descr);
  const auto* bytes = static_cast<const uint8_t*>(data);
  out.insert(out.end(), bytes, bytes + count * item);
  write_file_bytes(path, out);
}

}  // namespace

int64_t NpyArray::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

NpyArray read_npy(const std::string& path) {
  const std::vector<uint8_t> bytes = read_file_bytes(path);
  const uint64_t size = bytes.size();
  NASWOT_EXPECT(size >= 8 && std::memcmp(bytes.data(), kMagic, kMagicLen) == 0, BadInput,
                path << ": not a .npy file (expected the magic \\x93NUMPY and a version in the first 8 bytes)");
  const int major = bytes[6], minor = bytes[7];
  NASWOT_EXPECT(
      (major == 1 || major == 2 || major == 3) && minor == 0, BadInput,
      path << ": .npy format version " << major << "." << minor << " is not supported (expected 1.0, 2.0 or 3.0)");
  const size_t len_bytes = major == 1 ? 2 : 4;
  NASWOT_EXPECT(size >= 8 + len_bytes, BadInput, path << ": truncated in the header length field (byte 8)");
  const uint64_t header_len = major == 1 ? load_u16_le(bytes.data() + 8) : load_u32_le(bytes.data() + 8);
  const uint64_t data_offset = 8 + len_bytes + header_len;
  NASWOT_EXPECT(
      data_offset <= size, BadInput,
      path << ": header length " << header_len << " runs past the end of the " << size << "-byte file (truncated)");
  const std::string text(bytes.begin() + 8 + static_cast<ptrdiff_t>(len_bytes),
                         bytes.begin() + static_cast<ptrdiff_t>(data_offset));
  const auto dict = DictParser(path, text, 8 + len_bytes).parse();

  NpyArray a;
  a.dtype = field<std::string>(path, dict, "descr", "a dtype string");
  const bool fortran = field<bool>(path, dict, "fortran_order", "True or False");
  a.shape = field<std::vector<int64_t>>(path, dict, "shape", "a tuple of integers");
  NASWOT_EXPECT(!fortran, BadInput,
                path << ": fortran_order is True; expected a C-order array (save np.ascontiguousarray(x))");
  size_t item = 0;
  if (a.dtype == "<f4")
    item = 4;
  else if (a.dtype == "|u1" || a.dtype == "<u1" || a.dtype == ">u1")
    item = 1, a.dtype = "|u1";
  NASWOT_EXPECT(item != 0, BadInput,
                path << ": dtype '" << a.dtype << "' is not supported (expected '<f4' float32 or '|u1' uint8; "
                     << "convert with x.astype(np.float32) or x.astype(np.uint8))");
  const uint64_t payload = size - data_offset;
  // Element count; `fits` is false once it would exceed the payload (so it cannot overflow).
  bool fits = true;
  uint64_t count = std::find(a.shape.begin(), a.shape.end(), 0) != a.shape.end() ? 0 : 1;
  for (int64_t d : a.shape) {
    if (count == 0) break;
    if (count > payload / static_cast<uint64_t>(d)) {
      fits = false;
      break;
    }
    count *= static_cast<uint64_t>(d);
  }
  NASWOT_EXPECT(fits && count * item == payload, BadInput,
                path << ": data from byte " << data_offset << " is " << payload << " bytes; shape "
                     << shape_text(a.shape) << " of " << a.dtype << " needs "
                     << (fits ? std::to_string(count * item) : std::string("more"))
                     << " (truncated, trailing bytes or wrong shape)");
  const uint8_t* data = bytes.data() + data_offset;
  if (item == 1) {
    a.u8.assign(data, data + count);
    return a;
  }
  a.f32.resize(count);
  if (count) std::memcpy(a.f32.data(), data, count * sizeof(float));
  for (size_t i = 0; i < count; ++i)
    NASWOT_EXPECT(std::isfinite(a.f32[i]), BadInput,
                  path << ": element " << i << " at " << index_text(static_cast<int64_t>(i), a.shape) << " is "
                       << a.f32[i] << "; expected finite float data");
  return a;
}

void write_npy_f32(const std::string& path, const std::vector<int64_t>& shape, const std::vector<float>& data) {
  write_npy(path, shape, "<f4", data.data(), data.size(), sizeof(float));
}

void write_npy_u8(const std::string& path, const std::vector<int64_t>& shape, const std::vector<uint8_t>& data) {
  write_npy(path, shape, "|u1", data.data(), data.size(), 1);
}

NpyInt64Stream::NpyInt64Stream(const std::string& path, const std::vector<int64_t>& shape)
    : m_path(path), m_expected(static_cast<size_t>(shape_numel(path, shape))) {
  const std::vector<uint8_t> header = npy_header(path, shape, "<i8");
  m_out.open(path, std::ios::binary | std::ios::trunc);
  NASWOT_EXPECT(m_out.good(), Io, path << ": cannot open for writing");
  m_out.write(reinterpret_cast<const char*>(header.data()), static_cast<std::streamsize>(header.size()));
  NASWOT_EXPECT(m_out.good(), Io, path << ": write failed");
}

void NpyInt64Stream::append(const int64_t* data, size_t count) {
  NASWOT_EXPECT(m_written + count <= m_expected, BadInput,
                m_path << ": " << m_written + count << " values appended to an array of " << m_expected);
  m_out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(count * sizeof(int64_t)));
  NASWOT_EXPECT(m_out.good(), Io, m_path << ": write failed");
  m_written += count;
}

void NpyInt64Stream::close() {
  NASWOT_EXPECT(m_written == m_expected, BadInput,
                m_path << ": closed after " << m_written << " of " << m_expected << " values");
  m_out.close();
  NASWOT_EXPECT(!m_out.fail(), Io, m_path << ": close failed");
}

}  // namespace naswot::formats
