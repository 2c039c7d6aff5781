// Score file reader (results_reader.h).
#include "tools/formats/results_reader.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <string_view>

#include "runtime/error.h"
#include "tools/formats/binary_io.h"
#include "tools/formats/csv.h"

namespace naswot::formats {

namespace {

bool blank(std::string_view line) { return line.find_first_not_of(" \t\r") == std::string_view::npos; }

bool parse_int(const std::string& s, int64_t& v) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return !s.empty() && ec == std::errc() && end == s.data() + s.size();
}

bool parse_double(const std::string& s, double& v) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return !s.empty() && ec == std::errc() && end == s.data() + s.size();
}

ReadScore from_json(std::string_view line, const std::string& at) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(line);
  } catch (const nlohmann::json::exception&) {
    throw_error(ErrorKind::BadInput, at + ": not a JSON object; expected one score record per line");
  }
  NASWOT_EXPECT(j.is_object(), BadInput, at << ": expected a JSON object, found " << j.type_name());
  ReadScore r;
  NASWOT_EXPECT(j.contains("score"), BadInput, at << ": no \"score\" field");
  const nlohmann::json& score = j["score"];
  if (score.is_number()) {
    r.record.score = score.get<double>();
  } else {
    NASWOT_EXPECT(score.is_string() && parse_score_text(score.get<std::string>(), r.record.score), BadInput,
                  at << ": \"score\" is " << score.dump() << "; expected a number or \"-inf\", \"inf\", \"nan\"");
  }
  if (j.contains("index") && !j["index"].is_null()) {
    const nlohmann::json& index = j["index"];
    NASWOT_EXPECT(index.is_number_integer() && index.get<int64_t>() >= 0, BadInput,
                  at << ": \"index\" is " << index.dump() << "; expected a non-negative integer or null");
    r.record.index = index.get<int64_t>();
  }
  if (j.contains("arch")) {
    NASWOT_EXPECT(j["arch"].is_string(), BadInput, at << ": \"arch\" is " << j["arch"].dump() << "; expected a string");
    r.record.arch = j["arch"].get<std::string>();
  }
  if (j.contains("status") && j["status"].is_string()) r.record.status = j["status"].get<std::string>();
  if (j.contains("n_units") && j["n_units"].is_number_integer()) r.record.n_units = j["n_units"].get<int64_t>();
  if (j.contains("seconds") && j["seconds"].is_number()) r.record.seconds = j["seconds"].get<double>();
  return r;
}

}  // namespace

bool parse_score_text(const std::string& text, double& value) {
  if (text == "-inf") {
    value = -std::numeric_limits<double>::infinity();
  } else if (text == "inf") {
    value = std::numeric_limits<double>::infinity();
  } else if (text == "nan") {
    value = std::numeric_limits<double>::quiet_NaN();
  } else {
    return parse_double(text, value);
  }
  return true;
}

std::vector<ReadScore> read_score_file(const std::string& path) {
  const std::vector<uint8_t> bytes = read_file_bytes(path);
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  std::vector<ReadScore> out;
  enum class Kind { Unknown, Csv, Jsonl } kind = Kind::Unknown;
  size_t width = 0, col_index = 0, col_arch = 0, col_score = 0, col_status = 0, col_units = 0, col_seconds = 0;
  const size_t absent = static_cast<size_t>(-1);
  for_each_line(text, [&](int number, std::string_view line) {
    if (blank(line)) return;
    const std::string at = path + ":" + std::to_string(number);
    if (kind == Kind::Unknown) {
      if (line.find_first_not_of(" \t") != std::string_view::npos && line[line.find_first_not_of(" \t")] == '{') {
        kind = Kind::Jsonl;
        if (line.find("\"naswot_sweep\"") != std::string_view::npos) return;  // a sweep file's header line
      } else {
        const std::vector<std::string> header = split_csv_line(line, at);
        auto column = [&](const char* name) {
          for (size_t i = 0; i < header.size(); ++i)
            if (header[i] == name) return i;
          return absent;
        };
        col_index = column("index");
        col_arch = column("arch");
        col_score = column("score");
        col_status = column("status");
        col_units = column("n_units");
        col_seconds = column("seconds");
        NASWOT_EXPECT(col_score != absent && (col_index != absent || col_arch != absent), BadInput,
                      at << ": expected a score file of `naswot score --format csv|jsonl`: a csv header with "
                            "index, arch and score (index,arch,score,status,n_units,seconds) or JSON lines");
        kind = Kind::Csv;
        width = header.size();
        return;
      }
    }
    if (kind == Kind::Jsonl) {
      ReadScore r = from_json(line, at);
      r.line = number;
      NASWOT_EXPECT(r.record.index >= 0 || !r.record.arch.empty(), BadInput,
                    at << ": the record has neither an \"index\" nor an \"arch\"; expected at least one");
      out.push_back(std::move(r));
      return;
    }
    const std::vector<std::string> f = split_csv_line(line, at);
    NASWOT_EXPECT(f.size() == width, BadInput,
                  at << ": " << f.size() << " fields, expected " << width << " as in the header");
    ReadScore r;
    r.line = number;
    if (col_index != absent && !f[col_index].empty()) {
      NASWOT_EXPECT(parse_int(f[col_index], r.record.index) && r.record.index >= 0, BadInput,
                    at << ": column " << col_index + 1
                       << " (index): expected a non-negative integer or an empty field, found '" << f[col_index]
                       << "'");
    }
    if (col_arch != absent) r.record.arch = f[col_arch];
    NASWOT_EXPECT(r.record.index >= 0 || !r.record.arch.empty(), BadInput,
                  at << ": the record has neither an index nor an arch; expected at least one");
    NASWOT_EXPECT(parse_score_text(f[col_score], r.record.score), BadInput,
                  at << ": column " << col_score + 1 << " (score): expected a number or -inf, inf, nan, found '"
                     << f[col_score] << "'");
    if (col_status != absent) r.record.status = f[col_status];
    if (col_units != absent) parse_int(f[col_units], r.record.n_units);
    if (col_seconds != absent) parse_double(f[col_seconds], r.record.seconds);
    out.push_back(std::move(r));
  });
  NASWOT_EXPECT(!out.empty(), BadInput,
                path << ": holds no score record; expected the output of `naswot score --format csv|jsonl`");
  return out;
}

}  // namespace naswot::formats
