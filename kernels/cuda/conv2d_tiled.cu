// naswot's register-tiled fp32 convolution (see conv2d_tiled.cuh).
#include <climits>

#include "kernels/cuda/conv2d_tiled.cuh"
#include "kernels/cuda/cuda_check.h"

namespace naswot::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kAccumulators = 64;      // per thread: TM pixels x K channels
constexpr int kMaxStagedWeights = 4096;  // one tap's C_in x C_out floats in shared memory (16 KB)

struct TiledGeometry {
  int h, w, c, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow;
};

// K output channels; TM = kAccumulators / K pixels per thread, pixel i of thread t in block b is
// b * (kThreads * TM) + i * kThreads + t (a warp's pixels are consecutive).
template <int K>
__global__ void __launch_bounds__(kThreads, 2) conv2d_tiled_kernel(const TiledGeometry g, int pixels,
                                                                 const float* __restrict__ x,
                                                                 const float* __restrict__ weight,
                                                                 const float* __restrict__ bias,
                                                                 float* __restrict__ y) {
  constexpr int TM = kAccumulators / K;
  __shared__ __align__(16) float ws[kMaxStagedWeights];  // [c][k] of the current tap
  const int tid = static_cast<int>(threadIdx.x);
  const int base = static_cast<int>(blockIdx.x) * (kThreads * TM);
  int img[TM], oy[TM], ox[TM];
  bool live[TM];
#pragma unroll
  for (int i = 0; i < TM; ++i) {
    const int m = base + i * kThreads + tid;
    live[i] = m < pixels;
    const int mm = live[i] ? m : 0;
    const int per_image = g.oh * g.ow;
    img[i] = mm / per_image;
    const int rest = mm - img[i] * per_image;
    oy[i] = rest / g.ow;
    ox[i] = rest - oy[i] * g.ow;
  }
  float acc[TM][K];
#pragma unroll
  for (int i = 0; i < TM; ++i)
#pragma unroll
    for (int k = 0; k < K; ++k) acc[i][k] = 0.0f;

  for (int r = 0; r < g.kh; ++r) {
    for (int q = 0; q < g.kw; ++q) {
      __syncthreads();  // the previous tap's weights are no longer read
      // ws[c * K + k] = weight[k][r][q][c]: consecutive threads write consecutive words (no bank
      // conflicts); the strided global reads are one tap of a small filter, from L2.
      for (int e = tid; e < g.c * K; e += kThreads) {
        const int c = e / K, k = e - c * K;
        ws[e] = weight[((static_cast<int64_t>(k) * g.kh + r) * g.kw + q) * g.c + c];
      }
      __syncthreads();
      const float4* in[TM];
#pragma unroll
      for (int i = 0; i < TM; ++i) {
        const int iy = oy[i] * g.sh - g.ph + r * g.dh;
        const int ix = ox[i] * g.sw - g.pw + q * g.dw;
        const bool inside = live[i] && iy >= 0 && iy < g.h && ix >= 0 && ix < g.w;
        in[i] = inside ? reinterpret_cast<const float4*>(
                             x + ((static_cast<int64_t>(img[i]) * g.h + iy) * g.w + ix) * g.c)
                       : nullptr;
      }
      for (int c0 = 0; c0 < g.c; c0 += 4) {
        float4 xv[TM];
#pragma unroll
        for (int i = 0; i < TM; ++i) xv[i] = in[i] != nullptr ? __ldg(in[i] + c0 / 4) : make_float4(0.f, 0.f, 0.f, 0.f);
#pragma unroll
        for (int cc = 0; cc < 4; ++cc) {
          const float4* wrow = reinterpret_cast<const float4*>(ws + (c0 + cc) * K);
#pragma unroll
          for (int k4 = 0; k4 < K / 4; ++k4) {
            const float4 wv = wrow[k4];  // the same address across the block: a broadcast
#pragma unroll
            for (int i = 0; i < TM; ++i) {
              const float xc = cc == 0 ? xv[i].x : cc == 1 ? xv[i].y : cc == 2 ? xv[i].z : xv[i].w;
              acc[i][4 * k4 + 0] = fmaf(xc, wv.x, acc[i][4 * k4 + 0]);
              acc[i][4 * k4 + 1] = fmaf(xc, wv.y, acc[i][4 * k4 + 1]);
              acc[i][4 * k4 + 2] = fmaf(xc, wv.z, acc[i][4 * k4 + 2]);
              acc[i][4 * k4 + 3] = fmaf(xc, wv.w, acc[i][4 * k4 + 3]);
            }
          }
        }
      }
    }
  }
#pragma unroll
  for (int i = 0; i < TM; ++i) {
    if (!live[i]) continue;
    float4* out = reinterpret_cast<float4*>(y + static_cast<int64_t>(base + i * kThreads + tid) * K);
#pragma unroll
    for (int k4 = 0; k4 < K / 4; ++k4) {
      float4 v = make_float4(acc[i][4 * k4], acc[i][4 * k4 + 1], acc[i][4 * k4 + 2], acc[i][4 * k4 + 3]);
      if (bias != nullptr) {
        v.x = __fadd_rn(v.x, bias[4 * k4]);
        v.y = __fadd_rn(v.y, bias[4 * k4 + 1]);
        v.z = __fadd_rn(v.z, bias[4 * k4 + 2]);
        v.w = __fadd_rn(v.w, bias[4 * k4 + 3]);
      }
      out[k4] = v;
    }
  }
}

template <int K>
void launch(const TiledGeometry& g, int pixels, const float* x, const float* w, const float* bias, float* y,
            cudaStream_t stream) {
  constexpr int per_block = kThreads * (kAccumulators / K);
  const unsigned blocks = static_cast<unsigned>((pixels + per_block - 1) / per_block);
  conv2d_tiled_kernel<K><<<blocks, kThreads, 0, stream>>>(g, pixels, x, w, bias, y);
  NASWOT_CHECK_LAUNCH(conv2d_tiled_kernel, stream);
}

}  // namespace

bool conv2d_tiled_supports(const cpu::Conv2dShape& s) {
  const bool k_ok = s.c_out == 16 || s.c_out == 32 || s.c_out == 64;
  return k_ok && s.groups == 1 && s.c_in >= 4 && s.c_in % 4 == 0 && s.c_in * s.c_out <= kMaxStagedWeights &&
         s.n >= 1 && s.h >= 1 && s.w >= 1 && s.kernel_h >= 1 && s.kernel_w >= 1 && s.stride_h >= 1 &&
         s.stride_w >= 1 && s.dilation_h >= 1 && s.dilation_w >= 1 && s.out_h() >= 1 && s.out_w() >= 1 &&
         static_cast<int64_t>(s.n) * s.out_h() * s.out_w() <= INT_MAX - kThreads * kAccumulators;
}

void conv2d_tiled(const cpu::Conv2dShape& s, const float* x, const float* weight_ohwi, const float* bias, float* y,
                  cudaStream_t stream) {
  NASWOT_EXPECT(conv2d_tiled_supports(s), BadInput,
                "cuda::conv2d_tiled: unsupported shape (expected groups 1, c_in a multiple of 4, c_out 16/32/64, "
                "c_in * c_out <= "
                    << kMaxStagedWeights << "), got c_in=" << s.c_in << " c_out=" << s.c_out << " groups=" << s.groups);
  NASWOT_EXPECT(x != nullptr && weight_ohwi != nullptr && y != nullptr, BadInput,
                "cuda::conv2d_tiled: x, weight and y expected non-null");
  NASWOT_EXPECT(reinterpret_cast<uintptr_t>(x) % 16 == 0 && reinterpret_cast<uintptr_t>(y) % 16 == 0, BadInput,
                "cuda::conv2d_tiled: x and y expected 16-byte aligned");
  const TiledGeometry g{s.h,        s.w,        s.c_in,  s.kernel_h, s.kernel_w, s.stride_h, s.stride_w,
                        s.pad_h,    s.pad_w,    s.dilation_h, s.dilation_w, s.out_h(), s.out_w()};
  const int pixels = s.n * s.out_h() * s.out_w();
  switch (s.c_out) {
    case 16: launch<16>(g, pixels, x, weight_ohwi, bias, y, stream); break;
    case 32: launch<32>(g, pixels, x, weight_ohwi, bias, y, stream); break;
    default: launch<64>(g, pixels, x, weight_ohwi, bias, y, stream); break;
  }
}

}  // namespace naswot::cuda
