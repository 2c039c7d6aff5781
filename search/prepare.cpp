// prepare_networks (prepare.h): an atomic counter hands out positions; each thread writes its own
// slots, so no result needs a lock.
#include "search/prepare.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <system_error>
#include <thread>

#include "runtime/error.h"

namespace naswot::search {

PreparedGroup prepare_networks(const Space& space, const std::vector<ArchEntry>& archs, const ParamsFor& params_for,
                               int threads) {
  NASWOT_EXPECT(threads >= 0, Internal, "prepare_networks: threads " << threads << ", expected >= 0");
  const size_t n = archs.size();
  PreparedGroup p;
  p.graphs.resize(n);
  p.params.resize(n);
  if (threads == 0) {
    const auto hw = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    threads = std::min({hw, kMaxPrepareThreads, static_cast<int>(n / 8) + 1});
  }
  threads = std::max(1, std::min(threads, static_cast<int>(n)));
  std::vector<std::exception_ptr> errors(n);
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < n; i = next++) {
      try {
        p.graphs[i] = space.build(archs[i]);
        p.params[i] = params_for(p.graphs[i]);
      } catch (...) {
        errors[i] = std::current_exception();
      }
    }
  };
  if (threads == 1) {
    work();
  } else {
    std::vector<std::thread> pool;
    pool.reserve(static_cast<size_t>(threads - 1));
    try {
      for (int t = 1; t < threads; ++t) pool.emplace_back(work);
    } catch (const std::system_error&) {
      // No more threads to be had: the ones started and this one finish the group.
    }
    work();
    for (std::thread& t : pool) t.join();
  }
  for (const std::exception_ptr& e : errors)
    if (e) std::rethrow_exception(e);
  return p;
}

}  // namespace naswot::search
