// Reading back the score files `naswot score` writes (results.h): csv or jsonl, recognised by the
// first non-blank line (the csv header "index,arch,score,...", or a '{' that opens a JSON object).
// The table format is for people and is not read.
//  * csv: the header must name index, arch and score (other columns, in any order, are ignored);
//    index empty = none; score a number or -inf / inf / nan.
//  * jsonl: one object per line with "score" (a number or the string "-inf" / "inf" / "nan") and
//    "index" (integer or null) and/or "arch" (string). A first line holding "naswot_sweep" is a
//    `naswot sweep` file's header (sweep_file.h) and is skipped: a sweep file reads as its records.
// Each record needs an index or an arch. Anything else is BadInput naming file:line and what was
// expected; Io if the file cannot be read. Blank lines are skipped.
#pragma once
#include <string>
#include <vector>

#include "tools/formats/results.h"

namespace naswot::formats {

struct ReadScore {
  ScoreRecord record;  // index -1 when none; status, n_units, seconds as read (0 / empty if absent)
  int line = 0;        // 1-based line in the file
};

std::vector<ReadScore> read_score_file(const std::string& path);

// A score field: "-inf", "inf", "nan" (as format_score writes them) or a whole number text.
// False, with `value` unspecified, for anything else.
bool parse_score_text(const std::string& text, double& value);

}  // namespace naswot::formats
