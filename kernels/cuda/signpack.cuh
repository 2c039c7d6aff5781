// CUDA twin of kernels/cpu/signpack.h: binary codes packed 64 units per word.
// Layout (identical to the CPU): image i owns words [i*words, (i+1)*words), words = ceil(units/64);
// bit b of word w is (x[i*units + 64*w + b] > 0), strict (0, -0 and NaN give 0); padding bits
// past `units` are zero. One warp builds one word with two __ballot_sync (units 64w..64w+31 and
// 64w+32..64w+63), so loads are coalesced 128-byte rows and no shared memory is needed.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/cpu/signpack.h"

namespace naswot::cuda {

using cpu::sign_words;

// x: device [n][units] floats; bits: device [n][sign_words(units)] words.
void sign_pack(const float* x, int n, int64_t units, uint64_t* bits, cudaStream_t stream);

}  // namespace naswot::cuda

#if defined(__CUDACC__)
// Device building block (nvcc only), shared by signpack.cu and segments.cu.
namespace naswot::cuda::detail {

// Word w of one image's code, row = that image's [units] floats: two full-warp ballots over
// units 64w + lane and 64w + 32 + lane. Every lane of the warp must call it (0xffffffff mask);
// every lane gets the word.
__device__ __forceinline__ uint64_t sign_word(const float* row, int64_t w, int64_t units, int lane) {
  const int64_t u0 = w * 64 + lane;
  const int64_t u1 = u0 + 32;
  const bool b0 = u0 < units && row[u0] > 0.0f;
  const bool b1 = u1 < units && row[u1] > 0.0f;
  const unsigned lo = __ballot_sync(0xffffffffu, b0);
  const unsigned hi = __ballot_sync(0xffffffffu, b1);
  return static_cast<uint64_t>(lo) | (static_cast<uint64_t>(hi) << 32);
}

}  // namespace naswot::cuda::detail
#endif
