// NAS-Bench-201 search space (reference-semantics.md §3): 4-node cell, 6 edges, 5 ops, so
// 5^6 = 15,625 architectures.
//
// Three numberings of the same architectures:
//  * Nb201Arch: the op on each edge, edges in string order (0->1),(0->2),(1->2),(0->3),(1->3),(2->3);
//  * pre-index: the benchmark's enumeration order before shuffling (§3.1), base-5 digits of the
//    op indices with edge (0->1) most significant;
//  * index: the NB-201 API index, the position after CPython random.seed(88); random.shuffle().
// build_nb201 emits the TinyNetwork of §3.2-3.5 with the reference state_dict names.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/graph.h"

namespace naswot::cells {

// Enumeration order of the reference (NAS_BENCH_201 list in cell_operations.py).
enum class Nb201Op : uint8_t { None, SkipConnect, NorConv1x1, NorConv3x3, AvgPool3x3 };
inline constexpr int kNb201OpCount = 5;
inline constexpr int kNb201EdgeCount = 6;
inline constexpr int kNb201Size = 15625;  // 5^6

// Source and destination node of each edge, in string order.
inline constexpr std::array<int, kNb201EdgeCount> kNb201EdgeFrom = {0, 0, 1, 0, 1, 2};
inline constexpr std::array<int, kNb201EdgeCount> kNb201EdgeTo = {1, 2, 2, 3, 3, 3};

const char* to_string(Nb201Op op);  // "none", "skip_connect", ...

struct Nb201Arch {
  std::array<Nb201Op, kNb201EdgeCount> edges{};
  bool operator==(const Nb201Arch&) const = default;
};

// Parses `|a~0|+|b~0|c~1|+|d~0|e~1|f~2|` exactly (no whitespace, input indices in order).
// Throws BadInput naming the offending token and its 1-based position (tokens are the texts
// between '|', the '+' separators included: a valid string has 8).
Nb201Arch parse_nb201(std::string_view s);
std::string to_string(const Nb201Arch& arch);

// Pre-index (enumeration order, §3.1) <-> architecture. BadInput outside 0..15624.
int nb201_preindex(const Nb201Arch& arch);
Nb201Arch nb201_from_preindex(int preindex);

// NB-201 API index <-> architecture (cells/nb201_index.cpp). BadInput outside 0..15624.
const std::vector<int>& nb201_index_to_preindex();  // entry i: pre-index of API index i
Nb201Arch nb201_from_index(int index);
int nb201_index(const Nb201Arch& arch);
// All 15,625 architecture strings, entry i = API index i (for `naswot list --space nb201`).
std::vector<std::string> nb201_all_strings_in_index_order();

// Number of nor_conv_1x1 / nor_conv_3x3 edges (c in §3.7).
int nb201_conv_edges(const Nb201Arch& arch);

struct Nb201Config {
  int input_size = 32;      // 32 (CIFAR-10/100) or 16 (ImageNet16-120); the graph itself is size-free
  int channels = 16;        // C of the first stage; doubled by each reduction block
  int cells_per_stage = 5;  // N
  int num_classes = 1;      // the reference scores with num_classes=1
};

// TinyNetwork (§3.2-3.5). Ops and parameters are named after the reference state_dict
// (stem.0, cells.K.layers.E.op.1, cells.5.downsample.1, lastact.0, classifier, ...), parameters
// in module creation order. Every ReLUConvBN input is a tap of reference weight 2.
rt::Graph build_nb201(const Nb201Arch& arch, const Nb201Config& config = {});

}  // namespace naswot::cells
