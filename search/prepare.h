// search::prepare_networks: the networks and weights of a group of architectures, built on several
// host threads. The GPU scores a group of 256 NB201 architectures in ~0.1 s at 2,000 archs/s,
// while building them one by one takes ~50 ms (graph ~95 us, cached weights ~90 us each on one
// core, NOTES.md): past a few thousand archs/s a single preparing thread would starve the GPU.
// Graphs are independent (Space::build is const and pure) and rt::ParamInitCache is
// thread-safe, so the group is split over threads; the result is the same, in the same order,
// as the sequential loop. If any architecture fails (bad input), the error of the first failing
// one (lowest position) is rethrown once every thread has stopped, exactly what the sequential
// loop would have thrown.
#pragma once
#include <functional>
#include <vector>

#include "runtime/graph.h"
#include "runtime/params.h"
#include "search/space.h"

namespace naswot::search {

struct PreparedGroup {
  std::vector<rt::Graph> graphs;
  std::vector<rt::Params> params;
};

// The weights of one network (a shared ParamInitCache, or imported tensors); called from several
// threads at once.
using ParamsFor = std::function<rt::Params(const rt::Graph&)>;

// threads: 0 picks min(hardware threads, kMaxPrepareThreads, one per 8 architectures); 1 builds
// on the calling thread.
inline constexpr int kMaxPrepareThreads = 8;
PreparedGroup prepare_networks(const Space& space, const std::vector<ArchEntry>& archs, const ParamsFor& params_for,
                               int threads = 0);

}  // namespace naswot::search
