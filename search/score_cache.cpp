// Architecture scorers and the score cache (score_cache.h).
#include "search/score_cache.h"

#include <chrono>
#include <unordered_set>

#include "runtime/error.h"

namespace naswot::search {

NetworkArchScorer::NetworkArchScorer(const Space& space, Scorer& scorer, rt::ParamInitCache& weights)
    : m_space(space), m_scorer(scorer), m_weights(weights) {}

NetworkArchScorer::Prepared NetworkArchScorer::prepare(const std::vector<ArchEntry>& archs) {
  return prepare_networks(m_space, archs, [this](const rt::Graph& g) { return m_weights.params_for(g); });
}

std::vector<Score> NetworkArchScorer::score(const Prepared& group) { return m_scorer.score_group(group.graphs, group.params); }

std::vector<Score> NetworkArchScorer::score(const std::vector<ArchEntry>& archs) { return score(prepare(archs)); }

ScoreCache::ScoreCache(ArchScorer& scorer, size_t group) : m_scorer(scorer), m_group(group) {
  NASWOT_EXPECT(group >= 1, BadInput, "score group size " << group << ": expected at least 1");
}

void ScoreCache::ensure(const std::vector<ArchEntry>& archs) {
  std::vector<ArchEntry> todo;
  std::unordered_set<std::string> queued;
  for (const ArchEntry& a : archs)
    if (!contains(a) && queued.insert(a.arch).second) todo.push_back(a);
  for (size_t begin = 0; begin < todo.size(); begin += m_group) {
    const std::vector<ArchEntry> group(
        todo.begin() + static_cast<std::ptrdiff_t>(begin),
        todo.begin() + static_cast<std::ptrdiff_t>(std::min(todo.size(), begin + m_group)));
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<Score> scores = m_scorer.score(group);
    m_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ++m_calls;
    NASWOT_EXPECT(scores.size() == group.size(), Internal,
                  "scorer returned " << scores.size() << " scores for " << group.size() << " architectures");
    for (size_t i = 0; i < group.size(); ++i) m_scores.emplace(group[i].arch, std::move(scores[i]));
    if (m_progress) m_progress(begin + group.size(), todo.size());
  }
}

const Score& ScoreCache::at(const ArchEntry& arch) const {
  const auto it = m_scores.find(arch.arch);
  NASWOT_EXPECT(it != m_scores.end(), Internal, "no cached score for " << arch.arch);
  return it->second;
}

}  // namespace naswot::search
