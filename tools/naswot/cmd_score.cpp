// naswot score: score one or more architectures of a space on one batch and print one record per
// architecture (index, arch, score, status, n_units, seconds) as a table, CSV or JSON lines.
#include <algorithm>
#include <fstream>
#include <future>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cells/darts.h"
#include "runtime/error.h"
#include "runtime/params.h"
#include "search/darts_space.h"
#include "search/genotype_table.h"
#include "search/prepare.h"
#include "search/scorer.h"
#include "search/space.h"
#include "tools/formats/arch_file.h"
#include "tools/formats/datasets.h"
#include "tools/formats/npy.h"
#include "tools/formats/results.h"
#include "tools/formats/safetensors.h"
#include "tools/naswot/commands.h"
#include "tools/naswot/run_setup.h"

namespace naswot::cli {

namespace {

struct ScoreArgs {
  RunOptions run;  // --space --data --batch --seed --counting --backend --image-size --norm --group
  std::vector<std::string> archs;
  std::vector<std::string> genotypes;  // --genotype: the darts spaces' name for --arch
  std::vector<int64_t> indices;
  std::string arch_file;
  std::string weights;
  std::string export_weights;
  std::string export_k;
  std::string format = "table";
  std::string output;
  bool profile = false;
};

std::vector<search::ArchEntry> collect_archs(const ScoreArgs& a, const search::Space& space) {
  std::vector<search::ArchEntry> out;
  for (const std::string& s : a.archs) out.push_back(space.from_string(s));
  for (const std::string& s : a.genotypes) out.push_back(space.from_string(s));
  for (int64_t i : a.indices) out.push_back(space.from_index(i));
  if (!a.arch_file.empty() && search::is_darts_space(space.name()) && search::file_is_genotype_table(a.arch_file)) {
    // A DARTS genotype table (the NB301 CSV): its rows, in order (search/genotype_table.h).
    for (const search::GenotypeTableRow& row : search::read_genotype_table(a.arch_file).rows)
      out.push_back(space.from_string(cells::to_string(row.genotype)));
  } else if (!a.arch_file.empty()) {
    for (const formats::ArchLine& line : formats::read_arch_lines(a.arch_file)) {
      try {
        out.push_back(space.from_token(line.arch));
      } catch (const Error& e) {
        throw_error(e.kind(), a.arch_file + ":" + std::to_string(line.line) + ": " + e.what());
      }
    }
  }
  NASWOT_EXPECT(!out.empty(), BadInput, "naswot score: give --arch (--genotype), --index or --arch-file");
  return out;
}

void run_score(const ScoreArgs& a) {
  const RunData data = load_run_data(a.run);
  const rt::Batch& batch = data.batch;
  const auto& space = data.space;
  const std::vector<search::ArchEntry> archs = collect_archs(a, *space);
  for (const search::ArchEntry& e : archs)
    if (const std::string note = space->note(e); !note.empty())
      std::cerr << "naswot score: note: " << (e.index >= 0 ? "index " + std::to_string(e.index) : e.arch) << ": "
                << note << "\n";
  NASWOT_EXPECT(a.export_weights.empty() || archs.size() == 1, BadInput,
                "--export-weights writes one architecture's weights; " << archs.size() << " were given");

  std::optional<rt::Params> imported;
  if (!a.weights.empty()) imported = formats::read_safetensors(a.weights);

  const auto backend = make_run_backend(a.run);
  std::ofstream file;
  if (!a.output.empty()) {
    file.open(a.output, std::ios::out | std::ios::trunc);
    NASWOT_EXPECT(file.good(), Io, "--output " << a.output << ": cannot open for writing");
  }
  std::ostream& out = a.output.empty() ? std::cout : file;
  const auto writer = formats::make_result_writer(a.format, out);

  backend->set_profiling(a.profile);
  search::Scorer scorer(*backend, batch, data.counting);
  if (archs.size() > 1) scorer.reserve(space->worst_case());
  // Weights: imported once, or drawn once per (name, shape) and shared across architectures.
  rt::ParamInitCache init_cache(a.run.seed);
  auto params_for = [&](const rt::Graph& graph) {
    if (!imported) return init_cache.params_for(graph);
    rt::check_params(graph, *imported, a.weights);
    return *imported;
  };
  // Architectures go to the backend in groups: one at a time on the CPU (records stream out as
  // they are scored), --group at a time on the GPU (several in flight, one batched log-det).
  // With groups, the next group's graphs and weights are built on a second host thread while the
  // backend scores this one (the host preparation would otherwise leave the GPU idle).
  const size_t group = run_group_size(a.run, *backend);
  using Prepared = search::PreparedGroup;
  auto prepare = [&](size_t begin) {  // on several threads (search/prepare.h)
    const size_t end = std::min(archs.size(), begin + group);
    const std::vector<search::ArchEntry> slice(archs.begin() + static_cast<std::ptrdiff_t>(begin),
                                               archs.begin() + static_cast<std::ptrdiff_t>(end));
    return search::prepare_networks(*space, slice, params_for);
  };
  // --export-k: every K, in input order, streamed as one [architectures, N, N] int64 array.
  std::optional<formats::NpyInt64Stream> k_file;
  if (!a.export_k.empty()) {
    const int64_t n = batch.shape.n;
    k_file.emplace(a.export_k, std::vector<int64_t>{static_cast<int64_t>(archs.size()), n, n});
  }
  std::vector<rt::KMatrix> ks;
  const bool overlap = group > 1;
  Prepared current = archs.empty() ? Prepared{} : prepare(0);
  std::future<Prepared> next;
  for (size_t begin = 0; begin < archs.size(); begin += group) {
    const size_t end = std::min(archs.size(), begin + group);
    if (overlap && end < archs.size()) next = std::async(std::launch::async, prepare, end);
    const std::vector<rt::Graph>& graphs = current.graphs;
    const std::vector<rt::Params>& params = current.params;
    if (!a.export_weights.empty()) {
      std::vector<std::string> order;
      for (const rt::ParamSpec& p : graphs[0].params)
        if (params[0].has(p.name)) order.push_back(p.name);
      formats::write_safetensors(a.export_weights, params[0], order, {{"arch", archs[0].arch}, {"space", a.run.space}});
    }
    const std::vector<search::Score> scores = scorer.score_group(graphs, params, k_file ? &ks : nullptr);
    if (k_file)
      for (const rt::KMatrix& k : ks) k_file->append(k.values.data(), k.values.size());
    for (size_t i = 0; i < scores.size(); ++i) {
      const search::Score& s = scores[i];
      writer->write({archs[begin + i].index, archs[begin + i].arch, s.value, s.status, s.n_units, s.seconds});
    }
    if (end < archs.size()) current = overlap ? next.get() : prepare(end);
  }
  if (k_file) k_file->close();
  if (a.profile) std::cerr << backend->profile_report();
}

}  // namespace

void add_score_command(CLI::App& app) {
  auto args = std::make_shared<ScoreArgs>();
  auto* cmd = app.add_subcommand("score", "Score architectures: NASWOT log|det K_H| on one batch");
  add_run_options(cmd, args->run);
  cmd->add_option("--arch", args->archs, "Architecture string(s), e.g. '|nor_conv_3x3~0|+|...'");
  cmd->add_option("--genotype", args->genotypes,
                  "darts spaces: genotype(s): Genotype(normal=[...], ...), NDS JSON or op~input lists");
  cmd->add_option("--index", args->indices, "Benchmark index(es) (NB201: 0..15624; darts: entry of --nds-json)");
  cmd->add_option("--arch-file", args->arch_file,
                  "File with one architecture string or index per line ('#' comments); darts spaces also take a "
                  "genotype table CSV (normal and reduce columns, e.g. the NB301 table)");
  cmd->add_option("--weights", args->weights, "safetensors file with the reference state_dict names");
  cmd->add_option("--export-weights", args->export_weights, "Write the weights used to this safetensors file");
  cmd->add_option("--export-k", args->export_k,
                  "Write every kernel matrix K_H to this .npy file: int64 [architectures, N, N] in input order, "
                  "written as scored (complete when the command ends)");
  cmd->add_option("--format", args->format, "table | csv | jsonl")
      ->check(CLI::IsMember({"table", "csv", "jsonl"}))
      ->capture_default_str();
  cmd->add_option("--output", args->output, "Write results to FILE instead of standard output");
  cmd->add_flag("--profile", args->profile, "Print wall time per op kind to standard error");
  cmd->callback([args] { run_score(*args); });
}

}  // namespace naswot::cli
