// naswot eval: how well a scores file (from `naswot score --format csv|jsonl`) ranks architectures
// against a benchmark table's trained accuracies: Kendall tau-b and Spearman rho with the NASWOT
// paper's protocol (drop accuracy <= 15, drop NaN / 0 scores, subsample 1,000 with a seed), and
// top-k hit rates. The protocol and the definitions are in search/score_eval.h.
#include <cstdio>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "runtime/error.h"
#include "search/bench_table.h"
#include "search/score_eval.h"
#include "tools/formats/results_reader.h"
#include "tools/naswot/commands.h"

namespace naswot::cli {

namespace {

struct EvalArgs {
  std::string scores;
  std::string dataset;
  std::string table;
  std::string split = "test";
  size_t subsample = 1000;
  uint64_t seed = 1;
  double min_acc = 15.0;
  std::string top_k = "10,100";
};

std::vector<size_t> parse_top_k(const std::string& text) {
  std::vector<size_t> out;
  std::istringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    size_t used = 0;
    long long k = 0;
    try {
      k = std::stoll(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    NASWOT_EXPECT(used == item.size() && !item.empty() && k >= 1, BadInput,
                  "--top-k " << text << ": '" << item << "' is not a positive integer; expected e.g. 10,100");
    out.push_back(static_cast<size_t>(k));
  }
  NASWOT_EXPECT(!out.empty(), BadInput, "--top-k " << text << ": expected a comma-separated list such as 10,100");
  return out;
}

// Kendall tau of the paper (Fig. 3 panel titles, NB201 test accuracies) for the same dataset.
const char* paper_tau(search::DatasetKind d) {
  switch (d) {
    case search::DatasetKind::Cifar10:
      return "0.574";
    case search::DatasetKind::Cifar100:
      return "0.611";
    case search::DatasetKind::ImageNet16:
      return "0.549";
  }
  return "?";
}

void run_eval(const EvalArgs& a) {
  search::EvalOptions o;
  NASWOT_EXPECT(!a.dataset.empty(), BadInput, "--dataset: expected cifar10, cifar100 or imagenet16");
  o.dataset = formats::parse_dataset_kind(a.dataset);
  o.split = search::parse_split(a.split);
  o.subsample = a.subsample;
  o.seed = a.seed;
  o.min_acc = a.min_acc;
  o.top_k = parse_top_k(a.top_k);
  const search::BenchTable table = search::load_bench_table(a.table);
  const std::vector<formats::ReadScore> records = formats::read_score_file(a.scores);
  const search::EvalResult r = search::evaluate_scores(records, table, o, a.scores);

  std::printf("naswot eval: %s (%zu records) vs %s, %s %s accuracy\n", a.scores.c_str(), r.records,
              table.source().c_str(), formats::to_string(o.dataset), search::to_string(o.split));
  std::printf("dropped %zu with accuracy <= %g and %zu with a NaN or 0 score; %zu left", r.dropped_acc, o.min_acc,
              r.dropped_score, r.left);
  if (r.used.size() < r.left)
    std::printf(", random subsample of %zu (seed %llu)", r.used.size(), static_cast<unsigned long long>(o.seed));
  std::printf("\n\n");
  std::printf("n              %zu\n", r.used.size());
  std::printf("kendall tau-b  %.4f", r.tau);
  if (a.table.empty()) std::printf("   (paper, NB201 %s: %s)", formats::to_string(o.dataset), paper_tau(o.dataset));
  std::printf("\nspearman rho   %.4f\n", r.rho);
  for (const search::TopK& t : r.top_k) {
    std::printf(
        "top-%zu by score: %zu in the top-%zu by accuracy (hit rate %.2f); best accuracy %.2f (best of all "
        "%.2f)\n",
        t.k, t.hits, t.k, t.hit_rate, t.best_accuracy, r.max_accuracy);
  }
}

}  // namespace

void add_eval_command(CLI::App& app) {
  auto args = std::make_shared<EvalArgs>();
  auto* cmd = app.add_subcommand(
      "eval",
      "Rank correlation of scores with trained accuracy, as the NASWOT paper: join a scores file with the "
      "table by index (or arch), drop accuracy <= --min-acc and NaN/0 scores, subsample --subsample with "
      "--seed, print Kendall tau-b, Spearman rho, n and top-k hit rates. Top-k: the k best by score and the "
      "k best by accuracy (ties by file order); hit rate = |both| / k; best accuracy = the highest accuracy "
      "among the k best by score");
  cmd->add_option("--scores", args->scores, "Scores file written by `naswot score --format csv|jsonl`")->required();
  cmd->add_option("--dataset", args->dataset, "cifar10 | cifar100 | imagenet16: whose accuracy to rank against")
      ->required();
  cmd->add_option("--table", args->table, "Accuracy table CSV (default: the embedded NB201 table)");
  cmd->add_option("--split", args->split, "test | valid accuracy")->capture_default_str();
  cmd->add_option("--subsample", args->subsample, "Rank a random subset of this many (0: all)")->capture_default_str();
  cmd->add_option("--seed", args->seed, "Seed of the subsample")->capture_default_str();
  cmd->add_option("--min-acc", args->min_acc, "Drop architectures with accuracy <= this (percent)")
      ->capture_default_str();
  cmd->add_option("--top-k", args->top_k, "Comma-separated k values for the top-k hit rates")->capture_default_str();
  cmd->callback([args] { run_eval(*args); });
}

}  // namespace naswot::cli
