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

std::vector<Score> Scorer::score_many(const std::vector<const rt::Graph*>& graphs,
                                      const std::vector<const rt::Params*>& params, std::vector<rt::KMatrix>* ks) {
  NASWOT_EXPECT(graphs.size() == params.size(), Internal,
                "score_many: " << graphs.size() << " graphs but " << params.size() << " parameter sets");
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<rt::Plan> plans;
  plans.reserve(graphs.size());
  std::vector<const rt::Plan*> plan_ptrs;
  for (const rt::Graph* g : graphs) {
    plans.emplace_back(*g, m_batch.shape);
    plan_ptrs.push_back(&plans.back());
  }
  const std::vector<cpu::LogDet> lds = m_backend.score_many(plan_ptrs, params, m_counting, ks);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::vector<Score> out(graphs.size());
  for (size_t i = 0; i < graphs.size(); ++i) {
    out[i].value = lds[i].value;
    out[i].method = lds[i].method;
    out[i].status = lds[i].method == cpu::LogDetMethod::Singular ? "singular" : "ok";
    out[i].n_units = plans[i].n_units(m_counting);
    out[i].seconds = graphs.empty() ? 0.0 : seconds / static_cast<double>(graphs.size());
  }
  return out;
}

std::vector<Score> Scorer::score_group(const std::vector<rt::Graph>& graphs, const std::vector<rt::Params>& params,
                                      std::vector<rt::KMatrix>* ks) {
  NASWOT_EXPECT(graphs.size() == params.size(), Internal,
                "score_group: " << graphs.size() << " graphs but " << params.size() << " parameter sets");
  if (graphs.size() == 1) {
    const Score s = score(graphs[0], params[0]);
    if (ks) ks->assign(1, m_k);
    return {s};
  }
  std::vector<const rt::Graph*> graph_ptrs;
  std::vector<const rt::Params*> param_ptrs;
  for (size_t i = 0; i < graphs.size(); ++i) {
    graph_ptrs.push_back(&graphs[i]);
    param_ptrs.push_back(&params[i]);
  }
  return score_many(graph_ptrs, param_ptrs, ks);
}

}  // namespace naswot::search
