// Batched log|det K| on the device, twin of cpu::logabsdet's Cholesky path (kernels/cpu/logdet.h).
// The int64 K matrices (row-major n x n each, symmetric, so also column-major) are converted to
// float64, factored by cusolverDnDpotrfBatched (lower) and logdet = 2 * sum log L_ii is summed in
// index order by one thread per matrix. info[b] != 0 marks a matrix that is not numerically
// positive definite: its logdet entry is NaN and the caller must fall back to the CPU's LU path
// (cpu::logabsdet), which also owns the exact-singularity rules (equal rows, zero pivots).
#pragma once
#include <cuda_runtime.h>
#include <cusolverDn.h>

#include <cstddef>
#include <cstdint>

namespace naswot::cuda {

// Device scratch for `batch` matrices of n x n: a (doubles) and the pointer array.
size_t logabsdet_batched_scratch_bytes(int n, int batch);

// k: device [batch][n][n] int64; scratch: logabsdet_batched_scratch_bytes(n, batch) bytes;
// info: device [batch] ints; logdet: device [batch] doubles.
void logabsdet_batched(const int64_t* k, int n, int batch, void* scratch, int* info, double* logdet,
                       cusolverDnHandle_t handle, cudaStream_t stream);

}  // namespace naswot::cuda
