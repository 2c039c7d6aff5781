// naswot's tensor-core convolution for the small NHWC shapes of cell-based spaces: an implicit
// GEMM on TF32 tensor cores (WMMA m16n16k8), fp32 accumulation. CUDA twin of kernels/cpu/conv2d.h's
// conv2d_reference within the split's rounding:
//  * TcSplit::One: inputs and weights rounded to TF32 (10-bit mantissa), as cuDNN's TENSOR_OP math:
//    the `--precision tf32` class of results.
//  * TcSplit::Three ("3xTF32"): each operand split as hi = tf32(v), lo = tf32(v - hi) and the
//    product taken as lo*hi + hi*lo + hi*hi (the lo*lo term, ~2^-22 relative, dropped): errors of
//    the order of an fp32 FMA convolution's, at three tensor-core products per multiply-add
//    (the `--precision 3xtf32` mode).
// GEMM view: rows = output pixels (n, oy, ox), columns = output channels, reduction index
// k = (ky * kernel_w + kx) * c_in + ci, the OHWI (KRSC) weight layout, so B[k][o] = w[o * K + k].
// The addressing (row, k) -> input element lives in conv2d_tc_index.h, tested on the CPU.
// How (conv2d_tc.cu): 128 threads own 64 output pixels x all c_out channels; the reduction runs
// in chunks of 32 that cp.async stages into shared memory (two buffers: the next chunk loads
// while the tensor cores work on this one); each warp multiplies 16 pixels x c_out per 8-wide k
// step. Bias is added in fp32 after the GEMM.
// Status (2026-12-04): written without a GPU; compiled for sm_90 and its tiling replayed in a
// host emulation, not yet run on a device: tests/cuda/conv2d_tc_test.cpp is its first GPU check.
// Until then it runs only where asked for: `--precision 3xtf32` (an opt-in mode of its own, where
// it competes in the timed conv choice) and, under `--precision tf32`, with NASWOT_CONV_TC=1.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/cpu/conv2d.h"

namespace naswot::cuda {

enum class TcSplit : uint8_t { One, Three };

// Whether conv2d_tc handles shape s: groups 1, c_in a positive multiple of 8, c_out in
// {16, 32, 48, 64}, at least one output pixel, and 32-bit indexing inside one image
// (h * w * c_in), inside the weights (c_out * kernel_h * kernel_w * c_in) and over the output
// pixels (n * out_h * out_w); padded extents h + 2 pad_h and w + 2 pad_w below 2^30.
bool conv2d_tc_supports(const cpu::Conv2dShape& s);

// x: [n, h, w, c_in]; weight_ohwi: [c_out, kh, kw, c_in]; bias: [c_out] or nullptr;
// y: [n, out_h, out_w, c_out]. x, weight_ohwi and y must be 16-byte aligned. Throws BadInput
// (before touching the device) for a shape conv2d_tc_supports refuses.
void conv2d_tc(const cpu::Conv2dShape& s, TcSplit split, const float* x, const float* weight_ohwi, const float* bias,
               float* y, cudaStream_t stream);

}  // namespace naswot::cuda
