// StackPlan: a group of architectures executed as one stream of launches ("stacked" execution).
// Several architectures of one space share most of their structure and, through
// ParamInitCache, the weights of their common modules: the same conv at the same place has the
// same tensor. One launch can therefore run a step for every architecture that has it, with the
// architectures as segments of a larger batch (N' = segments x n). That replaces ~500 small
// launches per architecture by ~500 per group (NOTES.md: the lane path is launch-bound).
//
// Input: G architectures, each with its Plan, Params and Schedule (runtime/cuda/schedule.h, the
// per-architecture fusion decisions). Steps of different architectures are the same "class"
// when they have the same signature:
//  * Run (per-image ops: conv, pools, zero, shift, concat, gap, linear, relu, n-ary add): op
//    kind, name, attributes, input shapes and the identity (address) of every parameter tensor;
//    one Run launch over the class's segments, inputs either contiguous in the right order
//    already or first gathered into a fresh block (StackGather, which also applies a ReLU view);
//    pools read a non-contiguous input through a per-segment table instead (no gather);
//  * Node (BN + sum + sign bits, then the popcount into K) and Tap: op name and shape; each
//    architecture's own terms, statistics, weights and K go through per-segment tables, so the
//    inputs are never gathered;
//  * a ReLU whose readers are all Run steps is a "view": not executed, its readers' gathers apply
//    it (NB-201's ReLUConvBN: the ReLU pass and the gather are one pass);
//  * likewise a pool (avg or max) whose readers are all plain node terms (NB-201's avg_pool edges,
//    DARTS's pool edges) is a view: the node pass reads the pool's input and pools each element
//    itself (cpu::TermPool), so the pool output is never written nor read back;
//  * a gather whose sources are all node outputs is no step at all: the node passes that produce
//    the sources also write them (relu applied) into the gathered block ("copies", StackCopy).
//    That saves a read of every gathered tensor; the block then lives from the first such node.
//    A node member whose output only such readers read does not store it at all (store_y).
// Members of a class that read the same tensors compute the same thing, once: a Run class runs
// one segment per distinct input tuple, a Node class one computation per distinct list of terms
// (same tensors, same BN parameters), whose bits feed the K of every member that has it. A Run
// class whose inputs are the same for every member (the stem, cell 0's edges from node 0) has
// one segment; its output block is "broadcast". In a group cut in stack_order the members share
// their first edges, so the stem node and much of cell 0 are computed once, and so are the
// convolutions that read them.
// Classes are ordered by a topological sort of the union of the architectures' step orders; two
// architectures that order two classes differently make build() throw Internal (the caller runs
// the lane path instead).
// Memory: every block (outputs, gathers, BN statistics, packed bits) is placed first-fit in one
// arena by liveness over the stacked steps; offsets are floats, 256-byte aligned. Host-only:
// tests/cuda/stack_replay_test.cpp replays a StackPlan with the CPU kernels and asserts every
// architecture's K equals CpuBackend's.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/cpu/bn_add_pack.h"
#include "runtime/params.h"
#include "runtime/plan.h"
#include "runtime/cuda/schedule.h"

namespace naswot::rt {

inline constexpr int kBatchBlock = -1;  // StackRef::block of the bound input batch

// Where one architecture's tensor lives: segment `rank` of block `block`.
struct StackRef {
  int block = kBatchBlock;
  int rank = 0;
  bool relu = false;  // a ReLU view: the reader applies relu (only gathers and copies read views)
  cpu::TermPool pool{};  // a pool view (kind != None): the reader pools the tensor (only node terms read them)
  bool operator==(const StackRef&) const = default;
};

struct StackBlock {
  size_t offset = 0;       // floats from the arena start, 256-byte aligned
  int64_t seg_floats = 0;  // floats per segment
  int segments = 1;
  bool broadcast = false;  // one segment that every member's rank 0 .. reads (stride 0)
  size_t segment_offset(int rank) const {
    return offset + (broadcast ? 0 : static_cast<size_t>(rank) * static_cast<size_t>(seg_floats));
  }
};

enum class StackStepKind : uint8_t { Gather, Run, Node, Tap };

// dst segment s = (src[s].relu ? relu : copy) of src[s] (seg_floats each).
struct StackGather {
  int dst_block = -1;
  std::vector<StackRef> src;
};

// One op over `segments` architectures at once: input k is the contiguous segments
// [in_rank[k], in_rank[k] + segments) of block in_block[k] (kBatchBlock: the batch, segments == 1).
struct StackRun {
  int arch = -1;  // a member whose plan gives the op and its per-architecture shapes
  int op = -1;
  int segments = 0;
  std::vector<int> in_block, in_rank;
  int out_block = -1;
  // Pools whose input is not contiguous read it through a table instead of a gather: segment s
  // reads table_src[s] (in_block/in_rank are then unused).
  std::vector<StackRef> table_src;
  const ParamTensor* weight = nullptr;  // op.weight / op.bias of the member (shared by all)
  const ParamTensor* bias = nullptr;
};

struct StackStats {  // BN statistics of one term: mean, var, invstd at stats segment `rank`
  StackRef x;
  int rank = 0;
  float eps = 1e-5f;
};

struct StackNodeTerm {
  StackRef x;
  int stats = -1;   // index into StackNode::stats, -1 for a plain term
  int bn_op = -1;   // the BatchNorm op (in the member's graph) of a BN term
  bool zero = false;  // the term is x * 0 (an absorbed stride-1 Zero)
  const ParamTensor* gamma = nullptr;
  const ParamTensor* beta = nullptr;
};

// A node's output also written, in the same pass, to segment `rank` of `block` (relu applied
// when `relu`): the input block of a stacked Run that would otherwise gather it (StackGather's
// read and write become this write).
struct StackCopy {
  int block = -1;
  int rank = 0;
  bool relu = false;
};

inline constexpr int kMaxStackCopies = 4;  // per node member; equal to cuda::kMaxNodeCopies

// One computation of a node class: the BN + sum + sign bits of one member, or of several members
// whose terms are the same tensors with the same BN parameters (then `arch` is the first).
struct StackNodeArch {
  int arch = -1;
  std::vector<StackNodeTerm> terms;
  StackRef y;
  bool store_y = true;  // false: no step reads this output (its readers take copies); not written
  bool pack = false;    // some member taps the output: its sign bits are packed (then popcounted by uses)
  std::vector<StackCopy> copies;  // at most kMaxStackCopies
};

// A member's K takes `weight` x the popcount of computation `computation`'s bits.
struct StackNodeUse {
  int arch = -1;
  int computation = 0;  // index into StackNode::archs
  int weight = 0;       // tap weight under the plan's counting (non-zero)
};

// Node class: one statistics launch over every BN term of every computation, one bn_add_pack
// launch over the computations, one popcount launch over the uses. Bits of computation i are
// segment i of bits_block.
struct StackNode {
  int op = -1;
  int arch = -1;  // a member (shapes)
  bool sum_from_zero = false;
  Shape4 out;
  std::vector<StackStats> stats;
  int stats_block = -1;  // -1 when no term has a BN
  std::vector<StackNodeArch> archs;  // distinct computations; output and bits of archs[i] are segment i
  std::vector<StackNodeUse> uses;     // one per member with a non-zero tap weight
  int bits_block = -1;
};

struct StackTapArch {
  int arch = -1;
  StackRef x;
  int weight = 0;
};

struct StackTap {
  int n = 0;
  int64_t units = 0;
  std::vector<StackTapArch> archs;
  int bits_block = -1;
};

struct StackStep {
  StackStepKind kind = StackStepKind::Run;
  int index = 0;  // into gathers(), runs(), nodes() or taps()
};

// Floats of one statistics segment: mean, var, invstd of `channels`, each 256-byte aligned.
int64_t stack_stats_floats(int channels);
// Floats of one packed-bits segment: n rows of sign_words(units) uint64 words.
int64_t stack_bits_floats(int n, int64_t units);

// An order of `plans` for cutting groups: architectures that have the same convolutions, pools
// and zeros at the same places (compared in graph order: op name, kind, kernel size) come next
// to each other, so a group shares more classes and more steps read their inputs without a
// gather. A permutation of 0 .. plans.size() - 1; stable for equal keys.
std::vector<size_t> stack_order(const std::vector<const Plan*>& plans);

class StackPlan {
 public:
  // plans, params and schedules are per architecture (same bound batch shape); the schedules
  // were built for those plans. Everything referenced must outlive the StackPlan.
  void build(const std::vector<const Plan*>& plans, const std::vector<const Params*>& params,
             const std::vector<const Schedule*>& schedules, Counting counting);

  int architectures() const { return static_cast<int>(m_plans.size()); }
  const Plan& plan(int arch) const { return *m_plans.at(static_cast<size_t>(arch)); }
  const Params& params(int arch) const { return *m_params.at(static_cast<size_t>(arch)); }
  const std::vector<StackStep>& steps() const { return m_steps; }
  const std::vector<StackBlock>& blocks() const { return m_blocks; }
  const std::vector<StackGather>& gathers() const { return m_gathers; }
  const std::vector<StackRun>& runs() const { return m_runs; }
  const std::vector<StackNode>& nodes() const { return m_nodes; }
  const std::vector<StackTap>& taps() const { return m_taps; }
  size_t arena_floats() const { return m_arena_floats; }
  // Statistics for reports and tests.
  int broadcast_runs() const { return m_broadcast_runs; }
  int copied_inputs() const { return m_copied_inputs; }  // Run inputs written by node copies (no gather)
  int unstored_outputs() const { return m_unstored_outputs; }  // node computations that do not write y
  int pooled_terms() const { return m_pooled_terms; }  // node terms that pool their input (pool views)
  // Member steps of Run and Node classes computed once for several members (same inputs).
  int64_t shared_member_steps() const { return m_shared_member_steps; }
  int classes() const { return m_classes; }
  int64_t member_steps() const { return m_member_steps; }  // per-architecture steps merged

 private:
  std::vector<const Plan*> m_plans;
  std::vector<const Params*> m_params;
  std::vector<StackStep> m_steps;
  std::vector<StackBlock> m_blocks;
  std::vector<StackGather> m_gathers;
  std::vector<StackRun> m_runs;
  std::vector<StackNode> m_nodes;
  std::vector<StackTap> m_taps;
  size_t m_arena_floats = 0;
  int m_broadcast_runs = 0;
  int m_copied_inputs = 0;
  int m_unstored_outputs = 0;
  int m_pooled_terms = 0;
  int64_t m_shared_member_steps = 0;
  int m_classes = 0;
  int64_t m_member_steps = 0;
};

}  // namespace naswot::rt
