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
// Tensors are NHWC, `units` = h*w*c per image, channel of unit u = u % channels.
#pragma once
#include <cstdint>

namespace naswot::cpu {

struct BnAddTerm {
  const float* x = nullptr;       // [n][units]
  const float* mean = nullptr;    // [channels]; nullptr: the term is x itself (or x * 0, below)
  const float* invstd = nullptr;  // [channels], from batchnorm_invstd
  const float* gamma = nullptr;   // [channels]
  const float* beta = nullptr;    // [channels]
  bool zero = false;              // the term is x * 0.0f (a stride-1 Zero op: "none"); no mean
};

// invstd[c] = float(1.0 / sqrt(double(var[c]) + double(eps))), as cpu::batchnorm_apply computes it.
void batchnorm_invstd(const float* var, int channels, float eps, float* invstd);

// y: [n][units] (required); relu_y: [n][units] or nullptr; bits: [n][sign_words(units)] or nullptr.
void bn_add_pack(const BnAddTerm* terms, int num_terms, bool sum_from_zero, int n, int64_t units, int channels,
                 float* y, float* relu_y, uint64_t* bits);

}  // namespace naswot::cpu
