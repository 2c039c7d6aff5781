// CudaBackend's private state, shared by cuda_backend.cpp (setup, compute_k) and
// cuda_backend_batch.cpp (score_many). Not part of the public interface.
#pragma once
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "runtime/cuda/conv_plan.h"
#include "runtime/cuda/cuda_backend.h"
#include "runtime/cuda/lane.h"
#include "runtime/cuda/memory.h"
#include "runtime/cuda/schedule.h"
#include "runtime/cuda/stack_plan.h"
#include "runtime/cuda/stack_runner.h"

namespace naswot::rt {

struct CudaBackend::Impl {
  int device = 0;
  std::string description;
  Shape4 batch_shape;
  std::string batch_source;
  DeviceBuffer<float> batch;
  bool has_batch = false;

  ConvPlanCache convs;
  ArenaSizes caps;  // the largest sizes reserved or seen; every lane is grown to these
  std::vector<std::unique_ptr<Lane>> lanes;  // lanes[0] serves compute_k
  int wanted_lanes = kDefaultLanes;
  bool threaded = true;

  // score_many's batched log-det: one stream and cuSOLVER handle, buffers for a chunk's matrices.
  Stream solver_stream;
  CusolverHandle solver;
  std::vector<Event> lane_done;
  // At most this many architectures share one batched log-det (bounds the K batch: 1,024 x
  // 128 x 128 int64 = 128 MiB on the device and as much pinned on the host).
  static constexpr size_t kMaxChunk = 1024;
  DeviceBuffer<int64_t> k_batch;
  PinnedBuffer<int64_t> k_batch_host;
  DeviceBuffer<unsigned char> logdet_scratch;
  DeviceBuffer<int> info;
  DeviceBuffer<double> logdet;
  PinnedBuffer<int> info_host;
  PinnedBuffer<double> logdet_host;
  int64_t batch_growths = 0;
  bool host_logdet = false;
  bool profiling = false;
  LaneProfile profile;  // set when cuSOLVER refused the batched Cholesky once

  // Stacked execution (set_stacking): one worker per group in flight.
  struct StackWorker {
    StackRunner runner;
    std::vector<Schedule> schedules;
    StackPlan plan;
    StackProfile profile;  // while profiling
  };
  int stack_group = 0;
  int stack_workers = 2;
  std::vector<std::unique_ptr<StackWorker>> stackers;
  std::atomic<int64_t> stack_fallbacks{0};
  std::vector<Event> stack_done;
  // Enqueues plans[c0 .. c0 + count) in stacked groups, K into k_batch slots 0 .. count.
  void enqueue_stacked(const std::vector<const Plan*>& plans, const std::vector<const Params*>& params,
                       Counting counting, size_t c0, size_t count);

  void check_batch(const Plan& plan) const;
  void grow_lanes(int count);  // create lanes up to count and size them to caps
  void ensure_batched(int n, int matrices);
};

// log|det K| from a device Cholesky result with the CPU's rules around it (equal rows -> Singular;
// Cholesky rejected -> cpu::logabsdet's LU path).
cpu::LogDet combine_logdet(const int64_t* k_host, int n, int info, double cholesky_logdet);

}  // namespace naswot::rt
