// Out-of-line reporters behind the check macros of cuda_check.h. Kept out of line so that each
// check site costs one compare and a call on the cold path.
#include "kernels/cuda/cuda_check.h"

#include <cstdio>
#include <sstream>
#include <string>

namespace naswot::cuda {
namespace {

// Device id for messages; -1 when even that query fails (no driver, broken context).
int current_device() noexcept {
  int device = -1;
  if (cudaGetDevice(&device) != cudaSuccess) {
    (void)cudaGetLastError();  // clear the non-sticky error this query may leave behind
    return -1;
  }
  return device;
}

std::string format_failure(const char* expr, const char* file, int line, const char* message) {
  std::ostringstream os;
  os << file << ":" << line << ": " << expr << " failed: " << (message ? message : "(no message)") << " (device "
     << current_device() << ")";
  return os.str();
}

}  // namespace

const char* status_string(cudaError_t s) { return cudaGetErrorString(s); }
const char* status_string(cudnnStatus_t s) { return cudnnGetErrorString(s); }
const char* status_string(cublasStatus_t s) { return cublasGetStatusString(s); }

const char* status_string(cusolverStatus_t s) {
  // cuSOLVER has no string function of its own.
  switch (s) {
    case CUSOLVER_STATUS_SUCCESS: return "CUSOLVER_STATUS_SUCCESS";
    case CUSOLVER_STATUS_NOT_INITIALIZED: return "CUSOLVER_STATUS_NOT_INITIALIZED";
    case CUSOLVER_STATUS_ALLOC_FAILED: return "CUSOLVER_STATUS_ALLOC_FAILED";
    case CUSOLVER_STATUS_INVALID_VALUE: return "CUSOLVER_STATUS_INVALID_VALUE";
    case CUSOLVER_STATUS_ARCH_MISMATCH: return "CUSOLVER_STATUS_ARCH_MISMATCH";
    case CUSOLVER_STATUS_MAPPING_ERROR: return "CUSOLVER_STATUS_MAPPING_ERROR";
    case CUSOLVER_STATUS_EXECUTION_FAILED: return "CUSOLVER_STATUS_EXECUTION_FAILED";
    case CUSOLVER_STATUS_INTERNAL_ERROR: return "CUSOLVER_STATUS_INTERNAL_ERROR";
    case CUSOLVER_STATUS_MATRIX_TYPE_NOT_SUPPORTED: return "CUSOLVER_STATUS_MATRIX_TYPE_NOT_SUPPORTED";
    case CUSOLVER_STATUS_NOT_SUPPORTED: return "CUSOLVER_STATUS_NOT_SUPPORTED";
    case CUSOLVER_STATUS_ZERO_PIVOT: return "CUSOLVER_STATUS_ZERO_PIVOT";
    case CUSOLVER_STATUS_INVALID_LICENSE: return "CUSOLVER_STATUS_INVALID_LICENSE";
    case CUSOLVER_STATUS_INVALID_WORKSPACE: return "CUSOLVER_STATUS_INVALID_WORKSPACE";
    default: return "cuSOLVER status (unnamed code)";
  }
}

void report_failure(ErrorKind kind, const char* expr, const char* file, int line, const char* message) {
  std::string text = format_failure(expr, file, line, message);
  if (kind == ErrorKind::Cudnn) {
    char detail[512] = {};
    cudnnGetLastErrorString(detail, sizeof(detail));  // cuDNN 9: why the last call failed
    if (detail[0] != '\0') text += std::string("; cuDNN says: ") + detail;
  }
  throw Error(kind, text);
}

void log_failure(const char* expr, const char* file, int line, const char* message) noexcept {
  try {
    std::fprintf(stderr, "naswot: warning: %s\n", format_failure(expr, file, line, message).c_str());
  } catch (...) {
    std::fprintf(stderr, "naswot: warning: %s failed during cleanup\n", expr);
  }
}

void check_launch(const char* kernel, const char* file, int line, cudaStream_t stream) {
  const cudaError_t launch = cudaGetLastError();
  if (launch != cudaSuccess) report_failure(ErrorKind::Cuda, kernel, file, line, cudaGetErrorString(launch));
#ifdef NASWOT_SYNC_CHECKS
  const cudaError_t run = cudaStreamSynchronize(stream);
  if (run != cudaSuccess) report_failure(ErrorKind::Cuda, kernel, file, line, cudaGetErrorString(run));
#else
  (void)stream;
#endif
}

}  // namespace naswot::cuda
