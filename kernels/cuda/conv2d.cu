// cuDNN convolution execution and the two helpers around it (see conv2d.cuh). cudnnSetStream is
// called on every execution so that the handle always follows the caller's stream (several
// streams may share one plan cache; each has its own handle).
#include <algorithm>

#include "kernels/cuda/conv2d.cuh"
#include "kernels/cuda/conv2d_tc.cuh"
#include "kernels/cuda/conv2d_tiled.cuh"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/device_info.cuh"

namespace naswot::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kMaxBlocks = 65535LL * 8;

__global__ void add_channel_bias_kernel(float* __restrict__ y, int64_t count, int channels,
                                        const float* __restrict__ bias) {
  for (int64_t e = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < count;
       e += static_cast<int64_t>(gridDim.x) * blockDim.x)
    y[e] = __fadd_rn(y[e], bias[e % channels]);
}

struct DirectGeometry {
  int h, w, c_in, c_out, kh, kw, sh, sw, ph, pw, dh, dw, groups, oh, ow;
};

__global__ void conv2d_direct_kernel(const DirectGeometry g, int64_t count, const float* __restrict__ x,
                                     const float* __restrict__ weight, const float* __restrict__ bias,
                                     float* __restrict__ y) {
  const int cig = g.c_in / g.groups, cog = g.c_out / g.groups;
  for (int64_t e = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < count;
       e += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int k = static_cast<int>(e % g.c_out);
    int64_t rest = e / g.c_out;
    const int ox = static_cast<int>(rest % g.ow);
    rest /= g.ow;
    const int oy = static_cast<int>(rest % g.oh);
    const int64_t img = rest / g.oh;
    const int c0 = (k / cog) * cig;
    const float* wk = weight + static_cast<int64_t>(k) * g.kh * g.kw * cig;
    float acc = 0.0f;
    for (int r = 0; r < g.kh; ++r) {
      const int iy = oy * g.sh - g.ph + r * g.dh;
      if (iy < 0 || iy >= g.h) continue;
      for (int q = 0; q < g.kw; ++q) {
        const int ix = ox * g.sw - g.pw + q * g.dw;
        if (ix < 0 || ix >= g.w) continue;
        const float* xp = x + ((img * g.h + iy) * g.w + ix) * g.c_in + c0;
        const float* wp = wk + (static_cast<int64_t>(r) * g.kw + q) * cig;
        for (int c = 0; c < cig; ++c) acc = fmaf(xp[c], wp[c], acc);
      }
    }
    y[e] = bias != nullptr ? acc + bias[k] : acc;
  }
}

}  // namespace

void conv2d_direct(const Conv2dShape& s, const float* x, const float* weight_ohwi, const float* bias, float* y,
                   cudaStream_t stream) {
  NASWOT_EXPECT(s.n >= 1 && s.h >= 1 && s.w >= 1 && s.c_in >= 1 && s.c_out >= 1 && s.groups >= 1 &&
                    s.c_in % s.groups == 0 && s.c_out % s.groups == 0 && s.out_h() >= 1 && s.out_w() >= 1,
                BadInput, "cuda::conv2d_direct: invalid shape");
  NASWOT_EXPECT(x != nullptr && weight_ohwi != nullptr && y != nullptr, BadInput,
                "cuda::conv2d_direct: x, weight and y expected non-null");
  const DirectGeometry g{s.h,        s.w,        s.c_in,     s.c_out,    s.kernel_h,   s.kernel_w, s.stride_h, s.stride_w,
                         s.pad_h,    s.pad_w,    s.dilation_h, s.dilation_w, s.groups, s.out_h(),  s.out_w()};
  const int64_t count = static_cast<int64_t>(s.n) * g.oh * g.ow * g.c_out;
  const auto blocks = static_cast<unsigned>(std::clamp<int64_t>((count + kThreads - 1) / kThreads, 1, kMaxBlocks));
  conv2d_direct_kernel<<<blocks, kThreads, 0, stream>>>(g, count, x, weight_ohwi, bias, y);
  NASWOT_CHECK_LAUNCH(conv2d_direct_kernel, stream);
}

void add_channel_bias(float* y, int64_t rows, int channels, const float* bias, cudaStream_t stream) {
  NASWOT_EXPECT(rows >= 1 && channels >= 1, BadInput,
                "cuda::add_channel_bias: rows and channels expected >= 1, got " << rows << ", " << channels);
  NASWOT_EXPECT(y != nullptr && bias != nullptr, BadInput, "cuda::add_channel_bias: y and bias expected non-null");
  const int64_t count = rows * channels;
  const auto blocks = static_cast<unsigned>(std::clamp<int64_t>((count + kThreads - 1) / kThreads, 1, kMaxBlocks));
  add_channel_bias_kernel<<<blocks, kThreads, 0, stream>>>(y, count, channels, bias);
  NASWOT_CHECK_LAUNCH(add_channel_bias_kernel, stream);
}

const char* to_string(ConvKernel kernel) {
  switch (kernel) {
    case ConvKernel::Cudnn:
      return "cudnn";
    case ConvKernel::Tiled:
      return "naswot conv2d_tiled";
    case ConvKernel::TcTf32:
      return "naswot conv2d_tc tf32";
    case ConvKernel::Tc3xTf32:
      return "naswot conv2d_tc 3xtf32";
  }
  return "?";
}

void conv2d(const Conv2dLaunch& launch, const Conv2dShape& s, const float* x, const float* weight_ohwi,
            const float* bias, float* y, void* workspace, cudaStream_t stream) {
  if (launch.direct) {
    conv2d_direct(s, x, weight_ohwi, bias, y, stream);
    return;
  }
  switch (launch.kernel) {
    case ConvKernel::Cudnn:
      break;
    case ConvKernel::Tiled:
      conv2d_tiled(s, x, weight_ohwi, bias, y, stream);
      return;
    case ConvKernel::TcTf32:
      conv2d_tc(s, TcSplit::One, x, weight_ohwi, bias, y, stream);
      return;
    case ConvKernel::Tc3xTf32:
      conv2d_tc(s, TcSplit::Three, x, weight_ohwi, bias, y, stream);
      return;
  }
  NASWOT_EXPECT(launch.handle != nullptr && launch.x_desc != nullptr && launch.w_desc != nullptr &&
                    launch.conv_desc != nullptr && launch.y_desc != nullptr,
                Internal, "cuda::conv2d: incomplete cuDNN plan");
  NASWOT_EXPECT(x != nullptr && weight_ohwi != nullptr && y != nullptr, BadInput,
                "cuda::conv2d: x, weight and y expected non-null");
  NASWOT_EXPECT(launch.workspace_bytes == 0 || workspace != nullptr, Internal,
                "cuda::conv2d: plan needs " << launch.workspace_bytes << " bytes of workspace, none given");
  NASWOT_CHECK_CUDNN(cudnnSetStream(launch.handle, stream));
  const float alpha = 1.0f, beta = 0.0f;
  NASWOT_CHECK_CUDNN(cudnnConvolutionForward(launch.handle, &alpha, launch.x_desc, x, launch.w_desc, weight_ohwi,
                                             launch.conv_desc, launch.algo, workspace, launch.workspace_bytes, &beta,
                                             launch.y_desc, y));
#ifdef NASWOT_SYNC_CHECKS
  NASWOT_CHECK_CUDA(cudaStreamSynchronize(stream));
#endif
  if (bias != nullptr) {
    const int64_t rows = static_cast<int64_t>(s.n) * s.out_h() * s.out_w();
    add_channel_bias(y, rows, s.c_out, bias, stream);
  }
}

void conv2d_weight_oihw_to_ohwi(const float* oihw, int out, int i_per_group, int kh, int kw, float* ohwi) {
  NASWOT_EXPECT(oihw != nullptr && ohwi != nullptr, BadInput, "conv2d_weight_oihw_to_ohwi: null pointer");
  for (int o = 0; o < out; ++o)
    for (int i = 0; i < i_per_group; ++i)
      for (int r = 0; r < kh; ++r)
        for (int q = 0; q < kw; ++q)
          ohwi[((static_cast<int64_t>(o) * kh + r) * kw + q) * i_per_group + i] =
              oihw[((static_cast<int64_t>(o) * i_per_group + i) * kh + r) * kw + q];
}

}  // namespace naswot::cuda
