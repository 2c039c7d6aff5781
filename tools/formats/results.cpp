// Result writers (formats in results.h).
#include "tools/formats/results.h"

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "runtime/error.h"

namespace naswot::formats {

namespace {

std::string printf_str(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

std::string nonfinite(double v) { return std::isnan(v) ? "nan" : v > 0 ? "inf" : "-inf"; }

class TableWriter : public ResultWriter {
 public:
  explicit TableWriter(std::ostream& out) : m_out(out) {
    line("index", "score", "status", "n_units", "seconds", "arch");
  }
  void write(const ScoreRecord& r) override {
    const std::string score = std::isfinite(r.score) ? printf_str("%.6f", r.score) : nonfinite(r.score);
    line(r.index < 0 ? "-" : std::to_string(r.index), score, r.status, std::to_string(r.n_units),
         printf_str("%.3f", r.seconds), r.arch);
  }

 private:
  // Fixed widths (records are streamed, so widths cannot depend on later rows); the arch
  // string, the only unbounded column, goes last.
  void line(const std::string& index, const std::string& score, const std::string& status, const std::string& units,
            const std::string& seconds, const std::string& arch) {
    char buf[128];
    std::snprintf(buf, sizeof buf, "%6s  %18s  %-9s  %8s  %9s  ", index.c_str(), score.c_str(), status.c_str(),
                  units.c_str(), seconds.c_str());
    m_out << buf << arch << '\n' << std::flush;
  }
  std::ostream& m_out;
};

class CsvWriter : public ResultWriter {
 public:
  explicit CsvWriter(std::ostream& out) : m_out(out) {
    m_out << "index,arch,score,status,n_units,seconds\n" << std::flush;
  }
  void write(const ScoreRecord& r) override {
    m_out << (r.index < 0 ? std::string() : std::to_string(r.index)) << ',' << csv_field(r.arch) << ','
          << format_score(r.score) << ',' << csv_field(r.status) << ',' << r.n_units << ','
          << printf_str("%.6f", r.seconds) << '\n'
          << std::flush;
  }

 private:
  std::ostream& m_out;
};

class JsonlWriter : public ResultWriter {
 public:
  explicit JsonlWriter(std::ostream& out) : m_out(out) {}
  void write(const ScoreRecord& r) override {
    nlohmann::ordered_json j;
    j["index"] = r.index < 0 ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(r.index);
    j["arch"] = r.arch;
    j["score"] = std::isfinite(r.score) ? nlohmann::ordered_json(r.score) : nlohmann::ordered_json(nonfinite(r.score));
    j["status"] = r.status;
    j["n_units"] = r.n_units;
    j["seconds"] = r.seconds;
    std::string text;
    try {
      text = j.dump();
    } catch (const nlohmann::ordered_json::exception& e) {  // arch or status not UTF-8
      throw_error(ErrorKind::BadInput, std::string("cannot write result as JSON: ") + e.what());
    }
    m_out << text << '\n' << std::flush;
  }

 private:
  std::ostream& m_out;
};

}  // namespace

ResultWriter::~ResultWriter() = default;

std::string format_score(double score) { return std::isfinite(score) ? printf_str("%.17g", score) : nonfinite(score); }

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

std::unique_ptr<ResultWriter> make_result_writer(const std::string& format, std::ostream& out) {
  if (format == "table") return std::make_unique<TableWriter>(out);
  if (format == "csv") return std::make_unique<CsvWriter>(out);
  if (format == "jsonl") return std::make_unique<JsonlWriter>(out);
  throw_error(ErrorKind::BadInput, "output format '" + format + "': expected table, csv or jsonl");
}

}  // namespace naswot::formats
