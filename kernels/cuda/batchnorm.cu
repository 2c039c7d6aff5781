// BatchNorm statistics and apply (see batchnorm.cuh for the numerics).
// Stats grid: blockIdx.y = a group of 32 channels (threadIdx.x = channel in the group, so a warp
// reads 32 consecutive floats of one row), blockIdx.x * 8 + threadIdx.y strides over rows.
// Scratch layout: kTicketBytes of tickets (one unsigned per channel group) FIRST, at a fixed offset,
// then double s1[blocks_x][channels], double s2[blocks_x][channels]. The tickets must not move with
// the shape: one scratch serves every BatchNorm of a network, each call leaves its tickets at zero
// for the next, and a ticket placed after shape-dependent partials would land on an earlier call's
// partial sums (found on the H200: stats never completed from the first reduction block on).
// The block sums and the finalization are detail::bn_stats_block_sums / bn_stats_finalize
// (batchnorm.cuh), shared with batchnorm_stats_segments (segments.cu).
#include <algorithm>

#include "kernels/cuda/batchnorm.cuh"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/device_info.cuh"

namespace naswot::cuda {
namespace {

constexpr int kGroup = detail::kBnGroup;            // channels per block (blockDim.x)
constexpr int kRowThreads = detail::kBnRowThreads;  // blockDim.y
constexpr int kMinRowsPerThread = 16;
constexpr int kMaxBlocksX = 256;
constexpr int kApplyThreads = 256;
constexpr int kMaxGroups = 1024;  // 32,768 channels
constexpr size_t kTicketBytes = kMaxGroups * sizeof(unsigned);

int stats_blocks_x(int64_t rows) {
  const int64_t wanted = (rows + kRowThreads * kMinRowsPerThread - 1) / (kRowThreads * kMinRowsPerThread);
  return static_cast<int>(std::clamp<int64_t>(wanted, 1, kMaxBlocksX));
}

size_t align256(size_t bytes) { return (bytes + 255) / 256 * 256; }

__global__ void batchnorm_stats_kernel(const float* __restrict__ x, int64_t rows, int channels, float eps,
                                       float* __restrict__ mean, float* __restrict__ var, float* __restrict__ invstd,
                                       double* s1_part, double* s2_part, unsigned* tickets) {
  const int c = static_cast<int>(blockIdx.y) * kGroup + static_cast<int>(threadIdx.x);
  const bool valid = c < channels;
  const double shift = valid ? static_cast<double>(x[c]) : 0.0;
  double block_s1 = 0.0, block_s2 = 0.0;
  detail::bn_stats_block_sums(x, rows, channels, c, valid, shift, blockIdx.x, gridDim.x, &block_s1, &block_s2);
  if (threadIdx.y == 0 && valid) {
    s1_part[static_cast<int64_t>(blockIdx.x) * channels + c] = block_s1;
    s2_part[static_cast<int64_t>(blockIdx.x) * channels + c] = block_s2;
  }
  // Make this block's partials visible device-wide before taking a ticket.
  __threadfence();
  __shared__ bool is_last;
  __syncthreads();
  if (threadIdx.x == 0 && threadIdx.y == 0) is_last = atomicAdd(tickets + blockIdx.y, 1u) == gridDim.x - 1;
  __syncthreads();
  if (!is_last) return;

  if (threadIdx.y == 0 && valid) {
    double a = 0.0, b = 0.0;
    for (unsigned bx = 0; bx < gridDim.x; ++bx) {  // fixed block order: deterministic
      a += __ldcg(s1_part + static_cast<int64_t>(bx) * channels + c);
      b += __ldcg(s2_part + static_cast<int64_t>(bx) * channels + c);
    }
    detail::bn_stats_finalize(a, b, rows, shift, eps, c, mean, var, invstd);
  }
  if (threadIdx.x == 0 && threadIdx.y == 0) tickets[blockIdx.y] = 0u;  // ready for the next call
}

__global__ void batchnorm_apply_kernel(const float* __restrict__ x, int64_t count, int channels,
                                       const float* __restrict__ mean, const float* __restrict__ var,
                                       const float* __restrict__ gamma, const float* __restrict__ beta, float eps,
                                       float* __restrict__ y) {
  for (int64_t e = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < count;
       e += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int c = static_cast<int>(e % channels);
    // ((x - mean) * invstd) * gamma + beta, each step rounded: no FMA, as on the CPU.
    float t = __fmul_rn(__fsub_rn(x[e], mean[c]), detail::bn_invstd_of(var[c], eps));
    t = __fadd_rn(__fmul_rn(t, gamma[c]), beta[c]);
    y[e] = t;
  }
}

void check_shape(const char* who, const float* x, int64_t rows, int channels) {
  NASWOT_EXPECT(rows >= 1 && channels >= 1, BadInput,
                who << ": rows and channels expected >= 1, got rows=" << rows << " channels=" << channels);
  NASWOT_EXPECT(x != nullptr, BadInput, who << ": x expected non-null");
}

}  // namespace

size_t batchnorm_stats_scratch_bytes(int64_t rows, int channels) {
  const size_t bx = static_cast<size_t>(stats_blocks_x(rows));
  const size_t groups = static_cast<size_t>((channels + kGroup - 1) / kGroup);
  (void)groups;
  return kTicketBytes + 2 * align256(bx * static_cast<size_t>(channels) * sizeof(double));
}

void batchnorm_stats_invstd(const float* x, int64_t rows, int channels, float eps, float* mean, float* var,
                            float* invstd, void* scratch, cudaStream_t stream) {
  check_shape("cuda::batchnorm_stats", x, rows, channels);
  NASWOT_EXPECT(mean != nullptr && var != nullptr && scratch != nullptr, BadInput,
                "cuda::batchnorm_stats: mean, var and scratch expected non-null");
  const int bx = stats_blocks_x(rows);
  const int groups = (channels + kGroup - 1) / kGroup;
  NASWOT_EXPECT(groups <= kMaxGroups, BadInput, "cuda::batchnorm_stats: channels=" << channels << " too many");
  auto* base = static_cast<unsigned char*>(scratch);
  const size_t part_bytes = align256(static_cast<size_t>(bx) * static_cast<size_t>(channels) * sizeof(double));
  auto* tickets = reinterpret_cast<unsigned*>(base);
  auto* s1 = reinterpret_cast<double*>(base + kTicketBytes);
  auto* s2 = reinterpret_cast<double*>(base + kTicketBytes + part_bytes);
  const dim3 grid(static_cast<unsigned>(bx), static_cast<unsigned>(groups));
  const dim3 block(kGroup, kRowThreads);
  batchnorm_stats_kernel<<<grid, block, 0, stream>>>(x, rows, channels, eps, mean, var, invstd, s1, s2, tickets);
  NASWOT_CHECK_LAUNCH(batchnorm_stats_kernel, stream);
}

void batchnorm_stats(const float* x, int64_t rows, int channels, float* mean, float* var, void* scratch,
                     cudaStream_t stream) {
  batchnorm_stats_invstd(x, rows, channels, 0.0f, mean, var, nullptr, scratch, stream);
}

void batchnorm_apply(const float* x, int64_t rows, int channels, const float* mean, const float* var,
                     const float* gamma, const float* beta, float eps, float* y, cudaStream_t stream) {
  check_shape("cuda::batchnorm_apply", x, rows, channels);
  NASWOT_EXPECT(mean != nullptr && var != nullptr && gamma != nullptr && beta != nullptr && y != nullptr, BadInput,
                "cuda::batchnorm_apply: mean, var, gamma, beta and y expected non-null");
  NASWOT_EXPECT(eps >= 0.0f, BadInput, "cuda::batchnorm_apply: eps expected >= 0, got " << eps);
  const int64_t count = rows * channels;
  const int64_t blocks = std::min<int64_t>((count + kApplyThreads - 1) / kApplyThreads, 65535 * 16);
  batchnorm_apply_kernel<<<static_cast<unsigned>(blocks), kApplyThreads, 0, stream>>>(x, count, channels, mean, var,
                                                                                     gamma, beta, eps, y);
  NASWOT_CHECK_LAUNCH(batchnorm_apply_kernel, stream);
}

}  // namespace naswot::cuda
