// DARTS genotype tables (format in genotype_table.h).
#include "search/genotype_table.h"

#include <fstream>

#include "runtime/error.h"
#include "tools/formats/binary_io.h"
#include "tools/formats/csv.h"

namespace naswot::search {

namespace {

bool blank(std::string_view line) { return line.find_first_not_of(" \t\r") == std::string_view::npos; }

// Position of `name` in `fields`, fields.size() when absent.
size_t find_column(const std::vector<std::string>& fields, const std::string& name) {
  for (size_t f = 0; f < fields.size(); ++f)
    if (fields[f] == name) return f;
  return fields.size();
}

bool is_header(std::string_view line) {
  try {
    const std::vector<std::string> fields = formats::split_csv_line(line, "header");
    return find_column(fields, "normal") < fields.size() && find_column(fields, "reduce") < fields.size();
  } catch (const Error&) {
    return false;  // not CSV at all: a genotype in another notation
  }
}

}  // namespace

bool looks_like_genotype_table(std::string_view text) {
  bool found = false, decided = false;
  formats::for_each_line(text, [&](int, std::string_view line) {
    if (decided || blank(line)) return;
    decided = true;
    found = is_header(line);
  });
  return found;
}

bool file_is_genotype_table(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  NASWOT_EXPECT(in.good(), Io, path << ": cannot open");
  // A header is one short line; 4 KiB holds it after any blank lines a file reasonably starts with.
  std::string head(4096, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<size_t>(in.gcount()));
  const size_t last_newline = head.rfind('\n');
  if (in.gcount() == 4096 && last_newline != std::string::npos) head.resize(last_newline);  // whole lines only
  return looks_like_genotype_table(head);
}

GenotypeTable parse_genotype_table(std::string_view text, const std::string& source) {
  GenotypeTable t;
  t.source = source;
  bool have_header = false;
  formats::for_each_line(text, [&](int number, std::string_view line) {
    if (blank(line)) return;
    const std::string at = source + ":" + std::to_string(number);
    std::vector<std::string> fields = formats::split_csv_line(line, at);
    if (!have_header) {
      have_header = true;
      for (size_t f = 0; f < fields.size(); ++f) {
        const size_t first = find_column(fields, fields[f]);
        NASWOT_EXPECT(first == f, BadInput,
                      at << ": header names column '" << fields[f] << "' twice (columns " << first + 1 << " and "
                         << f + 1 << ")");
      }
      t.normal_column = find_column(fields, "normal");
      t.reduce_column = find_column(fields, "reduce");
      NASWOT_EXPECT(t.normal_column < fields.size() && t.reduce_column < fields.size(), BadInput,
                    at << ": header lacks column '" << (t.normal_column < fields.size() ? "reduce" : "normal")
                       << "'; expected a DARTS genotype table with columns normal and reduce (op~input lists)");
      t.columns = std::move(fields);
      t.header_line = number;
      return;
    }
    NASWOT_EXPECT(fields.size() == t.columns.size(), BadInput,
                  at << ": " << fields.size() << " fields, expected " << t.columns.size() << " as in the header");
    GenotypeTableRow row;
    row.line = number;
    try {
      row.genotype = cells::parse_darts_compact(fields[t.normal_column], fields[t.reduce_column]);
    } catch (const Error& e) {
      throw_error(e.kind(), at + ": columns " + std::to_string(t.normal_column + 1) + " (normal) and " +
                                std::to_string(t.reduce_column + 1) + " (reduce): " + e.what());
    }
    row.fields = std::move(fields);
    t.rows.push_back(std::move(row));
  });
  NASWOT_EXPECT(have_header, BadInput, source << ": empty; expected a CSV header with columns normal and reduce");
  NASWOT_EXPECT(!t.rows.empty(), BadInput, source << ": has a header but no genotype rows");
  return t;
}

GenotypeTable read_genotype_table(const std::string& path) {
  const std::vector<uint8_t> bytes = formats::read_file_bytes(path);
  return parse_genotype_table(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), path);
}

}  // namespace naswot::search
