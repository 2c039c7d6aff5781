#include "runtime/graph.h"

#include "runtime/error.h"

namespace naswot::rt {

const char* to_string(OpKind kind) {
  switch (kind) {
    case OpKind::Input: return "input";
    case OpKind::Conv: return "conv";
    case OpKind::BatchNorm: return "batchnorm";
    case OpKind::Relu: return "relu";
    case OpKind::Add: return "add";
    case OpKind::AvgPool: return "avgpool";
    case OpKind::MaxPool: return "maxpool";
    case OpKind::Zero: return "zero";
    case OpKind::Concat: return "concat";
    case OpKind::GlobalAvgPool: return "global_avgpool";
    case OpKind::Linear: return "linear";
    case OpKind::Tap: return "tap";
    case OpKind::Shift: return "shift";
  }
  return "?";
}

int64_t ParamSpec::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

GraphBuilder::GraphBuilder(int input_channels) { m_graph.input_channels = input_channels; }

TensorId GraphBuilder::new_tensor(int channels) {
  m_channels.push_back(channels);
  return m_graph.num_tensors++;
}

Op& GraphBuilder::push(OpKind kind, const std::string& name, std::vector<TensorId> inputs, int out_channels) {
  for (TensorId t : inputs)
    NASWOT_EXPECT(t >= 0 && t < m_graph.num_tensors, Internal, "op '" << name << "' reads unknown tensor " << t);
  Op op;
  op.kind = kind;
  op.name = name;
  op.inputs = std::move(inputs);
  op.output = out_channels > 0 ? new_tensor(out_channels) : kNoTensor;
  m_graph.ops.push_back(std::move(op));
  return m_graph.ops.back();
}

TensorId GraphBuilder::input() {
  NASWOT_EXPECT(m_graph.input == kNoTensor, Internal, "graph already has an input");
  m_graph.input = push(OpKind::Input, "input", {}, m_graph.input_channels).output;
  return m_graph.input;
}

TensorId GraphBuilder::conv(TensorId x, const std::string& name, const ConvAttr& attr) {
  const int cin = channels(x);
  NASWOT_EXPECT(attr.groups >= 1 && cin % attr.groups == 0 && attr.out_channels % attr.groups == 0, Internal,
                "conv '" << name << "': groups " << attr.groups << " do not divide " << cin << " -> "
                         << attr.out_channels);
  Op& op = push(OpKind::Conv, name, {x}, attr.out_channels);
  op.conv = attr;
  op.weight = name + ".weight";
  const int64_t fan_in = static_cast<int64_t>(cin / attr.groups) * attr.kernel_h * attr.kernel_w;
  m_graph.params.push_back({op.weight, {attr.out_channels, cin / attr.groups, attr.kernel_h, attr.kernel_w},
                            ParamInit::UniformFanIn, fan_in, false});
  if (attr.bias) {
    op.bias = name + ".bias";
    m_graph.params.push_back({op.bias, {attr.out_channels}, ParamInit::UniformFanIn, fan_in, false});
  }
  return op.output;
}

TensorId GraphBuilder::batchnorm(TensorId x, const std::string& name, float eps) {
  const int c = channels(x);
  Op& op = push(OpKind::BatchNorm, name, {x}, c);
  op.eps = eps;
  op.weight = name + ".weight";
  op.bias = name + ".bias";
  op.running_mean = name + ".running_mean";
  op.running_var = name + ".running_var";
  m_graph.params.push_back({op.weight, {c}, ParamInit::Ones, 1, false});
  m_graph.params.push_back({op.bias, {c}, ParamInit::Zeros, 1, false});
  m_graph.params.push_back({op.running_mean, {c}, ParamInit::Zeros, 1, true});
  m_graph.params.push_back({op.running_var, {c}, ParamInit::Ones, 1, true});
  // PyTorch's state_dict carries this counter (int64, 0-D) after the running statistics; it is
  // accepted and exported for parity and never used.
  m_graph.params.push_back({name + ".num_batches_tracked", {}, ParamInit::Zeros, 1, true});
  return op.output;
}

TensorId GraphBuilder::relu(TensorId x, const std::string& name) {
  return push(OpKind::Relu, name, {x}, channels(x)).output;
}

TensorId GraphBuilder::hooked_relu(TensorId x, const std::string& name, bool wrapped) {
  const TensorId y = relu(x, name);
  tap(x, y, name, wrapped ? 2 : 1, 1);
  return y;
}

TensorId GraphBuilder::add(const std::vector<TensorId>& xs, const std::string& name) {
  NASWOT_EXPECT(!xs.empty(), Internal, "add '" << name << "' has no inputs");
  for (TensorId t : xs)
    NASWOT_EXPECT(channels(t) == channels(xs[0]), Internal, "add '" << name << "': channel mismatch");
  return push(OpKind::Add, name, xs, channels(xs[0])).output;
}

TensorId GraphBuilder::avgpool(TensorId x, const std::string& name, const PoolAttr& attr) {
  Op& op = push(OpKind::AvgPool, name, {x}, channels(x));
  op.pool = attr;
  return op.output;
}

TensorId GraphBuilder::maxpool(TensorId x, const std::string& name, const PoolAttr& attr) {
  Op& op = push(OpKind::MaxPool, name, {x}, channels(x));
  op.pool = attr;
  return op.output;
}

TensorId GraphBuilder::zero(TensorId x, const std::string& name, int stride) {
  Op& op = push(OpKind::Zero, name, {x}, channels(x));
  op.pool.stride = stride;
  return op.output;
}

TensorId GraphBuilder::shift(TensorId x, const std::string& name) {
  return push(OpKind::Shift, name, {x}, channels(x)).output;
}

TensorId GraphBuilder::concat(const std::vector<TensorId>& xs, const std::string& name) {
  NASWOT_EXPECT(!xs.empty(), Internal, "concat '" << name << "' has no inputs");
  int c = 0;
  for (TensorId t : xs) c += channels(t);
  return push(OpKind::Concat, name, xs, c).output;
}

TensorId GraphBuilder::global_avgpool(TensorId x, const std::string& name) {
  return push(OpKind::GlobalAvgPool, name, {x}, channels(x)).output;
}

TensorId GraphBuilder::linear(TensorId x, const std::string& name, int out_features, bool bias) {
  const int in = channels(x);
  Op& op = push(OpKind::Linear, name, {x}, out_features);
  op.out_features = out_features;
  op.weight = name + ".weight";
  m_graph.params.push_back({op.weight, {out_features, in}, ParamInit::UniformFanIn, in, false});
  if (bias) {
    op.bias = name + ".bias";
    m_graph.params.push_back({op.bias, {out_features}, ParamInit::UniformFanIn, in, false});
  }
  return op.output;
}

void GraphBuilder::tap(TensorId x, TensorId anchor, const std::string& name, int weight_reference, int weight_unit) {
  Op& op = push(OpKind::Tap, name, {x}, 0);
  op.tap.anchor = anchor;
  op.tap.weight_reference = weight_reference;
  op.tap.weight_unit = weight_unit;
}

Graph GraphBuilder::finish(TensorId output) {
  NASWOT_EXPECT(m_graph.input != kNoTensor, Internal, "graph has no input");
  NASWOT_EXPECT(output >= 0 && output < m_graph.num_tensors, Internal, "graph output is not a tensor");
  m_graph.output = output;
  Graph g = std::move(m_graph);
  m_graph = Graph{};
  m_channels.clear();
  return g;
}

}  // namespace naswot::rt
