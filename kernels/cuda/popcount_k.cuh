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

#if defined(__CUDACC__)
// Device building block (nvcc only), shared by popcount_k.cu and segments.cu.
namespace naswot::cuda::detail {

inline constexpr int kPopTile = 32;   // images per tile side (= blockDim.x)
inline constexpr int kPopRows = 8;    // blockDim.y; each thread owns kPopTile / kPopRows rows of the tile
inline constexpr int kPopChunk = 32;  // words staged in shared memory per round
inline constexpr int kPopPairsPerThread = kPopTile / kPopRows;
static_assert(kPopTile == 32 && kPopChunk == 32, "one warp loads one 32-word row of a tile");
static_assert(kPopTile % kPopRows == 0, "rows of a tile are split evenly over blockDim.y");

// One kPopTile x kPopRows block adds, for the 32 x 32 tile of K at (i0, j0), weight times the
// agreeing units over words [w_begin, w_end) -- that is -weight * popcount(xor) -- plus
// weight * units when add_units, with 64-bit integer atomics. K is symmetric: callers run the
// tiles with i0 <= j0 only (popcount_k_upper_tile), and a tile above the diagonal (i0 < j0) adds
// each value to (i, j) and to (j, i). Contains __syncthreads: every thread of the block must call
// it with the same arguments; shared memory is free again on return.
__device__ __forceinline__ void popcount_k_tile(const uint64_t* bits, int n, int64_t words, int i0, int j0,
                                                int64_t w_begin, int64_t w_end, bool add_units, int64_t units,
                                                int64_t weight, unsigned long long* k) {
  __shared__ uint64_t tile_i[kPopTile][kPopChunk + 1];
  __shared__ uint64_t tile_j[kPopTile][kPopChunk + 1];
  const int tx = static_cast<int>(threadIdx.x);
  const int ty = static_cast<int>(threadIdx.y);
  int differ[kPopPairsPerThread] = {};
  for (int64_t w0 = w_begin; w0 < w_end; w0 += kPopChunk) {
    const int64_t w = w0 + tx;
    const bool in_slice = w < w_end;
#pragma unroll
    for (int q = 0; q < kPopPairsPerThread; ++q) {
      const int r = ty + kPopRows * q;
      tile_i[r][tx] = (in_slice && i0 + r < n) ? bits[static_cast<int64_t>(i0 + r) * words + w] : 0ull;
      tile_j[r][tx] = (in_slice && j0 + r < n) ? bits[static_cast<int64_t>(j0 + r) * words + w] : 0ull;
    }
    __syncthreads();
#pragma unroll 8
    for (int c = 0; c < kPopChunk; ++c) {
      const uint64_t b = tile_j[tx][c];
#pragma unroll
      for (int q = 0; q < kPopPairsPerThread; ++q) differ[q] += __popcll(tile_i[ty + kPopRows * q][c] ^ b);
    }
    __syncthreads();
  }

  const int j = j0 + tx;
  if (j >= n) return;
#pragma unroll
  for (int q = 0; q < kPopPairsPerThread; ++q) {
    const int i = i0 + ty + kPopRows * q;
    if (i >= n) continue;
    int64_t v = -weight * static_cast<int64_t>(differ[q]);
    if (add_units) v += weight * units;
    atomicAdd(k + static_cast<int64_t>(i) * n + j, static_cast<unsigned long long>(v));
    if (i0 < j0) atomicAdd(k + static_cast<int64_t>(j) * n + i, static_cast<unsigned long long>(v));
  }
}

// Whether the block at (tile_row, tile_col) of a square tile grid computes: the upper triangle and
// the diagonal (the others are the mirror images, written by popcount_k_tile).
__device__ __forceinline__ bool popcount_k_upper_tile(unsigned tile_row, unsigned tile_col) {
  return tile_row <= tile_col;
}

}  // namespace naswot::cuda::detail
#endif
