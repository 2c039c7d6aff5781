// The CUDA backend's op dispatch: one switch over OpKind (Lane::run_step) and, next to it, the
// supports() predicate with the same cases (STYLE.md habit 12). Semantics equal CpuBackend's;
// the differences are only in how the work is grouped:
//  * BatchNorm and Add run as "node" steps (schedule.h): per BN term, batchnorm_stats_invstd on
//    the BN's input, then one bn_add_pack pass that also writes the sign bits when the output is
//    tapped, followed by the popcount of those bits;
//  * Input is not copied (the batch buffer is aliased);
//  * Tap steps pack and accumulate a merged tap once with its summed weight, like the CPU.
#include "kernels/cpu/signpack.h"
#include "kernels/cuda/batchnorm.cuh"
#include "kernels/cuda/bn_add_pack.cuh"
#include "kernels/cuda/conv2d.cuh"
#include "kernels/cuda/elementwise.cuh"
#include "kernels/cuda/pool.cuh"
#include "kernels/cuda/popcount_k.cuh"
#include "kernels/cuda/signpack.cuh"
#include "runtime/cuda/lane.h"
#include "runtime/error.h"

namespace naswot::rt {
namespace {

constexpr int kMaxConcatInputs = 64;  // host arrays on the stack; spaces use 2..8

size_t align256(size_t bytes) { return (bytes + 255) / 256 * 256; }

}  // namespace

cuda::Conv2dShape conv_shape(const Plan& plan, const Op& op) {
  const Shape4 x = plan.tensor(op.inputs.at(0)).shape;
  const ConvAttr& a = op.conv;
  return {x.n,        x.h,        x.w,          x.c,          a.out_channels, a.kernel_h, a.kernel_w,
          a.stride_h, a.stride_w, a.pad_h,      a.pad_w,      a.dilation_h,   a.dilation_w, a.groups};
}

bool supports(const Op& op) {
  switch (op.kind) {
    case OpKind::Input:
    case OpKind::Conv:
    case OpKind::BatchNorm:
    case OpKind::Relu:
    case OpKind::Add:
    case OpKind::AvgPool:
    case OpKind::MaxPool:
    case OpKind::Zero:
    case OpKind::Shift:
    case OpKind::GlobalAvgPool:
    case OpKind::Linear:
    case OpKind::Tap: return true;
    case OpKind::Concat: return op.inputs.size() <= static_cast<size_t>(kMaxConcatInputs);
  }
  return false;
}

void Lane::run_step(const Plan& plan, const Step& step, Counting counting, ConvPlanCache& convs) {
  const Op& op = plan.graph().ops[static_cast<size_t>(step.op)];
  cudaStream_t s = m_stream.get();
  auto in_shape = [&](size_t k) { return plan.tensor(op.inputs[k]).shape; };
  auto x = [&](size_t k) { return tensor(op.inputs[k]); };
  auto param = [&](size_t k) {  // k-th parameter slot of this op, on the device
    return reinterpret_cast<const float*>(region(ArenaRegion::Params)) +
           m_slots[static_cast<size_t>(m_first_slot[static_cast<size_t>(step.op)]) + k].offset;
  };
  switch (op.kind) {
    case OpKind::Input: return;  // aliased, never scheduled
    case OpKind::Conv: {
      const cuda::Conv2dShape cs = conv_shape(plan, op);
      const ConvPlan& cp = convs.get(m_cudnn.get(), conv_key(cs));
      NASWOT_EXPECT(cp.workspace_bytes <= m_capacity.workspace_bytes, Internal,
                    "conv workspace " << cp.workspace_bytes << " exceeds the arena's " << m_capacity.workspace_bytes);
      cuda::conv2d(cp.view(m_cudnn.get()), cs, x(0), param(0), op.bias.empty() ? nullptr : param(1),
                   tensor(op.output), region(ArenaRegion::Workspace), s);
      return;
    }
    case OpKind::BatchNorm: run_node(plan, step, counting); return;  // lone BN: one-term node
    case OpKind::Add:
      if (step.kind == StepKind::Node) {
        run_node(plan, step, counting);
      } else {
        std::vector<const float*> xs(op.inputs.size());
        for (size_t k = 0; k < xs.size(); ++k) xs[k] = x(k);
        cuda::add_n(xs.data(), static_cast<int>(xs.size()), plan.tensor(op.output).shape.numel(), tensor(op.output), s);
      }
      return;
    case OpKind::Relu: cuda::relu(x(0), in_shape(0).numel(), tensor(op.output), s); return;
    case OpKind::AvgPool:
    case OpKind::MaxPool: {
      const Shape4 i = in_shape(0);
      const cuda::Pool2dShape ps{i.n, i.h, i.w, i.c, op.pool.kernel, op.pool.stride, op.pool.pad};
      if (op.kind == OpKind::AvgPool)
        cuda::avgpool2d(ps, op.pool.count_include_pad, x(0), tensor(op.output), s);
      else
        cuda::maxpool2d(ps, x(0), tensor(op.output), s);
      return;
    }
    case OpKind::Zero: {
      const Shape4 i = in_shape(0);
      cuda::zero(x(0), i.n, i.h, i.w, i.c, op.pool.stride, tensor(op.output), s);
      return;
    }
    case OpKind::Shift: {
      const Shape4 i = in_shape(0);
      cuda::shift_up_left(x(0), i.n, i.h, i.w, i.c, tensor(op.output), s);
      return;
    }
    case OpKind::Concat: {
      const float* xs[kMaxConcatInputs];
      int channels[kMaxConcatInputs];
      for (size_t k = 0; k < op.inputs.size(); ++k) {
        xs[k] = x(k);
        channels[k] = in_shape(k).c;
      }
      const Shape4 o = plan.tensor(op.output).shape;
      cuda::concat_channels(xs, channels, static_cast<int>(op.inputs.size()), static_cast<int64_t>(o.n) * o.h * o.w,
                            tensor(op.output), s);
      return;
    }
    case OpKind::GlobalAvgPool: {
      const Shape4 i = in_shape(0);
      cuda::global_avgpool(i.n, static_cast<int64_t>(i.h) * i.w, i.c, x(0), tensor(op.output), s);
      return;
    }
    case OpKind::Linear: {
      const Shape4 i = in_shape(0);
      cuda::linear(x(0), i.n, static_cast<int>(i.per_image()), op.out_features, param(0),
                   op.bias.empty() ? nullptr : param(1), tensor(op.output), s);
      return;
    }
    case OpKind::Tap: {
      const PlannedTap& tap = plan.taps()[static_cast<size_t>(step.tap_slot)];
      run_tap(plan, step.tap_slot, counting, tensor(tap.tensor));
      return;
    }
  }
  throw_error(ErrorKind::Internal, std::string("cuda backend: unexpected op kind ") + to_string(op.kind));
}

void Lane::run_node(const Plan& plan, const Step& step, Counting counting) {
  const Graph& g = plan.graph();
  const Op& op = g.ops[static_cast<size_t>(step.op)];
  const Shape4 out = plan.tensor(op.output).shape;
  const int64_t rows = static_cast<int64_t>(out.n) * out.h * out.w;
  const size_t stat_bytes = align256(static_cast<size_t>(out.c) * sizeof(float));
  unsigned char* stats = region(ArenaRegion::Stats);
  cuda::BnAddTerm terms[cuda::kMaxBnAddTerms];
  for (int k = 0; k < step.num_terms; ++k) {
    const NodeTerm& nt = m_schedule.terms()[static_cast<size_t>(step.first_term + k)];
    terms[k].x = tensor(nt.x);
    if (nt.bn_op < 0) continue;
    const Op& bn = g.ops[static_cast<size_t>(nt.bn_op)];
    auto* mean = reinterpret_cast<float*>(stats + (3 * static_cast<size_t>(k) + 0) * stat_bytes);
    auto* var = reinterpret_cast<float*>(stats + (3 * static_cast<size_t>(k) + 1) * stat_bytes);
    auto* invstd = reinterpret_cast<float*>(stats + (3 * static_cast<size_t>(k) + 2) * stat_bytes);
    cuda::batchnorm_stats_invstd(terms[k].x, rows, out.c, bn.eps, mean, var, invstd, region(ArenaRegion::BnScratch), m_stream.get());
    const int slot = m_first_slot[static_cast<size_t>(nt.bn_op)];
    const float* params = reinterpret_cast<const float*>(region(ArenaRegion::Params));
    terms[k].mean = mean;
    terms[k].invstd = invstd;
    terms[k].gamma = params + m_slots[static_cast<size_t>(slot)].offset;
    terms[k].beta = params + m_slots[static_cast<size_t>(slot) + 1].offset;
  }
  const int weight = step.tap_slot >= 0 ? plan.taps()[static_cast<size_t>(step.tap_slot)].weight(counting) : 0;
  uint64_t* bits = weight != 0 ? reinterpret_cast<uint64_t*>(region(ArenaRegion::Bits)) : nullptr;
  cuda::bn_add_pack(terms, step.num_terms, step.sum_from_zero, out.n, out.per_image(), out.c, tensor(op.output),
                    nullptr, bits, m_stream.get());
  if (bits != nullptr) {
    const PlannedTap& tap = plan.taps()[static_cast<size_t>(step.tap_slot)];
    cuda::popcount_k_accumulate(bits, out.n, cpu::sign_words(tap.units), tap.units, weight, m_k, m_stream.get());
  }
}

void Lane::run_tap(const Plan& plan, int slot, Counting counting, const float* x) {
  const PlannedTap& tap = plan.taps()[static_cast<size_t>(slot)];
  const int weight = tap.weight(counting);
  if (weight == 0) return;
  auto* bits = reinterpret_cast<uint64_t*>(region(ArenaRegion::Bits));
  cuda::sign_pack(x, plan.batch(), tap.units, bits, m_stream.get());
  cuda::popcount_k_accumulate(bits, plan.batch(), cpu::sign_words(tap.units), tap.units, weight, m_k, m_stream.get());
}

}  // namespace naswot::rt
