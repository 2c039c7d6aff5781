#include "runtime/params.h"

#include <algorithm>
#include <cmath>
#include <mutex>
#include <set>
#include <sstream>

#include "runtime/error.h"
#include "runtime/philox.h"

namespace naswot::rt {

int64_t ParamTensor::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

void Params::set(const std::string& name, ParamTensor t) {
  NASWOT_EXPECT(static_cast<int64_t>(t.data.size()) == t.numel(), Internal,
                "tensor '" << name << "' has " << t.data.size() << " values for " << t.numel() << " elements");
  m_tensors[name] = std::make_shared<const ParamTensor>(std::move(t));
}

void Params::set_shared(const std::string& name, std::shared_ptr<const ParamTensor> t) {
  NASWOT_EXPECT(t && static_cast<int64_t>(t->data.size()) == t->numel(), Internal,
                "tensor '" << name << "' is empty or has the wrong number of values");
  m_tensors[name] = std::move(t);
}

const ParamTensor& Params::at(const std::string& name) const {
  auto it = m_tensors.find(name);
  NASWOT_EXPECT(it != m_tensors.end(), Internal, "parameter '" << name << "' is missing");
  return *it->second;
}

const ParamTensor* Params::find(const std::string& name) const {
  auto it = m_tensors.find(name);
  return it == m_tensors.end() ? nullptr : it->second.get();
}

ParamTensor init_param(const ParamSpec& spec, uint64_t seed) {
  ParamTensor t;
  t.shape = spec.shape;
  t.data.resize(static_cast<size_t>(spec.numel()));
  switch (spec.init) {
    case ParamInit::Ones: std::fill(t.data.begin(), t.data.end(), 1.0f); break;
    case ParamInit::Zeros: std::fill(t.data.begin(), t.data.end(), 0.0f); break;
    case ParamInit::UniformFanIn: {
      const float bound = static_cast<float>(1.0 / std::sqrt(static_cast<double>(spec.fan_in)));
      const uint32_t stream = fnv1a32(spec.name);
      for (size_t e = 0; e < t.data.size(); ++e) t.data[e] = philox_uniform_sym(seed, stream, e, bound);
      break;
    }
  }
  return t;
}

Params init_params(const Graph& graph, uint64_t seed) {
  Params params;
  for (const ParamSpec& spec : graph.params) params.set(spec.name, init_param(spec, seed));
  return params;
}

Params ParamInitCache::params_for(const Graph& graph) {
  Params params;
  Key key;
  for (const ParamSpec& spec : graph.params) {
    key.first = spec.name;
    key.second = spec.shape;
    std::shared_ptr<const ParamTensor> tensor;
    {
      std::shared_lock<std::shared_mutex> read(m_mutex);
      const auto it = m_cache.find(key);
      if (it != m_cache.end()) tensor = it->second;
    }
    if (!tensor) {  // drawn outside the lock; the first thread to insert wins
      auto drawn = std::make_shared<const ParamTensor>(init_param(spec, m_seed));
      std::unique_lock<std::shared_mutex> write(m_mutex);
      tensor = m_cache.try_emplace(key, std::move(drawn)).first->second;
    }
    params.set_shared(spec.name, std::move(tensor));
  }
  return params;
}

size_t ParamInitCache::cached_tensors() const {
  std::shared_lock<std::shared_mutex> read(m_mutex);
  return m_cache.size();
}

static std::string shape_str(const std::vector<int64_t>& s) {
  std::ostringstream os;
  os << '[';
  for (size_t i = 0; i < s.size(); ++i) os << (i ? ", " : "") << s[i];
  os << ']';
  return os.str();
}

void check_params(const Graph& graph, const Params& params, const std::string& source) {
  std::set<std::string> known;
  for (const ParamSpec& spec : graph.params) {
    known.insert(spec.name);
    auto it = params.all().find(spec.name);
    if (it == params.all().end()) {
      NASWOT_EXPECT(spec.optional, BadInput,
                    source << ": tensor '" << spec.name << "' is missing (expected shape " << shape_str(spec.shape)
                           << ")");
      continue;
    }
    NASWOT_EXPECT(it->second->shape == spec.shape, BadInput,
                  source << ": tensor '" << spec.name << "' has shape " << shape_str(it->second->shape)
                         << ", expected " << shape_str(spec.shape));
  }
  for (const auto& [name, t] : params.all())
    NASWOT_EXPECT(known.count(name) != 0, BadInput,
                  source << ": unexpected tensor '" << name << "' (not a parameter of this network)");
}

}  // namespace naswot::rt
