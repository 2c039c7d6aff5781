// Benchmark accuracy tables (format in bench_table.h).
#include "search/bench_table.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <optional>

#include "cells/darts.h"
#include "runtime/error.h"
#include "search/darts_space.h"
#include "search/genotype_table.h"
#include "tools/formats/binary_io.h"
#include "tools/formats/csv.h"

namespace naswot::search {

Split parse_split(const std::string& name) {
  if (name == "valid") return Split::Valid;
  if (name == "test") return Split::Test;
  throw_error(ErrorKind::BadInput, "split '" + name + "': expected valid or test");
}

const char* to_string(Split split) { return split == Split::Valid ? "valid" : "test"; }

namespace {

constexpr const char* kEmbeddedSource = "embedded NB201 table (data/nb201/nb201_accuracies.csv)";

// The required columns, in the order the header of the shipped table lists them.
enum Column { Index, Arch, C10Test, C100Test, In16Test, C10Valid, C100Valid, In16Valid, kColumnCount };
constexpr std::array<const char*, kColumnCount> kColumnNames = {
    "index",           "arch",          "cifar10_test",   "cifar100_test",
    "imagenet16_test", "cifar10_valid", "cifar100_valid", "imagenet16_valid"};

std::string expected_columns() {
  std::string s;
  for (size_t i = 0; i < kColumnNames.size(); ++i) s += (i ? ", " : "") + std::string(kColumnNames[i]);
  return s;
}

bool blank(std::string_view line) { return line.find_first_not_of(" \t\r") == std::string_view::npos; }

// The whole field must be the number (std::from_chars: no locale, no leading '+' or spaces).
std::optional<double> parse_double(const std::string& s) {
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

std::optional<int64_t> parse_int(const std::string& s) {
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

// The numeric columns of a table: every column but the architecture's own, parsed per row. A
// field that is not a number makes its column non-numeric (remembered with its line), which is an
// error only when the column is asked for.
class NumericColumns {
 public:
  NumericColumns(const std::vector<std::string>& header, const std::vector<size_t>& skip) {
    for (size_t f = 0; f < header.size(); ++f) {
      if (std::find(skip.begin(), skip.end(), f) != skip.end()) continue;
      m_positions.push_back(f);
      names.push_back(header[f]);
      errors.emplace_back();
    }
  }
  std::vector<double> values_of(const std::vector<std::string>& fields, const std::string& at) {
    std::vector<double> v(m_positions.size(), std::numeric_limits<double>::quiet_NaN());
    for (size_t c = 0; c < m_positions.size(); ++c) {
      const std::string& field = fields[m_positions[c]];
      if (field.empty()) continue;
      if (const std::optional<double> x = parse_double(field)) {
        v[c] = *x;
      } else if (errors[c].empty()) {
        errors[c] = at + ": column " + std::to_string(m_positions[c] + 1) + " (" + names[c] + ") holds '" + field +
                    "', not a number";
      }
    }
    return v;
  }
  std::vector<std::string> names, errors;

 private:
  std::vector<size_t> m_positions;
};

double parse_accuracy(const std::string& field, const std::string& at, size_t column, const std::string& name) {
  const std::optional<double> v = parse_double(field);
  NASWOT_EXPECT(v && std::isfinite(*v) && *v >= 0.0 && *v <= 100.0, BadInput,
                at << ": column " << column + 1 << " (" << name
                   << "): expected an accuracy in percent, a number in [0, 100], found '" << field << "'");
  return *v;
}

}  // namespace

BenchTable BenchTable::parse(std::string_view text, const std::string& source) {
  if (cells::looks_like_json(text)) return parse_nds(text, source);
  return looks_like_genotype_table(text) ? parse_darts(text, source) : parse_nb201(text, source);
}

void BenchTable::add_row(BenchRow row, const std::string& at) {
  if (m_kind == TableKind::Nds) {
    const size_t position = m_rows.size();
    m_by_index.emplace(row.index, position);
    const auto [it, added] = m_by_arch.emplace(key_of(row.arch), position);
    if (!added) it->second = kAmbiguous;
    const auto [git, gadded] = m_by_genotype.emplace(cells::to_string(cells::parse_darts_arch(row.arch).genotype), position);
    if (!gadded) git->second = kAmbiguous;
    m_rows.push_back(std::move(row));
    return;
  }
  const auto [index_it, new_index] = m_by_index.emplace(row.index, m_rows.size());
  NASWOT_EXPECT(new_index, BadInput,
                at << ": index " << row.index << " repeats line " << m_rows[index_it->second].line
                   << "; expected each index once");
  const auto [arch_it, new_arch] = m_by_arch.emplace(row.arch, m_rows.size());
  NASWOT_EXPECT(new_arch, BadInput,
                at << ": " << (m_kind == TableKind::Darts ? "genotype " : "arch ") << row.arch << " repeats line "
                   << m_rows[arch_it->second].line << "; expected each architecture once");
  m_rows.push_back(std::move(row));
}

BenchTable BenchTable::parse_nb201(std::string_view text, const std::string& source) {
  BenchTable t;
  t.m_source = source;
  for (DatasetKind d : kBenchDatasets)
    for (Split s : {Split::Valid, Split::Test}) t.m_accuracies.emplace_back(d, s);
  std::array<size_t, kColumnCount> where{};  // position of each required column in the header
  size_t width = 0;                          // fields per line, from the header
  bool have_header = false;
  std::optional<NumericColumns> numeric;
  formats::for_each_line(text, [&](int number, std::string_view line) {
    if (blank(line)) return;
    const std::string at = source + ":" + std::to_string(number);
    std::vector<std::string> fields = formats::split_csv_line(line, at);
    if (!have_header) {
      have_header = true;
      width = fields.size();
      for (size_t c = 0; c < kColumnCount; ++c) {
        size_t found = fields.size();
        for (size_t f = 0; f < fields.size(); ++f) {
          if (fields[f] != kColumnNames[c]) continue;
          NASWOT_EXPECT(found == fields.size(), BadInput,
                        at << ": header names column '" << kColumnNames[c] << "' twice (columns " << found + 1
                           << " and " << f + 1 << ")");
          found = f;
        }
        NASWOT_EXPECT(found < fields.size(), BadInput,
                      at << ": header lacks column '" << kColumnNames[c] << "'; expected a CSV header with "
                         << expected_columns() << ", or a DARTS genotype table with normal, reduce and "
                         << kDartsAccuracyColumn);
        where[c] = found;
      }
      numeric.emplace(fields, std::vector<size_t>{where[Arch]});
      return;
    }
    NASWOT_EXPECT(fields.size() == width, BadInput,
                  at << ": " << fields.size() << " fields, expected " << width << " as in the header");
    BenchRow row;
    row.line = number;
    const std::string& index_text = fields[where[Index]];
    const std::optional<int64_t> index = parse_int(index_text);
    NASWOT_EXPECT(index && *index >= 0, BadInput,
                  at << ": column " << where[Index] + 1 << " (index): expected a non-negative integer, found '"
                     << index_text << "'");
    row.index = *index;
    row.arch = fields[where[Arch]];
    NASWOT_EXPECT(
        !row.arch.empty(), BadInput,
        at << ": column " << where[Arch] + 1 << " (arch): expected an architecture string, found an empty field");
    for (size_t c = C10Test; c < kColumnCount; ++c) {
      const double v = parse_accuracy(fields[where[c]], at, where[c], kColumnNames[c]);
      const size_t dataset = (c - C10Test) % 3;
      (c < C10Valid ? row.test : row.valid)[dataset] = v;
    }
    row.values = numeric->values_of(fields, at);
    t.add_row(std::move(row), at);
  });
  NASWOT_EXPECT(have_header, BadInput, source << ": empty; expected a CSV header with " << expected_columns());
  NASWOT_EXPECT(!t.m_rows.empty(), BadInput, source << ": has a header but no rows");
  t.m_column_names = std::move(numeric->names);
  t.m_column_errors = std::move(numeric->errors);
  return t;
}

BenchTable BenchTable::parse_darts(std::string_view text, const std::string& source) {
  const GenotypeTable g = parse_genotype_table(text, source);
  BenchTable t;
  t.m_source = source;
  t.m_kind = TableKind::Darts;
  t.m_accuracies = {{DatasetKind::Cifar10, Split::Valid}};
  const auto& header = g.columns;
  const size_t accuracy =
      static_cast<size_t>(std::find(header.begin(), header.end(), kDartsAccuracyColumn) - header.begin());
  NASWOT_EXPECT(accuracy < header.size(), BadInput,
                source << ":" << g.header_line << ": header lacks column '" << kDartsAccuracyColumn
                       << "'; expected a DARTS genotype table with normal, reduce and " << kDartsAccuracyColumn
                       << " (CIFAR-10 validation accuracy, percent)");
  NumericColumns numeric(header, {g.normal_column, g.reduce_column});
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (const GenotypeTableRow& r : g.rows) {
    const std::string at = source + ":" + std::to_string(r.line);
    BenchRow row;
    row.line = r.line;
    row.index = static_cast<int64_t>(t.m_rows.size());
    row.arch = cells::to_string(r.genotype);
    row.valid = {nan, nan, nan};
    row.test = {nan, nan, nan};
    row.valid[static_cast<size_t>(DatasetKind::Cifar10)] =
        parse_accuracy(r.fields[accuracy], at, accuracy, kDartsAccuracyColumn);
    row.values = numeric.values_of(r.fields, at);
    t.add_row(std::move(row), at);
  }
  t.m_column_names = std::move(numeric.names);
  t.m_column_errors = std::move(numeric.errors);
  return t;
}

BenchTable BenchTable::parse_nds(std::string_view text, const std::string& source) {
  NASWOT_EXPECT(!darts_space_is_imagenet("nds", source), BadInput,
                source << ": an NDS ImageNet space ('_in' in the name): its accuracies are ImageNet top-1, which a "
                          "table here cannot hold (datasets: cifar10, cifar100, imagenet16); use it with --nds-json "
                          "for scores only");
  const std::vector<cells::NdsItem> items = cells::parse_nds_json(text, source);
  BenchTable t;
  t.m_source = source;
  t.m_kind = TableKind::Nds;
  t.m_accuracies = {{DatasetKind::Cifar10, Split::Test}};
  t.m_column_names = {kNdsAccuracyColumn, "width", "depth"};
  for (const char* field : cells::kNdsNumericFields)
    if (std::any_of(items.begin(), items.end(), [&](const cells::NdsItem& item) {
          const auto has = [&](const auto& kv) { return kv.first == field; };
          return std::any_of(item.numbers.begin(), item.numbers.end(), has) ||
                 std::any_of(item.bad_fields.begin(), item.bad_fields.end(), has);
        }))
      t.m_column_names.emplace_back(field);
  t.m_column_errors.assign(t.m_column_names.size(), "");
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (const cells::NdsItem& item : items) {
    NASWOT_EXPECT(item.test_top1_problem.empty(), BadInput, item.test_top1_problem);
    BenchRow row;
    row.index = static_cast<int64_t>(t.m_rows.size());
    row.arch = cells::to_string(item.arch);
    row.valid = {nan, nan, nan};
    row.test = {nan, nan, nan};
    const double accuracy = 100.0 - item.final_test_top1;
    row.test[static_cast<size_t>(DatasetKind::Cifar10)] = accuracy;
    row.values.assign(t.m_column_names.size(), nan);
    row.values[0] = accuracy;
    row.values[1] = item.arch.width;
    row.values[2] = item.arch.depth;
    for (size_t c = 3; c < t.m_column_names.size(); ++c) {
      for (const auto& [key, value] : item.numbers)
        if (key == t.m_column_names[c]) row.values[c] = value;
      for (const auto& [key, message] : item.bad_fields)
        if (key == t.m_column_names[c] && t.m_column_errors[c].empty()) t.m_column_errors[c] = message;
    }
    t.add_row(std::move(row), source + ": " + item.path);
  }
  return t;
}

BenchTable BenchTable::from_file(const std::string& path) {
  const std::vector<uint8_t> bytes = formats::read_file_bytes(path);
  return parse(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), path);
}

const BenchTable& BenchTable::nb201_default() {
  static const BenchTable table = parse(embedded_nb201_accuracies_csv(), kEmbeddedSource);
  return table;
}

bool BenchTable::has_accuracy(DatasetKind dataset, Split split) const {
  return std::find(m_accuracies.begin(), m_accuracies.end(), std::make_pair(dataset, split)) != m_accuracies.end();
}

std::string BenchTable::accuracy_origin() const {
  switch (m_kind) {
    case TableKind::Darts:
      return kDartsAccuracyColumn;
    case TableKind::Nds:
      return "100 - test_ep_top1[-1]";
    case TableKind::Nb201:
      break;
  }
  return "";
}

void BenchTable::require_accuracy(DatasetKind dataset, Split split) const {
  if (has_accuracy(dataset, split)) return;
  std::string held;
  for (const auto& [d, s] : m_accuracies)
    held += (held.empty() ? "" : ", ") + std::string(formats::to_string(d)) + " " + to_string(s);
  const char* what = m_kind == TableKind::Darts ? ": a DARTS genotype table holds CIFAR-10 validation accuracy ("
                     : m_kind == TableKind::Nds ? ": an NDS table holds CIFAR-10 test accuracy ("
                                                : nullptr;
  throw_error(ErrorKind::BadInput, m_source + " has no " + formats::to_string(dataset) + " " + to_string(split) +
                                       " accuracy" + (what ? what + accuracy_origin() + ") only" : "") +
                                       "; expected one of: " + held);
}

size_t BenchTable::column(const std::string& name) const {
  const auto it = std::find(m_column_names.begin(), m_column_names.end(), name);
  if (it == m_column_names.end()) {
    std::string names;
    for (const std::string& n : m_column_names) names += (names.empty() ? "" : ", ") + n;
    throw_error(ErrorKind::BadInput,
                "column '" + name + "' is not a numeric column of " + m_source + "; expected one of: " + names);
  }
  const auto c = static_cast<size_t>(it - m_column_names.begin());
  NASWOT_EXPECT(m_column_errors[c].empty(), BadInput, m_column_errors[c] << "; expected a numeric column");
  return c;
}

std::string BenchTable::key_of(const std::string& arch) const {
  if (m_kind == TableKind::Nb201) return arch;
  cells::DartsArch a = cells::parse_darts_arch(arch);
  if (m_kind == TableKind::Darts) return cells::to_string(a.genotype);
  a.aux = false;
  return cells::to_string(a);
}

bool BenchTable::same_arch(const BenchRow& row, const std::string& arch) const {
  if (m_kind == TableKind::Nb201) return arch == row.arch;
  if (m_kind == TableKind::Darts) return key_of(arch) == row.arch;
  const cells::DartsArch a = cells::parse_darts_arch(arch);
  if (a.width == 0 && a.depth == 0)  // no size given: the genotype alone
    return cells::to_string(a.genotype) == cells::to_string(cells::parse_darts_arch(row.arch).genotype);
  return key_of(arch) == key_of(row.arch);
}

const BenchRow* BenchTable::find_index(int64_t index) const {
  const auto it = m_by_index.find(index);
  return it == m_by_index.end() ? nullptr : &m_rows[it->second];
}

const BenchRow* BenchTable::find_arch(const std::string& arch) const {
  const std::string key = key_of(arch);
  const cells::DartsArch parsed = m_kind == TableKind::Nds ? cells::parse_darts_arch(arch) : cells::DartsArch{};
  const bool sized = parsed.width > 0 || parsed.depth > 0;
  // NDS without a size: the key is the genotype alone, matched against the rows' genotypes.
  const auto& map = m_kind == TableKind::Nds && !sized ? m_by_genotype : m_by_arch;
  const auto it = map.find(key);
  if (it == map.end()) return nullptr;
  NASWOT_EXPECT(it->second != kAmbiguous, BadInput,
                (sized ? "arch " : "genotype ")
                    << key << " is several rows of " << m_source
                    << (sized ? "; expected an index to tell them apart"
                              : " (at different widths/depths); expected it with its ' width=W depth=D' suffix, or "
                                "an index"));
  return &m_rows[it->second];
}

const BenchRow& BenchTable::by_index(int64_t index) const {
  const BenchRow* row = find_index(index);
  NASWOT_EXPECT(row, BadInput,
                (m_kind != TableKind::Nb201 ? "row " : "index ")
                    << index << " is not in " << m_source << " (" << m_rows.size() << " rows)");
  return *row;
}

const BenchRow& BenchTable::by_arch(const std::string& arch) const {
  const BenchRow* row = find_arch(arch);
  NASWOT_EXPECT(row, BadInput, "arch " << arch << " is not in " << m_source << " (" << m_rows.size() << " rows)");
  return *row;
}

const BenchRow* BenchTable::find_entry(const ArchEntry& entry) const {
  if (m_kind == TableKind::Nds && entry.index >= 0) {
    const BenchRow* row = find_index(entry.index);
    if (row && (entry.arch.empty() || same_arch(*row, entry.arch))) return row;
  }
  return entry.arch.empty() ? find_index(entry.index) : find_arch(entry.arch);
}

const BenchRow& BenchTable::lookup(const ArchEntry& entry) const {
  if (m_kind == TableKind::Nds) {
    const BenchRow* row = find_entry(entry);
    NASWOT_EXPECT(row, BadInput,
                  (entry.arch.empty() ? "row " + std::to_string(entry.index) : "arch " + entry.arch)
                      << " is not in " << m_source << " (" << m_rows.size() << " rows)");
    return *row;
  }
  if (m_kind == TableKind::Darts) return entry.arch.empty() ? by_index(entry.index) : by_arch(entry.arch);
  return entry.index >= 0 ? by_index(entry.index) : by_arch(entry.arch);
}

void BenchTable::check_against(const Space& space) const {
  if (m_kind != TableKind::Nb201) {
    const char* what = m_kind == TableKind::Darts ? "a DARTS genotype table" : "an NDS table";
    NASWOT_EXPECT(is_darts_space(space.name()), BadInput,
                  m_source << " is " << what << "; expected --space darts (or darts_in, nds), not " << space.name());
    NASWOT_EXPECT(space.size() > 0, BadInput,
                  "--space " << space.name() << " has no indexed genotypes; give it this table (--nds-json " << m_source
                             << ") or a genotype list whose genotypes the table holds");
    for (int64_t i = 0; i < space.size(); ++i) {
      const ArchEntry entry = space.from_index(i);
      NASWOT_EXPECT(find_entry(entry), BadInput,
                    space.name() << " entry " << i << " (" << entry.arch << ") is not in " << m_source
                                 << "; expected every genotype of the searched list to have a row");
    }
    return;
  }
  NASWOT_EXPECT(
      space.name() == "nb201", BadInput,
      m_source << " is an NB201 table (index, arch, accuracies); expected --space nb201, not " << space.name());
  for (const BenchRow& row : m_rows) {
    const std::string at = m_source + ":" + std::to_string(row.line);
    NASWOT_EXPECT(row.index < space.size(), BadInput,
                  at << ": index " << row.index << " is outside the " << space.name() << " space (0.."
                     << space.size() - 1 << ")");
    const ArchEntry entry = space.from_index(row.index);
    NASWOT_EXPECT(entry.arch == row.arch, BadInput,
                  at << ": index " << row.index << " is " << row.arch << " in the table but " << entry.arch
                     << " in the " << space.name() << " space; expected the benchmark's index order");
  }
}

BenchTable load_bench_table(const std::string& path) {
  return path.empty() ? BenchTable::nb201_default() : BenchTable::from_file(path);
}

}  // namespace naswot::search
