// The CPU backend: the oracle. Executes a Plan op by op with the CPU kernels (oneDNN
// convolutions, OpenMP loops), packs each tap's sign bits and accumulates K with XOR/popcount.
// One arena of floats sized by reserve() (the worst case of a space) and reused for every
// architecture; it only grows when a bigger plan arrives, and counts that.
#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include "runtime/backend.h"

namespace naswot::rt {

class CpuBackend final : public Backend {
 public:
  std::string name() const override { return "cpu"; }
  void set_batch(const Batch& batch) override;
  void reserve(const Plan& plan) override;
  void compute_k(const Plan& plan, const Params& params, Counting counting, KMatrix& k) override;
  int64_t workspace_growths() const override { return m_growths; }
  void set_profiling(bool on) override { m_profiling = on; }
  std::string profile_report() const override;

  // The float values of a planned tensor after the last compute_k (tests and debugging).
  const float* tensor_data(const Plan& plan, TensorId t) const { return m_arena.data() + plan.tensor(t).offset; }

 private:
  void run_step(const Plan& plan, int op_index, const Params& params, Counting counting, KMatrix& k);
  void run_op(const Plan& plan, const Op& op, const Params& params);
  float* at(const Plan& plan, TensorId t) { return m_arena.data() + plan.tensor(t).offset; }

  Batch m_batch;
  std::vector<float> m_arena;
  std::vector<uint64_t> m_bits;
  std::vector<float> m_mean, m_var;
  std::vector<const float*> m_inputs;
  std::vector<int> m_channels;
  std::vector<uint8_t> m_tap_done;
  int64_t m_growths = 0;
  bool m_profiling = false;
  std::array<double, kOpKindCount> m_op_seconds{};
  std::array<int64_t, kOpKindCount> m_op_calls{};
};

}  // namespace naswot::rt
