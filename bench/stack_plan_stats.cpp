// naswot_stack_stats: what stacked execution (runtime/cuda/stack_plan.h) does to a group of
// NB-201 architectures, without a GPU: launches per group and per architecture against the lane
// path, the bytes each kind of stacked step moves (gathers, outputs, node passes), the arena,
// and the host time to build the plans. Figures for bench/results/stack_plan_nb201.md; the
// GPU check measures the real rate.
//   naswot_stack_stats [group sizes...]   (default 1 8 32 64; batch 128, 32x32, random members)
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

void report(int group) {
  const rt::Shape4 shape{128, 32, 32, 3};
  std::vector<rt::Graph> graphs;
  std::vector<std::unique_ptr<rt::Plan>> plans;
  std::vector<rt::Params> params;
  std::vector<rt::Schedule> schedules(static_cast<size_t>(group));
  rt::ParamInitCache cache(1);
  for (int i = 0; i < group; ++i)
    graphs.push_back(cells::build_nb201(cells::nb201_from_preindex((i * 7919 + 13) % cells::kNb201Size), {}));
  for (const rt::Graph& g : graphs) {
    plans.push_back(std::make_unique<rt::Plan>(g, shape));
    params.push_back(cache.params_for(g));
  }
  std::vector<const rt::Plan*> pp;
  std::vector<const rt::Params*> qq;
  std::vector<const rt::Schedule*> ss;
  auto t0 = clock_type::now();
  int64_t lanes = 0;
  for (int i = 0; i < group; ++i) {
    schedules[static_cast<size_t>(i)].build(*plans[static_cast<size_t>(i)], cuda::kMaxBnAddTerms);
    lanes += lane_launches(*plans[static_cast<size_t>(i)], schedules[static_cast<size_t>(i)]);
    pp.push_back(plans[static_cast<size_t>(i)].get());
    qq.push_back(&params[static_cast<size_t>(i)]);
    ss.push_back(&schedules[static_cast<size_t>(i)]);
  }
  const double schedule_us = us_since(t0);
  rt::StackPlan sp;
  t0 = clock_type::now();
  sp.build(pp, qq, ss, rt::Counting::Reference);
  const double stack_us = us_since(t0);

  std::map<std::string, double> mb;  // bytes moved per kind (reads + writes), MB
  int64_t launches = 0;
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
        launches += runs;
        mb["gather (read + write)"] += 2 * block_bytes(g.dst_block) / 1e6;
        break;
      }
      case rt::StackStepKind::Run: {
        const rt::StackRun& r = sp.runs()[static_cast<size_t>(step.index)];
        const rt::Op& op = sp.plan(r.arch).graph().ops[static_cast<size_t>(r.op)];
        launches += 1 + (op.kind == rt::OpKind::Conv && !op.bias.empty());
        mb[std::string(rt::to_string(op.kind)) + " output"] += block_bytes(r.out_block) / 1e6;
        break;
      }
      case rt::StackStepKind::Node: {
        const rt::StackNode& n = sp.nodes()[static_cast<size_t>(step.index)];
        launches += (n.stats.empty() ? 0 : 2) + 1 + (n.bits_block >= 0);
        const double tensor = 4.0 * static_cast<double>(n.out.numel());
        mb["BN statistics (read)"] += tensor * static_cast<double>(n.stats.size()) / 1e6;
        for (const rt::StackNodeArch& a : n.archs) mb["node (terms read + write)"] += tensor * (a.terms.size() + 1) / 1e6;
        break;
      }
      case rt::StackStepKind::Tap: launches += 2; break;
    }
  }
  double total = 0;
  for (const auto& [kind, v] : mb) total += v;
  std::printf("group %d: %lld launches (%.1f per architecture; lanes %.1f), %zu steps from %lld member steps, "
              "%d broadcast runs, arena %.0f MB (%.1f MB per architecture)\n",
              group, static_cast<long long>(launches), static_cast<double>(launches) / group,
              static_cast<double>(lanes) / group, sp.steps().size(), static_cast<long long>(sp.member_steps()),
              sp.broadcast_runs(), 4.0 * static_cast<double>(sp.arena_floats()) / 1e6,
              4.0 * static_cast<double>(sp.arena_floats()) / 1e6 / group);
  std::printf("  host: schedules %.0f us, stack plan %.0f us (%.0f us per architecture)\n", schedule_us, stack_us,
              (schedule_us + stack_us) / group);
  std::printf("  memory traffic %.0f MB per architecture:", total / group);
  for (const auto& [kind, v] : mb) std::printf(" %s %.0f;", kind.c_str(), v / group);
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> groups;
  for (int i = 1; i < argc; ++i) groups.push_back(std::atoi(argv[i]));
  if (groups.empty()) groups = {1, 8, 32, 64};
  for (int g : groups) {
    if (g < 1) {
      std::fprintf(stderr, "naswot_stack_stats: group size '%d': expected >= 1\n", g);
      return 2;
    }
    report(g);
  }
  return 0;
}
