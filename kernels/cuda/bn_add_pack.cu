// Fused node kernel (see bn_add_pack.cuh). Mapping as sign_pack: one warp per 64-unit word of
// one image, lanes take units 64w + lane and 64w + 32 + lane (coalesced 128-byte rows), two
// ballots make the word. The term descriptors travel by value in the kernel parameters
// (constant bank), so the per-element loop over terms reads them without memory traffic. The
// per-word body is detail::node_word (bn_add_pack.cuh), shared with bn_add_pack_segments.
#include <climits>

#include "kernels/cpu/signpack.h"
#include "kernels/cuda/bn_add_pack.cuh"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/device_info.cuh"

namespace naswot::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kWarpsPerBlock = kThreads / 32;
static_assert(kThreads % 32 == 0, "blocks must hold whole warps for the ballots");

struct TermPack {
  BnAddTerm term[kMaxBnAddTerms];
  int count;
};

__global__ void bn_add_pack_kernel(const TermPack pack, bool sum_from_zero, int64_t total_words, int64_t words,
                                   int64_t units, int channels, float* __restrict__ y, float* __restrict__ relu_y,
                                   uint64_t* __restrict__ bits) {
  const int64_t word = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / 32;
  if (word >= total_words) return;  // uniform across the warp
  const int lane = static_cast<int>(threadIdx.x % 32);
  const int64_t image = word / words;
  const int64_t w = word % words;
  const uint64_t v = detail::node_word(pack.term, pack.count, sum_from_zero, image, w, units, channels, lane,
                                       [&](int64_t e, float value) {
                                         y[e] = value;
                                         if (relu_y != nullptr) relu_y[e] = detail::relu_value(value);
                                       });
  if (bits != nullptr && lane == 0) bits[word] = v;
}

__global__ void batchnorm_invstd_kernel(const float* __restrict__ var, int channels, float eps,
                                        float* __restrict__ invstd) {
  const int c = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (c >= channels) return;
  invstd[c] = static_cast<float>(
      __ddiv_rn(1.0, __dsqrt_rn(__dadd_rn(static_cast<double>(var[c]), static_cast<double>(eps)))));
}

}  // namespace

void batchnorm_invstd(const float* var, int channels, float eps, float* invstd, cudaStream_t stream) {
  NASWOT_EXPECT(channels >= 1, BadInput, "cuda::batchnorm_invstd: channels expected >= 1, got " << channels);
  NASWOT_EXPECT(var != nullptr && invstd != nullptr, BadInput,
                "cuda::batchnorm_invstd: var and invstd expected non-null");
  NASWOT_EXPECT(eps >= 0.0f, BadInput, "cuda::batchnorm_invstd: eps expected >= 0, got " << eps);
  const unsigned blocks = static_cast<unsigned>((channels + 255) / 256);
  batchnorm_invstd_kernel<<<blocks, 256, 0, stream>>>(var, channels, eps, invstd);
  NASWOT_CHECK_LAUNCH(batchnorm_invstd_kernel, stream);
}

void bn_add_pack(const BnAddTerm* terms, int num_terms, bool sum_from_zero, int n, int64_t units, int channels,
                 float* y, float* relu_y, uint64_t* bits, cudaStream_t stream) {
  NASWOT_EXPECT(terms != nullptr && num_terms >= 1 && num_terms <= kMaxBnAddTerms, BadInput,
                "cuda::bn_add_pack: num_terms expected 1.." << kMaxBnAddTerms << ", got " << num_terms);
  NASWOT_EXPECT(n >= 1 && units >= 1 && channels >= 1 && units % channels == 0, BadInput,
                "cuda::bn_add_pack: n=" << n << " units=" << units << " channels=" << channels
                                        << ", expected all >= 1 and units a multiple of channels");
  // Index arithmetic within an image is 32-bit (node_word, pooled terms whose input may be 4x the node).
  NASWOT_EXPECT(units <= INT_MAX / 8, BadInput, "cuda::bn_add_pack: units=" << units << " per image exceed 32-bit indexing");
  NASWOT_EXPECT(y != nullptr, BadInput, "cuda::bn_add_pack: y expected non-null");
  TermPack pack{};
  pack.count = num_terms;
  for (int k = 0; k < num_terms; ++k) {
    const BnAddTerm& t = terms[k];
    NASWOT_EXPECT(t.x != nullptr, BadInput, "cuda::bn_add_pack: term " << k << " has no x");
    NASWOT_EXPECT(t.mean == nullptr || (t.invstd != nullptr && t.gamma != nullptr && t.beta != nullptr), BadInput,
                  "cuda::bn_add_pack: term " << k << " has a mean but lacks invstd, gamma or beta");
    cpu::check_term_pool("cuda::bn_add_pack", k, t.pool, !t.zero && t.mean == nullptr, units, channels);
    pack.term[k] = t;
  }
  const int64_t words = cpu::sign_words(units);
  const int64_t total = static_cast<int64_t>(n) * words;
  const int64_t blocks = (total + kWarpsPerBlock - 1) / kWarpsPerBlock;
  NASWOT_EXPECT(blocks <= 0x7fffffff, BadInput, "cuda::bn_add_pack: " << total << " words exceed one launch");
  bn_add_pack_kernel<<<static_cast<unsigned>(blocks), kThreads, 0, stream>>>(pack, sum_from_zero, total, words, units,
                                                                            channels, y, relu_y, bits);
  NASWOT_CHECK_LAUNCH(bn_add_pack_kernel, stream);
}

}  // namespace naswot::cuda
