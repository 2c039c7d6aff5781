// make_backend: the one place that knows which backends this build has.
#include "runtime/backend.h"
#include "runtime/cpu_backend.h"
#include "runtime/error.h"

#ifdef NASWOT_HAVE_CUDA
#include "runtime/cuda/cuda_backend.h"
#endif

namespace naswot::rt {

BackendKind parse_backend_kind(const std::string& s) {
  if (s == "cpu") return BackendKind::Cpu;
  if (s == "cuda") return BackendKind::Cuda;
  if (s == "auto") return BackendKind::Auto;
  throw_error(ErrorKind::BadInput, "--backend '" + s + "': expected cpu, cuda or auto");
}

bool cuda_available(std::string* why_not) {
#ifdef NASWOT_HAVE_CUDA
  return cuda_device_available(why_not);
#else
  if (why_not) *why_not = "this naswot was built without the CUDA backend (configure with -DNASWOT_CUDA=ON)";
  return false;
#endif
}

std::unique_ptr<Backend> make_backend(BackendKind kind, int device_hint) {
  std::string why;
#ifdef NASWOT_HAVE_CUDA
  if (kind != BackendKind::Cpu) select_cuda_device(device_hint);  // before the probe makes a context
#endif
  switch (kind) {
    case BackendKind::Cpu: return std::make_unique<CpuBackend>();
    case BackendKind::Auto:
      if (!cuda_available(&why)) return std::make_unique<CpuBackend>();
      [[fallthrough]];
    case BackendKind::Cuda:
      if (!cuda_available(&why)) throw_error(ErrorKind::Unsupported, "--backend cuda: " + why);
#ifdef NASWOT_HAVE_CUDA
      return make_cuda_backend();
#else
      (void)device_hint;
      break;
#endif
  }
  throw_error(ErrorKind::Internal, "make_backend: unknown backend kind");
}

}  // namespace naswot::rt
