// First-fit placement over [0, inf): a sorted, coalesced free list of (offset, length) intervals.
// Used by the per-architecture schedule (schedule.cpp) and the stacked plan (stack_plan.cpp) to
// place tensors in one arena by liveness. Units are the caller's (floats in both).
#pragma once
#include <algorithm>
#include <cstddef>
#include <utility>
#include <vector>

namespace naswot::rt {

class FirstFit {
 public:
  size_t allocate(size_t size) {
    for (size_t i = 0; i < m_free.size(); ++i) {
      auto& [offset, length] = m_free[i];
      if (length < size) continue;
      const size_t at = offset;
      offset += size;
      length -= size;
      if (length == 0) m_free.erase(m_free.begin() + static_cast<std::ptrdiff_t>(i));
      return at;
    }
    const size_t at = m_end;
    m_end += size;
    return at;
  }
  void release(size_t offset, size_t size) {
    auto it = std::lower_bound(m_free.begin(), m_free.end(), std::make_pair(offset, size_t{0}));
    it = m_free.insert(it, {offset, size});
    auto next = it + 1;
    if (next != m_free.end() && it->first + it->second == next->first) {
      it->second += next->second;
      m_free.erase(next);
    }
    if (it != m_free.begin()) {
      auto prev = it - 1;
      if (prev->first + prev->second == it->first) {
        prev->second += it->second;
        m_free.erase(it);
      }
    }
  }
  size_t high_water() const { return m_end; }

 private:
  std::vector<std::pair<size_t, size_t>> m_free;
  size_t m_end = 0;
};

}  // namespace naswot::rt
