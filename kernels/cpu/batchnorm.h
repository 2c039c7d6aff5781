// BatchNorm in train mode over NHWC data viewed as rows x channels (rows = n*h*w):
// mean and biased variance per channel accumulated in double (as PyTorch's CPU kernel does),
// then y = (x - mean) / sqrt(var + eps) * gamma + beta.
#pragma once
#include <cstdint>

namespace naswot::cpu {

void batchnorm_stats(const float* x, int64_t rows, int channels, float* mean, float* var);
void batchnorm_apply(const float* x, int64_t rows, int channels, const float* mean, const float* var,
                     const float* gamma, const float* beta, float eps, float* y);
// Naive two-pass reference (long double) of stats + apply, for tests.
void batchnorm_train_reference(const float* x, int64_t rows, int channels, const float* gamma, const float* beta,
                               float eps, float* y, float* mean, float* var);

}  // namespace naswot::cpu
