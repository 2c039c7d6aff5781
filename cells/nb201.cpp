// NAS-Bench-201 notation: the cell string `|a~0|+|b~0|c~1|+|d~0|e~1|f~2|`, its parser and printer,
// and the pre-index (the benchmark's enumeration order before shuffling, reference-semantics.md
// §3.1). The parser is strict: exact structure, input indices in order, no whitespace, so that
// every accepted string prints back to itself and a typo is reported at the token it happens.
#include <cctype>

#include "cells/nb201.h"
#include "cells/quoted.h"
#include "runtime/error.h"

namespace naswot::cells {
namespace {

constexpr std::array<const char*, kNb201OpCount> kOpNames = {"none", "skip_connect", "nor_conv_1x1",
                                                             "nor_conv_3x3", "avg_pool_3x3"};
constexpr const char* kOpList = "none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3";

// One expected token of the structure: an edge (op~from) or a node separator '+'.
struct Expected {
  bool plus = false;
  int edge = 0;
};
constexpr std::array<Expected, 8> kLayout = {
    Expected{false, 0}, Expected{true, 0},  Expected{false, 1}, Expected{false, 2},
    Expected{true, 0},  Expected{false, 3}, Expected{false, 4}, Expected{false, 5},
};

// The argument as it will appear in messages (long garbage is cut).
std::string quoted(std::string_view s) { return cells::quoted(s, 160); }

[[noreturn]] void fail(std::string_view s, const std::string& what) {
  throw_error(ErrorKind::BadInput, "nb201 arch " + quoted(s) + ": " + what);
}

std::string edge_text(int edge) {
  return "edge " + std::to_string(kNb201EdgeFrom[static_cast<size_t>(edge)]) + "->" +
         std::to_string(kNb201EdgeTo[static_cast<size_t>(edge)]);
}

Nb201Op parse_edge(std::string_view s, int pos, std::string_view tok, int edge) {
  const int from = kNb201EdgeFrom[static_cast<size_t>(edge)];
  const std::string head = "token " + std::to_string(pos) + " " + quoted(tok);
  const size_t tilde = tok.find('~');
  if (tilde == std::string_view::npos || tok.find('~', tilde + 1) != std::string_view::npos)
    fail(s, head + " is not an op~input; expected op~" + std::to_string(from) + " for " + edge_text(edge) +
                " (ops: " + kOpList + ")");
  const std::string_view name = tok.substr(0, tilde);
  const std::string_view input = tok.substr(tilde + 1);
  int op = -1;
  for (int k = 0; k < kNb201OpCount; ++k)
    if (name == kOpNames[static_cast<size_t>(k)]) op = k;
  if (op < 0)
    fail(s, head + " is not an op~input: unknown op " + quoted(name) + " (ops: " + kOpList + ")");
  if (input != std::to_string(from))
    fail(s, head + ": input " + quoted(input) + " should be " + std::to_string(from) + " (" + edge_text(edge) +
                "; each node lists its inputs 0, 1, ... in order)");
  return static_cast<Nb201Op>(op);
}

}  // namespace

const char* to_string(Nb201Op op) {
  const auto k = static_cast<size_t>(op);
  return k < kOpNames.size() ? kOpNames[k] : "?";
}

Nb201Arch parse_nb201(std::string_view s) {
  if (s.empty()) fail(s, "empty string; expected |op~0|+|op~0|op~1|+|op~0|op~1|op~2|");
  for (size_t i = 0; i < s.size(); ++i)
    if (std::isspace(static_cast<unsigned char>(s[i])) || std::iscntrl(static_cast<unsigned char>(s[i])))
      fail(s, "whitespace or control character at char " + std::to_string(i + 1));
  if (s.front() != '|') fail(s, "must start with '|' (expected |op~0|+|op~0|op~1|+|op~0|op~1|op~2|)");

  // Tokens are the texts between consecutive '|'; after the last '|' there must be nothing.
  std::vector<std::string_view> tokens;
  size_t start = 1;
  while (start <= s.size()) {
    const size_t bar = s.find('|', start);
    if (bar == std::string_view::npos) {
      tokens.push_back(s.substr(start));
      break;
    }
    tokens.push_back(s.substr(start, bar - start));
    start = bar + 1;
  }
  // A well-formed string yields the 8 layout tokens and one final empty text after the last '|'.
  const bool closed = !tokens.empty() && tokens.back().empty() && s.back() == '|';
  if (closed) tokens.pop_back();

  Nb201Arch arch;
  for (size_t t = 0; t < tokens.size(); ++t) {
    const int pos = static_cast<int>(t) + 1;
    const std::string_view tok = tokens[t];
    if (t >= kLayout.size())
      fail(s, "token " + std::to_string(pos) + " " + quoted(tok) +
                  " is extra: an NB-201 cell has 3 nodes with 1, 2 and 3 edges (8 tokens)");
    const Expected& want = kLayout[t];
    if (want.plus) {
      if (tok != "+")
        fail(s, "token " + std::to_string(pos) + " " + quoted(tok) + " should be '+' (node separator: node " +
                    std::to_string(kNb201EdgeTo[static_cast<size_t>(kLayout[t - 1].edge)]) + " has " +
                    std::to_string(kNb201EdgeTo[static_cast<size_t>(kLayout[t - 1].edge)]) + " edge(s))");
      continue;
    }
    arch.edges[static_cast<size_t>(want.edge)] = parse_edge(s, pos, tok, want.edge);
  }
  if (tokens.size() < kLayout.size()) {
    const Expected& want = kLayout[tokens.size()];
    fail(s, "ends after token " + std::to_string(tokens.size()) + "; expected token " +
                std::to_string(tokens.size() + 1) + " " +
                (want.plus ? std::string("'+'")
                           : "op~" + std::to_string(kNb201EdgeFrom[static_cast<size_t>(want.edge)]) + " for " +
                                 edge_text(want.edge)));
  }
  if (!closed) fail(s, "must end with '|'");
  return arch;
}

std::string to_string(const Nb201Arch& arch) {
  std::string out = "|";
  for (const Expected& e : kLayout) {
    if (e.plus) {
      out += "+|";
      continue;
    }
    out += to_string(arch.edges[static_cast<size_t>(e.edge)]);
    out += '~';
    out += std::to_string(kNb201EdgeFrom[static_cast<size_t>(e.edge)]);
    out += '|';
  }
  return out;
}

int nb201_preindex(const Nb201Arch& arch) {
  // (a01*25 + a02*5 + a12)*125 + a03*25 + a13*5 + a23: base 5, edge (0->1) most significant.
  int p = 0;
  for (Nb201Op op : arch.edges) {
    const int k = static_cast<int>(op);
    NASWOT_EXPECT(k >= 0 && k < kNb201OpCount, BadInput, "nb201 arch: op value " << k << " out of range");
    p = p * kNb201OpCount + k;
  }
  return p;
}

Nb201Arch nb201_from_preindex(int preindex) {
  NASWOT_EXPECT(preindex >= 0 && preindex < kNb201Size, BadInput,
                "nb201 pre-index " << preindex << " outside 0.." << kNb201Size - 1);
  Nb201Arch arch;
  for (int e = kNb201EdgeCount - 1; e >= 0; --e) {
    arch.edges[static_cast<size_t>(e)] = static_cast<Nb201Op>(preindex % kNb201OpCount);
    preindex /= kNb201OpCount;
  }
  return arch;
}

int nb201_conv_edges(const Nb201Arch& arch) {
  int c = 0;
  for (Nb201Op op : arch.edges) c += (op == Nb201Op::NorConv1x1 || op == Nb201Op::NorConv3x3) ? 1 : 0;
  return c;
}

}  // namespace naswot::cells
