// The one place that creates and destroys CUDA resources (see memory.h). Counters are atomics so
// that several host threads driving streams may allocate concurrently.
#include "runtime/cuda/memory.h"

#include <atomic>
#include <sstream>

#include "kernels/cuda/cuda_check.h"

namespace naswot::rt {
namespace {

std::atomic<int64_t> g_device_allocations{0};
std::atomic<int64_t> g_device_bytes{0};
std::atomic<int64_t> g_pinned_allocations{0};
std::atomic<int64_t> g_pinned_bytes{0};

[[noreturn]] void allocation_failed(const char* api, const char* what, size_t bytes, cudaError_t status) {
  (void)cudaGetLastError();  // an allocation failure is not sticky: leave the context usable
  std::ostringstream os;
  os << api << " of " << bytes << " bytes for " << what << " failed: " << cudaGetErrorString(status);
  throw Error(ErrorKind::Cuda, os.str());
}

}  // namespace

AllocationCounters allocation_counters() {
  return {g_device_allocations.load(), g_device_bytes.load(), g_pinned_allocations.load(), g_pinned_bytes.load()};
}

void* device_allocate(size_t bytes, const char* what) {
  if (bytes == 0) return nullptr;
  void* p = nullptr;
  const cudaError_t status = cudaMalloc(&p, bytes);
  if (status != cudaSuccess) allocation_failed("cudaMalloc", what, bytes, status);
  g_device_allocations.fetch_add(1);
  g_device_bytes.fetch_add(static_cast<int64_t>(bytes));
  return p;
}

void device_free(void* p) noexcept {
  if (p != nullptr) NASWOT_LOG_CUDA(cudaFree(p));
}

void* pinned_allocate(size_t bytes, const char* what) {
  if (bytes == 0) return nullptr;
  void* p = nullptr;
  const cudaError_t status = cudaMallocHost(&p, bytes);
  if (status != cudaSuccess) allocation_failed("cudaMallocHost", what, bytes, status);
  g_pinned_allocations.fetch_add(1);
  g_pinned_bytes.fetch_add(static_cast<int64_t>(bytes));
  return p;
}

void pinned_free(void* p) noexcept {
  if (p != nullptr) NASWOT_LOG_CUDA(cudaFreeHost(p));
}

void copy_to_device(void* dst, const void* src, size_t bytes, cudaStream_t stream) {
  if (bytes == 0) return;
  NASWOT_CHECK_CUDA(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, stream));
}

void copy_to_host(void* dst, const void* src, size_t bytes, cudaStream_t stream) {
  if (bytes == 0) return;
  NASWOT_CHECK_CUDA(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, stream));
}

void fill_zero(void* dst, size_t bytes, cudaStream_t stream) {
  if (bytes == 0) return;
  NASWOT_CHECK_CUDA(cudaMemsetAsync(dst, 0, bytes, stream));
}

void synchronize(cudaStream_t stream) { NASWOT_CHECK_CUDA(cudaStreamSynchronize(stream)); }

void StreamDeleter::operator()(cudaStream_t s) const noexcept { NASWOT_LOG_CUDA(cudaStreamDestroy(s)); }
void EventDeleter::operator()(cudaEvent_t e) const noexcept { NASWOT_LOG_CUDA(cudaEventDestroy(e)); }
void CudnnDeleter::operator()(cudnnHandle_t h) const noexcept { NASWOT_LOG_CUDNN(cudnnDestroy(h)); }
void CusolverDeleter::operator()(cusolverDnHandle_t h) const noexcept { NASWOT_LOG_CUSOLVER(cusolverDnDestroy(h)); }
void TensorDescriptorDeleter::operator()(cudnnTensorDescriptor_t d) const noexcept {
  NASWOT_LOG_CUDNN(cudnnDestroyTensorDescriptor(d));
}
void FilterDescriptorDeleter::operator()(cudnnFilterDescriptor_t d) const noexcept {
  NASWOT_LOG_CUDNN(cudnnDestroyFilterDescriptor(d));
}
void ConvolutionDescriptorDeleter::operator()(cudnnConvolutionDescriptor_t d) const noexcept {
  NASWOT_LOG_CUDNN(cudnnDestroyConvolutionDescriptor(d));
}

Stream make_stream() {
  cudaStream_t s = nullptr;
  NASWOT_CHECK_CUDA(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  return Stream(s);
}

Event make_event() {
  cudaEvent_t e = nullptr;
  NASWOT_CHECK_CUDA(cudaEventCreateWithFlags(&e, cudaEventDisableTiming));
  return Event(e);
}

Event make_timing_event() {
  cudaEvent_t e = nullptr;
  NASWOT_CHECK_CUDA(cudaEventCreate(&e));
  return Event(e);
}

CudnnHandle make_cudnn_handle() {
  cudnnHandle_t h = nullptr;
  NASWOT_CHECK_CUDNN(cudnnCreate(&h));
  return CudnnHandle(h);
}

CusolverHandle make_cusolver_handle() {
  cusolverDnHandle_t h = nullptr;
  NASWOT_CHECK_CUSOLVER(cusolverDnCreate(&h));
  return CusolverHandle(h);
}

TensorDescriptor make_tensor_descriptor() {
  cudnnTensorDescriptor_t d = nullptr;
  NASWOT_CHECK_CUDNN(cudnnCreateTensorDescriptor(&d));
  return TensorDescriptor(d);
}

FilterDescriptor make_filter_descriptor() {
  cudnnFilterDescriptor_t d = nullptr;
  NASWOT_CHECK_CUDNN(cudnnCreateFilterDescriptor(&d));
  return FilterDescriptor(d);
}

ConvolutionDescriptor make_convolution_descriptor() {
  cudnnConvolutionDescriptor_t d = nullptr;
  NASWOT_CHECK_CUDNN(cudnnCreateConvolutionDescriptor(&d));
  return ConvolutionDescriptor(d);
}

}  // namespace naswot::rt
