// Architecture list files (`naswot score --arch-file`): one architecture string per line.
// Leading/trailing whitespace (including a Windows '\r') is trimmed; blank lines and lines whose
// first non-blank character is '#' are skipped. Text after '#' elsewhere is kept (no
// architecture notation uses '#', but a partial strip could silently change a string).
#pragma once
#include <string>
#include <vector>

namespace naswot::formats {

struct ArchLine {
  int line = 0;  // 1-based line number in the file, for error messages
  std::string arch;
};

// Io if the file cannot be read; BadInput if it holds no architecture at all.
std::vector<ArchLine> read_arch_lines(const std::string& path);

// The strings only.
std::vector<std::string> read_arch_file(const std::string& path);

}  // namespace naswot::formats
