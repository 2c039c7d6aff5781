// CUDA twin of kernels/cpu/conv2d.h: 2-D convolution through cuDNN, FP32 with FMA math only (no
// TF32: scores must match the CPU within 1e-6 relative).
// Layouts: activations NHWC (CUDNN_TENSOR_NHWC), filters KRSC = PyTorch's OIHW reordered to
// [out][kh][kw][in/groups] (cuDNN's NHWC filter format; the backend reorders on the host while it
// stages parameters, see conv2d_weight_oihw_to_ohwi). Bias, when present, is added by a small
// kernel after cuDNN.
// The cuDNN descriptors and the algorithm are chosen once per shape and cached by the runtime
// (runtime/cuda/conv_plan.h owns them); conv2d receives raw views of them. A plan marked `direct`
// runs naswot's own direct convolution instead (conv2d_direct): the fallback for a shape cuDNN
// has no admissible algorithm for, or forced with NASWOT_CONV_DIRECT=1 to rule cuDNN out.
#pragma once
#include <cuda_runtime.h>
#include <cudnn.h>

#include <cstddef>
#include <cstdint>

#include "kernels/cpu/conv2d.h"

namespace naswot::cuda {

using cpu::Conv2dShape;

// Which kernel a plan runs: cuDNN (the descriptors below), or one of naswot's own.
enum class ConvKernel : uint8_t {
  Cudnn,
  Tiled,     // conv2d_tiled (conv2d_tiled.cuh): fp32 FMA, register-tiled
  TcTf32,    // conv2d_tc (conv2d_tc.cuh), TcSplit::One: TF32 tensor cores (`--precision tf32` class)
  Tc3xTf32,  // conv2d_tc, TcSplit::Three: 3xTF32 tensor-core products (`--precision 3xtf32`)
};
const char* to_string(ConvKernel kernel);

struct Conv2dLaunch {  // non-owning views of a cached plan
  cudnnHandle_t handle = nullptr;
  cudnnTensorDescriptor_t x_desc = nullptr;
  cudnnFilterDescriptor_t w_desc = nullptr;
  cudnnConvolutionDescriptor_t conv_desc = nullptr;
  cudnnTensorDescriptor_t y_desc = nullptr;
  cudnnConvolutionFwdAlgo_t algo = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM;
  size_t workspace_bytes = 0;
  bool direct = false;  // run conv2d_direct; the cuDNN fields are unused
  ConvKernel kernel = ConvKernel::Cudnn;  // not Cudnn: naswot's own kernel; the cuDNN fields are unused
};

// x: [n, h, w, c_in]; weight_ohwi: [c_out, kh, kw, c_in/groups]; bias: [c_out] or nullptr;
// y: [n, out_h, out_w, c_out]; workspace: >= launch.workspace_bytes bytes (nullptr when 0).
void conv2d(const Conv2dLaunch& launch, const Conv2dShape& s, const float* x, const float* weight_ohwi,
            const float* bias, float* y, void* workspace, cudaStream_t stream);

// Direct convolution: one thread per output element, float FMA accumulation over kernel row,
// kernel column, input channel (in that order), then + bias. Same layouts as conv2d. Slow; exact
// enough (|error| ~ sqrt(fan_in) ulp) for the same tolerance as cuDNN.
void conv2d_direct(const Conv2dShape& s, const float* x, const float* weight_ohwi, const float* bias, float* y,
                   cudaStream_t stream);

// y[r][c] += bias[c] over rows x channels (NHWC rows). Exposed for the conv tests.
void add_channel_bias(float* y, int64_t rows, int channels, const float* bias, cudaStream_t stream);

// Host reorder used while staging parameters: OIHW -> OHWI (= KRSC), i_per_group = in/groups.
void conv2d_weight_oihw_to_ohwi(const float* oihw, int out, int i_per_group, int kh, int kw, float* ohwi);

}  // namespace naswot::cuda
