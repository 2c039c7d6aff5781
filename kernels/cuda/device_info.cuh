// What this build can run on: the architecture list it was compiled for and a probe that asks
// the driver which kernel image of this library the current device will execute. The backend
// calls both at start and refuses a device with a clear message instead of failing at the first
// launch with "no kernel image is available".
// Every kernel file includes this header: its device-side static_assert pins the minimum
// architecture the kernels assume (sm_70: __ballot_sync/__shfl_sync with independent thread
// scheduling, double-precision atomics are not used).
#pragma once
#include <cuda_runtime.h>

#if defined(__CUDA_ARCH__)
static_assert(__CUDA_ARCH__ >= 700, "naswot CUDA kernels need compute capability 7.0 or newer");
#endif

namespace naswot::cuda {

inline constexpr int kMinComputeCapability = 70;  // matches the static_assert above

struct KernelImage {
  int binary_version = 0;  // e.g. 90 for sm_90 machine code (cudaFuncAttributes::binaryVersion)
  int ptx_version = 0;     // e.g. 90 for compute_90 PTX
};

// cudaFuncGetAttributes on a probe kernel of this library; throws Error(Cuda) with the driver's
// message (typically "no kernel image is available for execution on the device").
KernelImage probe_kernel_image();
// CMAKE_CUDA_ARCHITECTURES at build time, e.g. "90" (sm_90 + compute_90 PTX) or "native".
const char* compiled_architectures();

}  // namespace naswot::cuda
