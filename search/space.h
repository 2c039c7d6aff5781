// search::Space: what the drivers (score, search, sweep) need from a search space, whatever its
// notation: resolve an index or a string to a canonical entry, build its network, and name the
// worst case that sizes the workspaces. One adapter per space (search/space.cpp).
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "runtime/graph.h"

namespace naswot::search {

struct SpaceOptions {
  // Implicit on purpose: callers write make_space(name, {image_size}); a constructor instead of
  // aggregate init keeps that free of missing-initializer warnings as fields are added.
  SpaceOptions(int size = 32) : image_size(size) {}  // NOLINT(google-explicit-constructor)
  int image_size = 32;  // NB201: 32 (CIFAR) or 16 (ImageNet16-120)
  // darts, darts_in, nds (search/darts_space.h): network size of entries that carry none
  // (0: the default, C=32 and 8 cells), and the file whose genotypes are the indexed entries
  // (a genotype list, one per line, or an NDS JSON file).
  int width = 0;
  int depth = 0;
  std::string source;
};

struct ArchEntry {
  int64_t index = -1;  // benchmark index, -1 when the space has none for this architecture
  std::string arch;    // canonical notation
};

class Space {
 public:
  virtual ~Space() = default;
  virtual std::string name() const = 0;
  virtual int64_t size() const = 0;  // number of indexed architectures
  virtual ArchEntry from_index(int64_t index) const = 0;
  virtual ArchEntry from_string(const std::string& arch) const = 0;
  virtual rt::Graph build(const ArchEntry& entry) const = 0;
  virtual rt::Graph worst_case() const = 0;
  // What the CLI should tell the user about scoring this entry (empty: nothing); e.g. an NDS
  // item with an auxiliary head, which the reference scores NaN and naswot scores without it.
  virtual std::string note(const ArchEntry& entry) const {
    (void)entry;
    return {};
  }
  // A line of an --arch-file: an architecture string or a benchmark index.
  ArchEntry from_token(const std::string& token) const;
};

// "nb201"; BadInput naming the known spaces otherwise.
std::unique_ptr<Space> make_space(const std::string& name, const SpaceOptions& options);

}  // namespace naswot::search
