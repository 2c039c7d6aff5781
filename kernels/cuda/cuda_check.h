// Status checks for the CUDA runtime, cuDNN, cuBLAS and cuSOLVER (STYLE.md habits 4-6).
// NASWOT_CHECK_CUDA / _CUDNN / _CUBLAS / _CUSOLVER are one-line instances of NASWOT_CHECK_LIB_:
// it evaluates its argument once and, on failure, calls the out-of-line [[noreturn]]
// report_failure, which throws naswot::Error of the library's kind with file:line, the expression
// text, the library's own error string and the current device id.
// NASWOT_LOG_CUDA & co. are the non-throwing variants for destructors and other cleanup paths:
// they print one line to stderr and carry on.
// NASWOT_CHECK_LAUNCH(stream) follows every <<<...>>>: it reports launch errors at once and, with
// NASWOT_SYNC_CHECKS, synchronizes the stream so that an asynchronous fault is blamed on the
// kernel that caused it.
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>
#include <cusolverDn.h>

#include "runtime/error.h"

namespace naswot::cuda {

inline bool is_success(cudaError_t s) { return s == cudaSuccess; }
inline bool is_success(cudnnStatus_t s) { return s == CUDNN_STATUS_SUCCESS; }
inline bool is_success(cublasStatus_t s) { return s == CUBLAS_STATUS_SUCCESS; }
inline bool is_success(cusolverStatus_t s) { return s == CUSOLVER_STATUS_SUCCESS; }

const char* status_string(cudaError_t s);
const char* status_string(cudnnStatus_t s);
const char* status_string(cublasStatus_t s);
const char* status_string(cusolverStatus_t s);

// Throws Error(kind, "<file>:<line>: <expr> failed: <library message> (device <id>)").
[[noreturn]] void report_failure(ErrorKind kind, const char* expr, const char* file, int line, const char* message);
// Same text on stderr, no throw (cleanup paths).
void log_failure(const char* expr, const char* file, int line, const char* message) noexcept;

// Launch check with the stream (used after every <<<...>>>; see the header comment).
void check_launch(const char* kernel, const char* file, int line, cudaStream_t stream);

}  // namespace naswot::cuda

#define NASWOT_CHECK_LIB_(KIND, expr)                                                                 \
  do {                                                                                               \
    const auto naswot_status_ = (expr);                                                              \
    if (!::naswot::cuda::is_success(naswot_status_))                                                 \
      ::naswot::cuda::report_failure(::naswot::ErrorKind::KIND, #expr, __FILE__, __LINE__,           \
                                     ::naswot::cuda::status_string(naswot_status_));                 \
  } while (0)

#define NASWOT_LOG_LIB_(expr)                                                                                \
  do {                                                                                                      \
    const auto naswot_status_ = (expr);                                                                     \
    if (!::naswot::cuda::is_success(naswot_status_))                                                        \
      ::naswot::cuda::log_failure(#expr, __FILE__, __LINE__, ::naswot::cuda::status_string(naswot_status_)); \
  } while (0)

#define NASWOT_CHECK_CUDA(expr) NASWOT_CHECK_LIB_(Cuda, expr)
#define NASWOT_CHECK_CUDNN(expr) NASWOT_CHECK_LIB_(Cudnn, expr)
#define NASWOT_CHECK_CUBLAS(expr) NASWOT_CHECK_LIB_(Cublas, expr)
#define NASWOT_CHECK_CUSOLVER(expr) NASWOT_CHECK_LIB_(Cusolver, expr)
#define NASWOT_LOG_CUDA(expr) NASWOT_LOG_LIB_(expr)
#define NASWOT_LOG_CUDNN(expr) NASWOT_LOG_LIB_(expr)
#define NASWOT_LOG_CUBLAS(expr) NASWOT_LOG_LIB_(expr)
#define NASWOT_LOG_CUSOLVER(expr) NASWOT_LOG_LIB_(expr)

// After every kernel launch: NASWOT_CHECK_LAUNCH(name_kernel, stream).
#define NASWOT_CHECK_LAUNCH(kernel, stream) ::naswot::cuda::check_launch(#kernel, __FILE__, __LINE__, stream)
