// CSV field splitting (csv.h).
#include "tools/formats/csv.h"

#include <algorithm>

#include "runtime/error.h"

namespace naswot::formats {

std::vector<std::string> split_csv_line(std::string_view line, const std::string& where) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  std::vector<std::string> fields;
  size_t i = 0;
  while (true) {
    std::string field;
    if (i < line.size() && line[i] == '"') {
      const size_t open = i++;
      bool closed = false;
      while (i < line.size()) {
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            field += '"';
            i += 2;
            continue;
          }
          closed = true;
          ++i;
          break;
        }
        field += line[i++];
      }
      NASWOT_EXPECT(closed, BadInput,
                    where << ": column " << fields.size() + 1 << ": quoted field opened at character " << open + 1
                          << " is not closed on this line");
      NASWOT_EXPECT(i == line.size() || line[i] == ',', BadInput,
                    where << ": column " << fields.size() + 1 << ": expected ',' after the closing quote, found '"
                          << line[i] << "'");
    } else {
      const size_t end = std::min(line.find(',', i), line.size());
      field.assign(line.substr(i, end - i));
      i = end;
    }
    fields.push_back(std::move(field));
    if (i >= line.size()) break;
    ++i;                     // the comma
    if (i == line.size()) {  // a trailing comma: one last empty field
      fields.emplace_back();
      break;
    }
  }
  return fields;
}

}  // namespace naswot::formats
