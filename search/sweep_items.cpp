// Sweep work lists (sweep_items.h).
#include "search/sweep_items.h"

#include <algorithm>

#include "cells/nb201_unique.h"
#include "runtime/error.h"

namespace naswot::search {

SweepItems SweepItems::all(const Space& space) { return of_size(space.size()); }

SweepItems SweepItems::of_size(int64_t size) { return SweepItems(size, nullptr); }

SweepItems SweepItems::unique(const Space& space, cells::Nb201Equivalence equivalence) {
  NASWOT_EXPECT(space.name() == "nb201", Unsupported,
                "--unique: isomorphism classes are implemented for nb201 only, not " << space.name());
  const cells::Nb201Classes& classes = cells::nb201_unique_classes(equivalence);
  NASWOT_EXPECT(static_cast<int64_t>(classes.class_of.size()) == space.size(), Internal,
                "nb201 classes cover " << classes.class_of.size() << " indices, the space has " << space.size());
  return SweepItems(space.size(), &classes);
}

int64_t SweepItems::size() const {
  return m_classes ? static_cast<int64_t>(m_classes->members.size()) : m_space_size;
}

int64_t SweepItems::index(int64_t position) const {
  NASWOT_EXPECT(position >= 0 && position < size(), Internal, "sweep item " << position << " of " << size());
  return m_classes ? m_classes->members[static_cast<size_t>(position)].front() : position;
}

std::vector<int64_t> SweepItems::members(int64_t position) const {
  NASWOT_EXPECT(position >= 0 && position < size(), Internal, "sweep item " << position << " of " << size());
  if (!m_classes) return {};
  const auto& m = m_classes->members[static_cast<size_t>(position)];
  return {m.begin(), m.end()};
}

int64_t SweepItems::position_of(int64_t index) const {
  NASWOT_EXPECT(index >= 0 && index < m_space_size, BadInput,
                "index " << index << " is outside the space (0.." << m_space_size - 1 << ")");
  return m_classes ? m_classes->class_of[static_cast<size_t>(index)] : index;
}

int64_t SweepItems::record_position(const formats::SweepRecord& r, const std::string& where) const {
  const int64_t index = r.score.index;
  NASWOT_EXPECT(index >= 0 && index < m_space_size, BadInput,
                where << "index " << index << " is outside the space (0.." << m_space_size - 1 << ")");
  const int64_t position = position_of(index);
  if (!m_classes) return position;
  const std::vector<int32_t>& members = m_classes->members[static_cast<size_t>(position)];
  NASWOT_EXPECT(index == members.front(), BadInput,
                where << "index " << index << " is not the representative of its isomorphism class (" << members.front()
                      << " is); was the file written by another naswot version?");
  NASWOT_EXPECT(std::equal(r.members.begin(), r.members.end(), members.begin(), members.end()), BadInput,
                where << "the members of index " << index << " differ from its isomorphism class (" << members.size()
                      << " indices, listed " << r.members.size() << ")");
  return position;
}

}  // namespace naswot::search
