// CudaBackend::score_many: several architectures in flight (see cuda_backend.h).
// Per group of L = lanes() architectures:
//   1. lane j (own host thread when threaded) stages parameters, enqueues the whole network and
//      the K accumulation into slot j of the device K batch, copies K to its pinned host buffer
//      and records lane_done[j];
//   2. the solver stream waits for every lane_done[j], runs one batched Cholesky over the group
//      and copies info/logdet back; one synchronize of the solver stream covers all of it;
//   3. on the host each result follows the CPU's rules (combine_logdet).
// Lanes keep their arenas between groups; buffers only grow (counted in workspace_growths).
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <limits>
#include <thread>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/logdet.cuh"
#include "runtime/cuda/cuda_backend_impl.h"
#include "runtime/error.h"

namespace naswot::rt {
namespace {

bool has_equal_rows(const int64_t* k, int n) {
  const size_t row_bytes = static_cast<size_t>(n) * sizeof(int64_t);
  for (int i = 0; i < n; ++i)
    for (int j = i + 1; j < n; ++j)
      if (k[static_cast<int64_t>(i) * n] == k[static_cast<int64_t>(j) * n] &&
          std::memcmp(k + static_cast<int64_t>(i) * n, k + static_cast<int64_t>(j) * n, row_bytes) == 0)
        return true;
  return false;
}

}  // namespace

cpu::LogDet combine_logdet(const int64_t* k_host, int n, int info, double cholesky_logdet) {
  // Same order of rules as cpu::logabsdet: equal rows first (a Cholesky can "succeed" on a
  // rounding residue of an exactly singular K), then Cholesky, then the CPU's LU path.
  if (has_equal_rows(k_host, n)) return {-std::numeric_limits<double>::infinity(), cpu::LogDetMethod::Singular};
  if (info == 0 && std::isfinite(cholesky_logdet)) return {cholesky_logdet, cpu::LogDetMethod::Cholesky};
  return cpu::logabsdet(k_host, n);
}

void CudaBackend::Impl::ensure_batched(int n, int matrices) {
  const size_t k_count = static_cast<size_t>(n) * static_cast<size_t>(n) * static_cast<size_t>(matrices);
  const size_t scratch = cuda::logabsdet_batched_scratch_bytes(n, matrices);
  bool grew = false;
  if (k_batch.size() < k_count) {
    k_batch = DeviceBuffer<int64_t>(k_count, "K batch");
    grew = true;
  }
  if (logdet_scratch.size() < scratch) {
    logdet_scratch = DeviceBuffer<unsigned char>(scratch, "batched Cholesky scratch");
    grew = true;
  }
  if (info.size() < static_cast<size_t>(matrices)) {
    info = DeviceBuffer<int>(static_cast<size_t>(matrices), "Cholesky info");
    logdet = DeviceBuffer<double>(static_cast<size_t>(matrices), "log-det results");
    info_host = PinnedBuffer<int>(static_cast<size_t>(matrices), "Cholesky info (pinned)");
    logdet_host = PinnedBuffer<double>(static_cast<size_t>(matrices), "log-det results (pinned)");
    grew = true;
  }
  while (lane_done.size() < static_cast<size_t>(matrices)) lane_done.push_back(make_event());
  if (grew) ++batch_growths;
}

std::vector<cpu::LogDet> CudaBackend::score_many(const std::vector<const Plan*>& plans,
                                                 const std::vector<const Params*>& params, Counting counting,
                                                 std::vector<KMatrix>* ks) {
  NASWOT_EXPECT(plans.size() == params.size(), BadInput,
                "score_many: " << plans.size() << " plans but " << params.size() << " parameter sets");
  std::vector<cpu::LogDet> results(plans.size());
  if (ks != nullptr) ks->resize(plans.size());
  if (plans.empty()) return results;
  for (size_t i = 0; i < plans.size(); ++i) {
    NASWOT_EXPECT(plans[i] != nullptr && params[i] != nullptr, BadInput, "score_many: entry " << i << " is null");
    m->check_batch(*plans[i]);
  }
  const int n = plans[0]->batch();
  const int lanes = m->wanted_lanes;
  m->grow_lanes(lanes);
  m->ensure_batched(n, lanes);
  const size_t kk = static_cast<size_t>(n) * static_cast<size_t>(n);

  for (size_t g0 = 0; g0 < plans.size(); g0 += static_cast<size_t>(lanes)) {
    const int count = static_cast<int>(std::min(plans.size() - g0, static_cast<size_t>(lanes)));
    std::vector<std::exception_ptr> errors(static_cast<size_t>(count));
    auto work = [&](int j) {
      try {
        NASWOT_CHECK_CUDA(cudaSetDevice(m->device));  // a new host thread starts on device 0
        Lane& lane = *m->lanes[static_cast<size_t>(j)];
        lane.enqueue(*plans[g0 + static_cast<size_t>(j)], *params[g0 + static_cast<size_t>(j)], counting,
                     m->batch.data(), m->convs, m->k_batch.data() + static_cast<size_t>(j) * kk, true);
        NASWOT_CHECK_CUDA(cudaEventRecord(m->lane_done[static_cast<size_t>(j)].get(), lane.stream()));
      } catch (...) {
        errors[static_cast<size_t>(j)] = std::current_exception();
      }
    };
    if (m->threaded && count > 1) {
      std::vector<std::thread> threads;
      threads.reserve(static_cast<size_t>(count));
      for (int j = 0; j < count; ++j) threads.emplace_back(work, j);
      for (std::thread& t : threads) t.join();
    } else {
      for (int j = 0; j < count; ++j) work(j);
    }
    for (const std::exception_ptr& e : errors)
      if (e) std::rethrow_exception(e);

    cudaStream_t s = m->solver_stream.get();
    for (int j = 0; j < count; ++j)
      NASWOT_CHECK_CUDA(cudaStreamWaitEvent(s, m->lane_done[static_cast<size_t>(j)].get(), 0));
    bool on_device = !m->host_logdet;
    if (on_device) {
      try {
        cuda::logabsdet_batched(m->k_batch.data(), n, count, m->logdet_scratch.data(), m->info.data(),
                                m->logdet.data(), m->solver.get(), s);
        copy_to_host(m->info_host.data(), m->info.data(), static_cast<size_t>(count) * sizeof(int), s);
        copy_to_host(m->logdet_host.data(), m->logdet.data(), static_cast<size_t>(count) * sizeof(double), s);
      } catch (const Error& e) {
        if (e.kind() != ErrorKind::Cusolver) throw;
        // A cuSOLVER refusal (not a device fault): score on the host from now on, say so once.
        std::fprintf(stderr, "naswot: warning: batched Cholesky unavailable (%s); log-dets run on the host\n",
                     e.what());
        m->host_logdet = true;
        on_device = false;
      }
    }
    synchronize(s);  // also waits for every lane of the group (the stream waited on their events)
    if (!on_device) {
      for (int j = 0; j < count; ++j) {
        m->info_host.data()[j] = 1;  // "not factored": combine_logdet takes the CPU path
        m->logdet_host.data()[j] = std::nan("");
      }
    }

    for (int j = 0; j < count; ++j) {
      const size_t i = g0 + static_cast<size_t>(j);
      const int64_t* k_host = m->lanes[static_cast<size_t>(j)]->k_host_pinned();
      results[i] = combine_logdet(k_host, n, m->info_host.data()[j], m->logdet_host.data()[j]);
      if (ks != nullptr) {
        (*ks)[i].reset(n);
        std::memcpy((*ks)[i].values.data(), k_host, kk * sizeof(int64_t));
      }
    }
  }
  for (const auto& lane : m->lanes) m->caps.grow_to(lane->capacity());
  return results;
}

}  // namespace naswot::rt
