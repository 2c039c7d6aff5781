// Reference fused node pass (see bn_add_pack.h). One parallel loop over all n * words output
// words: each iteration computes 64 units of one image, writes y (and relu(y)) and builds the
// sign word, so bits need no atomics. The float expressions are written in the exact order of
// cpu::batchnorm_apply and cpu::add_n; with the project's -march=x86-64-v2 the compiler has no
// FMA to contract them into, which the bit-exact tests rely on.
#include "kernels/cpu/bn_add_pack.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <vector>

#include "kernels/cpu/pool.h"
#include "kernels/cpu/signpack.h"
#include "runtime/error.h"

namespace naswot::cpu {

void batchnorm_invstd(const float* var, int channels, float eps, float* invstd) {
  NASWOT_EXPECT(channels >= 1, BadInput, "batchnorm_invstd: channels expected >= 1, got " << channels);
  NASWOT_EXPECT(var != nullptr && invstd != nullptr, BadInput, "batchnorm_invstd: var and invstd expected non-null");
  NASWOT_EXPECT(eps >= 0.0f, BadInput, "batchnorm_invstd: eps expected >= 0, got " << eps);
  for (int c = 0; c < channels; ++c)
    invstd[c] = static_cast<float>(1.0 / std::sqrt(static_cast<double>(var[c]) + static_cast<double>(eps)));
}

void check_term_pool(const char* who, int k, const TermPool& p, bool plain, int64_t units, int channels) {
  if (p.kind == TermPoolKind::None) return;
  NASWOT_EXPECT(plain, BadInput, who << ": term " << k << " is pooled: expected a plain term (no BatchNorm, not zero)");
  NASWOT_EXPECT(p.kernel >= 1 && p.stride >= 1 && p.pad >= 0 && 2 * p.pad <= p.kernel && p.in_h >= 1 && p.in_w >= 1 &&
                    p.in_h + 2 * p.pad >= p.kernel && p.in_w + 2 * p.pad >= p.kernel,
                BadInput,
                who << ": term " << k << ": pool kernel=" << p.kernel << " stride=" << p.stride << " pad=" << p.pad
                    << " over " << p.in_h << "x" << p.in_w
                    << ", expected kernel, stride >= 1, 0 <= pad <= kernel/2 and the window inside the padded input");
  NASWOT_EXPECT(static_cast<int64_t>(p.in_h) * p.in_w * channels <= INT_MAX, BadInput,
                who << ": term " << k << ": pool input " << p.in_h << "x" << p.in_w << "x" << channels
                    << " per image exceeds 32-bit indexing (the CUDA twins index one image in 32 bits)");
  NASWOT_EXPECT(static_cast<int64_t>(p.out_h()) * p.out_w() * channels == units, BadInput,
                who << ": term " << k << ": pool output " << p.out_h() << "x" << p.out_w() << "x" << channels
                    << " is not the node's " << units << " units per image");
}

void bn_add_pack(const BnAddTerm* terms, int num_terms, bool sum_from_zero, int n, int64_t units, int channels,
                 float* y, float* relu_y, uint64_t* bits) {
  NASWOT_EXPECT(num_terms >= 1 && terms != nullptr, BadInput,
                "bn_add_pack: num_terms expected >= 1, got " << num_terms);
  NASWOT_EXPECT(n >= 1 && units >= 1 && channels >= 1 && units % channels == 0, BadInput,
                "bn_add_pack: n=" << n << " units=" << units << " channels=" << channels
                                  << ", expected all >= 1 and units a multiple of channels");
  NASWOT_EXPECT(y != nullptr, BadInput, "bn_add_pack: y expected non-null");
  for (int k = 0; k < num_terms; ++k) {
    const BnAddTerm& t = terms[k];
    NASWOT_EXPECT(t.x != nullptr, BadInput, "bn_add_pack: term " << k << " has no x");
    NASWOT_EXPECT(t.mean == nullptr || (t.invstd != nullptr && t.gamma != nullptr && t.beta != nullptr), BadInput,
                  "bn_add_pack: term " << k << " has a mean but lacks invstd, gamma or beta");
    NASWOT_EXPECT(!(t.zero && t.mean != nullptr), BadInput, "bn_add_pack: term " << k << " is both zero and a BatchNorm");
    check_term_pool("bn_add_pack", k, t.pool, !t.zero && t.mean == nullptr, units, channels);
  }
  // A pooled term: pool.h's own kernel writes pool(x) aside and the term reads that, so the
  // reference is literally the composition it stands for.
  std::vector<BnAddTerm> local(terms, terms + num_terms);
  std::vector<std::vector<float>> pooled(static_cast<size_t>(num_terms));
  for (int k = 0; k < num_terms; ++k) {
    BnAddTerm& t = local[static_cast<size_t>(k)];
    if (t.pool.kind == TermPoolKind::None) continue;
    const Pool2dShape ps{n, t.pool.in_h, t.pool.in_w, channels, t.pool.kernel, t.pool.stride, t.pool.pad};
    std::vector<float>& out = pooled[static_cast<size_t>(k)];
    out.resize(static_cast<size_t>(n) * static_cast<size_t>(units));
    if (t.pool.kind == TermPoolKind::Max)
      maxpool2d(ps, t.x, out.data());
    else
      avgpool2d(ps, t.pool.count_include_pad, t.x, out.data());
    t.x = out.data();
    t.pool = {};
  }
  const int64_t words = sign_words(units);
  const int64_t total = static_cast<int64_t>(n) * words;
#pragma omp parallel for schedule(static)
  for (int64_t t = 0; t < total; ++t) {
    const int64_t image = t / words, w = t % words;
    const int64_t u_end = std::min(units, (w + 1) * 64);
    uint64_t word = 0;
    for (int64_t u = w * 64; u < u_end; ++u) {
      const int64_t e = image * units + u;
      const int64_t c = u % channels;
      float v = 0.0f;
      for (int k = 0; k < num_terms; ++k) {
        const BnAddTerm& term = local[static_cast<size_t>(k)];
        float tv = term.x[e];
        if (term.zero)
          tv = tv * 0.0f;  // cpu::zero's x * 0 (NaN stays NaN, the sign of zero follows x)
        else if (term.mean != nullptr)
          tv = (tv - term.mean[c]) * term.invstd[c] * term.gamma[c] + term.beta[c];
        if (k == 0)
          v = sum_from_zero ? 0.0f + tv : tv;
        else
          v += tv;
      }
      y[e] = v;
      if (relu_y != nullptr) relu_y[e] = v < 0.0f ? 0.0f : v;
      word |= static_cast<uint64_t>(v > 0.0f) << (u - w * 64);
    }
    if (bits != nullptr) bits[t] = word;
  }
}

}  // namespace naswot::cpu
