// The DARTS mutation for REA/AREA (rules in darts_mutation.h).
#include "search/darts_mutation.h"

#include <algorithm>
#include <limits>
#include <memory>
#include <string>
#include <unordered_map>

#include "runtime/error.h"

namespace naswot::search {

namespace {

void add_cell_neighbours(const cells::DartsGenotype& g, bool reduce, std::vector<cells::DartsGenotype>& out) {
  const cells::DartsCell& cell = reduce ? g.reduce : g.normal;
  for (size_t e = 0; e < cell.edges.size(); ++e) {
    const cells::DartsEdge edge = cell.edges[e];
    const int sibling_input = cell.edges[e ^ 1].input;  // the other edge of the same node
    auto with = [&](cells::DartsEdge changed) {
      cells::DartsGenotype child = g;
      (reduce ? child.reduce : child.normal).edges[e] = changed;
      out.push_back(std::move(child));
    };
    for (cells::DartsOp op : kDartsSearchOps)
      if (op != edge.op) with({op, edge.input});
    const int states = 2 + static_cast<int>(e / 2);  // node k = e/2 reads states 0 .. k+1
    for (int input = 0; input < states; ++input)
      if (input != edge.input && input != sibling_input) with({edge.op, input});
  }
}

int edge_cost(const cells::DartsEdge& a, const cells::DartsEdge& b) {
  return static_cast<int>(a.op != b.op) + static_cast<int>(a.input != b.input);
}

int cell_distance(const cells::DartsCell& a, const cells::DartsCell& b) {
  const size_t common = std::min(a.edges.size(), b.edges.size()) / 2;  // nodes both cells have
  int d = 0;
  for (size_t k = 0; k < common; ++k) {
    const cells::DartsEdge &a0 = a.edges[2 * k], &a1 = a.edges[2 * k + 1];
    const cells::DartsEdge &b0 = b.edges[2 * k], &b1 = b.edges[2 * k + 1];
    d += std::min(edge_cost(a0, b0) + edge_cost(a1, b1), edge_cost(a0, b1) + edge_cost(a1, b0));
  }
  d += 2 * static_cast<int>(std::max(a.edges.size(), b.edges.size()) - 2 * common);
  for (int s : a.concat) d += static_cast<int>(std::find(b.concat.begin(), b.concat.end(), s) == b.concat.end());
  for (int s : b.concat) d += static_cast<int>(std::find(a.concat.begin(), a.concat.end(), s) == a.concat.end());
  return d;
}

struct Pool {
  std::vector<cells::DartsArch> archs;
  std::vector<std::string> keys;  // cells::to_string of each genotype
  std::unordered_map<std::string, size_t> first;  // key -> its first position
};

// The parent with the pool entry's genotype, and its size when the entry has one.
ArchEntry child_of(const Space& space, cells::DartsArch parent, const cells::DartsArch& entry) {
  parent.genotype = entry.genotype;
  if (entry.width > 0) {
    parent.width = entry.width;
    parent.depth = entry.depth;
    parent.aux = entry.aux;
  }
  return space.from_string(cells::to_string(parent));
}

}  // namespace

std::vector<cells::DartsGenotype> darts_neighbours(const cells::DartsGenotype& genotype) {
  std::vector<cells::DartsGenotype> out;
  add_cell_neighbours(genotype, false, out);
  add_cell_neighbours(genotype, true, out);
  return out;
}

int darts_distance(const cells::DartsGenotype& a, const cells::DartsGenotype& b) {
  return cell_distance(a.normal, b.normal) + cell_distance(a.reduce, b.reduce);
}

MutationFn darts_mutation(const Space& space, std::vector<cells::DartsGenotype> genotypes) {
  std::vector<cells::DartsArch> pool;
  for (cells::DartsGenotype& g : genotypes) pool.push_back({std::move(g), 0, 0, false});
  return darts_table_mutation(space, std::move(pool));
}

MutationFn darts_table_mutation(const Space& space, std::vector<cells::DartsArch> archs) {
  auto pool = std::make_shared<Pool>();
  for (cells::DartsArch& a : archs) {
    pool->keys.push_back(cells::to_string(a.genotype));
    pool->first.emplace(pool->keys.back(), pool->archs.size());
    pool->archs.push_back(std::move(a));
  }
  return [&space, pool = std::shared_ptr<const Pool>(pool)](const ArchEntry& parent, Rng& rng) {
    const cells::DartsArch arch = cells::parse_darts_arch(parent.arch);
    const std::vector<cells::DartsGenotype> neighbours = darts_neighbours(arch.genotype);
    std::vector<size_t> in_table;  // pool positions of the neighbours the table holds
    for (const cells::DartsGenotype& n : neighbours)
      if (const auto it = pool->first.find(cells::to_string(n)); it != pool->first.end()) in_table.push_back(it->second);
    if (!in_table.empty())
      return child_of(space, arch, pool->archs[in_table[static_cast<size_t>(rng.below(in_table.size()))]]);
    // No neighbour can be queried: project a random one onto the table.
    const cells::DartsGenotype& mutant = neighbours[static_cast<size_t>(rng.below(neighbours.size()))];
    const std::string parent_key = cells::to_string(arch.genotype);
    int best = std::numeric_limits<int>::max();
    std::vector<size_t> nearest;
    for (size_t p = 0; p < pool->archs.size(); ++p) {
      if (pool->keys[p] == parent_key) continue;
      const int d = darts_distance(mutant, pool->archs[p].genotype);
      if (d < best) nearest.clear();
      if (d <= best) {
        best = d;
        nearest.push_back(p);
      }
    }
    NASWOT_EXPECT(
        !nearest.empty(), BadInput,
        "DARTS mutation: the table holds no genotype other than the parent " << parent_key << "; nothing to mutate to");
    return child_of(space, arch, pool->archs[nearest[static_cast<size_t>(rng.below(nearest.size()))]]);
  };
}

}  // namespace naswot::search
