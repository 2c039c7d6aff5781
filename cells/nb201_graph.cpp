// NB-201 TinyNetwork as a runtime::Graph (reference-semantics.md §3.2-3.5):
//   stem (conv3x3 + BN, no ReLU) -> N InferCells(C) -> ResBlock(C->2C, /2) -> N InferCells(2C)
//   -> ResBlock(2C->4C, /2) -> N InferCells(4C) -> lastact (BN + ReLU) -> global avg -> linear.
// Names are the reference state_dict paths and the parameters come out in module creation
// order, so a PyTorch state_dict maps onto Params one to one. Hooks: every ReLUConvBN input is a
// tap of reference weight 2 (wrapper + inner ReLU, §0.1), lastact's ReLU a tap of weight 1.
#include <string>
#include <vector>

#include "cells/graph_blocks.h"
#include "cells/nb201.h"
#include "runtime/error.h"

namespace naswot::cells {
namespace {

using rt::GraphBuilder;
using rt::PoolAttr;
using rt::TensorId;

// One edge op inside an InferCell (C_in == C_out, stride 1). `name` is cells.K.layers.E.
TensorId edge_op(GraphBuilder& b, TensorId x, Nb201Op op, const std::string& name) {
  const int c = b.channels(x);
  switch (op) {
    case Nb201Op::None: return b.zero(x, name);
    case Nb201Op::SkipConnect: return x;
    case Nb201Op::NorConv1x1: return relu_conv_bn(b, x, name, square_conv(c, 1, 1, 0));
    case Nb201Op::NorConv3x3: return relu_conv_bn(b, x, name, square_conv(c, 3, 1, 1));
    case Nb201Op::AvgPool3x3: {
      PoolAttr p;
      p.kernel = 3;
      p.stride = 1;
      p.pad = 1;
      p.count_include_pad = false;
      return b.avgpool(x, name + ".op", p);
    }
  }
  throw_error(ErrorKind::BadInput, "nb201: edge " + name + " has an invalid op value");
}

// InferCell cells.K: node i = sum over its incoming edges j < i (in string order) of op(node j).
TensorId infer_cell(GraphBuilder& b, TensorId x, const Nb201Arch& arch, const std::string& name) {
  std::vector<TensorId> nodes = {x};
  std::vector<std::vector<TensorId>> incoming(4);
  for (int e = 0; e < kNb201EdgeCount; ++e) {
    const auto ue = static_cast<size_t>(e);
    const int from = kNb201EdgeFrom[ue];
    const int to = kNb201EdgeTo[ue];
    // Edges are in string order, so every edge into node `to` precedes the first edge out of
    // it: node `from` is complete when this edge is reached.
    if (static_cast<int>(nodes.size()) <= from) {
      const auto& in = incoming[static_cast<size_t>(from)];
      nodes.push_back(in.size() == 1 ? in[0] : b.add(in, name + ".node" + std::to_string(from)));
    }
    incoming[static_cast<size_t>(to)].push_back(
        edge_op(b, nodes[static_cast<size_t>(from)], arch.edges[ue], name + ".layers." + std::to_string(e)));
  }
  return b.add(incoming[3], name + ".node3");
}

// ResNetBasicblock(inplanes -> planes, stride 2). Module creation order: conv_a, conv_b,
// downsample (AvgPool2d(2, 2) then 1x1 conv, no BN, no ReLU). Output = residual + conv_b.
TensorId res_block(GraphBuilder& b, TensorId x, int planes, const std::string& name) {
  const TensorId a = relu_conv_bn(b, x, name + ".conv_a", square_conv(planes, 3, 2, 1));
  const TensorId bb = relu_conv_bn(b, a, name + ".conv_b", square_conv(planes, 3, 1, 1));
  PoolAttr p;
  p.kernel = 2;
  p.stride = 2;
  p.pad = 0;
  const TensorId pooled = b.avgpool(x, name + ".downsample.0", p);
  const TensorId residual = b.conv(pooled, name + ".downsample.1", square_conv(planes, 1, 1, 0));
  return b.add({residual, bb}, name);
}

}  // namespace

rt::Graph build_nb201(const Nb201Arch& arch, const Nb201Config& config) {
  NASWOT_EXPECT(config.input_size >= 4 && config.input_size % 4 == 0, BadInput,
                "nb201 config: input_size " << config.input_size << ", expected a positive multiple of 4 (32 or 16)");
  NASWOT_EXPECT(config.channels >= 1, BadInput, "nb201 config: channels " << config.channels << ", expected >= 1");
  NASWOT_EXPECT(config.cells_per_stage >= 1, BadInput,
                "nb201 config: cells_per_stage " << config.cells_per_stage << ", expected >= 1");
  NASWOT_EXPECT(config.num_classes >= 1, BadInput,
                "nb201 config: num_classes " << config.num_classes << ", expected >= 1");
  for (Nb201Op op : arch.edges)
    NASWOT_EXPECT(static_cast<int>(op) < kNb201OpCount, BadInput,
                  "nb201 arch: op value " << static_cast<int>(op) << " out of range");

  GraphBuilder b(3);
  TensorId x = b.input();
  int c = config.channels;
  x = b.conv(x, "stem.0", square_conv(c, 3, 1, 1));
  x = b.batchnorm(x, "stem.1");

  int k = 0;  // index into the reference `cells` ModuleList
  for (int stage = 0; stage < 3; ++stage) {
    if (stage > 0) {
      c *= 2;
      x = res_block(b, x, c, "cells." + std::to_string(k++));
    }
    for (int i = 0; i < config.cells_per_stage; ++i) x = infer_cell(b, x, arch, "cells." + std::to_string(k++));
  }

  x = b.batchnorm(x, "lastact.0");
  x = b.hooked_relu(x, "lastact.1", /*wrapped=*/false);
  x = b.global_avgpool(x, "global_pooling");
  x = b.linear(x, "classifier", config.num_classes, /*bias=*/true);
  return b.finish(x);
}

}  // namespace naswot::cells
