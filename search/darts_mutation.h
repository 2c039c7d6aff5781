// The REA/AREA mutation of the DARTS space (evolution.h), over the genotypes of a benchmark table.
//
// One change: one edge of one cell (normal or reduce) gets either another op, from the 7 of the
// DARTS / NAS-Bench-301 search space (max_pool_3x3, avg_pool_3x3, skip_connect, sep_conv_3x3,
// sep_conv_5x5, dil_conv_3x3, dil_conv_5x5; `none` is not one of them), or another input. Validity
// is kept as in NB301's space: an edge of node k (k = 0, 1, ... within the cell; state 2+k) reads a
// state j < k+2, and the two edges of a node read different states. A 4-node NB301 cell has 16
// edges: 16 x 6 op changes and 2 x (0+1+2+3) input changes per cell, 120 neighbours in all.
//
// The table decides what can be "trained": an architecture the oracle has no accuracy for cannot be
// queried. So the child is:
//  1. a one-change neighbour of the parent that the table holds, uniformly among those; else
//  2. when no neighbour is in the table (the usual case for a sparse table: every genotype of the
//     725-row NB301 subset is 10 to 15 changes from its nearest other row), a uniformly drawn
//     neighbour is projected onto the table: the child is the table genotype nearest to it
//     (darts_distance), the parent excluded, ties drawn uniformly.
// Either way the child is a table genotype other than the parent, a step as local as the table
// allows. Step 2 makes REA on a sparse table closer to a random walk over the table's nearest
// rows than to the paper's one-edit evolution; bench/results/eval_nb301.md says what that means.
#pragma once
#include <array>
#include <vector>

#include "cells/darts.h"
#include "search/evolution.h"

namespace naswot::search {

inline constexpr std::array<cells::DartsOp, 7> kDartsSearchOps = {
    cells::DartsOp::MaxPool3x3, cells::DartsOp::AvgPool3x3, cells::DartsOp::SkipConnect, cells::DartsOp::SepConv3x3,
    cells::DartsOp::SepConv5x5, cells::DartsOp::DilConv3x3, cells::DartsOp::DilConv5x5};

// Every genotype one change away from `genotype` (rules above), normal cell first, then edge by
// edge: op changes in kDartsSearchOps order, then input changes in increasing input order.
std::vector<cells::DartsGenotype> darts_neighbours(const cells::DartsGenotype& genotype);

// Changes between two genotypes: per node, the two edges of one are matched with the two of the
// other in the pairing that costs less (a node's edges are summed, so their order does not matter),
// an edge costing 1 for a different op and 1 for a different input. Nodes only one cell has cost 2
// per edge, and each state in one concat but not the other costs 1. 0 for the same network; 1 for
// each darts_neighbours entry.
int darts_distance(const cells::DartsGenotype& a, const cells::DartsGenotype& b);

// The mutation over `pool`, the table's genotypes (rules above). The child comes from
// space.from_string and keeps the parent's width/depth suffix. BadInput when the pool has no
// genotype other than the parent's. Keeps a reference to `space`.
MutationFn darts_mutation(const Space& space, std::vector<cells::DartsGenotype> pool);
// The same over a table's architectures: a pool entry with a width (an NDS item, trained at its
// own size) gives the child its width, depth and aux, so that the child is that row; one without
// (an NB301 row) keeps the parent's. A genotype held at several sizes counts once, at its first.
MutationFn darts_table_mutation(const Space& space, std::vector<cells::DartsArch> pool);

}  // namespace naswot::search
