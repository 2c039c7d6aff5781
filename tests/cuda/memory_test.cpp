// Resource owners (runtime/cuda/memory.h) and the status checks (kernels/cuda/cuda_check.h).
// The check-macro tests are host-only: they feed failing status values straight into the macros
// and assert the error kind and that the message names the expression, the library's error
// string and the file.
#include <type_traits>

#include "cuda_test_util.h"
#include "kernels/cuda/cuda_check.h"

namespace naswot::test {
namespace {

static_assert(!std::is_copy_constructible_v<rt::DeviceBuffer<float>>, "DeviceBuffer must be move-only");
static_assert(!std::is_copy_assignable_v<rt::DeviceBuffer<float>>, "DeviceBuffer must be move-only");
static_assert(std::is_nothrow_move_constructible_v<rt::DeviceBuffer<float>>, "moves must not throw");

template <class F>
void expect_error(F&& f, ErrorKind kind, const std::vector<std::string>& needles) {
  try {
    f();
    ADD_FAILURE() << "expected naswot::Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), kind) << e.what();
    for (const std::string& n : needles)
      EXPECT_NE(std::string(e.what()).find(n), std::string::npos) << "message '" << e.what() << "' lacks '" << n << "'";
  }
}

TEST(CudaChecks, EachLibraryMacroThrowsItsKindWithContext) {  // host only
  expect_error([] { NASWOT_CHECK_CUDA(cudaErrorInvalidValue); }, ErrorKind::Cuda,
               {"cudaErrorInvalidValue failed", cudaGetErrorString(cudaErrorInvalidValue), "memory_test.cpp:", "device"});
  expect_error([] { NASWOT_CHECK_CUDNN(CUDNN_STATUS_BAD_PARAM); }, ErrorKind::Cudnn,
               {"CUDNN_STATUS_BAD_PARAM failed", cudnnGetErrorString(CUDNN_STATUS_BAD_PARAM)});
  expect_error([] { NASWOT_CHECK_CUBLAS(CUBLAS_STATUS_INVALID_VALUE); }, ErrorKind::Cublas,
               {"CUBLAS_STATUS_INVALID_VALUE failed"});
  expect_error([] { NASWOT_CHECK_CUSOLVER(CUSOLVER_STATUS_INVALID_VALUE); }, ErrorKind::Cusolver,
               {"CUSOLVER_STATUS_INVALID_VALUE failed: CUSOLVER_STATUS_INVALID_VALUE"});
}

TEST(CudaChecks, MacrosEvaluateTheirArgumentOnce) {  // host only
  int calls = 0;
  auto status = [&] {
    ++calls;
    return cudaSuccess;
  };
  NASWOT_CHECK_CUDA(status());
  EXPECT_EQ(calls, 1);
}

TEST(CudaChecks, LoggingVariantDoesNotThrow) {  // host only
  EXPECT_NO_THROW(NASWOT_LOG_CUDA(cudaErrorInvalidValue));
  EXPECT_NO_THROW(NASWOT_LOG_CUSOLVER(CUSOLVER_STATUS_INVALID_VALUE));
}

TEST(CudaMemory, ZeroSizedBuffersAllocateNothing) {  // host only
  const rt::AllocationCounters before = rt::allocation_counters();
  rt::DeviceBuffer<float> d(0, "empty");
  rt::PinnedBuffer<float> p(0, "empty");
  EXPECT_EQ(d.data(), nullptr);
  EXPECT_EQ(p.data(), nullptr);
  EXPECT_EQ(rt::allocation_counters(), before);
}

TEST(CudaMemory, BuffersCountAndMove) {
  NASWOT_REQUIRE_CUDA_DEVICE();
  const rt::AllocationCounters before = rt::allocation_counters();
  rt::DeviceBuffer<float> a(100, "a");
  rt::AllocationCounters after = rt::allocation_counters();
  EXPECT_EQ(after.device_allocations, before.device_allocations + 1);
  EXPECT_EQ(after.device_bytes, before.device_bytes + 400);
  float* raw = a.data();
  rt::DeviceBuffer<float> b = std::move(a);
  EXPECT_EQ(a.data(), nullptr);  // NOLINT(bugprone-use-after-move): moved-from state is specified
  EXPECT_EQ(b.data(), raw);
  EXPECT_EQ(b.size(), 100u);
  rt::PinnedBuffer<int> pinned(10, "pinned");
  after = rt::allocation_counters();
  EXPECT_EQ(after.pinned_allocations, before.pinned_allocations + 1);
  EXPECT_EQ(after.device_allocations, before.device_allocations + 1) << "moves allocate nothing";
}

TEST(CudaMemory, AllocationFailureNamesTheBuffer) {
  NASWOT_REQUIRE_CUDA_DEVICE();
  expect_error([] { rt::DeviceBuffer<char> huge(size_t{1} << 60, "absurd test buffer"); }, ErrorKind::Cuda,
               {"absurd test buffer", "cudaMalloc"});
}

}  // namespace
}  // namespace naswot::test
