#include "runtime/cpu_backend.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <sstream>

#include "kernels/cpu/batchnorm.h"
#include "kernels/cpu/conv2d.h"
#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/pool.h"
#include "kernels/cpu/popcount_k.h"
#include "kernels/cpu/signpack.h"
#include "runtime/error.h"

namespace naswot::rt {

void CpuBackend::set_batch(const Batch& batch) {
  NASWOT_EXPECT(static_cast<int64_t>(batch.data.size()) == batch.shape.numel(), Internal,
                "batch '" << batch.source << "' has " << batch.data.size() << " values for shape " << batch.shape.n
                          << "x" << batch.shape.h << "x" << batch.shape.w << "x" << batch.shape.c);
  m_batch = batch;
}

template <typename T>
static void grow(std::vector<T>& v, size_t size, int64_t& growths) {
  if (v.size() >= size) return;
  v.resize(size);
  ++growths;
}

void CpuBackend::reserve(const Plan& plan) {
  grow(m_arena, plan.arena_floats(), m_growths);
  grow(m_bits, static_cast<size_t>(plan.batch()) * static_cast<size_t>(cpu::sign_words(plan.max_tap_units())),
       m_growths);
  size_t max_c = 0, max_inputs = 0;
  for (int i : plan.order()) {
    const Op& op = plan.graph().ops[static_cast<size_t>(i)];
    if (op.output != kNoTensor) max_c = std::max(max_c, static_cast<size_t>(plan.tensor(op.output).shape.c));
    max_inputs = std::max(max_inputs, op.inputs.size());
  }
  grow(m_mean, max_c, m_growths);
  grow(m_var, max_c, m_growths);
  grow(m_inputs, max_inputs, m_growths);
  grow(m_channels, max_inputs, m_growths);
  grow(m_tap_done, plan.taps().size(), m_growths);
}

void CpuBackend::compute_k(const Plan& plan, const Params& params, Counting counting, KMatrix& k) {
  NASWOT_EXPECT(m_batch.shape == plan.input_shape(), Internal,
                "plan input shape differs from the bound batch '" << m_batch.source << "'");
  reserve(plan);
  if (k.n != plan.batch() || k.values.size() != static_cast<size_t>(plan.batch()) * static_cast<size_t>(plan.batch()))
    k.reset(plan.batch());
  std::fill(k.values.begin(), k.values.end(), 0);
  std::fill(m_tap_done.begin(), m_tap_done.end(), 0);

  const Graph& g = plan.graph();
  for (int i : plan.order()) {
    const Op& op = g.ops[static_cast<size_t>(i)];
    const auto t0 = m_profiling ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    run_step(plan, i, params, counting, k);
    if (m_profiling) {
      m_op_seconds[static_cast<size_t>(op.kind)] +=
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      ++m_op_calls[static_cast<size_t>(op.kind)];
    }
  }
}

std::string CpuBackend::profile_report() const {
  std::ostringstream os;
  double total = 0;
  for (double s : m_op_seconds) total += s;
  os << "cpu backend profile (wall seconds per op kind)\n";
  for (int kind = 0; kind < kOpKindCount; ++kind) {
    if (m_op_calls[static_cast<size_t>(kind)] == 0) continue;
    const double s = m_op_seconds[static_cast<size_t>(kind)];
    char line[128];
    std::snprintf(line, sizeof line, "  %-15s %8lld calls %9.3f s %5.1f%%\n", to_string(static_cast<OpKind>(kind)),
                  static_cast<long long>(m_op_calls[static_cast<size_t>(kind)]), s, total > 0 ? 100.0 * s / total : 0.0);
    os << line;
  }
  return os.str();
}

void CpuBackend::run_step(const Plan& plan, int i, const Params& params, Counting counting, KMatrix& k) {
  const Op& op = plan.graph().ops[static_cast<size_t>(i)];
  if (op.kind != OpKind::Tap) {
    run_op(plan, op, params);
    return;
  }
  // A merged tap (several hooked modules on one tensor) is packed and accumulated once with the
  // summed weight.
  const int slot = plan.tap_slot(i);
  if (m_tap_done[static_cast<size_t>(slot)]) return;
  m_tap_done[static_cast<size_t>(slot)] = 1;
  const PlannedTap& tap = plan.taps()[static_cast<size_t>(slot)];
  const int weight = tap.weight(counting);
  if (weight == 0) return;
  const int64_t words = cpu::sign_words(tap.units);
  cpu::sign_pack(at(plan, tap.tensor), plan.batch(), tap.units, m_bits.data());
  cpu::popcount_k_accumulate(m_bits.data(), plan.batch(), words, tap.units, weight, k.values.data());
}

void CpuBackend::run_op(const Plan& plan, const Op& op, const Params& params) {
  const Shape4 out = plan.tensor(op.output).shape;
  float* y = at(plan, op.output);
  auto in_shape = [&](size_t k) { return plan.tensor(op.inputs[k]).shape; };
  auto x = [&](size_t k) { return at(plan, op.inputs[k]); };
  switch (op.kind) {
    case OpKind::Input:
      std::memcpy(y, m_batch.data.data(), m_batch.data.size() * sizeof(float));
      return;
    case OpKind::Conv: {
      const Shape4 s = in_shape(0);
      const ConvAttr& a = op.conv;
      const cpu::Conv2dShape cs{s.n, s.h, s.w, s.c, a.out_channels, a.kernel_h, a.kernel_w, a.stride_h, a.stride_w,
                                a.pad_h, a.pad_w, a.dilation_h, a.dilation_w, a.groups};
      const float* bias = op.bias.empty() ? nullptr : params.at(op.bias).data.data();
      cpu::conv2d(cs, x(0), params.at(op.weight).data.data(), bias, y);
      return;
    }
    case OpKind::BatchNorm: {
      const int64_t rows = static_cast<int64_t>(out.n) * out.h * out.w;
      cpu::batchnorm_stats(x(0), rows, out.c, m_mean.data(), m_var.data());
      cpu::batchnorm_apply(x(0), rows, out.c, m_mean.data(), m_var.data(), params.at(op.weight).data.data(),
                           params.at(op.bias).data.data(), op.eps, y);
      return;
    }
    case OpKind::Relu: cpu::relu(x(0), out.numel(), y); return;
    case OpKind::Add:
      for (size_t k = 0; k < op.inputs.size(); ++k) m_inputs[k] = x(k);
      cpu::add_n(m_inputs.data(), static_cast<int>(op.inputs.size()), out.numel(), y);
      return;
    case OpKind::AvgPool:
    case OpKind::MaxPool: {
      const Shape4 s = in_shape(0);
      const cpu::Pool2dShape ps{s.n, s.h, s.w, s.c, op.pool.kernel, op.pool.stride, op.pool.pad};
      if (op.kind == OpKind::AvgPool)
        cpu::avgpool2d(ps, op.pool.count_include_pad, x(0), y);
      else
        cpu::maxpool2d(ps, x(0), y);
      return;
    }
    case OpKind::Zero: {
      const Shape4 s = in_shape(0);
      cpu::zero(x(0), s.n, s.h, s.w, s.c, op.pool.stride, y);
      return;
    }
    case OpKind::Shift: {
      const Shape4 s = in_shape(0);
      cpu::shift_up_left(x(0), s.n, s.h, s.w, s.c, y);
      return;
    }
    case OpKind::Concat:
      for (size_t k = 0; k < op.inputs.size(); ++k) {
        m_inputs[k] = x(k);
        m_channels[k] = in_shape(k).c;
      }
      cpu::concat_channels(m_inputs.data(), m_channels.data(), static_cast<int>(op.inputs.size()),
                           static_cast<int64_t>(out.n) * out.h * out.w, y);
      return;
    case OpKind::GlobalAvgPool: {
      const Shape4 s = in_shape(0);
      cpu::global_avgpool(s.n, static_cast<int64_t>(s.h) * s.w, s.c, x(0), y);
      return;
    }
    case OpKind::Linear: {
      const Shape4 s = in_shape(0);
      const float* bias = op.bias.empty() ? nullptr : params.at(op.bias).data.data();
      cpu::linear(x(0), s.n, s.h * s.w * s.c, op.out_features, params.at(op.weight).data.data(), bias, y);
      return;
    }
    case OpKind::Tap: break;
  }
  throw_error(ErrorKind::Internal, std::string("cpu backend: unexpected op kind ") + to_string(op.kind));
}

}  // namespace naswot::rt
