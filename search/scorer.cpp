#include "search/scorer.h"

#include <chrono>

#include "runtime/error.h"

namespace naswot::search {

Score score_from_k(const rt::KMatrix& k) {
  Score s;
  const cpu::LogDet ld = cpu::logabsdet(k.values.data(), k.n);
  s.value = ld.value;
  s.method = ld.method;
  s.status = ld.method == cpu::LogDetMethod::Singular ? "singular" : "ok";
  s.n_units = k.n > 0 ? k.at(0, 0) : 0;
  return s;
}

Scorer::Scorer(rt::Backend& backend, const rt::Batch& batch, rt::Counting counting)
    : m_backend(backend), m_batch(batch), m_counting(counting) {
  m_backend.set_batch(m_batch);
}

void Scorer::reserve(const rt::Graph& worst_case) { m_backend.reserve(rt::Plan(worst_case, m_batch.shape)); }

Score Scorer::score(const rt::Graph& graph, const rt::Params& params) {
  const auto t0 = std::chrono::steady_clock::now();
  const rt::Plan plan(graph, m_batch.shape);
  m_backend.compute_k(plan, params, m_counting, m_k);
  Score s = score_from_k(m_k);
  NASWOT_EXPECT(s.n_units == plan.n_units(m_counting), Internal,
                "K diagonal " << s.n_units << " differs from the planned code length " << plan.n_units(m_counting));
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return s;
}

}  // namespace naswot::search
