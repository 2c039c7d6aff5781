// cuDNN convolution plans, described once per shape and cached (STYLE.md habit 10).
// ConvKey holds every field that changes a plan: batch/input geometry, filter geometry, stride,
// padding, dilation, groups, data type and layout. ConvPlanCache::get builds the descriptors and
// chooses the algorithm on the first request for a key (a miss) and returns the same plan after
// (hits). Candidates are cuDNN's heuristic ranking under kConvWorkspaceLimit bytes of workspace,
// filtered by the key's math (below); ConvChoice says which candidate wins:
//  * ConvChoice::Timed (the default): each candidate runs on the plan's shape (1 warm-up, 2 timed
//    runs, on zeros in a grow-only scratch buffer the cache keeps) and the fastest wins. The verdict is
//    reused for keys that differ only in batch size within the same power-of-two bucket (stacked
//    groups produce many batch sizes), so a space times each conv shape a handful of times.
//    Measured on an H200 (bench/results/gpu_check.jsonl, 2026-12-04): cuDNN's first-ranked
//    algorithm was up to 4x slower than the fastest on NB201's stacked shapes. Timing makes the
//    choice depend on the machine and its load, and different algorithms round differently:
//  * ConvChoice::Heuristic (NASWOT_CONV_ALGO=heuristic): cuDNN's first-ranked admissible
//    candidate, the same on every run of the same cuDNN (bit-reproducible scores).
// The math:
//  * ConvMath::Fp32 (the default): FP32 FMA math only (no TF32) and the GEMM/direct algorithm
//    family whose rounding is closest to the CPU's direct convolution (no FFT or Winograd);
//  * ConvMath::Tf32 (opt-in, `--precision tf32`): tensor-core math allowed (inputs rounded to TF32,
//    10-bit mantissa) and any deterministic algorithm cuDNN ranks first. Scores move; the GPU check
//    measures how far (Kendall tau against fp32 over its sample).
// When cuDNN offers nothing admissible the plan is `direct` (cuda::conv2d_direct, slow, with a
// warning on stderr); NASWOT_CONV_DIRECT=1 forces that for every shape (diagnosis).
// NASWOT_CONV_LOG=1 prints each choice (candidates and times) on stderr.
//  * ConvMath::Tf32x3 (opt-in, `--precision 3xtf32`): cuDNN's fp32 candidates plus naswot's
//    3xTF32 tensor-core kernel (kernels/cuda/conv2d_tc.cuh): errors of fp32's order.
// naswot's own kernels join the timed candidates of the shapes they support (the default; KRSC
// filters): conv2d_tiled (fp32 FMA) under fp32 and 3xtf32, conv2d_tc under 3xtf32 (three TF32
// products) and, with NASWOT_CONV_TC=1, under tf32 (one; off until conv2d_tc has run on a device).
// NASWOT_CONV_OWN=0 leaves cuDNN alone; NASWOT_CONV_OWN=force uses the math's own kernel wherever
// it applies, untimed (tests, diagnosis). The Heuristic choice is cuDNN's.
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

// Workspace one plan may ask for. The arenas (lanes, stack runners) size their workspace region
// from the plans they run, not from this limit: n = 128 plans want little or none, stacked groups'
// precomputed-index GEMMs up to ~512 MiB (measured at n = 4096).
inline constexpr size_t kConvWorkspaceLimit = size_t{1} << 30;  // 1 GiB

enum class ConvDataType : uint8_t { F32 };
enum class ConvChoice : uint8_t { Timed, Heuristic };
// NASWOT_CONV_ALGO: unset or "timed" -> Timed, "heuristic" -> Heuristic; anything else is BadInput.
ConvChoice conv_choice_from_env();
const char* to_string(ConvChoice choice);
enum class ConvMath : uint8_t { Fp32, Tf32, Tf32x3 };
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
  cuda::ConvKernel kernel = cuda::ConvKernel::Cudnn;  // naswot's own kernel when it won the timing or was forced
  float measured_ms = -1.0f;  // the winner's time when it was timed (ConvChoice::Timed, > 1 candidate)
  cuda::Conv2dLaunch view(cudnnHandle_t handle) const;
};

// Thread-safe (one mutex): several host threads may drive lanes that share the cache. A returned
// plan is immutable and stays valid for the cache's lifetime.
class ConvPlanCache {
 public:
  ConvPlanCache() : m_choice(conv_choice_from_env()) {}
  // The plan for `key` under this cache's math (key.math is overridden), built with `handle` on a miss.
  const ConvPlan& get(cudnnHandle_t handle, const ConvKey& key);
  // Math of the plans get() returns from now on (plans of each math are cached separately).
  void set_math(ConvMath math);
  ConvMath math() const;
  // How the algorithm of the following misses is chosen (plans already built stay).
  void set_choice(ConvChoice choice);
  ConvChoice choice() const;
  int64_t timings() const;  // candidates timed so far (Timed misses only)
  int64_t hits() const;
  int64_t misses() const;
  size_t size() const;

 private:
  std::unique_ptr<ConvPlan> build(cudnnHandle_t handle, const ConvKey& key);  // a miss (m_mutex held)
  mutable std::mutex m_mutex;
  std::map<ConvKey, std::unique_ptr<ConvPlan>> m_plans;
  // Timed verdicts: key with n rounded up to a power of two -> (algorithm, math, filter layout).
  struct Verdict {
    cudnnConvolutionFwdAlgo_t algo;
    cudnnMathType_t math;
    bool filter_ohwi;
    cuda::ConvKernel kernel;
  };
  std::map<ConvKey, Verdict> m_verdicts;
  DeviceBuffer<unsigned char> m_timing_scratch;  // Timed misses: buffers to run candidates on (grow-only)
  ConvChoice m_choice = ConvChoice::Timed;
  int64_t m_timings = 0;
  int64_t m_hits = 0;
  int64_t m_misses = 0;
  ConvMath m_math = ConvMath::Fp32;
};

}  // namespace naswot::rt
