// Helper of the eval tests (score_eval_test.cpp, darts_eval_test.cpp): one scores-file record as
// tools/formats/results_reader.h returns it.
#pragma once
#include <cstdint>
#include <string>

#include "tools/formats/results_reader.h"

namespace naswot::test {

inline formats::ReadScore eval_record(int64_t index, const std::string& arch, double score, int line) {
  formats::ReadScore r;
  r.record.index = index;
  r.record.arch = arch;
  r.record.score = score;
  r.line = line;
  return r;
}

}  // namespace naswot::test
