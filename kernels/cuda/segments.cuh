// CUDA twin of kernels/cpu/segments.h: the per-tensor kernels applied to many architectures
// ("segments") of one shape in a single launch. Each segment's pointers come from a descriptor
// table in DEVICE memory (the launcher never reads it, so it cannot check the descriptors: they
// must be valid, as the per-tensor kernels would require). The shape arguments are shared by all
// segments. Each launcher is one kernel launch (two for the statistics) covering every segment,
// on `stream`; segments == 0 returns without launching (the table may then be nullptr).
// Per segment the result is exactly the per-tensor kernel's:
//  * gather_segments: dst[s * seg_floats + i] = relu ? (src[s][i] < 0 ? 0 : src[s][i]) : src[s][i]
//    (NaN and -0 kept, as cuda::relu). Segments may share a source; dst must not overlap one.
//  * batchnorm_stats_segments: batchnorm_stats_invstd (batchnorm.cuh) per segment -- the same
//    block decomposition and summation order, so the same bits as that kernel, and about one
//    float ulp from the CPU. Two kernels, no tickets: per-block double partial sums of the shifted
//    values go to scratch, then one thread per (segment, channel) adds them in block order.
//    Deterministic run to run.
//  * bn_add_pack_segments: bn_add_pack (bn_add_pack.cuh) with relu_y = nullptr per segment,
//    bit-identical to the CPU; num_terms may differ between segments. Each segment may also write
//    the node tensor (or its relu) to up to kMaxNodeCopies other places (the stacked path's conv
//    input blocks: the copy costs a write in this pass instead of a gather's read and write), and
//    may skip storing y itself (y == nullptr). A term may pool its input (BnAddTerm::pool, the
//    stacked path's pool views), with cuda::avgpool2d's / maxpool2d's arithmetic per element.
//  * popcount_k_segments: popcount_k_accumulate per segment (exact int64, K accumulated into).
//    Segments must not share K.
//  * sign_pack_segments: sign_pack per segment (signpack layout, zero padding bits).
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "kernels/cuda/bn_add_pack.cuh"

namespace naswot::cuda {

// src: device array of `segments` device pointers to [seg_floats] floats; dst: [segments][seg_floats].
void gather_segments(const float* const* src, int segments, int64_t seg_floats, bool relu, float* dst,
                     cudaStream_t stream);

struct StatsSegment {        // device pointers
  const float* x = nullptr;  // [rows][channels]
  float* mean = nullptr;     // [channels]
  float* var = nullptr;      // [channels], biased
  float* invstd = nullptr;   // [channels], float(1 / sqrt(double(var) + eps)); nullptr: not written
  float eps = 0.0f;          // >= 0
};
// Bytes of device scratch batchnorm_stats_segments needs (the double partial sums). It needs no
// initialization and its contents afterwards are unspecified; it must stay untouched until the
// call's two kernels have run (stream order). 256-byte aligned, as cudaMalloc gives.
size_t batchnorm_stats_segments_scratch_bytes(int segments, int64_t rows, int channels);
void batchnorm_stats_segments(const StatsSegment* table, int segments, int64_t rows, int channels, void* scratch,
                              cudaStream_t stream);

inline constexpr int kMaxNodeCopies = 4;  // copies per node segment (twin: cpu::kMaxNodeCopies)

struct NodeSegment {                // device pointers
  BnAddTerm terms[kMaxBnAddTerms];  // the first num_terms are used
  int num_terms = 0;                // 1..kMaxBnAddTerms (larger values are clamped to kMaxBnAddTerms)
  float* y = nullptr;               // [n][units], or nullptr: not stored (only its copies and bits)
  uint64_t* bits = nullptr;         // [n][sign_words(units)], or nullptr: no sign bits
  float* copies[kMaxNodeCopies] = {};  // the first num_copies: [n][units] each, y or relu(y)
  int num_copies = 0;                  // 0..kMaxNodeCopies (larger values are clamped)
  unsigned copy_relu = 0;              // bit i set: copies[i] = relu(y) (x < 0 ? 0 : x, NaN and -0 kept)
};
// Two kernels compute the same bits (the same float operations in the same order per element):
//  * PerElement: per element, every term's descriptor and BN parameters are read as it is summed
//    (the H200 measured it instruction- and load-latency-bound: 15-20% of DRAM bandwidth);
//  * Batched (opt-in until measured; NASWOT_NODE_PASS=batched for the stacked runner): a block
//    stages its segment's BN parameters (channels <= 128) in shared memory once, and a warp sums
//    all its words' elements term by term, so that each term's loads are in flight together.
enum class NodePass : uint8_t { PerElement, Batched };
void bn_add_pack_segments(const NodeSegment* table, int segments, bool sum_from_zero, int n, int64_t units,
                          int channels, cudaStream_t stream, NodePass pass = NodePass::PerElement);

struct PopcountSegment {
  const uint64_t* bits = nullptr;  // device [n][words], padding bits zero
  int64_t* k = nullptr;            // device n x n row-major, accumulated into
  int64_t weight = 0;
};
void popcount_k_segments(const PopcountSegment* table, int segments, int n, int64_t words, int64_t units,
                         cudaStream_t stream);

struct SignPackSegment {
  const float* x = nullptr;  // device [n][units]
  uint64_t* bits = nullptr;  // device [n][sign_words(units)]
};
void sign_pack_segments(const SignPackSegment* table, int segments, int n, int64_t units, cudaStream_t stream);

}  // namespace naswot::cuda
