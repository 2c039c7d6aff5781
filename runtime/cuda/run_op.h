// One per-image op (a schedule's Run step) on the CUDA backend: the switch from op kind to
// kernel, shared by the lane path (Lane::run_step, one architecture) and the stacked path
// (StackRunner, `segments` architectures as one batch of n' = segments x n images). Per-image
// ops are independent across images, so running them over a larger batch changes nothing per
// image. Node-step ops (BatchNorm, fused Adds) and Taps are not Run ops.
#pragma once
#include <cuda_runtime.h>
#include <cudnn.h>

#include <cstddef>

#include "runtime/cuda/conv_plan.h"
#include "runtime/graph.h"
#include "runtime/plan.h"

namespace naswot::rt {

// Inputs of one op on the host stack of a launch (concats; the spaces use 2..8).
inline constexpr size_t kMaxRunOpInputs = 64;

struct RunOpArgs {
  const Op* op = nullptr;
  const Shape4* in = nullptr;   // op->inputs.size() input shapes (n = images in this launch)
  Shape4 out;
  const float* const* xs = nullptr;  // device inputs, one per op input
  const float* weight = nullptr;     // device; conv weights in the layout conv_plan says (filter_ohwi)
  const float* bias = nullptr;
  float* y = nullptr;
  // Conv only: the plan (looked up by the caller, which also chose the weight layout with it).
  const ConvPlan* conv = nullptr;
  cudnnHandle_t cudnn = nullptr;
  void* workspace = nullptr;
  size_t workspace_bytes = 0;
  cudaStream_t stream = nullptr;
};

// The kernel shape of a Conv op with input shape x.
cuda::Conv2dShape conv_shape_of(const Op& op, const Shape4& x);

// Enqueues the op's kernel(s) on args.stream. Throws Internal for an op kind that is not a Run
// op, and when a conv plan needs more workspace than args.workspace_bytes.
void enqueue_run_op(const RunOpArgs& args);

}  // namespace naswot::rt
