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
