// The architecture probe of device_info.cuh. The probe kernel is never launched: only its
// attributes are read, which is how the runtime reveals the image it selected for the device.
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/device_info.cuh"

#ifndef NASWOT_CUDA_ARCHS
#define NASWOT_CUDA_ARCHS "unknown"
#endif

namespace naswot::cuda {
namespace {

__global__ void probe_kernel(int* out) {
  if (out != nullptr) *out = 1;
}

}  // namespace

KernelImage probe_kernel_image() {
  cudaFuncAttributes attributes{};
  NASWOT_CHECK_CUDA(cudaFuncGetAttributes(&attributes, probe_kernel));
  return {attributes.binaryVersion, attributes.ptxVersion};
}

const char* compiled_architectures() { return NASWOT_CUDA_ARCHS; }

}  // namespace naswot::cuda
