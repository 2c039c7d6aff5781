// naswot's tensor-core (TF32 WMMA) convolution (see conv2d_tc.cuh).
// Block: kThreads = 128 threads (4 warps) own kRows = 64 output pixels (GEMM rows) x C_OUT
// channels; warp w owns rows 16w..16w+15 and keeps C_OUT / 16 accumulator fragments (16 x 16).
// Reduction: chunks of kChunk = 32 k values. Per chunk every thread copies one 4-float quad of
// k (column 4 * (tid % 8)) for rows tid / 8 + 16 i of A and weight rows (channels) tid / 8 + 16 j
// of B, with cp.async into one of two shared buffers, so chunk c + 1 loads while chunk c
// multiplies. A quad never straddles a kernel tap (c_in % 8 == 0), so it is 16 contiguous bytes
// of one input pixel, or padding (zero-filled by the copy). Because the column is fixed per
// thread, the k -> tap division runs once per chunk and thread, the pixel divisions once per
// block (conv2d_tc_index.h).
// Shared rows are padded to 36 floats: a multiple of 4 (WMMA's ldm for 32-bit types) whose
// row-to-row bank shift of 4 spreads the 8 rows x 4 columns a fragment load touches over all 32
// banks. Every fragment pointer is a multiple of 8 floats (32 bytes) from the 128-byte-aligned
// buffer, as load/store_matrix_sync require.
// Epilogue: the accumulators go through shared memory (the stage buffers, no longer read) so that
// rows of C_OUT contiguous floats are written to y with coalesced float4 stores plus bias.
#include <mma.h>

#include <climits>
#include <cstdint>

#include "kernels/cuda/conv2d_tc.cuh"
#include "kernels/cuda/conv2d_tc_index.h"
#include "kernels/cuda/cuda_check.h"

namespace naswot::cuda {
namespace {

namespace wmma = nvcuda::wmma;

constexpr int kThreads = 128;
constexpr int kWarps = kThreads / 32;
constexpr int kRows = 16 * kWarps;                  // GEMM rows (output pixels) per block
constexpr int kChunk = 32;                          // k values staged per pipeline step
constexpr int kQuads = kChunk / 4;                  // float4 columns of a staged chunk
constexpr int kRowGroups = kThreads / kQuads;       // rows one pass of the block copies (16)
constexpr int kRowsPerThread = kRows / kRowGroups;  // 4
constexpr int kLda = kChunk + 4;                    // shared row stride of A ([row][k])
constexpr int kLdb = kChunk + 4;                    // shared row stride of B ([channel][k])
constexpr int kStages = 2;
static_assert(kThreads % kQuads == 0 && kRows % kRowGroups == 0, "a thread's quad column is fixed");
static_assert(kLda % 4 == 0 && kLdb % 4 == 0, "WMMA ldm: a multiple of 16 bytes");
static_assert((16 * kLda) % 8 == 0 && (kRows * kLda) % 8 == 0, "fragment pointers 32-byte aligned");

template <int C_OUT>
struct TcTile {
  static_assert(C_OUT % 16 == 0 && C_OUT <= 64, "C_OUT: 16, 32, 48 or 64");
  static constexpr int kFrags = C_OUT / 16;                         // accumulator fragments per warp
  static constexpr int kStageFloats = kRows * kLda + C_OUT * kLdb;  // A then B
  static constexpr int kLdc = C_OUT + 4;                            // epilogue row stride
  static constexpr int kSharedFloats = kStages * kStageFloats;
  static_assert(kStageFloats % 8 == 0, "both stages 32-byte aligned");
  static_assert(kRows * kLdc <= kSharedFloats, "the epilogue tile fits in the stage buffers");
  static_assert(C_OUT % kRowGroups == 0, "every thread copies the same number of weight rows");
};

// 16 bytes global -> shared, asynchronously (cp.async, sm_80+); with fill false the destination
// is zeroed and src is not read (src-size 0). .ca keeps x in L1, where the overlapping receptive
// fields of neighbouring pixels find it again.
__device__ __forceinline__ void copy16_async(float* dst_shared, const float* src, bool fill) {
  const unsigned dst = static_cast<unsigned>(__cvta_generic_to_shared(dst_shared));
  const int src_bytes = fill ? 16 : 0;
  asm volatile("cp.async.ca.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src), "r"(src_bytes) : "memory");
}

__device__ __forceinline__ void commit_copies() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }

// Waits until at most one committed group (the newest) is still in flight.
__device__ __forceinline__ void wait_all_but_newest() { asm volatile("cp.async.wait_group 1;\n" ::: "memory"); }

// Stages k values [k0, k0 + kChunk) into `stage`: A[row][k - k0] at stage[row * kLda + ...] and
// B[k][o] at stage[kRows * kLda + o * kLdb + (k - k0)] (B "column-major": weight rows are
// contiguous in k, as in OHWI). k past k_total (the last chunk's tail) is zero-filled.
template <int C_OUT>
__device__ __forceinline__ void stage_chunk(const TcGeometry& g, const float* __restrict__ x,
                                            const float* __restrict__ weight, const TcRow (&rows)[kRowsPerThread],
                                            int first_row, int quad, int k0, float* stage) {
  const int col = 4 * quad;
  const int k = k0 + col;
  float* a = stage + first_row * kLda + col;
  float* b = stage + kRows * kLda + first_row * kLdb + col;
  if (k < g.k_total) {
    const TcTap tap = tc_tap(g, k);
#pragma unroll
    for (int i = 0; i < kRowsPerThread; ++i) {
      const int64_t offset = tc_input_offset(g, rows[i], tap);
      copy16_async(a + i * kRowGroups * kLda, offset >= 0 ? x + offset : x, offset >= 0);
    }
#pragma unroll
    for (int j = 0; j < C_OUT / kRowGroups; ++j)
      copy16_async(b + j * kRowGroups * kLdb, weight + (first_row + j * kRowGroups) * g.k_total + k, true);
  } else {
#pragma unroll
    for (int i = 0; i < kRowsPerThread; ++i) copy16_async(a + i * kRowGroups * kLda, x, false);
#pragma unroll
    for (int j = 0; j < C_OUT / kRowGroups; ++j) copy16_async(b + j * kRowGroups * kLdb, x, false);
  }
}

using FragA = wmma::fragment<wmma::matrix_a, 16, 16, 8, wmma::precision::tf32, wmma::row_major>;
using FragB = wmma::fragment<wmma::matrix_b, 16, 16, 8, wmma::precision::tf32, wmma::col_major>;
using FragC = wmma::fragment<wmma::accumulator, 16, 16, 8, float>;

// Fragments loaded from fp32 memory hold raw fp32 bits; the tensor cores would truncate them.
// PTX leaves the low 13 bits of cvt.rna.tf32.f32's result implementation-defined: clear them, so
// that the value used as a float (v - hi below) is the TF32 number the tensor cores multiply.
__device__ __forceinline__ float tf32_value(float v) {
  return __uint_as_float(__float_as_uint(wmma::__float_to_tf32(v)) & 0xffffe000u);
}

template <class Frag>
__device__ __forceinline__ void round_to_tf32(Frag& f) {
#pragma unroll
  for (int t = 0; t < f.num_elements; ++t) f.x[t] = tf32_value(f.x[t]);
}

// hi = tf32(v), lo = tf32(v - hi); v - hi is exact in fp32 (hi is v with its low 13 mantissa bits
// rounded away). An infinite v gives lo = Inf - Inf = NaN: 3xTF32 is for finite activations.
template <class Frag>
__device__ __forceinline__ void split_tf32(Frag& hi, Frag& lo) {
#pragma unroll
  for (int t = 0; t < hi.num_elements; ++t) {
    const float v = hi.x[t];
    const float rounded = tf32_value(v);
    hi.x[t] = rounded;
    lo.x[t] = tf32_value(v - rounded);
  }
}

// One 8-wide k step of a warp: acc[j] += A[16 rows][8] * B[8][16 channels of block j].
// a: the warp's first row at this step's k; b: channel 0 at this step's k.
template <int C_OUT, TcSplit SPLIT>
__device__ __forceinline__ void mma_step(FragC (&acc)[TcTile<C_OUT>::kFrags], const float* a, const float* b) {
  FragA a_hi;
  wmma::load_matrix_sync(a_hi, a, kLda);
  if constexpr (SPLIT == TcSplit::One) {
    round_to_tf32(a_hi);
#pragma unroll
    for (int j = 0; j < TcTile<C_OUT>::kFrags; ++j) {
      FragB b_frag;
      wmma::load_matrix_sync(b_frag, b + j * 16 * kLdb, kLdb);
      round_to_tf32(b_frag);
      wmma::mma_sync(acc[j], a_hi, b_frag, acc[j]);
    }
  } else {
    FragA a_lo;
    split_tf32(a_hi, a_lo);
#pragma unroll
    for (int j = 0; j < TcTile<C_OUT>::kFrags; ++j) {
      FragB b_hi, b_lo;
      wmma::load_matrix_sync(b_hi, b + j * 16 * kLdb, kLdb);
      split_tf32(b_hi, b_lo);
      // The small products first: they reach the accumulator before the large hi*hi term.
      wmma::mma_sync(acc[j], a_lo, b_hi, acc[j]);
      wmma::mma_sync(acc[j], a_hi, b_lo, acc[j]);
      wmma::mma_sync(acc[j], a_hi, b_hi, acc[j]);
    }
  }
}

template <int C_OUT, TcSplit SPLIT>
__global__ void __launch_bounds__(kThreads)
    conv2d_tc_kernel(const TcGeometry g, const float* __restrict__ x, const float* __restrict__ weight,
                     const float* __restrict__ bias, float* __restrict__ y) {
  using Tile = TcTile<C_OUT>;
  __shared__ __align__(128) float shared[Tile::kSharedFloats];
  const int tid = static_cast<int>(threadIdx.x);
  const int warp = tid / 32;
  const int row0 = static_cast<int>(blockIdx.x) * kRows;  // < pixels <= INT_MAX - kRows
  const int quad = tid % kQuads;
  const int first_row = tid / kQuads;
  TcRow rows[kRowsPerThread];
#pragma unroll
  for (int i = 0; i < kRowsPerThread; ++i) rows[i] = tc_row(g, row0 + first_row + i * kRowGroups);

  FragC acc[Tile::kFrags];
#pragma unroll
  for (int j = 0; j < Tile::kFrags; ++j) wmma::fill_fragment(acc[j], 0.0f);

  // Two-stage pipeline: one commit group per chunk (an empty one after the last), so "all but the
  // newest group done" always means "chunk c has landed".
  const int chunks = (g.k_total + kChunk - 1) / kChunk;
  stage_chunk<C_OUT>(g, x, weight, rows, first_row, quad, 0, shared);
  commit_copies();
  for (int c = 0; c < chunks; ++c) {
    if (c + 1 < chunks)
      stage_chunk<C_OUT>(g, x, weight, rows, first_row, quad, (c + 1) * kChunk,
                         shared + ((c + 1) % kStages) * Tile::kStageFloats);
    commit_copies();
    wait_all_but_newest();
    __syncthreads();  // every thread's copies of chunk c are visible
    const float* stage = shared + (c % kStages) * Tile::kStageFloats;
    const float* a = stage + warp * 16 * kLda;
    const float* b = stage + kRows * kLda;
    const int steps = min(kChunk, g.k_total - c * kChunk) / 8;  // k_total % 8 == 0
#pragma unroll
    for (int s = 0; s < kChunk / 8; ++s)
      if (s < steps) mma_step<C_OUT, SPLIT>(acc, a + 8 * s, b + 8 * s);
    __syncthreads();  // chunk c's buffer is refilled by the next iteration's copies
  }

  // Epilogue. The loop's last barrier ended every read of the stages and the last commit group is
  // empty, so no copy is still writing into them.
  float* tile = shared;  // [kRows][kLdc]
#pragma unroll
  for (int j = 0; j < Tile::kFrags; ++j)
    wmma::store_matrix_sync(tile + warp * 16 * Tile::kLdc + j * 16, acc[j], Tile::kLdc, wmma::mem_row_major);
  __syncthreads();
  constexpr int kQuadsPerRow = C_OUT / 4;
  for (int e = tid; e < kRows * kQuadsPerRow; e += kThreads) {
    const int r = e / kQuadsPerRow;
    const int q = e - r * kQuadsPerRow;
    const int m = row0 + r;
    if (m >= g.pixels) break;  // e grows with r: every later element is past the end too
    float4 v = *reinterpret_cast<const float4*>(tile + r * Tile::kLdc + 4 * q);
    if (bias != nullptr) {
      v.x = __fadd_rn(v.x, bias[4 * q]);
      v.y = __fadd_rn(v.y, bias[4 * q + 1]);
      v.z = __fadd_rn(v.z, bias[4 * q + 2]);
      v.w = __fadd_rn(v.w, bias[4 * q + 3]);
    }
    *reinterpret_cast<float4*>(y + static_cast<int64_t>(m) * C_OUT + 4 * q) = v;
  }
}

template <int C_OUT>
void launch(const TcGeometry& g, TcSplit split, const float* x, const float* w, const float* bias, float* y,
            cudaStream_t stream) {
  const unsigned blocks = static_cast<unsigned>((static_cast<int64_t>(g.pixels) + kRows - 1) / kRows);
  if (split == TcSplit::One) {
    conv2d_tc_kernel<C_OUT, TcSplit::One><<<blocks, kThreads, 0, stream>>>(g, x, w, bias, y);
    NASWOT_CHECK_LAUNCH(conv2d_tc_kernel, stream);
  } else {
    conv2d_tc_kernel<C_OUT, TcSplit::Three><<<blocks, kThreads, 0, stream>>>(g, x, w, bias, y);
    NASWOT_CHECK_LAUNCH(conv2d_tc_kernel, stream);
  }
}

// a * b for non-negative factors, or INT64_MAX once either exceeds INT_MAX (chains stay exact
// up to the point where the answer is "too big" anyway).
int64_t product_or_huge(int64_t a, int64_t b) { return a > INT_MAX || b > INT_MAX ? INT64_MAX : a * b; }

}  // namespace

bool conv2d_tc_supports(const cpu::Conv2dShape& s) {
  const bool c_out_ok = s.c_out == 16 || s.c_out == 32 || s.c_out == 48 || s.c_out == 64;
  if (!c_out_ok || s.groups != 1 || s.c_in < 8 || s.c_in % 8 != 0) return false;
  if (s.n < 1 || s.h < 1 || s.w < 1 || s.kernel_h < 1 || s.kernel_w < 1 || s.stride_h < 1 || s.stride_w < 1 ||
      s.pad_h < 0 || s.pad_w < 0 || s.dilation_h < 1 || s.dilation_w < 1)
    return false;
  // In 64 bits before anything is computed in int (Conv2dShape::out_h could overflow).
  constexpr int64_t kExtentLimit = int64_t{1} << 30;  // keeps kTcDeadRow below every tap
  const int64_t padded_h = int64_t{s.h} + 2 * int64_t{s.pad_h};
  const int64_t padded_w = int64_t{s.w} + 2 * int64_t{s.pad_w};
  if (padded_h >= kExtentLimit || padded_w >= kExtentLimit) return false;
  const int64_t span_h = int64_t{s.dilation_h} * (s.kernel_h - 1) + 1;
  const int64_t span_w = int64_t{s.dilation_w} * (s.kernel_w - 1) + 1;
  if (span_h > padded_h || span_w > padded_w) return false;  // no output pixel
  const int64_t out_h = (padded_h - span_h) / s.stride_h + 1;
  const int64_t out_w = (padded_w - span_w) / s.stride_w + 1;
  const int64_t pixels = product_or_huge(product_or_huge(s.n, out_h), out_w);
  const int64_t image = product_or_huge(product_or_huge(s.h, s.w), s.c_in);
  const int64_t weights = product_or_huge(product_or_huge(product_or_huge(s.kernel_h, s.kernel_w), s.c_in), s.c_out);
  return pixels >= 1 && pixels <= INT_MAX - kRows && image <= INT_MAX && weights <= INT_MAX;
}

void conv2d_tc(const cpu::Conv2dShape& s, TcSplit split, const float* x, const float* weight_ohwi, const float* bias,
               float* y, cudaStream_t stream) {
  NASWOT_EXPECT(conv2d_tc_supports(s), BadInput,
                "cuda::conv2d_tc: unsupported shape "
                    << s.n << "x" << s.h << "x" << s.w << "x" << s.c_in << " -> " << s.c_out << " kernel " << s.kernel_h
                    << "x" << s.kernel_w << " stride " << s.stride_h << "x" << s.stride_w << " pad " << s.pad_h << "x"
                    << s.pad_w << " dilation " << s.dilation_h << "x" << s.dilation_w << " groups " << s.groups
                    << " (expected groups 1, c_in a multiple of 8, c_out 16/32/48/64, "
                       "an output pixel and 32-bit indexing)");
  NASWOT_EXPECT(x != nullptr && weight_ohwi != nullptr && y != nullptr, BadInput,
                "cuda::conv2d_tc: x, weight and y expected non-null");
  NASWOT_EXPECT(reinterpret_cast<uintptr_t>(x) % 16 == 0 && reinterpret_cast<uintptr_t>(weight_ohwi) % 16 == 0 &&
                    reinterpret_cast<uintptr_t>(y) % 16 == 0,
                BadInput, "cuda::conv2d_tc: x, weight and y expected 16-byte aligned");
  const TcGeometry g = tc_geometry(s);
  switch (s.c_out) {
    case 16:
      launch<16>(g, split, x, weight_ohwi, bias, y, stream);
      break;
    case 32:
      launch<32>(g, split, x, weight_ohwi, bias, y, stream);
      break;
    case 48:
      launch<48>(g, split, x, weight_ohwi, bias, y, stream);
      break;
    default:
      launch<64>(g, split, x, weight_ohwi, bias, y, stream);
      break;
  }
}

}  // namespace naswot::cuda
