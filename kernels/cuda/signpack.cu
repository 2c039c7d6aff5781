// Warp-ballot sign packing (layout: signpack.cuh). Default and only variant: one warp per
// output word, 8 warps per block; the warp index is warp-uniform, so every lane of a live warp
// takes part in both ballots (full mask) and the out-of-range lanes just vote 0. The word itself
// is detail::sign_word (signpack.cuh), shared with sign_pack_segments (segments.cu).
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/device_info.cuh"
#include "kernels/cuda/signpack.cuh"

namespace naswot::cuda {
namespace {

constexpr int kThreads = 256;  // 8 warps: 8 words per block
constexpr int kWarpsPerBlock = kThreads / 32;
static_assert(kThreads % 32 == 0, "blocks must hold whole warps for the ballots");

__global__ void sign_pack_kernel(const float* __restrict__ x, int64_t total_words, int64_t words, int64_t units,
                                 uint64_t* __restrict__ bits) {
  const int64_t word = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / 32;
  if (word >= total_words) return;  // uniform across the warp
  const int lane = static_cast<int>(threadIdx.x % 32);
  const int64_t image = word / words;
  const int64_t w = word % words;
  const uint64_t v = detail::sign_word(x + image * units, w, units, lane);
  if (lane == 0) bits[word] = v;
}

}  // namespace

void sign_pack(const float* x, int n, int64_t units, uint64_t* bits, cudaStream_t stream) {
  NASWOT_EXPECT(n >= 1 && units >= 1, BadInput,
                "cuda::sign_pack: n and units expected >= 1, got n=" << n << " units=" << units);
  NASWOT_EXPECT(x != nullptr && bits != nullptr, BadInput, "cuda::sign_pack: x and bits expected non-null");
  const int64_t words = sign_words(units);
  const int64_t total = static_cast<int64_t>(n) * words;
  const int64_t blocks = (total + kWarpsPerBlock - 1) / kWarpsPerBlock;
  NASWOT_EXPECT(blocks <= 0x7fffffff, BadInput, "cuda::sign_pack: " << total << " words exceed one launch");
  sign_pack_kernel<<<static_cast<unsigned>(blocks), kThreads, 0, stream>>>(x, total, words, units, bits);
  NASWOT_CHECK_LAUNCH(sign_pack_kernel, stream);
}

}  // namespace naswot::cuda
