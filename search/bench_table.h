// search::BenchTable: a benchmark's trained accuracies, looked up by index or architecture string.
// It is the "training oracle" of the searches (naswot_search.h, evolution.h) and the ground truth
// of `naswot eval`. Two formats, told apart by the header:
//
// NB201 (TableKind::Nb201): CSV, one header line naming the columns, then one row per
// architecture. Required columns (any order; others, such as params_mb, are kept as extra columns):
//   index  arch  cifar10_valid  cifar10_test  cifar100_valid  cifar100_test  imagenet16_valid
//   imagenet16_test
// index: a non-negative integer, unique; arch: the architecture string, non-empty, unique;
// accuracies: finite numbers in [0, 100] (percent).
//
// DARTS (TableKind::Darts): a genotype table (genotype_table.h) such as NAS-Bench-Suite-Zero's
// NB301 subset, with columns normal, reduce (the genotype) and val_accuracy (CIFAR-10 validation
// accuracy, percent, the only accuracy such a table holds; any other dataset or split is a
// BadInput naming what the table has). A row's arch is the canonical genotype (cells/darts.h
// to_string), unique; its index is its row position, 0-based, which is the darts space's index
// when that space's genotype source is the same file (darts_space.h). Architectures are matched by
// genotype: any notation of cells/darts.h finds its row, and a width=/depth= suffix is ignored
// (the table describes genotypes; the network size is the scorer's setting).
//
// NDS (TableKind::Nds): an NDS JSON file (nds_data/<Space>.json, read by cells::read_nds_json: a
// list of items, or `top` then `mid`), told apart by its first character ('[' or '{'). Row r is
// the file's r-th item in that order, the nds/darts space's index r over the same file. Accuracy:
// CIFAR-10 test, 100 - test_ep_top1[-1] (§4.1: the reference's only accuracy), so any other dataset
// or split is a BadInput. An item without test_ep_top1, with an empty list or a last value outside
// [0, 100] is a BadInput naming file and JSON path ("DARTS.json: top[3].test_ep_top1: ..."): the
// reference would fail on it too (it indexes [-1]), so nothing is skipped. `_in` files (ImageNet
// accuracies) are rejected: no dataset kind here holds ImageNet. A row's arch is the item's
// canonical string, with its ` width=W depth=D` (and ` aux=true`) suffix. Architectures are
// matched by genotype and network size, ignoring aux: a string with a width=/depth= suffix finds
// the row of that genotype at that size; a string without one finds the row of that genotype when
// only one row has it (BadInput when several do, asking for the suffix or an index). Items may
// repeat; a repeated key is ambiguous in the same way. Numeric columns: test_accuracy, width,
// depth, and each of cells::kNdsNumericFields (params, flops, iter_time) that some item has (NaN
// where an item lacks it; an item holding a non-number there is an error only when asked for).
//
// Both: every column but the architecture's own (arch; normal, reduce) is also a numeric column,
// by header name (column(), BenchRow::values): the accuracies, the proxies of another
// implementation (`nwot`), params. An empty field is NaN; a column holding a field that is not a
// number is an error only when asked for. Fields may be RFC 4180-quoted. Blank lines are skipped.
// Every other deviation is BadInput naming file:line, the column and what was expected.
//
// The default is the NB201 table of data/nb201/nb201_accuracies.csv (provenance and the meaning of
// each column in data/README.md), compiled into the library: no file is read.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "search/space.h"
#include "tools/formats/datasets.h"

namespace naswot::search {

using formats::DatasetKind;

enum class Split { Valid, Test };
// "valid" / "test"; BadInput otherwise.
Split parse_split(const std::string& name);
const char* to_string(Split split);

inline constexpr std::array<DatasetKind, 3> kBenchDatasets = {DatasetKind::Cifar10, DatasetKind::Cifar100,
                                                              DatasetKind::ImageNet16};

enum class TableKind { Nb201, Darts, Nds };

// The DARTS table's accuracy column.
inline constexpr const char* kDartsAccuracyColumn = "val_accuracy";
// The NDS table's accuracy column (100 - test_ep_top1[-1]).
inline constexpr const char* kNdsAccuracyColumn = "test_accuracy";

struct BenchRow {
  int64_t index = -1;             // NB201: the benchmark index; DARTS, NDS: the row position
  std::string arch;               // NB201: the arch string; DARTS: the canonical genotype; NDS: the item's
  std::array<double, 3> valid{};  // by DatasetKind: cifar10, cifar100, imagenet16 (percent); NaN if absent
  std::array<double, 3> test{};
  std::vector<double> values;  // the numeric columns (BenchTable::column), NaN for an empty field
  int line = 0;                // line in the source, for messages (NDS: 0)
  double accuracy(DatasetKind dataset, Split split) const {
    const auto d = static_cast<size_t>(dataset);
    return split == Split::Valid ? valid[d] : test[d];
  }
};
static_assert(static_cast<size_t>(DatasetKind::Cifar10) == 0 && static_cast<size_t>(DatasetKind::Cifar100) == 1 &&
                  static_cast<size_t>(DatasetKind::ImageNet16) == 2,
              "BenchRow indexes its accuracy arrays by DatasetKind");

class BenchTable {
 public:
  // The embedded NB201 table, parsed once per process.
  static const BenchTable& nb201_default();
  // Io if the file cannot be read; BadInput (file:line) if it is malformed.
  static BenchTable from_file(const std::string& path);
  // `source` names the text in messages (a file name).
  static BenchTable parse(std::string_view text, const std::string& source);

  const std::string& source() const { return m_source; }
  TableKind kind() const { return m_kind; }
  size_t size() const { return m_rows.size(); }
  const std::vector<BenchRow>& rows() const { return m_rows; }

  // The accuracies the table holds, in print order: NB201 all six (cifar10 valid, cifar10 test,
  // cifar100 valid, ...); DARTS cifar10 valid only; NDS cifar10 test only.
  const std::vector<std::pair<DatasetKind, Split>>& accuracy_columns() const { return m_accuracies; }
  bool has_accuracy(DatasetKind dataset, Split split) const;
  // BadInput naming the table, the accuracy asked for and the ones it holds, when it lacks it.
  void require_accuracy(DatasetKind dataset, Split split) const;
  // The split `naswot eval` ranks against by default: NB201 test, DARTS valid (the only one).
  Split default_split() const { return m_kind == TableKind::Darts ? Split::Valid : Split::Test; }
  // The split REA/AREA query as their training oracle: validation where the table has it (NB201,
  // DARTS), else the table's only accuracy (NDS test).
  Split oracle_split() const { return m_kind == TableKind::Nds ? Split::Test : Split::Valid; }
  // Where the accuracy comes from, for messages: "" (NB201), "val_accuracy", "100 - test_ep_top1[-1]".
  std::string accuracy_origin() const;

  // The numeric columns by header name, in header order; column(name) is the position of one in
  // BenchRow::values. BadInput naming the table and listing its columns when `name` is absent,
  // or naming file:line and the field when the column holds something that is not a number.
  const std::vector<std::string>& column_names() const { return m_column_names; }
  size_t column(const std::string& name) const;

  // The lookup key of an architecture string: NB201 the string itself; DARTS the canonical
  // genotype of any notation; NDS the canonical genotype with its width=/depth= suffix, if any, and
  // no aux (BadInput if it is not a DARTS genotype).
  std::string key_of(const std::string& arch) const;
  // Whether `arch` names this row, by the matching rules above.
  bool same_arch(const BenchRow& row, const std::string& arch) const;

  // nullptr when absent; find_arch throws BadInput when an NDS string matches several rows.
  const BenchRow* find_index(int64_t index) const;
  const BenchRow* find_arch(const std::string& arch) const;
  // BadInput naming the index or arch and the table when absent.
  const BenchRow& by_index(int64_t index) const;
  const BenchRow& by_arch(const std::string& arch) const;
  // NB201: by index when the entry has one (>= 0), else by arch string. DARTS: by genotype when
  // the entry has an arch (an index may be a position in another list), else by row position.
  // NDS: the row at the entry's index when the entry's arch (if any) names it, else by arch.
  const BenchRow& lookup(const ArchEntry& entry) const;

  // The table describes `space`. NB201: every row's arch string is the space's canonical string
  // of its index (a table for another space or another index order is caught here). DARTS: the
  // space is a darts one with indexed entries, and every entry's genotype has a row (so a search
  // over the space's entries can query each); NDS the same, through lookup(). BadInput naming
  // source:line or the entry otherwise.
  void check_against(const Space& space) const;

 private:
  static BenchTable parse_nb201(std::string_view text, const std::string& source);
  static BenchTable parse_darts(std::string_view text, const std::string& source);
  static BenchTable parse_nds(std::string_view text, const std::string& source);
  // Indexes m_rows[last] by index and key; BadInput naming `at` on a repeat (NDS: a repeated key
  // becomes ambiguous instead).
  void add_row(BenchRow row, const std::string& at);
  const BenchRow* find_entry(const ArchEntry& entry) const;  // lookup() without the throw

  std::string m_source;
  TableKind m_kind = TableKind::Nb201;
  std::vector<std::pair<DatasetKind, Split>> m_accuracies;
  std::vector<std::string> m_column_names;
  std::vector<std::string> m_column_errors;  // per numeric column: why it is not numeric ("" if it is)
  std::vector<BenchRow> m_rows;
  std::unordered_map<int64_t, size_t> m_by_index;
  std::unordered_map<std::string, size_t> m_by_arch;      // kAmbiguous: several NDS rows
  std::unordered_map<std::string, size_t> m_by_genotype;  // NDS: genotype alone, kAmbiguous likewise
  static constexpr size_t kAmbiguous = static_cast<size_t>(-1);
};

// --table: empty selects (a copy of) the embedded NB201 table, anything else is a file path.
BenchTable load_bench_table(const std::string& path);

// The text of data/nb201/nb201_accuracies.csv as compiled in (generated by cmake/EmbedText.cmake).
std::string embedded_nb201_accuracies_csv();

}  // namespace naswot::search
