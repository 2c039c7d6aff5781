// Naive graph interpreter for tests (contract in reference_executor.h). Written for obviousness,
// not speed: every loop is the textbook definition of its op.
#include "tests/runtime/reference_executor.h"

#include <algorithm>
#include <limits>

#include "kernels/cpu/batchnorm.h"
#include "kernels/cpu/conv2d.h"
#include "kernels/cpu/popcount_k.h"
#include "runtime/error.h"

namespace naswot::test {

using rt::Op;
using rt::OpKind;
using rt::Shape4;
using rt::TensorId;

namespace {

size_t idx(TensorId t) { return static_cast<size_t>(t); }

int floor_out(int size, int pad, int span, int stride, const Op& op) {
  const int num = size + 2 * pad - span;
  NASWOT_EXPECT(num >= 0, Internal, "reference: op '" << op.name << "' does not fit its " << size << " input");
  return num / stride + 1;
}

Shape4 op_shape(const Op& op, const std::vector<Shape4>& s, Shape4 input) {
  auto in = [&](size_t k) { return s[idx(op.inputs[k])]; };
  switch (op.kind) {
    case OpKind::Input:
      return input;
    case OpKind::Conv: {
      const rt::ConvAttr& a = op.conv;
      const Shape4 x = in(0);
      return {x.n, floor_out(x.h, a.pad_h, a.dilation_h * (a.kernel_h - 1) + 1, a.stride_h, op),
              floor_out(x.w, a.pad_w, a.dilation_w * (a.kernel_w - 1) + 1, a.stride_w, op), a.out_channels};
    }
    case OpKind::AvgPool:
    case OpKind::MaxPool: {
      const Shape4 x = in(0);
      return {x.n, floor_out(x.h, op.pool.pad, op.pool.kernel, op.pool.stride, op),
              floor_out(x.w, op.pool.pad, op.pool.kernel, op.pool.stride, op), x.c};
    }
    case OpKind::Zero: {
      const Shape4 x = in(0);
      const int st = op.pool.stride;
      return {x.n, (x.h + st - 1) / st, (x.w + st - 1) / st, x.c};
    }
    case OpKind::Concat: {
      Shape4 y = in(0);
      y.c = 0;
      for (size_t k = 0; k < op.inputs.size(); ++k) y.c += in(k).c;
      return y;
    }
    case OpKind::GlobalAvgPool:
      return {in(0).n, 1, 1, in(0).c};
    case OpKind::Linear:
      return {in(0).n, 1, 1, op.out_features};
    case OpKind::BatchNorm:
    case OpKind::Relu:
    case OpKind::Add:
    case OpKind::Shift:
      return in(0);
    case OpKind::Tap:
      break;
  }
  return {};
}

// x[n][y][x][c] with NHWC strides.
size_t at(const Shape4& s, int n, int y, int x, int c) {
  return ((static_cast<size_t>(n) * static_cast<size_t>(s.h) + static_cast<size_t>(y)) * static_cast<size_t>(s.w) +
          static_cast<size_t>(x)) *
             static_cast<size_t>(s.c) +
         static_cast<size_t>(c);
}

void pool(const Op& op, const Shape4& xs, const std::vector<float>& x, const Shape4& ys, std::vector<float>& y) {
  const rt::PoolAttr& p = op.pool;
  for (int n = 0; n < ys.n; ++n)
    for (int oy = 0; oy < ys.h; ++oy)
      for (int ox = 0; ox < ys.w; ++ox)
        for (int c = 0; c < ys.c; ++c) {
          double sum = 0.0;
          float best = -std::numeric_limits<float>::infinity();
          int inside = 0, padded = 0;
          for (int ky = 0; ky < p.kernel; ++ky)
            for (int kx = 0; kx < p.kernel; ++kx) {
              const int iy = oy * p.stride - p.pad + ky, ix = ox * p.stride - p.pad + kx;
              if (iy < xs.h + p.pad && ix < xs.w + p.pad) ++padded;  // inside the padded image
              if (iy < 0 || iy >= xs.h || ix < 0 || ix >= xs.w) continue;
              const float v = x[at(xs, n, iy, ix, c)];
              sum += v;
              best = std::max(best, v);
              ++inside;
            }
          float& out = y[at(ys, n, oy, ox, c)];
          if (op.kind == OpKind::MaxPool)
            out = best;
          else
            out = static_cast<float>(sum / (p.count_include_pad ? padded : inside));
        }
}

// Writes the output of a non-Tap op.
void run(const Op& op, const rt::Params& params, const rt::Batch& batch, const std::vector<Shape4>& s,
         const std::vector<std::vector<float>>& v, std::vector<float>& y) {
  const Shape4 ys = s[idx(op.output)];
  y.assign(static_cast<size_t>(ys.numel()), 0.0f);
  auto xs = [&](size_t k) { return s[idx(op.inputs[k])]; };
  auto x = [&](size_t k) -> const std::vector<float>& { return v[idx(op.inputs[k])]; };
  const size_t count = y.size();
  switch (op.kind) {
    case OpKind::Input:
      y = batch.data;
      return;
    case OpKind::Conv: {
      const Shape4 i = xs(0);
      const rt::ConvAttr& a = op.conv;
      const cpu::Conv2dShape cs{i.n,        i.h,        i.w,     i.c,     a.out_channels, a.kernel_h,   a.kernel_w,
                                a.stride_h, a.stride_w, a.pad_h, a.pad_w, a.dilation_h,   a.dilation_w, a.groups};
      const float* bias = op.bias.empty() ? nullptr : params.at(op.bias).data.data();
      cpu::conv2d_reference(cs, x(0).data(), params.at(op.weight).data.data(), bias, y.data());
      return;
    }
    case OpKind::BatchNorm: {
      std::vector<float> mean(static_cast<size_t>(ys.c)), var(static_cast<size_t>(ys.c));
      cpu::batchnorm_train_reference(x(0).data(), static_cast<int64_t>(ys.n) * ys.h * ys.w, ys.c,
                                     params.at(op.weight).data.data(), params.at(op.bias).data.data(), op.eps, y.data(),
                                     mean.data(), var.data());
      return;
    }
    case OpKind::Relu:
      for (size_t e = 0; e < count; ++e) y[e] = x(0)[e] > 0.0f ? x(0)[e] : 0.0f;
      return;
    case OpKind::Add:
      for (size_t k = 0; k < op.inputs.size(); ++k)
        for (size_t e = 0; e < count; ++e) y[e] += x(k)[e];
      return;
    case OpKind::AvgPool:
    case OpKind::MaxPool:
      pool(op, xs(0), x(0), ys, y);
      return;
    case OpKind::Shift:  // pad (0, 1, 0, 1) with zeros, then drop the first row and column
      for (int n = 0; n < ys.n; ++n)
        for (int oy = 0; oy < ys.h; ++oy)
          for (int ox = 0; ox < ys.w; ++ox)
            for (int c = 0; c < ys.c; ++c)
              y[at(ys, n, oy, ox, c)] =
                  oy + 1 < ys.h && ox + 1 < ys.w ? x(0)[at(xs(0), n, oy + 1, ox + 1, c)] : 0.0f;
      return;
    case OpKind::Zero:
      for (int n = 0; n < ys.n; ++n)
        for (int oy = 0; oy < ys.h; ++oy)
          for (int ox = 0; ox < ys.w; ++ox)
            for (int c = 0; c < ys.c; ++c)
              y[at(ys, n, oy, ox, c)] = x(0)[at(xs(0), n, oy * op.pool.stride, ox * op.pool.stride, c)] * 0.0f;
      return;
    case OpKind::Concat: {
      int offset = 0;
      for (size_t k = 0; k < op.inputs.size(); ++k) {
        const Shape4 i = xs(k);
        for (int n = 0; n < ys.n; ++n)
          for (int yy = 0; yy < ys.h; ++yy)
            for (int xx = 0; xx < ys.w; ++xx)
              for (int c = 0; c < i.c; ++c) y[at(ys, n, yy, xx, offset + c)] = x(k)[at(i, n, yy, xx, c)];
        offset += i.c;
      }
      return;
    }
    case OpKind::GlobalAvgPool: {
      const Shape4 i = xs(0);
      for (int n = 0; n < i.n; ++n)
        for (int c = 0; c < i.c; ++c) {
          double sum = 0.0;
          for (int yy = 0; yy < i.h; ++yy)
            for (int xx = 0; xx < i.w; ++xx) sum += x(0)[at(i, n, yy, xx, c)];
          y[at(ys, n, 0, 0, c)] = static_cast<float>(sum / (static_cast<double>(i.h) * i.w));
        }
      return;
    }
    case OpKind::Linear: {
      const int64_t in = xs(0).per_image();
      const std::vector<float>& w = params.at(op.weight).data;
      for (int n = 0; n < ys.n; ++n)
        for (int o = 0; o < op.out_features; ++o) {
          double acc = op.bias.empty() ? 0.0 : params.at(op.bias).data[static_cast<size_t>(o)];
          for (int64_t e = 0; e < in; ++e)
            acc += static_cast<double>(x(0)[static_cast<size_t>(n * in + e)]) * w[static_cast<size_t>(o * in + e)];
          y[static_cast<size_t>(n) * static_cast<size_t>(op.out_features) + static_cast<size_t>(o)] =
              static_cast<float>(acc);
        }
      return;
    }
    case OpKind::Tap:
      break;
  }
  throw_error(ErrorKind::Internal, "reference executor: unexpected op '" + op.name + "'");
}

}  // namespace

std::vector<bool> reference_ancestors(const rt::Graph& graph) {
  std::vector<int> producer(idx(graph.num_tensors), -1);
  for (size_t i = 0; i < graph.ops.size(); ++i)
    if (graph.ops[i].output != rt::kNoTensor) producer[idx(graph.ops[i].output)] = static_cast<int>(i);
  std::vector<bool> seen(idx(graph.num_tensors), false);
  std::vector<TensorId> stack = {graph.output};
  while (!stack.empty()) {
    const TensorId t = stack.back();
    stack.pop_back();
    if (seen[idx(t)]) continue;
    seen[idx(t)] = true;
    const int p = producer[idx(t)];
    if (p < 0) continue;
    for (TensorId in : graph.ops[static_cast<size_t>(p)].inputs) stack.push_back(in);
  }
  return seen;
}

std::vector<Shape4> reference_shapes(const rt::Graph& graph, Shape4 input) {
  std::vector<Shape4> s(idx(graph.num_tensors));
  for (const Op& op : graph.ops)
    if (op.kind != OpKind::Tap) s[idx(op.output)] = op_shape(op, s, input);
  return s;
}

ReferenceResult reference_compute_k(const rt::Graph& graph, const rt::Params& params, const rt::Batch& batch,
                                    rt::Counting counting) {
  ReferenceResult r;
  r.shapes = reference_shapes(graph, batch.shape);
  const std::vector<bool> ancestor = reference_ancestors(graph);
  const int n = batch.shape.n;
  r.k.reset(n);

  // Last op (graph order) that reads each tensor, so values can be dropped after it.
  std::vector<size_t> last_read(idx(graph.num_tensors), 0);
  for (size_t i = 0; i < graph.ops.size(); ++i)
    for (TensorId t : graph.ops[i].inputs) last_read[idx(t)] = i;

  std::vector<std::vector<float>> values(idx(graph.num_tensors));
  std::vector<uint8_t> codes;
  for (size_t i = 0; i < graph.ops.size(); ++i) {
    const Op& op = graph.ops[i];
    if (op.kind != OpKind::Tap) {
      run(op, params, batch, r.shapes, values, values[idx(op.output)]);
    } else if (ancestor[idx(op.tap.anchor)]) {
      const int weight = counting == rt::Counting::Reference ? op.tap.weight_reference : op.tap.weight_unit;
      const std::vector<float>& x = values[idx(op.inputs[0])];
      const int64_t units = r.shapes[idx(op.inputs[0])].per_image();
      codes.resize(x.size());
      for (size_t e = 0; e < x.size(); ++e) codes[e] = x[e] > 0.0f ? 1 : 0;
      if (weight != 0) cpu::popcount_k_reference(codes.data(), n, units, weight, r.k.values.data());
      r.n_units += units * weight;
      ++r.counted_taps;
    }
    for (TensorId t : op.inputs)
      if (last_read[idx(t)] == i && t != graph.output) std::vector<float>().swap(values[idx(t)]);
  }
  return r;
}

}  // namespace naswot::test
