// DARTS genotypes shared by the CUDA tests (darts_backend_test, stack_replay_test,
// stack_backend_test).
#pragma once
#include <vector>

#include "cells/darts.h"
#include "search/darts_mutation.h"

namespace naswot::test {

// Every pycls op family in one network: separable, dilated and factorised convs, both pools,
// skip and none, a 5-input concat in both cell types.
inline constexpr const char* kDartsEveryOpGenotype =
    "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_5x5', 1), ('dil_conv_3x3', 0), ('skip_connect', 1), "
    "('max_pool_3x3', 2), ('avg_pool_3x3', 3), ('none', 1), ('conv_7x1_1x7', 4)], normal_concat=[2, 3, 4, 5], "
    "reduce=[('max_pool_3x3', 0), ('skip_connect', 1), ('dil_conv_5x5', 0), ('sep_conv_7x7', 1), "
    "('conv_3x1_1x3', 2), ('avg_pool_3x3', 0), ('none', 0), ('dil_sep_conv_3x3', 3)], reduce_concat=[2, 3, 4, 5])";

// kDartsEveryOpGenotype and count - 1 of its one-edit neighbours, spread over the neighbour
// list: networks that share most modules (and, through ParamInitCache, most weights).
inline std::vector<cells::DartsGenotype> darts_neighbour_group(size_t count) {
  const cells::DartsGenotype base = cells::parse_darts_genotype(kDartsEveryOpGenotype);
  std::vector<cells::DartsGenotype> genotypes = {base};
  const std::vector<cells::DartsGenotype> near = search::darts_neighbours(base);
  for (size_t i = 0; i < near.size() && genotypes.size() < count; i += 1 + near.size() / count)
    genotypes.push_back(near[i]);
  return genotypes;
}

}  // namespace naswot::test
