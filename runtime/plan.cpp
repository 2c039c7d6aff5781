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

// Reachability as the reference counts it: an op is kept iff its output is an autograd ancestor
// of the logits; a Tap is kept iff its anchor (the hooked module's output) is kept. Taps can make
// their input live, so iterate to a fixpoint (two passes for every graph the spaces build).
std::vector<bool> live_tensors(const Graph& g) {
  std::vector<bool> live(static_cast<size_t>(g.num_tensors), false);
  live[static_cast<size_t>(g.output)] = true;
  for (bool changed = true; changed;) {
    changed = false;
    for (auto it = g.ops.rbegin(); it != g.ops.rend(); ++it) {
      const bool op_live = it->kind == OpKind::Tap ? live[static_cast<size_t>(it->tap.anchor)]
                                                   : live[static_cast<size_t>(it->output)];
      if (!op_live) continue;
      for (TensorId t : it->inputs) {
        if (!live[static_cast<size_t>(t)]) {
          live[static_cast<size_t>(t)] = true;
          changed = true;
        }
      }
    }
  }
  return live;
}

Shape4 infer_shape(const Op& op, const std::vector<PlannedTensor>& ts, Shape4 input) {
  auto in = [&](size_t k) { return ts[static_cast<size_t>(op.inputs[k])].shape; };
  switch (op.kind) {
    case OpKind::Input: return input;
    case OpKind::Conv: {
      const Shape4 x = in(0);
      const ConvAttr& a = op.conv;
      const int oh = (x.h + 2 * a.pad_h - a.dilation_h * (a.kernel_h - 1) - 1) / a.stride_h + 1;
      const int ow = (x.w + 2 * a.pad_w - a.dilation_w * (a.kernel_w - 1) - 1) / a.stride_w + 1;
      NASWOT_EXPECT(oh > 0 && ow > 0, BadInput,
                    "conv '" << op.name << "': input " << x.h << "x" << x.w << " is too small for its kernel");
      return {x.n, oh, ow, a.out_channels};
    }
    case OpKind::BatchNorm:
    case OpKind::Relu: return in(0);
    case OpKind::Add: {
      for (size_t k = 1; k < op.inputs.size(); ++k)
        NASWOT_EXPECT(in(k) == in(0), Internal, "add '" << op.name << "': input shapes differ");
      return in(0);
    }
    case OpKind::AvgPool:
    case OpKind::MaxPool: {
      const Shape4 x = in(0);
      const PoolAttr& p = op.pool;
      const int oh = (x.h + 2 * p.pad - p.kernel) / p.stride + 1;
      const int ow = (x.w + 2 * p.pad - p.kernel) / p.stride + 1;
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
  const std::vector<bool> live = live_tensors(graph);
  m_tensors.assign(static_cast<size_t>(graph.num_tensors), PlannedTensor{});
  m_tap_slot.assign(graph.ops.size(), -1);

  std::map<TensorId, int> slot_of;
  for (size_t i = 0; i < graph.ops.size(); ++i) {
    const Op& op = graph.ops[i];
    if (op.kind == OpKind::Tap) {
      if (!live[static_cast<size_t>(op.tap.anchor)]) continue;
      const TensorId t = op.inputs.at(0);
      auto [it, inserted] = slot_of.emplace(t, static_cast<int>(m_taps.size()));
      if (inserted) m_taps.push_back({t, m_tensors[static_cast<size_t>(t)].shape.per_image(), 0, 0});
      m_taps[static_cast<size_t>(it->second)].weight_reference += op.tap.weight_reference;
      m_taps[static_cast<size_t>(it->second)].weight_unit += op.tap.weight_unit;
      m_tap_slot[i] = it->second;
      m_order.push_back(static_cast<int>(i));
      continue;
    }
    if (!live[static_cast<size_t>(op.output)]) continue;
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
    for (TensorId t : op.inputs) last_use[static_cast<size_t>(t)] = static_cast<int>(pos);
  }
  last_use[static_cast<size_t>(graph.output)] = static_cast<int>(m_order.size());

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
    for (TensorId t : op.inputs) {
      if (last_use[static_cast<size_t>(t)] != static_cast<int>(pos)) continue;
      if (std::find(seen.begin(), seen.end(), t) != seen.end()) continue;  // add(x, x)
      seen.push_back(t);
      const PlannedTensor& in = m_tensors[static_cast<size_t>(t)];
      alloc.release(in.offset, align_up(static_cast<size_t>(in.shape.numel())));
    }
  }
  m_arena_floats = alloc.high_water();
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
