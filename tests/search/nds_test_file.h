// A small NDS JSON file (nds_data/<Space>.json, reference-semantics.md §4.1) written by the tests:
// the six genotypes of nb301_test_table.h as NDS items at their own small width/depth (one with
// aux, and genotype 0 again at another size), made-up per-epoch test errors whose last values give
// distinct accuracies, params/flops, and fields a table ignores (optim, train_ep_top1, rng_seed).
// Used by the NDS table, eval and CLI tests.
#pragma once
#include <array>
#include <cstdio>
#include <string>

#include "cells/darts.h"
#include "search/nb301_test_table.h"

namespace naswot::test {

struct NdsTestItem {
  size_t genotype;  // row of kNb301TestRows
  int width;
  int depth;
  bool aux;
  double final_error;  // test_ep_top1[-1]
  double params;
};

inline constexpr std::array<NdsTestItem, 7> kNdsTestItems = {{
    {0, 4, 3, false, 7.5, 0.25},
    {1, 8, 3, false, 6.0, 0.5},
    {2, 4, 3, true, 9.25, 0.125},
    {3, 4, 3, false, 5.5, 1.0},
    {4, 8, 3, false, 11.0, 2.0},
    {5, 4, 3, false, 8.0, 0.75},
    {0, 8, 3, false, 4.25, 1.5},
}};

inline cells::DartsArch nds_test_arch(size_t i) {
  const NdsTestItem& it = kNdsTestItems[i];
  const Nb301TestRow& row = kNb301TestRows[it.genotype];
  return {cells::parse_darts_compact(row.normal, row.reduce), it.width, it.depth, it.aux};
}

inline std::string nds_cell_json(const cells::DartsCell& cell) {
  std::string s = "[";
  for (size_t e = 0; e < cell.edges.size(); ++e)
    s += std::string(e ? ", " : "") + "[\"" + cells::to_string(cell.edges[e].op) + "\", " +
         std::to_string(cell.edges[e].input) + "]";
  return s + "]";
}

inline std::string nds_concat_json(const cells::DartsCell& cell) {
  std::string s = "[";
  for (size_t k = 0; k < cell.concat.size(); ++k) s += (k ? ", " : "") + std::to_string(cell.concat[k]);
  return s + "]";
}

// Item i as NDS writes it; `test_ep_top1` replaces the curve's JSON text when given ("" drops it).
inline std::string nds_test_item_json(size_t i, const char* test_ep_top1 = nullptr) {
  const NdsTestItem& it = kNdsTestItems[i];
  const cells::DartsArch a = nds_test_arch(i);
  char numbers[160];
  std::snprintf(numbers, sizeof numbers, "\"params\": %g, \"flops\": %g, \"rng_seed\": %zu", it.params,
                100.0 * it.params, i);
  char curve[64];
  std::snprintf(curve, sizeof curve, "[70.0, 30.5, %g]", it.final_error);
  const std::string test = test_ep_top1 ? test_ep_top1 : curve;
  return "{\"net\": {\"genotype\": {\"normal\": " + nds_cell_json(a.genotype.normal) +
         ", \"normal_concat\": " + nds_concat_json(a.genotype.normal) + ", \"reduce\": " +
         nds_cell_json(a.genotype.reduce) + ", \"reduce_concat\": " + nds_concat_json(a.genotype.reduce) +
         "}, \"width\": " + std::to_string(it.width) + ", \"depth\": " + std::to_string(it.depth) +
         ", \"aux\": " + (it.aux ? "true" : "false") +
         ", \"drop_prob\": 0.0}, \"optim\": {\"base_lr\": 0.1, \"max_ep\": 3}, \"train_ep_top1\": [60.0, 20.0, 10.0], " +
         (test.empty() ? "" : "\"test_ep_top1\": " + test + ", ") + numbers + "}";
}

// Every item: a list, or {"top": items 0..2, "mid": the rest} (the same order either way).
inline std::string nds_test_json(bool top_mid) {
  std::string s = top_mid ? "{\"top\": [" : "[";
  for (size_t i = 0; i < kNdsTestItems.size(); ++i) {
    if (top_mid && i == 3) s += "], \"mid\": [";
    else if (i) s += ",\n";
    s += nds_test_item_json(i);
  }
  return s + (top_mid ? "]}" : "]");
}

// The accuracy the table gives item i (100 - test_ep_top1[-1]).
inline double nds_test_accuracy(size_t i) { return 100.0 - kNdsTestItems[i].final_error; }

}  // namespace naswot::test
