// naswot's own fp32 convolution for the small NHWC shapes of cell-based spaces (CUDA twin of
// kernels/cpu/conv2d.h's conv2d_reference, within fp32 rounding like cuDNN): C_in a multiple of
// 4, C_out in {16, 32, 64}, groups 1, any kernel size, stride, padding and dilation.
// Why: on an H200 cuDNN's fp32 algorithms reach only 8-13 TFLOP/s on NB-201's 16-64-channel
// shapes (bench/results/gpu_check_2026-12-04.md), and convolutions are half of the device time.
// How: a thread owns TM output pixels x all C_out channels (TM x C_out = 64 accumulators in
// registers); per kernel tap the block stages that tap's C_in x C_out weights in shared memory
// (read as broadcasts), and each thread reads its pixels' inputs 4 channels at a time (float4,
// neighbouring threads' windows overlap in L1). Every input value feeds C_out FMAs, every weight
// read feeds TM pixels. Accumulation order per output: kernel row, kernel column, input channel
// (conv2d_direct's order), float FMA, then + bias.
// Status: its twin and plan-path tests passed on an H200 (2026-12-04, session 7). There it ran
// 3x3 16->16 @32 at n = 4096 in 0.90 ms against cuDNN fp32's 1.92, but 3x3 64 @8 in 1.01 against 0.84.
// So it competes in the timed conv choice by default (runtime/cuda/conv_plan.h; NASWOT_CONV_OWN=0
// leaves cuDNN alone), and wins where it is faster.
#pragma once
#include <cuda_runtime.h>

#include "kernels/cpu/conv2d.h"

namespace naswot::cuda {

// Whether conv2d_tiled handles shape s.
bool conv2d_tiled_supports(const cpu::Conv2dShape& s);

// x: [n, h, w, c_in]; weight_ohwi: [c_out, kh, kw, c_in]; bias: [c_out] or nullptr;
// y: [n, out_h, out_w, c_out]. x must be 16-byte aligned (c_in % 4 == 0 keeps every pixel so).
void conv2d_tiled(const cpu::Conv2dShape& s, const float* x, const float* weight_ohwi, const float* bias, float* y,
                  cudaStream_t stream);

}  // namespace naswot::cuda
