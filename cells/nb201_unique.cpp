// Isomorphism classes of NB201 cells (nb201_unique.h).
#include "cells/nb201_unique.h"

#include <algorithm>
#include <array>
#include <unordered_map>

#include "runtime/error.h"

namespace naswot::cells {

namespace {

constexpr int kNodes = 4;

constexpr const char* kZeroMarker = "#";  // Benchmark form: an edge that contributes zero

std::string join_sorted(std::vector<std::string> terms) {
  std::sort(terms.begin(), terms.end());
  std::string out;
  for (size_t i = 0; i < terms.size(); ++i) {
    if (i) out += '+';
    out += terms[i];
  }
  return out;
}

// Short term names; the parentheses make the concatenation unambiguous.
const char* term_name(Nb201Op op) {
  switch (op) {
    case Nb201Op::NorConv1x1: return "c1";
    case Nb201Op::NorConv3x3: return "c3";
    case Nb201Op::AvgPool3x3: return "ap";
    case Nb201Op::None:
    case Nb201Op::SkipConnect: break;
  }
  return "?";
}

// The benchmark's string (nb201_unique.h, Benchmark): zero markers stay terms, no flattening.
std::string benchmark_form(const Nb201Arch& arch) {
  std::array<std::vector<std::string>, kNodes> terms;
  std::array<std::string, kNodes> node;
  node[0] = "x";
  for (int e = 0; e < kNb201EdgeCount; ++e) {  // string order: every node is complete before it is read
    const auto from = static_cast<size_t>(kNb201EdgeFrom[static_cast<size_t>(e)]);
    const auto to = static_cast<size_t>(kNb201EdgeTo[static_cast<size_t>(e)]);
    if (node[from].empty()) node[from] = join_sorted(terms[from]);
    const Nb201Op op = arch.edges[static_cast<size_t>(e)];
    if (op == Nb201Op::None || node[from] == kZeroMarker)
      terms[to].push_back(kZeroMarker);
    else if (op == Nb201Op::SkipConnect)
      terms[to].push_back(node[from]);
    else
      terms[to].push_back("(" + node[from] + ")" + term_name(op));
  }
  return join_sorted(terms[kNodes - 1]);
}

// The function form (nb201_unique.h, Function).
std::string function_form(const Nb201Arch& arch) {
  // terms[j]: the summands of node j; an empty list is a zero node.
  std::array<std::vector<std::string>, kNodes> terms;
  terms[0] = {"x"};
  for (int e = 0; e < kNb201EdgeCount; ++e) {  // string order visits every edge after its source node is complete
    const auto& from = terms[static_cast<size_t>(kNb201EdgeFrom[static_cast<size_t>(e)])];
    auto& to = terms[static_cast<size_t>(kNb201EdgeTo[static_cast<size_t>(e)])];
    const Nb201Op op = arch.edges[static_cast<size_t>(e)];
    if (op == Nb201Op::None || from.empty()) continue;
    if (op == Nb201Op::SkipConnect) {
      to.insert(to.end(), from.begin(), from.end());
    } else {
      to.push_back(std::string(term_name(op)) + "(" + join_sorted(from) + ")");
    }
  }
  const std::vector<std::string>& out = terms[kNodes - 1];
  return out.empty() ? "0" : join_sorted(out);
}

Nb201Classes compute_classes(Nb201Equivalence equivalence) {
  Nb201Classes c;
  c.class_of.resize(kNb201Size);
  std::unordered_map<std::string, int32_t> ids;
  for (int index = 0; index < kNb201Size; ++index) {
    const auto [it, added] =
        ids.emplace(nb201_canonical(nb201_from_index(index), equivalence), static_cast<int32_t>(c.members.size()));
    if (added) c.members.emplace_back();
    c.class_of[static_cast<size_t>(index)] = it->second;
    c.members[static_cast<size_t>(it->second)].push_back(index);
  }
  return c;
}

}  // namespace

const char* to_string(Nb201Equivalence equivalence) {
  return equivalence == Nb201Equivalence::Benchmark ? "benchmark" : "function";
}

Nb201Equivalence parse_nb201_equivalence(const std::string& name) {
  if (name == "benchmark") return Nb201Equivalence::Benchmark;
  if (name == "function") return Nb201Equivalence::Function;
  throw_error(ErrorKind::BadInput, "--unique-by '" + name + "': expected benchmark (NAS-Bench-201's 6,466 classes) or "
                                   "function (4,930 classes of equal cell functions)");
}

std::string nb201_canonical(const Nb201Arch& arch, Nb201Equivalence equivalence) {
  return equivalence == Nb201Equivalence::Benchmark ? benchmark_form(arch) : function_form(arch);
}

const Nb201Classes& nb201_unique_classes(Nb201Equivalence equivalence) {
  static const Nb201Classes benchmark = compute_classes(Nb201Equivalence::Benchmark);
  static const Nb201Classes function = compute_classes(Nb201Equivalence::Function);
  return equivalence == Nb201Equivalence::Benchmark ? benchmark : function;
}

}  // namespace naswot::cells
