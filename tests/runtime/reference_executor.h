// Test-only reference executor: a deliberately naive interpreter of an rt::Graph that the tests
// hold CpuBackend (and through it every backend) against. It shares nothing with rt::Plan:
//  * one std::vector<float> per tensor (NHWC), no arena, no aliasing; every op of the graph runs,
//    dead ones included, in graph order; a tensor is freed after its last reader;
//  * its own shape inference (PyTorch's floor formulas);
//  * conv and BatchNorm through the naive cpu::*_reference kernels, everything else plain loops
//    (accumulations in double);
//  * a Tap counts iff its anchor is the output or an ancestor of it (DFS from graph.output over
//    op inputs), each Tap on its own: codes unpacked to one 0/1 byte per unit, K accumulated by
//    cpu::popcount_k_reference with the tap's weight for the counting mode.
#pragma once
#include <cstdint>
#include <vector>

#include "runtime/backend.h"
#include "runtime/batch.h"
#include "runtime/graph.h"
#include "runtime/params.h"
#include "runtime/plan.h"

namespace naswot::test {

struct ReferenceResult {
  rt::KMatrix k;
  int64_t n_units = 0;             // N_A: sum over counted taps of units x weight
  int counted_taps = 0;            // Tap ops that counted (before any merging)
  std::vector<rt::Shape4> shapes;  // per tensor, from the executor's own shape inference
};

// ancestors[t]: t is graph.output or an input (transitively) of the op producing it.
std::vector<bool> reference_ancestors(const rt::Graph& graph);

// Per-tensor shapes for an input batch shape (every op, dead ones included). Throws Internal
// when an op does not fit its input.
std::vector<rt::Shape4> reference_shapes(const rt::Graph& graph, rt::Shape4 input);

ReferenceResult reference_compute_k(const rt::Graph& graph, const rt::Params& params, const rt::Batch& batch,
                                    rt::Counting counting);

}  // namespace naswot::test
