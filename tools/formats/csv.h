// Reading CSV text, the counterpart of csv_field() in results.h: RFC 4180 fields (a field that
// starts with '"' runs to the next lone '"'; '""' inside it is one quote). Records are single
// lines: the files naswot reads (benchmark tables, score files) never hold a line break inside a
// field, so a quoted field left open at the end of the line is an error, not a continuation.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace naswot::formats {

// Splits one line (without its '\n'; a trailing '\r' is dropped) into fields. `where` prefixes
// the BadInput message for a malformed quoted field, e.g. "table.csv:12".
std::vector<std::string> split_csv_line(std::string_view line, const std::string& where);

// Calls on_line(line_number, line) for every line of `text` (1-based; a final line without '\n'
// counts, an empty text has no lines).
template <class F>
void for_each_line(std::string_view text, F&& on_line) {
  int number = 0;
  size_t begin = 0;
  while (begin < text.size()) {
    size_t end = text.find('\n', begin);
    if (end == std::string_view::npos) end = text.size();
    on_line(++number, text.substr(begin, end - begin));
    begin = end + 1;
  }
}

}  // namespace naswot::formats
