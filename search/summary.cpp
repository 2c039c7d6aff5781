// Mean +- std summaries (summary.h).
#include "search/summary.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "runtime/error.h"

namespace naswot::search {

MeanStd mean_std(const std::vector<double>& values) {
  MeanStd m;
  double sum = 0;
  for (double v : values) {
    if (std::isnan(v)) continue;
    sum += v;
    ++m.n;
  }
  if (m.n == 0) {
    m.mean = m.std = std::numeric_limits<double>::quiet_NaN();
    return m;
  }
  m.mean = sum / static_cast<double>(m.n);
  double squares = 0;  // two passes: no cancellation for accuracies near 90 with a small spread
  for (double v : values)
    if (!std::isnan(v)) squares += (v - m.mean) * (v - m.mean);
  m.std = std::sqrt(squares / static_cast<double>(m.n));
  return m;
}

Accuracies accuracies_of(const BenchRow& row) {
  Accuracies a{};
  for (DatasetKind d : kBenchDatasets)
    for (Split s : {Split::Valid, Split::Test}) a[static_cast<size_t>(d)][static_cast<size_t>(s)] = row.accuracy(d, s);
  return a;
}

Accuracies column_max(const std::vector<const BenchRow*>& rows) {
  NASWOT_EXPECT(!rows.empty(), Internal, "column_max of no rows");
  Accuracies best = accuracies_of(*rows.front());
  for (const BenchRow* r : rows) {
    const Accuracies a = accuracies_of(*r);
    for (size_t d = 0; d < best.size(); ++d)
      for (size_t s = 0; s < 2; ++s) best[d][s] = std::max(best[d][s], a[d][s]);
  }
  return best;
}

AccuracySummary summarize(const std::vector<Accuracies>& runs) {
  AccuracySummary out{};
  for (size_t d = 0; d < out.size(); ++d)
    for (size_t s = 0; s < 2; ++s) {
      std::vector<double> values;
      values.reserve(runs.size());
      for (const Accuracies& a : runs) values.push_back(a[d][s]);
      out[d][s] = mean_std(values);
    }
  return out;
}

}  // namespace naswot::search
