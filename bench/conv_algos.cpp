// naswot_conv_algos: every cuDNN forward algorithm on NB-201's convolution shapes, at the lane
// batch (128 images) and the stacked batch (G x 128), in fp32 (FMA math) and TF32 (tensor-op
// math), NHWC (naswot's layout) and NCHW (for comparison): time per call, TFLOP/s, and the
// algorithm naswot's ConvPlanCache picks (NASWOT_CONV_ALGO: timed by default, or cuDNN's
// heuristic; filtered by the precision policy, runtime/cuda/conv_plan.h). It answers whether measuring algorithms (cudnnFind) or another
// layout would pay before anyone builds it. Needs a device: without one it says so and exits 2.
//   naswot_conv_algos [--group G] [--iters N] [--json FILE]
// --group: the stacked group size (default 32); --iters: timed calls per case (default 5, after
// an untimed first call, which loads the kernels, and one timed warm-up; a case whose warm-up
// takes over 20 ms keeps that figure); --json: one JSON
// object per case, for bench/results. tools/gpu-check runs it (stage j).
#include <cudnn.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/cuda/conv2d_tc.cuh"
#include "kernels/cuda/conv2d_tiled.cuh"
#include "kernels/cuda/cuda_check.h"
#include "runtime/cuda/conv_plan.h"
#include "runtime/cuda/cuda_backend.h"
#include "runtime/cuda/memory.h"
#include "runtime/error.h"

namespace {

using namespace naswot;

struct Shape {
  const char* name;
  int h, w, c, k, r, stride, pad;
};

// NB-201 (C=16, N=5 cells per stage) at 32x32: the stem, the cells' 3x3 and 1x1 ReLUConvBN of
// each stage, the residual blocks' strided 3x3 and their downsampling 1x1.
constexpr Shape kShapes[] = {
    {"stem 3x3 3->16 @32", 32, 32, 3, 16, 3, 1, 1},   {"cell 3x3 16 @32", 32, 32, 16, 16, 3, 1, 1},
    {"cell 1x1 16 @32", 32, 32, 16, 16, 1, 1, 0},      {"cell 3x3 32 @16", 16, 16, 32, 32, 3, 1, 1},
    {"cell 1x1 32 @16", 16, 16, 32, 32, 1, 1, 0},      {"cell 3x3 64 @8", 8, 8, 64, 64, 3, 1, 1},
    {"cell 1x1 64 @8", 8, 8, 64, 64, 1, 1, 0},         {"res 3x3/2 16->32 @32", 32, 32, 16, 32, 3, 2, 1},
    {"res 3x3/2 32->64 @16", 16, 16, 32, 64, 3, 2, 1}, {"res 1x1 16->32 @16", 16, 16, 16, 32, 1, 1, 0},
    {"res 1x1 32->64 @8", 8, 8, 32, 64, 1, 1, 0},
};

constexpr size_t kWorkspaceBytes = size_t{1} << 30;
constexpr double kSlowMs = 20.0;

const char* algo_name(int a) {
  switch (a) {
    case CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM: return "implicit_gemm";
    case CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM: return "implicit_precomp_gemm";
    case CUDNN_CONVOLUTION_FWD_ALGO_GEMM: return "gemm";
    case CUDNN_CONVOLUTION_FWD_ALGO_DIRECT: return "direct";
    case CUDNN_CONVOLUTION_FWD_ALGO_FFT: return "fft";
    case CUDNN_CONVOLUTION_FWD_ALGO_FFT_TILING: return "fft_tiling";
    case CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD: return "winograd";
    case CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED: return "winograd_nonfused";
    default: return "?";
  }
}

struct Result {
  std::string shape, layout, math, algo, status;
  int n = 0;
  double ms = 0, tflops = 0;
  size_t workspace = 0;
  bool policy_pick = false;
};

int usage(const char* why) {
  std::fprintf(stderr, "naswot_conv_algos: %s\nusage: naswot_conv_algos [--group G] [--iters N] [--json FILE]\n", why);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  int group = 32, iters = 5;
  std::string json;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      std::printf("usage: naswot_conv_algos [--group G] [--iters N] [--json FILE]\n");
      return 0;
    }
    if (i + 1 >= argc) return usage(("option " + a + " expects a value").c_str());
    const std::string v = argv[++i];
    char* end = nullptr;
    const long x = std::strtol(v.c_str(), &end, 10);
    if (a == "--json") {
      json = v;
    } else if ((a == "--group" || a == "--iters") && !v.empty() && *end == '\0' && x >= 1 && x <= 256) {
      (a == "--group" ? group : iters) = static_cast<int>(x);
    } else {
      return usage(("argument " + a + " '" + v + "': expected --group 1..256, --iters 1..256 or --json FILE").c_str());
    }
  }
  std::string why;
  if (!rt::cuda_device_available(&why)) {
    std::fprintf(stderr, "naswot_conv_algos: no usable CUDA device: %s\n", why.c_str());
    return 2;
  }
  try {
    rt::CudnnHandle handle = rt::make_cudnn_handle();
    rt::Stream stream = rt::make_stream();
    NASWOT_CHECK_CUDNN(cudnnSetStream(handle.get(), stream.get()));
    size_t max_x = 0, max_y = 0, max_w = 0;
    for (const Shape& s : kShapes) {
      const int oh = (s.h + 2 * s.pad - s.r) / s.stride + 1, ow = (s.w + 2 * s.pad - s.r) / s.stride + 1;
      max_x = std::max(max_x, size_t{128} * group * s.h * s.w * s.c);
      max_y = std::max(max_y, size_t{128} * group * oh * ow * s.k);
      max_w = std::max(max_w, size_t(s.k) * s.c * s.r * s.r);
    }
    rt::DeviceBuffer<float> x(max_x, "conv bench input"), y(max_y, "conv bench output"), w(max_w, "conv bench filter");
    rt::DeviceBuffer<unsigned char> ws(kWorkspaceBytes, "conv bench workspace");
    rt::fill_zero(x.data(), x.bytes(), stream.get());
    rt::fill_zero(w.data(), w.bytes(), stream.get());
    rt::Event start = rt::make_timing_event(), stop = rt::make_timing_event();
    rt::ConvPlanCache plans;
    std::vector<Result> results;
    std::printf("%-22s %5s %-5s %-5s %-22s %10s %9s %8s\n", "shape", "n", "lay", "math", "algorithm", "ms", "TFLOP/s",
                "ws MiB");
    for (const Shape& s : kShapes) {
      const int oh = (s.h + 2 * s.pad - s.r) / s.stride + 1, ow = (s.w + 2 * s.pad - s.r) / s.stride + 1;
      for (int n : {128, 128 * group}) {
        const double flop = 2.0 * n * oh * ow * s.k * static_cast<double>(s.c) * s.r * s.r;
        // naswot's own choice for this shape (NHWC), per precision.
        cuda::Conv2dShape cs;
        cs.n = n; cs.h = s.h; cs.w = s.w; cs.c_in = s.c; cs.c_out = s.k; cs.kernel_h = cs.kernel_w = s.r;
        cs.stride_h = cs.stride_w = s.stride; cs.pad_h = cs.pad_w = s.pad;
        // pick: cuDNN's algorithm, or -1 when the plan runs one of naswot's own kernels (own_pick).
        int pick[2] = {-1, -1};
        cuda::ConvKernel own_pick[2] = {cuda::ConvKernel::Cudnn, cuda::ConvKernel::Cudnn};
        for (int m = 0; m < 2; ++m) {
          plans.set_math(m == 0 ? rt::ConvMath::Fp32 : rt::ConvMath::Tf32);
          const rt::ConvPlan& p = plans.get(handle.get(), rt::conv_key(cs));
          pick[m] = p.direct || p.kernel != cuda::ConvKernel::Cudnn ? -1 : static_cast<int>(p.algo);
          own_pick[m] = p.kernel;
        }
        for (bool nhwc : {true, false})
          for (int m = 0; m < 2; ++m) {
            rt::TensorDescriptor xd = rt::make_tensor_descriptor(), yd = rt::make_tensor_descriptor();
            rt::FilterDescriptor wd = rt::make_filter_descriptor();
            rt::ConvolutionDescriptor cd = rt::make_convolution_descriptor();
            const cudnnTensorFormat_t f = nhwc ? CUDNN_TENSOR_NHWC : CUDNN_TENSOR_NCHW;
            NASWOT_CHECK_CUDNN(cudnnSetTensor4dDescriptor(xd.get(), f, CUDNN_DATA_FLOAT, n, s.c, s.h, s.w));
            NASWOT_CHECK_CUDNN(cudnnSetTensor4dDescriptor(yd.get(), f, CUDNN_DATA_FLOAT, n, s.k, oh, ow));
            NASWOT_CHECK_CUDNN(cudnnSetFilter4dDescriptor(wd.get(), CUDNN_DATA_FLOAT, f, s.k, s.c, s.r, s.r));
            NASWOT_CHECK_CUDNN(cudnnSetConvolution2dDescriptor(cd.get(), s.pad, s.pad, s.stride, s.stride, 1, 1,
                                                               CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
            NASWOT_CHECK_CUDNN(cudnnSetConvolutionMathType(cd.get(), m == 0 ? CUDNN_FMA_MATH : CUDNN_TENSOR_OP_MATH));
            for (int a = 0; a < CUDNN_CONVOLUTION_FWD_ALGO_COUNT; ++a) {
              const auto algo = static_cast<cudnnConvolutionFwdAlgo_t>(a);
              Result r;
              r.shape = s.name;
              r.n = n;
              r.layout = nhwc ? "nhwc" : "nchw";
              r.math = m == 0 ? "fp32" : "tf32";
              r.algo = algo_name(a);
              r.policy_pick = nhwc && pick[m] == a;
              cudnnStatus_t st = cudnnGetConvolutionForwardWorkspaceSize(handle.get(), xd.get(), wd.get(), cd.get(),
                                                                         yd.get(), algo, &r.workspace);
              if (st == CUDNN_STATUS_SUCCESS && r.workspace > kWorkspaceBytes) st = CUDNN_STATUS_NOT_SUPPORTED;
              const float alpha = 1.0f, beta = 0.0f;
              auto run = [&] {
                return cudnnConvolutionForward(handle.get(), &alpha, xd.get(), x.data(), wd.get(), w.data(), cd.get(),
                                               algo, ws.data(), r.workspace, &beta, yd.get(), y.data());
              };
              // The warm-up call is timed too: a case slower than kSlowMs keeps that one figure
              // (slow algorithms would otherwise dominate the run).
              auto timed = [&](int calls) {
                NASWOT_CHECK_CUDA(cudaEventRecord(start.get(), stream.get()));
                for (int it = 0; it < calls && st == CUDNN_STATUS_SUCCESS; ++it) st = run();
                NASWOT_CHECK_CUDA(cudaEventRecord(stop.get(), stream.get()));
                NASWOT_CHECK_CUDA(cudaEventSynchronize(stop.get()));
                float ms = 0;
                NASWOT_CHECK_CUDA(cudaEventElapsedTime(&ms, start.get(), stop.get()));
                return static_cast<double>(ms) / calls;
              };
              if (st == CUDNN_STATUS_SUCCESS) st = run();  // first call: module loading, not timed
              if (st == CUDNN_STATUS_SUCCESS) r.ms = timed(1);
              if (st == CUDNN_STATUS_SUCCESS && r.ms < kSlowMs) r.ms = timed(iters);
              r.tflops = st == CUDNN_STATUS_SUCCESS ? flop / (r.ms * 1e-3) / 1e12 : 0.0;
              r.status = cudnnGetErrorString(st);
              if (st != CUDNN_STATUS_SUCCESS) continue;
              std::printf("%-22s %5d %-5s %-5s %-22s %10.4f %9.2f %8.1f%s\n", s.name, n, r.layout.c_str(),
                          r.math.c_str(), r.algo.c_str(), r.ms, r.tflops, static_cast<double>(r.workspace) / (1 << 20),
                          r.policy_pick ? "  <- naswot's pick" : "");
              results.push_back(r);
            }
          }
        // naswot's own kernels (timed candidates of the plan cache), NHWC: conv2d_tiled (fp32 FMA),
        // conv2d_tc with one TF32 product (tf32 class) and with three (3xtf32, fp32-class errors).
        for (cuda::ConvKernel own : {cuda::ConvKernel::Tiled, cuda::ConvKernel::TcTf32, cuda::ConvKernel::Tc3xTf32}) {
          const bool tiled = own == cuda::ConvKernel::Tiled;
          if (tiled ? !cuda::conv2d_tiled_supports(cs) : !cuda::conv2d_tc_supports(cs)) continue;
          Result r;
          r.shape = s.name;
          r.n = n;
          r.layout = "nhwc";
          r.math = own == cuda::ConvKernel::TcTf32 ? "tf32" : own == cuda::ConvKernel::Tc3xTf32 ? "3xtf32" : "fp32";
          r.algo = tiled ? "naswot_tiled" : own == cuda::ConvKernel::TcTf32 ? "naswot_tc" : "naswot_tc3";
          r.policy_pick = (own == own_pick[0]) || (own == own_pick[1]);
          cuda::Conv2dLaunch launch;
          launch.kernel = own;
          auto run = [&] { cuda::conv2d(launch, cs, x.data(), w.data(), nullptr, y.data(), nullptr, stream.get()); };
          run();  // first call: module loading, not timed
          NASWOT_CHECK_CUDA(cudaEventRecord(start.get(), stream.get()));
          for (int it = 0; it < iters; ++it) run();
          NASWOT_CHECK_CUDA(cudaEventRecord(stop.get(), stream.get()));
          NASWOT_CHECK_CUDA(cudaEventSynchronize(stop.get()));
          float ms = 0;
          NASWOT_CHECK_CUDA(cudaEventElapsedTime(&ms, start.get(), stop.get()));
          r.ms = static_cast<double>(ms) / iters;
          r.tflops = flop / (r.ms * 1e-3) / 1e12;
          r.status = "ok";
          std::printf("%-22s %5d %-5s %-6s %-21s %10.4f %9.2f %8.1f%s\n", s.name, n, r.layout.c_str(), r.math.c_str(),
                      r.algo.c_str(), r.ms, r.tflops, 0.0, r.policy_pick ? "  <- naswot's pick" : "");
          results.push_back(r);
        }
      }
    }
    // Per shape and batch: naswot's fp32 pick against the fastest cuDNN fp32 NHWC algorithm, the
    // fastest cuDNN algorithm of all (any layout, any math) and naswot's own kernels.
    std::printf("\n%-22s %5s %12s %12s %12s %12s %12s %12s %12s\n", "shape", "n", "pick fp32 ms", "cudnn fp32",
                "cudnn nhwc", "cudnn any", "naswot tiled", "naswot tc", "naswot 3xtc");
    for (const Shape& s : kShapes)
      for (int n : {128, 128 * group}) {
        double pick = 0, best32 = 0, best_nhwc = 0, best_any = 0, tiled = 0, tc = 0, tc3 = 0;
        auto better = [](double cur, double v) { return cur == 0 || v < cur ? v : cur; };
        for (const Result& r : results) {
          if (r.shape != s.name || r.n != n) continue;
          if (r.policy_pick && r.math == "fp32") pick = r.ms;
          if (r.algo == "naswot_tiled" || r.algo == "naswot_tc" || r.algo == "naswot_tc3") {
            (r.algo == "naswot_tiled" ? tiled : r.algo == "naswot_tc" ? tc : tc3) = r.ms;
            continue;
          }
          if (r.math == "fp32" && r.layout == "nhwc") best32 = better(best32, r.ms);
          if (r.layout == "nhwc") best_nhwc = better(best_nhwc, r.ms);
          best_any = better(best_any, r.ms);
        }
        std::printf("%-22s %5d %12.4f %12.4f %12.4f %12.4f %12.4f %12.4f %12.4f\n", s.name, n, pick, best32, best_nhwc,
                    best_any, tiled, tc, tc3);
      }
    if (!json.empty()) {
      FILE* f = std::fopen(json.c_str(), "w");
      if (f == nullptr) {
        std::fprintf(stderr, "naswot_conv_algos: cannot write %s: %s\n", json.c_str(), std::strerror(errno));
        return 1;
      }
      for (const Result& r : results)
        std::fprintf(f,
                     "{\"shape\": \"%s\", \"n\": %d, \"layout\": \"%s\", \"math\": \"%s\", \"algo\": \"%s\", \"ms\": %.6f, "
                     "\"tflops\": %.4f, \"workspace\": %zu, \"naswot_pick\": %s}\n",
                     r.shape.c_str(), r.n, r.layout.c_str(), r.math.c_str(), r.algo.c_str(), r.ms, r.tflops, r.workspace,
                     r.policy_pick ? "true" : "false");
      std::fclose(f);
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "naswot_conv_algos: %s\n", e.what());
    return 1;
  }
  return 0;
}
