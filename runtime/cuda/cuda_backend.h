// The CUDA backend: the same contract as CpuBackend (runtime/backend.h) on one GPU, plus a
// throughput entry that scores many architectures with several in flight.
//  * compute_k: one architecture on lane 0 (one stream, one arena): parameters staged through
//    pinned memory, cuDNN convolutions (plans cached per shape), fused BN + node sum + sign-bit
//    kernels, XOR/popcount K on the device; K (int64 n x n) copied back. Synchronous.
//  * score_many: lanes() lanes (each: own stream, cuDNN handle, arena, host thread) pull the
//    architectures from a shared counter with no barrier between them, each writing its K into
//    its own slot of one device batch; then one batched cuSOLVER Cholesky for the whole call (in
//    chunks of at most 1,024); a matrix Cholesky rejects (or with equal rows) falls back to
//    cpu::logabsdet on the host, so results follow the CPU's rules (LU, -inf Singular).
// The device is the current CUDA device when the backend is created; its compute capability is
// checked against the architectures this build was compiled for (clear error, no late failure).
// This header has no CUDA includes: runtime/backend_factory.cpp includes it in every build.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "kernels/cpu/logdet.h"
#include "runtime/backend.h"

namespace naswot::rt {

// False with the reason when no usable device is visible (any cudaGetDeviceCount failure, zero
// devices, or no kernel image of this build for the device).
bool cuda_device_available(std::string* why_not);
std::unique_ptr<Backend> make_cuda_backend();
// Makes device (device_hint mod the visible count) current when several are visible, before any
// context exists (one process per GPU: each MPI rank passes its node-local rank). No-op for
// device_hint < 0 or when fewer than two devices are visible.
void select_cuda_device(int device_hint);

class CudaBackend final : public Backend {
 public:
  static constexpr int kDefaultLanes = 8;  // H200, 2026-11-28: 4 lanes 297 archs/s, 8 lanes 396

  CudaBackend();  // throws Unsupported when the current device cannot run this build
  ~CudaBackend() override;
  CudaBackend(const CudaBackend&) = delete;
  CudaBackend& operator=(const CudaBackend&) = delete;

  std::string name() const override { return "cuda"; }
  void set_batch(const Batch& batch) override;
  void reserve(const Plan& plan) override;
  void compute_k(const Plan& plan, const Params& params, Counting counting, KMatrix& k) override;
  int64_t workspace_growths() const override;
  // Tf32: cuDNN plans with tensor-core math (see conv_plan.h); Fp32: FMA math (the default).
  void set_conv_precision(ConvPrecision precision) override;
  // How convolution algorithms are chosen for shapes not planned yet: timed (true; the default
  // unless NASWOT_CONV_ALGO=heuristic) picks the fastest on this machine, heuristic (false) takes
  // cuDNN's first-ranked admissible one, the same on every run: two backends then give K bit
  // for bit (timed ones may pick different algorithms, which round differently).
  void set_conv_timing(bool timed);
  // Profiling covers compute_k and stacked score_many (each step synchronized and timed; slower
  // while on).
  void set_profiling(bool on) override;
  std::string profile_report() const override;

  // log|det K| of plans[i] with params[i] (same bound batch), in input order; K matrices too when
  // `ks` is given. plans.size() == params.size().
  std::vector<cpu::LogDet> score_many(const std::vector<const Plan*>& plans, const std::vector<const Params*>& params,
                                      Counting counting, std::vector<KMatrix>* ks = nullptr) override;
  // Architectures in flight in score_many (>= 1); threaded: one host thread per lane enqueues.
  void set_lanes(int lanes, bool threaded = true);
  int lanes() const;
  // Stacked execution in score_many (runtime/cuda/stack_plan.h): groups of `group` architectures
  // run as one stream of launches, `workers` groups in flight (one host thread and stream each).
  // group 0 (the default, or NASWOT_CUDA_STACK unset) keeps the lane path. The environment
  // variable NASWOT_CUDA_STACK=G[,W] sets both when the backend is created (GPU check).
  void set_stacking(int group, int workers = 2) override;
  // Groups whose architectures could not share one order and ran on the lane path instead.
  int64_t stacking_fallbacks() const;

  // "NVIDIA H200 (sm_90, 132 SMs, 140 GiB); driver 13.0, runtime 13.0, cuDNN 9.19.0; kernels sm_90".
  std::string device_description() const;
  // Values of tensor t after the last compute_k (tests; a tensor fused away or whose memory was
  // reused later in the schedule throws Internal or holds later data, as with the CPU arena).
  std::vector<float> tensor_values(const Plan& plan, TensorId t);
  int64_t conv_plan_hits() const;
  int64_t conv_plan_misses() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> m;
};

}  // namespace naswot::rt
