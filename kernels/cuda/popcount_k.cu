// XOR/popcount K accumulation (twin: kernels/cpu/popcount_k.cpp).
// A block owns a 32 x 32 tile of K (images i0.., j0..) and a slice of the words ("split"). It
// stages 32 words of its 32 i-codes and 32 j-codes in shared memory (rows padded to 33 words, so
// the column reads of the j tile are bank-conflict free), each thread accumulates 4 (i, j) pairs,
// and the tile is added to K with 64-bit integer atomics. Only tiles on and above the diagonal
// run; those above it also write their mirror image (K is symmetric), which saves 6 of 16 tiles at n = 128. Integer addition is associative, so the
// atomics keep K exact and deterministic. The split over words gives enough blocks for n = 128
// (16 tiles) with a few hundred words per image; split 0 also adds weight * units. The tile body
// is detail::popcount_k_tile (popcount_k.cuh), shared with popcount_k_segments.
#include <algorithm>
#include <climits>

#include "kernels/cpu/signpack.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/device_info.cuh"
#include "kernels/cuda/popcount_k.cuh"

namespace naswot::cuda {
namespace {

constexpr int kTile = detail::kPopTile;
constexpr int kRows = detail::kPopRows;
constexpr int kChunk = detail::kPopChunk;
constexpr int64_t kTargetBlocks = 512;  // enough to fill an H200's 132 SMs several times

__global__ void popcount_k_kernel(const uint64_t* __restrict__ bits, int n, int64_t words, int64_t words_per_split,
                                  int64_t units, int64_t weight, unsigned long long* __restrict__ k) {
  if (!detail::popcount_k_upper_tile(blockIdx.y, blockIdx.x)) return;  // whole block: no barrier skipped
  const int64_t w_begin = static_cast<int64_t>(blockIdx.z) * words_per_split;
  detail::popcount_k_tile(bits, n, words, static_cast<int>(blockIdx.y) * kTile, static_cast<int>(blockIdx.x) * kTile,
                          w_begin, min(words, w_begin + words_per_split), blockIdx.z == 0, units, weight, k);
}

}  // namespace

void popcount_k_accumulate(const uint64_t* bits, int n, int64_t words, int64_t units, int64_t weight, int64_t* k,
                           cudaStream_t stream) {
  NASWOT_EXPECT(n >= 1 && units >= 1, BadInput,
                "cuda::popcount_k_accumulate: n and units expected >= 1, got n=" << n << " units=" << units);
  NASWOT_EXPECT(words >= cpu::sign_words(units), BadInput,
                "cuda::popcount_k_accumulate: words=" << words << " expected >= ceil(units/64)="
                                                      << cpu::sign_words(units));
  NASWOT_EXPECT(bits != nullptr && k != nullptr, BadInput,
                "cuda::popcount_k_accumulate: bits and k expected non-null");
  const int64_t tiles_side = (n + kTile - 1) / kTile;
  NASWOT_EXPECT(tiles_side <= 65535, BadInput, "cuda::popcount_k_accumulate: n=" << n << " too large for one grid");
  const int64_t chunks = (words + kChunk - 1) / kChunk;
  const int64_t wanted = (kTargetBlocks + tiles_side * tiles_side - 1) / (tiles_side * tiles_side);
  const int64_t splits_wanted = std::max<int64_t>(1, std::min(chunks, wanted));
  // Each split covers whole chunks; recompute the split count from the rounded slice size.
  const int64_t chunks_per_split = (chunks + splits_wanted - 1) / splits_wanted;
  const int64_t words_per_split = chunks_per_split * kChunk;
  const int64_t splits = (words + words_per_split - 1) / words_per_split;
  // One thread's popcount total over its slice must fit the int accumulator.
  NASWOT_EXPECT(words_per_split <= INT_MAX / 64, BadInput,
                "cuda::popcount_k_accumulate: words=" << words << " too large for one slice");
  const dim3 grid(static_cast<unsigned>(tiles_side), static_cast<unsigned>(tiles_side), static_cast<unsigned>(splits));
  const dim3 block(kTile, kRows);
  static_assert(sizeof(unsigned long long) == sizeof(int64_t), "K is updated through 64-bit unsigned atomics");
  popcount_k_kernel<<<grid, block, 0, stream>>>(bits, n, words, words_per_split, units, weight,
                                                reinterpret_cast<unsigned long long*>(k));
  NASWOT_CHECK_LAUNCH(popcount_k_kernel, stream);
}

}  // namespace naswot::cuda
