// K accumulation from packed codes: K[i][j] += weight * (units - popcount(code_i XOR code_j)),
// i.e. weight x the number of agreeing units. Exact 64-bit integers; K is symmetric.
#pragma once
#include <cstdint>

namespace naswot::cpu {

void popcount_k_accumulate(const uint64_t* bits, int n, int64_t words, int64_t units, int64_t weight, int64_t* k);
// Naive reference on unpacked codes (one byte 0/1 per unit), for tests.
void popcount_k_reference(const uint8_t* codes, int n, int64_t units, int64_t weight, int64_t* k);

}  // namespace naswot::cpu
