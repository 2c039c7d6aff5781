// One per-image op (a schedule's Run step) through the CPU kernels, for the host-only replays of
// the CUDA backend's schedules (schedule_replay_test.cpp, stack_replay_test.cpp). Shapes are the
// op's input shapes and output shape as the plan gives them (n = images in this call).
#pragma once
#include <gtest/gtest.h>

#include <vector>

#include "kernels/cpu/conv2d.h"
#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/pool.h"
#include "runtime/graph.h"
#include "runtime/plan.h"

namespace naswot::test {

inline void cpu_run_op(const rt::Op& op, const std::vector<rt::Shape4>& in, const rt::Shape4& out,
                       const std::vector<const float*>& xs, const float* weight, const float* bias, float* y) {
  switch (op.kind) {
    case rt::OpKind::Conv: {
      const rt::Shape4 x = in[0];
      const rt::ConvAttr& a = op.conv;
      const cpu::Conv2dShape cs{x.n,        x.h,        x.w,     x.c,     a.out_channels, a.kernel_h,   a.kernel_w,
                                a.stride_h, a.stride_w, a.pad_h, a.pad_w, a.dilation_h,   a.dilation_w, a.groups};
      cpu::conv2d(cs, xs[0], weight, bias, y);
      return;
    }
    case rt::OpKind::Relu: cpu::relu(xs[0], out.numel(), y); return;
    case rt::OpKind::Add: cpu::add_n(xs.data(), static_cast<int>(xs.size()), out.numel(), y); return;
    case rt::OpKind::AvgPool:
    case rt::OpKind::MaxPool: {
      const rt::Shape4 x = in[0];
      const cpu::Pool2dShape ps{x.n, x.h, x.w, x.c, op.pool.kernel, op.pool.stride, op.pool.pad};
      if (op.kind == rt::OpKind::AvgPool)
        cpu::avgpool2d(ps, op.pool.count_include_pad, xs[0], y);
      else
        cpu::maxpool2d(ps, xs[0], y);
      return;
    }
    case rt::OpKind::Shift: cpu::shift_up_left(xs[0], in[0].n, in[0].h, in[0].w, in[0].c, y); return;
    case rt::OpKind::Zero: cpu::zero(xs[0], in[0].n, in[0].h, in[0].w, in[0].c, op.pool.stride, y); return;
    case rt::OpKind::Concat: {
      std::vector<int> channels;
      for (const rt::Shape4& s : in) channels.push_back(s.c);
      cpu::concat_channels(xs.data(), channels.data(), static_cast<int>(xs.size()),
                           static_cast<int64_t>(out.n) * out.h * out.w, y);
      return;
    }
    case rt::OpKind::GlobalAvgPool:
      cpu::global_avgpool(in[0].n, static_cast<int64_t>(in[0].h) * in[0].w, in[0].c, xs[0], y);
      return;
    case rt::OpKind::Linear:
      cpu::linear(xs[0], in[0].n, static_cast<int>(in[0].per_image()), op.out_features, weight, bias, y);
      return;
    default: ADD_FAILURE() << "replay: unexpected Run step for op " << rt::to_string(op.kind) << " '" << op.name << "'";
  }
}

}  // namespace naswot::test
