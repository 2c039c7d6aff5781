// The DARTS mutation of REA/AREA (search/darts_mutation.h): every neighbour is valid (inputs of node
// k below k+2, the two edges of a node on different states) and differs from its parent in exactly
// one op or one input of one edge; the distance counts changes and ignores the order of a node's
// two edges; the mutation picks a one-change neighbour when the table holds one (reaching each),
// otherwise a table genotype nearest to a random neighbour, never the parent; it keeps the
// parent's network size; mutation_for wires it to a DARTS table; REA over a table queries only
// table genotypes.
#include "search/darts_mutation.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "formats/format_test_util.h"
#include "search/bench_table.h"
#include "search/nb301_test_table.h"
#include "test_util.h"

namespace naswot::search {
namespace {

using test::kNb301TestRows;

constexpr uint64_t kMutationSeed = test::kSeed + 301;

cells::DartsGenotype genotype(size_t r) {
  return cells::parse_darts_compact(kNb301TestRows[r].normal, kNb301TestRows[r].reduce);
}

// (op changes, input changes) between two genotypes of the same shape, edge by edge in order.
std::pair<int, int> positional_changes(const cells::DartsGenotype& a, const cells::DartsGenotype& b) {
  int ops = 0, inputs = 0;
  for (const auto& [x, y] : {std::make_pair(&a.normal, &b.normal), std::make_pair(&a.reduce, &b.reduce)}) {
    EXPECT_EQ(x->edges.size(), y->edges.size());
    EXPECT_EQ(x->concat, y->concat);
    for (size_t e = 0; e < x->edges.size(); ++e) {
      ops += x->edges[e].op != y->edges[e].op;
      inputs += x->edges[e].input != y->edges[e].input;
    }
  }
  return {ops, inputs};
}

// A darts space over the test table (its rows are the indices).
struct TableFixture {
  TableFixture() {
    test::write_bytes(csv, test::to_bytes(test::nb301_test_csv()));
    SpaceOptions o;
    o.source = csv;
    space = make_space("darts", o);
  }
  test::TempDir dir;
  std::string csv = dir.path("nb301.csv");
  BenchTable table = BenchTable::parse(test::nb301_test_csv(), "nb301.csv");
  std::unique_ptr<Space> space;
};

TEST(DartsMutation, NeighboursAreValidAndOneChangeAway) {
  for (size_t r = 0; r < kNb301TestRows.size(); ++r) {
    const cells::DartsGenotype parent = genotype(r);
    const std::vector<cells::DartsGenotype> neighbours = darts_neighbours(parent);
    // 16 edges x 6 other ops, and per cell 2 x (0 + 1 + 2 + 3) other inputs on distinct states.
    ASSERT_EQ(neighbours.size(), 96u + 24u) << r;
    std::set<std::string> distinct;
    int op_changes = 0, input_changes = 0;
    for (const cells::DartsGenotype& n : neighbours) {
      distinct.insert(cells::to_string(n));
      EXPECT_NO_THROW(cells::validate_darts_cell(n.normal, "normal"));
      EXPECT_NO_THROW(cells::validate_darts_cell(n.reduce, "reduce"));
      for (const cells::DartsCell* cell : {&n.normal, &n.reduce})
        for (size_t e = 0; e < cell->edges.size(); ++e) {
          EXPECT_LT(cell->edges[e].input, 2 + static_cast<int>(e / 2)) << "edge " << e << " of node " << e / 2;
          EXPECT_NE(cell->edges[e].input, cell->edges[e ^ 1].input) << "the two edges of node " << e / 2;
          EXPECT_NE(cell->edges[e].op, cells::DartsOp::None);
        }
      const auto [ops, inputs] = positional_changes(parent, n);
      EXPECT_EQ(ops + inputs, 1) << cells::to_string(n);
      op_changes += ops;
      input_changes += inputs;
      EXPECT_EQ(darts_distance(parent, n), 1);
      EXPECT_EQ(darts_distance(n, parent), 1);
    }
    EXPECT_EQ(distinct.size(), neighbours.size());
    EXPECT_EQ(op_changes, 96);
    EXPECT_EQ(input_changes, 24);
  }
}

TEST(DartsMutation, DistanceCountsChangesAndIgnoresEdgeOrderWithinANode) {
  const cells::DartsGenotype a = genotype(0);
  EXPECT_EQ(darts_distance(a, a), 0);
  cells::DartsGenotype swapped = a;
  std::swap(swapped.normal.edges[2], swapped.normal.edges[3]);  // node 1's two edges: the same sum
  EXPECT_EQ(darts_distance(a, swapped), 0);
  cells::DartsGenotype two = a;  // two changes on different edges
  two.normal.edges[0].op =
      a.normal.edges[0].op == cells::DartsOp::SkipConnect ? cells::DartsOp::SepConv3x3 : cells::DartsOp::SkipConnect;
  two.reduce.edges[7].input = a.reduce.edges[7].input == 0 ? 1 : 0;
  ASSERT_NE(two.reduce.edges[7].input, two.reduce.edges[6].input);
  EXPECT_EQ(darts_distance(a, two), 2);
  for (size_t r = 1; r < kNb301TestRows.size(); ++r) {
    EXPECT_EQ(darts_distance(a, genotype(r)), darts_distance(genotype(r), a));
    EXPECT_GT(darts_distance(a, genotype(r)), 1);
  }
  cells::DartsGenotype short_cell = a;  // one node fewer: its 2 edges cost 2 each, state 5 leaves the concat
  short_cell.normal.edges.resize(6);
  short_cell.normal.concat = {2, 3, 4};
  EXPECT_EQ(darts_distance(a, short_cell), 5);
}

TEST(DartsMutation, PrefersNeighboursTheTableHoldsAndReachesEach) {
  TableFixture f;
  // A pool: the parent, three of its neighbours, two far rows.
  const cells::DartsGenotype parent = genotype(0);
  const std::vector<cells::DartsGenotype> neighbours = darts_neighbours(parent);
  std::vector<cells::DartsGenotype> pool = {parent,          neighbours[5], neighbours[50],
                                            neighbours[110], genotype(1),   genotype(2)};
  const MutationFn mutate = darts_mutation(*f.space, pool);
  Rng rng(kMutationSeed);
  std::set<std::string> reached;
  const ArchEntry entry = f.space->from_string(cells::to_string(parent));
  EXPECT_EQ(entry.index, 0);
  for (int i = 0; i < 300; ++i) {
    const ArchEntry child = mutate(entry, rng);
    EXPECT_EQ(darts_distance(parent, cells::parse_darts_arch(child.arch).genotype), 1) << child.arch;
    reached.insert(child.arch);
  }
  EXPECT_EQ(reached, (std::set<std::string>{cells::to_string(neighbours[5]), cells::to_string(neighbours[50]),
                                            cells::to_string(neighbours[110])}));
}

TEST(DartsMutation, WithoutNeighboursInTheTableTheChildIsTheNearestRowToARandomNeighbour) {
  TableFixture f;
  std::vector<cells::DartsGenotype> pool;
  for (size_t r = 0; r < kNb301TestRows.size(); ++r) pool.push_back(genotype(r));
  const MutationFn mutate = darts_mutation(*f.space, pool);
  Rng rng(kMutationSeed + 1);
  for (size_t r = 0; r < kNb301TestRows.size(); ++r) {
    const ArchEntry parent = f.space->from_index(static_cast<int64_t>(r));
    const std::vector<cells::DartsGenotype> neighbours = darts_neighbours(pool[r]);
    std::set<std::string> children;
    for (int i = 0; i < 60; ++i) {
      const ArchEntry child = mutate(parent, rng);
      // A table row (with its index in the space), never the parent...
      ASSERT_NE(f.table.find_arch(child.arch), nullptr);
      EXPECT_EQ(child.index, f.table.by_arch(child.arch).index);
      EXPECT_NE(child.index, static_cast<int64_t>(r));
      children.insert(child.arch);
      // ...and nearest among the other rows to at least one neighbour of the parent.
      const cells::DartsGenotype c = cells::parse_darts_arch(child.arch).genotype;
      bool nearest_to_some_neighbour = false;
      for (const cells::DartsGenotype& n : neighbours) {
        int best = 1 << 20;
        for (size_t p = 0; p < pool.size(); ++p)
          if (p != r) best = std::min(best, darts_distance(n, pool[p]));
        nearest_to_some_neighbour |= darts_distance(n, c) == best;
      }
      EXPECT_TRUE(nearest_to_some_neighbour) << child.arch;
    }
    EXPECT_GE(children.size(), 1u);
  }
  // The same seed gives the same children.
  Rng a(kMutationSeed + 2), b(kMutationSeed + 2);
  for (int i = 0; i < 20; ++i)
    EXPECT_EQ(mutate(f.space->from_index(3), a).arch, mutate(f.space->from_index(3), b).arch);
}

TEST(DartsMutation, KeepsTheNetworkSizeAndNeedsAnotherGenotype) {
  TableFixture f;
  const MutationFn mutate = darts_mutation(*f.space, {genotype(0), genotype(1)});
  Rng rng(kMutationSeed + 3);
  const ArchEntry child = mutate({-1, test::nb301_test_compact(0) + " width=8 depth=5"}, rng);
  EXPECT_EQ(child.arch, cells::to_string(genotype(1)) + " width=8 depth=5");
  EXPECT_EQ(child.index, -1);  // the space's entries have the default size
  const MutationFn alone = darts_mutation(*f.space, {genotype(0)});
  EXPECT_TRUE(test::throws_error([&] { alone(f.space->from_index(0), rng); }, ErrorKind::BadInput,
                                 {"no genotype other than the parent"}));
}

TEST(DartsMutation, MutationForADartsSpaceNeedsADartsTableAndReaQueriesOnlyItsRows) {
  TableFixture f;
  EXPECT_TRUE(test::throws_error([&] { mutation_for(*f.space); }, ErrorKind::BadInput, {"--table"}));
  EXPECT_TRUE(test::throws_error([&] { mutation_for(*f.space, &BenchTable::nb201_default()); }, ErrorKind::BadInput,
                                 {"DARTS genotype table"}));
  const MutationFn mutate = mutation_for(*f.space, &f.table);
  int queries = 0;
  const OracleFn oracle = [&](const ArchEntry& a) {
    ++queries;
    return f.table.lookup(a).accuracy(DatasetKind::Cifar10, Split::Valid);
  };
  EvolutionOptions o;
  o.population = 3;
  o.budget = 20;
  Rng rng(kMutationSeed + 4);
  const EvolutionRun run = regularized_evolution(*f.space, mutate, oracle, o, rng);
  EXPECT_EQ(queries, 20);
  ASSERT_EQ(run.history.size(), 20u);
  for (const Queried& q : run.history) EXPECT_NE(f.table.find_arch(q.arch.arch), nullptr) << q.arch.arch;
  for (const Queried& q : run.history) EXPECT_LE(q.accuracy, run.history[run.best].accuracy);
}

}  // namespace
}  // namespace naswot::search
