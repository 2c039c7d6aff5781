// Reference fused node pass (see bn_add_pack.h). One parallel loop over all n * words output
// words: each iteration computes 64 units of one image, writes y (and relu(y)) and builds the
// sign word, so bits need no atomics. The float expressions are written in the exact order of
// cpu::batchnorm_apply and cpu::add_n; with the project's -march=x86-64-v2 the compiler has no
// FMA to contract them into, which the bit-exact tests rely on.
#include "kernels/cpu/bn_add_pack.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/cpu/signpack.h"
#include "runtime/error.h"

namespace naswot::cpu {
namespace {

// pool(x) at unit u of image `image`: avgpool2d's window, order and divisor, or maxpool2d's
// select (a NaN wins), one element at a time.
float pooled(const BnAddTerm& t, int64_t image, int64_t u, int channels) {
  const TermPool& p = t.pool;
  const int64_t c = u % channels, pixel = u / channels;
  const int ow = p.out_w();
  const int ox = static_cast<int>(pixel % ow), oy = static_cast<int>(pixel / ow);
  int y0 = oy * p.stride - p.pad, x0 = ox * p.stride - p.pad;
  int y1 = std::min(y0 + p.kernel, p.in_h + p.pad), x1 = std::min(x0 + p.kernel, p.in_w + p.pad);
  const int padded_taps = (y1 - y0) * (x1 - x0);
  y0 = std::max(y0, 0);
  x0 = std::max(x0, 0);
  y1 = std::min(y1, static_cast<int>(p.in_h));
  x1 = std::min(x1, static_cast<int>(p.in_w));
  const float* base = t.x + image * p.in_h * p.in_w * static_cast<int64_t>(channels);
  const bool max = p.kind == TermPoolKind::Max;
  float acc = max ? -std::numeric_limits<float>::infinity() : 0.0f;
  for (int iy = y0; iy < y1; ++iy)
    for (int ix = x0; ix < x1; ++ix) {
      const float v = base[(static_cast<int64_t>(iy) * p.in_w + ix) * channels + c];
      if (max)
        acc = (v > acc || v != v) ? v : acc;
      else
        acc += v;
    }
  if (max) return acc;
  return acc / static_cast<float>(p.count_include_pad ? padded_taps : (y1 - y0) * (x1 - x0));
}

}  // namespace

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
        const BnAddTerm& term = terms[k];
        float tv = term.pool.kind != TermPoolKind::None ? pooled(term, image, u, channels) : term.x[e];
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
