// StackRunner::enqueue (see stack_runner.h): size and grow, upload missing parameters, build
// every descriptor table on the host, one table upload, then the group's launches.
#include "runtime/cuda/stack_runner.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>

#include "kernels/cpu/signpack.h"
#include "kernels/cuda/conv2d.cuh"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/pool.cuh"
#include "kernels/cuda/segments.cuh"
#include "runtime/cuda/run_op.h"
#include "runtime/error.h"

namespace naswot::rt {
namespace {

constexpr size_t kTableAlign = 16;
static_assert(kMaxStackCopies == cuda::kMaxNodeCopies, "the plan's copies per node member fit a node descriptor");

size_t align256(size_t bytes) { return (bytes + 255) / 256 * 256; }
size_t align_table(size_t bytes) { return (bytes + kTableAlign - 1) / kTableAlign * kTableAlign; }

Shape4 times(Shape4 s, int segments) {
  s.n *= segments;
  return s;
}

// Table bytes of one step (the same sums pass 2 writes).
size_t table_bytes(const StackPlan& sp, const StackStep& step) {
  switch (step.kind) {
    case StackStepKind::Gather: return align_table(sp.gathers()[static_cast<size_t>(step.index)].src.size() * sizeof(float*));
    case StackStepKind::Run: return align_table(sp.runs()[static_cast<size_t>(step.index)].table_src.size() * sizeof(float*));
    case StackStepKind::Node: {
      const StackNode& node = sp.nodes()[static_cast<size_t>(step.index)];
      return align_table(node.stats.size() * sizeof(cuda::StatsSegment)) +
             align_table(node.archs.size() * sizeof(cuda::NodeSegment)) +
             align_table(node.uses.size() * sizeof(cuda::PopcountSegment));
    }
    case StackStepKind::Tap: {
      const StackTap& tap = sp.taps()[static_cast<size_t>(step.index)];
      return align_table(tap.archs.size() * sizeof(cuda::SignPackSegment)) +
             align_table(tap.archs.size() * sizeof(cuda::PopcountSegment));
    }
  }
  return 0;
}

}  // namespace

const char* to_string(StackCost cost) {
  switch (cost) {
    case StackCost::Prepare: return "prepare";
    case StackCost::Gather: return "gather";
    case StackCost::Conv: return "conv";
    case StackCost::Pool: return "pool";
    case StackCost::OtherRun: return "other op";
    case StackCost::BnStats: return "bn stats";
    case StackCost::Node: return "node";
    case StackCost::Popcount: return "popcount K";
    case StackCost::Tap: return "tap";
  }
  return "?";
}

void StackProfile::add(const StackProfile& o) {
  for (int i = 0; i < kStackCosts; ++i) {
    seconds[static_cast<size_t>(i)] += o.seconds[static_cast<size_t>(i)];
    steps[static_cast<size_t>(i)] += o.steps[static_cast<size_t>(i)];
  }
  groups += o.groups;
  architectures += o.architectures;
}

StackRunner::StackRunner() : m_stream(make_stream()), m_cudnn(make_cudnn_handle()) {
  NASWOT_CHECK_CUDNN(cudnnSetStream(m_cudnn.get(), m_stream.get()));
  if (const char* pass = std::getenv("NASWOT_NODE_PASS"); pass != nullptr && *pass != '\0') {
    const std::string p(pass);
    NASWOT_EXPECT(p == "per-element" || p == "batched", BadInput,
                  "NASWOT_NODE_PASS='" << p << "': expected per-element or batched");
    m_node_pass = p == "batched" ? cuda::NodePass::Batched : cuda::NodePass::PerElement;
  }
}

const float* StackRunner::cached_param(const ParamTensor* tensor, bool ohwi) const {
  const auto found = m_params.find(std::make_pair(tensor, ohwi));
  return found == m_params.end() ? nullptr : found->second.data;
}

const float* StackRunner::param(const StackPlan& sp, int arch, const Op& op, const std::string& name, size_t count,
                                bool ohwi, int in_per_group) {
  const auto& all = sp.params(arch).all();
  const auto it = all.find(name);
  NASWOT_EXPECT(it != all.end(), BadInput, "params: tensor '" << name << "' of op '" << op.name << "' is missing");
  const std::shared_ptr<const ParamTensor>& host = it->second;
  NASWOT_EXPECT(host->data.size() == count, BadInput,
                "params: tensor '" << name << "' has " << host->data.size() << " values, op '" << op.name << "' expects "
                                   << count);
  const auto key = std::make_pair(host.get(), ohwi);
  auto found = m_params.find(key);
  if (found != m_params.end()) return found->second.data;
  // Bump allocation in chunks (64-float aligned): a space's weights take a few cudaMallocs in all.
  const size_t floats = (count + 63) / 64 * 64;
  if (m_chunks.empty() || m_chunk_used + floats > m_chunks.back().size()) {
    m_chunks.emplace_back(std::max(floats, kParamChunkFloats), "stacked parameter copies");
    m_chunk_used = 0;
    ++m_growths;
  }
  float* device = m_chunks.back().data() + m_chunk_used;
  m_chunk_used += floats;
  if (ohwi) {
    std::vector<float> reordered(count);
    cuda::conv2d_weight_oihw_to_ohwi(host->data.data(), op.conv.out_channels, in_per_group, op.conv.kernel_h,
                                     op.conv.kernel_w, reordered.data());
    copy_to_device(device, reordered.data(), count * sizeof(float), m_stream.get());
    synchronize(m_stream.get());  // `reordered` dies here
  } else {
    copy_to_device(device, host->data.data(), count * sizeof(float), m_stream.get());
  }
  ++m_uploads;
  m_param_bytes += floats * sizeof(float);
  m_params.emplace(key, DeviceParam{host, device});
  return device;
}

unsigned char* StackRunner::table_slot(size_t bytes, size_t& offset) {
  offset = m_tables_used;
  m_tables_used += align_table(bytes);
  NASWOT_EXPECT(m_tables_used <= m_tables_host.size(), Internal,
                "stack runner: descriptor tables outgrew their sizing (" << m_tables_used << " > "
                                                                          << m_tables_host.size() << " bytes)");
  return m_tables_host.data() + offset;
}

void StackRunner::enqueue(const StackPlan& sp, const float* batch, ConvPlanCache& convs,
                          const std::vector<int64_t*>& k_out, StackProfile* profile) {
  using clock = std::chrono::steady_clock;
  auto seconds_since = [](clock::time_point t0) { return std::chrono::duration<double>(clock::now() - t0).count(); };
  NASWOT_EXPECT(static_cast<int>(k_out.size()) == sp.architectures(), Internal,
                "stack runner: " << k_out.size() << " K buffers for " << sp.architectures() << " architectures");
  cudaStream_t stream = m_stream.get();
  synchronize(stream);  // the previous group's tables and arena are free (and its faults reported)
  auto t_step = clock::now();
  if (m_param_bytes > kMaxParamCacheBytes) {  // weights not shared between groups: start over (never
    m_params.clear();                          // within a group: its pointers are taken below)
    m_chunks.clear();
    m_chunk_used = 0;
    m_param_bytes = 0;
  }

  // 1. Sizes (conv plans looked up here, built on a miss before this group's work is queued); grow.
  size_t workspace = 0, scratch = 0, tables = 0;
  std::vector<const ConvPlan*> run_conv(sp.runs().size(), nullptr);
  for (const StackStep& step : sp.steps()) {
    tables += table_bytes(sp, step);
    if (step.kind == StackStepKind::Run) {
      const StackRun& run = sp.runs()[static_cast<size_t>(step.index)];
      const Plan& plan = sp.plan(run.arch);
      const Op& op = plan.graph().ops[static_cast<size_t>(run.op)];
      if (op.kind != OpKind::Conv) continue;
      const ConvPlan& cp =
          convs.get(m_cudnn.get(), conv_key(conv_shape_of(op, times(plan.tensor(op.inputs.at(0)).shape, run.segments))));
      run_conv[static_cast<size_t>(step.index)] = &cp;
      workspace = std::max(workspace, cp.workspace_bytes);
    } else if (step.kind == StackStepKind::Node) {
      const StackNode& node = sp.nodes()[static_cast<size_t>(step.index)];
      if (!node.stats.empty())
        scratch = std::max(scratch, cuda::batchnorm_stats_segments_scratch_bytes(
                                        static_cast<int>(node.stats.size()),
                                        static_cast<int64_t>(node.out.n) * node.out.h * node.out.w, node.out.c));
    }
  }
  const size_t tensor_bytes = align256(sp.arena_floats() * sizeof(float));
  if (tensor_bytes > m_tensor_bytes || align256(workspace) > m_workspace_bytes || align256(scratch) > m_scratch_bytes) {
    m_tensor_bytes = std::max(m_tensor_bytes, tensor_bytes);
    m_workspace_bytes = std::max(m_workspace_bytes, align256(workspace));
    m_scratch_bytes = std::max(m_scratch_bytes, align256(scratch));
    m_arena = DeviceBuffer<unsigned char>();
    m_arena = DeviceBuffer<unsigned char>(m_tensor_bytes + m_workspace_bytes + m_scratch_bytes, "stacked arena");
    ++m_growths;
  }
  if (m_tables_host.size() < tables) {
    m_tables_host = PinnedBuffer<unsigned char>();
    m_tables_host = PinnedBuffer<unsigned char>(tables, "stacked tables (pinned)");
    m_tables = DeviceBuffer<unsigned char>();
    m_tables = DeviceBuffer<unsigned char>(tables, "stacked tables");
    ++m_growths;
  }
  auto* arena = reinterpret_cast<float*>(m_arena.data());
  void* ws = m_arena.data() + m_tensor_bytes;
  void* bn_scratch = m_arena.data() + m_tensor_bytes + m_workspace_bytes;
  auto seg = [&](int block, int rank) -> float* {
    if (block == kBatchBlock) return const_cast<float*>(batch);  // read-only: no step writes the batch
    return arena + sp.blocks()[static_cast<size_t>(block)].segment_offset(rank);
  };
  auto ptr = [&](const StackRef& r) { return seg(r.block, r.rank); };
  auto bits = [&](int block, int rank) { return reinterpret_cast<uint64_t*>(seg(block, rank)); };

  // 2. Parameters (uploads on a miss) and tables, on the host.
  m_tables_used = 0;
  std::vector<size_t> table_at(sp.steps().size(), 0);
  std::vector<const float*> run_weight(sp.runs().size(), nullptr), run_bias(sp.runs().size(), nullptr);
  for (size_t p = 0; p < sp.steps().size(); ++p) {
    const StackStep& step = sp.steps()[p];
    const auto i = static_cast<size_t>(step.index);
    if (step.kind == StackStepKind::Gather) {
      const StackGather& g = sp.gathers()[i];
      auto* src = reinterpret_cast<const float**>(table_slot(g.src.size() * sizeof(float*), table_at[p]));
      for (size_t s = 0; s < g.src.size(); ++s) src[s] = ptr(g.src[s]);
    } else if (step.kind == StackStepKind::Run) {
      const StackRun& run = sp.runs()[i];
      const Plan& plan = sp.plan(run.arch);
      const Op& op = plan.graph().ops[static_cast<size_t>(run.op)];
      if (!run.table_src.empty()) {
        auto* src = reinterpret_cast<const float**>(table_slot(run.table_src.size() * sizeof(float*), table_at[p]));
        for (size_t s = 0; s < run.table_src.size(); ++s) src[s] = ptr(run.table_src[s]);
      }
      if (op.kind == OpKind::Conv) {
        const Shape4 x = plan.tensor(op.inputs.at(0)).shape;
        const ConvAttr& a = op.conv;
        const ConvPlan& cp = *run_conv[i];
        run_weight[i] = param(sp, run.arch, op, op.weight,
                              static_cast<size_t>(a.out_channels) * static_cast<size_t>(x.c / a.groups) * a.kernel_h * a.kernel_w,
                              cp.filter_ohwi, x.c / a.groups);
        if (!op.bias.empty()) run_bias[i] = param(sp, run.arch, op, op.bias, static_cast<size_t>(a.out_channels), false, 0);
      } else if (op.kind == OpKind::Linear) {
        const auto in = static_cast<size_t>(plan.tensor(op.inputs.at(0)).shape.per_image());
        run_weight[i] = param(sp, run.arch, op, op.weight, static_cast<size_t>(op.out_features) * in, false, 0);
        if (!op.bias.empty()) run_bias[i] = param(sp, run.arch, op, op.bias, static_cast<size_t>(op.out_features), false, 0);
      }
    } else if (step.kind == StackStepKind::Node) {
      const StackNode& node = sp.nodes()[i];
      const int64_t c_aligned = stack_stats_floats(node.out.c) / 3;
      size_t at = 0;
      auto* stats = reinterpret_cast<cuda::StatsSegment*>(table_slot(node.stats.size() * sizeof(cuda::StatsSegment), at));
      table_at[p] = at;
      for (size_t s = 0; s < node.stats.size(); ++s) {
        float* mean = seg(node.stats_block, node.stats[s].rank);
        stats[s] = {ptr(node.stats[s].x), mean, mean + c_aligned, mean + 2 * c_aligned, node.stats[s].eps};
      }
      auto* segs = reinterpret_cast<cuda::NodeSegment*>(table_slot(node.archs.size() * sizeof(cuda::NodeSegment), at));
      auto* pops = reinterpret_cast<cuda::PopcountSegment*>(table_slot(node.uses.size() * sizeof(cuda::PopcountSegment), at));
      for (size_t u = 0; u < node.uses.size(); ++u) {
        const StackNodeUse& use = node.uses[u];
        pops[u] = {bits(node.bits_block, use.computation), k_out[static_cast<size_t>(use.arch)], use.weight};
      }
      for (size_t a = 0; a < node.archs.size(); ++a) {
        const StackNodeArch& na = node.archs[a];
        cuda::NodeSegment ns{};
        NASWOT_EXPECT(na.terms.size() <= static_cast<size_t>(cuda::kMaxBnAddTerms), Internal,
                      "node '" << sp.plan(node.arch).graph().ops[static_cast<size_t>(node.op)].name << "' has "
                               << na.terms.size() << " terms");
        ns.num_terms = static_cast<int>(na.terms.size());
        for (size_t t = 0; t < na.terms.size(); ++t) {
          const StackNodeTerm& term = na.terms[t];
          ns.terms[t].x = ptr(term.x);
          ns.terms[t].zero = term.zero;
          ns.terms[t].pool = term.x.pool;  // a pool view: the node pass pools x itself
          cpu::check_term_pool("stacked node", static_cast<int>(t), term.x.pool, term.stats < 0 && !term.zero,
                               node.out.per_image(), node.out.c);
          if (term.stats < 0) continue;
          const float* mean = seg(node.stats_block, node.stats[static_cast<size_t>(term.stats)].rank);
          const Op& bn = sp.plan(na.arch).graph().ops[static_cast<size_t>(term.bn_op)];
          const size_t c = static_cast<size_t>(node.out.c);
          ns.terms[t].mean = mean;
          ns.terms[t].invstd = mean + 2 * c_aligned;
          ns.terms[t].gamma = cached_param(term.gamma, false);  // the plan resolved the tensors: a hit
          ns.terms[t].beta = cached_param(term.beta, false);    // costs no name lookup
          if (ns.terms[t].gamma == nullptr) ns.terms[t].gamma = param(sp, na.arch, bn, bn.weight, c, false, 0);
          if (ns.terms[t].beta == nullptr) ns.terms[t].beta = param(sp, na.arch, bn, bn.bias, c, false, 0);
        }
        ns.y = na.store_y ? ptr(na.y) : nullptr;  // unread outputs are not written
        NASWOT_EXPECT(na.copies.size() <= static_cast<size_t>(cuda::kMaxNodeCopies), Internal,
                      "node '" << sp.plan(node.arch).graph().ops[static_cast<size_t>(node.op)].name << "' has "
                               << na.copies.size() << " copies");
        ns.num_copies = static_cast<int>(na.copies.size());
        for (size_t q = 0; q < na.copies.size(); ++q) {
          ns.copies[q] = seg(na.copies[q].block, na.copies[q].rank);
          if (na.copies[q].relu) ns.copy_relu |= 1u << q;
        }
        if (na.pack) ns.bits = bits(node.bits_block, static_cast<int>(a));
        segs[a] = ns;
      }
    } else {
      const StackTap& tap = sp.taps()[i];
      size_t at = 0;
      auto* packs = reinterpret_cast<cuda::SignPackSegment*>(table_slot(tap.archs.size() * sizeof(cuda::SignPackSegment), at));
      table_at[p] = at;
      auto* pops = reinterpret_cast<cuda::PopcountSegment*>(table_slot(tap.archs.size() * sizeof(cuda::PopcountSegment), at));
      for (size_t a = 0; a < tap.archs.size(); ++a) {
        uint64_t* b = bits(tap.bits_block, static_cast<int>(a));
        packs[a] = {ptr(tap.archs[a].x), b};
        pops[a] = {b, k_out[static_cast<size_t>(tap.archs[a].arch)], tap.archs[a].weight};
      }
    }
  }
  if (m_tables_used > 0) copy_to_device(m_tables.data(), m_tables_host.data(), m_tables_used, stream);
  if (profile != nullptr) {
    synchronize(stream);
    profile->seconds[static_cast<size_t>(StackCost::Prepare)] += seconds_since(t_step);
    ++profile->steps[static_cast<size_t>(StackCost::Prepare)];
    ++profile->groups;
    profile->architectures += sp.architectures();
  }

  // 3. Launches.
  auto device_table = [&](size_t host_offset) { return m_tables.data() + host_offset; };
  for (size_t p = 0; p < sp.steps().size(); ++p) {
    const StackStep& step = sp.steps()[p];
    const auto i = static_cast<size_t>(step.index);
    t_step = clock::now();
    StackCost cost = StackCost::Tap;
    switch (step.kind) {
      case StackStepKind::Gather: {
        cost = StackCost::Gather;
        const StackGather& g = sp.gathers()[i];
        const StackBlock& dst = sp.blocks()[static_cast<size_t>(g.dst_block)];
        const auto* src = reinterpret_cast<const float* const*>(device_table(table_at[p]));
        for (size_t s0 = 0; s0 < g.src.size();) {  // one launch per run of equal ReLU flags
          size_t s1 = s0 + 1;
          while (s1 < g.src.size() && g.src[s1].relu == g.src[s0].relu) ++s1;
          cuda::gather_segments(src + s0, static_cast<int>(s1 - s0), dst.seg_floats, g.src[s0].relu,
                                seg(g.dst_block, static_cast<int>(s0)), stream);
          s0 = s1;
        }
        cuda::check_launch("stacked gather", __FILE__, __LINE__, stream);
        break;
      }
      case StackStepKind::Run: {
        const StackRun& run = sp.runs()[i];
        const Plan& plan = sp.plan(run.arch);
        const Op& op = plan.graph().ops[static_cast<size_t>(run.op)];
        cost = op.kind == OpKind::Conv                                      ? StackCost::Conv
               : op.kind == OpKind::AvgPool || op.kind == OpKind::MaxPool ? StackCost::Pool
                                                                          : StackCost::OtherRun;
        NASWOT_EXPECT(op.inputs.size() <= kMaxRunOpInputs, Unsupported, "op '" << op.name << "' has too many inputs");
        Shape4 in[kMaxRunOpInputs];
        const float* xs[kMaxRunOpInputs];
        for (size_t k = 0; k < op.inputs.size(); ++k) {
          in[k] = times(plan.tensor(op.inputs[k]).shape, run.segments);
          xs[k] = seg(run.in_block[k], run.in_rank[k]);
        }
        if (!run.table_src.empty()) {  // a pool through its source table
          const Shape4 x = plan.tensor(op.inputs.at(0)).shape;
          const cuda::Pool2dShape ps{x.n, x.h, x.w, x.c, op.pool.kernel, op.pool.stride, op.pool.pad};
          const auto* table = reinterpret_cast<const float* const*>(device_table(table_at[p]));
          if (op.kind == OpKind::AvgPool)
            cuda::avgpool2d_segments(ps, op.pool.count_include_pad, table, run.segments, seg(run.out_block, 0), stream);
          else
            cuda::maxpool2d_segments(ps, table, run.segments, seg(run.out_block, 0), stream);
          cuda::check_launch(op.name.c_str(), __FILE__, __LINE__, stream);
          break;
        }
        RunOpArgs args;
        args.op = &op;
        args.in = in;
        args.out = times(plan.tensor(op.output).shape, run.segments);
        args.xs = xs;
        args.weight = run_weight[i];
        args.bias = run_bias[i];
        args.y = seg(run.out_block, 0);
        args.conv = run_conv[i];
        args.cudnn = m_cudnn.get();
        args.workspace = ws;
        args.workspace_bytes = m_workspace_bytes;
        args.stream = stream;
        try {
          enqueue_run_op(args);
          cuda::check_launch(op.name.c_str(), __FILE__, __LINE__, stream);
        } catch (const Error& e) {
          std::ostringstream os;
          os << "cuda backend (stacked, " << run.segments << " segments): op " << to_string(op.kind) << " '" << op.name
             << "': " << e.what();
          throw Error(e.kind(), os.str());
        }
        break;
      }
      case StackStepKind::Node: {
        cost = StackCost::Node;
        const StackNode& node = sp.nodes()[i];
        const int64_t rows = static_cast<int64_t>(node.out.n) * node.out.h * node.out.w;
        const unsigned char* t = device_table(table_at[p]);
        const auto* stats = reinterpret_cast<const cuda::StatsSegment*>(t);
        t += align_table(node.stats.size() * sizeof(cuda::StatsSegment));
        const auto* segs = reinterpret_cast<const cuda::NodeSegment*>(t);
        t += align_table(node.archs.size() * sizeof(cuda::NodeSegment));
        const auto* pops = reinterpret_cast<const cuda::PopcountSegment*>(t);
        auto lap = [&](StackCost part) {  // profiling: this part's time apart from the rest of the step
          if (profile == nullptr) return;
          synchronize(stream);
          profile->seconds[static_cast<size_t>(part)] += seconds_since(t_step);
          ++profile->steps[static_cast<size_t>(part)];
          t_step = clock::now();
        };
        if (!node.stats.empty()) {
          cuda::batchnorm_stats_segments(stats, static_cast<int>(node.stats.size()), rows, node.out.c, bn_scratch, stream);
          lap(StackCost::BnStats);
        }
        cuda::bn_add_pack_segments(segs, static_cast<int>(node.archs.size()), node.sum_from_zero, node.out.n,
                                   node.out.per_image(), node.out.c, stream, m_node_pass);
        lap(StackCost::Node);
        cost = StackCost::Popcount;
        cuda::popcount_k_segments(pops, static_cast<int>(node.uses.size()), node.out.n, cpu::sign_words(node.out.per_image()), node.out.per_image(),
                                  stream);
        cuda::check_launch(sp.plan(node.arch).graph().ops[static_cast<size_t>(node.op)].name.c_str(), __FILE__, __LINE__,
                           stream);
        break;
      }
      case StackStepKind::Tap: {
        const StackTap& tap = sp.taps()[i];
        const unsigned char* t = device_table(table_at[p]);
        const auto* packs = reinterpret_cast<const cuda::SignPackSegment*>(t);
        const auto* pops = reinterpret_cast<const cuda::PopcountSegment*>(
            t + align_table(tap.archs.size() * sizeof(cuda::SignPackSegment)));
        const int count = static_cast<int>(tap.archs.size());
        cuda::sign_pack_segments(packs, count, tap.n, tap.units, stream);
        cuda::popcount_k_segments(pops, count, tap.n, cpu::sign_words(tap.units), tap.units, stream);
        cuda::check_launch("stacked tap", __FILE__, __LINE__, stream);
        break;
      }
    }
    if (profile != nullptr) {
      synchronize(stream);
      profile->seconds[static_cast<size_t>(cost)] += seconds_since(t_step);
      ++profile->steps[static_cast<size_t>(cost)];
    }
    if (m_hook) {
      synchronize(stream);
      m_hook(p);
    }
  }
}

std::vector<float> StackRunner::download(const StackPlan& sp, int block, int rank, size_t floats) {
  NASWOT_EXPECT(block >= 0 && static_cast<size_t>(block) < sp.blocks().size(), Internal,
                "stack runner: block " << block << " out of range");
  const size_t offset = sp.blocks()[static_cast<size_t>(block)].segment_offset(rank);
  NASWOT_EXPECT((offset + floats) * sizeof(float) <= m_tensor_bytes, Internal,
                "stack runner: block " << block << " segment " << rank << " lies outside the arena");
  std::vector<float> host(floats);
  copy_to_host(host.data(), reinterpret_cast<float*>(m_arena.data()) + offset, floats * sizeof(float), m_stream.get());
  synchronize(m_stream.get());
  return host;
}

}  // namespace naswot::rt
