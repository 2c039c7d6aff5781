// DARTS genotype notations (rules in darts.h): the op table, the structure check shared by every
// notation, the DARTS `Genotype(...)` and NB301 compact parsers, the `width=/depth=/aux=` suffix
// and the canonical printer. The JSON notations are in darts_json.cpp.
//
// Errors say which notation was being read, quote the text (cut when long), give the 1-based
// character position and what was expected there.
#include "cells/darts.h"

#include <array>
#include <cctype>
#include <charconv>

#include "cells/quoted.h"
#include "runtime/error.h"

namespace naswot::cells {
namespace {

constexpr std::array<const char*, kDartsOpCount> kOpNames = {
    "none",         "avg_pool_2x2", "avg_pool_3x3",     "avg_pool_5x5", "max_pool_2x2", "max_pool_3x3", "max_pool_5x5",
    "max_pool_7x7", "skip_connect", "conv_1x1",         "conv_3x3",     "sep_conv_3x3", "sep_conv_5x5", "sep_conv_7x7",
    "dil_conv_3x3", "dil_conv_5x5", "dil_sep_conv_3x3", "conv_3x1_1x3", "conv_7x1_1x7",
};

std::string quoted(std::string_view s) { return cells::quoted(s, 120); }

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }
bool is_ident(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; }

// Input rule of one edge, shared by the parsers that know character positions: edge e belongs to
// node 2 + e/2, which may read the cell inputs 0, 1 and the nodes before it.
std::string edge_input_problem(int edge, int input) {
  const int node = 2 + edge / 2;
  if (input >= 0 && input < node) return {};
  return "edge " + std::to_string(edge) + " (into node " + std::to_string(node) + ") reads state " +
         std::to_string(input) + "; expected 0.." + std::to_string(node - 1) +
         " (0 and 1 are the cell inputs, 2.. the earlier nodes)";
}

// A read position over one notation's text; every failure names the notation, the text and the
// 1-based character position.
class Cursor {
 public:
  Cursor(std::string_view text, std::string notation) : m_text(text), m_notation(std::move(notation)) {}

  [[noreturn]] void fail_at(size_t pos, const std::string& what) const {
    throw_error(ErrorKind::BadInput,
                m_notation + " " + quoted(m_text) + ": char " + std::to_string(pos + 1) + ": " + what);
  }
  [[noreturn]] void fail(const std::string& what) const { fail_at(m_pos, what); }
  [[noreturn]] void fail_whole(const std::string& what) const {
    throw_error(ErrorKind::BadInput, m_notation + " " + quoted(m_text) + ": " + what);
  }

  size_t pos() const { return m_pos; }
  void skip_ws() {
    while (m_pos < m_text.size() && is_space(m_text[m_pos])) ++m_pos;
  }
  bool at_end() {
    skip_ws();
    return m_pos >= m_text.size();
  }
  // The next non-blank character, or '\0' at the end.
  char peek() {
    skip_ws();
    return m_pos < m_text.size() ? m_text[m_pos] : '\0';
  }
  std::string found() {
    const char c = peek();
    if (c == '\0') return "the end of the text";
    return "'" + std::string(1, c) + "'";
  }
  bool eat(char c) {
    if (peek() != c) return false;
    ++m_pos;
    return true;
  }
  void expect(char c, const std::string& context) {
    if (!eat(c)) fail("expected '" + std::string(1, c) + "' " + context + ", found " + found());
  }
  std::string_view ident() {
    skip_ws();
    const size_t start = m_pos;
    while (m_pos < m_text.size() && is_ident(m_text[m_pos])) ++m_pos;
    return m_text.substr(start, m_pos - start);
  }
  int integer(const std::string& what) {
    skip_ws();
    const size_t start = m_pos;
    if (m_pos < m_text.size() && (m_text[m_pos] == '-' || m_text[m_pos] == '+')) ++m_pos;
    while (m_pos < m_text.size() && std::isdigit(static_cast<unsigned char>(m_text[m_pos]))) ++m_pos;
    int v = 0;
    const char* b = m_text.data() + start + (start < m_text.size() && m_text[start] == '+' ? 1 : 0);
    const char* e = m_text.data() + m_pos;
    const auto [ptr, ec] = std::from_chars(b, e, v);
    if (m_pos == start || ec != std::errc() || ptr != e) {
      m_pos = start;
      fail("expected " + what + " (an integer), found " + found());
    }
    return v;
  }
  // A Python string literal in '' or "" (no escapes: op names never need them).
  std::string_view string_literal(const std::string& what) {
    const char q = peek();
    if (q != '\'' && q != '"') fail("expected " + what + " in quotes, found " + found());
    const size_t start = ++m_pos;
    const size_t end = m_text.find(q, start);
    if (end == std::string_view::npos) fail_at(start - 1, "unterminated string");
    m_pos = end + 1;
    return m_text.substr(start, end - start);
  }

 private:
  std::string_view m_text;
  std::string m_notation;
  size_t m_pos = 0;
};

DartsOp op_at(Cursor& cur, size_t pos, std::string_view name) {
  const std::optional<DartsOp> op = darts_op_from_name(name);
  if (!op) cur.fail_at(pos, "unknown op " + quoted(name) + " (ops: " + darts_op_list() + ")");
  return *op;
}

// [('op', i), ...] or a tuple of pairs; pairs may be tuples or lists.
std::vector<DartsEdge> parse_pair_list(Cursor& cur, const std::string& key) {
  const char open = cur.peek();
  if (open != '[' && open != '(') cur.fail("expected '[' to open the " + key + " list, found " + cur.found());
  cur.eat(open);
  const char close = open == '[' ? ']' : ')';
  std::vector<DartsEdge> edges;
  while (!cur.eat(close)) {
    const int e = static_cast<int>(edges.size());
    const char popen = cur.peek();
    if (popen != '(' && popen != '[')
      cur.fail("expected '(' to open pair " + std::to_string(e) + " of " + key + " (an ('op', input) pair) or '" +
               std::string(1, close) + "' to close the list, found " + cur.found());
    cur.eat(popen);
    const char pclose = popen == '(' ? ')' : ']';
    cur.skip_ws();
    const size_t op_pos = cur.pos();
    const DartsOp op = op_at(cur, op_pos, cur.string_literal("an op name"));
    cur.expect(',', "between the op and its input");
    cur.skip_ws();
    const size_t in_pos = cur.pos();
    const int input = cur.integer("the input state of " + key + " pair " + std::to_string(e));
    if (const std::string why = edge_input_problem(e, input); !why.empty()) cur.fail_at(in_pos, key + ": " + why);
    cur.eat(',');
    cur.expect(pclose, "to close pair " + std::to_string(e) + " of " + key);
    edges.push_back({op, input});
    if (!cur.eat(',')) {
      cur.expect(close, "after pair " + std::to_string(e) + " of " + key + " (',' or the end of the list)");
      break;
    }
  }
  return edges;
}

// [2, 3, 4, 5], (2, 3, 4, 5) or range(a, b) / range(b).
std::vector<int> parse_concat(Cursor& cur, const std::string& key) {
  std::vector<int> out;
  const char c = cur.peek();
  if (c == '[' || c == '(') {
    cur.eat(c);
    const char close = c == '[' ? ']' : ')';
    while (!cur.eat(close)) {
      out.push_back(cur.integer("a state index in " + key));
      if (!cur.eat(',')) {
        cur.expect(close, "to close " + key);
        break;
      }
    }
    return out;
  }
  const size_t start = cur.pos();
  if (cur.ident() != "range") {
    cur.fail_at(start, "expected a list [2, 3, 4, 5] or range(2, 6) for " + key);
  }
  cur.expect('(', "after range");
  int a = cur.integer("the range start");
  int b = 0;
  if (cur.eat(',')) {
    b = cur.integer("the range end");
  } else {
    b = a;
    a = 0;
  }
  cur.expect(')', "to close range(...)");
  if (b <= a || b - a > 2 * kDartsMaxSteps)
    cur.fail_at(start, key + ": range(" + std::to_string(a) + ", " + std::to_string(b) + ") is empty or too long");
  for (int i = a; i < b; ++i) out.push_back(i);
  return out;
}

// One `op~input` list (one cell) of the compact notation, between [begin, end) of `text`.
std::vector<DartsEdge> parse_compact_list(Cursor& cur, std::string_view text, size_t begin, size_t end,
                                          const std::string& cell) {
  std::vector<DartsEdge> edges;
  size_t i = begin;
  while (true) {
    while (i < end && is_space(text[i])) ++i;
    size_t j = i;
    while (j < end && text[j] != ',') ++j;
    size_t k = j;
    while (k > i && is_space(text[k - 1])) --k;
    const std::string_view entry = text.substr(i, k - i);
    const int e = static_cast<int>(edges.size());
    const size_t tilde = entry.find('~');
    if (entry.empty() || tilde == std::string_view::npos)
      cur.fail_at(i, cell + " entry " + std::to_string(e) + " " + quoted(entry) + " is not op~input");
    const DartsOp op = op_at(cur, i, entry.substr(0, tilde));
    const std::string_view digits = entry.substr(tilde + 1);
    int input = -1;
    const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), input);
    if (digits.empty() || ec != std::errc() || ptr != digits.data() + digits.size())
      cur.fail_at(i + tilde + 1, cell + " entry " + std::to_string(e) + ": input " + quoted(digits) +
                                     " is not a non-negative integer");
    if (const std::string why = edge_input_problem(e, input); !why.empty())
      cur.fail_at(i + tilde + 1, cell + ": " + why);
    edges.push_back({op, input});
    if (j >= end) break;
    i = j + 1;
  }
  return edges;
}

std::vector<int> default_concat(int steps) {
  std::vector<int> c;
  for (int i = 0; i < steps; ++i) c.push_back(2 + i);
  return c;
}

// The end of the genotype part of `text` (what a suffix follows): after the ')' matching the first
// '(' for DARTS, after the bracket closing the first one for JSON (strings skipped), or at the first
// blank-separated token holding '=' for the compact form. npos when a bracket is never closed.
size_t genotype_end(std::string_view text, size_t start) {
  const char first = text[start];
  if (first == '{' || first == '[' || first == 'G') {
    int depth = 0;
    bool opened = false;
    char quote = 0;
    for (size_t i = start; i < text.size(); ++i) {
      const char c = text[i];
      if (quote) {
        if (c == '\\' && first != 'G')
          ++i;
        else if (c == quote)
          quote = 0;
        continue;
      }
      if (c == '"' || (c == '\'' && first == 'G'))
        quote = c;
      else if (c == '(' || c == '[' || c == '{') {
        ++depth;
        opened = true;
      } else if ((c == ')' || c == ']' || c == '}') && --depth == 0) {
        return i + 1;
      }
    }
    return opened ? std::string_view::npos : text.size();
  }
  size_t i = start;
  while (i < text.size()) {
    while (i < text.size() && is_space(text[i])) ++i;
    size_t j = i;
    while (j < text.size() && !is_space(text[j])) ++j;
    if (text.substr(i, j - i).find('=') != std::string_view::npos) return i;
    i = j;
  }
  return text.size();
}

}  // namespace

const char* to_string(DartsOp op) {
  const auto k = static_cast<size_t>(op);
  return k < kOpNames.size() ? kOpNames[k] : "?";
}

std::optional<DartsOp> darts_op_from_name(std::string_view name) {
  for (size_t k = 0; k < kOpNames.size(); ++k)
    if (name == kOpNames[k]) return static_cast<DartsOp>(k);
  return std::nullopt;
}

std::string darts_op_list() {
  std::string s;
  for (const char* n : kOpNames) s += (s.empty() ? "" : ", ") + std::string(n);
  return s;
}

void validate_darts_cell(const DartsCell& cell, const std::string& where) {
  const int n = static_cast<int>(cell.edges.size());
  NASWOT_EXPECT(
      n > 0 && n % 2 == 0 && n <= 2 * kDartsMaxSteps, BadInput,
      where << ": " << n << " edges; expected 2 per node (an even number from 2 to " << 2 * kDartsMaxSteps << ")");
  for (int e = 0; e < n; ++e) {
    const DartsEdge& edge = cell.edges[static_cast<size_t>(e)];
    NASWOT_EXPECT(static_cast<int>(edge.op) < kDartsOpCount, BadInput,
                  where << ": edge " << e << " has op value " << static_cast<int>(edge.op));
    const std::string why = edge_input_problem(e, edge.input);
    NASWOT_EXPECT(why.empty(), BadInput, where << ": " << why);
  }
  NASWOT_EXPECT(!cell.concat.empty(), BadInput, where << ": empty concat; expected the states to concatenate");
  for (int s : cell.concat)
    NASWOT_EXPECT(s >= 0 && s < 2 + cell.steps(), BadInput,
                  where << ": concat lists state " << s << "; expected 0.." << 1 + cell.steps() << " (this cell has "
                        << cell.steps() << " nodes)");
}

DartsGenotype parse_darts_genotype(std::string_view text) {
  Cursor cur(text, "darts genotype");
  cur.skip_ws();
  const size_t start = cur.pos();
  if (cur.ident() != "Genotype")
    cur.fail_at(start, "expected Genotype(normal=[...], normal_concat=[...], reduce=[...], reduce_concat=[...])");
  cur.expect('(', "after Genotype");
  std::optional<std::vector<DartsEdge>> normal, reduce;
  std::optional<std::vector<int>> normal_concat, reduce_concat;
  while (!cur.eat(')')) {
    cur.skip_ws();
    const size_t key_pos = cur.pos();
    const std::string key(cur.ident());
    if (key.empty())
      cur.fail("expected a keyword (normal, normal_concat, reduce, reduce_concat), found " + cur.found());
    cur.expect('=', "after " + key);
    auto once = [&](bool seen) {
      if (seen) cur.fail_at(key_pos, key + " is given twice");
    };
    if (key == "normal") {
      once(normal.has_value());
      normal = parse_pair_list(cur, key);
    } else if (key == "reduce") {
      once(reduce.has_value());
      reduce = parse_pair_list(cur, key);
    } else if (key == "normal_concat") {
      once(normal_concat.has_value());
      normal_concat = parse_concat(cur, key);
    } else if (key == "reduce_concat") {
      once(reduce_concat.has_value());
      reduce_concat = parse_concat(cur, key);
    } else {
      cur.fail_at(key_pos,
                  "unknown keyword " + quoted(key) + "; expected normal, normal_concat, reduce, reduce_concat");
    }
    if (!cur.eat(',')) {
      cur.expect(')', "after " + key + " (',' or the closing parenthesis)");
      break;
    }
  }
  if (!cur.at_end()) cur.fail("unexpected text after the closing parenthesis");
  if (!normal || !reduce || !normal_concat || !reduce_concat)
    cur.fail_whole(std::string("missing ") +
                   (!normal          ? "normal"
                    : !normal_concat ? "normal_concat"
                    : !reduce        ? "reduce"
                                     : "reduce_concat") +
                   "; expected all of normal, normal_concat, reduce, reduce_concat");
  DartsGenotype g{{*normal, *normal_concat}, {*reduce, *reduce_concat}};
  validate_darts_cell(g.normal, "darts genotype " + quoted(text) + ": normal cell");
  validate_darts_cell(g.reduce, "darts genotype " + quoted(text) + ": reduce cell");
  return g;
}

DartsGenotype parse_darts_compact(std::string_view normal, std::string_view reduce) {
  DartsGenotype g;
  Cursor nc(normal, "compact normal cell");
  g.normal.edges = parse_compact_list(nc, normal, 0, normal.size(), "normal cell");
  Cursor rc(reduce, "compact reduce cell");
  g.reduce.edges = parse_compact_list(rc, reduce, 0, reduce.size(), "reduce cell");
  g.normal.concat = default_concat(g.normal.steps());
  g.reduce.concat = default_concat(g.reduce.steps());
  validate_darts_cell(g.normal, "compact normal cell " + quoted(normal));
  validate_darts_cell(g.reduce, "compact reduce cell " + quoted(reduce));
  return g;
}

DartsGenotype parse_darts_compact(std::string_view line) {
  Cursor cur(line, "compact genotype");
  // Entries are runs of [A-Za-z0-9_~]. What separates two entries (blanks ignored) decides whether
  // the second starts the reduce list: a bare ',' continues a list; ';', '|', nothing (blanks
  // only) or quotes around one of ',', ';', '|' (a CSV-style "...","...") split.
  struct Span {
    size_t begin, end;
  };
  std::vector<Span> entries;
  std::vector<size_t> splits;  // indices into entries of the first entry after a split
  std::string sep;             // separator text since the last entry, blanks removed
  size_t sep_pos = 0;
  for (size_t i = 0; i < line.size();) {
    const char c = line[i];
    if (!(is_ident(c) || c == '~')) {
      if (c != ',' && c != ';' && c != '|' && c != '"' && !is_space(c))
        cur.fail_at(i, "unexpected '" + std::string(1, c) + "'; expected op~input entries separated by ','");
      if (!is_space(c)) {
        if (sep.empty()) sep_pos = i;
        sep += c;
      }
      ++i;
      continue;
    }
    size_t j = i;
    while (j < line.size() && (is_ident(line[j]) || line[j] == '~')) ++j;
    if (!entries.empty() && sep != ",") {
      std::string bare;
      for (char s : sep)
        if (s != '"') bare += s;
      const bool quoted_sep = bare.size() != sep.size();
      if (!(bare.empty() || bare == ";" || bare == "|" || (quoted_sep && bare == ",")))
        cur.fail_at(sep_pos, "separator '" + sep +
                                 "' between entries; expected ',' within a list and ';' between the "
                                 "normal and the reduce list");
      splits.push_back(entries.size());
    }
    entries.push_back({i, j});
    sep.clear();
    i = j;
  }
  if (entries.empty()) cur.fail_whole("no op~input entries; expected the normal list, then the reduce list");
  size_t cut = 0;
  if (splits.size() == 1) {
    cut = splits[0];
  } else if (splits.empty()) {
    if (entries.size() % 4 != 0)
      cur.fail_whole(std::to_string(entries.size()) +
                     " entries in one list; expected the normal and the reduce list separated by ';' (or one list of "
                     "4k entries, 2k per cell)");
    cut = entries.size() / 2;
  } else {
    cur.fail_at(entries[splits[1]].begin, "a third list starts here; expected two (normal, then reduce)");
  }
  DartsGenotype g;
  g.normal.edges = parse_compact_list(cur, line, entries[0].begin, entries[cut - 1].end, "normal cell");
  g.reduce.edges = parse_compact_list(cur, line, entries[cut].begin, entries.back().end, "reduce cell");
  g.normal.concat = default_concat(g.normal.steps());
  g.reduce.concat = default_concat(g.reduce.steps());
  validate_darts_cell(g.normal, "compact genotype " + quoted(line) + ": normal cell");
  validate_darts_cell(g.reduce, "compact genotype " + quoted(line) + ": reduce cell");
  return g;
}

DartsArch parse_darts_arch(std::string_view text) {
  size_t start = 0;
  while (start < text.size() && is_space(text[start])) ++start;
  NASWOT_EXPECT(start < text.size(), BadInput,
                "darts arch: empty text; expected Genotype(...), a JSON genotype or op~input lists");
  const size_t end = genotype_end(text, start);
  NASWOT_EXPECT(end != std::string_view::npos, BadInput,
                "darts arch " << quoted(text) << ": an opening bracket at char " << start + 1 << " is never closed");
  const std::string_view body = text.substr(start, end - start);
  DartsArch arch;
  const char first = text[start];
  if (first == '{' || first == '[') {
    arch = parse_nds_item_json(body);
  } else if (body.substr(0, 8) == "Genotype") {
    arch.genotype = parse_darts_genotype(body);
  } else if (body.find('~') != std::string_view::npos) {
    arch.genotype = parse_darts_compact(body);
  } else {
    throw_error(ErrorKind::BadInput, "darts arch " + quoted(text) +
                                         ": not a genotype; expected Genotype(normal=[...], ...), a JSON genotype "
                                         "{\"normal\": ...} or NDS item, or op~input lists (normal;reduce)");
  }
  // Suffix: blank-separated key=value settings.
  Cursor cur(text, "darts arch");
  bool width_set = false, depth_set = false, aux_set = false;
  size_t i = end;
  while (true) {
    while (i < text.size() && is_space(text[i])) ++i;
    if (i >= text.size()) break;
    size_t j = i;
    while (j < text.size() && !is_space(text[j])) ++j;
    const std::string_view token = text.substr(i, j - i);
    const size_t eq = token.find('=');
    const std::string_view key = token.substr(0, eq);
    const std::string_view value = eq == std::string_view::npos ? std::string_view() : token.substr(eq + 1);
    auto positive = [&](bool& seen, int from_item) {
      if (seen || from_item > 0) cur.fail_at(i, std::string(key) + " is given twice");
      seen = true;
      int v = 0;
      const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
      if (value.empty() || ec != std::errc() || ptr != value.data() + value.size() || v < 1 || v > 4096)
        cur.fail_at(i + eq + 1, std::string(key) + "=" + std::string(value) + ": expected an integer from 1 to 4096");
      return v;
    };
    if (eq == std::string_view::npos) {
      cur.fail_at(i, "unexpected " + quoted(token) + " after the genotype; expected width=C, depth=L or aux=true");
    } else if (key == "width") {
      arch.width = positive(width_set, arch.width);
    } else if (key == "depth") {
      arch.depth = positive(depth_set, arch.depth);
    } else if (key == "aux") {
      if (aux_set) cur.fail_at(i, "aux is given twice");
      aux_set = true;
      if (value != "true" && value != "false") cur.fail_at(i + eq + 1, "aux: expected true or false");
      arch.aux = value == "true";
    } else {
      cur.fail_at(i, "unknown setting " + quoted(key) + "; expected width=C, depth=L or aux=true");
    }
    i = j;
  }
  return arch;
}

std::string to_string(const DartsGenotype& g) {
  auto pairs = [](const DartsCell& c) {
    std::string s = "[";
    for (size_t k = 0; k < c.edges.size(); ++k) {
      if (k) s += ", ";
      s += "('" + std::string(to_string(c.edges[k].op)) + "', " + std::to_string(c.edges[k].input) + ")";
    }
    return s + "]";
  };
  auto ints = [](const std::vector<int>& v) {
    std::string s = "[";
    for (size_t k = 0; k < v.size(); ++k) s += (k ? ", " : "") + std::to_string(v[k]);
    return s + "]";
  };
  return "Genotype(normal=" + pairs(g.normal) + ", normal_concat=" + ints(g.normal.concat) +
         ", reduce=" + pairs(g.reduce) + ", reduce_concat=" + ints(g.reduce.concat) + ")";
}

std::string to_string(const DartsArch& a) {
  std::string s = to_string(a.genotype);
  if (a.width > 0) s += " width=" + std::to_string(a.width);
  if (a.depth > 0) s += " depth=" + std::to_string(a.depth);
  if (a.aux) s += " aux=true";
  return s;
}

}  // namespace naswot::cells
