// NASWOT kernel-matrix accumulation from packed sign codes (layout: signpack.h):
// K[i][j] += weight * (units - popcount(code_i XOR code_j)), the weighted number of units on
// which images i and j agree. Integers throughout, so the result is exact and order-free.
// Only the upper triangle j >= i is computed; row i's thread also writes the mirror K[j][i], so each
// unordered pair has exactly one writer and no atomics are needed. Rows get shorter as i grows,
// hence the dynamic schedule. __builtin_popcountll is one POPCNT with -march=x86-64-v2.
#include "kernels/cpu/popcount_k.h"

#include "kernels/cpu/signpack.h"
#include "runtime/error.h"

namespace naswot::cpu {

void popcount_k_accumulate(const uint64_t* bits, int n, int64_t words, int64_t units, int64_t weight, int64_t* k) {
  NASWOT_EXPECT(n >= 1 && units >= 1, BadInput,
                "popcount_k_accumulate: n and units expected >= 1, got n=" << n << " units=" << units);
  // Extra words are allowed (callers may pad rows) but must hold zero bits, like the tail padding.
  NASWOT_EXPECT(words >= sign_words(units), BadInput,
                "popcount_k_accumulate: words=" << words << " expected >= ceil(units/64)=" << sign_words(units));
  NASWOT_EXPECT(bits != nullptr && k != nullptr, BadInput, "popcount_k_accumulate: bits and k expected non-null");
#pragma omp parallel for schedule(dynamic, 1)
  for (int i = 0; i < n; ++i) {
    const uint64_t* a = bits + static_cast<int64_t>(i) * words;
    for (int j = i; j < n; ++j) {
      const uint64_t* b = bits + static_cast<int64_t>(j) * words;
      int64_t differ = 0;
      for (int64_t w = 0; w < words; ++w) differ += __builtin_popcountll(a[w] ^ b[w]);
      const int64_t v = weight * (units - differ);
      k[static_cast<int64_t>(i) * n + j] += v;
      if (j != i) k[static_cast<int64_t>(j) * n + i] += v;
    }
  }
}

void popcount_k_reference(const uint8_t* codes, int n, int64_t units, int64_t weight, int64_t* k) {
  NASWOT_EXPECT(n >= 1 && units >= 1, BadInput,
                "popcount_k_reference: n and units expected >= 1, got n=" << n << " units=" << units);
  NASWOT_EXPECT(codes != nullptr && k != nullptr, BadInput, "popcount_k_reference: codes and k expected non-null");
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) {
      int64_t agree = 0;
      for (int64_t u = 0; u < units; ++u) agree += codes[i * units + u] == codes[j * units + u];
      k[static_cast<int64_t>(i) * n + j] += weight * agree;
    }
  }
}

}  // namespace naswot::cpu
