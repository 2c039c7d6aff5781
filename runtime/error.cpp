#include "runtime/error.h"

namespace naswot {

const char* to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::BadInput: return "bad input";
    case ErrorKind::Io: return "i/o error";
    case ErrorKind::Unsupported: return "unsupported";
    case ErrorKind::Cuda: return "CUDA error";
    case ErrorKind::Cudnn: return "cuDNN error";
    case ErrorKind::Cublas: return "cuBLAS error";
    case ErrorKind::Cusolver: return "cuSOLVER error";
    case ErrorKind::Internal: return "internal error";
  }
  return "error";
}

void throw_error(ErrorKind kind, const std::string& message) { throw Error(kind, message); }

}  // namespace naswot
