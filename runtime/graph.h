// runtime::Graph: a network as a list of ops over tensor ids (SSA: every op writes one new
// tensor, except Tap, which writes none). Built by a search space (cells/) through GraphBuilder,
// planned once per architecture (runtime/plan.h) and executed by a backend.
//
// Layout conventions (all backends):
//  * activations are NHWC float32; the input is the batch, N x H x W x 3;
//  * parameters keep PyTorch's layout and names (conv OIHW, linear [out, in], BN [C]) so that a
//    reference state_dict round-trips; backends reorder weights themselves;
//  * a Tap marks a hooked module of the reference implementation: the sign of its input tensor
//    (x > 0) becomes part of the binary code. Its `anchor` is the hooked module's output: the tap
//    counts only when the anchor reaches the network output (the reference counts only modules
//    that backward visits, reference-semantics.md §1.3).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace naswot::rt {

using TensorId = int32_t;
inline constexpr TensorId kNoTensor = -1;

enum class OpKind : uint8_t {
  Input,          // the image batch; exactly one, first op
  Conv,           // 2-D convolution, optional bias, groups and dilation
  BatchNorm,      // train mode: batch mean, biased batch variance, eps; affine gamma/beta
  Relu,           // max(x, 0)
  Add,            // sum of all inputs, in input order (n-ary)
  AvgPool,        // k x k window; count_include_pad selects PyTorch's divisor
  MaxPool,        // k x k window, padding never wins
  Zero,           // x * 0 (NB201/pycls "none"), with optional stride (strided slice, then * 0)
  Concat,         // channel concatenation, in input order
  GlobalAvgPool,  // mean over H, W: N x 1 x 1 x C
  Linear,         // N x 1 x 1 x C -> N x 1 x 1 x out, weight [out, C], optional bias
  Tap,            // hooked module: code = (input > 0); writes no tensor
  Shift,          // y[i][j] = x[i+1][j+1], zero past the bottom/right edge (FactorizedReduce's
                  // pad-then-crop: ConstantPad2d((0,1,0,1)) then [:, :, 1:, 1:]); same shape as x
};
inline constexpr int kOpKindCount = 13;
const char* to_string(OpKind kind);

struct ConvAttr {
  int out_channels = 0;
  int kernel_h = 1, kernel_w = 1;
  int stride_h = 1, stride_w = 1;
  int pad_h = 0, pad_w = 0;
  int dilation_h = 1, dilation_w = 1;
  int groups = 1;
  bool bias = false;
};

struct PoolAttr {
  int kernel = 1;
  int stride = 1;
  int pad = 0;
  bool count_include_pad = false;  // AvgPool only
};

struct TapAttr {
  TensorId anchor = kNoTensor;  // output of the hooked module (reachability)
  // Number of hooked modules that see this input, per counting mode:
  // reference (class name contains "ReLU": a ReLUConvBN wrapper and its inner ReLU = 2) and
  // unit (each ReLU once = 1).
  int weight_reference = 1;
  int weight_unit = 1;
};

struct Op {
  OpKind kind = OpKind::Input;
  std::string name;                // module path in the reference state_dict, e.g. "cells.3.layers.2.op"
  std::vector<TensorId> inputs;
  TensorId output = kNoTensor;     // kNoTensor for Tap
  ConvAttr conv;                   // Conv
  PoolAttr pool;                   // AvgPool, MaxPool, Zero (stride only)
  TapAttr tap;                     // Tap
  float eps = 1e-5f;               // BatchNorm
  int out_features = 0;            // Linear
  // Parameter names (keys into Params), empty when absent.
  std::string weight, bias;        // Conv, Linear, BatchNorm (gamma = weight, beta = bias)
  std::string running_mean, running_var;  // BatchNorm: exported for state_dict parity, never used
};

enum class ParamInit : uint8_t {
  UniformFanIn,  // U(-1/sqrt(fan_in), +1/sqrt(fan_in)): PyTorch's default conv/linear init
  Ones,
  Zeros,
};

struct ParamSpec {
  std::string name;
  std::vector<int64_t> shape;  // PyTorch shape
  ParamInit init = ParamInit::Zeros;
  int64_t fan_in = 1;          // UniformFanIn
  bool optional = false;       // may be absent from an imported file (BN running statistics)
  int64_t numel() const;
};

struct Graph {
  std::vector<Op> ops;
  std::vector<ParamSpec> params;  // in reference construction (state_dict) order
  int num_tensors = 0;
  TensorId input = kNoTensor;
  TensorId output = kNoTensor;    // the logits
  int input_channels = 3;
};

// Small builder used by the search spaces. Every method appends one op and returns its output.
// Parameter names are `<name>.weight` etc.; the builder registers their ParamSpecs.
class GraphBuilder {
 public:
  explicit GraphBuilder(int input_channels = 3);
  TensorId input();
  // channels of x are needed for fan-in and weight shapes: the builder tracks them.
  TensorId conv(TensorId x, const std::string& name, const ConvAttr& attr);
  TensorId batchnorm(TensorId x, const std::string& name, float eps = 1e-5f);
  TensorId relu(TensorId x, const std::string& name);
  // A hooked ReLU: Relu op plus a Tap on its input anchored at its output. `wrapped` marks the
  // inner ReLU of a ReLUConvBN wrapper, which the reference hooks twice (wrapper + ReLU).
  TensorId hooked_relu(TensorId x, const std::string& name, bool wrapped);
  TensorId add(const std::vector<TensorId>& xs, const std::string& name);
  TensorId avgpool(TensorId x, const std::string& name, const PoolAttr& attr);
  TensorId maxpool(TensorId x, const std::string& name, const PoolAttr& attr);
  TensorId zero(TensorId x, const std::string& name, int stride = 1);
  TensorId shift(TensorId x, const std::string& name);
  TensorId concat(const std::vector<TensorId>& xs, const std::string& name);
  TensorId global_avgpool(TensorId x, const std::string& name);
  TensorId linear(TensorId x, const std::string& name, int out_features, bool bias = true);
  void tap(TensorId x, TensorId anchor, const std::string& name, int weight_reference, int weight_unit);
  int channels(TensorId x) const { return m_channels.at(static_cast<size_t>(x)); }
  Graph finish(TensorId output);

 private:
  TensorId new_tensor(int channels);
  Op& push(OpKind kind, const std::string& name, std::vector<TensorId> inputs, int out_channels);
  Graph m_graph;
  std::vector<int> m_channels;
};

}  // namespace naswot::rt
