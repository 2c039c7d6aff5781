// A Lane is everything one architecture in flight needs: a stream, a cuDNN handle bound to it,
// one device arena, pinned staging for the parameters and for K, and the schedule of the plan
// being run. The backend's compute_k uses lane 0; score_many runs several lanes at once
// (several architectures in flight, each with its own arena, STYLE.md habits 8-9).
// Arena regions (each 256-byte aligned, sizes only grow; see ArenaSizes):
//   tensors  | params (device copy of the staged parameters) | bits (packed codes, n x words)
//   | stats (mean, var, invstd per node term) | bn_scratch (batchnorm_stats partials + tickets)
//   | workspace (cuDNN) | k (n x n int64)
// enqueue() only enqueues: the caller synchronizes (compute_k) or waits on an event (score_many).
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "runtime/backend.h"
#include "runtime/cuda/conv_plan.h"
#include "runtime/cuda/memory.h"
#include "runtime/cuda/schedule.h"

namespace naswot::rt {

// The arena's regions, in address order.
enum class ArenaRegion : uint8_t { Tensors, Params, Bits, Stats, BnScratch, Workspace, K };
inline constexpr int kArenaRegions = 7;
static_assert(static_cast<int>(ArenaRegion::K) + 1 == kArenaRegions, "kArenaRegions counts every region");

struct ArenaSizes {
  size_t tensor_bytes = 0, param_floats = 0, bits_bytes = 0, stats_bytes = 0, bn_scratch_bytes = 0,
         workspace_bytes = 0, k_bytes = 0;
  bool fits_in(const ArenaSizes& capacity) const;
  void grow_to(const ArenaSizes& other);  // elementwise max
  size_t arena_bytes() const;             // all device regions, aligned
};

// Sizes `plan` needs with `schedule` (built for it). Conv plans are looked up (built on a miss,
// with `cudnn`): the workspace region is the largest any of them asks for.
ArenaSizes arena_sizes(const Plan& plan, const Schedule& schedule, ConvPlanCache& convs, cudnnHandle_t cudnn);

// One parameter tensor as staged: which op and name, where in the params region, how many floats.
struct ParamSlot {
  int op = -1;
  const std::string* name = nullptr;
  size_t offset = 0;  // floats
  size_t count = 0;
  bool to_ohwi = false;  // conv weight reordered OIHW -> OHWI while staging
};

// Wall time per op kind while profiling (each step synchronized: host enqueue + device time).
// Node steps count under their op's kind (Add or BatchNorm), merged taps under Tap.
struct LaneProfile {
  std::array<double, kOpKindCount> seconds{};
  std::array<int64_t, kOpKindCount> calls{};
  double staging_seconds = 0.0;  // parameter packing + upload, K zeroing
  int64_t architectures = 0;
};

class Lane {
 public:
  Lane();
  cudaStream_t stream() const { return m_stream.get(); }
  cudnnHandle_t cudnn() const { return m_cudnn.get(); }
  const ArenaSizes& capacity() const { return m_capacity; }
  // Grow the arena and staging to hold `sizes`; true when something was (re)allocated.
  bool ensure(const ArenaSizes& sizes);
  int64_t growths() const { return m_growths; }  // number of ensure() calls that allocated
  // Enqueue one architecture: parameters, every step, K accumulated into k_out (device n x n,
  // zeroed here first; nullptr = this lane's own K region). Also enqueues the copy of K into
  // k_host_pinned() when copy_k_to_host. Does not synchronize.
  // With `profile`, every step is synchronized and timed into it.
  void enqueue(const Plan& plan, const Params& params, Counting counting, const float* batch, ConvPlanCache& convs,
               int64_t* k_out, bool copy_k_to_host, LaneProfile* profile = nullptr);
  int64_t* k_device();
  const int64_t* k_host_pinned() const { return m_k_host.data(); }
  // Values of a materialised tensor after the last enqueue (synchronizes; tests).
  std::vector<float> download_tensor(const Plan& plan, TensorId t, const float* batch);
  const Schedule& schedule() const { return m_schedule; }

 private:
  void stage_params(const Plan& plan, const Params& params, ConvPlanCache& convs);
  void run_step(const Plan& plan, const Step& step, Counting counting, ConvPlanCache& convs);
  void run_node(const Plan& plan, const Step& step, Counting counting);
  void run_tap(const Plan& plan, int slot, Counting counting, const float* x);
  float* tensor(TensorId t);
  unsigned char* region(ArenaRegion r);

  Stream m_stream;
  CudnnHandle m_cudnn;
  ArenaSizes m_capacity;
  DeviceBuffer<unsigned char> m_arena;
  PinnedBuffer<float> m_staging;
  PinnedBuffer<int64_t> m_k_host;
  Schedule m_schedule;
  std::vector<ParamSlot> m_slots;
  std::vector<int> m_first_slot;  // per op: index of its first ParamSlot, -1 when none
  const float* m_batch = nullptr;
  int64_t* m_k = nullptr;
  int m_n = 0;
  int64_t m_growths = 0;
};

// Parameter slots for the ops the schedule runs (conv/linear weight and bias, BN gamma and beta),
// with their expected sizes from the plan's shapes.
void param_slots(const Plan& plan, const Schedule& schedule, std::vector<ParamSlot>& slots, std::vector<int>& first);

// The kernel shape of a Conv op in `plan`.
cuda::Conv2dShape conv_shape(const Plan& plan, const Op& op);

// True when the CUDA backend can run `op` (the same cases as Lane::run_step's switch).
bool supports(const Op& op);

}  // namespace naswot::rt
