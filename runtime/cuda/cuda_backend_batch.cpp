// CudaBackend::score_many: several architectures in flight (see cuda_backend.h).
// Per chunk of up to kMaxChunk architectures (one chunk for the CLI's default group of 256):
//   1. stacked (set_stacking(G, W) > 0): W workers, each a host thread with its own StackRunner
//      stream, pull groups of G architectures, build their StackPlan and enqueue the group as
//      one stream of launches (a group whose members cannot share an order runs on the lanes);
//      otherwise the L = lanes() lanes pull architectures from a shared counter (one host thread per lane
//      when threaded; round-robin from the calling thread otherwise). Lane::enqueue waits for the
//      lane's previous architecture, stages parameters and enqueues the network and the K
//      accumulation into the architecture's own slot of the device K batch. No lane waits for
//      another: there is no barrier between architectures, only at the end of the chunk;
//   2. the solver stream waits for every lane, runs one batched Cholesky over the whole chunk and
//      copies info, logdet and every K back to pinned memory; one synchronize covers all of it;
//   3. on the host each result follows the CPU's rules (combine_logdet).
// Lanes keep their arenas between calls; buffers only grow (counted in workspace_growths).
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <limits>
#include <thread>

#include "kernels/cuda/bn_add_pack.cuh"
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
  if (k_batch_host.size() < k_count) {
    k_batch_host = PinnedBuffer<int64_t>(k_count, "K batch (pinned)");
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

void CudaBackend::Impl::enqueue_stacked(const std::vector<const Plan*>& plans, const std::vector<const Params*>& params,
                                         Counting counting, size_t c0, size_t count) {
  const auto group = static_cast<size_t>(stack_group);
  const size_t groups = (count + group - 1) / group;
  const auto workers = static_cast<int>(std::min(static_cast<size_t>(stack_workers), groups));
  while (stackers.size() < static_cast<size_t>(workers)) {
    stackers.push_back(std::make_unique<StackWorker>());
    stack_done.push_back(make_event());
  }
  grow_lanes(workers);  // worker j falls back to lane j
  const size_t kk = static_cast<size_t>(plans[c0]->batch()) * static_cast<size_t>(plans[c0]->batch());
  // Groups are cut from the chunk in stack_order (similar architectures together); each member's
  // K goes to its own slot, so the results keep the caller's order. Every slot starts at zero.
  const std::vector<const Plan*> chunk(plans.begin() + static_cast<std::ptrdiff_t>(c0),
                                       plans.begin() + static_cast<std::ptrdiff_t>(c0 + count));
  const std::vector<size_t> order = stack_order(chunk);
  fill_zero(k_batch.data(), count * kk * sizeof(int64_t), solver_stream.get());
  synchronize(solver_stream.get());
  // Groups go to workers round-robin (worker j: groups j, j + W, ...), not first come first served:
  // which worker meets which group sizes, and so which arenas and conv plans it grows, is the same
  // on every call, so a repeated call allocates nothing (stack_backend_test) and runs identically.
  // stack_order puts similar architectures side by side, so neighbouring groups cost alike and
  // the interleaving keeps the workers evenly loaded.
  std::atomic<bool> failed{false};
  std::vector<std::exception_ptr> errors(static_cast<size_t>(workers));
  auto work = [&](int j) {
    try {
      NASWOT_CHECK_CUDA(cudaSetDevice(device));  // a new host thread starts on device 0
      StackWorker& w = *stackers[static_cast<size_t>(j)];
      for (size_t gi = static_cast<size_t>(j); gi < groups && !failed; gi += static_cast<size_t>(workers)) {
        const size_t g0 = gi * group;
        const size_t gn = std::min(group, count - g0);
        if (w.schedules.size() < gn) w.schedules.resize(gn);
        std::vector<const Plan*> pp(gn);
        std::vector<const Params*> qq(gn);
        std::vector<const Schedule*> ss(gn);
        std::vector<int64_t*> k_out(gn);
        for (size_t i = 0; i < gn; ++i) {
          const size_t at = order[g0 + i];  // position in the chunk
          pp[i] = plans[c0 + at];
          qq[i] = params[c0 + at];
          w.schedules[i].build(*pp[i], cuda::kMaxBnAddTerms);
          ss[i] = &w.schedules[i];
          k_out[i] = k_batch.data() + at * kk;
        }
        bool stacked = true;
        try {
          w.plan.build(pp, qq, ss, counting);
        } catch (const Error& e) {
          if (e.kind() != ErrorKind::Internal) throw;
          stacked = false;  // no common order: this group runs on the lane path
        }
        if (stacked) {
          w.runner.enqueue(w.plan, batch.data(), convs, k_out, profiling ? &w.profile : nullptr);
        } else {
          ++stack_fallbacks;
          for (size_t i = 0; i < gn; ++i)
            lanes[static_cast<size_t>(j)]->enqueue(*pp[i], *qq[i], counting, batch.data(), convs, k_out[i],
                                                   /*copy_k_to_host=*/false);
        }
      }
    } catch (...) {
      errors[static_cast<size_t>(j)] = std::current_exception();
      failed = true;  // the other workers stop after their current group
    }
  };
  std::vector<std::thread> threads;
  for (int j = 0; j < workers; ++j) threads.emplace_back(work, j);
  for (std::thread& t : threads) t.join();
  for (const std::exception_ptr& e : errors)
    if (e) std::rethrow_exception(e);
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
  const size_t kk = static_cast<size_t>(n) * static_cast<size_t>(n);
  const size_t chunk_max = std::min(plans.size(), Impl::kMaxChunk);
  m->ensure_batched(n, static_cast<int>(std::max(chunk_max, static_cast<size_t>(lanes))));

  for (size_t c0 = 0; c0 < plans.size(); c0 += chunk_max) {
    const size_t count = std::min(plans.size() - c0, chunk_max);
    auto enqueue = [&](Lane& lane, size_t i) {  // i: position in the chunk
      lane.enqueue(*plans[c0 + i], *params[c0 + i], counting, m->batch.data(), m->convs, m->k_batch.data() + i * kk,
                   /*copy_k_to_host=*/false);
    };
    if (m->stack_group > 0) {
      m->enqueue_stacked(plans, params, counting, c0, count);
    } else if (m->threaded && lanes > 1 && count > 1) {
      std::atomic<size_t> next{0};
      std::vector<std::exception_ptr> errors(static_cast<size_t>(lanes));
      auto work = [&](int j) {
        try {
          NASWOT_CHECK_CUDA(cudaSetDevice(m->device));  // a new host thread starts on device 0
          Lane& lane = *m->lanes[static_cast<size_t>(j)];
          for (size_t i = next++; i < count; i = next++) enqueue(lane, i);
        } catch (...) {
          errors[static_cast<size_t>(j)] = std::current_exception();
          next = count;  // the other lanes stop after their current architecture
        }
      };
      std::vector<std::thread> threads;
      const int used = static_cast<int>(std::min(static_cast<size_t>(lanes), count));
      threads.reserve(static_cast<size_t>(used));
      for (int j = 0; j < used; ++j) threads.emplace_back(work, j);
      for (std::thread& t : threads) t.join();
      for (const std::exception_ptr& e : errors)
        if (e) std::rethrow_exception(e);
    } else {
      for (size_t i = 0; i < count; ++i) enqueue(*m->lanes[i % static_cast<size_t>(lanes)], i);
    }

    cudaStream_t s = m->solver_stream.get();
    while (m->lane_done.size() < m->lanes.size()) m->lane_done.push_back(make_event());
    for (size_t j = 0; j < m->lanes.size(); ++j) {  // stacked fallbacks may use lanes beyond `lanes`
      cudaEvent_t done = m->lane_done[j].get();
      NASWOT_CHECK_CUDA(cudaEventRecord(done, m->lanes[j]->stream()));
      NASWOT_CHECK_CUDA(cudaStreamWaitEvent(s, done, 0));
    }
    for (size_t j = 0; j < m->stackers.size(); ++j) {
      cudaEvent_t done = m->stack_done[j].get();
      NASWOT_CHECK_CUDA(cudaEventRecord(done, m->stackers[j]->runner.stream()));
      NASWOT_CHECK_CUDA(cudaStreamWaitEvent(s, done, 0));
    }
    bool on_device = !m->host_logdet;
    if (on_device) {
      try {
        cuda::logabsdet_batched(m->k_batch.data(), n, static_cast<int>(count), m->logdet_scratch.data(),
                                m->info.data(), m->logdet.data(), m->solver.get(), s);
        copy_to_host(m->info_host.data(), m->info.data(), count * sizeof(int), s);
        copy_to_host(m->logdet_host.data(), m->logdet.data(), count * sizeof(double), s);
      } catch (const Error& e) {
        if (e.kind() != ErrorKind::Cusolver) throw;
        // A cuSOLVER refusal (not a device fault): score on the host from now on, say so once.
        std::fprintf(stderr, "naswot: warning: batched Cholesky unavailable (%s); log-dets run on the host\n",
                     e.what());
        m->host_logdet = true;
        on_device = false;
      }
    }
    copy_to_host(m->k_batch_host.data(), m->k_batch.data(), count * kk * sizeof(int64_t), s);
    synchronize(s);  // also waits for every lane (the stream waited on their events)
    if (!on_device) {
      for (size_t j = 0; j < count; ++j) {
        m->info_host.data()[j] = 1;  // "not factored": combine_logdet takes the CPU path
        m->logdet_host.data()[j] = std::nan("");
      }
    }

    for (size_t j = 0; j < count; ++j) {
      const size_t i = c0 + j;
      const int64_t* k_host = m->k_batch_host.data() + j * kk;
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
