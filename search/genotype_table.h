// search::GenotypeTable: a CSV file of DARTS genotypes, one per row, in the layout of NAS-Bench-301
// subsets such as NAS-Bench-Suite-Zero's (../shared/data/nb301_darts/naslib_zc_nb301_subset.csv):
//   naslib_idx,normal,reduce,val_accuracy,epe_nas,...,nwot,...
// A file is such a table when its first non-blank line is a CSV header naming the columns
// `normal` and `reduce`; each row holds the two cells in the compact notation of cells/darts.h
// (`op~input,...`, concat 2..), and any other columns, kept as text. No genotype list line can
// look like that header (a compact list has no field named `normal`), so readers that take a
// genotype list (darts_space.h, `naswot score --arch-file`) accept the table as well, and its
// row order gives the entries' indices: row r (0-based, blank lines not counted) is index r.
//
// Errors are BadInput naming file:line, the column and what was expected; Io if the file cannot
// be read.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "cells/darts.h"

namespace naswot::search {

struct GenotypeTableRow {
  int line = 0;                     // 1-based line in the source
  cells::DartsGenotype genotype;    // from the normal and reduce columns
  std::vector<std::string> fields;  // every field of the row, in header order (quotes removed)
};

struct GenotypeTable {
  std::string source;
  std::vector<std::string> columns;  // the header
  int header_line = 0;               // its line in the source
  size_t normal_column = 0;          // positions of `normal` and `reduce` in `columns`
  size_t reduce_column = 0;
  std::vector<GenotypeTableRow> rows;
};

// True when the first non-blank line of `text` is a CSV header with `normal` and `reduce` columns.
bool looks_like_genotype_table(std::string_view text);
// The same test on the first bytes of a file; Io if it cannot be opened.
bool file_is_genotype_table(const std::string& path);

// `source` names the text in messages. BadInput for a header that names a column twice, a row
// with another number of fields than the header, a genotype the compact parser rejects, or no
// rows.
GenotypeTable parse_genotype_table(std::string_view text, const std::string& source);
GenotypeTable read_genotype_table(const std::string& path);

}  // namespace naswot::search
