#include "runtime/plan.h"

#include <algorithm>
#include <iterator>
#include <list>
#include <map>

#include "runtime/error.h"

namespace naswot::rt {

const char* to_string(Counting c) { return c == Counting::Reference ? "reference" : "unit"; }

Counting parse_counting(const std::string& s) {
  if (s == "reference") return Counting::Reference;
  if (s == "unit") return Counting::Unit;
  throw_error(ErrorKind::BadInput, "--counting '" + s + "': expected 'reference' or 'unit'");
}

namespace {

// Reachability as the reference counts it: a Tap counts iff its anchor (the hooked module's
// output) is an autograd ancestor of the logits (`reaching`); taps add no autograd edges, so a
// tensor that only a counted tap reads is computed (`live`) but does not make other taps count.
struct Reachability {
  std::vector<bool> reaching;  // the logits and their autograd ancestors
  std::vector<bool> live;      // reaching, plus what the counted taps read, and its ancestors
};

// Marks every input of a marked non-Tap op, to a fixpoint (one pass for graphs in builder order).
void close_over_inputs(const Graph& g, std::vector<bool>& marked) {
  for (bool changed = true; changed;) {
    changed = false;
    for (auto it = g.ops.rbegin(); it != g.ops.rend(); ++it) {
      if (it->kind == OpKind::Tap || !marked[static_cast<size_t>(it->output)]) continue;
      for (TensorId t : it->inputs) {
        if (!marked[static_cast<size_t>(t)]) {
          marked[static_cast<size_t>(t)] = true;
          changed = true;
        }
      }
    }
  }
}

Reachability reachability(const Graph& g) {
  Reachability r;
  r.reaching.assign(static_cast<size_t>(g.num_tensors), false);
  r.reaching[static_cast<size_t>(g.output)] = true;
  close_over_inputs(g, r.reaching);
  r.live = r.reaching;
  for (const Op& op : g.ops)
    if (op.kind == OpKind::Tap && r.reaching[static_cast<size_t>(op.tap.anchor)])
      for (TensorId t : op.inputs) r.live[static_cast<size_t>(t)] = true;
  close_over_inputs(g, r.live);
  return r;
}

// Output length of a sliding window of `span` inputs (PyTorch's floor formula); 0 when the window
// does not fit, where C++'s truncating division would turn a small negative numerator into 1.
int window_out(int size, int pad, int span, int stride) {
  const int room = size + 2 * pad - span;
  return room < 0 ? 0 : room / stride + 1;
}

Shape4 infer_shape(const Op& op, const std::vector<PlannedTensor>& ts, Shape4 input) {
  auto in = [&](size_t k) { return ts[static_cast<size_t>(op.inputs[k])].shape; };
  switch (op.kind) {
    case OpKind::Input: return input;
    case OpKind::Conv: {
      const Shape4 x = in(0);
      const ConvAttr& a = op.conv;
      const int oh = window_out(x.h, a.pad_h, a.dilation_h * (a.kernel_h - 1) + 1, a.stride_h);
      const int ow = window_out(x.w, a.pad_w, a.dilation_w * (a.kernel_w - 1) + 1, a.stride_w);
      NASWOT_EXPECT(oh > 0 && ow > 0, BadInput,
                    "conv '" << op.name << "': input " << x.h << "x" << x.w << " is too small for its kernel");
      return {x.n, oh, ow, a.out_channels};
    }
    case OpKind::BatchNorm:
    case OpKind::Relu:
    case OpKind::Shift: return in(0);
    case OpKind::Add: {
      for (size_t k = 1; k < op.inputs.size(); ++k)
        NASWOT_EXPECT(in(k) == in(0), Internal, "add '" << op.name << "': input shapes differ");
      return in(0);
    }
    case OpKind::AvgPool:
    case OpKind::MaxPool: {
      const Shape4 x = in(0);
      const PoolAttr& p = op.pool;
      const int oh = window_out(x.h, p.pad, p.kernel, p.stride);
      const int ow = window_out(x.w, p.pad, p.kernel, p.stride);
      NASWOT_EXPECT(oh > 0 && ow > 0, BadInput, "pool '" << op.name << "': input is too small for its window");
      return {x.n, oh, ow, x.c};
    }
    case OpKind::Zero: {
      const Shape4 x = in(0);
      const int s = op.pool.stride;
      return {x.n, (x.h + s - 1) / s, (x.w + s - 1) / s, x.c};
    }
    case OpKind::Concat: {
      Shape4 y = in(0);
      y.c = 0;
      for (size_t k = 0; k < op.inputs.size(); ++k) {
        const Shape4 x = in(k);
        NASWOT_EXPECT(x.n == y.n && x.h == y.h && x.w == y.w, Internal,
                      "concat '" << op.name << "': spatial shapes differ");
        y.c += x.c;
      }
      return y;
    }
    case OpKind::GlobalAvgPool: return {in(0).n, 1, 1, in(0).c};
    case OpKind::Linear: return {in(0).n, 1, 1, op.out_features};
    case OpKind::Tap: return {};
  }
  return {};
}

size_t align_up(size_t v) { return (v + kArenaAlignFloats - 1) / kArenaAlignFloats * kArenaAlignFloats; }

// First-fit allocator over [0, inf): free intervals kept sorted and coalesced.
class OffsetAllocator {
 public:
  size_t allocate(size_t size) {
    for (auto it = m_free.begin(); it != m_free.end(); ++it) {
      if (it->second < size) continue;
      const size_t offset = it->first;
      if (it->second == size) {
        m_free.erase(it);
      } else {
        it->first += size;
        it->second -= size;
      }
      return offset;
    }
    const size_t offset = m_end;
    m_end += size;
    return offset;
  }
  void release(size_t offset, size_t size) {
    auto it = m_free.begin();
    while (it != m_free.end() && it->first < offset) ++it;
    it = m_free.insert(it, {offset, size});
    if (std::next(it) != m_free.end() && it->first + it->second == std::next(it)->first) {
      it->second += std::next(it)->second;
      m_free.erase(std::next(it));
    }
    if (it != m_free.begin() && std::prev(it)->first + std::prev(it)->second == it->first) {
      std::prev(it)->second += it->second;
      m_free.erase(it);
    }
  }
  size_t high_water() const { return m_end; }

 private:
  std::list<std::pair<size_t, size_t>> m_free;
  size_t m_end = 0;
};

}  // namespace

Plan::Plan(const Graph& graph, Shape4 input_shape) : m_graph(&graph), m_input(input_shape) {
  NASWOT_EXPECT(input_shape.n > 0 && input_shape.h > 0 && input_shape.w > 0, BadInput,
                "input batch shape " << input_shape.n << "x" << input_shape.h << "x" << input_shape.w << " is empty");
  NASWOT_EXPECT(input_shape.c == graph.input_channels, BadInput,
                "input batch has " << input_shape.c << " channels, the network expects " << graph.input_channels);
  const Reachability reach = reachability(graph);
  const std::vector<bool>& live = reach.live;
  m_tensors.assign(static_cast<size_t>(graph.num_tensors), PlannedTensor{});
  m_tap_slot.assign(graph.ops.size(), -1);

  // Several hooked ReLUs often read one node tensor (one per outgoing conv edge): they are
  // separate modules for counting, but their outputs are equal, so the plan computes the first and
  // lets the others alias it (canon[t] is the tensor that holds t's values).
  std::vector<TensorId> canon(static_cast<size_t>(graph.num_tensors));
  for (TensorId t = 0; t < graph.num_tensors; ++t) canon[static_cast<size_t>(t)] = t;
  std::map<TensorId, TensorId> relu_of;  // canonical input -> canonical ReLU output
  auto c = [&](TensorId t) { return canon[static_cast<size_t>(t)]; };

  std::map<TensorId, int> slot_of;
  for (size_t i = 0; i < graph.ops.size(); ++i) {
    const Op& op = graph.ops[i];
    if (op.kind == OpKind::Tap) {
      if (!reach.reaching[static_cast<size_t>(op.tap.anchor)]) continue;
      const TensorId t = c(op.inputs.at(0));
      auto [it, inserted] = slot_of.emplace(t, static_cast<int>(m_taps.size()));
      if (inserted) m_taps.push_back({t, m_tensors[static_cast<size_t>(t)].shape.per_image(), 0, 0});
      m_taps[static_cast<size_t>(it->second)].weight_reference += op.tap.weight_reference;
      m_taps[static_cast<size_t>(it->second)].weight_unit += op.tap.weight_unit;
      m_tap_slot[i] = it->second;
      m_order.push_back(static_cast<int>(i));
      continue;
    }
    if (!live[static_cast<size_t>(op.output)]) continue;
    if (op.kind == OpKind::Relu) {
      auto [it, inserted] = relu_of.emplace(c(op.inputs[0]), op.output);
      if (!inserted) {
        canon[static_cast<size_t>(op.output)] = it->second;
        m_tensors[static_cast<size_t>(op.output)] = m_tensors[static_cast<size_t>(it->second)];  // shape now, offset later
        continue;
      }
    }
    PlannedTensor& out = m_tensors[static_cast<size_t>(op.output)];
    out.shape = infer_shape(op, m_tensors, m_input);
    out.live = true;
    m_order.push_back(static_cast<int>(i));
  }
  NASWOT_EXPECT(!m_order.empty() && graph.ops[static_cast<size_t>(m_order.front())].kind == OpKind::Input, Internal,
                "the network output does not depend on its input");

  // Liveness: the position in m_order of each tensor's last reader; the logits live to the end.
  std::vector<int> last_use(static_cast<size_t>(graph.num_tensors), -1);
  for (size_t pos = 0; pos < m_order.size(); ++pos) {
    const Op& op = graph.ops[static_cast<size_t>(m_order[pos])];
    for (TensorId t : op.inputs) last_use[static_cast<size_t>(c(t))] = static_cast<int>(pos);
  }
  last_use[static_cast<size_t>(c(graph.output))] = static_cast<int>(m_order.size());

  // Outputs are placed before the op's dead inputs are released, so no op writes over its input.
  OffsetAllocator alloc;
  for (size_t pos = 0; pos < m_order.size(); ++pos) {
    const Op& op = graph.ops[static_cast<size_t>(m_order[pos])];
    if (op.output != kNoTensor) {
      PlannedTensor& out = m_tensors[static_cast<size_t>(op.output)];
      out.offset = alloc.allocate(align_up(static_cast<size_t>(out.shape.numel())));
      if (last_use[static_cast<size_t>(op.output)] < 0)  // written, never read (cannot happen when live)
        alloc.release(out.offset, align_up(static_cast<size_t>(out.shape.numel())));
    }
    std::vector<TensorId> seen;
    for (TensorId input : op.inputs) {
      const TensorId t = c(input);
      if (last_use[static_cast<size_t>(t)] != static_cast<int>(pos)) continue;
      if (std::find(seen.begin(), seen.end(), t) != seen.end()) continue;  // add(x, x)
      seen.push_back(t);
      const PlannedTensor& in = m_tensors[static_cast<size_t>(t)];
      alloc.release(in.offset, align_up(static_cast<size_t>(in.shape.numel())));
    }
  }
  m_arena_floats = alloc.high_water();
  m_canon = canon;
  for (TensorId t = 0; t < graph.num_tensors; ++t)
    if (c(t) != t) m_tensors[static_cast<size_t>(t)] = m_tensors[static_cast<size_t>(c(t))];
}

int64_t Plan::n_units(Counting c) const {
  int64_t total = 0;
  for (const PlannedTap& tap : m_taps) total += tap.units * tap.weight(c);
  return total;
}

int64_t Plan::max_tap_units() const {
  int64_t m = 0;
  for (const PlannedTap& tap : m_taps) m = std::max(m, tap.units);
  return m;
}

}  // namespace naswot::rt
