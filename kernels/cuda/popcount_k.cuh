// CUDA twin of kernels/cpu/popcount_k.h: K[i][j] += weight * (units - popcount(code_i XOR code_j))
// for packed codes in the signpack layout (kernels/cuda/signpack.cuh). Exact int64 arithmetic,
// so the result equals the CPU bit for bit whatever the summation order.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

namespace naswot::cuda {

// bits: device [n][words]; k: device n x n row-major int64, accumulated into (not overwritten).
// words >= ceil(units/64) and padding bits must be zero, as on the CPU.
void popcount_k_accumulate(const uint64_t* bits, int n, int64_t words, int64_t units, int64_t weight, int64_t* k,
                           cudaStream_t stream);

}  // namespace naswot::cuda
