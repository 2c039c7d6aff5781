// Backend: the default many-architecture path (one after another).
#include "runtime/backend.h"

#include "runtime/error.h"

namespace naswot::rt {

std::vector<cpu::LogDet> Backend::score_many(const std::vector<const Plan*>& plans,
                                             const std::vector<const Params*>& params, Counting counting,
                                             std::vector<KMatrix>* ks) {
  NASWOT_EXPECT(plans.size() == params.size(), Internal,
                "score_many: " << plans.size() << " plans but " << params.size() << " parameter sets");
  std::vector<cpu::LogDet> out;
  out.reserve(plans.size());
  if (ks) ks->resize(plans.size());
  KMatrix local;
  for (size_t i = 0; i < plans.size(); ++i) {
    KMatrix& k = ks ? (*ks)[i] : local;
    compute_k(*plans[i], *params[i], counting, k);
    out.push_back(cpu::logabsdet(k.values.data(), k.n));
  }
  return out;
}

}  // namespace naswot::rt
