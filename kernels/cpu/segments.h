// Segment versions of the per-tensor kernels, reference versions (twin of kernels/cuda/segments.cuh).
// A "segment" is one architecture of a batch of architectures that share a shape: each entry
// point applies one existing kernel to every segment, the per-segment pointers coming from a
// table of descriptors. The CUDA twin does all segments in one launch (two for the statistics);
// here every function is a plain loop over the per-tensor CPU kernel, so each segment's result is
// exactly that kernel's:
//  * gather_segments:          copy (optionally relu, x < 0 ? 0 : x: NaN and -0 kept) segment s
//                              of src into dst[s * seg_floats ...]; segments may share a source.
//  * batchnorm_stats_segments: batchnorm_stats + batchnorm_invstd (bn_add_pack.h) per segment.
//  * bn_add_pack_segments:     bn_add_pack(..., relu_y = nullptr, bits) per segment, and the node
//                              tensor (or its relu) also written to each of the segment's copies
//                              (the stacked path's conv inputs, so no gather pass re-reads y);
//                              y == nullptr: the node tensor itself is not stored.
//  * popcount_k_segments:      popcount_k_accumulate per segment, K accumulated into.
//  * sign_pack_segments:       sign_pack per segment.
// segments == 0 does nothing (the table may then be nullptr); segments < 0 is BadInput.
#pragma once
#include <cstdint>

#include "kernels/cpu/bn_add_pack.h"

namespace naswot::cpu {

// Terms per node segment; equal to cuda::kMaxBnAddTerms (static_assert in kernels/cuda/segments.cu).
inline constexpr int kMaxBnAddTerms = 8;
// Extra destinations per node segment; equal to cuda::kMaxNodeCopies.
inline constexpr int kMaxNodeCopies = 4;

// src: segments pointers to [seg_floats] floats (may repeat); dst: [segments][seg_floats], not
// overlapping any source.
void gather_segments(const float* const* src, int segments, int64_t seg_floats, bool relu, float* dst);

struct StatsSegment {
  const float* x = nullptr;  // [rows][channels]
  float* mean = nullptr;     // [channels]
  float* var = nullptr;      // [channels], biased
  float* invstd = nullptr;   // [channels], float(1 / sqrt(double(var) + eps)); nullptr: not written
  float eps = 0.0f;
};
void batchnorm_stats_segments(const StatsSegment* table, int segments, int64_t rows, int channels);

struct NodeSegment {
  BnAddTerm terms[kMaxBnAddTerms];  // the first num_terms are used
  int num_terms = 0;                // 1..kMaxBnAddTerms
  float* y = nullptr;               // [n][units], or nullptr: not stored (only its copies and bits)
  uint64_t* bits = nullptr;         // [n][sign_words(units)], or nullptr: no sign bits
  float* copies[kMaxNodeCopies] = {};  // the first num_copies: [n][units] each, y or relu(y)
  int num_copies = 0;                  // 0..kMaxNodeCopies
  unsigned copy_relu = 0;              // bit i set: copies[i] = relu(y) (x < 0 ? 0 : x, NaN and -0 kept)
};
void bn_add_pack_segments(const NodeSegment* table, int segments, bool sum_from_zero, int n, int64_t units,
                          int channels);

struct PopcountSegment {
  const uint64_t* bits = nullptr;  // [n][words], padding bits zero
  int64_t* k = nullptr;            // n x n row-major, accumulated into
  int64_t weight = 0;
};
void popcount_k_segments(const PopcountSegment* table, int segments, int n, int64_t words, int64_t units);

struct SignPackSegment {
  const float* x = nullptr;  // [n][units]
  uint64_t* bits = nullptr;  // [n][sign_words(units)]
};
void sign_pack_segments(const SignPackSegment* table, int segments, int n, int64_t units);

}  // namespace naswot::cpu
