// Sign bit-packing: bit u of image i is (x[i][u] > 0), strict, so 0, -0 and NaN give 0.
// Layout (see signpack.h): image i owns words [i*words, (i+1)*words), bit b of word w is unit
// 64*w + b, bits past `units` in the last word are zero.
// Each output word is independent, so the parallel loop runs over all n*words words (this keeps
// both cores busy for one image as well as for 128). A full word is built from 16 SSE compares
// with movemask (4 bits each; SSE2 is in every x86-64 target); the tail word goes bit by bit.
#include "kernels/cpu/signpack.h"

#include "runtime/error.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace naswot::cpu {
namespace {

inline uint64_t pack_full_word(const float* p) {
#if defined(__SSE2__)
  const __m128 zero = _mm_setzero_ps();
  uint64_t word = 0;
  for (int q = 0; q < 16; ++q) {
    const int mask = _mm_movemask_ps(_mm_cmpgt_ps(_mm_loadu_ps(p + 4 * q), zero));
    word |= static_cast<uint64_t>(mask) << (4 * q);
  }
  return word;
#else
  uint64_t word = 0;
  for (int b = 0; b < 64; ++b) word |= static_cast<uint64_t>(p[b] > 0.0f) << b;
  return word;
#endif
}

inline uint64_t pack_tail_word(const float* p, int64_t bits) {
  uint64_t word = 0;
  for (int64_t b = 0; b < bits; ++b) word |= static_cast<uint64_t>(p[b] > 0.0f) << b;
  return word;
}

}  // namespace

void sign_pack(const float* x, int n, int64_t units, uint64_t* bits) {
  NASWOT_EXPECT(n >= 1 && units >= 1, BadInput,
                "sign_pack: n and units expected >= 1, got n=" << n << " units=" << units);
  NASWOT_EXPECT(x != nullptr && bits != nullptr, BadInput, "sign_pack: x and bits expected non-null");
  const int64_t words = sign_words(units);
  const int64_t full = units / 64;
  const int64_t total = static_cast<int64_t>(n) * words;
#pragma omp parallel for schedule(static)
  for (int64_t t = 0; t < total; ++t) {
    const int64_t i = t / words, w = t % words;
    const float* p = x + i * units + w * 64;
    bits[t] = w < full ? pack_full_word(p) : pack_tail_word(p, units - 64 * w);
  }
}

}  // namespace naswot::cpu
