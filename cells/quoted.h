// How the architecture parsers (nb201.cpp, darts.cpp) show an argument in an error message: in
// single quotes, cut after max_chars with the full length noted, so that long garbage (a whole
// file read as one genotype) does not drown the message.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace naswot::cells {

inline std::string quoted(std::string_view s, size_t max_chars) {
  std::string out(1, '\'');
  out.append(s.substr(0, max_chars));
  if (s.size() <= max_chars) return out.append(1, '\'');
  return out.append("...' (").append(std::to_string(s.size())).append(" chars)");
}

}  // namespace naswot::cells
