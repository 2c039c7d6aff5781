// enqueue_run_op (see run_op.h): per-image ops to kernels. Semantics equal CpuBackend's op by op.
#include "runtime/cuda/run_op.h"

#include <string>

#include "kernels/cuda/conv2d.cuh"
#include "kernels/cuda/elementwise.cuh"
#include "kernels/cuda/pool.cuh"
#include "runtime/error.h"

namespace naswot::rt {

cuda::Conv2dShape conv_shape_of(const Op& op, const Shape4& x) {
  const ConvAttr& a = op.conv;
  return {x.n,        x.h,        x.w,     x.c,     a.out_channels, a.kernel_h,   a.kernel_w,
          a.stride_h, a.stride_w, a.pad_h, a.pad_w, a.dilation_h,   a.dilation_w, a.groups};
}

void enqueue_run_op(const RunOpArgs& r) {
  const Op& op = *r.op;
  cudaStream_t s = r.stream;
  switch (op.kind) {
    case OpKind::Conv: {
      NASWOT_EXPECT(r.conv != nullptr, Internal, "conv '" << op.name << "' without a plan");
      NASWOT_EXPECT(r.conv->workspace_bytes <= r.workspace_bytes, Internal,
                    "conv workspace " << r.conv->workspace_bytes << " exceeds the arena's " << r.workspace_bytes);
      cuda::conv2d(r.conv->view(r.cudnn), conv_shape_of(op, r.in[0]), r.xs[0], r.weight, r.bias, r.y, r.workspace, s);
      return;
    }
    case OpKind::Add:
      cuda::add_n(r.xs, static_cast<int>(op.inputs.size()), r.out.numel(), r.y, s);
      return;
    case OpKind::Relu: cuda::relu(r.xs[0], r.in[0].numel(), r.y, s); return;
    case OpKind::AvgPool:
    case OpKind::MaxPool: {
      const Shape4 i = r.in[0];
      const cuda::Pool2dShape ps{i.n, i.h, i.w, i.c, op.pool.kernel, op.pool.stride, op.pool.pad};
      if (op.kind == OpKind::AvgPool)
        cuda::avgpool2d(ps, op.pool.count_include_pad, r.xs[0], r.y, s);
      else
        cuda::maxpool2d(ps, r.xs[0], r.y, s);
      return;
    }
    case OpKind::Zero: {
      const Shape4 i = r.in[0];
      cuda::zero(r.xs[0], i.n, i.h, i.w, i.c, op.pool.stride, r.y, s);
      return;
    }
    case OpKind::Shift: {
      const Shape4 i = r.in[0];
      cuda::shift_up_left(r.xs[0], i.n, i.h, i.w, i.c, r.y, s);
      return;
    }
    case OpKind::Concat: {
      NASWOT_EXPECT(op.inputs.size() <= kMaxRunOpInputs, Unsupported,
                    "concat '" << op.name << "' has more than " << kMaxRunOpInputs << " inputs");
      int channels[kMaxRunOpInputs];
      for (size_t k = 0; k < op.inputs.size(); ++k) channels[k] = r.in[k].c;
      cuda::concat_channels(r.xs, channels, static_cast<int>(op.inputs.size()),
                            static_cast<int64_t>(r.out.n) * r.out.h * r.out.w, r.y, s);
      return;
    }
    case OpKind::GlobalAvgPool: {
      const Shape4 i = r.in[0];
      cuda::global_avgpool(i.n, static_cast<int64_t>(i.h) * i.w, i.c, r.xs[0], r.y, s);
      return;
    }
    case OpKind::Linear: {
      const Shape4 i = r.in[0];
      cuda::linear(r.xs[0], i.n, static_cast<int>(i.per_image()), op.out_features, r.weight, r.bias, r.y, s);
      return;
    }
    case OpKind::Input:
    case OpKind::BatchNorm:
    case OpKind::Tap: break;
  }
  throw_error(ErrorKind::Internal, std::string("cuda backend: op ") + to_string(op.kind) + " '" + op.name +
                                       "' is not a per-image (Run) op");
}

}  // namespace naswot::rt
