// cuDNN convolution execution and the two helpers around it (see conv2d.cuh). cudnnSetStream is
// called on every execution so that the handle always follows the caller's stream (several
// streams may share one plan cache; each has its own handle).
#include <algorithm>

#include "kernels/cuda/conv2d.cuh"
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

}  // namespace

void add_channel_bias(float* y, int64_t rows, int channels, const float* bias, cudaStream_t stream) {
  NASWOT_EXPECT(rows >= 1 && channels >= 1, BadInput,
                "cuda::add_channel_bias: rows and channels expected >= 1, got " << rows << ", " << channels);
  NASWOT_EXPECT(y != nullptr && bias != nullptr, BadInput, "cuda::add_channel_bias: y and bias expected non-null");
  const int64_t count = rows * channels;
  const auto blocks = static_cast<unsigned>(std::clamp<int64_t>((count + kThreads - 1) / kThreads, 1, kMaxBlocks));
  add_channel_bias_kernel<<<blocks, kThreads, 0, stream>>>(y, count, channels, bias);
  NASWOT_CHECK_LAUNCH(add_channel_bias_kernel, stream);
}

void conv2d(const Conv2dLaunch& launch, const Conv2dShape& s, const float* x, const float* weight_ohwi,
            const float* bias, float* y, void* workspace, cudaStream_t stream) {
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
