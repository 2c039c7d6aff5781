// The fused node pass of a cell, reference version (twin of kernels/cuda/bn_add_pack.cuh):
//   y = [0 +] t_0 + t_1 + ... + t_{k-1},  t_j = BN_j(x_j), x_j or x_j * 0 (cpu::zero, stride 1),
//   BN_j(x) = (x - mean_j[c]) * invstd_j[c] * gamma_j[c] + beta_j[c],
// summed left to right in float, optionally also writing relu(y) (x < 0 ? 0 : x) and the packed
// sign bits of y (signpack.h layout). This is what an NB-201 cell node is: the edges' BatchNorm
// outputs (and plain inputs: skip, pool, zero edges) summed into the node tensor, whose sign is
// the code of every hooked module that reads the node.
// Numerics equal the unfused CPU path exactly: the BN term is cpu::batchnorm_apply's expression
// with invstd from batchnorm_invstd (double, rounded once), and with sum_from_zero the sum is
// cpu::add_n's (0.0f + t_0 + t_1 ...). A lone BatchNorm uses sum_from_zero = false (y = t_0).
// Tensors are NHWC, `units` = h*w*c per image, channel of unit u = u % channels. A term may also
// be a pool of its x (TermPool), with avgpool2d's / maxpool2d's arithmetic per element.
#pragma once
#include <cstdint>

namespace naswot::cpu {

// A term read through a pool: the term is avgpool2d / maxpool2d of x (pool.h's numerics exactly),
// with x = [n][in_h][in_w][channels] and the node's pixels the pool's output pixels. The stacked
// path's NB-201 avg_pool edges and DARTS pool edges: the pool output is never stored.
enum class TermPoolKind : uint8_t { None, Avg, Max };
struct TermPool {
  TermPoolKind kind = TermPoolKind::None;
  bool count_include_pad = false;  // Avg only
  int16_t in_h = 0, in_w = 0, kernel = 0, stride = 1, pad = 0;
  int out_h() const { return (in_h + 2 * pad - kernel) / stride + 1; }
  int out_w() const { return (in_w + 2 * pad - kernel) / stride + 1; }
  bool operator==(const TermPool&) const = default;
};

struct BnAddTerm {
  const float* x = nullptr;       // [n][units] ([n][in_h][in_w][channels] for a pooled term)
  const float* mean = nullptr;    // [channels]; nullptr: the term is x itself (or x * 0, below)
  const float* invstd = nullptr;  // [channels], from batchnorm_invstd
  const float* gamma = nullptr;   // [channels]
  const float* beta = nullptr;    // [channels]
  bool zero = false;              // the term is x * 0.0f (a stride-1 Zero op: "none"); no mean
  TermPool pool{};                // kind != None: the term is pool(x); plain (no mean, not zero)
};

// invstd[c] = float(1.0 / sqrt(double(var[c]) + double(eps))), as cpu::batchnorm_apply computes it.
void batchnorm_invstd(const float* var, int channels, float eps, float* invstd);

// Throws BadInput (naming `who` and term k) unless p is None, or a valid pool geometry whose output
// is `units` per image of `channels`, on a plain term. Shared with the CUDA launchers.
void check_term_pool(const char* who, int k, const TermPool& p, bool plain, int64_t units, int channels);

// y: [n][units] (required); relu_y: [n][units] or nullptr; bits: [n][sign_words(units)] or nullptr.
void bn_add_pack(const BnAddTerm* terms, int num_terms, bool sum_from_zero, int n, int64_t units, int channels,
                 float* y, float* relu_y, uint64_t* bits);

}  // namespace naswot::cpu
