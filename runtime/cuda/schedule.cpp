// Schedule construction (see schedule.h): fusion decisions, step list, liveness, first-fit
// placement. Host-only code, O(ops) per architecture.
#include "runtime/cuda/schedule.h"

#include <algorithm>
#include <utility>

#include "runtime/cuda/first_fit.h"
#include "runtime/error.h"

namespace naswot::rt {
namespace {

size_t align_floats(size_t floats) { return (floats + kArenaAlignFloats - 1) / kArenaAlignFloats * kArenaAlignFloats; }

}  // namespace

void Schedule::build(const Plan& plan, int max_node_terms) {
  const Graph& g = plan.graph();
  const size_t tensors = static_cast<size_t>(g.num_tensors);

  // Aliases: the Plan drops ReLUs whose output equals an executed one (several hooked ReLUs
  // reading one node tensor); plan.canonical(t) is the tensor that holds t's values.
  auto c = [&](TensorId t) { return plan.canonical(t); };

  std::vector<int> producer(tensors, -1), readers(tensors, 0), slot_of(tensors, -1);
  for (int i : plan.order()) {
    const Op& op = g.ops[static_cast<size_t>(i)];
    if (op.output != kNoTensor) producer[static_cast<size_t>(op.output)] = i;
    for (TensorId t : op.inputs) ++readers[static_cast<size_t>(c(t))];
  }
  for (int i : plan.order()) {  // every read tensor is produced by a scheduled op or is the input
    for (TensorId t : g.ops[static_cast<size_t>(i)].inputs)
      NASWOT_EXPECT(c(t) == g.input || producer[static_cast<size_t>(c(t))] >= 0, Internal,
                    "schedule: op '" << g.ops[static_cast<size_t>(i)].name << "' reads tensor " << t
                                     << ", which no scheduled op produces");
  }
  for (size_t s = 0; s < plan.taps().size(); ++s) slot_of[static_cast<size_t>(plan.taps()[s].tensor)] = static_cast<int>(s);

  // Fusion decisions.
  std::vector<bool> absorbed(g.ops.size(), false);
  m_absorbed = 0;
  m_absorbed_zeros = 0;
  for (int i : plan.order()) {
    const Op& op = g.ops[static_cast<size_t>(i)];
    if (op.kind != OpKind::Add || static_cast<int>(op.inputs.size()) > max_node_terms) continue;
    for (TensorId input : op.inputs) {
      const TensorId t = c(input);
      const int p = producer[static_cast<size_t>(t)];
      if (p < 0) continue;
      const Op& prod = g.ops[static_cast<size_t>(p)];
      const bool bn = prod.kind == OpKind::BatchNorm;
      const bool zero = prod.kind == OpKind::Zero && prod.pool.stride == 1;
      if (!bn && !zero) continue;
      if (readers[static_cast<size_t>(t)] != 1 || t == c(g.output)) continue;
      absorbed[static_cast<size_t>(p)] = true;
      ++(bn ? m_absorbed : m_absorbed_zeros);
    }
  }

  // Steps.
  m_steps.clear();
  m_terms.clear();
  std::vector<bool> slot_done(plan.taps().size(), false);
  auto node_slot = [&](TensorId out) {
    const int s = slot_of[static_cast<size_t>(out)];
    if (s >= 0) slot_done[static_cast<size_t>(s)] = true;
    return s;
  };
  for (int i : plan.order()) {
    const Op& op = g.ops[static_cast<size_t>(i)];
    Step step;
    step.op = i;
    if (op.kind == OpKind::Zero && absorbed[static_cast<size_t>(i)]) continue;  // a term of its Add
    switch (op.kind) {
      case OpKind::Input: continue;
      case OpKind::BatchNorm:
        if (absorbed[static_cast<size_t>(i)]) continue;
        step.kind = StepKind::Node;
        step.first_term = static_cast<int>(m_terms.size());
        step.num_terms = 1;
        m_terms.push_back({c(op.inputs.at(0)), i, -1});
        step.tap_slot = node_slot(op.output);
        break;
      case OpKind::Zero:  // not absorbed (checked above)
        if (op.pool.stride != 1) break;  // Run: the output is smaller than the input
        step.kind = StepKind::Node;      // y = x * 0, one zero term
        step.first_term = static_cast<int>(m_terms.size());
        step.num_terms = 1;
        m_terms.push_back({c(op.inputs.at(0)), -1, i});
        step.tap_slot = node_slot(op.output);
        break;
      case OpKind::Add:
        if (static_cast<int>(op.inputs.size()) > max_node_terms) break;  // Run
        step.kind = StepKind::Node;
        step.first_term = static_cast<int>(m_terms.size());
        step.num_terms = static_cast<int>(op.inputs.size());
        step.sum_from_zero = true;
        for (TensorId input : op.inputs) {
          const TensorId t = c(input);
          const int p = producer[static_cast<size_t>(t)];
          if (p >= 0 && absorbed[static_cast<size_t>(p)]) {
            const Op& prod = g.ops[static_cast<size_t>(p)];
            const bool bn = prod.kind == OpKind::BatchNorm;
            m_terms.push_back({c(prod.inputs.at(0)), bn ? p : -1, bn ? -1 : p});
          } else {
            m_terms.push_back({t, -1, -1});
          }
        }
        step.tap_slot = node_slot(op.output);
        break;
      case OpKind::Tap: {
        const int s = plan.tap_slot(i);
        NASWOT_EXPECT(s >= 0, Internal, "schedule: live tap '" << op.name << "' has no slot");
        if (slot_done[static_cast<size_t>(s)]) continue;
        slot_done[static_cast<size_t>(s)] = true;
        step.kind = StepKind::Tap;
        step.tap_slot = s;
        break;
      }
      default: break;  // Run
    }
    m_steps.push_back(step);
  }

  // Liveness over the steps: reads and writes.
  auto for_each_read = [&](const Step& step, auto&& fn) {
    const Op& op = g.ops[static_cast<size_t>(step.op)];
    if (step.kind == StepKind::Node) {
      for (int k = 0; k < step.num_terms; ++k) fn(m_terms[static_cast<size_t>(step.first_term + k)].x);
    } else if (step.kind == StepKind::Tap) {
      fn(plan.taps()[static_cast<size_t>(step.tap_slot)].tensor);
    } else {
      for (TensorId t : op.inputs) fn(c(t));
    }
  };
  const int never = -1;
  std::vector<int> last_use(tensors, never);
  for (size_t pos = 0; pos < m_steps.size(); ++pos)
    for_each_read(m_steps[pos], [&](TensorId t) { last_use[static_cast<size_t>(t)] = static_cast<int>(pos); });
  last_use[static_cast<size_t>(c(g.output))] = static_cast<int>(m_steps.size());

  m_offset.assign(tensors, kNotMaterialised);
  m_offset[static_cast<size_t>(c(g.input))] = kBatchAlias;
  FirstFit fit;
  auto size_of = [&](TensorId t) { return align_floats(static_cast<size_t>(plan.tensor(t).shape.numel())); };
  std::vector<TensorId> released;
  for (size_t pos = 0; pos < m_steps.size(); ++pos) {
    const Step& step = m_steps[pos];
    const Op& op = g.ops[static_cast<size_t>(step.op)];
    if (step.kind != StepKind::Tap && op.output != kNoTensor) {
      m_offset[static_cast<size_t>(op.output)] = fit.allocate(size_of(op.output));
      if (last_use[static_cast<size_t>(op.output)] == never) fit.release(m_offset[static_cast<size_t>(op.output)], size_of(op.output));
    }
    released.clear();
    for_each_read(step, [&](TensorId t) {
      const size_t off = m_offset[static_cast<size_t>(t)];
      if (last_use[static_cast<size_t>(t)] != static_cast<int>(pos) || off == kBatchAlias || off == kNotMaterialised) return;
      if (std::find(released.begin(), released.end(), t) != released.end()) return;  // add(x, x)
      released.push_back(t);
      fit.release(off, size_of(t));
    });
  }
  m_tensor_floats = fit.high_water();
  for (size_t t = 0; t < tensors; ++t) m_offset[t] = m_offset[static_cast<size_t>(c(static_cast<TensorId>(t)))];
  m_canon.resize(tensors);
  for (size_t t = 0; t < tensors; ++t) m_canon[t] = c(static_cast<TensorId>(t));
}

}  // namespace naswot::rt
