// Summaries of search runs as the NASWOT paper's Table 2 prints them: mean +- std over runs of the
// chosen architectures' accuracies. std is the population standard deviation (ddof = 0, numpy's
// np.std default, which the original search.py uses).
#pragma once
#include <array>
#include <vector>

#include "search/bench_table.h"

namespace naswot::search {

struct MeanStd {
  double mean = 0;
  double std = 0;
  size_t n = 0;
};

// NaN values are skipped (n counts the rest); mean and std are NaN when nothing is left.
MeanStd mean_std(const std::vector<double>& values);

// The six accuracy columns, indexed [DatasetKind][Split] (Split::Valid = 0, Split::Test = 1).
using Accuracies = std::array<std::array<double, 2>, 3>;
Accuracies accuracies_of(const BenchRow& row);
// The largest value of each column over `rows`, each column on its own (the "optimal in sample"
// baseline: per column, as the paper's row is). `rows` must not be empty.
Accuracies column_max(const std::vector<const BenchRow*>& rows);

// Mean +- std of each column over runs.
using AccuracySummary = std::array<std::array<MeanStd, 2>, 3>;
AccuracySummary summarize(const std::vector<Accuracies>& runs);

}  // namespace naswot::search
