// search::Scorer: one backend, one bound batch, one counting mode; turns (graph, params) into a
// NASWOT score: plan -> backend computes K -> log|det K| in float64 (Cholesky, LU fallback,
// -inf + status "singular" for an exactly singular K).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/cpu/logdet.h"
#include "runtime/backend.h"

namespace naswot::search {

struct Score {
  double value = 0.0;          // log|det K|, -inf when singular
  std::string status;          // "ok" | "singular"
  cpu::LogDetMethod method = cpu::LogDetMethod::Cholesky;
  int64_t n_units = 0;         // N_A: code length per image (= every diagonal entry of K)
  double seconds = 0.0;        // plan + forward + K + log-det for this architecture
};

// log|det K| of an exact integer K, with the status the CLI reports.
Score score_from_k(const rt::KMatrix& k);

class Scorer {
 public:
  Scorer(rt::Backend& backend, const rt::Batch& batch, rt::Counting counting);
  // Size the backend's workspaces for the largest network of the run (call once, first).
  void reserve(const rt::Graph& worst_case);
  Score score(const rt::Graph& graph, const rt::Params& params);
  // Many architectures in one backend call (the CUDA backend keeps several in flight and
  // factorises all K matrices at once). Each Score's seconds is the group's wall time divided by
  // the group size.
  // ks (optional): each architecture's K, in order.
  std::vector<Score> score_many(const std::vector<const rt::Graph*>& graphs,
                                const std::vector<const rt::Params*>& params, std::vector<rt::KMatrix>* ks = nullptr);
  // A group held by value, as the drivers build it: one architecture takes score() (the plain
  // path, as `naswot score` on the CPU), several take score_many().
  std::vector<Score> score_group(const std::vector<rt::Graph>& graphs, const std::vector<rt::Params>& params,
                                 std::vector<rt::KMatrix>* ks = nullptr);
  // The K matrix of the last score() (tests, debugging).
  const rt::KMatrix& last_k() const { return m_k; }
  rt::Counting counting() const { return m_counting; }
  const rt::Batch& batch() const { return m_batch; }

 private:
  rt::Backend& m_backend;
  const rt::Batch& m_batch;
  rt::Counting m_counting;
  rt::KMatrix m_k;
};

}  // namespace naswot::search
