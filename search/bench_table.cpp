// Benchmark accuracy tables (format in bench_table.h).
#include "search/bench_table.h"

#include <charconv>
#include <cmath>
#include <optional>

#include "runtime/error.h"
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

}  // namespace

BenchTable BenchTable::parse(std::string_view text, const std::string& source) {
  BenchTable t;
  t.m_source = source;
  std::array<size_t, kColumnCount> where{};  // position of each required column in the header
  size_t width = 0;                          // fields per line, from the header
  bool have_header = false;
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
                         << expected_columns());
        where[c] = found;
      }
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
      const std::string& field = fields[where[c]];
      const std::optional<double> v = parse_double(field);
      NASWOT_EXPECT(v && std::isfinite(*v) && *v >= 0.0 && *v <= 100.0, BadInput,
                    at << ": column " << where[c] + 1 << " (" << kColumnNames[c]
                       << "): expected an accuracy in percent, a number in [0, 100], found '" << field << "'");
      const size_t dataset = (c - C10Test) % 3;
      (c < C10Valid ? row.test : row.valid)[dataset] = *v;
    }
    const auto [index_it, new_index] = t.m_by_index.emplace(row.index, t.m_rows.size());
    NASWOT_EXPECT(new_index, BadInput,
                  at << ": index " << row.index << " repeats line " << t.m_rows[index_it->second].line
                     << "; expected each index once");
    const auto [arch_it, new_arch] = t.m_by_arch.emplace(row.arch, t.m_rows.size());
    NASWOT_EXPECT(new_arch, BadInput,
                  at << ": arch " << row.arch << " repeats line " << t.m_rows[arch_it->second].line
                     << "; expected each architecture once");
    t.m_rows.push_back(std::move(row));
  });
  NASWOT_EXPECT(have_header, BadInput, source << ": empty; expected a CSV header with " << expected_columns());
  NASWOT_EXPECT(!t.m_rows.empty(), BadInput, source << ": has a header but no rows");
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

const BenchRow* BenchTable::find_index(int64_t index) const {
  const auto it = m_by_index.find(index);
  return it == m_by_index.end() ? nullptr : &m_rows[it->second];
}

const BenchRow* BenchTable::find_arch(const std::string& arch) const {
  const auto it = m_by_arch.find(arch);
  return it == m_by_arch.end() ? nullptr : &m_rows[it->second];
}

const BenchRow& BenchTable::by_index(int64_t index) const {
  const BenchRow* row = find_index(index);
  NASWOT_EXPECT(row, BadInput, "index " << index << " is not in " << m_source << " (" << m_rows.size() << " rows)");
  return *row;
}

const BenchRow& BenchTable::by_arch(const std::string& arch) const {
  const BenchRow* row = find_arch(arch);
  NASWOT_EXPECT(row, BadInput, "arch " << arch << " is not in " << m_source << " (" << m_rows.size() << " rows)");
  return *row;
}

const BenchRow& BenchTable::lookup(const ArchEntry& entry) const {
  return entry.index >= 0 ? by_index(entry.index) : by_arch(entry.arch);
}

void BenchTable::check_against(const Space& space) const {
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
