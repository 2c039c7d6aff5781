// search::ArchScorer and search::ScoreCache: how the search drivers get NASWOT scores.
//  * ArchScorer turns architectures into scores, a group at a time. NetworkArchScorer is the real
//    one: Space::build, shared weights from a ParamInitCache, Scorer::score_many (on the CUDA
//    backend a group runs overlapped, with one batched log-det, so groups should be large there).
//  * ScoreCache keeps every score by canonical architecture string. A score is a deterministic
//    function of (arch, seed, batch, counting, backend), all fixed for one cache, so an
//    architecture drawn again (by another run, or by AREA's sample) is never rescored.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "runtime/params.h"
#include "search/prepare.h"
#include "search/scorer.h"
#include "search/space.h"

namespace naswot::search {

class ArchScorer {
 public:
  virtual ~ArchScorer() = default;
  // One Score per architecture, in order.
  virtual std::vector<Score> score(const std::vector<ArchEntry>& archs) = 0;
};

class NetworkArchScorer final : public ArchScorer {
 public:
  // Keeps references to all three.
  NetworkArchScorer(const Space& space, Scorer& scorer, rt::ParamInitCache& weights);
  std::vector<Score> score(const std::vector<ArchEntry>& archs) override;

  // The two halves of score(), so a caller can build the next group while the backend scores
  // this one (run_sweep). prepare() builds on several threads (search/prepare.h).
  using Prepared = PreparedGroup;
  Prepared prepare(const std::vector<ArchEntry>& archs);  // prepare_networks over the shared cache
  std::vector<Score> score(const Prepared& group);

 private:
  const Space& m_space;
  Scorer& m_scorer;
  rt::ParamInitCache& m_weights;
};

class ScoreCache {
 public:
  // group: architectures per scorer call (>= 1).
  ScoreCache(ArchScorer& scorer, size_t group);
  // Called after each scorer call with (architectures scored so far by this ensure(), how many it
  // has to score); for progress lines on long runs.
  using Progress = std::function<void(size_t done, size_t total)>;
  void set_progress(Progress progress) { m_progress = std::move(progress); }

  // Scores the architectures of `archs` that are not cached yet (each once, in first-seen order,
  // `group` per call).
  void ensure(const std::vector<ArchEntry>& archs);
  bool contains(const ArchEntry& arch) const { return m_scores.count(arch.arch) != 0; }
  // Internal error if `arch` was never ensure()d.
  const Score& at(const ArchEntry& arch) const;

  size_t size() const { return m_scores.size(); }
  size_t scorer_calls() const { return m_calls; }
  double scoring_seconds() const { return m_seconds; }  // wall time inside the scorer

 private:
  ArchScorer& m_scorer;
  size_t m_group;
  Progress m_progress;
  std::unordered_map<std::string, Score> m_scores;
  size_t m_calls = 0;
  double m_seconds = 0;
};

}  // namespace naswot::search
