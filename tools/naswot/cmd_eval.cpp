// naswot eval: how well a scores file (from `naswot score --format csv|jsonl` or `naswot sweep`)
// ranks architectures against a benchmark table's trained accuracies, or against any numeric column
// of the table (--against: e.g. another implementation's `nwot` score in the NB301 table): Kendall
// tau-b and Spearman rho with the NASWOT paper's protocol (drop accuracy <= 15, drop NaN / 0 scores,
// subsample 1,000 with a seed), and top-k hit rates. The protocol and the definitions are in
// search/score_eval.h; the table formats (NB201, DARTS genotype tables) in search/bench_table.h.
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
  std::string split;                 // empty: the table's (NB201 test, DARTS valid)
  std::vector<std::string> against;  // empty: the accuracy
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

void print_result(const search::EvalResult& r, const search::EvalOptions& o, const std::string& target, bool paper) {
  std::printf("\n%s\n", target.c_str());
  std::printf("dropped %zu with accuracy <= %g%s%zu with a NaN or 0 score", r.dropped_acc, o.min_acc,
              o.against.empty() ? " and " : ", ", r.dropped_score);
  if (!o.against.empty()) std::printf(" and %zu with no %s value", r.dropped_target, o.against.c_str());
  std::printf("; %zu left", r.left);
  if (r.used.size() < r.left)
    std::printf(", random subsample of %zu (seed %llu)", r.used.size(), static_cast<unsigned long long>(o.seed));
  std::printf("\n");
  std::printf("n              %zu\n", r.used.size());
  std::printf("kendall tau-b  %.4f", r.tau);
  if (paper) std::printf("   (paper, NB201 %s: %s)", formats::to_string(o.dataset), paper_tau(o.dataset));
  std::printf("\nspearman rho   %.4f\n", r.rho);
  const std::string what = o.against.empty() ? "accuracy" : o.against;
  for (const search::TopK& t : r.top_k) {
    std::printf("top-%zu by score: %zu in the top-%zu by %s (hit rate %.2f); best %s %.4g (best of all %.4g)\n", t.k,
                t.hits, t.k, what.c_str(), t.hit_rate, what.c_str(), t.best_target, r.max_target);
  }
}

void run_eval(const EvalArgs& a) {
  const search::BenchTable table = search::load_bench_table(a.table);
  const bool darts = table.kind() != search::TableKind::Nb201;  // DARTS genotype table or NDS file
  search::EvalOptions o;
  // DARTS and NDS tables hold CIFAR-10 accuracy only, so --dataset may be left out there.
  NASWOT_EXPECT(darts || !a.dataset.empty(), BadInput,
                "--dataset: expected cifar10, cifar100 or imagenet16 (whose accuracy in " << table.source()
                                                                                          << " to rank against)");
  o.dataset = a.dataset.empty() ? search::DatasetKind::Cifar10 : formats::parse_dataset_kind(a.dataset);
  o.split = a.split.empty() ? table.default_split() : search::parse_split(a.split);
  table.require_accuracy(o.dataset, o.split);
  o.subsample = a.subsample;
  o.seed = a.seed;
  o.min_acc = a.min_acc;
  o.top_k = parse_top_k(a.top_k);
  for (const std::string& column : a.against) table.column(column);  // every name checked before any work
  const std::vector<formats::ReadScore> records = formats::read_score_file(a.scores);

  const std::string accuracy = std::string(formats::to_string(o.dataset)) + " " + search::to_string(o.split) +
                               " accuracy" + (darts ? " (" + table.accuracy_origin() + ")" : "");
  std::printf("naswot eval: %s (%zu records) vs %s\n", a.scores.c_str(), records.size(), table.source().c_str());
  std::vector<std::string> targets = a.against;
  if (targets.empty()) targets.emplace_back();
  for (const std::string& column : targets) {
    o.against = column;
    const search::EvalResult r = search::evaluate_scores(records, table, o, a.scores);
    print_result(r, o, column.empty() ? "against " + accuracy : "against column " + column,
                 a.table.empty() && column.empty());
  }
}

}  // namespace

void add_eval_command(CLI::App& app) {
  auto args = std::make_shared<EvalArgs>();
  auto* cmd = app.add_subcommand(
      "eval",
      "Rank correlation of scores with trained accuracy (or with any numeric column of the table, --against), as "
      "the NASWOT paper: join a scores file with the table by index (or arch; by genotype for a DARTS table), drop "
      "accuracy <= --min-acc and NaN/0 scores, subsample --subsample with --seed, print Kendall tau-b, Spearman "
      "rho, n and top-k hit rates. Top-k: the k best by score and the k best by accuracy (or the column; ties by "
      "file order); hit rate = |both| / k; best accuracy = the highest accuracy among the k best by score");
  cmd->add_option("--scores", args->scores,
                  "Scores file written by `naswot score --format csv|jsonl` or `naswot sweep`")
      ->required();
  cmd->add_option("--dataset", args->dataset,
                  "cifar10 | cifar100 | imagenet16: whose accuracy to rank against (required for NB201 tables; "
                  "DARTS and NDS tables hold cifar10 only)");
  cmd->add_option("--table", args->table,
                  "Accuracy table: an NB201 CSV (index, arch, {cifar10,cifar100,imagenet16}_{valid,test}), a DARTS "
                  "genotype table such as the NB301 CSV (normal, reduce, val_accuracy, proxies) or an NDS JSON file "
                  "(CIFAR-10 test accuracy 100 - test_ep_top1[-1]; columns test_accuracy, width, depth, params, "
                  "flops, iter_time); default: the embedded NB201 table");
  cmd->add_option("--split", args->split,
                  "test | valid accuracy (default: test for NB201 and NDS, valid for DARTS genotype tables)");
  cmd->add_option("--against", args->against,
                  "Rank against these numeric columns of the table instead of the accuracy (comma-separated, e.g. "
                  "val_accuracy,nwot); --min-acc still applies to the accuracy")
      ->delimiter(',');
  cmd->add_option("--subsample", args->subsample, "Rank a random subset of this many (0: all)")->capture_default_str();
  cmd->add_option("--seed", args->seed, "Seed of the subsample")->capture_default_str();
  cmd->add_option("--min-acc", args->min_acc, "Drop architectures with accuracy <= this (percent)")
      ->capture_default_str();
  cmd->add_option("--top-k", args->top_k, "Comma-separated k values for the top-k hit rates")->capture_default_str();
  cmd->callback([args] { run_eval(*args); });
}

}  // namespace naswot::cli
