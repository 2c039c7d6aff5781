// Lane: arena sizing and growth, parameter staging, and the enqueue loop (see lane.h). The op
// dispatch itself is in lane_ops.cpp.
#include "runtime/cuda/lane.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <sstream>

#include "kernels/cpu/signpack.h"
#include "kernels/cuda/batchnorm.cuh"
#include "kernels/cuda/bn_add_pack.cuh"
#include "kernels/cuda/conv2d.cuh"
#include "kernels/cuda/cuda_check.h"
#include "runtime/error.h"

namespace naswot::rt {
namespace {

constexpr int kRegions = kArenaRegions;
constexpr size_t idx(ArenaRegion r) { return static_cast<size_t>(r); }

size_t align256(size_t bytes) { return (bytes + 255) / 256 * 256; }
size_t align_floats(size_t floats) { return (floats + kArenaAlignFloats - 1) / kArenaAlignFloats * kArenaAlignFloats; }

void region_sizes(const ArenaSizes& s, size_t out[kRegions]) {
  out[idx(ArenaRegion::Tensors)] = align256(s.tensor_bytes);
  out[idx(ArenaRegion::Params)] = align256(s.param_floats * sizeof(float));
  out[idx(ArenaRegion::Bits)] = align256(s.bits_bytes);
  out[idx(ArenaRegion::Stats)] = align256(s.stats_bytes);
  out[idx(ArenaRegion::BnScratch)] = align256(s.bn_scratch_bytes);
  out[idx(ArenaRegion::Workspace)] = align256(s.workspace_bytes);
  out[idx(ArenaRegion::K)] = align256(s.k_bytes);
}

}  // namespace

bool ArenaSizes::fits_in(const ArenaSizes& c) const {
  return tensor_bytes <= c.tensor_bytes && param_floats <= c.param_floats && bits_bytes <= c.bits_bytes &&
         stats_bytes <= c.stats_bytes && bn_scratch_bytes <= c.bn_scratch_bytes &&
         workspace_bytes <= c.workspace_bytes && k_bytes <= c.k_bytes;
}

void ArenaSizes::grow_to(const ArenaSizes& o) {
  tensor_bytes = std::max(tensor_bytes, o.tensor_bytes);
  param_floats = std::max(param_floats, o.param_floats);
  bits_bytes = std::max(bits_bytes, o.bits_bytes);
  stats_bytes = std::max(stats_bytes, o.stats_bytes);
  bn_scratch_bytes = std::max(bn_scratch_bytes, o.bn_scratch_bytes);
  workspace_bytes = std::max(workspace_bytes, o.workspace_bytes);
  k_bytes = std::max(k_bytes, o.k_bytes);
}

size_t ArenaSizes::arena_bytes() const {
  size_t r[kRegions];
  region_sizes(*this, r);
  size_t total = 0;
  for (size_t b : r) total += b;
  return total;
}

void param_slots(const Plan& plan, const Schedule& schedule, std::vector<ParamSlot>& slots, std::vector<int>& first) {
  const Graph& g = plan.graph();
  slots.clear();
  first.assign(g.ops.size(), -1);
  size_t offset = 0;
  auto add = [&](int op, const std::string& name, size_t count, bool to_ohwi) {
    if (first[static_cast<size_t>(op)] < 0) first[static_cast<size_t>(op)] = static_cast<int>(slots.size());
    slots.push_back({op, &name, offset, count, to_ohwi});
    offset += align_floats(count);
  };
  for (const Step& step : schedule.steps()) {
    const Op& op = g.ops[static_cast<size_t>(step.op)];
    if (step.kind == StepKind::Node) {
      for (int k = 0; k < step.num_terms; ++k) {
        const int bn = schedule.terms()[static_cast<size_t>(step.first_term + k)].bn_op;
        if (bn < 0) continue;
        const Op& b = g.ops[static_cast<size_t>(bn)];
        const auto c = static_cast<size_t>(plan.tensor(b.output).shape.c);
        add(bn, b.weight, c, false);
        add(bn, b.bias, c, false);
      }
    } else if (step.kind == StepKind::Run && op.kind == OpKind::Conv) {
      const Shape4 x = plan.tensor(op.inputs.at(0)).shape;
      const ConvAttr& a = op.conv;
      add(step.op, op.weight,
          static_cast<size_t>(a.out_channels) * static_cast<size_t>(x.c / a.groups) * a.kernel_h * a.kernel_w, true);
      if (!op.bias.empty()) add(step.op, op.bias, static_cast<size_t>(a.out_channels), false);
    } else if (step.kind == StepKind::Run && op.kind == OpKind::Linear) {
      const auto in = static_cast<size_t>(plan.tensor(op.inputs.at(0)).shape.per_image());
      add(step.op, op.weight, static_cast<size_t>(op.out_features) * in, false);
      if (!op.bias.empty()) add(step.op, op.bias, static_cast<size_t>(op.out_features), false);
    }
  }
}

ArenaSizes arena_sizes(const Plan& plan, const Schedule& schedule, ConvPlanCache& convs, cudnnHandle_t cudnn) {
  const Graph& g = plan.graph();
  ArenaSizes s;
  s.tensor_bytes = schedule.tensor_floats() * sizeof(float);
  std::vector<ParamSlot> slots;
  std::vector<int> first;
  param_slots(plan, schedule, slots, first);
  for (const ParamSlot& p : slots) s.param_floats = std::max(s.param_floats, p.offset + align_floats(p.count));
  const auto n = static_cast<size_t>(plan.batch());
  s.bits_bytes = n * static_cast<size_t>(cpu::sign_words(std::max<int64_t>(plan.max_tap_units(), 1))) * sizeof(uint64_t);
  size_t max_c = 1;
  for (const Step& step : schedule.steps()) {
    const Op& op = g.ops[static_cast<size_t>(step.op)];
    if (step.kind == StepKind::Node) {
      const Shape4 out = plan.tensor(op.output).shape;
      max_c = std::max(max_c, static_cast<size_t>(out.c));
      const int64_t rows = static_cast<int64_t>(out.n) * out.h * out.w;
      s.bn_scratch_bytes = std::max(s.bn_scratch_bytes, cuda::batchnorm_stats_scratch_bytes(rows, out.c));
    }
    if (step.kind == StepKind::Run && op.kind == OpKind::Conv)
      s.workspace_bytes = std::max(s.workspace_bytes, convs.get(cudnn, conv_key(conv_shape(plan, op))).workspace_bytes);
  }
  // mean, var, invstd for each of up to kMaxBnAddTerms terms, each array 256-byte aligned.
  s.stats_bytes = static_cast<size_t>(cuda::kMaxBnAddTerms) * 3 * align256(max_c * sizeof(float));
  s.k_bytes = n * n * sizeof(int64_t);
  return s;
}

Lane::Lane() : m_stream(make_stream()), m_cudnn(make_cudnn_handle()) {
  NASWOT_CHECK_CUDNN(cudnnSetStream(m_cudnn.get(), m_stream.get()));
}

bool Lane::ensure(const ArenaSizes& sizes) {
  bool grew = false;
  if (!sizes.fits_in(m_capacity)) {
    ArenaSizes next = m_capacity;
    next.grow_to(sizes);
    m_arena = DeviceBuffer<unsigned char>();  // free first: keeps the peak footprint at the new size
    m_arena = DeviceBuffer<unsigned char>(next.arena_bytes(), "CUDA backend arena");
    m_capacity = next;
    grew = true;
  }
  if (m_staging.size() < m_capacity.param_floats) {
    m_staging = PinnedBuffer<float>();
    m_staging = PinnedBuffer<float>(m_capacity.param_floats, "parameter staging (pinned)");
    grew = true;
  }
  const size_t k_count = m_capacity.k_bytes / sizeof(int64_t);
  if (m_k_host.size() < k_count) {
    m_k_host = PinnedBuffer<int64_t>();
    m_k_host = PinnedBuffer<int64_t>(k_count, "K staging (pinned)");
    grew = true;
  }
  if (grew) ++m_growths;
  return grew;
}

unsigned char* Lane::region(ArenaRegion which) {
  size_t r[kRegions];
  region_sizes(m_capacity, r);
  size_t offset = 0;
  for (size_t i = 0; i < idx(which); ++i) offset += r[i];
  return m_arena.data() + offset;
}

int64_t* Lane::k_device() { return reinterpret_cast<int64_t*>(region(ArenaRegion::K)); }

float* Lane::tensor(TensorId t) {
  const size_t off = m_schedule.offset(t);
  if (off == kBatchAlias) return const_cast<float*>(m_batch);  // read-only by SSA: no op writes the input
  NASWOT_EXPECT(off != kNotMaterialised, Internal, "cuda backend: tensor " << t << " is not materialised");
  return reinterpret_cast<float*>(region(ArenaRegion::Tensors)) + off;
}

void Lane::stage_params(const Plan& plan, const Params& params, ConvPlanCache& convs) {
  const Graph& g = plan.graph();
  float* host = m_staging.data();
  for (const ParamSlot& slot : m_slots) {
    const Op& op = g.ops[static_cast<size_t>(slot.op)];
    NASWOT_EXPECT(params.has(*slot.name), BadInput,
                  "params: tensor '" << *slot.name << "' of op '" << op.name << "' is missing");
    const ParamTensor& t = params.at(*slot.name);
    NASWOT_EXPECT(t.data.size() == slot.count, BadInput,
                  "params: tensor '" << *slot.name << "' has " << t.data.size() << " values, op '" << op.name
                                     << "' expects " << slot.count);
    const bool reorder = slot.to_ohwi && convs.get(m_cudnn.get(), conv_key(conv_shape(plan, op))).filter_ohwi;
    if (reorder)
      cuda::conv2d_weight_oihw_to_ohwi(t.data.data(), op.conv.out_channels,
                                       plan.tensor(op.inputs.at(0)).shape.c / op.conv.groups, op.conv.kernel_h,
                                       op.conv.kernel_w, host + slot.offset);
    else
      std::memcpy(host + slot.offset, t.data.data(), slot.count * sizeof(float));
  }
  size_t used = 0;
  for (const ParamSlot& slot : m_slots) used = std::max(used, slot.offset + slot.count);
  copy_to_device(region(ArenaRegion::Params), host, used * sizeof(float), m_stream.get());
}

void Lane::enqueue(const Plan& plan, const Params& params, Counting counting, const float* batch, ConvPlanCache& convs,
                   int64_t* k_out, bool copy_k_to_host, LaneProfile* profile) {
  using clock = std::chrono::steady_clock;
  auto seconds_since = [](clock::time_point t0) { return std::chrono::duration<double>(clock::now() - t0).count(); };
  const Graph& g = plan.graph();
  for (int i : plan.order()) {
    const Op& op = g.ops[static_cast<size_t>(i)];
    NASWOT_EXPECT(supports(op), Unsupported,
                  "cuda backend: op " << to_string(op.kind) << " '" << op.name << "' is not supported");
  }
  // The previous architecture's transfers from the pinned staging must be done before it is
  // rewritten (free when the stream is idle; reports an earlier asynchronous fault here).
  synchronize(m_stream.get());
  m_schedule.build(plan, cuda::kMaxBnAddTerms);
  ensure(arena_sizes(plan, m_schedule, convs, m_cudnn.get()));
  param_slots(plan, m_schedule, m_slots, m_first_slot);
  m_batch = batch;
  m_n = plan.batch();
  m_k = k_out != nullptr ? k_out : k_device();

  auto t0 = clock::now();
  stage_params(plan, params, convs);
  fill_zero(m_k, static_cast<size_t>(m_n) * static_cast<size_t>(m_n) * sizeof(int64_t), m_stream.get());
  fill_zero(region(ArenaRegion::BnScratch), m_capacity.bn_scratch_bytes, m_stream.get());  // batchnorm_stats tickets
  if (profile != nullptr) {
    synchronize(m_stream.get());
    profile->staging_seconds += seconds_since(t0);
    ++profile->architectures;
  }
  for (const Step& step : m_schedule.steps()) {
    const Op& op = g.ops[static_cast<size_t>(step.op)];
    try {
      t0 = clock::now();
      run_step(plan, step, counting, convs);
      cuda::check_launch(op.name.c_str(), __FILE__, __LINE__, m_stream.get());  // + sync with NASWOT_SYNC_CHECKS
      if (profile != nullptr) {
        synchronize(m_stream.get());
        const auto kind = static_cast<size_t>(step.kind == StepKind::Tap ? OpKind::Tap : op.kind);
        profile->seconds[kind] += seconds_since(t0);
        ++profile->calls[kind];
      }
    } catch (const Error& e) {
      std::ostringstream os;
      os << "cuda backend: op " << to_string(op.kind) << " '" << op.name << "': " << e.what();
      throw Error(e.kind(), os.str());
    }
  }
  if (copy_k_to_host)
    copy_to_host(m_k_host.data(), m_k, static_cast<size_t>(m_n) * static_cast<size_t>(m_n) * sizeof(int64_t),
                 m_stream.get());
}

std::vector<float> Lane::download_tensor(const Plan& plan, TensorId t, const float* batch) {
  m_batch = batch;
  std::vector<float> host(static_cast<size_t>(plan.tensor(t).shape.numel()));
  copy_to_host(host.data(), tensor(t), host.size() * sizeof(float), m_stream.get());
  synchronize(m_stream.get());
  return host;
}

}  // namespace naswot::rt
