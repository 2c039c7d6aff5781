// naswot search: NASWOT search (Algorithm 1), REA or AREA on a benchmark table, printed as a
// table like the NASWOT paper's Table 2 (mean +- std over runs of the chosen architectures' val /
// test accuracies on CIFAR-10, CIFAR-100 and ImageNet16-120, or those the table holds: a DARTS
// genotype table has CIFAR-10 validation only, an NDS file CIFAR-10 test only), optionally one JSON
// line per run.
//
// With a DARTS genotype table (--space darts --table nb301.csv) or an NDS file (--space nds|darts
// --table DARTS.json), the searched architectures are the table's rows: the table is the space's
// genotype source unless --nds-json names another list, all of whose architectures the table must
// hold. REA/AREA mutate within the table (search/darts_mutation.h); their oracle is the table's
// validation accuracy, or its only accuracy (NDS: test).
//
// Defaults are sized so that `naswot search` with no option finishes in about a minute on two
// CPU cores at batch 128 (about 0.3 s per architecture there): naswot 10 samples x 10 runs
// (about 100 architectures scored), rea 100 runs of 100 queries (no scoring), area 5 runs
// (20 architectures scored each). The paper runs 500 runs of N = 10, 100, 1000.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "runtime/error.h"
#include "runtime/params.h"
#include "search/bench_table.h"
#include "search/darts_space.h"
#include "search/evolution.h"
#include "search/naswot_search.h"
#include "search/progress.h"
#include "search/score_cache.h"
#include "search/scorer.h"
#include "search/summary.h"
#include "tools/naswot/commands.h"
#include "tools/naswot/run_setup.h"

namespace naswot::cli {

namespace {

struct SearchArgs {
  RunOptions run;  // --space --data --batch --seed --counting --backend --image-size --norm --group
  std::string algo = "naswot";
  int samples = 10;
  int runs = 0;  // 0: the algorithm's default
  std::string dataset = "cifar10";
  int budget = 100;
  int population = 10;
  int tournament = 3;
  int area_samples = 20;
  std::string table;
  std::string output;
};

int default_runs(const std::string& algo) { return algo == "naswot" ? 10 : algo == "rea" ? 100 : 5; }

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Everything the scoring algorithms (naswot, area) need, built once.
struct ScoringSetup {
  RunData data;
  std::unique_ptr<rt::Backend> backend;
  std::unique_ptr<search::Scorer> scorer;
  std::unique_ptr<rt::ParamInitCache> weights;
  std::unique_ptr<search::NetworkArchScorer> arch_scorer;
  std::unique_ptr<search::ScoreCache> cache;
  std::unique_ptr<search::Progress> progress;
};

void make_scoring(const SearchArgs& a, search::DatasetKind dataset, ScoringSetup& s) {
  // --dataset picks the paper's scoring data: ImageNet16-120 networks see 16x16 images, and uint8
  // npy images get that dataset's normalisation, unless the options say otherwise.
  RunOptions run = a.run;
  if (run.image_size == 0 && dataset == search::DatasetKind::ImageNet16) run.image_size = 16;
  if (run.norm.empty()) run.norm = formats::to_string(dataset);
  s.data = load_run_data(run);
  s.backend = make_run_backend(run);
  s.scorer = std::make_unique<search::Scorer>(*s.backend, s.data.batch, s.data.counting);
  s.scorer->reserve(s.data.space->worst_case());
  s.weights = std::make_unique<rt::ParamInitCache>(run.seed);
  s.arch_scorer = std::make_unique<search::NetworkArchScorer>(*s.data.space, *s.scorer, *s.weights);
  s.cache = std::make_unique<search::ScoreCache>(*s.arch_scorer, run_group_size(run, *s.backend));
}

// Progress on standard error for one large ensure() (naswot scores all runs' samples at once).
void show_progress(ScoringSetup& s) {
  search::ProgressOptions po;
  po.label = "search";
  po.tty = ::isatty(STDERR_FILENO);
  po.interval_seconds = 15;
  s.progress = std::make_unique<search::Progress>(stderr, po);
  s.cache->set_progress([p = s.progress.get(), last = size_t{0}](size_t done, size_t total) mutable {
    if (last == 0) p->start(static_cast<int64_t>(total), 0);
    p->advance(static_cast<int64_t>(done - last));
    last = done;
    if (done == total) {
      p->finish();
      last = 0;
    }
  });
}

// The table must describe the space being searched: the embedded one is NB201's; a --table file
// is checked row by row against the space's index order.
void check_table(const SearchArgs& a, const search::BenchTable& table, const search::Space& space) {
  if (a.table.empty()) {
    NASWOT_EXPECT(space.name() == "nb201", BadInput,
                  "--space " << space.name()
                             << ": the embedded accuracy table is NB201's; give --table with this "
                                "space's accuracies");
    return;
  }
  table.check_against(space);
}

std::string cell(const search::MeanStd& m) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.2f+-%.2f", m.mean, m.std);
  return buf;
}

// One column per accuracy the table holds.
void print_header(const search::BenchTable& table, const std::string& first, const std::string& time) {
  std::printf("%-30s %12s", first.c_str(), time.c_str());
  for (const auto& [d, split] : table.accuracy_columns()) {
    const std::string dataset = d == search::DatasetKind::ImageNet16 ? "imgnet16" : formats::to_string(d);
    std::printf("  %13s", (dataset + (split == search::Split::Valid ? " val" : " test")).c_str());
  }
  std::printf("\n");
}

void print_row(const search::BenchTable& table, const std::string& method, const std::string& time,
               const search::AccuracySummary& s) {
  std::printf("%-30s %12s", method.c_str(), time.c_str());
  for (const auto& [d, split] : table.accuracy_columns())
    std::printf("  %13s", cell(s[static_cast<size_t>(d)][static_cast<size_t>(split)]).c_str());
  std::printf("\n");
}

std::string seconds_cell(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f s", s);
  return buf;
}

// The accuracies the table holds, as "<dataset>_<split>" keys.
nlohmann::ordered_json arch_json(const search::BenchTable& table, const search::BenchRow& row) {
  nlohmann::ordered_json j;
  j["index"] = row.index;
  j["arch"] = row.arch;
  for (const auto& [d, split] : table.accuracy_columns())
    j[std::string(formats::to_string(d)) + "_" + search::to_string(split)] = row.accuracy(d, split);
  return j;
}

nlohmann::ordered_json score_json(double v) {
  return std::isfinite(v) ? nlohmann::ordered_json(v)
                          : nlohmann::ordered_json(std::isnan(v) ? "nan"
                                                   : v > 0       ? "inf"
                                                                 : "-inf");
}

void write_jsonl(std::ostream* out, const nlohmann::ordered_json& j) {
  if (out) *out << j.dump() << '\n' << std::flush;
}

void run_naswot(const SearchArgs& a, const search::BenchTable& table, search::DatasetKind dataset, int runs,
                std::ostream* jsonl) {
  ScoringSetup s;
  make_scoring(a, dataset, s);
  check_table(a, table, *s.data.space);
  show_progress(s);
  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<search::NaswotRun> results =
      search::naswot_search(*s.data.space, *s.cache, {a.samples, runs, a.run.seed});
  const double wall = seconds_since(t0);

  std::vector<search::Accuracies> chosen, optimal, random;
  std::vector<double> times;
  size_t no_choice = 0;
  for (size_t r = 0; r < results.size(); ++r) {
    const search::NaswotRun& run = results[r];
    std::vector<const search::BenchRow*> rows;
    for (const search::ArchEntry& e : run.sample) rows.push_back(&table.lookup(e));
    optimal.push_back(search::column_max(rows));
    random.push_back(search::accuracies_of(*rows[run.random_pick]));
    times.push_back(run.search_seconds);
    nlohmann::ordered_json j;
    j["algo"] = "naswot";
    j["run"] = r;
    j["samples"] = a.samples;
    j["search_seconds"] = run.search_seconds;
    if (run.chosen == search::NaswotRun::kNone) {
      ++no_choice;
      j["chosen"] = nullptr;
    } else {
      chosen.push_back(search::accuracies_of(*rows[run.chosen]));
      j["chosen"] = arch_json(table, *rows[run.chosen]);
      j["chosen"]["score"] = score_json(run.scores[run.chosen]);
    }
    j["random"] = arch_json(table, *rows[run.random_pick]);
    write_jsonl(jsonl, j);
  }

  std::printf("naswot search: %s, N=%d samples, %d runs, seed %llu; scores on %s (%dx%dx%d, counting %s, backend %s)\n",
              s.data.space->name().c_str(), a.samples, runs, static_cast<unsigned long long>(a.run.seed),
              s.data.batch.source.c_str(), s.data.batch.shape.n, s.data.batch.shape.h, s.data.batch.shape.w,
              a.run.counting.c_str(), s.backend->name().c_str());
  std::printf("accuracies: %s; mean+-std over runs (std with ddof 0)\n\n", table.source().c_str());
  print_header(table, "Method", "Search time");
  const search::MeanStd t = search::mean_std(times);
  const std::string n = "(N=" + std::to_string(a.samples) + ")";
  print_row(table, "NASWOT " + n, seconds_cell(t.mean), search::summarize(chosen));
  print_row(table, "Optimal in sample " + n, "-", search::summarize(optimal));
  print_row(table, "Random (one of the sample)", "-", search::summarize(random));
  std::printf(
      "\nSearch time: mean scoring time of one run's N architectures (as if run alone). Wall %.1f s: %zu "
      "distinct architectures scored (%.3f s each), %zu draws served from the cache.\n",
      wall, s.cache->size(), s.cache->size() ? s.cache->scoring_seconds() / static_cast<double>(s.cache->size()) : 0.0,
      static_cast<size_t>(a.samples) * results.size() - s.cache->size());
  if (no_choice) std::printf("%zu run(s) had only NaN scores and chose nothing.\n", no_choice);
}

void run_evolution(const SearchArgs& a, const search::BenchTable& table, search::DatasetKind dataset, int runs,
                   std::ostream* jsonl) {
  const bool assisted = a.algo == "area";
  search::EvolutionOptions o;
  o.population = a.population;
  o.tournament = a.tournament;
  o.budget = a.budget;
  o.area_samples = a.area_samples;
  ScoringSetup s;
  std::unique_ptr<search::Space> plain_space;
  const search::Space* space = nullptr;
  if (assisted) {
    make_scoring(a, dataset, s);
    space = s.data.space.get();
  } else {
    // REA builds no network: the space only names and indexes architectures.
    search::SpaceOptions options(a.run.image_size > 0 ? a.run.image_size : 32);
    options.width = a.run.width;
    options.depth = a.run.depth;
    options.source = a.run.nds_json;
    plain_space = search::make_space(a.run.space, options);
    space = plain_space.get();
  }
  check_table(a, table, *space);
  const search::MutationFn mutate = search::mutation_for(*space, &table);
  size_t queries = 0;
  const search::Split oracle_split = table.oracle_split();
  const char* const oracle_word = oracle_split == search::Split::Valid ? "validation" : "test";
  const search::OracleFn oracle = [&](const search::ArchEntry& e) {
    ++queries;
    return table.lookup(e).accuracy(dataset, oracle_split);
  };
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<search::Accuracies> best;
  std::vector<double> score_times;
  for (int r = 0; r < runs; ++r) {
    search::Rng rng(search::derive_seed(a.run.seed, static_cast<uint64_t>(r)));
    const search::EvolutionRun run =
        assisted ? search::assisted_regularized_evolution(*space, mutate, oracle, *s.cache, o, rng)
                 : search::regularized_evolution(*space, mutate, oracle, o, rng);
    const search::BenchRow& row = table.lookup(run.history[run.best].arch);
    best.push_back(search::accuracies_of(row));
    double scoring = 0;
    for (const search::ArchEntry& e : run.area_candidates) scoring += s.cache->at(e).seconds;
    score_times.push_back(scoring);
    nlohmann::ordered_json j;
    j["algo"] = a.algo;
    j["run"] = r;
    j["queries"] = run.history.size();
    if (assisted) j["scoring_seconds"] = scoring;
    j["best"] = arch_json(table, row);
    j["best"]["query"] = run.best;
    write_jsonl(jsonl, j);
  }
  const double wall = seconds_since(t0);

  std::printf("naswot search: %s, %s, budget %d queries, population %d, tournament %d%s, %d runs, seed %llu\n",
              space->name().c_str(), assisted ? "AREA" : "REA", o.budget, o.population, o.tournament,
              assisted ? (", " + std::to_string(o.area_samples) + " scored samples").c_str() : "", runs,
              static_cast<unsigned long long>(a.run.seed));
  std::printf("oracle: %s %s accuracy; accuracies: %s; mean+-std over runs (std with ddof 0)\n",
              formats::to_string(dataset), oracle_word, table.source().c_str());
  if (assisted)
    std::printf("scores on %s (%dx%dx%d, counting %s, backend %s)\n", s.data.batch.source.c_str(), s.data.batch.shape.n,
                s.data.batch.shape.h, s.data.batch.shape.w, a.run.counting.c_str(), s.backend->name().c_str());
  std::printf("\n");
  print_header(table, "Method", assisted ? "Scoring time" : "Queries");
  const std::string label = (assisted ? "AREA" : "REA") + std::string(" (B=") + std::to_string(o.budget) + ")";
  print_row(table, label, assisted ? seconds_cell(search::mean_std(score_times).mean) : std::to_string(o.budget),
            search::summarize(best));
  std::printf("\nAnswer: the queried architecture with the best %s %s accuracy. Wall %.2f s, %zu queries%s.\n",
              formats::to_string(dataset), oracle_word, wall, queries,
              assisted ? (", " + std::to_string(s.cache->size()) + " distinct architectures scored").c_str() : "");
}

void run_search(const SearchArgs& a) {
  const search::DatasetKind dataset = formats::parse_dataset_kind(a.dataset);
  NASWOT_EXPECT(a.algo == "naswot" || a.algo == "rea" || a.algo == "area", BadInput,
                "--algo " << a.algo << ": expected naswot, rea or area");
  NASWOT_EXPECT(a.runs >= 0, BadInput, "--runs " << a.runs << ": expected at least 1 run");
  const int runs = a.runs > 0 ? a.runs : default_runs(a.algo);
  const search::BenchTable table = search::load_bench_table(a.table);
  // The oracle (rea, area) and every printed column need the table to hold this dataset.
  table.require_accuracy(dataset, table.oracle_split());
  SearchArgs args = a;
  if (table.kind() != search::TableKind::Nb201 && search::is_darts_space(args.run.space) && args.run.nds_json.empty())
    args.run.nds_json = a.table;

  std::ofstream file;
  if (!a.output.empty()) {
    file.open(a.output, std::ios::out | std::ios::trunc);
    NASWOT_EXPECT(file.good(), Io, "--output " << a.output << ": cannot open for writing");
  }
  std::ostream* jsonl = a.output.empty() ? nullptr : &file;
  if (a.algo == "naswot")
    run_naswot(args, table, dataset, runs, jsonl);
  else
    run_evolution(args, table, dataset, runs, jsonl);
}

}  // namespace

void add_search_command(CLI::App& app) {
  auto args = std::make_shared<SearchArgs>();
  auto* cmd = app.add_subcommand(
      "search",
      "Search a benchmark space: NASWOT (Algorithm 1: best score of N random archs), REA or AREA, reported "
      "like Table 2 of the NASWOT paper (val/test accuracy of the chosen archs, mean+-std over runs). "
      "--seed also seeds the draws: run r uses its own stream of that seed");
  add_run_options(cmd, args->run);
  cmd->add_option("--algo", args->algo,
                  "naswot: score N random archs, keep the best score; rea: regularized evolution on the table's "
                  "validation accuracy; area: rea seeded with the top --population of --area-samples scored archs")
      ->capture_default_str();
  cmd->add_option("--samples", args->samples, "naswot: N, architectures drawn per run (with replacement)")
      ->capture_default_str();
  cmd->add_option("--runs", args->runs, "Runs R (default: naswot 10, rea 100, area 5; about a minute on 2 cores)");
  cmd->add_option("--dataset", args->dataset,
                  "cifar10 | cifar100 | imagenet16: the scoring data in the paper's sense (imagenet16: 16x16 "
                  "images, --norm) and, for rea/area, whose validation accuracy is the oracle (an NDS table: test, "
                  "cifar10 only)")
      ->capture_default_str();
  cmd->add_option("--budget", args->budget, "rea/area: oracle queries per run (one query = one table lookup)")
      ->capture_default_str();
  cmd->add_option("--population", args->population, "rea/area: population size P")->capture_default_str();
  cmd->add_option("--tournament", args->tournament, "rea/area: tournament size S (3, as the NAS-Bench-201 REA scripts)")
      ->capture_default_str();
  cmd->add_option("--area-samples", args->area_samples, "area: random archs scored to pick the initial population")
      ->capture_default_str();
  cmd->add_option("--table", args->table,
                  "Accuracy table CSV: NB201 (index, arch, {cifar10,cifar100,imagenet16}_{valid,test}) or, with "
                  "--space darts, a DARTS genotype table such as the NB301 CSV (normal, reduce, val_accuracy) or an "
                  "NDS JSON file (accuracy 100 - test_ep_top1[-1]), whose rows are then the searched architectures "
                  "(default: the embedded NB201 table)");
  cmd->add_option("--output", args->output, "Also write one JSON object per run to this file (JSON lines)");
  cmd->callback([args] { run_search(*args); });
}

}  // namespace naswot::cli
