// StackRunner: executes StackPlans (stack_plan.h) on one stream. Owns
//  * one arena: the plan's blocks, then cuDNN workspace, then BN-statistics scratch (grown to
//    the largest plan seen, never shrunk);
//  * the descriptor tables of every table step (gather sources, statistics, node, popcount and
//    sign-pack segments): built on the host into pinned memory and uploaded in ONE copy per
//    group, before the group's launches;
//  * device copies of the parameter tensors, kept across groups and keyed by tensor address
//    and layout, bump-allocated in 16 MiB chunks (a space's weights cost a few allocations). The runner holds each tensor's shared_ptr, so an address it has seen is never
//    reused by another tensor while the copy exists. NB-201 and DARTS spaces draw their weights
//    from one ParamInitCache, so after the first groups nothing is uploaded; imported or
//    per-architecture weights grow the cache, which is dropped at the start of the next group
//    once it holds more than kMaxParamCacheBytes.
// enqueue() waits for the previous group first (tables and arena are reused), then enqueues
// the whole group without synchronizing: the caller waits on stream() (e.g. with an event).
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "kernels/cuda/segments.cuh"
#include "runtime/cuda/conv_plan.h"
#include "runtime/cuda/memory.h"
#include "runtime/cuda/stack_plan.h"

namespace naswot::rt {

// Wall time per kind of stacked step while profiling (each step synchronized: host enqueue +
// device time), for `naswot score --profile` with NASWOT_CUDA_STACK. A node step's three kernels
// are timed apart (BnStats, Node = the fused BN/sum/sign-bit pass, Popcount = its K update); a
// tap's popcount counts under Tap.
enum class StackCost : uint8_t { Prepare, Gather, Conv, Pool, OtherRun, BnStats, Node, Popcount, Tap };
inline constexpr int kStackCosts = 9;
const char* to_string(StackCost cost);
struct StackProfile {
  std::array<double, kStackCosts> seconds{};
  std::array<int64_t, kStackCosts> steps{};
  int64_t groups = 0, architectures = 0;
  void add(const StackProfile& other);
};

class StackRunner {
 public:
  static constexpr size_t kMaxParamCacheBytes = size_t{1} << 30;

  StackRunner();
  // k_out[a]: device n x n int64 K of architecture a (zeroed here, then accumulated).
  // With `profile`, every step is synchronized and timed into it (Prepare: sizing, parameter
  // uploads, tables).
  void enqueue(const StackPlan& sp, const float* batch, ConvPlanCache& convs, const std::vector<int64_t*>& k_out,
               StackProfile* profile = nullptr);
  cudaStream_t stream() const { return m_stream.get(); }
  // Which node-pass kernel the following enqueue() calls use (cuda::NodePass; both give the same
  // bits). The default comes from NASWOT_NODE_PASS (per-element | batched; unset: per-element).
  void set_node_pass(cuda::NodePass pass) { m_node_pass = pass; }
  cuda::NodePass node_pass() const { return m_node_pass; }
  // Called after every step of later enqueue() calls with the step's index, the stream
  // synchronized (tests compare each step with the CPU replay). Empty: none.
  void set_step_hook(std::function<void(size_t step)> hook) { m_hook = std::move(hook); }
  // `floats` floats from segment `rank` of `block` as the last enqueue left them (synchronizes).
  std::vector<float> download(const StackPlan& sp, int block, int rank, size_t floats);
  int64_t growths() const { return m_growths; }  // arena, table or parameter-chunk allocations
  int64_t param_uploads() const { return m_uploads; }  // parameter tensors copied to the device

 private:
  struct DeviceParam {
    std::shared_ptr<const ParamTensor> host;  // keeps the key's address alive
    const float* data = nullptr;              // in m_chunks
  };
  static constexpr size_t kParamChunkFloats = size_t{4} << 20;  // 16 MiB: all of NB-201's weights
  // Device copy of parameter `name` of architecture `arch` (expected `count` values; conv
  // weights reordered OIHW -> OHWI when `ohwi`).
  const float* param(const StackPlan& sp, int arch, const Op& op, const std::string& name, size_t count, bool ohwi,
                     int in_per_group);
  // The device copy of `tensor` in this layout when cached, else nullptr.
  const float* cached_param(const ParamTensor* tensor, bool ohwi) const;
  unsigned char* table_slot(size_t bytes, size_t& offset);  // reserve host table bytes (aligned)

  Stream m_stream;
  CudnnHandle m_cudnn;
  DeviceBuffer<unsigned char> m_arena;
  size_t m_tensor_bytes = 0, m_workspace_bytes = 0, m_scratch_bytes = 0;
  cuda::NodePass m_node_pass = cuda::NodePass::PerElement;
  PinnedBuffer<unsigned char> m_tables_host;
  DeviceBuffer<unsigned char> m_tables;
  size_t m_tables_used = 0;
  std::map<std::pair<const ParamTensor*, bool>, DeviceParam> m_params;
  std::vector<DeviceBuffer<float>> m_chunks;  // parameter copies, bump-allocated
  size_t m_chunk_used = 0;                    // floats used in m_chunks.back()
  size_t m_param_bytes = 0;
  int64_t m_uploads = 0;
  std::function<void(size_t)> m_hook;
  int64_t m_growths = 0;
};

}  // namespace naswot::rt
