// cuDNN convolution plans, described once per shape and cached (STYLE.md habit 10).
// ConvKey holds every field that changes a plan: batch/input geometry, filter geometry, stride,
// padding, dilation, groups, data type and layout. ConvPlanCache::get builds the descriptors and
// chooses the algorithm on the first request for a key (a miss) and returns the same plan after
// (hits). The choice is deterministic (cuDNN's heuristic ranking, not timing), under
// kConvWorkspaceLimit bytes of workspace, and follows the key's math:
//  * ConvMath::Fp32 (the default): FP32 FMA math only (no TF32) and the GEMM/direct algorithm
//    family whose rounding is closest to the CPU's direct convolution (no FFT or Winograd);
//  * ConvMath::Tf32 (opt-in, `--precision tf32`): tensor-core math allowed (inputs rounded to TF32,
//    10-bit mantissa) and any deterministic algorithm cuDNN ranks first. Scores move; the GPU check
//    measures how far (Kendall tau against fp32 over its sample).
// When cuDNN offers nothing admissible the plan is `direct` (cuda::conv2d_direct, slow, with a
// warning on stderr); NASWOT_CONV_DIRECT=1 forces that for every shape (diagnosis).
// Layout: NHWC activations; filters KRSC (PyTorch OIHW reordered on the host) when cuDNN accepts
// it, else KCRS (= OIHW as is); ConvPlan::filter_ohwi says which one the weights must be in.
#pragma once
#include <compare>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "kernels/cuda/conv2d.cuh"
#include "runtime/cuda/memory.h"

namespace naswot::rt {

inline constexpr size_t kConvWorkspaceLimit = size_t{32} << 20;  // 32 MiB per stream

enum class ConvDataType : uint8_t { F32 };
enum class ConvMath : uint8_t { Fp32, Tf32 };
enum class ConvLayout : uint8_t { Nhwc };

struct ConvKey {
  int n = 0, c = 0, h = 0, w = 0;  // input
  int k = 0, r = 0, s = 0;         // output channels, kernel height, kernel width
  int stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0, dilation_h = 1, dilation_w = 1, groups = 1;
  ConvDataType dtype = ConvDataType::F32;
  ConvLayout layout = ConvLayout::Nhwc;
  ConvMath math = ConvMath::Fp32;
  auto operator<=>(const ConvKey&) const = default;
};
ConvKey conv_key(const cuda::Conv2dShape& s);
std::string describe(const ConvKey& key);

struct ConvPlan {
  TensorDescriptor x, y;
  FilterDescriptor w;
  ConvolutionDescriptor conv;
  cudnnConvolutionFwdAlgo_t algo = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM;
  size_t workspace_bytes = 0;
  bool filter_ohwi = true;  // weights in KRSC (true) or OIHW (false)
  bool direct = false;      // cuDNN had no admissible algorithm (or NASWOT_CONV_DIRECT=1)
  cuda::Conv2dLaunch view(cudnnHandle_t handle) const;
};

// Thread-safe (one mutex): several host threads may drive lanes that share the cache. A returned
// plan is immutable and stays valid for the cache's lifetime.
class ConvPlanCache {
 public:
  // The plan for `key` under this cache's math (key.math is overridden), built with `handle` on a miss.
  const ConvPlan& get(cudnnHandle_t handle, const ConvKey& key);
  // Math of the plans get() returns from now on (plans of each math are cached separately).
  void set_math(ConvMath math);
  ConvMath math() const;
  int64_t hits() const;
  int64_t misses() const;
  size_t size() const;

 private:
  mutable std::mutex m_mutex;
  std::map<ConvKey, std::unique_ptr<ConvPlan>> m_plans;
  int64_t m_hits = 0;
  int64_t m_misses = 0;
  ConvMath m_math = ConvMath::Fp32;
};

}  // namespace naswot::rt
