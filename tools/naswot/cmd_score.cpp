// naswot score: score one or more architectures of a space on one batch and print one record per
// architecture (index, arch, score, status, n_units, seconds) as a table, CSV or JSON lines.
#include <algorithm>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/error.h"
#include "runtime/params.h"
#include "search/scorer.h"
#include "search/space.h"
#include "tools/formats/arch_file.h"
#include "tools/formats/datasets.h"
#include "tools/formats/results.h"
#include "tools/formats/safetensors.h"
#include "tools/naswot/commands.h"

namespace naswot::cli {

namespace {

struct ScoreArgs {
  std::string space = "nb201";
  std::vector<std::string> archs;
  std::vector<int64_t> indices;
  std::string arch_file;
  std::string data = "synthetic";
  int batch = 128;
  uint64_t seed = 1;
  std::string counting = "reference";
  std::string weights;
  std::string export_weights;
  std::string backend = "auto";
  std::string format = "table";
  std::string output;
  int image_size = 0;  // 0: from the data (npy) or 32
  std::string norm;    // empty: from the data spec
  bool profile = false;
  int group = 0;  // 0: 1 on the CPU, 256 on the GPU
};

std::vector<search::ArchEntry> collect_archs(const ScoreArgs& a, const search::Space& space) {
  std::vector<search::ArchEntry> out;
  for (const std::string& s : a.archs) out.push_back(space.from_string(s));
  for (int64_t i : a.indices) out.push_back(space.from_index(i));
  if (!a.arch_file.empty()) {
    for (const formats::ArchLine& line : formats::read_arch_lines(a.arch_file)) {
      try {
        out.push_back(space.from_token(line.arch));
      } catch (const Error& e) {
        throw_error(e.kind(), a.arch_file + ":" + std::to_string(line.line) + ": " + e.what());
      }
    }
  }
  NASWOT_EXPECT(!out.empty(), BadInput, "naswot score: give --arch, --index or --arch-file");
  return out;
}

formats::DatasetKind norm_for(const ScoreArgs& a, const formats::DataSpec& spec) {
  if (!a.norm.empty()) return formats::parse_dataset_kind(a.norm);
  if (spec.kind == "cifar100") return formats::DatasetKind::Cifar100;
  if (a.image_size == 16) return formats::DatasetKind::ImageNet16;
  return formats::DatasetKind::Cifar10;
}

void run_score(const ScoreArgs& a) {
  const rt::Counting counting = rt::parse_counting(a.counting);
  NASWOT_EXPECT(a.batch >= 2, BadInput, "--batch " << a.batch << ": need at least 2 images for a kernel matrix");
  const formats::DataSpec spec = formats::parse_data_spec(a.data);
  const rt::Batch batch =
      formats::load_batch(spec, a.batch, a.seed, norm_for(a, spec), a.image_size > 0 ? a.image_size : 32);
  NASWOT_EXPECT(a.image_size == 0 || batch.shape.h == a.image_size, BadInput,
                "--image-size " << a.image_size << " but " << batch.source << " holds " << batch.shape.h << "x"
                                << batch.shape.w << " images");
  const auto space = search::make_space(a.space, {batch.shape.h});
  const std::vector<search::ArchEntry> archs = collect_archs(a, *space);
  NASWOT_EXPECT(a.export_weights.empty() || archs.size() == 1, BadInput,
                "--export-weights writes one architecture's weights; " << archs.size() << " were given");

  std::optional<rt::Params> imported;
  if (!a.weights.empty()) imported = formats::read_safetensors(a.weights);

  const auto backend = rt::make_backend(rt::parse_backend_kind(a.backend));
  std::ofstream file;
  if (!a.output.empty()) {
    file.open(a.output, std::ios::out | std::ios::trunc);
    NASWOT_EXPECT(file.good(), Io, "--output " << a.output << ": cannot open for writing");
  }
  std::ostream& out = a.output.empty() ? std::cout : file;
  const auto writer = formats::make_result_writer(a.format, out);

  backend->set_profiling(a.profile);
  search::Scorer scorer(*backend, batch, counting);
  if (archs.size() > 1) scorer.reserve(space->worst_case());
  // Weights: imported once, or drawn once per (name, shape) and shared across architectures.
  rt::ParamInitCache init_cache(a.seed);
  auto params_for = [&](const rt::Graph& graph) {
    if (!imported) return init_cache.params_for(graph);
    rt::check_params(graph, *imported, a.weights);
    return *imported;
  };
  // Architectures go to the backend in groups: one at a time on the CPU (records stream out as
  // they are scored), --group at a time on the GPU (several in flight, one batched log-det).
  const size_t group = a.group > 0 ? static_cast<size_t>(a.group) : (backend->name() == "cuda" ? 256 : 1);
  for (size_t begin = 0; begin < archs.size(); begin += group) {
    const size_t end = std::min(archs.size(), begin + group);
    std::vector<rt::Graph> graphs;
    std::vector<rt::Params> params;
    graphs.reserve(end - begin);
    params.reserve(end - begin);
    for (size_t i = begin; i < end; ++i) {
      graphs.push_back(space->build(archs[i]));
      params.push_back(params_for(graphs.back()));
    }
    if (!a.export_weights.empty()) {
      std::vector<std::string> order;
      for (const rt::ParamSpec& p : graphs[0].params)
        if (params[0].has(p.name)) order.push_back(p.name);
      formats::write_safetensors(a.export_weights, params[0], order, {{"arch", archs[0].arch}, {"space", a.space}});
    }
    std::vector<const rt::Graph*> graph_ptrs;
    std::vector<const rt::Params*> param_ptrs;
    for (size_t i = 0; i < graphs.size(); ++i) {
      graph_ptrs.push_back(&graphs[i]);
      param_ptrs.push_back(&params[i]);
    }
    const std::vector<search::Score> scores =
        graphs.size() == 1 ? std::vector<search::Score>{scorer.score(graphs[0], params[0])}
                           : scorer.score_many(graph_ptrs, param_ptrs);
    for (size_t i = 0; i < scores.size(); ++i) {
      const search::Score& s = scores[i];
      writer->write({archs[begin + i].index, archs[begin + i].arch, s.value, s.status, s.n_units, s.seconds});
    }
  }
  if (a.profile) std::cerr << backend->profile_report();
}

}  // namespace

void add_score_command(CLI::App& app) {
  auto args = std::make_shared<ScoreArgs>();
  auto* cmd = app.add_subcommand("score", "Score architectures: NASWOT log|det K_H| on one batch");
  cmd->add_option("--space", args->space, "Search space")->check(CLI::IsMember({"nb201"}))->capture_default_str();
  cmd->add_option("--arch", args->archs, "Architecture string(s), e.g. '|nor_conv_3x3~0|+|...'");
  cmd->add_option("--index", args->indices, "Benchmark index(es) (NB201: 0..15624)");
  cmd->add_option("--arch-file", args->arch_file, "File with one architecture string or index per line ('#' comments)");
  cmd->add_option("--data", args->data, "synthetic | cifar10:PATH | cifar100:PATH | npy:FILE")->capture_default_str();
  cmd->add_option("--batch", args->batch, "Images per batch (N)")->capture_default_str();
  cmd->add_option("--seed", args->seed, "Seed of the weights, the synthetic batch and the batch choice")
      ->capture_default_str();
  cmd->add_option("--counting", args->counting,
                  "reference: as the original code (ReLUConvBN inputs count twice); unit: every ReLU once")
      ->check(CLI::IsMember({"reference", "unit"}))
      ->capture_default_str();
  cmd->add_option("--weights", args->weights, "safetensors file with the reference state_dict names");
  cmd->add_option("--export-weights", args->export_weights, "Write the weights used to this safetensors file");
  cmd->add_option("--backend", args->backend, "cpu | cuda | auto (cuda when a device is visible)")
      ->check(CLI::IsMember({"cpu", "cuda", "auto"}))
      ->capture_default_str();
  cmd->add_option("--format", args->format, "table | csv | jsonl")
      ->check(CLI::IsMember({"table", "csv", "jsonl"}))
      ->capture_default_str();
  cmd->add_option("--output", args->output, "Write results to FILE instead of standard output");
  cmd->add_option("--image-size", args->image_size, "32 (CIFAR) or 16 (ImageNet16-120); default: from the data");
  cmd->add_option("--norm", args->norm, "Normalisation of uint8 images: cifar10 | cifar100 | imagenet16")
      ->check(CLI::IsMember({"cifar10", "cifar100", "imagenet16"}));
  cmd->add_option("--group", args->group,
                  "Architectures per backend call (default: 1 on the CPU, 256 on the GPU, where they run overlapped)");
  cmd->add_flag("--profile", args->profile, "Print wall time per op kind to standard error");
  cmd->callback([args] { run_score(*args); });
}

}  // namespace naswot::cli
