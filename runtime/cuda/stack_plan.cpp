// StackPlan::build (see stack_plan.h): signatures and classes, the merged order, block
// emission with gathers and broadcasts, then first-fit placement by liveness. Host-only.
#include "runtime/cuda/stack_plan.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <queue>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "kernels/cpu/signpack.h"
#include "runtime/cuda/first_fit.h"
#include "runtime/error.h"

namespace naswot::rt {
namespace {

size_t align_floats(size_t floats) { return (floats + kArenaAlignFloats - 1) / kArenaAlignFloats * kArenaAlignFloats; }

const ParamTensor* param_of(const Params& params, const std::string& name, const Op& op) {
  if (name.empty()) return nullptr;
  const ParamTensor* t = params.find(name);
  NASWOT_EXPECT(t != nullptr, BadInput, "params: tensor '" << name << "' of op '" << op.name << "' is missing");
  return t;
}

struct Member {
  int arch = 0;
  int step = 0;  // index into that architecture's Schedule::steps()
};

struct Class {
  StepKind kind = StepKind::Run;
  std::vector<Member> members;  // in architecture order
  int key = 0;                  // smallest position of a member in its architecture's class list
};

// A step's signature as a string key: fields separated by '|' (names cannot hold one).
struct Signature {
  std::string key;
  Signature& text(std::string_view t) {
    key.append(t);
    key.push_back('|');
    return *this;
  }
  Signature& num(int64_t v) {
    char buf[24];
    const auto end = std::to_chars(buf, buf + sizeof buf, v).ptr;
    key.append(buf, end);
    key.push_back('|');
    return *this;
  }
  Signature& shape(const Shape4& s) { return num(s.n).num(s.h).num(s.w).num(s.c); }
};

// Blocks each stacked step reads, writes and uses only while it runs.
struct Access {
  std::vector<int> reads, writes, temps;
};

}  // namespace

std::vector<size_t> stack_order(const std::vector<const Plan*>& plans) {
  std::vector<std::string> keys(plans.size());
  Signature sig;
  for (size_t i = 0; i < plans.size(); ++i) {
    sig.key.clear();
    const Graph& g = plans[i]->graph();
    for (int o : plans[i]->order()) {
      const Op& op = g.ops[static_cast<size_t>(o)];
      if (op.kind != OpKind::Conv && op.kind != OpKind::AvgPool && op.kind != OpKind::MaxPool && op.kind != OpKind::Zero)
        continue;
      sig.text(op.name).num(static_cast<int64_t>(op.kind)).num(op.conv.kernel_h).num(op.conv.kernel_w);
    }
    keys[i] = sig.key;
  }
  std::vector<size_t> order(plans.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return keys[a] < keys[b]; });
  return order;
}

int64_t stack_stats_floats(int channels) {
  return 3 * static_cast<int64_t>(align_floats(static_cast<size_t>(channels)));
}

int64_t stack_bits_floats(int n, int64_t units) {
  return 2 * static_cast<int64_t>(n) * cpu::sign_words(std::max<int64_t>(units, 1));
}

void StackPlan::build(const std::vector<const Plan*>& plans, const std::vector<const Params*>& params,
                      const std::vector<const Schedule*>& schedules, Counting counting) {
  NASWOT_EXPECT(!plans.empty() && plans.size() == params.size() && plans.size() == schedules.size(), Internal,
                "stack plan: " << plans.size() << " plans, " << params.size() << " parameter sets, "
                               << schedules.size() << " schedules");
  const int archs = static_cast<int>(plans.size());
  for (const Plan* p : plans)
    NASWOT_EXPECT(p->input_shape() == plans[0]->input_shape(), Internal,
                  "stack plan: architectures of one group must share the input batch shape");
  m_plans = plans;
  m_params = params;
  m_steps.clear();
  m_blocks.clear();
  m_gathers.clear();
  m_runs.clear();
  m_nodes.clear();
  m_taps.clear();
  m_broadcast_runs = 0;
  m_copied_inputs = 0;
  m_unstored_outputs = 0;
  m_pooled_terms = 0;
  m_shared_member_steps = 0;
  m_member_steps = 0;

  // 1. ReLU and pool views, and classes.
  std::vector<std::vector<char>> is_view(static_cast<size_t>(archs));
  std::vector<std::vector<int>> pool_view(static_cast<size_t>(archs));  // per tensor: the viewed pool op, or -1
  std::vector<std::vector<int>> arch_classes(static_cast<size_t>(archs));
  std::vector<Class> classes;
  std::unordered_map<std::string, int> class_of;
  Signature sig;
  for (int a = 0; a < archs; ++a) {
    const Plan& plan = *plans[static_cast<size_t>(a)];
    const Schedule& s = *schedules[static_cast<size_t>(a)];
    const Graph& g = plan.graph();
    // Readers per (canonical) tensor: Run inputs, plain node terms, and other table reads (BN and
    // zero terms, taps). A ReLU read only by Runs is a view; a pool read only by plain node
    // terms is a pool view (its input no ReLU view, its geometry in TermPool's range).
    std::vector<int> run_reads(static_cast<size_t>(g.num_tensors), 0), plain_reads(run_reads), other_reads(run_reads);
    for (const Step& step : s.steps()) {
      const Op& op = g.ops[static_cast<size_t>(step.op)];
      if (step.kind == StepKind::Run)
        for (TensorId t : op.inputs) ++run_reads[static_cast<size_t>(s.canonical(t))];
      if (step.kind == StepKind::Tap)
        ++other_reads[static_cast<size_t>(s.canonical(plan.taps()[static_cast<size_t>(step.tap_slot)].tensor))];
      if (step.kind == StepKind::Node)
        for (int k = 0; k < step.num_terms; ++k) {
          const NodeTerm& nt = s.terms()[static_cast<size_t>(step.first_term + k)];
          ++(nt.bn_op < 0 && nt.zero_op < 0 ? plain_reads : other_reads)[static_cast<size_t>(s.canonical(nt.x))];
        }
    }
    const auto output = static_cast<size_t>(s.canonical(g.output));
    auto& view = is_view[static_cast<size_t>(a)];
    view.assign(static_cast<size_t>(g.num_tensors), 0);
    for (const Step& step : s.steps()) {
      const Op& op = g.ops[static_cast<size_t>(step.op)];
      const auto out = static_cast<size_t>(op.output);
      if (step.kind == StepKind::Run && op.kind == OpKind::Relu && plain_reads[out] == 0 && other_reads[out] == 0 &&
          out != output)
        view[out] = 1;
    }
    auto& pools = pool_view[static_cast<size_t>(a)];
    pools.assign(static_cast<size_t>(g.num_tensors), -1);
    for (const Step& step : s.steps()) {
      const Op& op = g.ops[static_cast<size_t>(step.op)];
      if (step.kind != StepKind::Run || (op.kind != OpKind::AvgPool && op.kind != OpKind::MaxPool)) continue;
      const auto out = static_cast<size_t>(s.canonical(op.output));
      const TensorId in = s.canonical(op.inputs.at(0));
      const Shape4 x = plan.tensor(in).shape;
      if (plain_reads[out] > 0 && run_reads[out] == 0 && other_reads[out] == 0 && out != output &&
          !view[static_cast<size_t>(in)] && x.h <= INT16_MAX && x.w <= INT16_MAX && op.pool.kernel <= INT16_MAX &&
          op.pool.stride <= INT16_MAX && op.pool.pad <= INT16_MAX)
        pools[out] = step.op;
    }
    std::unordered_map<std::string, int> seen;
    for (size_t i = 0; i < s.steps().size(); ++i) {
      const Step& step = s.steps()[i];
      const Op& op = g.ops[static_cast<size_t>(step.op)];
      std::string& key = sig.key;
      key.clear();
      if (step.kind == StepKind::Run) {
        if (view[static_cast<size_t>(op.output)] || pools[static_cast<size_t>(s.canonical(op.output))] >= 0) continue;
        const ConvAttr& c = op.conv;
        sig.text("R|").text(to_string(op.kind)).text(op.name);
        for (int64_t v : {c.out_channels, c.kernel_h, c.kernel_w, c.stride_h, c.stride_w, c.pad_h, c.pad_w, c.dilation_h,
                          c.dilation_w, c.groups, static_cast<int>(c.bias), op.pool.kernel, op.pool.stride, op.pool.pad,
                          static_cast<int>(op.pool.count_include_pad), op.out_features})
          sig.num(v);
        for (TensorId t : op.inputs) sig.shape(plan.tensor(t).shape);
        const Params& ps = *params[static_cast<size_t>(a)];
        sig.num(static_cast<int64_t>(reinterpret_cast<uintptr_t>(param_of(ps, op.weight, op))));
        sig.num(static_cast<int64_t>(reinterpret_cast<uintptr_t>(param_of(ps, op.bias, op))));
      } else if (step.kind == StepKind::Node) {
        sig.text("N|").text(to_string(op.kind)).text(op.name).shape(plan.tensor(op.output).shape).num(step.sum_from_zero);
      } else {
        sig.text("T|").text(op.name).num(plan.taps()[static_cast<size_t>(step.tap_slot)].units);
      }
      const int repeat = seen[key]++;
      if (repeat > 0) sig.text("#").num(repeat);
      auto [it, inserted] = class_of.emplace(key, static_cast<int>(classes.size()));
      if (inserted) classes.push_back({step.kind, {}, static_cast<int>(arch_classes[static_cast<size_t>(a)].size())});
      Class& cls = classes[static_cast<size_t>(it->second)];
      cls.key = std::min(cls.key, static_cast<int>(arch_classes[static_cast<size_t>(a)].size()));
      cls.members.push_back({a, static_cast<int>(i)});
      arch_classes[static_cast<size_t>(a)].push_back(it->second);
      ++m_member_steps;
    }
  }
  m_classes = static_cast<int>(classes.size());

  // 2. Merged order: topological sort of the union of the per-architecture chains, smallest
  // position first.
  std::vector<std::vector<int>> next(classes.size());
  std::vector<int> indegree(classes.size(), 0);
  for (const auto& chain : arch_classes)
    for (size_t i = 1; i < chain.size(); ++i) {
      next[static_cast<size_t>(chain[i - 1])].push_back(chain[i]);
      ++indegree[static_cast<size_t>(chain[i])];
    }
  using Ready = std::pair<int, int>;  // (key, class)
  std::priority_queue<Ready, std::vector<Ready>, std::greater<>> ready;
  for (size_t c = 0; c < classes.size(); ++c)
    if (indegree[c] == 0) ready.push({classes[c].key, static_cast<int>(c)});
  std::vector<int> order;
  while (!ready.empty()) {
    const int c = ready.top().second;
    ready.pop();
    order.push_back(c);
    for (int d : next[static_cast<size_t>(c)])
      if (--indegree[static_cast<size_t>(d)] == 0) ready.push({classes[static_cast<size_t>(d)].key, d});
  }
  NASWOT_EXPECT(order.size() == classes.size(), Internal,
                "stack plan: the architectures order their steps inconsistently (" << order.size() << " of "
                                                                                   << classes.size() << " classes ordered)");

  // 3. Emission.
  std::vector<std::vector<StackRef>> ref(static_cast<size_t>(archs));
  std::vector<std::vector<char>> has_ref(static_cast<size_t>(archs));
  for (int a = 0; a < archs; ++a) {
    const Graph& g = plans[static_cast<size_t>(a)]->graph();
    ref[static_cast<size_t>(a)].assign(static_cast<size_t>(g.num_tensors), StackRef{});
    has_ref[static_cast<size_t>(a)].assign(static_cast<size_t>(g.num_tensors), 0);
    has_ref[static_cast<size_t>(a)][static_cast<size_t>(g.input)] = 1;  // kBatchBlock
  }
  // The input of each view (a ReLU output), per architecture.
  std::vector<std::vector<TensorId>> view_input(static_cast<size_t>(archs));
  for (int a = 0; a < archs; ++a) {
    const Plan& plan = *plans[static_cast<size_t>(a)];
    const Schedule& s = *schedules[static_cast<size_t>(a)];
    auto& vi = view_input[static_cast<size_t>(a)];
    vi.assign(static_cast<size_t>(plan.graph().num_tensors), kNoTensor);
    for (const Step& step : s.steps()) {
      const Op& op = plan.graph().ops[static_cast<size_t>(step.op)];
      if (step.kind == StepKind::Run && op.kind == OpKind::Relu && is_view[static_cast<size_t>(a)][static_cast<size_t>(op.output)])
        vi[static_cast<size_t>(op.output)] = s.canonical(op.inputs.at(0));
    }
  }
  auto ref_of = [&](int a, TensorId t) {
    const Schedule& s = *schedules[static_cast<size_t>(a)];
    bool relu = false;
    t = s.canonical(t);
    cpu::TermPool pool;
    if (const int p = pool_view[static_cast<size_t>(a)][static_cast<size_t>(t)]; p >= 0) {
      const Plan& plan = *plans[static_cast<size_t>(a)];
      const Op& op = plan.graph().ops[static_cast<size_t>(p)];
      t = s.canonical(op.inputs.at(0));
      const Shape4 x = plan.tensor(t).shape;
      pool.kind = op.kind == OpKind::MaxPool ? cpu::TermPoolKind::Max : cpu::TermPoolKind::Avg;
      pool.count_include_pad = op.kind == OpKind::AvgPool && op.pool.count_include_pad;
      pool.in_h = static_cast<int16_t>(x.h);
      pool.in_w = static_cast<int16_t>(x.w);
      pool.kernel = static_cast<int16_t>(op.pool.kernel);
      pool.stride = static_cast<int16_t>(op.pool.stride);
      pool.pad = static_cast<int16_t>(op.pool.pad);
    }
    while (view_input[static_cast<size_t>(a)][static_cast<size_t>(t)] != kNoTensor) {
      relu = true;
      t = view_input[static_cast<size_t>(a)][static_cast<size_t>(t)];
    }
    NASWOT_EXPECT(has_ref[static_cast<size_t>(a)][static_cast<size_t>(t)], Internal,
                  "stack plan: architecture " << a << " reads tensor " << t << " before it is written");
    StackRef r = ref[static_cast<size_t>(a)][static_cast<size_t>(t)];
    r.relu = r.relu || relu;
    NASWOT_EXPECT(pool.kind == cpu::TermPoolKind::None || (!r.relu && r.pool.kind == cpu::TermPoolKind::None), Internal,
                  "stack plan: architecture " << a << ": a pool view of a view");
    if (pool.kind != cpu::TermPoolKind::None) r.pool = pool;
    return r;
  };
  auto set_ref = [&](int a, TensorId t, StackRef r) {
    ref[static_cast<size_t>(a)][static_cast<size_t>(t)] = r;
    has_ref[static_cast<size_t>(a)][static_cast<size_t>(t)] = 1;
  };
  auto new_block = [&](int64_t seg_floats, int segments, bool broadcast) {
    StackBlock b;
    b.seg_floats = seg_floats;
    b.segments = broadcast ? 1 : segments;
    b.broadcast = broadcast;
    m_blocks.push_back(b);
    return static_cast<int>(m_blocks.size()) - 1;
  };
  std::vector<Access> access;
  std::vector<int> node_of_block;  // per block: the m_nodes index that writes it as its output, or -1
  std::vector<int> step_of_node;   // per m_nodes entry: its position in m_steps
  auto push_step = [&](StackStepKind kind, int index, Access acc) {
    m_steps.push_back({kind, index});
    access.push_back(std::move(acc));
  };
  // Segments some step reads, per block: a node member's output that nothing reads is not stored.
  std::vector<std::vector<char>> segment_read;
  auto read_block = [&](Access& acc, const StackRef& r, int count = 1) {
    if (r.block == kBatchBlock) return;
    acc.reads.push_back(r.block);
    if (segment_read.size() <= static_cast<size_t>(r.block)) segment_read.resize(static_cast<size_t>(r.block) + 1);
    std::vector<char>& seen = segment_read[static_cast<size_t>(r.block)];
    const StackBlock& b = m_blocks[static_cast<size_t>(r.block)];
    seen.resize(static_cast<size_t>(b.segments), 0);
    for (int i = 0; i < count; ++i) seen[b.broadcast ? 0 : static_cast<size_t>(r.rank + i)] = 1;
  };

  for (int c : order) {
    const Class& cls = classes[static_cast<size_t>(c)];
    const Member& first = cls.members.front();
    const Plan& plan0 = *plans[static_cast<size_t>(first.arch)];
    const Schedule& s0 = *schedules[static_cast<size_t>(first.arch)];
    const Step& step0 = s0.steps()[static_cast<size_t>(first.step)];
    const Op& op0 = plan0.graph().ops[static_cast<size_t>(step0.op)];
    const int members = static_cast<int>(cls.members.size());

    if (cls.kind == StepKind::Run) {
      const size_t inputs = op0.inputs.size();
      // Members whose inputs are the same tensors compute the same output (same op, same weight
      // tensors): one segment per distinct input tuple, in order of first appearance.
      std::vector<std::vector<StackRef>> in(inputs);  // [k][segment]
      std::vector<int> segment_of(static_cast<size_t>(members));
      std::vector<StackRef> tuple(inputs);
      int segments = 0;
      for (int m = 0; m < members; ++m) {
        const Member& mem = cls.members[static_cast<size_t>(m)];
        const Op& op = plans[static_cast<size_t>(mem.arch)]->graph().ops[static_cast<size_t>(
            schedules[static_cast<size_t>(mem.arch)]->steps()[static_cast<size_t>(mem.step)].op)];
        for (size_t k = 0; k < inputs; ++k) {
          tuple[k] = ref_of(mem.arch, op.inputs[k]);
          NASWOT_EXPECT(tuple[k].pool.kind == cpu::TermPoolKind::None, Internal,
                        "stack plan: op '" << op.name << "' reads a pool view");
        }
        int u = 0;
        for (; u < segments; ++u) {
          bool equal = true;
          for (size_t k = 0; equal && k < inputs; ++k) equal = in[k][static_cast<size_t>(u)] == tuple[k];
          if (equal) break;
        }
        if (u == segments) {
          for (size_t k = 0; k < inputs; ++k) in[k].push_back(tuple[k]);
          ++segments;
        }
        segment_of[static_cast<size_t>(m)] = u;
      }
      const bool same = segments == 1;
      m_shared_member_steps += members - segments;
      StackRun run;
      run.arch = first.arch;
      run.op = step0.op;
      run.segments = segments;
      const Params& ps = *params[static_cast<size_t>(first.arch)];
      run.weight = param_of(ps, op0.weight, op0);
      run.bias = param_of(ps, op0.bias, op0);
      Access acc;
      for (size_t k = 0; k < inputs; ++k) {
        const std::vector<StackRef>& r = in[k];
        bool direct = !r[0].relu;
        if (direct && segments > 1) {
          const StackBlock* b = r[0].block == kBatchBlock ? nullptr : &m_blocks[static_cast<size_t>(r[0].block)];
          direct = b != nullptr && !b->broadcast;
          for (int m = 1; direct && m < segments; ++m)
            direct = !r[static_cast<size_t>(m)].relu && r[static_cast<size_t>(m)].block == r[0].block &&
                     r[static_cast<size_t>(m)].rank == r[0].rank + m;
        }
        if (direct) {
          run.in_block.push_back(r[0].block);
          run.in_rank.push_back(r[0].rank);
          read_block(acc, r[0], segments);
          continue;
        }
        const bool pool = op0.kind == OpKind::AvgPool || op0.kind == OpKind::MaxPool;
        const bool any_relu = std::any_of(r.begin(), r.begin() + segments, [](const StackRef& x) { return x.relu; });
        if (pool && !any_relu) {
          run.table_src.assign(r.begin(), r.begin() + segments);
          for (const StackRef& src : run.table_src) read_block(acc, src);
          run.in_block.push_back(kBatchBlock);  // unused
          run.in_rank.push_back(0);
          continue;
        }
        const int64_t in_floats = plan0.tensor(op0.inputs[k]).shape.numel();
        // Every source a node output with a free copy slot: the nodes write the block directly.
        bool by_copies = true;
        {
          std::unordered_map<int64_t, int> extra;  // (block, rank) -> copies this input adds
          for (int m = 0; by_copies && m < segments; ++m) {
            const StackRef& src = r[static_cast<size_t>(m)];
            const int nb = src.block == kBatchBlock || static_cast<size_t>(src.block) >= node_of_block.size()
                               ? -1
                               : node_of_block[static_cast<size_t>(src.block)];
            by_copies = nb >= 0;
            if (!by_copies) break;
            const StackNodeArch& na = m_nodes[static_cast<size_t>(nb)].archs[static_cast<size_t>(src.rank)];
            const int used = ++extra[(static_cast<int64_t>(src.block) << 32) | static_cast<uint32_t>(src.rank)];
            by_copies = static_cast<int>(na.copies.size()) + used <= kMaxStackCopies;
          }
        }
        if (by_copies) {
          const int dst = new_block(in_floats, segments, false);
          for (int m = 0; m < segments; ++m) {
            const StackRef& src = r[static_cast<size_t>(m)];
            const int nb = node_of_block[static_cast<size_t>(src.block)];
            m_nodes[static_cast<size_t>(nb)].archs[static_cast<size_t>(src.rank)].copies.push_back({dst, m, src.relu});
            std::vector<int>& writes = access[static_cast<size_t>(step_of_node[static_cast<size_t>(nb)])].writes;
            if (std::find(writes.begin(), writes.end(), dst) == writes.end()) writes.push_back(dst);
          }
          ++m_copied_inputs;
          run.in_block.push_back(dst);
          run.in_rank.push_back(0);
          acc.reads.push_back(dst);
          continue;
        }
        StackGather gather;
        gather.dst_block = new_block(in_floats, segments, false);
        gather.src.assign(r.begin(), r.begin() + segments);
        Access gacc;
        for (const StackRef& src : gather.src) read_block(gacc, src);
        gacc.writes.push_back(gather.dst_block);
        m_gathers.push_back(std::move(gather));
        push_step(StackStepKind::Gather, static_cast<int>(m_gathers.size()) - 1, std::move(gacc));
        run.in_block.push_back(m_gathers.back().dst_block);
        run.in_rank.push_back(0);
        acc.reads.push_back(m_gathers.back().dst_block);
      }
      const bool broadcast = same && members > 1;
      run.out_block = new_block(plan0.tensor(op0.output).shape.numel(), segments, broadcast);
      acc.writes.push_back(run.out_block);
      for (int m = 0; m < members; ++m) {
        const Member& mem = cls.members[static_cast<size_t>(m)];
        const Op& op = plans[static_cast<size_t>(mem.arch)]->graph().ops[static_cast<size_t>(
            schedules[static_cast<size_t>(mem.arch)]->steps()[static_cast<size_t>(mem.step)].op)];
        set_ref(mem.arch, op.output, {run.out_block, segment_of[static_cast<size_t>(m)], false, {}});
      }
      if (broadcast) ++m_broadcast_runs;
      m_runs.push_back(std::move(run));
      push_step(StackStepKind::Run, static_cast<int>(m_runs.size()) - 1, std::move(acc));
      continue;
    }

    if (cls.kind == StepKind::Node) {
      StackNode node;
      node.op = step0.op;
      node.arch = first.arch;
      node.sum_from_zero = step0.sum_from_zero;
      node.out = plan0.tensor(op0.output).shape;
      Access acc;
      bool any_bits = false;
      // Members whose terms are the same tensors with the same BN parameters compute the same
      // output and bits: one computation (node.archs entry) each, and every member's K takes
      // the bits of its computation (node.uses).
      std::vector<int> computation_of(static_cast<size_t>(members));
      std::vector<float> eps;  // of the candidate's terms (0 for plain terms)
      for (int m = 0; m < members; ++m) {
        const Member& mem = cls.members[static_cast<size_t>(m)];
        const Plan& plan = *plans[static_cast<size_t>(mem.arch)];
        const Schedule& s = *schedules[static_cast<size_t>(mem.arch)];
        const Params& ps = *params[static_cast<size_t>(mem.arch)];
        const Step& step = s.steps()[static_cast<size_t>(mem.step)];
        const Op& op = plan.graph().ops[static_cast<size_t>(step.op)];
        StackNodeArch na;
        na.arch = mem.arch;
        eps.clear();
        for (int k = 0; k < step.num_terms; ++k) {
          const NodeTerm& nt = s.terms()[static_cast<size_t>(step.first_term + k)];
          StackNodeTerm term;
          term.x = ref_of(mem.arch, nt.x);
          term.zero = nt.zero_op >= 0;
          NASWOT_EXPECT(!term.x.relu, Internal, "stack plan: node '" << op.name << "' reads a ReLU view");
          eps.push_back(0.0f);
          NASWOT_EXPECT(term.x.pool.kind == cpu::TermPoolKind::None || (nt.bn_op < 0 && !term.zero), Internal,
                        "stack plan: node '" << op.name << "' has a BN or zero term on a pool view");
          if (nt.bn_op >= 0) {
            const Op& bn = plan.graph().ops[static_cast<size_t>(nt.bn_op)];
            term.bn_op = nt.bn_op;
            term.gamma = param_of(ps, bn.weight, bn);
            term.beta = param_of(ps, bn.bias, bn);
            eps.back() = bn.eps;
          }
          na.terms.push_back(term);
        }
        auto same_as = [&](const StackNodeArch& u) {
          if (u.terms.size() != na.terms.size()) return false;
          for (size_t t = 0; t < na.terms.size(); ++t) {
            const StackNodeTerm& a = na.terms[t];
            const StackNodeTerm& b = u.terms[t];
            const float b_eps = b.stats >= 0 ? node.stats[static_cast<size_t>(b.stats)].eps : 0.0f;
            if (!(a.x == b.x) || a.zero != b.zero || (a.bn_op >= 0) != (b.stats >= 0) || a.gamma != b.gamma ||
                a.beta != b.beta || eps[t] != b_eps)
              return false;
          }
          return true;
        };
        size_t u = 0;
        while (u < node.archs.size() && !same_as(node.archs[u])) ++u;
        if (u == node.archs.size()) {
          for (size_t t = 0; t < na.terms.size(); ++t) {
            StackNodeTerm& term = na.terms[t];
            read_block(acc, term.x);
            m_pooled_terms += term.x.pool.kind != cpu::TermPoolKind::None;
            if (term.bn_op < 0) continue;
            term.stats = static_cast<int>(node.stats.size());
            node.stats.push_back({term.x, term.stats, eps[t]});
          }
          node.archs.push_back(std::move(na));
        }
        computation_of[static_cast<size_t>(m)] = static_cast<int>(u);
        const int weight = step.tap_slot >= 0 ? plan.taps()[static_cast<size_t>(step.tap_slot)].weight(counting) : 0;
        if (weight != 0) {
          node.uses.push_back({mem.arch, static_cast<int>(u), weight});
          node.archs[u].pack = true;
          any_bits = true;
        }
      }
      m_shared_member_steps += members - static_cast<int>(node.archs.size());
      const int out_block = new_block(node.out.numel(), static_cast<int>(node.archs.size()), false);
      for (size_t u = 0; u < node.archs.size(); ++u) node.archs[u].y = {out_block, static_cast<int>(u), false, {}};
      for (int m = 0; m < members; ++m) {
        const Member& mem = cls.members[static_cast<size_t>(m)];
        const Op& op = plans[static_cast<size_t>(mem.arch)]->graph().ops[static_cast<size_t>(
            schedules[static_cast<size_t>(mem.arch)]->steps()[static_cast<size_t>(mem.step)].op)];
        set_ref(mem.arch, op.output, node.archs[static_cast<size_t>(computation_of[static_cast<size_t>(m)])].y);
      }
      acc.writes.push_back(out_block);
      if (!node.stats.empty()) {
        node.stats_block = new_block(stack_stats_floats(node.out.c), static_cast<int>(node.stats.size()), false);
        acc.temps.push_back(node.stats_block);
      }
      if (any_bits) {
        node.bits_block = new_block(stack_bits_floats(node.out.n, node.out.per_image()),
                                    static_cast<int>(node.archs.size()), false);
        acc.temps.push_back(node.bits_block);
      }
      m_nodes.push_back(std::move(node));
      node_of_block.resize(m_blocks.size(), -1);
      node_of_block[static_cast<size_t>(out_block)] = static_cast<int>(m_nodes.size()) - 1;
      step_of_node.push_back(static_cast<int>(m_steps.size()));
      push_step(StackStepKind::Node, static_cast<int>(m_nodes.size()) - 1, std::move(acc));
      continue;
    }

    // Tap.
    StackTap tap;
    tap.n = plan0.batch();
    tap.units = plan0.taps()[static_cast<size_t>(step0.tap_slot)].units;
    Access acc;
    for (const Member& mem : cls.members) {
      const Plan& plan = *plans[static_cast<size_t>(mem.arch)];
      const Step& step = schedules[static_cast<size_t>(mem.arch)]->steps()[static_cast<size_t>(mem.step)];
      const PlannedTap& pt = plan.taps()[static_cast<size_t>(step.tap_slot)];
      const int weight = pt.weight(counting);
      if (weight == 0) continue;
      StackTapArch ta{mem.arch, ref_of(mem.arch, pt.tensor), weight};
      NASWOT_EXPECT(!ta.x.relu && ta.x.pool.kind == cpu::TermPoolKind::None, Internal, "stack plan: a tap reads a view");
      read_block(acc, ta.x);
      tap.archs.push_back(ta);
    }
    if (tap.archs.empty()) continue;
    tap.bits_block = new_block(stack_bits_floats(tap.n, tap.units), static_cast<int>(tap.archs.size()), false);
    acc.temps.push_back(tap.bits_block);
    m_taps.push_back(std::move(tap));
    push_step(StackStepKind::Tap, static_cast<int>(m_taps.size()) - 1, std::move(acc));
  }

  // Node members whose output no step reads (every reader took a copy, or none exists) do not
  // store it; a node none of whose members stores it has no output block in the arena.
  for (size_t i = 0; i < m_nodes.size(); ++i) {
    StackNode& node = m_nodes[i];
    const int block = node.archs.front().y.block;
    const std::vector<char>* seen =
        static_cast<size_t>(block) < segment_read.size() ? &segment_read[static_cast<size_t>(block)] : nullptr;
    bool any = false;
    for (StackNodeArch& na : node.archs) {
      na.store_y = seen != nullptr && !seen->empty() && (*seen)[static_cast<size_t>(na.y.rank)] != 0;
      any = any || na.store_y;
      m_unstored_outputs += !na.store_y;
    }
    if (!any) {
      std::vector<int>& writes = access[static_cast<size_t>(step_of_node[i])].writes;
      writes.erase(std::remove(writes.begin(), writes.end(), block), writes.end());
    }
  }

  // 4. Placement: outputs and temporaries placed before the step's dead inputs are released.
  const int never = -1;
  std::vector<int> last_use(m_blocks.size(), never);
  for (size_t p = 0; p < access.size(); ++p)
    for (int b : access[p].reads) last_use[static_cast<size_t>(b)] = static_cast<int>(p);
  auto size_of = [&](int b) {
    const StackBlock& blk = m_blocks[static_cast<size_t>(b)];
    return align_floats(static_cast<size_t>(blk.seg_floats) * static_cast<size_t>(blk.segments));
  };
  FirstFit fit;
  std::vector<char> placed(m_blocks.size(), 0);  // a copied block has several writers: placed at the first
  for (size_t p = 0; p < access.size(); ++p) {
    Access& acc = access[p];
    for (int b : acc.writes)
      if (!placed[static_cast<size_t>(b)]) {
        m_blocks[static_cast<size_t>(b)].offset = fit.allocate(size_of(b));
        placed[static_cast<size_t>(b)] = 1;
      }
    for (int b : acc.temps) m_blocks[static_cast<size_t>(b)].offset = fit.allocate(size_of(b));
    for (int b : acc.temps) fit.release(m_blocks[static_cast<size_t>(b)].offset, size_of(b));
    std::sort(acc.reads.begin(), acc.reads.end());
    acc.reads.erase(std::unique(acc.reads.begin(), acc.reads.end()), acc.reads.end());
    for (int b : acc.reads)
      if (last_use[static_cast<size_t>(b)] == static_cast<int>(p)) fit.release(m_blocks[static_cast<size_t>(b)].offset, size_of(b));
    for (int b : acc.writes)
      if (last_use[static_cast<size_t>(b)] == never && placed[static_cast<size_t>(b)] == 1) {
        fit.release(m_blocks[static_cast<size_t>(b)].offset, size_of(b));
        placed[static_cast<size_t>(b)] = 2;  // released
      }
  }
  m_arena_floats = fit.high_water();
}

}  // namespace naswot::rt
