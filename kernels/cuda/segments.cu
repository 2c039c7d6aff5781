// Segment kernels (see segments.cuh). Every kernel puts the segment on one grid dimension
// (y, or z when y is taken) and loops over segments with that dimension's stride, so any count is
// one launch; within a segment the mapping and the device code are the per-tensor kernel's:
//  * gather: grid-stride copy per segment (blockIdx.y = segment).
//  * stats: the batchnorm_stats grid (x = row blocks, y = 32-channel groups) with z = segment,
//    detail::bn_stats_block_sums per block into scratch, then a finalize kernel with one thread per
//    (segment, channel) adding the block partials in block order (detail::bn_stats_finalize).
//    Scratch: double s1[segments][blocks_x][channels], then s2 at the next 256-byte boundary.
//  * node: one warp per kNodeWordsPerWarp consecutive 64-unit words as bn_add_pack
//    (detail::node_word, 32-bit index math within an image), blockIdx.y = segment; the
//    block stages its segment's descriptor in shared memory (the per-tensor kernel gets its terms
//    from the kernel parameters instead); the store writes y and the segment's copies.
//  * popcount: the popcount_k tiles (detail::popcount_k_tile), blockIdx.z = segment * splits + split.
//  * sign_pack: one warp per word (detail::sign_word), blockIdx.y = segment.
#include <algorithm>
#include <climits>
#include <type_traits>

#include "kernels/cpu/segments.h"
#include "kernels/cpu/signpack.h"
#include "kernels/cuda/batchnorm.cuh"
#include "kernels/cuda/bn_add_pack.cuh"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/device_info.cuh"
#include "kernels/cuda/popcount_k.cuh"
#include "kernels/cuda/segments.cuh"
#include "kernels/cuda/signpack.cuh"

namespace naswot::cuda {

static_assert(cpu::kMaxBnAddTerms == kMaxBnAddTerms, "cpu::NodeSegment and cuda::NodeSegment hold as many terms");
static_assert(cpu::kMaxNodeCopies == kMaxNodeCopies, "cpu::NodeSegment and cuda::NodeSegment hold as many copies");

namespace {

constexpr int kThreads = 256;
constexpr int kWarpsPerBlock = kThreads / 32;
constexpr int kNodeWordsPerWarp = 4;  // node pass: words per warp per staged segment descriptor
static_assert(kThreads % 32 == 0, "blocks must hold whole warps for the ballots");
constexpr int kMaxSegmentGrid = 65535;         // grid.y / grid.z limit; more segments loop
constexpr int64_t kGatherMaxBlocksX = 4096;    // per segment; the copy loops grid-stride
constexpr int64_t kFinalizeMaxBlocks = 65535;  // finalize: grid-stride over segments x channels
// Stats decomposition: identical to batchnorm.cu's, so each segment gets batchnorm_stats' bits.
constexpr int kGroup = detail::kBnGroup;
constexpr int kRowThreads = detail::kBnRowThreads;
constexpr int kMinRowsPerThread = 16;
constexpr int kMaxBlocksX = 256;
// Popcount: as popcount_k.cu.
constexpr int kTile = detail::kPopTile;
constexpr int kRows = detail::kPopRows;
constexpr int kChunk = detail::kPopChunk;
constexpr int64_t kTargetBlocks = 512;

unsigned segment_grid(int segments) { return static_cast<unsigned>(std::min(segments, kMaxSegmentGrid)); }

int stats_blocks_x(int64_t rows) {  // batchnorm.cu's stats_blocks_x
  const int64_t wanted = (rows + kRowThreads * kMinRowsPerThread - 1) / (kRowThreads * kMinRowsPerThread);
  return static_cast<int>(std::clamp<int64_t>(wanted, 1, kMaxBlocksX));
}

size_t align256(size_t bytes) { return (bytes + 255) / 256 * 256; }

size_t stats_part_bytes(int segments, int64_t rows, int channels) {
  return align256(static_cast<size_t>(segments) * static_cast<size_t>(stats_blocks_x(rows)) *
                  static_cast<size_t>(channels) * sizeof(double));
}

// True when there is work; throws on a negative count or a missing table.
bool check_table(const char* who, const void* table, int segments) {
  NASWOT_EXPECT(segments >= 0, BadInput, who << ": segments expected >= 0, got " << segments);
  if (segments == 0) return false;
  NASWOT_EXPECT(table != nullptr, BadInput, who << ": table expected non-null for " << segments << " segments");
  return true;
}

__global__ void gather_segments_kernel(const float* const* __restrict__ src, int segments, int64_t seg_floats,
                                       bool relu, float* __restrict__ dst) {
  for (int s = static_cast<int>(blockIdx.y); s < segments; s += static_cast<int>(gridDim.y)) {
    const float* in = src[s];
    float* out = dst + static_cast<int64_t>(s) * seg_floats;
    for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < seg_floats;
         i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
      const float v = in[i];
      out[i] = (relu && v < 0.0f) ? 0.0f : v;  // cuda::relu's x < 0 ? 0 : x
    }
  }
}

__global__ void stats_partials_kernel(const StatsSegment* __restrict__ table, int segments, int64_t rows,
                                      int channels, double* __restrict__ s1_part, double* __restrict__ s2_part) {
  const int c = static_cast<int>(blockIdx.y) * kGroup + static_cast<int>(threadIdx.x);
  const bool valid = c < channels;
  for (int s = static_cast<int>(blockIdx.z); s < segments; s += static_cast<int>(gridDim.z)) {
    const float* x = table[s].x;
    const double shift = valid ? static_cast<double>(x[c]) : 0.0;
    double block_s1 = 0.0, block_s2 = 0.0;
    detail::bn_stats_block_sums(x, rows, channels, c, valid, shift, blockIdx.x, gridDim.x, &block_s1, &block_s2);
    if (threadIdx.y == 0 && valid) {
      const int64_t at = (static_cast<int64_t>(s) * gridDim.x + blockIdx.x) * channels + c;
      s1_part[at] = block_s1;
      s2_part[at] = block_s2;
    }
    __syncthreads();  // the next segment reuses the block's shared sums
  }
}

__global__ void stats_finalize_kernel(const StatsSegment* __restrict__ table, int segments, int64_t rows,
                                      int channels, int blocks_x, const double* __restrict__ s1_part,
                                      const double* __restrict__ s2_part) {
  const int64_t total = static_cast<int64_t>(segments) * channels;
  for (int64_t t = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; t < total;
       t += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int s = static_cast<int>(t / channels);
    const int c = static_cast<int>(t % channels);
    const StatsSegment seg = table[s];
    const double shift = static_cast<double>(seg.x[c]);
    const int64_t base = static_cast<int64_t>(s) * blocks_x * channels + c;
    double a = 0.0, b = 0.0;
    for (int bx = 0; bx < blocks_x; ++bx) {  // block order, as batchnorm_stats: deterministic
      a += s1_part[base + static_cast<int64_t>(bx) * channels];
      b += s2_part[base + static_cast<int64_t>(bx) * channels];
    }
    detail::bn_stats_finalize(a, b, rows, shift, seg.eps, c, seg.mean, seg.var, seg.invstd);
  }
}

static_assert(std::is_trivially_copyable_v<NodeSegment>, "node descriptors are staged word by word");
static_assert(sizeof(NodeSegment) % sizeof(uint64_t) == 0 && alignof(NodeSegment) <= alignof(uint64_t),
              "node descriptors are staged in 64-bit words");
constexpr int kNodeWords = static_cast<int>(sizeof(NodeSegment) / sizeof(uint64_t));

// Element e of a node segment's value: y (when stored) and each copy (relu'd where copy_relu says).
__device__ __forceinline__ void store_node_value(const NodeSegment& seg, int copies, int64_t e, float value) {
  if (seg.y != nullptr) seg.y[e] = value;
  for (int i = 0; i < copies; ++i) seg.copies[i][e] = (seg.copy_relu >> i) & 1u ? detail::relu_value(value) : value;
}

__global__ void bn_add_pack_segments_kernel(const NodeSegment* __restrict__ table, int segments, bool sum_from_zero,
                                            int64_t total_words, int64_t words, int64_t units, int channels) {
  __shared__ uint64_t staged[kNodeWords];
  const NodeSegment& seg = *reinterpret_cast<const NodeSegment*>(staged);
  // A warp covers kNodeWordsPerWarp consecutive words (the staged descriptor serves more work).
  const int64_t first = (static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / 32) * kNodeWordsPerWarp;
  const int64_t first_image = first / words;  // the only 64-bit division; later words step
  const int64_t first_w = first - first_image * words;
  const int lane = static_cast<int>(threadIdx.x % 32);
  for (int s = static_cast<int>(blockIdx.y); s < segments; s += static_cast<int>(gridDim.y)) {
    __syncthreads();  // nobody reads the previous segment's descriptor any more
    const auto* from = reinterpret_cast<const uint64_t*>(table + s);
    for (int q = static_cast<int>(threadIdx.x); q < kNodeWords; q += static_cast<int>(blockDim.x)) staged[q] = from[q];
    __syncthreads();
    const int count = min(seg.num_terms, kMaxBnAddTerms);
    const int copies = min(seg.num_copies, kMaxNodeCopies);
    int64_t image = first_image, w = first_w;
    for (int r = 0; r < kNodeWordsPerWarp; ++r) {
      const int64_t word = first + r;
      if (word >= total_words) break;  // uniform across the warp
      const uint64_t v = detail::node_word(seg.terms, count, sum_from_zero, image, w, units, channels, lane,
                                           [&](int64_t e, float value) { store_node_value(seg, copies, e, value); });
      if (seg.bits != nullptr && lane == 0) seg.bits[word] = v;
      if (++w == words) {
        w = 0;
        ++image;
      }
    }
  }
}

// NodePass::Batched. Per element the same operations as detail::node_value in the same order
// (terms 0..count-1, BatchNorm as ((x - mean) * invstd) * gamma + beta, each rounded), so the bits
// equal the per-element kernel's and the CPU twin's; only the order in which elements are visited
// and where the BN parameters are read from change.
constexpr int kStagedChannels = 128;  // BN parameters in shared memory up to this many channels
constexpr int kBatchWords = 2;         // words a warp sums together (kNodeWordsPerWarp is a multiple)
static_assert(kNodeWordsPerWarp % kBatchWords == 0, "whole batches of words per warp");

__global__ void __launch_bounds__(kThreads, 4) bn_add_pack_segments_batched_kernel(
    const NodeSegment* __restrict__ table, int segments, bool sum_from_zero, int64_t total_words, int64_t words,
    int64_t units, int channels) {
  __shared__ uint64_t staged[kNodeWords];
  __shared__ float4 params[kMaxBnAddTerms * kStagedChannels];  // (mean, invstd, gamma, beta) per term, channel
  const NodeSegment& seg = *reinterpret_cast<const NodeSegment*>(staged);
  const int lane = static_cast<int>(threadIdx.x % 32);
  const int64_t first = (static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / 32) * kNodeWordsPerWarp;
  // The warp's first word: image and word within the image (one 64-bit division; later words step).
  const int64_t first_image = first / words;
  const int first_w = static_cast<int>(first - first_image * words);
  const int64_t live = min(static_cast<int64_t>(kNodeWordsPerWarp), total_words - first);  // uniform per warp
  // When channels divides 64, a lane meets the same channel in every word: (32 * half + lane) % C.
  const bool lane_channels = 64 % channels == 0;
  const int lane_channel[2] = {lane % channels, (32 + lane) % channels};
  const bool staged_params = channels <= kStagedChannels;
  for (int s = static_cast<int>(blockIdx.y); s < segments; s += static_cast<int>(gridDim.y)) {
    __syncthreads();  // nobody reads the previous segment's descriptor or parameters any more
    const auto* from = reinterpret_cast<const uint64_t*>(table + s);
    for (int q = static_cast<int>(threadIdx.x); q < kNodeWords; q += static_cast<int>(blockDim.x)) staged[q] = from[q];
    __syncthreads();
    const int staged_terms = min(seg.num_terms, kMaxBnAddTerms);
    if (staged_params) {
      for (int q = static_cast<int>(threadIdx.x); q < staged_terms * channels; q += static_cast<int>(blockDim.x)) {
        const int k = q / channels, c = q - k * channels;
        const BnAddTerm& t = seg.terms[k];
        if (!t.zero && t.mean != nullptr)
          params[k * kStagedChannels + c] = make_float4(t.mean[c], t.invstd[c], t.gamma[c], t.beta[c]);
      }
      __syncthreads();
    }
    if (live <= 0) continue;  // after the barriers: every thread took part in them
    const int count = min(seg.num_terms, kMaxBnAddTerms);
    const int copies = min(seg.num_copies, kMaxNodeCopies);
    // kBatchWords words at a time: 2 x kBatchWords elements per lane, summed term by term.
    int64_t next_image = first_image;
    int next_w = first_w;
#pragma unroll 1
    for (int r0 = 0; r0 < kNodeWordsPerWarp; r0 += kBatchWords) {
      if (r0 >= live) break;  // uniform across the warp
      int64_t image[kBatchWords];
      int word_in_image[kBatchWords];
#pragma unroll
      for (int j = 0; j < kBatchWords; ++j) {
        image[j] = next_image;
        word_in_image[j] = next_w;
        if (++next_w == words) {
          next_w = 0;
          ++next_image;
        }
      }
      float v[kBatchWords][2] = {};  // count 0 (never planned) sums to 0, as node_value
      for (int k = 0; k < count; ++k) {
        const BnAddTerm& t = seg.terms[k];
        const bool pooled = t.pool.kind != TermPoolKind::None;
        const bool zero = t.zero;
        const bool bn = !zero && t.mean != nullptr;
        // A lane's two channels' parameters, read once per term when they hold for every word.
        float4 lane_p[2] = {};
        if (bn && lane_channels && staged_params) {
          lane_p[0] = params[k * kStagedChannels + lane_channel[0]];
          lane_p[1] = params[k * kStagedChannels + lane_channel[1]];
        }
#pragma unroll
        for (int j = 0; j < kBatchWords; ++j) {
          const int r = r0 + j;
#pragma unroll
          for (int half = 0; half < 2; ++half) {
            const int u = word_in_image[j] * 64 + half * 32 + lane;
            if (r >= live || u >= units) continue;
            const int64_t e = image[j] * units + u;
            float tv = pooled ? detail::pooled_term(t, image[j], u, channels) : t.x[e];
            if (zero) {
              tv = __fmul_rn(tv, 0.0f);  // cuda::zero's x * 0
            } else if (bn) {
              float4 p;
              if (lane_channels && staged_params) {
                p = lane_p[half];
              } else {
                const int c = u % channels;
                p = staged_params ? params[k * kStagedChannels + c]
                                  : make_float4(t.mean[c], t.invstd[c], t.gamma[c], t.beta[c]);
              }
              tv = __fadd_rn(__fmul_rn(__fmul_rn(__fsub_rn(tv, p.x), p.y), p.z), p.w);
            }
            if (k == 0)
              v[j][half] = sum_from_zero ? __fadd_rn(0.0f, tv) : tv;
            else
              v[j][half] = __fadd_rn(v[j][half], tv);
          }
        }
      }
#pragma unroll
      for (int j = 0; j < kBatchWords; ++j) {
        const int r = r0 + j;
        if (r >= live) break;  // uniform across the warp
        unsigned votes[2];
#pragma unroll
        for (int half = 0; half < 2; ++half) {
          const int u = word_in_image[j] * 64 + half * 32 + lane;
          bool positive = false;
          if (u < units) {
            const int64_t e = image[j] * units + u;
            const float value = v[j][half];
            store_node_value(seg, copies, e, value);
            positive = value > 0.0f;
          }
          votes[half] = __ballot_sync(0xffffffffu, positive);
        }
        if (seg.bits != nullptr && lane == 0)
          seg.bits[first + r] = static_cast<uint64_t>(votes[0]) | (static_cast<uint64_t>(votes[1]) << 32);
      }
    }
  }
}

__global__ void popcount_k_segments_kernel(const PopcountSegment* __restrict__ table, int segments, int n,
                                           int64_t words, int64_t words_per_split, int splits, int64_t units) {
  if (!detail::popcount_k_upper_tile(blockIdx.y, blockIdx.x)) return;  // whole block: no barrier skipped
  const int split = static_cast<int>(blockIdx.z) % splits;
  const int step = static_cast<int>(gridDim.z) / splits;
  const int64_t w_begin = static_cast<int64_t>(split) * words_per_split;
  const int64_t w_end = min(words, w_begin + words_per_split);
  for (int s = static_cast<int>(blockIdx.z) / splits; s < segments; s += step) {
    const PopcountSegment seg = table[s];
    // popcount_k_tile ends on a barrier after its last shared-memory read: the next segment may stage.
    detail::popcount_k_tile(seg.bits, n, words, static_cast<int>(blockIdx.y) * kTile,
                            static_cast<int>(blockIdx.x) * kTile, w_begin, w_end, split == 0, units, seg.weight,
                            reinterpret_cast<unsigned long long*>(seg.k));
  }
}

__global__ void sign_pack_segments_kernel(const SignPackSegment* __restrict__ table, int segments,
                                          int64_t total_words, int64_t words, int64_t units) {
  const int64_t word = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / 32;
  if (word >= total_words) return;  // uniform across the warp; no block barrier follows
  const int lane = static_cast<int>(threadIdx.x % 32);
  const int64_t image = word / words;
  const int64_t w = word % words;
  for (int s = static_cast<int>(blockIdx.y); s < segments; s += static_cast<int>(gridDim.y)) {
    const SignPackSegment seg = table[s];
    const uint64_t v = detail::sign_word(seg.x + image * units, w, units, lane);
    if (lane == 0) seg.bits[word] = v;
  }
}

}  // namespace

void gather_segments(const float* const* src, int segments, int64_t seg_floats, bool relu, float* dst,
                     cudaStream_t stream) {
  NASWOT_EXPECT(seg_floats >= 0, BadInput, "cuda::gather_segments: seg_floats expected >= 0, got " << seg_floats);
  if (!check_table("cuda::gather_segments", src, segments) || seg_floats == 0) return;
  NASWOT_EXPECT(dst != nullptr, BadInput, "cuda::gather_segments: dst expected non-null");
  const int64_t blocks_x = std::min((seg_floats + kThreads - 1) / kThreads, kGatherMaxBlocksX);
  const dim3 grid(static_cast<unsigned>(blocks_x), segment_grid(segments));
  gather_segments_kernel<<<grid, kThreads, 0, stream>>>(src, segments, seg_floats, relu, dst);
  NASWOT_CHECK_LAUNCH(gather_segments_kernel, stream);
}

size_t batchnorm_stats_segments_scratch_bytes(int segments, int64_t rows, int channels) {
  NASWOT_EXPECT(segments >= 0 && rows >= 1 && channels >= 1, BadInput,
                "cuda::batchnorm_stats_segments_scratch_bytes: segments=" << segments << " rows=" << rows
                                                                          << " channels=" << channels
                                                                          << ", expected >= 0, >= 1, >= 1");
  return 2 * stats_part_bytes(segments, rows, channels);
}

void batchnorm_stats_segments(const StatsSegment* table, int segments, int64_t rows, int channels, void* scratch,
                              cudaStream_t stream) {
  if (!check_table("cuda::batchnorm_stats_segments", table, segments)) return;
  NASWOT_EXPECT(rows >= 1 && channels >= 1, BadInput,
                "cuda::batchnorm_stats_segments: rows and channels expected >= 1, got rows=" << rows << " channels="
                                                                                            << channels);
  NASWOT_EXPECT(scratch != nullptr, BadInput, "cuda::batchnorm_stats_segments: scratch expected non-null");
  const int bx = stats_blocks_x(rows);
  const int groups = (channels + kGroup - 1) / kGroup;
  NASWOT_EXPECT(groups <= kMaxSegmentGrid, BadInput,
                "cuda::batchnorm_stats_segments: channels=" << channels << " too many for one grid");
  auto* base = static_cast<unsigned char*>(scratch);
  auto* s1 = reinterpret_cast<double*>(base);
  auto* s2 = reinterpret_cast<double*>(base + stats_part_bytes(segments, rows, channels));
  const dim3 grid(static_cast<unsigned>(bx), static_cast<unsigned>(groups), segment_grid(segments));
  const dim3 block(kGroup, kRowThreads);
  stats_partials_kernel<<<grid, block, 0, stream>>>(table, segments, rows, channels, s1, s2);
  NASWOT_CHECK_LAUNCH(stats_partials_kernel, stream);
  const int64_t total = static_cast<int64_t>(segments) * channels;
  const int64_t blocks = std::min((total + kThreads - 1) / kThreads, kFinalizeMaxBlocks);
  stats_finalize_kernel<<<static_cast<unsigned>(blocks), kThreads, 0, stream>>>(table, segments, rows, channels, bx,
                                                                                s1, s2);
  NASWOT_CHECK_LAUNCH(stats_finalize_kernel, stream);
}

void bn_add_pack_segments(const NodeSegment* table, int segments, bool sum_from_zero, int n, int64_t units,
                          int channels, cudaStream_t stream, NodePass pass) {
  if (!check_table("cuda::bn_add_pack_segments", table, segments)) return;
  NASWOT_EXPECT(n >= 1 && units >= 1 && channels >= 1 && units % channels == 0, BadInput,
                "cuda::bn_add_pack_segments: n=" << n << " units=" << units << " channels=" << channels
                                                 << ", expected all >= 1 and units a multiple of channels");
  // Index arithmetic within an image is 32-bit (node_word, pooled terms whose input may be 4x the node).
  NASWOT_EXPECT(units <= INT_MAX / 8, BadInput, "cuda::bn_add_pack_segments: units=" << units << " per image exceed 32-bit indexing");
  const int64_t words = cpu::sign_words(units);
  const int64_t total = static_cast<int64_t>(n) * words;
  const int64_t per_block = static_cast<int64_t>(kWarpsPerBlock) * kNodeWordsPerWarp;
  const int64_t blocks = (total + per_block - 1) / per_block;
  NASWOT_EXPECT(blocks <= 0x7fffffff, BadInput,
                "cuda::bn_add_pack_segments: " << total << " words exceed one launch");
  const dim3 grid(static_cast<unsigned>(blocks), segment_grid(segments));
  if (pass == NodePass::Batched) {
    bn_add_pack_segments_batched_kernel<<<grid, kThreads, 0, stream>>>(table, segments, sum_from_zero, total, words,
                                                                       units, channels);
    NASWOT_CHECK_LAUNCH(bn_add_pack_segments_batched_kernel, stream);
    return;
  }
  bn_add_pack_segments_kernel<<<grid, kThreads, 0, stream>>>(table, segments, sum_from_zero, total, words, units,
                                                             channels);
  NASWOT_CHECK_LAUNCH(bn_add_pack_segments_kernel, stream);
}

void popcount_k_segments(const PopcountSegment* table, int segments, int n, int64_t words, int64_t units,
                         cudaStream_t stream) {
  if (!check_table("cuda::popcount_k_segments", table, segments)) return;
  NASWOT_EXPECT(n >= 1 && units >= 1, BadInput,
                "cuda::popcount_k_segments: n and units expected >= 1, got n=" << n << " units=" << units);
  NASWOT_EXPECT(words >= cpu::sign_words(units), BadInput,
                "cuda::popcount_k_segments: words=" << words << " expected >= ceil(units/64)="
                                                    << cpu::sign_words(units));
  const int64_t tiles_side = (n + kTile - 1) / kTile;
  NASWOT_EXPECT(tiles_side <= 65535, BadInput, "cuda::popcount_k_segments: n=" << n << " too large for one grid");
  // Split the words only as far as the segments and tiles do not fill the device already.
  const int64_t chunks = (words + kChunk - 1) / kChunk;
  const int64_t tile_blocks = tiles_side * tiles_side * segments;
  const int64_t splits_wanted = std::max<int64_t>(1, std::min(chunks, (kTargetBlocks + tile_blocks - 1) / tile_blocks));
  const int64_t chunks_per_split = (chunks + splits_wanted - 1) / splits_wanted;
  const int64_t words_per_split = chunks_per_split * kChunk;
  const int64_t splits = (words + words_per_split - 1) / words_per_split;  // <= splits_wanted <= 512
  NASWOT_EXPECT(words_per_split <= INT_MAX / 64, BadInput,
                "cuda::popcount_k_segments: words=" << words << " too large for one slice");
  const int64_t grid_segments = std::min<int64_t>(segments, kMaxSegmentGrid / splits);
  const dim3 grid(static_cast<unsigned>(tiles_side), static_cast<unsigned>(tiles_side),
                  static_cast<unsigned>(grid_segments * splits));
  const dim3 block(kTile, kRows);
  static_assert(sizeof(unsigned long long) == sizeof(int64_t), "K is updated through 64-bit unsigned atomics");
  popcount_k_segments_kernel<<<grid, block, 0, stream>>>(table, segments, n, words, words_per_split,
                                                         static_cast<int>(splits), units);
  NASWOT_CHECK_LAUNCH(popcount_k_segments_kernel, stream);
}

void sign_pack_segments(const SignPackSegment* table, int segments, int n, int64_t units, cudaStream_t stream) {
  if (!check_table("cuda::sign_pack_segments", table, segments)) return;
  NASWOT_EXPECT(n >= 1 && units >= 1, BadInput,
                "cuda::sign_pack_segments: n and units expected >= 1, got n=" << n << " units=" << units);
  const int64_t words = sign_words(units);
  const int64_t total = static_cast<int64_t>(n) * words;
  const int64_t blocks = (total + kWarpsPerBlock - 1) / kWarpsPerBlock;
  NASWOT_EXPECT(blocks <= 0x7fffffff, BadInput, "cuda::sign_pack_segments: " << total << " words exceed one launch");
  const dim3 grid(static_cast<unsigned>(blocks), segment_grid(segments));
  sign_pack_segments_kernel<<<grid, kThreads, 0, stream>>>(table, segments, total, words, units);
  NASWOT_CHECK_LAUNCH(sign_pack_segments_kernel, stream);
}

}  // namespace naswot::cuda
