// The CUDA backend's execution schedule for one Plan: which ops run fused, in which order, and
// where every materialised tensor lives in the device arena.
// Fusion (the "node" step, kernels/cuda/bn_add_pack.cuh): an Add whose input is a BatchNorm
// output read by nothing else (no tap, not the network output) absorbs that BatchNorm: the node
// step computes the BN statistics of the BN's input and applies BN + sum + sign-pack in one pass;
// the BN output is never materialised. A stride-1 Zero (NB-201's "none") read only by such an Add
// is absorbed the same way: the node reads the Zero's input and adds x * 0 (bit-identical to the
// Zero op, NaN included), so neither the zero tensor nor its pass exists. A BatchNorm that is not
// absorbed becomes a one-term node step (BN apply + sign bits), and so does a stride-1 Zero that
// is not (NB-201's node 1 behind a "none" edge: the node writes x * 0 and packs its sign bits,
// which saves the Tap step; on the stacked path it is a node output, so the convolutions
// reading it take node copies instead of a gather). A node step also handles the taps on its output (same K, the
// bits come free), so later Tap ops of that tensor are dropped; other taps become Tap steps
// (sign_pack + popcount) at their first occurrence, merged as the Plan merged them.
// Arena: the Plan's offsets assume every op writes its own output; fusion changes lifetimes (a
// BN's input must now live until the Add), so the schedule re-runs liveness over its own steps
// and places tensors first-fit (256-byte aligned, outputs placed before the step's dead inputs
// are released, so no step overwrites what it reads). The network input is not copied: it
// aliases the bound batch buffer. A ReLU the Plan dropped as a duplicate (same input as a
// scheduled ReLU) aliases that ReLU's output: offset() returns the shared place, and steps
// (terms, reads) always name the canonical tensor.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "runtime/plan.h"

namespace naswot::rt {

inline constexpr size_t kNotMaterialised = static_cast<size_t>(-1);
inline constexpr size_t kBatchAlias = static_cast<size_t>(-2);

struct NodeTerm {
  TensorId x = kNoTensor;  // the tensor read: the BN's (or Zero's) input for such a term, else the Add's input
  int bn_op = -1;          // index of the absorbed/own BatchNorm op, -1 for a plain term
  int zero_op = -1;        // index of an absorbed stride-1 Zero op: the term is x * 0
};

enum class StepKind : uint8_t {
  Run,   // one op through its own kernel(s)
  Node,  // Add (any number of BN terms) or lone BatchNorm, fused with the sign bits of its output
  Tap,   // sign_pack + popcount of a merged tap not covered by a node
};

struct Step {
  StepKind kind = StepKind::Run;
  int op = -1;               // graph op index (for Tap: the first Tap op of the merged slot)
  int first_term = 0;        // Node: terms()[first_term .. first_term + num_terms)
  int num_terms = 0;
  bool sum_from_zero = false;  // Node: Add semantics (0 + t0 + ...) vs lone BatchNorm (t0)
  int tap_slot = -1;         // Node/Tap: index into plan.taps(), -1 when the output is not tapped
};

class Schedule {
 public:
  // Rebuild for `plan` (reuses capacity). Adds with more than max_node_terms inputs stay Run.
  void build(const Plan& plan, int max_node_terms);

  const std::vector<Step>& steps() const { return m_steps; }
  const std::vector<NodeTerm>& terms() const { return m_terms; }
  // Offset in floats from the tensor region start, kBatchAlias for the network input,
  // kNotMaterialised for a fused-away BN output or a dead tensor.
  size_t offset(TensorId t) const { return m_offset.at(static_cast<size_t>(t)); }
  size_t tensor_floats() const { return m_tensor_floats; }
  // The tensor that holds t's values (t itself unless t is a dropped duplicate ReLU's output).
  TensorId canonical(TensorId t) const { return m_canon.at(static_cast<size_t>(t)); }
  int absorbed_batchnorms() const { return m_absorbed; }
  int absorbed_zeros() const { return m_absorbed_zeros; }

 private:
  std::vector<Step> m_steps;
  std::vector<NodeTerm> m_terms;
  std::vector<size_t> m_offset;
  std::vector<TensorId> m_canon;
  size_t m_tensor_floats = 0;
  int m_absorbed = 0;
  int m_absorbed_zeros = 0;
};

}  // namespace naswot::rt
