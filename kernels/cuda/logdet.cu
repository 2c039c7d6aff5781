// Batched Cholesky log-determinant (see logdet.cuh). Three small kernels around one cuSOLVER
// call: int64 -> double conversion (exact below 2^53, and K entries are at most N_A), the device
// array of matrix pointers cuSOLVER wants, and the diagonal log-sum. cusolverDnSetStream binds the
// handle to the caller's stream on every call.
#include <algorithm>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/device_info.cuh"
#include "kernels/cuda/logdet.cuh"

namespace naswot::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kMaxBlocks = 65535LL * 8;

size_t align256(size_t bytes) { return (bytes + 255) / 256 * 256; }

unsigned blocks_for(int64_t count) {
  return static_cast<unsigned>(std::clamp<int64_t>((count + kThreads - 1) / kThreads, 1, kMaxBlocks));
}

__global__ void to_double_kernel(const int64_t* __restrict__ k, int64_t count, double* __restrict__ a) {
  for (int64_t e = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < count;
       e += static_cast<int64_t>(gridDim.x) * blockDim.x)
    a[e] = static_cast<double>(k[e]);
}

__global__ void pointers_kernel(double* a, int64_t matrix_elems, int batch, double** pointers) {
  const int b = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (b < batch) pointers[b] = a + b * matrix_elems;
}

__global__ void diag_logsum_kernel(const double* __restrict__ a, int n, int batch, const int* __restrict__ info,
                                   double* __restrict__ logdet) {
  const int b = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (b >= batch) return;
  if (info[b] != 0) {
    logdet[b] = nan("");
    return;
  }
  const double* m = a + static_cast<int64_t>(b) * n * n;
  double sum = 0.0;
  for (int i = 0; i < n; ++i) sum += log(m[static_cast<int64_t>(i) * n + i]);
  logdet[b] = 2.0 * sum;
}

}  // namespace

size_t logabsdet_batched_scratch_bytes(int n, int batch) {
  const size_t elems = static_cast<size_t>(n) * static_cast<size_t>(n) * static_cast<size_t>(batch);
  return align256(elems * sizeof(double)) + align256(static_cast<size_t>(batch) * sizeof(double*));
}

void logabsdet_batched(const int64_t* k, int n, int batch, void* scratch, int* info, double* logdet,
                       cusolverDnHandle_t handle, cudaStream_t stream) {
  NASWOT_EXPECT(n >= 1 && batch >= 1, BadInput,
                "cuda::logabsdet_batched: n and batch expected >= 1, got n=" << n << " batch=" << batch);
  NASWOT_EXPECT(k != nullptr && scratch != nullptr && info != nullptr && logdet != nullptr && handle != nullptr,
                BadInput, "cuda::logabsdet_batched: k, scratch, info, logdet and handle expected non-null");
  const int64_t matrix_elems = static_cast<int64_t>(n) * n;
  const int64_t count = matrix_elems * batch;
  auto* base = static_cast<unsigned char*>(scratch);
  auto* a = reinterpret_cast<double*>(base);
  auto** pointers = reinterpret_cast<double**>(base + align256(static_cast<size_t>(count) * sizeof(double)));

  to_double_kernel<<<blocks_for(count), kThreads, 0, stream>>>(k, count, a);
  NASWOT_CHECK_LAUNCH(to_double_kernel, stream);
  pointers_kernel<<<blocks_for(batch), kThreads, 0, stream>>>(a, matrix_elems, batch, pointers);
  NASWOT_CHECK_LAUNCH(pointers_kernel, stream);
  NASWOT_CHECK_CUSOLVER(cusolverDnSetStream(handle, stream));
  NASWOT_CHECK_CUSOLVER(cusolverDnDpotrfBatched(handle, CUBLAS_FILL_MODE_LOWER, n, pointers, n, info, batch));
  diag_logsum_kernel<<<blocks_for(batch), kThreads, 0, stream>>>(a, n, batch, info, logdet);
  NASWOT_CHECK_LAUNCH(diag_logsum_kernel, stream);
}

}  // namespace naswot::cuda
