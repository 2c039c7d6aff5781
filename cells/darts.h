// DARTS / NDS cell search spaces (reference-semantics.md §4): genotypes, their notations, and the
// pycls NetworkCIFAR / NetworkImageNet that the reference scores them with.
//
// A genotype has a normal and a reduction cell. Each cell has `steps` intermediate nodes; node
// 2+i sums two edges, edges[2i] and edges[2i+1], each an op applied to one earlier state: 0 and 1
// are the cell inputs (outputs of the cells two and one back), 2+j is node j (j < i). The cell
// output is the channel concat of the states listed in `concat`. DARTS/NB301 cells have 4 steps
// and concat 2..5; NDS NASNet, Amoeba, PNAS and ENAS cells have 5 steps and list their loose ends.
//
// Notations (parse_darts_arch picks one by the first character):
//  * DARTS:   Genotype(normal=[('sep_conv_3x3', 0), ...], normal_concat=[2, 3, 4, 5],
//                      reduce=[...], reduce_concat=range(2, 6))   keywords in any order, '' or "",
//             tuples or lists for the pairs, a list, tuple or range(a, b) for the concat;
//  * NDS:     a JSON genotype object {"normal": [["sep_conv_3x3", 0], ...], "normal_concat": [...],
//             "reduce": [...], "reduce_concat": [...]}, or a whole NDS item {"net": {"genotype": {...},
//             "width": 16, "depth": 20, "aux": false}, ...} (which also sets width and depth);
//  * compact: NB301/NASLib `op~input,op~input,...` for the normal cell, then the same for the
//             reduction cell (concat 2..), the two lists separated by ';', '|', whitespace or a
//             CSV-style `"...","..."`; a single list of 4k entries is split in halves.
// Any of them may be followed by ` width=W depth=D aux=true` (NDS items print that way).
// The canonical form (to_string) is the DARTS one with list concats, plus the suffix when set.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime/graph.h"

namespace naswot::cells {

// The pycls/NDS op set (pycls/models/nas/operations.py OPS), in that file's order.
enum class DartsOp : uint8_t {
  None,
  AvgPool2x2,
  AvgPool3x3,
  AvgPool5x5,
  MaxPool2x2,
  MaxPool3x3,
  MaxPool5x5,
  MaxPool7x7,
  SkipConnect,
  Conv1x1,
  Conv3x3,
  SepConv3x3,
  SepConv5x5,
  SepConv7x7,
  DilConv3x3,
  DilConv5x5,
  DilSepConv3x3,
  Conv3x1_1x3,
  Conv7x1_1x7,
};
inline constexpr int kDartsOpCount = 19;
static_assert(static_cast<int>(DartsOp::Conv7x1_1x7) + 1 == kDartsOpCount, "kDartsOpCount counts the enum");
const char* to_string(DartsOp op);  // "sep_conv_3x3", ...
std::optional<DartsOp> darts_op_from_name(std::string_view name);
std::string darts_op_list();  // "none, avg_pool_2x2, ..." for messages

struct DartsEdge {
  DartsOp op = DartsOp::None;
  int input = 0;  // 0, 1: cell inputs; 2+j: intermediate node j
  bool operator==(const DartsEdge&) const = default;
};

struct DartsCell {
  std::vector<DartsEdge> edges;  // 2 per step
  std::vector<int> concat;       // states concatenated into the output, in order
  int steps() const { return static_cast<int>(edges.size()) / 2; }
  bool operator==(const DartsCell&) const = default;
};

struct DartsGenotype {
  DartsCell normal, reduce;
  bool operator==(const DartsGenotype&) const = default;
};

// One architecture of a darts space: a genotype and, for NDS items, the network size it was
// trained at (0: the space's default). `aux`: the NDS item asks for an auxiliary head; naswot
// scores the network without it, where the reference returns a tuple and scores NaN (§4.2).
struct DartsArch {
  DartsGenotype genotype;
  int width = 0;
  int depth = 0;
  bool aux = false;
  bool operator==(const DartsArch&) const = default;
};

inline constexpr int kDartsMaxSteps = 16;  // a sanity bound for parsers (NDS cells have 4 or 5)

// Structure rules shared by every notation: an even, non-zero number of edges (at most
// 2*kDartsMaxSteps), every edge input a cell input or an earlier node, a non-empty concat of
// existing states. `where` prefixes the BadInput message ("normal cell", "top[3].net.genotype.reduce").
void validate_darts_cell(const DartsCell& cell, const std::string& where);

// Parsers; each throws BadInput naming the notation, the character position (1-based) or JSON
// path, and what was expected.
DartsGenotype parse_darts_genotype(std::string_view text);                            // Genotype(...) only
DartsGenotype parse_darts_compact(std::string_view normal, std::string_view reduce);  // the CSV columns
DartsGenotype parse_darts_compact(std::string_view line);                             // both lists in one string
DartsArch parse_darts_arch(std::string_view text);  // any notation above + optional suffix

std::string to_string(const DartsGenotype& genotype);  // canonical DARTS form
std::string to_string(const DartsArch& arch);          // genotype, then " width=W depth=D aux=true" when set

// NDS JSON (nds_data/<Space>.json, §4.1): a list of items, or a dict whose `top` and `mid` lists
// are concatenated, top first. Items must be DARTS-like (`net.genotype`); AnyNet items (ResNet,
// ResNeXt, Vanilla) are rejected naming their path. `path` is the item's JSON path for messages.
//
// Besides the network, each item keeps what an accuracy table needs (search/bench_table.h): the
// last value of `test_ep_top1` (the per-epoch top-1 test error, percent; the reference's accuracy
// is 100 minus it) and the item-level fields of kNdsNumericFields. Everything else (per-epoch
// curves, optim settings) is dropped while parsing. A missing, empty or malformed `test_ep_top1`
// or field is not an error here (the file is still a list of networks); the problem is kept as a
// message "FILE: PATH.KEY: what" for a table to throw.
inline constexpr const char* kNdsNumericFields[] = {"params", "flops", "iter_time"};
struct NdsItem {
  DartsArch arch;
  std::string path;               // "top[3]", "mid[0]" or "[12]"
  double final_test_top1 = 0;     // test_ep_top1[-1], in [0, 100]
  std::string test_top1_problem;  // empty when final_test_top1 is valid
  std::vector<std::pair<std::string, double>> numbers;          // kNdsNumericFields present as numbers
  std::vector<std::pair<std::string, std::string>> bad_fields;  // present but not numbers: key, message
};
std::vector<NdsItem> read_nds_json(const std::string& file);
std::vector<NdsItem> parse_nds_json(std::string_view text, const std::string& source);
// One JSON value: an NDS item ({"net": {"genotype": ..., "width", "depth", "aux"}}) or a bare
// genotype object ({"normal": [["op", i], ...], "normal_concat": [...], "reduce": ..., ...}).
DartsArch parse_nds_item_json(std::string_view text);
// True when the text (leading whitespace skipped) starts like JSON ('{' or '[').
bool looks_like_json(std::string_view text);

// Network settings (§4.2, §4.4). Defaults: the NAS-Bench-301 training network, C=32 and 8 cells
// (the setting behind the shared NB301 table's accuracies; DARTS' own search network is C=16, 8
// cells, its evaluation network C=36, 20 cells).
struct DartsConfig {
  int width = 32;         // C: channels of the first cells (the stem has 3C on CIFAR, C on ImageNet)
  int depth = 8;          // number of cells; reductions at depth/3 and 2*depth/3
  bool imagenet = false;  // NetworkImageNet (the NDS `_in` spaces) instead of NetworkCIFAR
  int input_size = 32;    // H = W of the input; used to check shapes the reference would reject
  int num_classes = 1;    // the reference scores with one output
};
inline constexpr int kDartsDefaultWidth = 32;
inline constexpr int kDartsDefaultDepth = 8;

// NetworkCIFAR / NetworkImageNet (pycls, no auxiliary head) as a runtime graph with the reference
// state_dict names and PyTorch default init. Throws BadInput when the reference would fail on this
// network (mismatched shapes in a node sum or concat, FactorizedReduce on an odd channel count, a
// window larger than its padded input), naming the module.
rt::Graph build_darts(const DartsGenotype& genotype, const DartsConfig& config);

}  // namespace naswot::cells
