// 2-D convolution on the CPU through oneDNN 2.6, plus the naive reference the tests use.
// Layout: activations NHWC (format_tag::nhwc), weights as PyTorch stores them, OIHW, viewed as
// GOIHW ([g, c_out/g, c_in/g, kh, kw]) when groups > 1. fp32 throughout.
// Why this shape of code: oneDNN's brgconv kernels (230-410 GFLOP/s at batch 128 with NHWC, see
// DESIGN.md) want their own blocked weight layout, so the primitive is created with
// format_tag::any for the weights and the user's OIHW weights are reordered into a per-shape buffer
// on every call (weights change between architectures; the reorder is tiny next to the conv).
// Primitive, reorder, weight buffer and scratchpad (scratchpad_mode::user) are built once per
// (shape, has-bias) key and cached in a thread-safe static map: after the first call of a shape a
// call allocates no buffers.
// Without oneDNN (CMake NASWOT_ONEDNN=OFF -> NASWOT_HAVE_ONEDNN=0, e.g. the lent GPU machine),
// conv2d runs conv2d_reference: slower, but double accumulation makes it an equally valid oracle.
#include "kernels/cpu/conv2d.h"

#ifndef NASWOT_HAVE_ONEDNN
#define NASWOT_HAVE_ONEDNN 1
#endif
#if NASWOT_HAVE_ONEDNN
#include <dnnl.hpp>
#endif

#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

#include "runtime/error.h"

namespace naswot::cpu {
namespace {

#if NASWOT_HAVE_ONEDNN
using dnnl::memory;
using Tag = memory::format_tag;

struct ConvKey {
  Conv2dShape shape;
  bool has_bias = false;
  bool operator==(const ConvKey&) const = default;
};

struct ConvKeyHash {
  size_t operator()(const ConvKey& k) const {
    const Conv2dShape& s = k.shape;
    const int fields[] = {s.n,        s.h,     s.w,     s.c_in,       s.c_out,      s.kernel_h, s.kernel_w, s.stride_h,
                          s.stride_w, s.pad_h, s.pad_w, s.dilation_h, s.dilation_w, s.groups,   k.has_bias};
    size_t h = 0;
    for (int f : fields) h = h * 1000003u ^ std::hash<int>()(f);
    return h;
  }
};

// 64-byte aligned byte buffer for oneDNN's blocked weights and scratchpad.
struct AlignedBytes {
  struct Free {
    void operator()(void* p) const { std::free(p); }
  };
  std::unique_ptr<void, Free> ptr;
  explicit AlignedBytes(size_t bytes) {
    const size_t rounded = (bytes + 63) / 64 * 64;
    if (rounded == 0) return;
    ptr.reset(std::aligned_alloc(64, rounded));
    if (!ptr) throw std::bad_alloc();
  }
  void* get() const { return ptr.get(); }
};

dnnl::engine& cpu_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

// One stream per calling thread: a CPU stream executes synchronously and creating one is cheap,
// this way concurrent callers never share a stream object.
dnnl::stream& cpu_stream() {
  thread_local dnnl::stream stream(cpu_engine());
  return stream;
}

struct ConvEntry {
  dnnl::convolution_forward conv;
  dnnl::reorder weight_reorder;  // empty when the primitive takes OIHW as is
  memory src, user_weights, weights, bias, dst, scratchpad;
  AlignedBytes weight_buffer{0}, scratch_buffer{0};
  std::unordered_map<int, memory> conv_args;  // built once; handles are swapped per call
  std::mutex run_mutex;                       // the buffers above are per shape, not per call
};

std::unique_ptr<ConvEntry> build_entry(const ConvKey& key) {
  const Conv2dShape& s = key.shape;
  const auto f32 = memory::data_type::f32;
  const memory::dims src_dims = {s.n, s.c_in, s.h, s.w};
  const memory::dims dst_dims = {s.n, s.c_out, s.out_h(), s.out_w()};
  const memory::dims wei_dims =
      s.groups == 1 ? memory::dims{s.c_out, s.c_in, s.kernel_h, s.kernel_w}
                    : memory::dims{s.groups, s.c_out / s.groups, s.c_in / s.groups, s.kernel_h, s.kernel_w};
  const memory::desc src_md(src_dims, f32, Tag::nhwc);
  const memory::desc dst_md(dst_dims, f32, Tag::nhwc);
  const memory::desc user_wei_md(wei_dims, f32, s.groups == 1 ? Tag::oihw : Tag::goihw);
  const memory::desc any_wei_md(wei_dims, f32, Tag::any);
  const memory::desc bias_md({s.c_out}, f32, Tag::x);
  const memory::dims strides = {s.stride_h, s.stride_w};
  const memory::dims dilates = {s.dilation_h - 1, s.dilation_w - 1};  // oneDNN counts the gaps
  const memory::dims pad = {s.pad_h, s.pad_w};  // symmetric like PyTorch; oneDNN floors like out_h()

  // convolution_direct: convolution_auto may pick Winograd, whose rounding differs from PyTorch.
  auto desc =
      key.has_bias
          ? dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
                                            src_md, any_wei_md, bias_md, dst_md, strides, dilates, pad, pad)
          : dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
                                            src_md, any_wei_md, dst_md, strides, dilates, pad, pad);
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  dnnl::convolution_forward::primitive_desc pd(desc, attr, cpu_engine());

  auto e = std::make_unique<ConvEntry>();
  dnnl::engine& eng = cpu_engine();
  e->conv = dnnl::convolution_forward(pd);
  e->src = memory(src_md, eng, DNNL_MEMORY_NONE);
  e->dst = memory(dst_md, eng, DNNL_MEMORY_NONE);
  e->user_weights = memory(user_wei_md, eng, DNNL_MEMORY_NONE);
  if (pd.weights_desc() != user_wei_md) {
    e->weight_buffer = AlignedBytes(pd.weights_desc().get_size());
    e->weights = memory(pd.weights_desc(), eng, e->weight_buffer.get());
    e->weight_reorder = dnnl::reorder(e->user_weights, e->weights);
  } else {
    e->weights = e->user_weights;
  }
  e->scratch_buffer = AlignedBytes(pd.scratchpad_desc().get_size());
  e->scratchpad = memory(pd.scratchpad_desc(), eng, e->scratch_buffer.get());
  e->conv_args = {{DNNL_ARG_SRC, e->src},
                  {DNNL_ARG_WEIGHTS, e->weights},
                  {DNNL_ARG_DST, e->dst},
                  {DNNL_ARG_SCRATCHPAD, e->scratchpad}};
  if (key.has_bias) {
    e->bias = memory(bias_md, eng, DNNL_MEMORY_NONE);
    e->conv_args.emplace(DNNL_ARG_BIAS, e->bias);
  }
  return e;
}

std::mutex g_cache_mutex;
std::unordered_map<ConvKey, std::unique_ptr<ConvEntry>, ConvKeyHash>& conv_cache() {
  static std::unordered_map<ConvKey, std::unique_ptr<ConvEntry>, ConvKeyHash> cache;
  return cache;
}

ConvEntry& lookup_or_build(const ConvKey& key) {
  std::lock_guard<std::mutex> lock(g_cache_mutex);
  auto& cache = conv_cache();
  auto it = cache.find(key);
  if (it == cache.end()) it = cache.emplace(key, build_entry(key)).first;
  return *it->second;
}
#endif  // NASWOT_HAVE_ONEDNN

void check_shape(const Conv2dShape& s, const float* x, const float* weight, const float* y) {
  NASWOT_EXPECT(s.n >= 1 && s.h >= 1 && s.w >= 1 && s.c_in >= 1 && s.c_out >= 1, BadInput,
                "conv2d: n, h, w, c_in, c_out expected >= 1, got n=" << s.n << " h=" << s.h << " w=" << s.w
                                                                     << " c_in=" << s.c_in << " c_out=" << s.c_out);
  NASWOT_EXPECT(s.kernel_h >= 1 && s.kernel_w >= 1 && s.stride_h >= 1 && s.stride_w >= 1 && s.dilation_h >= 1 &&
                    s.dilation_w >= 1 && s.pad_h >= 0 && s.pad_w >= 0,
                BadInput, "conv2d: kernel, stride, dilation expected >= 1 and pad >= 0");
  NASWOT_EXPECT(s.groups >= 1 && s.c_in % s.groups == 0 && s.c_out % s.groups == 0, BadInput,
                "conv2d: groups=" << s.groups << " expected to divide c_in=" << s.c_in << " and c_out=" << s.c_out);
  NASWOT_EXPECT(s.h + 2 * s.pad_h >= s.dilation_h * (s.kernel_h - 1) + 1 &&
                    s.w + 2 * s.pad_w >= s.dilation_w * (s.kernel_w - 1) + 1,
                BadInput, "conv2d: kernel larger than the padded input (" << s.h << "x" << s.w << ")");
  NASWOT_EXPECT(x != nullptr && weight != nullptr && y != nullptr, BadInput,
                "conv2d: x, weight and y expected non-null");
}

}  // namespace

void conv2d(const Conv2dShape& s, const float* x, const float* weight, const float* bias, float* y) {
#if NASWOT_HAVE_ONEDNN
  check_shape(s, x, weight, y);
  try {
    ConvEntry& e = lookup_or_build(ConvKey{s, bias != nullptr});
    std::lock_guard<std::mutex> lock(e.run_mutex);
    dnnl::stream& stream = cpu_stream();
    // oneDNN's memory handles are non-const; these buffers are only read.
    e.src.set_data_handle(const_cast<float*>(x));
    e.user_weights.set_data_handle(const_cast<float*>(weight));
    e.dst.set_data_handle(y);
    if (bias != nullptr) e.bias.set_data_handle(const_cast<float*>(bias));
    if (e.weight_reorder) e.weight_reorder.execute(stream, e.user_weights, e.weights);
    e.conv.execute(stream, e.conv_args);
    stream.wait();
  } catch (const dnnl::error& err) {
    throw_error(ErrorKind::Unsupported, std::string("conv2d: oneDNN failed: ") + err.what());
  }
#else
  conv2d_reference(s, x, weight, bias, y);
#endif
}

int conv2d_cached_shapes() {
#if NASWOT_HAVE_ONEDNN
  std::lock_guard<std::mutex> lock(g_cache_mutex);
  return static_cast<int>(conv_cache().size());
#else
  return 0;  // no primitives without oneDNN
#endif
}

void conv2d_reference(const Conv2dShape& s, const float* x, const float* weight, const float* bias, float* y) {
  check_shape(s, x, weight, y);
  const int oh = s.out_h(), ow = s.out_w(), kh = s.kernel_h, kw = s.kernel_w;
  const int cin_g = s.c_in / s.groups, cout_g = s.c_out / s.groups;
  // Weights as double in [g][ky][kx][ic][oc within group]: the innermost loop then runs over
  // contiguous output channels (independent accumulators, so it vectorises) while every output
  // still sums bias, then its taps in (ky, kx, ic) order: the same order as the plain loop nest.
  std::vector<double> wt(static_cast<size_t>(s.c_out) * cin_g * kh * kw);
  for (int oc = 0; oc < s.c_out; ++oc) {
    const int g = oc / cout_g, j = oc % cout_g;
    for (int ic = 0; ic < cin_g; ++ic)
      for (int ky = 0; ky < kh; ++ky)
        for (int kx = 0; kx < kw; ++kx)
          wt[(((static_cast<size_t>(g) * kh + ky) * kw + kx) * cin_g + ic) * cout_g + j] =
              weight[((static_cast<int64_t>(oc) * cin_g + ic) * kh + ky) * kw + kx];
  }
#pragma omp parallel
  {
    std::vector<double> acc(cout_g);
#pragma omp for collapse(2) schedule(static)
    for (int n = 0; n < s.n; ++n) {
      for (int oy = 0; oy < oh; ++oy) {
        for (int ox = 0; ox < ow; ++ox) {
          float* out = y + ((static_cast<int64_t>(n) * oh + oy) * ow + ox) * s.c_out;
          for (int g = 0; g < s.groups; ++g) {
            double* a = acc.data();
            for (int j = 0; j < cout_g; ++j) a[j] = bias ? bias[g * cout_g + j] : 0.0;
            for (int ky = 0; ky < kh; ++ky) {
              const int iy = oy * s.stride_h - s.pad_h + ky * s.dilation_h;
              if (iy < 0 || iy >= s.h) continue;
              for (int kx = 0; kx < kw; ++kx) {
                const int ix = ox * s.stride_w - s.pad_w + kx * s.dilation_w;
                if (ix < 0 || ix >= s.w) continue;
                const float* in = x + ((static_cast<int64_t>(n) * s.h + iy) * s.w + ix) * s.c_in + g * cin_g;
                const double* w = wt.data() + ((static_cast<size_t>(g) * kh + ky) * kw + kx) * cin_g * cout_g;
                for (int ic = 0; ic < cin_g; ++ic, w += cout_g) {
                  const double xv = in[ic];
                  for (int j = 0; j < cout_g; ++j) a[j] += xv * w[j];
                }
              }
            }
            for (int j = 0; j < cout_g; ++j) out[g * cout_g + j] = static_cast<float>(a[j]);
          }
        }
      }
    }
  }
}

}  // namespace naswot::cpu
