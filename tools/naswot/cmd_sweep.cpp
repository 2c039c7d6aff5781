// naswot sweep: score a whole space, or a shard of it, into a resumable JSON-lines file
// (search/sweep.h), on one process, as one task of a Slurm job array, or as K MPI ranks.
//
// Shard: --shard i/n; without it, a Slurm array task takes (SLURM_ARRAY_TASK_ID -
// SLURM_ARRAY_TASK_MIN) / SLURM_ARRAY_TASK_COUNT; otherwise 0/1. Under MPI (mpi_env.h) rank r of
// K takes slice r/K of that shard into its own part file, OUTPUT minus ".jsonl" plus
// ".rank-r-of-K.jsonl", and once every rank is complete rank 0 merges the parts into OUTPUT. The
// parts are kept: `--resume` continues them. Each rank uses the GPU of its node-local rank when
// several are visible.
//
// SIGINT / SIGTERM (Ctrl-C, mpirun, Slurm's time limit): the current group is finished, written
// and flushed, then the command exits with status 130 and says how to resume. A second signal
// kills at once (the file stays resumable, minus the group in flight).
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "cells/nb201_unique.h"
#include "runtime/error.h"
#include "runtime/params.h"
#include "search/progress.h"
#include "search/scorer.h"
#include "search/shard.h"
#include "search/sweep.h"
#include "search/sweep_items.h"
#include "search/sweep_merge.h"
#include "tools/formats/sweep_file.h"
#include "tools/naswot/commands.h"
#include "tools/naswot/mpi_env.h"
#include "tools/naswot/run_setup.h"

#ifndef NASWOT_VERSION
#define NASWOT_VERSION "unknown"
#endif

namespace naswot::cli {

namespace {

constexpr int kInterruptedExit = 130;  // 128 + SIGINT, as shells report it

struct SweepArgs {
  RunOptions run;
  std::string shard;
  bool unique = false;
  std::string unique_by;
  std::string output;
  bool resume = false;
  double progress_seconds = 30;
  double fsync_seconds = 30;
};

std::atomic<bool> g_stop{false};

extern "C" void on_stop_signal(int) {
  g_stop.store(true);
  static const char msg[] =
      "\nnaswot sweep: stopping after the current group (signal again to stop at once)\n";
  const ssize_t ignored = ::write(STDERR_FILENO, msg, sizeof msg - 1);
  (void)ignored;
}

// SA_RESETHAND: the first signal asks for a clean stop, a second one takes the default action.
void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESETHAND;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

std::string part_path(const std::string& output, int rank, int ranks) {
  const std::string suffix = ".jsonl";
  const bool has =
      output.size() > suffix.size() && output.compare(output.size() - suffix.size(), suffix.size(), suffix) == 0;
  const std::string stem = has ? output.substr(0, output.size() - suffix.size()) : output;
  return stem + ".rank-" + std::to_string(rank) + "-of-" + std::to_string(ranks) + ".jsonl";
}

// What besides the name shapes the space's networks and indices (see sweep_file.h); "" for nb201.
std::string space_options(const RunOptions& o) {
  if (o.width == 0 && o.depth == 0 && o.nds_json.empty()) return "";
  std::string s = "width=" + std::to_string(o.width) + " depth=" + std::to_string(o.depth);
  if (!o.nds_json.empty()) s += " source=" + formats::file_fingerprint(o.nds_json);
  return s;
}

search::Shard resolve_shard(const SweepArgs& a, const MpiEnv& mpi) {
  if (!a.shard.empty()) return search::parse_shard(a.shard);
  search::Shard s;
  if (search::shard_from_slurm_array(s) && mpi.rank() == 0)
    std::fprintf(stderr, "naswot sweep: shard %s from the Slurm job array (SLURM_ARRAY_TASK_ID)\n",
                 search::to_string(s).c_str());
  return s;
}

int run_sweep_command(const SweepArgs& a, const MpiEnv& mpi) {
  NASWOT_EXPECT(a.progress_seconds > 0, BadInput, "--progress-seconds " << a.progress_seconds << ": expected > 0");
  NASWOT_EXPECT(a.fsync_seconds >= 0, BadInput, "--fsync-seconds " << a.fsync_seconds << ": expected >= 0");
  const RunData data = load_run_data(a.run);
  NASWOT_EXPECT(data.space->size() > 0, BadInput,
                "--space " << a.run.space
                           << " has no indexed architectures to sweep; give it a genotype file (--nds-json)");
  const search::Shard shard = resolve_shard(a, mpi);
  // --unique-by implies --unique; --unique alone uses the benchmark's equivalence.
  const bool unique = a.unique || !a.unique_by.empty();
  const cells::Nb201Equivalence equivalence =
      cells::parse_nb201_equivalence(a.unique_by.empty() ? "benchmark" : a.unique_by);
  const search::SweepItems items =
      unique ? search::SweepItems::unique(*data.space, equivalence) : search::SweepItems::all(*data.space);

  search::SweepConfig config;
  config.range = search::shard_range({0, items.size()}, shard);
  if (mpi.active()) config.range = search::shard_range(config.range, {mpi.rank(), mpi.size()});
  config.output = mpi.active() ? part_path(a.output, mpi.rank(), mpi.size()) : a.output;
  config.resume = a.resume;
  config.fsync_seconds = a.fsync_seconds;
  formats::SweepHeader& h = config.header;
  h.naswot_version = NASWOT_VERSION;
  h.space = data.space->name();
  h.space_options = space_options(a.run);
  h.space_size = data.space->size();
  h.image_size = data.batch.shape.h;
  h.data = a.run.data;
  h.data_fingerprint = formats::batch_fingerprint(data.batch);
  h.batch = a.run.batch;
  h.seed = a.run.seed;
  h.counting = rt::to_string(data.counting);
  h.norm = formats::to_string(data.norm);
  h.precision = a.run.precision;
  h.unique = unique;
  h.unique_by = unique ? cells::to_string(equivalence) : "";
  h.shard = search::to_string(shard);
  h.part = search::to_string(search::Shard{mpi.rank(), mpi.size()});
  if (mpi.active() && mpi.rank() == 0 && !a.resume)
    NASWOT_EXPECT(!std::filesystem::exists(a.output), BadInput,
                  "--output " << a.output << " exists; pass --resume to continue the sweep, or remove it");

  const auto backend = make_run_backend(a.run, mpi.active() ? mpi.local_rank() : -1);
  h.backend = backend->name();
  config.group = run_group_size(a.run, *backend);
  search::Scorer scorer(*backend, data.batch, data.counting);
  rt::ParamInitCache init(a.run.seed);

  search::ProgressOptions po;
  po.label = mpi.active() ? "sweep rank " + std::to_string(mpi.rank()) + "/" + std::to_string(mpi.size()) : "sweep";
  po.tty = !mpi.active() && ::isatty(STDERR_FILENO);
  po.interval_seconds = a.progress_seconds;
  search::Progress progress(stderr, po);
  install_stop_handlers();

  const search::SweepOutcome out = search::run_sweep(*data.space, items, scorer, init, config, &progress, &g_stop);
  if (out.cut_tail)
    std::fprintf(stderr, "naswot sweep: %s ended in a line cut short by a kill; it was cut off and scored again\n",
                 config.output.c_str());
  if (out.restarted)
    std::fprintf(stderr, "naswot sweep: %s held no complete header; started over\n", config.output.c_str());
  progress.finish(out.interrupted ? "interrupted" : out.scored == 0 ? "nothing left to score" : "");

  const bool complete = mpi.all(out.complete());
  if (!complete) {
    if (mpi.rank() == 0)
      std::fprintf(stderr,
                   "naswot sweep: interrupted; %s %s consistent and keep%s every record written so far. Continue "
                   "with the same command and --resume.\n",
                   mpi.active() ? "the part files" : config.output.c_str(), mpi.active() ? "are" : "is",
                   mpi.active() ? "" : "s");
    return kInterruptedExit;
  }
  if (mpi.active()) {
    if (mpi.rank() == 0) {
      std::vector<std::string> parts;
      for (int r = 0; r < mpi.size(); ++r) parts.push_back(part_path(a.output, r, mpi.size()));
      const search::MergeSummary m = search::merge_sweep_files(parts, a.output);
      std::fprintf(stderr, "naswot sweep: merged %lld part files (%lld records) into %s\n",
                   static_cast<long long>(m.files), static_cast<long long>(m.records), a.output.c_str());
    }
    mpi.barrier();
  }
  return 0;
}

}  // namespace

void add_sweep_command(CLI::App& app) {
  auto args = std::make_shared<SweepArgs>();
  auto* cmd = app.add_subcommand(
      "sweep", "Score a whole space or a shard of it into a resumable JSON-lines file (MPI: one shard slice per rank)");
  add_run_options(cmd, args->run);
  cmd->add_option("--shard", args->shard,
                  "i/n: score the i-th of n contiguous slices (default: from SLURM_ARRAY_TASK_ID in a job array, "
                  "else the whole space)");
  cmd->add_flag("--unique", args->unique,
                "Score one representative per isomorphism class of NB201 cells (NAS-Bench-201's 6,466 by default, "
                "see --unique-by); records list the members");
  cmd->add_option("--unique-by", args->unique_by,
                  "Implies --unique. benchmark: NAS-Bench-201's own unique-cell string (6,466 classes); function: "
                  "cells that compute the same function (none edges and dead paths dropped, skips flattened: "
                  "4,930 classes)")
      ->check(CLI::IsMember({"benchmark", "function"}));
  cmd->add_option("--output", args->output, "The sweep file (JSON lines: a header, then one record per item)")
      ->required();
  cmd->add_flag("--resume", args->resume, "Continue an interrupted --output (settings must match its header)");
  cmd->add_option("--progress-seconds", args->progress_seconds,
                  "Seconds between progress lines when standard error is not a terminal")
      ->capture_default_str();
  cmd->add_option("--fsync-seconds", args->fsync_seconds,
                  "fsync the file at most this often (every group's records are flushed regardless; 0: fsync each "
                  "group)")
      ->capture_default_str();
  cmd->callback([args] {
    MpiEnv mpi;
    int code = 0;
    try {
      code = run_sweep_command(*args, mpi);
    } catch (const std::exception& e) {
      if (!mpi.active()) throw;
      // One rank failed while the others may wait in a collective: stop them all.
      const auto* error = dynamic_cast<const Error*>(&e);
      std::fprintf(stderr, "naswot: rank %d/%d: %s: %s\n", mpi.rank(), mpi.size(),
                   error ? to_string(error->kind()) : "error", e.what());
      mpi.abort(1);
    }
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace naswot::cli
