// Result records of `naswot score` and their three output formats, one record per call,
// flushed at once so a long sweep can be watched and resumed:
//   table  aligned columns for people: index score status n_units seconds arch; header first
//   csv    header "index,arch,score,status,n_units,seconds"; score %.17g (round-trips a
//          double), -inf written as -inf; index -1 (no benchmark index) is an empty field (the
//          shared-data convention for a missing value); arch quoted RFC 4180-style when it holds
//          a comma, quote or line break
//   jsonl  one object per line, keys in the csv order; JSON has no infinities, so a non-finite
//          score is the string "-inf" / "inf" / "nan" (Python: float(v) accepts all three);
//          index -1 is null
#pragma once
#include <cstdint>
#include <memory>
#include <ostream>
#include <string>

namespace naswot::formats {

struct ScoreRecord {
  int64_t index = -1;  // benchmark index, -1 if none
  std::string arch;
  double score = 0;
  std::string status;  // "ok", "singular", ...
  int64_t n_units = 0;
  double seconds = 0;
};

class ResultWriter {
 public:
  virtual void write(const ScoreRecord& record) = 0;
  virtual ~ResultWriter();
};

// format: table | csv | jsonl; BadInput otherwise. The writer keeps a reference to `out`.
// table and csv write their header line immediately.
std::unique_ptr<ResultWriter> make_result_writer(const std::string& format, std::ostream& out);

// The score as the csv writer prints it (%.17g, or -inf / inf / nan).
std::string format_score(double score);

// A csv field, quoted if needed.
std::string csv_field(const std::string& s);

}  // namespace naswot::formats
