// pycls NetworkCIFAR / NetworkImageNet (reference-semantics.md §4.2-4.4) as a runtime::Graph.
//
//   CIFAR:    stem (conv3x3 3->3C + BN, no ReLU) -> s0 = s1 = stem
//   ImageNet: stem0 (conv3x3/2 3->C/2, BN, ReLU, conv3x3/2 C/2->C, BN) -> s0
//             stem1 (ReLU, conv3x3/2 C->C, BN) -> s1; stem1's ReLU is in place, so s0 = ReLU(s0)
//   depth cells: (s0, s1) <- (s1, cell(s0, s1)); cells depth/3 and 2*depth/3 are reductions (C*=2)
//   classifier: global average pool, Linear(C_prev -> 1); no auxiliary head.
//
// Names are the reference state_dict paths (pycls modules, before the reference wraps each Linear
// for feature output): stem.0, cells.K.preprocess0.op.1 (ReLUConvBN), cells.K.preprocess0.conv_1
// (FactorizedReduce), cells.K._ops.J.op.N (SepConv, DilConv, DilSepConv), cells.K._ops.J.N (the
// plain Sequential convs), cells.K._ops.J.conv_1 (skip_connect at stride 2), classifier.classifier.
// Ops are created in module order, so the parameters come out in state_dict order.
//
// Hooks (§0.1, §1.3): the reference hooks every module whose type name contains "ReLU": each
// nn.ReLU, and the ReLUConvBN wrapper, whose input is its inner ReLU's input. So a ReLUConvBN
// (only the preprocess 1x1 convs here) is a tap of reference weight 2; the ReLUs inside SepConv,
// DilConv, DilSepConv, FactorizedReduce and the plain Sequential convs are taps of weight 1 (those
// class names lack "ReLU"). Taps count only when their module reaches the logits: the Plan drops
// the preprocessing of an unused cell input, and a `none` edge (x*0, a Zero op) keeps its input
// reaching, as the reference's x.mul(0.) keeps it in the autograd graph.
//
// The builder tracks every tensor's shape from config.input_size and rejects networks the
// reference cannot run (its forward raises, so it scores NaN): a node summing two different
// shapes (2x2 pools at stride 1 shrink the map by one; cell inputs concatenated in a reduction
// cell), a FactorizedReduce with an odd channel count (pycls asserts C_out % 2 == 0), or a window
// larger than its padded input.
#include <string>
#include <vector>

#include "cells/darts.h"
#include "cells/graph_blocks.h"
#include "runtime/error.h"

namespace naswot::cells {
namespace {

using rt::ConvAttr;
using rt::GraphBuilder;
using rt::PoolAttr;
using rt::TensorId;

struct State {
  TensorId t = rt::kNoTensor;
  int c = 0, h = 0, w = 0;
};

std::string dims(const State& s) { return std::to_string(s.h) + "x" + std::to_string(s.w) + "x" + std::to_string(s.c); }

// PyTorch's floor formula for a sliding window; < 1 when the window does not fit.
int window_out(int size, int pad, int span, int stride) {
  const int room = size + 2 * pad - span;
  return room < 0 ? 0 : room / stride + 1;
}

class NetBuilder {
 public:
  explicit NetBuilder(int input_size) { m_input = {m_b.input(), 3, input_size, input_size}; }
  State input() const { return m_input; }

  State conv(const State& x, const std::string& name, const ConvAttr& a) {
    const int oh = window_out(x.h, a.pad_h, a.dilation_h * (a.kernel_h - 1) + 1, a.stride_h);
    const int ow = window_out(x.w, a.pad_w, a.dilation_w * (a.kernel_w - 1) + 1, a.stride_w);
    NASWOT_EXPECT(oh >= 1 && ow >= 1, BadInput,
                  "darts network: conv '" << name << "' (" << a.kernel_h << "x" << a.kernel_w << ", dilation "
                                          << a.dilation_h << ", padding " << a.pad_h << "x" << a.pad_w
                                          << ") does not fit its " << x.h << "x" << x.w
                                          << " input; the reference fails here (its score is NaN): "
                                          << "use a larger --image-size or a smaller --depth");
    return {m_b.conv(x.t, name, a), a.out_channels, oh, ow};
  }
  // ReLUConvBN (cells/graph_blocks.h) with a 1x1 conv, the only kind pycls cells use: only the
  // channel count changes.
  State relu_conv_bn_1x1(const State& x, const std::string& name, int c_out) {
    return {cells::relu_conv_bn(m_b, x.t, name, square_conv(c_out, 1, 1, 0)), c_out, x.h, x.w};
  }
  State bn(const State& x, const std::string& name) { return {m_b.batchnorm(x.t, name), x.c, x.h, x.w}; }
  State relu(const State& x, const std::string& name, bool wrapped) {
    return {m_b.hooked_relu(x.t, name, wrapped), x.c, x.h, x.w};
  }
  State pool(const State& x, const std::string& name, bool max, int k, int stride) {
    PoolAttr p;
    p.kernel = k;
    p.stride = stride;
    p.pad = k / 2 - (k % 2 == 0 ? 1 : 0);  // pycls: 2x2 pad 0, 3x3 pad 1, 5x5 pad 2, 7x7 pad 3
    p.count_include_pad = false;
    const int oh = window_out(x.h, p.pad, k, stride);
    const int ow = window_out(x.w, p.pad, k, stride);
    NASWOT_EXPECT(oh >= 1 && ow >= 1, BadInput,
                  "darts network: pool '" << name << "' (" << k << "x" << k << ") does not fit its " << x.h << "x"
                                          << x.w << " input; the reference fails here (its score is NaN)");
    return {max ? m_b.maxpool(x.t, name, p) : m_b.avgpool(x.t, name, p), x.c, oh, ow};
  }
  State zero(const State& x, const std::string& name, int stride) {
    return {m_b.zero(x.t, name, stride), x.c, (x.h + stride - 1) / stride, (x.w + stride - 1) / stride};
  }
  State add(const State& a, const State& b, const std::string& name, const std::string& what) {
    NASWOT_EXPECT(a.h == b.h && a.w == b.w && a.c == b.c, BadInput,
                  "darts network: " << what << " sums a " << dims(a) << " and a " << dims(b)
                                    << " tensor (HxWxC); the reference fails here (its score is NaN)");
    return {m_b.add({a.t, b.t}, name), a.c, a.h, a.w};
  }
  State concat(const std::vector<State>& xs, const std::string& name, const std::string& what) {
    if (xs.size() == 1) return xs[0];
    std::vector<TensorId> ts;
    int c = 0;
    for (const State& x : xs) {
      NASWOT_EXPECT(x.h == xs[0].h && x.w == xs[0].w, BadInput,
                    "darts network: " << what << " concatenates a " << dims(xs[0]) << " and a " << dims(x)
                                      << " tensor (HxWxC); the reference fails here (its score is NaN)");
      ts.push_back(x.t);
      c += x.c;
    }
    return {m_b.concat(ts, name), c, xs[0].h, xs[0].w};
  }
  State shift(const State& x, const std::string& name) { return {m_b.shift(x.t, name), x.c, x.h, x.w}; }
  State head(const State& x, int num_classes) {
    const TensorId pooled = m_b.global_avgpool(x.t, "classifier.pooling");
    return {m_b.linear(pooled, "classifier.classifier", num_classes, /*bias=*/true), num_classes, 1, 1};
  }
  rt::Graph finish(const State& out) { return m_b.finish(out.t); }

 private:
  GraphBuilder m_b{3};
  State m_input;
};

// FactorizedReduce(C_in -> c_out): relu, conv_1 (1x1/2 of x), conv_2 (1x1/2 of x shifted up-left by
// one pixel: pad's zero row/column, then [1:, 1:]), channel concat, bn. Halves H and W (rounding up).
State factorized_reduce(NetBuilder& b, const State& x, const std::string& name, int c_out) {
  NASWOT_EXPECT(c_out % 2 == 0, BadInput,
                "darts network: FactorizedReduce '" << name << "' needs an even channel count, got " << c_out
                                                    << " (pycls asserts C_out % 2 == 0); use an even --width");
  const State r = b.relu(x, name + ".relu", /*wrapped=*/false);
  const State a = b.conv(r, name + ".conv_1", square_conv(c_out / 2, 1, 2, 0));
  const State s = b.shift(r, name + ".pad");
  const State c = b.conv(s, name + ".conv_2", square_conv(c_out / 2, 1, 2, 0));
  return b.bn(b.concat({a, c}, name + ".cat", "FactorizedReduce '" + name + "'"), name + ".bn");
}

// SepConv / DilSepConv (two ReLU-dw-pw-BN blocks, stride on the first) and DilConv (one block).
State sep_conv(NetBuilder& b, const State& x, const std::string& name, int k, int stride, int pad, int dilation) {
  const int c = x.c;
  State y = b.relu(x, name + ".op.0", false);
  y = b.conv(y, name + ".op.1", square_conv(c, k, stride, pad, dilation, c));
  y = b.conv(y, name + ".op.2", square_conv(c, 1, 1, 0));
  y = b.bn(y, name + ".op.3");
  y = b.relu(y, name + ".op.4", false);
  y = b.conv(y, name + ".op.5", square_conv(c, k, 1, pad, dilation, c));
  y = b.conv(y, name + ".op.6", square_conv(c, 1, 1, 0));
  return b.bn(y, name + ".op.7");
}
State dil_conv(NetBuilder& b, const State& x, const std::string& name, int k, int stride, int pad) {
  const int c = x.c;
  State y = b.relu(x, name + ".op.0", false);
  y = b.conv(y, name + ".op.1", square_conv(c, k, stride, pad, 2, c));
  y = b.conv(y, name + ".op.2", square_conv(c, 1, 1, 0));
  return b.bn(y, name + ".op.3");
}

// One edge op of a cell (C_in == C_out == x.c). `name` is cells.K._ops.J.
State edge_op(NetBuilder& b, const State& x, DartsOp op, int stride, const std::string& name) {
  const int c = x.c;
  switch (op) {
    case DartsOp::None:
      return b.zero(x, name, stride);
    case DartsOp::AvgPool2x2:
      return b.pool(x, name, false, 2, stride);
    case DartsOp::AvgPool3x3:
      return b.pool(x, name, false, 3, stride);
    case DartsOp::AvgPool5x5:
      return b.pool(x, name, false, 5, stride);
    case DartsOp::MaxPool2x2:
      return b.pool(x, name, true, 2, stride);
    case DartsOp::MaxPool3x3:
      return b.pool(x, name, true, 3, stride);
    case DartsOp::MaxPool5x5:
      return b.pool(x, name, true, 5, stride);
    case DartsOp::MaxPool7x7:
      return b.pool(x, name, true, 7, stride);
    case DartsOp::SkipConnect:
      return stride == 1 ? x : factorized_reduce(b, x, name, c);
    case DartsOp::Conv1x1:
    case DartsOp::Conv3x3: {
      // nn.Sequential(ReLU, Conv, BN): the Sequential's type name lacks "ReLU", so one tap.
      const int k = op == DartsOp::Conv1x1 ? 1 : 3;
      const State r = b.relu(x, name + ".0", false);
      return b.bn(b.conv(r, name + ".1", square_conv(c, k, stride, k / 2)), name + ".2");
    }
    case DartsOp::Conv3x1_1x3:
    case DartsOp::Conv7x1_1x7: {
      // ReLU, (1 x k) conv with stride (1, s), (k x 1) conv with stride (s, 1), BN.
      const int k = op == DartsOp::Conv3x1_1x3 ? 3 : 7;
      const State r = b.relu(x, name + ".0", false);
      const State a = b.conv(r, name + ".1", {.out_channels = c, .kernel_w = k, .stride_w = stride, .pad_w = k / 2});
      const State v = b.conv(a, name + ".2", {.out_channels = c, .kernel_h = k, .stride_h = stride, .pad_h = k / 2});
      return b.bn(v, name + ".3");
    }
    case DartsOp::SepConv3x3:
      return sep_conv(b, x, name, 3, stride, 1, 1);
    case DartsOp::SepConv5x5:
      return sep_conv(b, x, name, 5, stride, 2, 1);
    case DartsOp::SepConv7x7:
      return sep_conv(b, x, name, 7, stride, 3, 1);
    case DartsOp::DilConv3x3:
      return dil_conv(b, x, name, 3, stride, 2);
    case DartsOp::DilConv5x5:
      return dil_conv(b, x, name, 5, stride, 4);
    case DartsOp::DilSepConv3x3:
      return sep_conv(b, x, name, 3, stride, 2, 2);
  }
  throw_error(ErrorKind::BadInput, "darts network: edge " + name + " has an invalid op value");
}

// Cell cells.K (pycls Cell): preprocess both inputs to c channels, then each node sums its two
// edges (stride 2 on the edges that read a cell input, in a reduction cell), then concat.
State cell(NetBuilder& b, const DartsCell& spec, const State& s0, const State& s1, int c, bool reduction,
           bool reduction_prev, const std::string& name) {
  std::vector<State> states;
  states.push_back(reduction_prev ? factorized_reduce(b, s0, name + ".preprocess0", c)
                                  : b.relu_conv_bn_1x1(s0, name + ".preprocess0", c));
  states.push_back(b.relu_conv_bn_1x1(s1, name + ".preprocess1", c));
  for (int i = 0; i < spec.steps(); ++i) {
    State h[2];
    for (int k = 0; k < 2; ++k) {
      const int e = 2 * i + k;
      const DartsEdge& edge = spec.edges[static_cast<size_t>(e)];
      const int stride = reduction && edge.input < 2 ? 2 : 1;
      h[k] = edge_op(b, states[static_cast<size_t>(edge.input)], edge.op, stride, name + "._ops." + std::to_string(e));
    }
    const std::string node = std::to_string(2 + i);
    states.push_back(b.add(h[0], h[1], name + ".node" + node, name + " node " + node));
  }
  std::vector<State> parts;
  for (int s : spec.concat) parts.push_back(states[static_cast<size_t>(s)]);
  return b.concat(parts, name + ".concat", name + " (its output concat)");
}

}  // namespace

rt::Graph build_darts(const DartsGenotype& genotype, const DartsConfig& config) {
  NASWOT_EXPECT(config.width >= (config.imagenet ? 2 : 1), BadInput,
                "darts network: width " << config.width << ", expected >= " << (config.imagenet ? 2 : 1));
  NASWOT_EXPECT(config.depth >= 1, BadInput, "darts network: depth " << config.depth << ", expected >= 1");
  NASWOT_EXPECT(config.input_size >= 1, BadInput,
                "darts network: input size " << config.input_size << ", expected >= 1");
  NASWOT_EXPECT(config.num_classes >= 1, BadInput,
                "darts network: num_classes " << config.num_classes << ", expected >= 1");
  validate_darts_cell(genotype.normal, "darts genotype: normal cell");
  validate_darts_cell(genotype.reduce, "darts genotype: reduce cell");

  NetBuilder b(config.input_size);
  const int C = config.width;
  State s0, s1;
  bool reduction_prev = false;
  if (!config.imagenet) {
    const State x = b.conv(b.input(), "stem.0", square_conv(3 * C, 3, 1, 1));
    s0 = s1 = b.bn(x, "stem.1");
  } else {
    State x = b.conv(b.input(), "stem0.0", square_conv(C / 2, 3, 2, 1));
    x = b.bn(x, "stem0.1");
    x = b.relu(x, "stem0.2", false);  // inplace: the hook sees ReLU(x), whose sign pattern equals x's
    x = b.conv(x, "stem0.3", square_conv(C, 3, 2, 1));
    x = b.bn(x, "stem0.4");
    // stem1.0 is ReLU(inplace=True) on s0 itself: cell 0 then reads ReLU(s0), so s0 is the ReLU output.
    s0 = b.relu(x, "stem1.0", false);
    s1 = b.bn(b.conv(s0, "stem1.1", square_conv(C, 3, 2, 1)), "stem1.2");
    reduction_prev = true;
  }

  int c = C;
  for (int i = 0; i < config.depth; ++i) {
    const bool reduction = i == config.depth / 3 || i == 2 * config.depth / 3;
    if (reduction) c *= 2;
    const DartsCell& spec = reduction ? genotype.reduce : genotype.normal;
    const State out = cell(b, spec, s0, s1, c, reduction, reduction_prev, "cells." + std::to_string(i));
    // pycls: C_prev = multiplier * C_curr with multiplier = len(concat).
    NASWOT_EXPECT(out.c == static_cast<int>(spec.concat.size()) * c, Internal, "darts cell channel count");
    s0 = s1;
    s1 = out;
    reduction_prev = reduction;
  }
  return b.finish(b.head(s1, config.num_classes));
}

}  // namespace naswot::cells
