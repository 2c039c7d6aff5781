// The scoring commands' stacking policy (tools/naswot/run_setup.h): NB-201 on the CUDA backend is
// stacked by default; other spaces and backends, and a NASWOT_CUDA_STACK in the environment, keep
// the backend's own default. (The CUDA side itself is tested in tests/cuda/stack_backend_test.cpp.)
#include <gtest/gtest.h>

#include "tools/naswot/run_setup.h"

namespace naswot::test {
namespace {

TEST(RunSetup, Nb201OnTheGpuIsStackedByDefault) {
  EXPECT_EQ(cli::default_stacking("nb201", "cuda", false), cli::kNb201Stack);
  EXPECT_GT(cli::kNb201Stack.first, 1);
  EXPECT_GE(cli::kNb201Stack.second, 1);
}

TEST(RunSetup, OtherSpacesBackendsAndTheEnvironmentKeepTheBackendDefault) {
  const std::pair<int, int> keep{-1, 0};
  EXPECT_EQ(cli::default_stacking("darts", "cuda", false), keep);
  EXPECT_EQ(cli::default_stacking("nds", "cuda", false), keep);
  EXPECT_EQ(cli::default_stacking("nb201", "cpu", false), keep);
  EXPECT_EQ(cli::default_stacking("nb201", "cuda", true), keep) << "NASWOT_CUDA_STACK is the backend's to read";
}

}  // namespace
}  // namespace naswot::test
