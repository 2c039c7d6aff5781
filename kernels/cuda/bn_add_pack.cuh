// CUDA twin of kernels/cpu/bn_add_pack.h: the fused node pass. One kernel applies each edge's
// BatchNorm (or x * 0, or a pool of x: TermPool), sums the edges into the node tensor, optionally writes relu(node), and packs the
// node's sign bits with warp ballots (signpack layout) in the same pass, so the node tensor is
// read zero times and written once. Float operations use explicit round-to-nearest intrinsics in
// the CPU's order (no FMA contraction): the result is bit-identical to cpu::bn_add_pack for the
// same mean/invstd.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/cpu/bn_add_pack.h"  // cpu::TermPool

namespace naswot::cuda {

using cpu::TermPool;
using cpu::TermPoolKind;

inline constexpr int kMaxBnAddTerms = 8;  // kernel-parameter array; NB-201 nodes have <= 3

struct BnAddTerm {  // device pointers; mean == nullptr: the term is x itself (or x * 0 when zero)
  const float* x = nullptr;
  const float* mean = nullptr;
  const float* invstd = nullptr;
  const float* gamma = nullptr;
  const float* beta = nullptr;
  bool zero = false;  // the term is x * 0.0f (a stride-1 Zero op, NB-201's "none"); mean unused
  TermPool pool{};    // kind != None: the term is pool(x) (cuda::avgpool2d / maxpool2d per element); plain
};

// invstd[c] = float(1 / sqrt(double(var[c]) + eps)) (twin of cpu::batchnorm_invstd).
void batchnorm_invstd(const float* var, int channels, float eps, float* invstd, cudaStream_t stream);

// terms: host array of num_terms (1..kMaxBnAddTerms) descriptors of device tensors.
void bn_add_pack(const BnAddTerm* terms, int num_terms, bool sum_from_zero, int n, int64_t units, int channels,
                 float* y, float* relu_y, uint64_t* bits, cudaStream_t stream);

}  // namespace naswot::cuda

#if defined(__CUDACC__)
#include "kernels/cuda/pool.cuh"

// Device building blocks (nvcc only), shared by bn_add_pack.cu and segments.cu.
namespace naswot::cuda::detail {

// pool(x) at the node's element u of image img (the node's pixels are the pool's output pixels).
__device__ __forceinline__ float pooled_term(const BnAddTerm& t, int64_t img, int u, int channels) {
  const TermPool& p = t.pool;
  const int span_h = p.in_h + 2 * p.pad - p.kernel, span_w = p.in_w + 2 * p.pad - p.kernel;
  const PoolGeometry g{p.in_h,
                       p.in_w,
                       channels,
                       p.kernel,
                       p.stride,
                       p.pad,
                       (p.stride == 1 ? span_h : span_h / p.stride) + 1,  // NB-201's pools: stride 1, no division
                       (p.stride == 1 ? span_w : span_w / p.stride) + 1};
  return p.kind == TermPoolKind::Max ? pool_element_in_image<true>(g, false, img, u, t.x)
                                     : pool_element_in_image<false>(g, p.count_include_pad, img, u, t.x);
}

// A term's input at element e: x[e], or pool(x) there.
__device__ __forceinline__ float term_input(const BnAddTerm& t, int64_t e, int64_t img, int u, int channels) {
  return t.pool.kind != TermPoolKind::None ? pooled_term(t, img, u, channels) : t.x[e];
}

// A term's value from its input: x * 0 (zero), BatchNorm ((x - mean) * invstd) * gamma + beta with
// every step rounded (cpu::batchnorm_apply order), or x itself.
__device__ __forceinline__ float term_value(const BnAddTerm& t, float x, int c) {
  if (t.zero) return __fmul_rn(x, 0.0f);  // cuda::zero's x * 0
  if (t.mean == nullptr) return x;
  return __fadd_rn(__fmul_rn(__fmul_rn(__fsub_rn(x, t.mean[c]), t.invstd[c]), t.gamma[c]), t.beta[c]);
}

// Terms whose inputs node_value loads before it sums any: the node pass waits on loads (ncu,
// 2026-12-04: 5 of 12 cycles between issues), and a runtime loop of load-then-add keeps one load
// in flight per lane. NB-201's nodes have 1..3 terms, DARTS' 2.
inline constexpr int kIssuedTerms = 4;

// Node value of element e = img * units + u (channel c of `channels`): [0 +] t_0 + t_1 + ... over
// terms[0..count), every float operation rounded explicitly in the CPU's order (no FMA contraction).
// The first kIssuedTerms inputs are loaded together, then summed in order; more terms (up to
// kMaxBnAddTerms) load one at a time. Same operations in the same order either way: same bits.
__device__ __forceinline__ float node_value(const BnAddTerm* terms, int count, bool sum_from_zero, int64_t e,
                                            int64_t img, int u, int c, int channels) {
  float in[kIssuedTerms];
#pragma unroll
  for (int k = 0; k < kIssuedTerms; ++k)
    if (k < count) in[k] = term_input(terms[k], e, img, u, channels);
  float v = 0.0f;
#pragma unroll
  for (int k = 0; k < kIssuedTerms; ++k) {
    if (k >= count) break;
    const float tv = term_value(terms[k], in[k], c);
    if (k == 0)
      v = sum_from_zero ? __fadd_rn(0.0f, tv) : tv;
    else
      v = __fadd_rn(v, tv);
  }
  for (int k = kIssuedTerms; k < count; ++k)
    v = __fadd_rn(v, term_value(terms[k], term_input(terms[k], e, img, u, channels), c));
  return v;
}

// Word w of image `image` of one node: the warp computes units 64w + lane and 64w + 32 + lane
// (both values before either is stored, so their loads overlap), hands each value to
// store(e, v) (which writes y and whatever else the caller keeps) and returns the sign word
// (signpack layout) to every lane. Every lane of the warp must call it (full-mask ballots).
template <class Store>
__device__ __forceinline__ uint64_t node_word(const BnAddTerm* terms, int count, bool sum_from_zero, int64_t image,
                                              int64_t w, int64_t units, int channels, int lane, Store&& store) {
  float v[2] = {0.0f, 0.0f};
  bool live[2];
#pragma unroll
  for (int half = 0; half < 2; ++half) {
    const int u = static_cast<int>(w) * 64 + half * 32 + lane;  // units of one image fit an int (checked by the launchers)
    live[half] = u < units;
    if (live[half]) {
      int pixel = 0, c = 0;
      div_mod(u, channels, pixel, c);
      v[half] = node_value(terms, count, sum_from_zero, image * units + u, image, u, c, channels);
    }
  }
  unsigned votes[2];
#pragma unroll
  for (int half = 0; half < 2; ++half) {
    if (live[half]) store(image * units + static_cast<int>(w) * 64 + half * 32 + lane, v[half]);
    votes[half] = __ballot_sync(0xffffffffu, live[half] && v[half] > 0.0f);
  }
  return static_cast<uint64_t>(votes[0]) | (static_cast<uint64_t>(votes[1]) << 32);
}

__device__ __forceinline__ float relu_value(float v) { return v < 0.0f ? 0.0f : v; }  // cuda::relu's x < 0 ? 0 : x

}  // namespace naswot::cuda::detail
#endif
