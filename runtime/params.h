// runtime::Params: named float32 tensors in PyTorch layout (conv OIHW, linear [out, in]).
// `init_params` draws PyTorch's default distributions from the Philox stream of each name, so
// the same seed and architecture give the same weights on every machine and backend
// (README "Determinism"). `check_params` validates an imported set against a graph.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

#include "runtime/graph.h"

namespace naswot::rt {

struct ParamTensor {
  std::vector<int64_t> shape;
  std::vector<float> data;
  int64_t numel() const;
};

// Tensors are immutable once set and shared between Params objects (copying a Params copies
// pointers), so many architectures can draw on one cache of initialised weights; backends may
// key device copies by tensor address.
class Params {
 public:
  void set(const std::string& name, ParamTensor t);
  void set_shared(const std::string& name, std::shared_ptr<const ParamTensor> t);
  bool has(const std::string& name) const { return m_tensors.count(name) != 0; }
  const ParamTensor& at(const std::string& name) const;  // throws Internal naming the missing tensor
  const ParamTensor* find(const std::string& name) const;
  const std::map<std::string, std::shared_ptr<const ParamTensor>>& all() const { return m_tensors; }
  size_t size() const { return m_tensors.size(); }

 private:
  std::map<std::string, std::shared_ptr<const ParamTensor>> m_tensors;
};

// PyTorch-default initialisation, element e of parameter p drawn from Philox(seed) at counter
// (e, fnv1a32(p)). Optional parameters (BN running stats) are included.
Params init_params(const Graph& graph, uint64_t seed);

// The tensor init_params draws for one spec (a function of seed, name and shape only).
ParamTensor init_param(const ParamSpec& spec, uint64_t seed);

// init_params with memory: a tensor is drawn once per (name, shape) and shared by every later
// architecture that has it (in NB201 the same edge op at the same place has the same weights).
// Thread-safe: several threads may build weights at once (search/prepare.h); a tensor's values
// depend on (seed, name, shape) only, so the order in which threads draw them does not matter,
// and two threads asking for the same new tensor get the same object.
class ParamInitCache {
 public:
  explicit ParamInitCache(uint64_t seed) : m_seed(seed) {}
  Params params_for(const Graph& graph);
  size_t cached_tensors() const;

 private:
  using Key = std::pair<std::string, std::vector<int64_t>>;
  uint64_t m_seed;
  mutable std::shared_mutex m_mutex;
  std::map<Key, std::shared_ptr<const ParamTensor>> m_cache;
};

// Every required parameter of `graph` present with its exact shape; no tensor that the graph
// does not know. Throws BadInput naming `source` (a file name) and the offending tensor.
void check_params(const Graph& graph, const Params& params, const std::string& source);

}  // namespace naswot::rt
