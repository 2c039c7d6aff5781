// Building a cuDNN convolution plan (see conv_plan.h for the policy). Sequence: tensor, filter
// and convolution descriptors; output dimensions checked against naswot's own shape inference;
// cuDNN's heuristic ranking (GetConvolutionForwardAlgorithm_v7) filtered by the policy; then the
// policy's algorithms one by one (GetConvolutionForwardWorkspaceSize succeeds = supported) as a
// fallback when the ranking offers none. KRSC filters are tried first, KCRS second.
#include "runtime/cuda/conv_plan.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <vector>

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

// The first admissible algorithm for the current descriptors, or false. Fp32: FMA math and the
// kAdmissible family only; Tf32: whatever math and algorithm cuDNN ranks first (deterministic).
bool choose_algorithm(cudnnHandle_t handle, ConvPlan& p, ConvMath math, std::ostringstream& tried) {
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
    const bool policy_ok = math == ConvMath::Tf32 || (r.mathType == CUDNN_FMA_MATH && admissible(r.algo));
    if (r.status != CUDNN_STATUS_SUCCESS || !policy_ok || r.memory > kConvWorkspaceLimit ||
        r.determinism != CUDNN_DETERMINISTIC)
      continue;
    // cuDNN ranks (algorithm, math) pairs: the descriptor must carry the math of the chosen one.
    if (math == ConvMath::Tf32 && cudnnSetConvolutionMathType(p.conv.get(), r.mathType) != CUDNN_STATUS_SUCCESS)
      continue;
    size_t bytes = 0;
    if (cudnnGetConvolutionForwardWorkspaceSize(handle, p.x.get(), p.w.get(), p.conv.get(), p.y.get(), r.algo,
                                                &bytes) != CUDNN_STATUS_SUCCESS ||
        bytes > kConvWorkspaceLimit)
      continue;
    p.algo = r.algo;
    p.workspace_bytes = bytes;
    return true;
  }
  for (cudnnConvolutionFwdAlgo_t algo : kAdmissible) {
    size_t bytes = 0;
    const cudnnStatus_t st =
        cudnnGetConvolutionForwardWorkspaceSize(handle, p.x.get(), p.w.get(), p.conv.get(), p.y.get(), algo, &bytes);
    tried << " [fallback algo " << algo << " status " << st << " bytes " << bytes << "]";
    if (st == CUDNN_STATUS_SUCCESS && bytes <= kConvWorkspaceLimit) {
      p.algo = algo;
      p.workspace_bytes = bytes;
      return true;
    }
  }
  return false;
}

std::unique_ptr<ConvPlan> build_plan(cudnnHandle_t handle, const ConvKey& key) {
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
    if (choose_algorithm(handle, *p, key.math, tried)) {
      p->filter_ohwi = ohwi;
      return p;
    }
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

}  // namespace

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
     << (key.math == ConvMath::Tf32 ? ", tf32" : "");
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
  auto [inserted, ok] = m_plans.emplace(key, build_plan(handle, key));
  (void)ok;
  return *inserted->second;
}

}  // namespace naswot::rt
