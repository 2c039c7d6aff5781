// One harness, op by op (STYLE.md habit 2): each runtime op kind as a one-op graph (input -> op ->
// output, the output tapped), run on CpuBackend and CudaBackend, comparing the op's output
// tensor and K. The threshold of each case is declared next to it; "exact" means bit-identical
// kernels on both sides. For a non-exact case K may differ only where a unit's sign is within the
// tensor tolerance of zero: |K_gpu - K_cpu|_ij <= w * (a_i + a_j), a_i = such units of image i.
// A case whose graph the CUDA backend does not support is reported NOT SUPPORTED (skipped with
// that word), never as passed. The coverage test fails when an op kind has no case.
#include <cmath>
#include <functional>

#include "cuda_test_util.h"
#include "runtime/cpu_backend.h"
#include "runtime/cuda/lane.h"
#include "runtime/params.h"
#include "runtime/plan.h"

namespace naswot::test {
namespace {

constexpr uint32_t kOpsSeed = kSeed + 901;
constexpr rt::Shape4 kInput{6, 7, 5, 3};  // 6 images, 105 units: not a multiple of 32 or 64

struct OpCase {
  const char* name;
  rt::OpKind kind;
  std::function<rt::Graph()> build;
  double atol = 0.0, rtol = 0.0;  // tensor tolerance; 0/0 = exact (bit-identical)
};

void PrintTo(const OpCase& c, std::ostream* os) { *os << c.name; }

rt::ConvAttr conv3x3(int out, bool bias) {
  rt::ConvAttr a;
  a.out_channels = out;
  a.kernel_h = a.kernel_w = 3;
  a.pad_h = a.pad_w = 1;
  a.bias = bias;
  return a;
}

rt::Graph tapped(rt::GraphBuilder& b, rt::TensorId y) {
  b.tap(y, y, "tap", 2, 1);
  return b.finish(y);
}

const std::vector<OpCase>& cases() {
  static const std::vector<OpCase> all = {
      {"input", rt::OpKind::Input, [] { rt::GraphBuilder b; return tapped(b, b.input()); }},
      // cuDNN and oneDNN sum the 27 products in different orders.
      {"conv", rt::OpKind::Conv,
       [] { rt::GraphBuilder b; return tapped(b, b.conv(b.input(), "conv", conv3x3(8, true))); }, 1e-5, 1e-5},
      {"conv_strided_grouped", rt::OpKind::Conv,
       [] {
         rt::GraphBuilder b;
         rt::ConvAttr a = conv3x3(6, false);
         a.stride_h = a.stride_w = 2;
         a.groups = 3;
         return tapped(b, b.conv(b.input(), "conv", a));
       },
       1e-5, 1e-5},
      // Batch statistics may differ in the last float ulp (different double accumulations).
      {"batchnorm", rt::OpKind::BatchNorm,
       [] { rt::GraphBuilder b; return tapped(b, b.batchnorm(b.input(), "bn")); }, 1e-6, 1e-6},
      {"relu", rt::OpKind::Relu, [] { rt::GraphBuilder b; return tapped(b, b.relu(b.input(), "relu")); }},
      {"add", rt::OpKind::Add,
       [] {
         rt::GraphBuilder b;
         const rt::TensorId x = b.input();
         return tapped(b, b.add({x, x, x}, "add"));
       }},
      // The fused node: two conv+BN edges summed, BN absorbed into the Add (conv tolerance).
      {"add_fused_batchnorm", rt::OpKind::Add,
       [] {
         rt::GraphBuilder b;
         const rt::TensorId x = b.input();
         const rt::TensorId c1 = b.conv(x, "e1.conv", conv3x3(4, false));
         const rt::TensorId c2 = b.conv(x, "e2.conv", conv3x3(4, false));
         const rt::TensorId n1 = b.batchnorm(c1, "e1.bn");
         const rt::TensorId n2 = b.batchnorm(c2, "e2.bn");
         return tapped(b, b.add({n1, n2}, "node"));
       },
       1e-5, 1e-5},
      {"avgpool", rt::OpKind::AvgPool,
       [] {
         rt::GraphBuilder b;
         return tapped(b, b.avgpool(b.input(), "pool", {3, 1, 1, false}));
       }},
      {"avgpool_include_pad", rt::OpKind::AvgPool,
       [] {
         rt::GraphBuilder b;
         return tapped(b, b.avgpool(b.input(), "pool", {3, 2, 1, true}));
       }},
      {"maxpool", rt::OpKind::MaxPool,
       [] {
         rt::GraphBuilder b;
         return tapped(b, b.maxpool(b.input(), "pool", {3, 2, 1, false}));
       }},
      {"shift", rt::OpKind::Shift, [] { rt::GraphBuilder b; return tapped(b, b.shift(b.input(), "shift")); }},
      {"zero", rt::OpKind::Zero, [] { rt::GraphBuilder b; return tapped(b, b.zero(b.input(), "zero", 2)); }},
      {"concat", rt::OpKind::Concat,
       [] {
         rt::GraphBuilder b;
         const rt::TensorId x = b.input();
         return tapped(b, b.concat({x, x}, "cat"));
       }},
      {"global_avgpool", rt::OpKind::GlobalAvgPool,
       [] { rt::GraphBuilder b; return tapped(b, b.global_avgpool(b.input(), "gap")); }},
      {"linear", rt::OpKind::Linear,
       [] {
         rt::GraphBuilder b;
         return tapped(b, b.linear(b.global_avgpool(b.input(), "gap"), "fc", 5, true));
       }},
      {"tap", rt::OpKind::Tap,
       [] {
         rt::GraphBuilder b;
         return b.finish(b.hooked_relu(b.input(), "act", /*wrapped=*/true));
       }},
  };
  return all;
}

rt::Batch make_batch() {
  rt::Batch batch;
  batch.shape = kInput;
  batch.data = random_normal(static_cast<size_t>(kInput.numel()), 0.0, 1.0, kOpsSeed);
  for (size_t i = 0; i < batch.data.size(); i += 19) batch.data[i] = 0.0f;  // exact zeros reach the taps
  batch.source = "backend_ops_test";
  return batch;
}

class CudaBackendOps : public ::testing::TestWithParam<OpCase> {};

TEST_P(CudaBackendOps, MatchesCpuBackend) {
  NASWOT_REQUIRE_CUDA_DEVICE();
  const OpCase& c = GetParam();
  const rt::Graph g = c.build();
  for (const rt::Op& op : g.ops)
    if (!rt::supports(op)) GTEST_SKIP() << "NOT SUPPORTED: op " << rt::to_string(op.kind) << " '" << op.name << "'";
  const rt::Plan plan(g, kInput);
  const rt::Params params = rt::init_params(g, kOpsSeed + 1);
  const rt::Batch batch = make_batch();
  rt::CpuBackend cpu;
  rt::CudaBackend gpu;
  cpu.set_batch(batch);
  gpu.set_batch(batch);
  for (rt::Counting counting : {rt::Counting::Reference, rt::Counting::Unit}) {
    SCOPED_TRACE(rt::to_string(counting));
    rt::KMatrix kc, kg;
    cpu.compute_k(plan, params, counting, kc);
    gpu.compute_k(plan, params, counting, kg);
    ASSERT_EQ(kg.n, kc.n);

    const rt::TensorId out = g.output;
    const size_t count = static_cast<size_t>(plan.tensor(out).shape.numel());
    const float* ref = cpu.tensor_data(plan, out);
    const std::vector<float> got = gpu.tensor_values(plan, out);
    const bool exact = c.atol == 0.0 && c.rtol == 0.0;
    if (exact) {
      EXPECT_TRUE(bits_equal(got.data(), ref, count)) << "output tensor";
      EXPECT_TRUE(all_equal(kg.values.data(), kc.values.data(), kc.values.size())) << "K";
      continue;
    }
    EXPECT_TRUE(all_close(got.data(), ref, count, c.atol, c.rtol)) << "output tensor";
    // K bound from the units whose sign the tolerance leaves open (taps are on the output here).
    ASSERT_EQ(plan.taps().size(), 1u);
    const rt::PlannedTap& tap = plan.taps()[0];
    std::vector<int64_t> ambiguous(static_cast<size_t>(plan.batch()), 0);
    for (size_t e = 0; e < count; ++e)
      if (std::fabs(ref[e]) <= c.atol + c.rtol * std::fabs(ref[e])) ++ambiguous[e / static_cast<size_t>(tap.units)];
    const int64_t w = tap.weight(counting);
    for (int i = 0; i < kc.n; ++i)
      for (int j = 0; j < kc.n; ++j) {
        const int64_t bound = w * (ambiguous[static_cast<size_t>(i)] + ambiguous[static_cast<size_t>(j)]);
        EXPECT_LE(std::llabs(kg.at(i, j) - kc.at(i, j)), bound)
            << "K[" << i << "][" << j << "]: gpu " << kg.at(i, j) << ", cpu " << kc.at(i, j);
      }
    for (int i = 0; i < kc.n; ++i) EXPECT_EQ(kg.at(i, i), plan.n_units(counting)) << "diag(K) = N_A exactly";
  }
}

INSTANTIATE_TEST_SUITE_P(EveryOp, CudaBackendOps, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<OpCase>& info) { return std::string(info.param.name); });

TEST(CudaBackendOpsCoverage, EveryOpKindHasACase) {  // host only
  for (int k = 0; k < rt::kOpKindCount; ++k) {
    const auto kind = static_cast<rt::OpKind>(k);
    bool found = false;
    for (const OpCase& c : cases()) found = found || c.kind == kind;
    EXPECT_TRUE(found) << "op kind '" << rt::to_string(kind) << "' has no case in backend_ops_test.cpp: add one";
  }
}

}  // namespace
}  // namespace naswot::test
