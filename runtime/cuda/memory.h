// Owners of every CUDA resource naswot creates (STYLE.md habit 7): device and pinned host
// buffers, streams, events, cuDNN/cuSOLVER handles and cuDNN descriptors. cudaMalloc, cudaFree,
// cudaMallocHost, cudaStreamCreate, cudnnCreate and friends appear only in memory.cpp.
//  * DeviceBuffer<T> / PinnedBuffer<T>: move-only, no copy; kernels get raw pointers from them.
//  * allocation_counters(): process-wide counts of allocations and bytes (device and pinned).
//    Tests assert they stay flat while architectures 2..N are scored (habit 8).
//  * Handles and descriptors are std::unique_ptr with a deleter; deleters log, never throw.
// Streams are created non-blocking so no naswot work ever serializes with the legacy stream.
#pragma once
#include <cuda_runtime.h>
#include <cudnn.h>
#include <cusolverDn.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

namespace naswot::rt {

struct AllocationCounters {
  int64_t device_allocations = 0;
  int64_t device_bytes = 0;  // cumulative bytes ever allocated (not the current footprint)
  int64_t pinned_allocations = 0;
  int64_t pinned_bytes = 0;
  bool operator==(const AllocationCounters&) const = default;
};
AllocationCounters allocation_counters();

// Throw Error(Cuda) naming `what` and the size when the allocation fails. Zero bytes: nullptr.
void* device_allocate(size_t bytes, const char* what);
void device_free(void* p) noexcept;
void* pinned_allocate(size_t bytes, const char* what);
void pinned_free(void* p) noexcept;

namespace detail {
template <class T, void* (*ALLOCATE)(size_t, const char*), void (*FREE)(void*) noexcept>
class OwnedBuffer {
 public:
  OwnedBuffer() = default;
  explicit OwnedBuffer(size_t count, const char* what)
      : m_data(static_cast<T*>(ALLOCATE(count * sizeof(T), what))), m_count(count) {}
  ~OwnedBuffer() { FREE(m_data); }
  OwnedBuffer(OwnedBuffer&& other) noexcept
      : m_data(std::exchange(other.m_data, nullptr)), m_count(std::exchange(other.m_count, 0)) {}
  OwnedBuffer& operator=(OwnedBuffer&& other) noexcept {
    if (this != &other) {
      FREE(m_data);
      m_data = std::exchange(other.m_data, nullptr);
      m_count = std::exchange(other.m_count, 0);
    }
    return *this;
  }
  OwnedBuffer(const OwnedBuffer&) = delete;
  OwnedBuffer& operator=(const OwnedBuffer&) = delete;

  T* data() { return m_data; }
  const T* data() const { return m_data; }
  size_t size() const { return m_count; }
  size_t bytes() const { return m_count * sizeof(T); }
  bool empty() const { return m_count == 0; }

 private:
  T* m_data = nullptr;
  size_t m_count = 0;
};
}  // namespace detail

template <class T>
using DeviceBuffer = detail::OwnedBuffer<T, device_allocate, device_free>;
template <class T>
using PinnedBuffer = detail::OwnedBuffer<T, pinned_allocate, pinned_free>;

// Stream-ordered copies and fills, checked.
void copy_to_device(void* dst, const void* src, size_t bytes, cudaStream_t stream);
void copy_to_host(void* dst, const void* src, size_t bytes, cudaStream_t stream);
void fill_zero(void* dst, size_t bytes, cudaStream_t stream);
void synchronize(cudaStream_t stream);

struct StreamDeleter {
  void operator()(cudaStream_t s) const noexcept;
};
struct EventDeleter {
  void operator()(cudaEvent_t e) const noexcept;
};
struct CudnnDeleter {
  void operator()(cudnnHandle_t h) const noexcept;
};
struct CusolverDeleter {
  void operator()(cusolverDnHandle_t h) const noexcept;
};
struct TensorDescriptorDeleter {
  void operator()(cudnnTensorDescriptor_t d) const noexcept;
};
struct FilterDescriptorDeleter {
  void operator()(cudnnFilterDescriptor_t d) const noexcept;
};
struct ConvolutionDescriptorDeleter {
  void operator()(cudnnConvolutionDescriptor_t d) const noexcept;
};

using Stream = std::unique_ptr<CUstream_st, StreamDeleter>;
using Event = std::unique_ptr<CUevent_st, EventDeleter>;
using CudnnHandle = std::unique_ptr<cudnnContext, CudnnDeleter>;
using CusolverHandle = std::unique_ptr<cusolverDnContext, CusolverDeleter>;
using TensorDescriptor = std::unique_ptr<cudnnTensorStruct, TensorDescriptorDeleter>;
using FilterDescriptor = std::unique_ptr<cudnnFilterStruct, FilterDescriptorDeleter>;
using ConvolutionDescriptor = std::unique_ptr<cudnnConvolutionStruct, ConvolutionDescriptorDeleter>;

Stream make_stream();  // cudaStreamNonBlocking
Event make_event();         // timing disabled (ordering only)
Event make_timing_event();  // timing enabled (benchmarks: cudaEventElapsedTime)
CudnnHandle make_cudnn_handle();
CusolverHandle make_cusolver_handle();
TensorDescriptor make_tensor_descriptor();
FilterDescriptor make_filter_descriptor();
ConvolutionDescriptor make_convolution_descriptor();

}  // namespace naswot::rt
