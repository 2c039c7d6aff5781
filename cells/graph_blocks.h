// Graph pieces that the NB-201 and DARTS builders (nb201_graph.cpp, darts_graph.cpp) share:
// PyTorch's square Conv2d as ConvAttr, and the ReLUConvBN module. ReLUConvBN is one unit of the
// reference semantics in both spaces: op.0 ReLU, op.1 Conv (no bias), op.2 BatchNorm, and the
// hook counts its input twice (reference-semantics.md §0.1: the wrapper's type name contains
// "ReLU" and so does its inner ReLU's), hence the wrapped hooked ReLU.
#pragma once
#include <string>

#include "runtime/graph.h"

namespace naswot::cells {

// nn.Conv2d(C_in, out_channels, kernel, stride, pad, dilation, groups, bias=False).
inline rt::ConvAttr square_conv(int out_channels, int kernel, int stride, int pad, int dilation = 1, int groups = 1) {
  rt::ConvAttr a;
  a.out_channels = out_channels;
  a.kernel_h = a.kernel_w = kernel;
  a.stride_h = a.stride_w = stride;
  a.pad_h = a.pad_w = pad;
  a.dilation_h = a.dilation_w = dilation;
  a.groups = groups;
  return a;
}

// ReLUConvBN `name` on x: name.op.0 ReLU (hooked, wrapped), name.op.1 conv, name.op.2 BatchNorm.
inline rt::TensorId relu_conv_bn(rt::GraphBuilder& b, rt::TensorId x, const std::string& name,
                                 const rt::ConvAttr& conv) {
  const rt::TensorId r = b.hooked_relu(x, name + ".op.0", /*wrapped=*/true);
  return b.batchnorm(b.conv(r, name + ".op.1", conv), name + ".op.2");
}

}  // namespace naswot::cells
