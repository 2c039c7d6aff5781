// NB-201 API index <-> architecture. The benchmark (AutoDL-Projects generate_meta_info) lists
// the 15,625 architectures in enumeration order (the pre-index) and shuffles that list with
// CPython random.seed(88); the API index of an architecture is its position after the shuffle
// (reference-semantics.md §3.1). Both directions are tables built once, on first use.
#include <string>
#include <vector>

#include "cells/cpython_random.h"
#include "cells/nb201.h"
#include "runtime/error.h"

namespace naswot::cells {
namespace {

constexpr uint64_t kNb201ShuffleSeed = 88;

std::vector<int> build_index_to_preindex() {
  std::vector<int> order(kNb201Size);
  for (int i = 0; i < kNb201Size; ++i) order[static_cast<size_t>(i)] = i;
  CpythonRandom rng(kNb201ShuffleSeed);
  rng.shuffle(order);
  return order;
}

const std::vector<int>& preindex_to_index() {
  static const std::vector<int> inverse = [] {
    const std::vector<int>& order = nb201_index_to_preindex();
    std::vector<int> inv(order.size(), -1);
    for (size_t i = 0; i < order.size(); ++i) inv[static_cast<size_t>(order[i])] = static_cast<int>(i);
    return inv;
  }();
  return inverse;
}

}  // namespace

const std::vector<int>& nb201_index_to_preindex() {
  static const std::vector<int> order = build_index_to_preindex();
  return order;
}

Nb201Arch nb201_from_index(int index) {
  NASWOT_EXPECT(index >= 0 && index < kNb201Size, BadInput,
                "nb201 index " << index << " outside 0.." << kNb201Size - 1);
  return nb201_from_preindex(nb201_index_to_preindex()[static_cast<size_t>(index)]);
}

int nb201_index(const Nb201Arch& arch) {
  return preindex_to_index()[static_cast<size_t>(nb201_preindex(arch))];
}

std::vector<std::string> nb201_all_strings_in_index_order() {
  std::vector<std::string> out;
  out.reserve(kNb201Size);
  for (int i = 0; i < kNb201Size; ++i) out.push_back(to_string(nb201_from_index(i)));
  return out;
}

}  // namespace naswot::cells
