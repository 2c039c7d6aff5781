// CudaBackend setup, device checks, set_batch/reserve/compute_k (see cuda_backend.h).
#include "runtime/cuda/cuda_backend.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "kernels/cuda/bn_add_pack.cuh"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/device_info.cuh"
#include "runtime/cuda/cuda_backend_impl.h"
#include "runtime/error.h"

namespace naswot::rt {
namespace {

// reserve() adds this much to the tensor region: the first-fit layout of a smaller architecture
// can fragment past the worst case's, and a growth mid-run would allocate on the hot path.
constexpr size_t kTensorSlackPercent = 25;

std::string version_string(int v, int major_div, int minor_div) {
  std::ostringstream os;
  os << v / major_div << "." << (v % major_div) / minor_div;
  return os.str();
}

}  // namespace

bool cuda_device_available(std::string* why_not) {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    (void)cudaGetLastError();
    if (why_not) *why_not = std::string("cudaGetDeviceCount failed: ") + cudaGetErrorString(status);
    return false;
  }
  if (count < 1) {
    if (why_not) *why_not = "cudaGetDeviceCount reports no CUDA device";
    return false;
  }
  try {
    (void)cuda::probe_kernel_image();
  } catch (const Error& e) {
    if (why_not)
      *why_not = std::string("this build (CUDA architectures ") + cuda::compiled_architectures() +
                 ") has no kernel image for the device: " + e.what();
    return false;
  }
  return true;
}

std::unique_ptr<Backend> make_cuda_backend() { return std::make_unique<CudaBackend>(); }

void select_cuda_device(int device_hint) {
  int count = 0;
  if (device_hint < 0 || cudaGetDeviceCount(&count) != cudaSuccess) {
    (void)cudaGetLastError();  // no device: cuda_available() reports why
    return;
  }
  if (count > 1) NASWOT_CHECK_CUDA(cudaSetDevice(device_hint % count));
}

CudaBackend::CudaBackend() : m(std::make_unique<Impl>()) {
  NASWOT_CHECK_CUDA(cudaGetDevice(&m->device));
  cudaDeviceProp prop{};
  NASWOT_CHECK_CUDA(cudaGetDeviceProperties(&prop, m->device));
  const int cc = prop.major * 10 + prop.minor;
  NASWOT_EXPECT(cc >= cuda::kMinComputeCapability, Unsupported,
                "CUDA device " << m->device << " '" << prop.name << "' has compute capability " << prop.major << "."
                               << prop.minor << "; naswot needs " << cuda::kMinComputeCapability / 10 << "."
                               << cuda::kMinComputeCapability % 10 << " or newer");
  cuda::KernelImage image;
  try {
    image = cuda::probe_kernel_image();
  } catch (const Error& e) {
    throw Error(ErrorKind::Unsupported,
                std::string("CUDA device '") + prop.name + "' (sm_" + std::to_string(cc) +
                    ") cannot run this build, compiled for CUDA architectures '" + cuda::compiled_architectures() +
                    "': " + e.what() + "; rebuild with -DNASWOT_CUDA_ARCHITECTURES=" + std::to_string(cc));
  }
  const size_t cudnn_version = cudnnGetVersion();
  NASWOT_EXPECT(cudnn_version / 10000 == CUDNN_MAJOR, Unsupported,
                "cuDNN at run time is " << cudnn_version << ", this build was compiled against cuDNN " << CUDNN_MAJOR
                                        << ".x");
  int driver = 0, runtime = 0;
  NASWOT_CHECK_CUDA(cudaDriverGetVersion(&driver));
  NASWOT_CHECK_CUDA(cudaRuntimeGetVersion(&runtime));
  std::ostringstream os;
  os << prop.name << " (sm_" << cc << ", " << prop.multiProcessorCount << " SMs, "
     << prop.totalGlobalMem / (size_t{1} << 30) << " GiB); driver " << version_string(driver, 1000, 10)
     << ", runtime " << version_string(runtime, 1000, 10) << ", cuDNN " << cudnn_version / 10000 << "."
     << (cudnn_version % 10000) / 100 << "." << cudnn_version % 100 << "; kernels ";
  if (image.binary_version == cc)
    os << "sm_" << image.binary_version;
  else
    os << "compute_" << image.ptx_version << " PTX JIT-compiled for sm_" << cc;
  m->description = os.str();

  m->lanes.push_back(std::make_unique<Lane>());
  m->solver_stream = make_stream();
  m->solver = make_cusolver_handle();
  if (const char* stack = std::getenv("NASWOT_CUDA_STACK"); stack != nullptr && *stack != '\0') {
    int group = 0, workers = 2;
    const int got = std::sscanf(stack, "%d,%d", &group, &workers);
    NASWOT_EXPECT(got >= 1, BadInput, "NASWOT_CUDA_STACK='" << stack << "': expected G or G,W (group size, workers)");
    set_stacking(group, workers);
  }
}

CudaBackend::~CudaBackend() = default;

std::string CudaBackend::device_description() const { return m->description; }

void CudaBackend::set_batch(const Batch& batch) {
  NASWOT_EXPECT(static_cast<int64_t>(batch.data.size()) == batch.shape.numel(), Internal,
                "batch '" << batch.source << "' has " << batch.data.size() << " values for shape " << batch.shape.n
                          << "x" << batch.shape.h << "x" << batch.shape.w << "x" << batch.shape.c);
  if (m->batch.size() < batch.data.size()) m->batch = DeviceBuffer<float>(batch.data.size(), "image batch");
  cudaStream_t s = m->lanes[0]->stream();
  copy_to_device(m->batch.data(), batch.data.data(), batch.data.size() * sizeof(float), s);
  synchronize(s);  // the host vector may go away after this call
  m->batch_shape = batch.shape;
  m->batch_source = batch.source;
  m->has_batch = true;
}

void CudaBackend::Impl::check_batch(const Plan& plan) const {
  NASWOT_EXPECT(has_batch, Internal, "cuda backend: compute before set_batch");
  NASWOT_EXPECT(batch_shape == plan.input_shape(), Internal,
                "plan input shape differs from the bound batch '" << batch_source << "'");
}

void CudaBackend::Impl::grow_lanes(int count) {
  while (static_cast<int>(lanes.size()) < count) lanes.push_back(std::make_unique<Lane>());
  for (auto& lane : lanes) lane->ensure(caps);
}

void CudaBackend::reserve(const Plan& plan) {
  Schedule schedule;
  schedule.build(plan, cuda::kMaxBnAddTerms);
  // Builds the convolution plans now (so that scoring only hits the cache) and sizes the workspace by them.
  ArenaSizes sizes = arena_sizes(plan, schedule, m->convs, m->lanes[0]->cudnn());
  sizes.tensor_bytes += sizes.tensor_bytes * kTensorSlackPercent / 100;
  m->caps.grow_to(sizes);
  m->grow_lanes(static_cast<int>(m->lanes.size()));
}

void CudaBackend::compute_k(const Plan& plan, const Params& params, Counting counting, KMatrix& k) {
  m->check_batch(plan);
  Lane& lane = *m->lanes[0];
  lane.enqueue(plan, params, counting, m->batch.data(), m->convs, nullptr, /*copy_k_to_host=*/true,
               m->profiling ? &m->profile : nullptr);
  m->caps.grow_to(lane.capacity());
  synchronize(lane.stream());
  const int n = plan.batch();
  if (k.n != n || k.values.size() != static_cast<size_t>(n) * static_cast<size_t>(n)) k.reset(n);
  std::memcpy(k.values.data(), lane.k_host_pinned(), k.values.size() * sizeof(int64_t));
}

int64_t CudaBackend::workspace_growths() const {
  int64_t total = m->batch_growths;
  for (const auto& lane : m->lanes) total += lane->growths();
  for (const auto& worker : m->stackers) total += worker->runner.growths();
  return total;
}

void CudaBackend::set_profiling(bool on) { m->profiling = on; }

std::string CudaBackend::profile_report() const {
  const LaneProfile& p = m->profile;
  double total = p.staging_seconds;
  for (double s : p.seconds) total += s;
  std::ostringstream os;
  os << "cuda backend profile (wall seconds per op kind, every step synchronized; " << p.architectures
     << " architectures)\n";
  char line[160];
  auto row = [&](const char* name, int64_t calls, double s) {
    std::snprintf(line, sizeof line, "  %-15s %8lld calls %9.3f s %5.1f%%\n", name, static_cast<long long>(calls), s,
                  total > 0 ? 100.0 * s / total : 0.0);
    os << line;
  };
  row("params+zero", p.architectures, p.staging_seconds);
  for (int kind = 0; kind < kOpKindCount; ++kind) {
    if (p.calls[static_cast<size_t>(kind)] == 0) continue;
    row(to_string(static_cast<OpKind>(kind)), p.calls[static_cast<size_t>(kind)], p.seconds[static_cast<size_t>(kind)]);
  }
  os << "  (add / batchnorm rows are fused node steps: BN statistics + BN apply + sum + sign bits + K)\n";
  StackProfile sp;
  for (const auto& w : m->stackers) sp.add(w->profile);
  if (sp.groups > 0) {
    double stotal = 0.0;
    for (double s : sp.seconds) stotal += s;
    os << "stacked execution (" << sp.groups << " groups, " << sp.architectures << " architectures; wall seconds per step "
       << "kind, every step synchronized; " << (stotal > 0 ? static_cast<double>(sp.architectures) / stotal : 0.0)
       << " archs/s of synchronized GPU work per worker)\n";
    for (int kind = 0; kind < kStackCosts; ++kind) {
      const auto k = static_cast<size_t>(kind);
      if (sp.steps[k] == 0) continue;
      std::snprintf(line, sizeof line, "  %-15s %8lld steps %9.3f s %5.1f%%\n", to_string(static_cast<StackCost>(kind)),
                    static_cast<long long>(sp.steps[k]), sp.seconds[k], stotal > 0 ? 100.0 * sp.seconds[k] / stotal : 0.0);
      os << line;
    }
    os << "  (prepare: sizing, parameter uploads, descriptor tables; bn stats, node, popcount K: a node step's BN\n"
          "   statistics, fused BN + sum + sign bits, K update; tap: sign bits + K of a plain tap)\n";
  }
  return os.str();
}

int CudaBackend::lanes() const { return m->wanted_lanes; }

void CudaBackend::set_lanes(int lanes, bool threaded) {
  NASWOT_EXPECT(lanes >= 1 && lanes <= 64, BadInput, "cuda backend: lanes expected 1..64, got " << lanes);
  m->wanted_lanes = lanes;
  m->threaded = threaded;
}

void CudaBackend::set_stacking(int group, int workers) {
  NASWOT_EXPECT(group >= 0 && group <= 1024, BadInput, "cuda backend: stacking group expected 0..1024, got " << group);
  NASWOT_EXPECT(workers >= 1 && workers <= 16, BadInput, "cuda backend: stacking workers expected 1..16, got " << workers);
  m->stack_group = group;
  m->stack_workers = workers;
}

int64_t CudaBackend::stacking_fallbacks() const { return m->stack_fallbacks; }

std::vector<float> CudaBackend::tensor_values(const Plan& plan, TensorId t) {
  m->check_batch(plan);
  return m->lanes[0]->download_tensor(plan, t, m->batch.data());
}

void CudaBackend::set_conv_precision(ConvPrecision precision) {
  m->convs.set_math(precision == ConvPrecision::Tf32     ? ConvMath::Tf32
                    : precision == ConvPrecision::Tf32x3 ? ConvMath::Tf32x3
                                                         : ConvMath::Fp32);
}

void CudaBackend::set_conv_timing(bool timed) {
  m->convs.set_choice(timed ? ConvChoice::Timed : ConvChoice::Heuristic);
}

int64_t CudaBackend::conv_plan_hits() const { return m->convs.hits(); }
int64_t CudaBackend::conv_plan_misses() const { return m->convs.misses(); }

}  // namespace naswot::rt
