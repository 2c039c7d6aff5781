// The ordered work list of a sweep. Without --unique: one item per architecture, in index order.
// With --unique: one item per isomorphism class (cells/nb201_unique.h), in the order of the
// classes' representatives (their smallest index); the item is scored through its
// representative and its record lists the class members. Shards slice this list (search/shard.h).
#pragma once
#include <cstdint>
#include <vector>

#include "search/space.h"
#include "tools/formats/sweep_file.h"

namespace naswot::cells {
struct Nb201Classes;
enum class Nb201Equivalence : uint8_t;
}

namespace naswot::search {

class SweepItems {
 public:
  // Every architecture of `space`.
  static SweepItems all(const Space& space);
  // Every index 0..size-1 of a space of that size (merge needs no more than the header's size).
  static SweepItems of_size(int64_t size);
  // One item per isomorphism class; Unsupported for a space without class computation (NB201
  // has one).
  static SweepItems unique(const Space& space, cells::Nb201Equivalence equivalence);

  bool is_unique() const { return m_classes != nullptr; }
  int64_t size() const;        // number of items
  int64_t space_size() const { return m_space_size; }
  int64_t index(int64_t position) const;                 // the index scored for that item
  std::vector<int64_t> members(int64_t position) const;  // unique: the class, ascending; else empty
  // The item an index belongs to (its class with --unique). BadInput outside the space.
  int64_t position_of(int64_t index) const;
  // The item a sweep record stands for, after checking that its index is in the space, is the
  // item's representative and (--unique) that its members are exactly the class. BadInput
  // starting with `where` (e.g. "out.jsonl:12: ") otherwise.
  int64_t record_position(const formats::SweepRecord& record, const std::string& where) const;

 private:
  SweepItems(int64_t space_size, const cells::Nb201Classes* classes) : m_space_size(space_size), m_classes(classes) {}
  int64_t m_space_size = 0;
  const cells::Nb201Classes* m_classes = nullptr;
};

}  // namespace naswot::search
