// naswot::Error: the one exception type of the library, with a category.
// Library code never exits; the CLI catches Error in main, prints one line and returns non-zero.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace naswot {

enum class ErrorKind {
  BadInput,     // malformed user input: strings, files, shapes, values
  Io,           // a file could not be opened, read or written
  Unsupported,  // a valid request this build or device cannot serve
  Cuda,
  Cudnn,
  Cublas,
  Cusolver,
  Internal,  // a broken invariant: a bug in naswot
};

const char* to_string(ErrorKind kind);

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), m_kind(kind) {}
  ErrorKind kind() const { return m_kind; }

 private:
  ErrorKind m_kind;
};

[[noreturn]] void throw_error(ErrorKind kind, const std::string& message);

}  // namespace naswot

// NASWOT_EXPECT(cond, kind, stream-expression): precondition check at a public entry.
// Example: NASWOT_EXPECT(c > 0, BadInput, "tensor '" << name << "' has " << c << " channels");
#define NASWOT_EXPECT(cond, KIND, MSG)                                  \
  do {                                                                  \
    if (!(cond)) {                                                      \
      std::ostringstream naswot_expect_os_;                             \
      naswot_expect_os_ << MSG;                                         \
      ::naswot::throw_error(::naswot::ErrorKind::KIND, naswot_expect_os_.str()); \
    }                                                                   \
  } while (0)
