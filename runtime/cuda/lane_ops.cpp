// The CUDA backend's op dispatch for one architecture: Lane::run_step sends per-image ops to
// enqueue_run_op (run_op.h, one switch over OpKind shared with the stacked path) and runs node
// and tap steps here; supports() lists the same cases (STYLE.md habit 12). Semantics equal CpuBackend's;
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
#include "runtime/cuda/run_op.h"
#include "runtime/error.h"

namespace naswot::rt {
namespace {

size_t align256(size_t bytes) { return (bytes + 255) / 256 * 256; }

}  // namespace

cuda::Conv2dShape conv_shape(const Plan& plan, const Op& op) { return conv_shape_of(op, plan.tensor(op.inputs.at(0)).shape); }

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
    case OpKind::Concat: return op.inputs.size() <= kMaxRunOpInputs;
  }
  return false;
}

void Lane::run_step(const Plan& plan, const Step& step, Counting counting, ConvPlanCache& convs) {
  const Op& op = plan.graph().ops[static_cast<size_t>(step.op)];
  if (op.kind == OpKind::Input) return;  // aliased, never scheduled
  if (step.kind == StepKind::Node) {
    run_node(plan, step, counting);
    return;
  }
  if (step.kind == StepKind::Tap) {
    const PlannedTap& tap = plan.taps()[static_cast<size_t>(step.tap_slot)];
    run_tap(plan, step.tap_slot, counting, tensor(tap.tensor));
    return;
  }
  auto param = [&](size_t k) {  // k-th parameter slot of this op, on the device
    return reinterpret_cast<const float*>(region(ArenaRegion::Params)) +
           m_slots[static_cast<size_t>(m_first_slot[static_cast<size_t>(step.op)]) + k].offset;
  };
  NASWOT_EXPECT(op.inputs.size() <= kMaxRunOpInputs, Unsupported,
                "op '" << op.name << "' has more than " << kMaxRunOpInputs << " inputs");
  const float* xs[kMaxRunOpInputs];
  Shape4 in[kMaxRunOpInputs];
  for (size_t k = 0; k < op.inputs.size(); ++k) {
    xs[k] = tensor(op.inputs[k]);
    in[k] = plan.tensor(op.inputs[k]).shape;
  }
  RunOpArgs args;
  args.op = &op;
  args.in = in;
  args.out = plan.tensor(op.output).shape;
  args.xs = xs;
  const bool has_params = m_first_slot[static_cast<size_t>(step.op)] >= 0;
  args.weight = has_params ? param(0) : nullptr;
  args.bias = has_params && !op.bias.empty() ? param(1) : nullptr;
  args.y = tensor(op.output);
  if (op.kind == OpKind::Conv) args.conv = &convs.get(m_cudnn.get(), conv_key(conv_shape(plan, op)));
  args.cudnn = m_cudnn.get();
  args.workspace = region(ArenaRegion::Workspace);
  args.workspace_bytes = m_capacity.workspace_bytes;
  args.stream = m_stream.get();
  enqueue_run_op(args);
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
    terms[k].zero = nt.zero_op >= 0;
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
