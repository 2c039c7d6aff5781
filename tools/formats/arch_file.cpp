// Architecture list reader (rules in arch_file.h).
#include "tools/formats/arch_file.h"

#include "runtime/error.h"
#include "tools/formats/binary_io.h"

namespace naswot::formats {

std::vector<ArchLine> read_arch_lines(const std::string& path) {
  const std::vector<uint8_t> bytes = read_file_bytes(path);
  const std::string text(bytes.begin(), bytes.end());
  std::vector<ArchLine> out;
  size_t start = 0;
  int number = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    ++number;
    std::string line = text.substr(start, end - start);
    start = end + 1;
    const size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '#') continue;
    const size_t last = line.find_last_not_of(" \t\r");
    line = line.substr(first, last - first + 1);
    NASWOT_EXPECT(line.find('\0') == std::string::npos, BadInput,
                  path << ": line " << number << " holds a NUL byte; expected text, one architecture per line");
    out.push_back({number, line});
  }
  NASWOT_EXPECT(!out.empty(), BadInput,
                path << ": holds no architecture (expected one per line; blank lines and # comments are skipped)");
  return out;
}

std::vector<std::string> read_arch_file(const std::string& path) {
  std::vector<std::string> out;
  for (ArchLine& l : read_arch_lines(path)) out.push_back(std::move(l.arch));
  return out;
}

}  // namespace naswot::formats
