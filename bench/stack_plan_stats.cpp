// naswot_stack_stats: what stacked execution (runtime/cuda/stack_plan.h) does to a group of
// NB-201 architectures, without a GPU: launches per group and per architecture against the lane
// path, the bytes each kind of stacked step moves (gathers, outputs, node passes), the arena,
// and the host time to build the plans. Figures for bench/results/stack_plan_nb201.md; the
// GPU check measures the real rate.
//   naswot_stack_stats [group sizes...]   (default 1 8 32 64; batch 128, 32x32; groups cut from
//   256 random architectures as given and in stack_order, as CudaBackend::score_many cuts them)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cells/nb201.h"
#include "kernels/cuda/bn_add_pack.cuh"
#include "runtime/cuda/schedule.h"
#include "runtime/cuda/stack_plan.h"

namespace {

using namespace naswot;
using clock_type = std::chrono::steady_clock;

double us_since(clock_type::time_point t0) {
  return std::chrono::duration<double, std::micro>(clock_type::now() - t0).count();
}

// Launches of one lane-path architecture: Run 1, Tap 2 (pack + popcount), Node: one statistics
// launch per BN term, the node pass, the popcount when tapped.
int64_t lane_launches(const rt::Plan& plan, const rt::Schedule& s) {
  int64_t n = 0;
  for (const rt::Step& step : s.steps()) {
    if (step.kind == rt::StepKind::Run) n += 1;
    if (step.kind == rt::StepKind::Tap) n += 2;
    if (step.kind == rt::StepKind::Node) {
      for (int k = 0; k < step.num_terms; ++k) n += s.terms()[static_cast<size_t>(step.first_term + k)].bn_op >= 0;
      n += 1 + (step.tap_slot >= 0 && plan.taps()[static_cast<size_t>(step.tap_slot)].weight(rt::Counting::Reference) != 0);
    }
  }
  return n;
}

struct Totals {
  int64_t launches = 0, lane_launches = 0, steps = 0, member_steps = 0, archs = 0, groups = 0;
  double host_us = 0, max_arena_mb = 0;
  std::map<std::string, double> mb;  // bytes moved per kind (reads + writes), MB
};

// One group: its members are graphs[picks[0..]] with shared weights from `cache`.
void add_group(const std::vector<rt::Graph>& graphs, const std::vector<size_t>& picks, rt::ParamInitCache& cache,
               Totals& t) {
  const rt::Shape4 shape{128, 32, 32, 3};
  const size_t group = picks.size();
  std::vector<std::unique_ptr<rt::Plan>> plans;
  std::vector<rt::Params> params;
  std::vector<rt::Schedule> schedules(group);
  for (size_t i : picks) {
    plans.push_back(std::make_unique<rt::Plan>(graphs[i], shape));
    params.push_back(cache.params_for(graphs[i]));
  }
  std::vector<const rt::Plan*> pp;
  std::vector<const rt::Params*> qq;
  std::vector<const rt::Schedule*> ss;
  auto t0 = clock_type::now();
  for (size_t i = 0; i < group; ++i) {
    schedules[i].build(*plans[i], cuda::kMaxBnAddTerms);
    t.lane_launches += lane_launches(*plans[i], schedules[i]);
    pp.push_back(plans[i].get());
    qq.push_back(&params[i]);
    ss.push_back(&schedules[i]);
  }
  rt::StackPlan sp;
  sp.build(pp, qq, ss, rt::Counting::Reference);
  t.host_us += us_since(t0);
  auto block_bytes = [&](int b) {
    const rt::StackBlock& blk = sp.blocks()[static_cast<size_t>(b)];
    return 4.0 * static_cast<double>(blk.seg_floats) * blk.segments;
  };
  for (const rt::StackStep& step : sp.steps()) {
    switch (step.kind) {
      case rt::StackStepKind::Gather: {
        const rt::StackGather& g = sp.gathers()[static_cast<size_t>(step.index)];
        int runs = 1;
        for (size_t s = 1; s < g.src.size(); ++s) runs += g.src[s].relu != g.src[s - 1].relu;
        t.launches += runs;
        t.mb["gather (read + write)"] += 2 * block_bytes(g.dst_block) / 1e6;
        break;
      }
      case rt::StackStepKind::Run: {
        const rt::StackRun& r = sp.runs()[static_cast<size_t>(step.index)];
        const rt::Op& op = sp.plan(r.arch).graph().ops[static_cast<size_t>(r.op)];
        t.launches += 1 + (op.kind == rt::OpKind::Conv && !op.bias.empty());
        const std::string kind = rt::to_string(op.kind);
        t.mb[kind + " output"] += block_bytes(r.out_block) / 1e6;
        // Inputs once each (a conv's window reuse hits the caches): segments x the input tensor.
        double in_bytes = 0;
        for (rt::TensorId x : op.inputs)
          in_bytes += 4.0 * static_cast<double>(sp.plan(r.arch).tensor(x).shape.numel()) * r.segments;
        t.mb[kind + " input (read)"] += in_bytes / 1e6;
        break;
      }
      case rt::StackStepKind::Node: {
        const rt::StackNode& n = sp.nodes()[static_cast<size_t>(step.index)];
        t.launches += (n.stats.empty() ? 0 : 2) + 1 + (n.bits_block >= 0);
        const double tensor = 4.0 * static_cast<double>(n.out.numel());
        t.mb["BN statistics (read)"] += tensor * static_cast<double>(n.stats.size()) / 1e6;
        for (const rt::StackNodeArch& a : n.archs) {
          double terms = 0;  // a pooled term reads the pool's input (4x the node tensor at stride 2)
          for (const rt::StackNodeTerm& term : a.terms) {
            const cpu::TermPool& p = term.x.pool;
            terms += p.kind == cpu::TermPoolKind::None
                         ? 1.0
                         : static_cast<double>(p.in_h) * p.in_w / (static_cast<double>(p.out_h()) * p.out_w());
          }
          t.mb["node (terms read + write)"] += tensor * (terms + (a.store_y ? 1 : 0)) / 1e6;
          t.mb["node copies (write)"] += tensor * static_cast<double>(a.copies.size()) / 1e6;
        }
        break;
      }
      case rt::StackStepKind::Tap: t.launches += 2; break;
    }
  }
  t.steps += static_cast<int64_t>(sp.steps().size());
  t.member_steps += sp.member_steps();
  t.archs += static_cast<int64_t>(group);
  ++t.groups;
  t.max_arena_mb = std::max(t.max_arena_mb, 4.0 * static_cast<double>(sp.arena_floats()) / 1e6);
}

void print(const char* how, int group, const Totals& t) {
  double total = 0;
  for (const auto& [kind, v] : t.mb) total += v;
  const double a = static_cast<double>(t.archs);
  std::printf("group %d, %s (%lld groups): %.0f launches per group, %.1f per architecture (lanes %.1f); %.0f steps from "
              "%.0f member steps; arena up to %.0f MB; host %.0f us per architecture\n",
              group, how, static_cast<long long>(t.groups), static_cast<double>(t.launches) / t.groups,
              static_cast<double>(t.launches) / a, static_cast<double>(t.lane_launches) / a,
              static_cast<double>(t.steps) / t.groups, static_cast<double>(t.member_steps) / t.groups, t.max_arena_mb,
              t.host_us / a);
  std::printf("  memory traffic %.0f MB per architecture:", total / a);
  for (const auto& [kind, v] : t.mb) std::printf(" %s %.0f;", kind.c_str(), v / a);
  std::printf("\n");
}

// Groups of `group` cut from a chunk of `chunk` random architectures, as given and in
// stack_order (what CudaBackend::score_many does).
void report(int group, int chunk) {
  std::vector<rt::Graph> graphs;
  for (int i = 0; i < chunk; ++i)
    graphs.push_back(cells::build_nb201(cells::nb201_from_preindex((i * 7919 + 13) % cells::kNb201Size), {}));
  std::vector<std::unique_ptr<rt::Plan>> plans;
  std::vector<const rt::Plan*> pp;
  for (const rt::Graph& g : graphs) {
    plans.push_back(std::make_unique<rt::Plan>(g, rt::Shape4{128, 32, 32, 3}));
    pp.push_back(plans.back().get());
  }
  const std::vector<size_t> ordered = rt::stack_order(pp);
  for (bool use_order : {false, true}) {
    rt::ParamInitCache cache(1);
    Totals t;
    for (int g0 = 0; g0 + group <= chunk; g0 += group) {
      std::vector<size_t> picks;
      for (int i = 0; i < group; ++i)
        picks.push_back(use_order ? ordered[static_cast<size_t>(g0 + i)] : static_cast<size_t>(g0 + i));
      add_group(graphs, picks, cache, t);
    }
    print(use_order ? "stack_order" : "as given", group, t);
  }
}

}  // namespace

int main(int argc, char** argv) {
  constexpr int kChunk = 256;  // architectures per chunk (score_many orders a chunk, then cuts groups)
  std::vector<int> groups;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      std::printf("usage: naswot_stack_stats [group sizes 1..%d ...]   (default 1 8 32 64)\n", kChunk);
      return 0;
    }
    char* end = nullptr;
    const long g = std::strtol(arg.c_str(), &end, 10);
    if (arg.empty() || *end != '\0' || g < 1 || g > kChunk) {
      std::fprintf(stderr, "naswot_stack_stats: argument %d '%s': expected a group size 1..%d\n", i,
                   arg.c_str(), kChunk);
      return 2;
    }
    groups.push_back(static_cast<int>(g));
  }
  if (groups.empty()) groups = {1, 8, 32, 64};
  for (int g : groups) report(g, kChunk);
  return 0;
}
