// Sweep file reader and writer (sweep_file.h).
#include "tools/formats/sweep_file.h"

#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>

#include "runtime/error.h"
#include "tools/formats/binary_io.h"

namespace naswot::formats {

namespace {

using Json = nlohmann::ordered_json;

std::string where(const std::string& path, int64_t line) { return path + ":" + std::to_string(line) + ": "; }

[[noreturn]] void bad(const std::string& path, int64_t line, const std::string& what) {
  throw_error(ErrorKind::BadInput, where(path, line) + what);
}

const Json& field(const Json& j, const char* key, const std::string& path, int64_t line) {
  const auto it = j.find(key);
  if (it == j.end()) bad(path, line, std::string("missing field '") + key + "'");
  return *it;
}

std::string get_string(const Json& j, const char* key, const std::string& path, int64_t line) {
  const Json& v = field(j, key, path, line);
  if (!v.is_string()) bad(path, line, std::string("field '") + key + "' must be a string, got " + v.dump());
  return v.get<std::string>();
}

int64_t get_int(const Json& j, const char* key, const std::string& path, int64_t line, int64_t min) {
  const Json& v = field(j, key, path, line);
  if (!v.is_number_integer() || v.get<int64_t>() < min)
    bad(path, line, std::string("field '") + key + "' must be an integer >= " + std::to_string(min) + ", got " +
                        v.dump());
  return v.get<int64_t>();
}

uint64_t get_u64(const Json& j, const char* key, const std::string& path, int64_t line) {
  const Json& v = field(j, key, path, line);
  if (!v.is_number_unsigned())
    bad(path, line, std::string("field '") + key + "' must be a non-negative integer, got " + v.dump());
  return v.get<uint64_t>();
}

double get_number(const Json& j, const char* key, const std::string& path, int64_t line) {
  const Json& v = field(j, key, path, line);
  if (!v.is_number()) bad(path, line, std::string("field '") + key + "' must be a number, got " + v.dump());
  return v.get<double>();
}

// A score: a number, or "-inf" / "inf" / "nan" as the jsonl writer prints non-finite values.
double get_score(const Json& j, const std::string& path, int64_t line) {
  const Json& v = field(j, "score", path, line);
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    if (s == "-inf") return -std::numeric_limits<double>::infinity();
    if (s == "inf") return std::numeric_limits<double>::infinity();
    if (s == "nan") return std::numeric_limits<double>::quiet_NaN();
  }
  bad(path, line, "field 'score' must be a number or \"-inf\", \"inf\", \"nan\", got " + v.dump());
}

Json parse_object(const std::string& text, const std::string& path, int64_t line) {
  Json j;
  try {
    j = Json::parse(text);
  } catch (const Json::exception& e) {
    bad(path, line, std::string("not a JSON line: ") + e.what());
  }
  if (!j.is_object()) bad(path, line, "expected a JSON object, got " + j.dump().substr(0, 80));
  return j;
}

SweepHeader parse_header(const std::string& text, const std::string& path) {
  const Json j = parse_object(text, path, 1);
  if (j.find("naswot_sweep") == j.end())
    bad(path, 1, "not a naswot sweep file: the first line has no 'naswot_sweep' field");
  const int64_t version = get_int(j, "naswot_sweep", path, 1, 0);
  if (version != kSweepFormatVersion)
    bad(path, 1, "sweep file format " + std::to_string(version) + ", this naswot reads format " +
                     std::to_string(kSweepFormatVersion) + "; rerun the sweep with this naswot");
  SweepHeader h;
  h.naswot_version = get_string(j, "naswot_version", path, 1);
  h.space = get_string(j, "space", path, 1);
  h.space_options = get_string(j, "space_options", path, 1);
  h.space_size = get_int(j, "space_size", path, 1, 1);
  h.image_size = static_cast<int>(get_int(j, "image_size", path, 1, 1));
  h.data = get_string(j, "data", path, 1);
  h.data_fingerprint = get_string(j, "data_fingerprint", path, 1);
  h.batch = static_cast<int>(get_int(j, "batch", path, 1, 1));
  h.seed = get_u64(j, "seed", path, 1);
  h.counting = get_string(j, "counting", path, 1);
  h.norm = get_string(j, "norm", path, 1);
  h.precision = get_string(j, "precision", path, 1);
  const Json& unique = field(j, "unique", path, 1);
  if (!unique.is_boolean()) bad(path, 1, "field 'unique' must be true or false, got " + unique.dump());
  h.unique = unique.get<bool>();
  h.unique_by = get_string(j, "unique_by", path, 1);
  if (h.unique != !h.unique_by.empty())
    bad(path, 1, "field 'unique_by' must name the equivalence exactly when 'unique' is true, got '" + h.unique_by + "'");
  h.shard = get_string(j, "shard", path, 1);
  h.part = get_string(j, "part", path, 1);
  h.backend = get_string(j, "backend", path, 1);
  return h;
}

struct Fnv1a64 {
  uint64_t value = 0xcbf29ce484222325ull;  // offset basis
  void mix(const void* data, size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (size_t i = 0; i < n; ++i) value = (value ^ p[i]) * 0x100000001b3ull;
  }
  std::string text() const {
    char buf[32];
    std::snprintf(buf, sizeof buf, "fnv1a64:%016llx", static_cast<unsigned long long>(value));
    return buf;
  }
};

void check_io(bool ok, const std::string& path, const char* what) {
  NASWOT_EXPECT(ok, Io, path << ": cannot " << what << ": " << std::strerror(errno));
}

}  // namespace

std::vector<std::string> header_differences(const SweepHeader& a, const std::string& an, const SweepHeader& b,
                                            const std::string& bn, bool placement) {
  std::vector<std::string> out;
  auto cmp = [&](const std::string& name, const std::string& x, const std::string& y) {
    if (x != y) out.push_back(name + ": " + x + " in " + an + ", " + y + " in " + bn);
  };
  cmp("naswot_version", a.naswot_version, b.naswot_version);
  cmp("space", a.space, b.space);
  cmp("space_options", "'" + a.space_options + "'", "'" + b.space_options + "'");
  cmp("space_size", std::to_string(a.space_size), std::to_string(b.space_size));
  cmp("image_size", std::to_string(a.image_size), std::to_string(b.image_size));
  cmp("data_fingerprint (of " + (a.data == b.data ? a.data : a.data + " / " + b.data) + ")", a.data_fingerprint,
      b.data_fingerprint);
  cmp("batch", std::to_string(a.batch), std::to_string(b.batch));
  cmp("seed", std::to_string(a.seed), std::to_string(b.seed));
  cmp("counting", a.counting, b.counting);
  cmp("norm", a.norm, b.norm);
  cmp("precision", a.precision, b.precision);
  cmp("unique", a.unique ? "true" : "false", b.unique ? "true" : "false");
  cmp("unique_by", "'" + a.unique_by + "'", "'" + b.unique_by + "'");
  if (placement) {
    cmp("shard", a.shard, b.shard);
    cmp("part", a.part, b.part);
  }
  return out;
}

std::string header_to_json(const SweepHeader& h) {
  Json j;
  j["naswot_sweep"] = kSweepFormatVersion;
  j["naswot_version"] = h.naswot_version;
  j["space"] = h.space;
  j["space_options"] = h.space_options;
  j["space_size"] = h.space_size;
  j["image_size"] = h.image_size;
  j["data"] = h.data;
  j["data_fingerprint"] = h.data_fingerprint;
  j["batch"] = h.batch;
  j["seed"] = h.seed;
  j["counting"] = h.counting;
  j["norm"] = h.norm;
  j["precision"] = h.precision;
  j["unique"] = h.unique;
  j["unique_by"] = h.unique_by;
  j["shard"] = h.shard;
  j["part"] = h.part;
  j["backend"] = h.backend;
  try {
    return j.dump();
  } catch (const Json::exception& e) {  // a data path that is not UTF-8
    throw_error(ErrorKind::BadInput, std::string("cannot write the sweep header as JSON: ") + e.what());
  }
}

std::string batch_fingerprint(const rt::Batch& batch) {
  Fnv1a64 h;
  const int64_t shape[4] = {batch.shape.n, batch.shape.h, batch.shape.w, batch.shape.c};
  h.mix(shape, sizeof shape);
  h.mix(batch.data.data(), batch.data.size() * sizeof(float));
  return h.text();
}

std::string file_fingerprint(const std::string& path) {
  const std::vector<uint8_t> bytes = read_file_bytes(path);
  Fnv1a64 h;
  h.mix(bytes.data(), bytes.size());
  return h.text();
}

std::string record_to_json(const SweepRecord& r) {
  Json j;
  const ScoreRecord& s = r.score;
  j["index"] = s.index < 0 ? Json(nullptr) : Json(s.index);
  j["arch"] = s.arch;
  j["score"] = std::isfinite(s.score) ? Json(s.score) : Json(format_score(s.score));
  j["status"] = s.status;
  j["n_units"] = s.n_units;
  j["seconds"] = s.seconds;
  if (!r.members.empty()) j["members"] = r.members;
  try {
    return j.dump();
  } catch (const Json::exception& e) {
    throw_error(ErrorKind::BadInput, std::string("cannot write a sweep record as JSON: ") + e.what());
  }
}

// --- reader ---------------------------------------------------------------------------------

SweepReader::SweepReader(const std::string& path) : m_path(path) {
  std::error_code ec;
  NASWOT_EXPECT(!std::filesystem::is_directory(path, ec), Io, path << ": is a directory, expected a sweep file");
  m_file = std::fopen(path.c_str(), "rb");
  check_io(m_file != nullptr, path, "open the sweep file for reading");
  std::string text;
  if (!read_line(text)) bad(path, 1, "empty file: expected a naswot sweep header line");
  if (m_truncated) bad(path, 1, "the header line is cut short (no newline): the sweep wrote nothing worth keeping");
  m_header = parse_header(text, path);
}

SweepReader::~SweepReader() {
  if (m_file) std::fclose(m_file);
}

bool SweepReader::read_line(std::string& line) {
  line.clear();
  int ch;
  while ((ch = std::getc(m_file)) != EOF) {
    if (ch == '\n') {
      ++m_line;
      m_complete_bytes += line.size() + 1;
      return true;
    }
    line.push_back(static_cast<char>(ch));
  }
  NASWOT_EXPECT(!std::ferror(m_file), Io, m_path << ": read error after line " << m_line);
  if (line.empty()) return false;
  ++m_line;
  m_truncated = true;  // the last line has no '\n': a write cut short
  return true;
}

bool SweepReader::next(SweepRecord& r, std::string* line_text) {
  std::string text;
  if (!read_line(text)) return false;
  if (m_truncated) return false;
  if (text.empty()) bad(m_path, m_line, "empty line: expected a sweep record");
  const Json j = parse_object(text, m_path, m_line);
  r = {};
  r.score.index = get_int(j, "index", m_path, m_line, 0);
  r.score.arch = get_string(j, "arch", m_path, m_line);
  r.score.score = get_score(j, m_path, m_line);
  r.score.status = get_string(j, "status", m_path, m_line);
  r.score.n_units = get_int(j, "n_units", m_path, m_line, 0);
  r.score.seconds = get_number(j, "seconds", m_path, m_line);
  const auto members = j.find("members");
  if (m_header.unique) {
    if (members == j.end() || !members->is_array() || members->empty())
      bad(m_path, m_line, "a --unique sweep record needs a non-empty 'members' array of indices");
    r.members.reserve(members->size());
    for (const Json& m : *members) {
      if (!m.is_number_integer() || m.get<int64_t>() < 0)
        bad(m_path, m_line, "'members' holds " + m.dump() + "; expected non-negative integer indices");
      r.members.push_back(m.get<int64_t>());
    }
  } else if (members != j.end()) {
    bad(m_path, m_line, "record has 'members' but the header says unique: false");
  }
  if (line_text) *line_text = std::move(text);
  return true;
}

bool sweep_file_has_header(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  check_io(f != nullptr, path, "open the sweep file for reading");
  int ch;
  while ((ch = std::getc(f)) != EOF && ch != '\n') {
  }
  const bool error = std::ferror(f) != 0;
  std::fclose(f);
  NASWOT_EXPECT(!error, Io, path << ": read error in the header line");
  return ch == '\n';
}

// --- writer ---------------------------------------------------------------------------------

std::unique_ptr<SweepWriter> SweepWriter::create(const std::string& path, const SweepHeader& header) {
  FILE* f = std::fopen(path.c_str(), "wb");
  check_io(f != nullptr, path, "create the sweep file");
  std::unique_ptr<SweepWriter> w(new SweepWriter(path, f));
  w->write_line(header_to_json(header));
  w->sync();
  return w;
}

std::unique_ptr<SweepWriter> SweepWriter::append(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "ab");
  check_io(f != nullptr, path, "open the sweep file for appending");
  return std::unique_ptr<SweepWriter>(new SweepWriter(path, f));
}

SweepWriter::~SweepWriter() {
  if (m_file) std::fclose(m_file);  // cleanup never throws; close() reports errors
}

void SweepWriter::write(const SweepRecord& record) { write_line(record_to_json(record)); }

void SweepWriter::write_line(const std::string& line) {
  NASWOT_EXPECT(m_file != nullptr, Internal, m_path << ": write after close");
  const bool ok = std::fwrite(line.data(), 1, line.size(), m_file) == line.size() && std::fputc('\n', m_file) != EOF;
  check_io(ok, m_path, "write");
}

void SweepWriter::flush() { check_io(m_file && std::fflush(m_file) == 0, m_path, "flush"); }

void SweepWriter::sync() {
  flush();
  check_io(::fsync(::fileno(m_file)) == 0, m_path, "fsync");
}

void SweepWriter::close() {
  if (!m_file) return;
  sync();
  FILE* f = m_file;
  m_file = nullptr;
  check_io(std::fclose(f) == 0, m_path, "close");
}

}  // namespace naswot::formats
