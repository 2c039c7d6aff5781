// Helpers for the search-driver tests: an ArchScorer that records what it is asked (optionally
// wrapping a real one), a deterministic stand-in score, and a small indexed space (the first
// `size` NB201 indices) in which draws repeat often.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "search/score_cache.h"
#include "search/space.h"

namespace naswot::test {

class RecordingScorer final : public search::ArchScorer {
 public:
  // `value` gives the score of an architecture; `inner`, if set, is called instead.
  explicit RecordingScorer(std::function<double(const search::ArchEntry&)> value, search::ArchScorer* inner = nullptr)
      : m_value(std::move(value)), m_inner(inner) {}
  std::vector<search::Score> score(const std::vector<search::ArchEntry>& archs) override {
    ++calls;
    for (const search::ArchEntry& a : archs) ++times_scored[a.arch];
    if (m_inner) return m_inner->score(archs);
    std::vector<search::Score> out;
    for (const search::ArchEntry& a : archs) {
      search::Score s;
      s.value = m_value(a);
      s.status = "ok";
      s.seconds = 0.001 * static_cast<double>(a.index % 7 + 1);
      out.push_back(s);
    }
    return out;
  }
  int calls = 0;
  std::map<std::string, int> times_scored;

 private:
  std::function<double(const search::ArchEntry&)> m_value;
  search::ArchScorer* m_inner;
};

// A score that depends on the index in a scrambled way; every 11th index is NaN.
inline double scrambled_score(const search::ArchEntry& a) {
  if (a.index % 11 == 5) return std::nan("");
  return static_cast<double>((a.index * 7919 + 13) % 1009);
}

// NB201 restricted to indices 0..size-1.
class SmallSpace final : public search::Space {
 public:
  explicit SmallSpace(int64_t size) : m_nb201(search::make_space("nb201", {16})), m_size(size) {}
  std::string name() const override { return "nb201"; }
  int64_t size() const override { return m_size; }
  search::ArchEntry from_index(int64_t index) const override {
    EXPECT_LT(index, m_size);
    return m_nb201->from_index(index);
  }
  search::ArchEntry from_string(const std::string& arch) const override { return m_nb201->from_string(arch); }
  rt::Graph build(const search::ArchEntry& entry) const override { return m_nb201->build(entry); }
  rt::Graph worst_case() const override { return m_nb201->worst_case(); }

 private:
  std::unique_ptr<search::Space> m_nb201;
  int64_t m_size;
};

}  // namespace naswot::test
