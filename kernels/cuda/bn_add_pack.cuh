// CUDA twin of kernels/cpu/bn_add_pack.h: the fused node pass. One kernel applies each edge's
// BatchNorm, sums the edges into the node tensor, optionally writes relu(node), and packs the
// node's sign bits with warp ballots (signpack layout) in the same pass, so the node tensor is
// read zero times and written once. Float operations use explicit round-to-nearest intrinsics in
// the CPU's order (no FMA contraction): the result is bit-identical to cpu::bn_add_pack for the
// same mean/invstd.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

namespace naswot::cuda {

inline constexpr int kMaxBnAddTerms = 8;  // kernel-parameter array; NB-201 nodes have <= 3

struct BnAddTerm {  // device pointers; mean == nullptr: the term is x itself
  const float* x = nullptr;
  const float* mean = nullptr;
  const float* invstd = nullptr;
  const float* gamma = nullptr;
  const float* beta = nullptr;
};

// invstd[c] = float(1 / sqrt(double(var[c]) + eps)) (twin of cpu::batchnorm_invstd).
void batchnorm_invstd(const float* var, int channels, float eps, float* invstd, cudaStream_t stream);

// terms: host array of num_terms (1..kMaxBnAddTerms) descriptors of device tensors.
void bn_add_pack(const BnAddTerm* terms, int num_terms, bool sum_from_zero, int n, int64_t units, int channels,
                 float* y, float* relu_y, uint64_t* bits, cudaStream_t stream);

}  // namespace naswot::cuda
