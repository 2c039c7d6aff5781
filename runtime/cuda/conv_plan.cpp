// Building a cuDNN convolution plan (see conv_plan.h for the policy). Sequence: tensor, filter
// and convolution descriptors; output dimensions checked against naswot's own shape inference;
// the candidates (cuDNN's heuristic ranking filtered by the math policy, or the policy's algorithms
// that report a workspace size when the ranking offers none); then the choice: the first candidate
// (Heuristic) or the fastest measured (Timed, verdicts shared within a batch-size bucket). KRSC
// filters are tried first, KCRS second.
#include "runtime/cuda/conv_plan.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <vector>

#include "kernels/cuda/conv2d_tc.cuh"
#include "kernels/cuda/conv2d_tiled.cuh"
#include "kernels/cuda/cuda_check.h"

namespace naswot::rt {
namespace {

// Algorithms whose summation is a plain dot product per output (rounding like the CPU's).
constexpr cudnnConvolutionFwdAlgo_t kAdmissible[] = {
    CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM,
    CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM,
    CUDNN_CONVOLUTION_FWD_ALGO_GEMM,
    CUDNN_CONVOLUTION_FWD_ALGO_DIRECT,
};

bool admissible(cudnnConvolutionFwdAlgo_t algo) {
  for (cudnnConvolutionFwdAlgo_t a : kAdmissible)
    if (a == algo) return true;
  return false;
}

cudnnStatus_t set_filter(const ConvPlan& p, const ConvKey& key, bool ohwi) {
  return cudnnSetFilter4dDescriptor(p.w.get(), CUDNN_DATA_FLOAT, ohwi ? CUDNN_TENSOR_NHWC : CUDNN_TENSOR_NCHW, key.k,
                                    key.c / key.groups, key.r, key.s);
}

struct Candidate {
  cudnnConvolutionFwdAlgo_t algo;
  cudnnMathType_t math;
  size_t bytes;
  cuda::ConvKernel kernel = cuda::ConvKernel::Cudnn;  // not Cudnn: naswot's own (algo, math unused; no workspace)
};

// NASWOT_CONV_OWN: "0" = cuDNN only; unset or "1" = naswot's own kernels compete in the timing (the
// default since they ran on the H200, 2026-12-04); "force" = naswot's own kernel of the math
// wherever it applies, untimed (tests and diagnosis). Anything else is BadInput.
enum class OwnKernel : uint8_t { Off, Compete, Force };
OwnKernel own_kernel_mode() {
  const char* v = std::getenv("NASWOT_CONV_OWN");
  if (v == nullptr || std::string(v).empty() || std::string(v) == "1") return OwnKernel::Compete;
  if (std::string(v) == "0") return OwnKernel::Off;
  if (std::string(v) == "force") return OwnKernel::Force;
  throw_error(ErrorKind::BadInput, std::string("NASWOT_CONV_OWN='") + v + "': expected 0, 1 or force");
}

// NASWOT_CONV_TC=1: conv2d_tc's single TF32 product competes under tf32 too. Off by default until
// conv2d_tc has run on a device (written 2026-12-04 after the device loans paused): a wrong kernel
// that wins the timing would move tf32 scores silently. 3xtf32 is new and opt-in as a whole.
bool tc_in_tf32() {
  const char* v = std::getenv("NASWOT_CONV_TC");
  return v != nullptr && std::string(v) == "1";
}

// naswot's own kernels for a math, in the order `force` prefers them (KRSC filters, groups 1):
// fp32: conv2d_tiled; 3xtf32: conv2d_tc's three-product split, then conv2d_tiled (fp32 FMA is
// at least as exact); tf32: conv2d_tc's single product (when forced, or with NASWOT_CONV_TC=1).
std::vector<cuda::ConvKernel> own_kernels(ConvMath math, const cuda::Conv2dShape& s, bool forced) {
  std::vector<cuda::ConvKernel> out;
  const bool tc = cuda::conv2d_tc_supports(s), tiled = cuda::conv2d_tiled_supports(s);
  switch (math) {
    case ConvMath::Fp32:
      if (tiled) out.push_back(cuda::ConvKernel::Tiled);
      break;
    case ConvMath::Tf32x3:
      if (tc) out.push_back(cuda::ConvKernel::Tc3xTf32);
      if (tiled) out.push_back(cuda::ConvKernel::Tiled);
      break;
    case ConvMath::Tf32:
      if (tc && (forced || tc_in_tf32())) out.push_back(cuda::ConvKernel::TcTf32);
      break;
  }
  return out;
}

void run_own(cuda::ConvKernel kernel, const cuda::Conv2dShape& s, const void* x, const void* w, void* y,
             cudaStream_t stream) {
  cuda::Conv2dLaunch launch;
  launch.kernel = kernel;
  cuda::conv2d(launch, s, static_cast<const float*>(x), static_cast<const float*>(w), nullptr, static_cast<float*>(y),
               nullptr, stream);
}

// The admissible algorithms for the current descriptors, in cuDNN's rank order. Fp32: FMA math and
// the kAdmissible family only; Tf32: whatever math and deterministic algorithm cuDNN ranks. When
// the ranking offers none, the kAdmissible algorithms that report a workspace size (= supported).
std::vector<Candidate> candidates(cudnnHandle_t handle, ConvPlan& p, ConvMath math, std::ostringstream& tried) {
  std::vector<Candidate> out;
  // A failing query is not fatal: the fixed list below is the second chance.
  int max_count = 0;
  cudnnStatus_t st = cudnnGetConvolutionForwardAlgorithmMaxCount(handle, &max_count);
  std::vector<cudnnConvolutionFwdAlgoPerf_t> perf(static_cast<size_t>(std::max(max_count, 1)));
  int returned = 0;
  if (st == CUDNN_STATUS_SUCCESS)
    st = cudnnGetConvolutionForwardAlgorithm_v7(handle, p.x.get(), p.w.get(), p.conv.get(), p.y.get(),
                                                static_cast<int>(perf.size()), &returned, perf.data());
  if (st != CUDNN_STATUS_SUCCESS) {
    tried << " [heuristics: " << cudnnGetErrorString(st) << "]";
    returned = 0;
  }
  for (int i = 0; i < returned; ++i) {
    const cudnnConvolutionFwdAlgoPerf_t& r = perf[static_cast<size_t>(i)];
    tried << " [heuristic algo " << r.algo << " status " << r.status << " math " << r.mathType << " bytes " << r.memory
          << "]";
    // 3xtf32 takes cuDNN's fp32 candidates: cuDNN has no split-TF32 math, and fp32 FMA is as exact.
    const bool policy_ok = math == ConvMath::Tf32 || (r.mathType == CUDNN_FMA_MATH && admissible(r.algo));
    if (r.status != CUDNN_STATUS_SUCCESS || !policy_ok || r.memory > kConvWorkspaceLimit ||
        r.determinism != CUDNN_DETERMINISTIC)
      continue;
    bool seen = false;
    for (const Candidate& c : out) seen = seen || (c.algo == r.algo && c.math == r.mathType);
    if (seen) continue;
    // cuDNN ranks (algorithm, math) pairs: the descriptor must carry the math of each one.
    if (cudnnSetConvolutionMathType(p.conv.get(), r.mathType) != CUDNN_STATUS_SUCCESS) continue;
    size_t bytes = 0;
    if (cudnnGetConvolutionForwardWorkspaceSize(handle, p.x.get(), p.w.get(), p.conv.get(), p.y.get(), r.algo,
                                                &bytes) != CUDNN_STATUS_SUCCESS ||
        bytes > kConvWorkspaceLimit)
      continue;
    out.push_back({r.algo, r.mathType, bytes});
  }
  if (!out.empty()) return out;
  const cudnnMathType_t fallback_math = math == ConvMath::Tf32 ? CUDNN_TENSOR_OP_MATH : CUDNN_FMA_MATH;
  NASWOT_CHECK_CUDNN(cudnnSetConvolutionMathType(p.conv.get(), fallback_math));
  for (cudnnConvolutionFwdAlgo_t algo : kAdmissible) {
    size_t bytes = 0;
    const cudnnStatus_t ws =
        cudnnGetConvolutionForwardWorkspaceSize(handle, p.x.get(), p.w.get(), p.conv.get(), p.y.get(), algo, &bytes);
    tried << " [fallback algo " << algo << " status " << ws << " bytes " << bytes << "]";
    if (ws == CUDNN_STATUS_SUCCESS && bytes <= kConvWorkspaceLimit) out.push_back({algo, fallback_math, bytes});
  }
  return out;
}

// Milliseconds per run of candidate `c` on the plan's descriptors (1 warm-up, kTimedRuns timed),
// or a negative value when cuDNN refuses to run it. Buffers hold zeros: the time of these
// algorithms does not depend on the values.
constexpr int kTimedRuns = 2;
float time_candidate(cudnnHandle_t handle, ConvPlan& p, const cuda::Conv2dShape& s, const Candidate& c,
                     const void* x, const void* w, void* y, void* ws) {
  const bool own = c.kernel != cuda::ConvKernel::Cudnn;
  if (!own && cudnnSetConvolutionMathType(p.conv.get(), c.math) != CUDNN_STATUS_SUCCESS) return -1.0f;
  cudaStream_t stream = nullptr;
  NASWOT_CHECK_CUDNN(cudnnGetStream(handle, &stream));
  const float alpha = 1.0f, beta = 0.0f;
  auto run = [&] {
    if (own) {
      run_own(c.kernel, s, x, w, y, stream);
      return CUDNN_STATUS_SUCCESS;
    }
    return cudnnConvolutionForward(handle, &alpha, p.x.get(), x, p.w.get(), w, p.conv.get(), c.algo,
                                   c.bytes > 0 ? ws : nullptr, c.bytes, &beta, p.y.get(), y);
  };
  if (run() != CUDNN_STATUS_SUCCESS) return -1.0f;
  Event start = make_timing_event(), stop = make_timing_event();
  NASWOT_CHECK_CUDA(cudaEventRecord(start.get(), stream));
  for (int i = 0; i < kTimedRuns; ++i)
    if (run() != CUDNN_STATUS_SUCCESS) return -1.0f;
  NASWOT_CHECK_CUDA(cudaEventRecord(stop.get(), stream));
  NASWOT_CHECK_CUDA(cudaEventSynchronize(stop.get()));
  float ms = 0.0f;
  NASWOT_CHECK_CUDA(cudaEventElapsedTime(&ms, start.get(), stop.get()));
  return ms / kTimedRuns;
}

// The fastest of `cands` on this plan's shape (index into cands); the times go to `log`.
// `scratch` (grow-only, kept by the cache: freeing device memory would synchronize the device
// under other workers' feet) holds input, filter, output and workspace.
size_t fastest(cudnnHandle_t handle, ConvPlan& p, const cuda::Conv2dShape& s, const std::vector<Candidate>& cands,
               DeviceBuffer<unsigned char>& scratch, std::ostringstream& log, float& best_ms) {
  size_t ws_bytes = 0;
  for (const Candidate& c : cands) ws_bytes = std::max(ws_bytes, c.bytes);
  auto floats = [](int64_t count) { return (static_cast<size_t>(count) * sizeof(float) + 255) / 256 * 256; };
  const size_t x_bytes = floats(static_cast<int64_t>(s.n) * s.h * s.w * s.c_in);
  const size_t y_bytes = floats(static_cast<int64_t>(s.n) * s.out_h() * s.out_w() * s.c_out);
  const size_t w_bytes = floats(static_cast<int64_t>(s.c_out) * (s.c_in / s.groups) * s.kernel_h * s.kernel_w);
  const size_t need = x_bytes + y_bytes + w_bytes + ws_bytes;
  if (scratch.bytes() < need) {
    scratch = DeviceBuffer<unsigned char>();
    scratch = DeviceBuffer<unsigned char>(need, "conv timing scratch");
  }
  unsigned char* x = scratch.data();
  unsigned char* w = x + x_bytes;
  unsigned char* y = w + w_bytes;
  unsigned char* ws = y + y_bytes;
  cudaStream_t stream = nullptr;
  NASWOT_CHECK_CUDNN(cudnnGetStream(handle, &stream));
  fill_zero(x, x_bytes + w_bytes, stream);
  size_t best = cands.size();
  best_ms = 0.0f;
  for (size_t i = 0; i < cands.size(); ++i) {
    const float ms = time_candidate(handle, p, s, cands[i], x, w, y, ws);
    if (cands[i].kernel != cuda::ConvKernel::Cudnn)
      log << " [" << cuda::to_string(cands[i].kernel) << ": ";
    else
      log << " [algo " << cands[i].algo << " math " << cands[i].math << " bytes " << cands[i].bytes << ": ";
    if (ms < 0.0f) {
      log << "refused]";
      continue;
    }
    log << ms << " ms]";
    if (best == cands.size() || ms < best_ms) {
      best = i;
      best_ms = ms;
    }
  }
  synchronize(stream);
  return best == cands.size() ? 0 : best;
}

int round_up_pow2(int n) {
  int p = 1;
  while (p < n && p < (1 << 30)) p <<= 1;
  return p;
}

bool log_choices() {
  const char* v = std::getenv("NASWOT_CONV_LOG");
  return v != nullptr && std::string(v) == "1";
}

}  // namespace

std::unique_ptr<ConvPlan> ConvPlanCache::build(cudnnHandle_t handle, const ConvKey& key) {
  NASWOT_EXPECT(key.n >= 1 && key.c >= 1 && key.h >= 1 && key.w >= 1 && key.k >= 1 && key.r >= 1 && key.s >= 1 &&
                    key.groups >= 1 && key.c % key.groups == 0 && key.k % key.groups == 0,
                BadInput, "conv plan: invalid shape " << describe(key));
  auto p = std::make_unique<ConvPlan>();
  const char* force = std::getenv("NASWOT_CONV_DIRECT");
  if (force != nullptr && std::string(force) == "1") {
    p->direct = true;
    return p;
  }
  p->x = make_tensor_descriptor();
  p->y = make_tensor_descriptor();
  p->w = make_filter_descriptor();
  p->conv = make_convolution_descriptor();
  NASWOT_CHECK_CUDNN(
      cudnnSetTensor4dDescriptor(p->x.get(), CUDNN_TENSOR_NHWC, CUDNN_DATA_FLOAT, key.n, key.c, key.h, key.w));
  NASWOT_CHECK_CUDNN(cudnnSetConvolution2dDescriptor(p->conv.get(), key.pad_h, key.pad_w, key.stride_h, key.stride_w,
                                                     key.dilation_h, key.dilation_w, CUDNN_CROSS_CORRELATION,
                                                     CUDNN_DATA_FLOAT));
  NASWOT_CHECK_CUDNN(cudnnSetConvolutionGroupCount(p->conv.get(), key.groups));
  NASWOT_CHECK_CUDNN(cudnnSetConvolutionMathType(
      p->conv.get(), key.math == ConvMath::Tf32 ? CUDNN_TENSOR_OP_MATH : CUDNN_FMA_MATH));

  cuda::Conv2dShape s;
  s.n = key.n; s.h = key.h; s.w = key.w; s.c_in = key.c; s.c_out = key.k; s.kernel_h = key.r; s.kernel_w = key.s;
  s.stride_h = key.stride_h; s.stride_w = key.stride_w; s.pad_h = key.pad_h; s.pad_w = key.pad_w;
  s.dilation_h = key.dilation_h; s.dilation_w = key.dilation_w; s.groups = key.groups;
  std::ostringstream tried;
  for (bool ohwi : {true, false}) {
    tried << " filter " << (ohwi ? "KRSC:" : "KCRS:");
    const cudnnStatus_t fs = set_filter(*p, key, ohwi);
    if (fs != CUDNN_STATUS_SUCCESS) {
      tried << " [filter descriptor: " << cudnnGetErrorString(fs) << "]";
      continue;
    }
    int on = 0, oc = 0, oh = 0, ow = 0;
    NASWOT_CHECK_CUDNN(cudnnGetConvolution2dForwardOutputDim(p->conv.get(), p->x.get(), p->w.get(), &on, &oc, &oh, &ow));
    NASWOT_EXPECT(on == key.n && oc == key.k && oh == s.out_h() && ow == s.out_w(), Internal,
                  "conv plan " << describe(key) << ": cuDNN output " << on << "x" << oc << "x" << oh << "x" << ow
                               << " differs from naswot's " << key.n << "x" << key.k << "x" << s.out_h() << "x"
                               << s.out_w());
    NASWOT_CHECK_CUDNN(cudnnSetTensor4dDescriptor(p->y.get(), CUDNN_TENSOR_NHWC, CUDNN_DATA_FLOAT, on, oc, oh, ow));
    std::vector<Candidate> cands = candidates(handle, *p, key.math, tried);
    if (cands.empty()) continue;
    // naswot's own kernels compete in the timing (the default), or the first is forced (KRSC
    // filters, as they read them; considered only where cuDNN has a KRSC plan too). The Heuristic
    // choice stays cuDNN's first rank: its point is a choice that does not depend on timing.
    const OwnKernel own = own_kernel_mode();
    const std::vector<cuda::ConvKernel> mine =
        ohwi ? own_kernels(key.math, s, own == OwnKernel::Force) : std::vector<cuda::ConvKernel>{};
    if (own != OwnKernel::Off && !mine.empty()) {
      if (own == OwnKernel::Force) {
        cands.assign(1, Candidate{CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, CUDNN_FMA_MATH, 0, mine.front()});
      } else if (m_choice == ConvChoice::Timed) {
        for (cuda::ConvKernel k : mine)
          cands.push_back({CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, CUDNN_FMA_MATH, 0, k});
      }
    }
    p->filter_ohwi = ohwi;
    size_t pick = 0;  // Heuristic, or a single candidate: cuDNN's first
    const char* how = own == OwnKernel::Force && cands.size() == 1 && cands[0].kernel != cuda::ConvKernel::Cudnn
                          ? "forced (NASWOT_CONV_OWN=force)"
                          : "heuristic";
    bool timed_now = false;
    if (m_choice == ConvChoice::Timed && cands.size() > 1) {
      ConvKey bucket = key;
      bucket.n = round_up_pow2(key.n);
      auto v = m_verdicts.find(bucket);
      size_t found = cands.size();
      if (v != m_verdicts.end() && v->second.filter_ohwi == ohwi)
        for (size_t i = 0; i < cands.size(); ++i)
          if (cands[i].kernel == v->second.kernel &&
              (cands[i].kernel != cuda::ConvKernel::Cudnn ||
               (cands[i].algo == v->second.algo && cands[i].math == v->second.math)))
            found = i;
      if (found < cands.size()) {
        pick = found;
        how = "timed (bucket verdict)";
      } else {
        std::ostringstream times;
        float best_ms = 0.0f;
        pick = fastest(handle, *p, s, cands, m_timing_scratch, times, best_ms);
        m_timings += static_cast<int64_t>(cands.size());
        p->measured_ms = best_ms;
        m_verdicts[bucket] = Verdict{cands[pick].algo, cands[pick].math, ohwi, cands[pick].kernel};
        how = "timed";
        timed_now = true;
        tried << " timed:" << times.str();
      }
    }
    NASWOT_CHECK_CUDNN(cudnnSetConvolutionMathType(p->conv.get(), cands[pick].math));
    p->algo = cands[pick].algo;
    p->workspace_bytes = cands[pick].bytes;
    p->kernel = cands[pick].kernel;
    if (log_choices())
      std::fprintf(stderr, "naswot: conv plan %s: %s%s%d math %d workspace %zu bytes, %s%s\n", describe(key).c_str(),
                   p->kernel != cuda::ConvKernel::Cudnn ? cuda::to_string(p->kernel) : "",
                   p->kernel != cuda::ConvKernel::Cudnn ? " (not cuDNN) " : "algo ", static_cast<int>(p->algo),
                   static_cast<int>(cands[pick].math), p->workspace_bytes, how,
                   timed_now ? tried.str().c_str() : "");
    return p;
  }
  std::fprintf(stderr,
               "naswot: warning: cuDNN offers no admissible algorithm for conv %s within %zu bytes of "
               "workspace; using naswot's direct convolution kernel (slow). Tried:%s\n",
               describe(key).c_str(), kConvWorkspaceLimit, tried.str().c_str());
  p->direct = true;
  p->filter_ohwi = true;
  p->workspace_bytes = 0;
  return p;
}


ConvKey conv_key(const cuda::Conv2dShape& s) {
  ConvKey k;
  k.n = s.n;
  k.c = s.c_in;
  k.h = s.h;
  k.w = s.w;
  k.k = s.c_out;
  k.r = s.kernel_h;
  k.s = s.kernel_w;
  k.stride_h = s.stride_h;
  k.stride_w = s.stride_w;
  k.pad_h = s.pad_h;
  k.pad_w = s.pad_w;
  k.dilation_h = s.dilation_h;
  k.dilation_w = s.dilation_w;
  k.groups = s.groups;
  return k;
}

std::string describe(const ConvKey& key) {
  std::ostringstream os;
  os << "x " << key.n << "x" << key.h << "x" << key.w << "x" << key.c << " (NHWC f32), " << key.k << " filters "
     << key.r << "x" << key.s << ", stride " << key.stride_h << "x" << key.stride_w << ", pad " << key.pad_h << "x"
     << key.pad_w << ", dilation " << key.dilation_h << "x" << key.dilation_w << ", groups " << key.groups
     << (key.math == ConvMath::Tf32 ? ", tf32" : key.math == ConvMath::Tf32x3 ? ", 3xtf32" : "");
  return os.str();
}

cuda::Conv2dLaunch ConvPlan::view(cudnnHandle_t handle) const {
  cuda::Conv2dLaunch v;
  v.handle = handle;
  v.x_desc = x.get();
  v.w_desc = w.get();
  v.conv_desc = conv.get();
  v.y_desc = y.get();
  v.algo = algo;
  v.workspace_bytes = workspace_bytes;
  v.direct = direct;
  v.kernel = kernel;
  return v;
}

int64_t ConvPlanCache::hits() const {
  std::lock_guard<std::mutex> lock(m_mutex);
  return m_hits;
}

int64_t ConvPlanCache::misses() const {
  std::lock_guard<std::mutex> lock(m_mutex);
  return m_misses;
}

size_t ConvPlanCache::size() const {
  std::lock_guard<std::mutex> lock(m_mutex);
  return m_plans.size();
}

ConvChoice conv_choice_from_env() {
  const char* v = std::getenv("NASWOT_CONV_ALGO");
  if (v == nullptr || std::string(v).empty() || std::string(v) == "timed") return ConvChoice::Timed;
  if (std::string(v) == "heuristic") return ConvChoice::Heuristic;
  throw_error(ErrorKind::BadInput, std::string("NASWOT_CONV_ALGO='") + v + "': expected timed or heuristic");
}

const char* to_string(ConvChoice choice) { return choice == ConvChoice::Timed ? "timed" : "heuristic"; }

void ConvPlanCache::set_choice(ConvChoice choice) {
  std::lock_guard<std::mutex> lock(m_mutex);
  m_choice = choice;
}

ConvChoice ConvPlanCache::choice() const {
  std::lock_guard<std::mutex> lock(m_mutex);
  return m_choice;
}

int64_t ConvPlanCache::timings() const {
  std::lock_guard<std::mutex> lock(m_mutex);
  return m_timings;
}

void ConvPlanCache::set_math(ConvMath math) {
  std::lock_guard<std::mutex> lock(m_mutex);
  m_math = math;
}

ConvMath ConvPlanCache::math() const {
  std::lock_guard<std::mutex> lock(m_mutex);
  return m_math;
}

const ConvPlan& ConvPlanCache::get(cudnnHandle_t handle, const ConvKey& requested) {
  std::lock_guard<std::mutex> lock(m_mutex);
  ConvKey key = requested;
  key.math = m_math;
  auto it = m_plans.find(key);
  if (it != m_plans.end()) {
    ++m_hits;
    return *it->second;
  }
  ++m_misses;
  auto [inserted, ok] = m_plans.emplace(key, build(handle, key));
  (void)ok;
  return *inserted->second;
}

}  // namespace naswot::rt
