// Binary codes: bit u of image i is (x[i][u] > 0), u in the tensor's own NHWC order (the order of
// units inside a code does not change K as long as every image uses the same order).
// Packed layout: image i owns words [i*words, (i+1)*words); bit b of word w is unit 64*w + b;
// padding bits past `units` are zero.
#pragma once
#include <cstdint>

namespace naswot::cpu {

inline int64_t sign_words(int64_t units) { return (units + 63) / 64; }
void sign_pack(const float* x, int n, int64_t units, uint64_t* bits);

}  // namespace naswot::cpu
