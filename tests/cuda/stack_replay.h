// StackReplay: a StackPlan (runtime/cuda/stack_plan.h) executed step by step with the CPU
// kernels, in one arena laid out as the plan says (filled with NaN first). Used by
// stack_replay_test.cpp (every member's K must equal CpuBackend's) and by the device test that
// compares the CUDA runner with it after every step (stack_backend_test.cpp).
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <vector>

#include "cpu_run_op.h"
#include "kernels/cpu/batchnorm.h"
#include "kernels/cpu/bn_add_pack.h"
#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/popcount_k.h"
#include "kernels/cpu/signpack.h"
#include "runtime/backend.h"
#include "runtime/batch.h"
#include "runtime/cuda/stack_plan.h"

namespace naswot::test {

class StackReplay {
 public:
  StackReplay(const rt::StackPlan& sp, const rt::Batch& batch)
      : m_sp(sp), m_batch(batch), m_arena(sp.arena_floats(), std::numeric_limits<float>::quiet_NaN()),
        m_ks(static_cast<size_t>(sp.architectures())), m_unstored(sp.blocks().size()) {
    for (rt::KMatrix& k : m_ks) k.reset(batch.shape.n);
    for (const rt::StackNode& node : sp.nodes())
      for (const rt::StackNodeArch& na : node.archs)
        if (!na.store_y) m_unstored[static_cast<size_t>(na.y.block)].push_back(na.y.rank);
  }
  void run() {
    for (size_t p = 0; p < m_sp.steps().size(); ++p) step(p);
  }
  const std::vector<rt::KMatrix>& ks() const { return m_ks; }
  // Segment `rank` of `block` (the batch for kBatchBlock).
  float* seg(int block, int rank) {
    if (block == rt::kBatchBlock) {
      EXPECT_EQ(rank, 0);
      return const_cast<float*>(m_batch.data.data());
    }
    // A node output the plan does not store has no place in the arena: nothing may touch it.
    const std::vector<int>& unstored = m_unstored[static_cast<size_t>(block)];
    if (std::find(unstored.begin(), unstored.end(), rank) != unstored.end())
      ADD_FAILURE() << "a step reads node output block " << block << " segment " << rank
                    << ", which the plan does not store (store_y false)";
    return m_arena.data() + m_sp.blocks()[static_cast<size_t>(block)].segment_offset(rank);
  }
  float* ptr(const rt::StackRef& r) { return seg(r.block, r.rank); }

  void step(size_t p) {
    const rt::StackPlan& sp = m_sp;
    const rt::StackStep& step = sp.steps()[p];
    const int n = m_batch.shape.n;
    std::vector<rt::KMatrix>& ks = m_ks;
    auto bits_of = [&](int block, int rank) { return reinterpret_cast<uint64_t*>(seg(block, rank)); };
    (void)n;
    switch (step.kind) {
      case rt::StackStepKind::Gather: {
        const rt::StackGather& g = sp.gathers()[static_cast<size_t>(step.index)];
        const rt::StackBlock& dst = sp.blocks()[static_cast<size_t>(g.dst_block)];
        for (size_t s = 0; s < g.src.size(); ++s) {
          const float* x = ptr(g.src[s]);
          float* y = seg(g.dst_block, static_cast<int>(s));
          if (g.src[s].relu)
            cpu::relu(x, dst.seg_floats, y);
          else
            std::copy(x, x + dst.seg_floats, y);
        }
        break;
      }
      case rt::StackStepKind::Run: {
        const rt::StackRun& run = sp.runs()[static_cast<size_t>(step.index)];
        const rt::Plan& plan = sp.plan(run.arch);
        const rt::Op& op = plan.graph().ops[static_cast<size_t>(run.op)];
        std::vector<rt::Shape4> in;
        for (rt::TensorId t : op.inputs) in.push_back(plan.tensor(t).shape);
        for (int s = 0; s < run.segments; ++s) {  // per segment: conv results must not depend on N
          std::vector<const float*> xs;
          for (size_t k = 0; k < op.inputs.size(); ++k)
            xs.push_back(run.table_src.empty() ? seg(run.in_block[k], run.in_rank[k] + s)
                                               : ptr(run.table_src[static_cast<size_t>(s)]));
          cpu_run_op(op, in, plan.tensor(op.output).shape, xs, run.weight ? run.weight->data.data() : nullptr,
                     run.bias ? run.bias->data.data() : nullptr, seg(run.out_block, s));
        }
        break;
      }
      case rt::StackStepKind::Node: {
        const rt::StackNode& node = sp.nodes()[static_cast<size_t>(step.index)];
        const int c = node.out.c;
        const int64_t rows = static_cast<int64_t>(node.out.n) * node.out.h * node.out.w;
        const int64_t c_aligned = rt::stack_stats_floats(c) / 3;
        for (const rt::StackStats& st : node.stats) {
          float* mean = seg(node.stats_block, st.rank);
          cpu::batchnorm_stats(ptr(st.x), rows, c, mean, mean + c_aligned);
          cpu::batchnorm_invstd(mean + c_aligned, c, st.eps, mean + 2 * c_aligned);
        }
        for (size_t i = 0; i < node.archs.size(); ++i) {
          const rt::StackNodeArch& na = node.archs[i];
          std::vector<cpu::BnAddTerm> terms;
          for (const rt::StackNodeTerm& t : na.terms) {
            cpu::BnAddTerm term;
            term.x = ptr(t.x);
            term.zero = t.zero;
            term.pool = t.x.pool;
            if (t.stats >= 0) {
              const float* mean = seg(node.stats_block, node.stats[static_cast<size_t>(t.stats)].rank);
              term.mean = mean;
              term.invstd = mean + 2 * c_aligned;
              term.gamma = t.gamma->data.data();
              term.beta = t.beta->data.data();
            }
            terms.push_back(term);
          }
          uint64_t* bits = na.pack ? bits_of(node.bits_block, static_cast<int>(i)) : nullptr;
          // An output that is not stored (store_y false) has no place in the arena: computed aside.
          std::vector<float> aside(na.store_y ? 0 : static_cast<size_t>(node.out.numel()));
          float* y = na.store_y ? ptr(na.y) : aside.data();
          cpu::bn_add_pack(terms.data(), static_cast<int>(terms.size()), node.sum_from_zero, node.out.n,
                           node.out.per_image(), c, y, nullptr, bits);
          for (const rt::StackCopy& copy : na.copies) {
            float* to = seg(copy.block, copy.rank);
            if (copy.relu)
              cpu::relu(y, node.out.numel(), to);
            else
              std::copy(y, y + node.out.numel(), to);
          }
        }
        for (const rt::StackNodeUse& use : node.uses)
          cpu::popcount_k_accumulate(bits_of(node.bits_block, use.computation), n, cpu::sign_words(node.out.per_image()),
                                     node.out.per_image(), use.weight, ks[static_cast<size_t>(use.arch)].values.data());
        break;
      }
      case rt::StackStepKind::Tap: {
        const rt::StackTap& tap = sp.taps()[static_cast<size_t>(step.index)];
        for (size_t i = 0; i < tap.archs.size(); ++i) {
          uint64_t* bits = bits_of(tap.bits_block, static_cast<int>(i));
          cpu::sign_pack(ptr(tap.archs[i].x), tap.n, tap.units, bits);
          cpu::popcount_k_accumulate(bits, tap.n, cpu::sign_words(tap.units), tap.units, tap.archs[i].weight,
                                     ks[static_cast<size_t>(tap.archs[i].arch)].values.data());
        }
        break;
      }
    }
  }

 private:
  const rt::StackPlan& m_sp;
  const rt::Batch& m_batch;
  std::vector<float> m_arena;
  std::vector<rt::KMatrix> m_ks;
  std::vector<std::vector<int>> m_unstored;  // per block: ranks of node outputs not stored
};

// Every member's K after running the whole plan.
inline std::vector<rt::KMatrix> replay(const rt::StackPlan& sp, const rt::Batch& batch) {
  StackReplay r(sp, batch);
  r.run();
  return r.ks();
}

}  // namespace naswot::test
