// Merging sweep files (sweep_merge.h).
#include "search/sweep_merge.h"

#include <algorithm>
#include <filesystem>
#include <numeric>

#include "cells/nb201_unique.h"
#include "runtime/error.h"
#include "search/shard.h"
#include "search/space.h"
#include "search/sweep_items.h"
#include "tools/formats/sweep_file.h"

namespace naswot::search {

namespace {

namespace fs = std::filesystem;

constexpr size_t kListed = 5;  // indices named in a message before "and N more"

std::string list_some(const std::vector<std::string>& items, int64_t total) {
  std::string s;
  for (size_t i = 0; i < items.size(); ++i) s += (i ? ", " : "") + items[i];
  if (total > static_cast<int64_t>(items.size()))
    s += " and " + std::to_string(total - static_cast<int64_t>(items.size())) + " more";
  return s;
}

bool same_file(const std::string& a, const std::string& b) {
  std::error_code ec;
  return fs::exists(a, ec) && fs::exists(b, ec) && fs::equivalent(a, b, ec);
}

// Indices as runs "a..b", the first kListed of them kept.
class RunList {
 public:
  void add(int64_t index) {
    ++m_count;
    if (!m_runs.empty() && m_runs.back().second + 1 == index) {
      m_runs.back().second = index;
      return;
    }
    if (m_runs.size() < kListed) m_runs.push_back({index, index});
    else m_truncated = true;
  }
  int64_t count() const { return m_count; }
  std::string text() const {
    std::string s;
    for (size_t i = 0; i < m_runs.size(); ++i) {
      s += i ? ", " : "";
      s += std::to_string(m_runs[i].first);
      if (m_runs[i].second != m_runs[i].first) s += ".." + std::to_string(m_runs[i].second);
    }
    return m_truncated ? s + ", ..." : s;
  }

 private:
  std::vector<std::pair<int64_t, int64_t>> m_runs;
  int64_t m_count = 0;
  bool m_truncated = false;
};

struct Place {
  int32_t file = -1;
  int64_t line = 0;
};

}  // namespace

MergeSummary merge_sweep_files(const std::vector<std::string>& inputs, const std::string& output) {
  NASWOT_EXPECT(!inputs.empty(), BadInput, "merge: no input files");
  for (size_t i = 0; i < inputs.size(); ++i) {
    NASWOT_EXPECT(!same_file(inputs[i], output), BadInput,
                  "merge: the output " << output << " is also an input; write the merged file elsewhere");
    for (size_t j = 0; j < i; ++j)
      NASWOT_EXPECT(!same_file(inputs[i], inputs[j]), BadInput,
                    "merge: " << inputs[i] << " is given twice (inputs " << j + 1 << " and " << i + 1 << ")");
  }

  // Headers first: one incompatible file fails before any record is read.
  std::vector<formats::SweepHeader> headers;
  for (const std::string& in : inputs) {
    formats::SweepReader reader(in);
    headers.push_back(reader.header());
    const std::vector<std::string> diff =
        formats::header_differences(headers.front(), inputs.front(), headers.back(), in, /*placement=*/false);
    if (!diff.empty()) {
      std::string msg = in + ":1: merge: header incompatible with " + inputs.front() + " (";
      for (size_t i = 0; i < diff.size(); ++i) msg += (i ? "; " : "") + diff[i];
      throw_error(ErrorKind::BadInput, msg + "): these files come from different sweeps");
    }
  }
  const formats::SweepHeader& first = headers.front();
  // The work list needs only the space's size, except for --unique (the classes of the space).
  auto items_of = [&] {
    if (!first.unique) return SweepItems::of_size(first.space_size);
    const auto space = make_space(first.space, {first.image_size});
    NASWOT_EXPECT(space->size() == first.space_size, BadInput,
                  inputs.front() << ":1: space_size " << first.space_size << " but " << first.space << " has "
                                 << space->size() << " architectures in this naswot");
    return SweepItems::unique(*space, cells::parse_nb201_equivalence(first.unique_by));
  };
  const SweepItems items = items_of();
  const bool one_shard = std::all_of(headers.begin(), headers.end(),
                                     [&](const formats::SweepHeader& h) { return h.shard == first.shard; });
  const Shard shard = one_shard ? parse_shard(first.shard, inputs.front() + ":1: shard") : Shard{};
  const Range range = shard_range({0, items.size()}, shard);

  // Pass 1: where each item was first seen; duplicates and strays.
  std::vector<Place> seen(static_cast<size_t>(range.size()));
  std::vector<int64_t> first_index(inputs.size(), -1);
  std::vector<std::string> duplicates;
  int64_t duplicate_count = 0;
  MergeSummary summary;
  for (size_t f = 0; f < inputs.size(); ++f) {
    formats::SweepReader reader(inputs[f]);
    formats::SweepRecord record;
    while (reader.next(record)) {
      const std::string where = inputs[f] + ":" + std::to_string(reader.line()) + ": ";
      const int64_t position = items.record_position(record, where);
      NASWOT_EXPECT(range.contains(position), BadInput,
                    where << "index " << record.score.index << " is outside shard " << to_string(shard)
                          << " (work items " << range.begin << ".." << range.end - 1 << ") that these files cover");
      if (first_index[f] < 0) first_index[f] = record.score.index;
      Place& place = seen[static_cast<size_t>(position - range.begin)];
      if (place.file >= 0) {
        if (duplicates.size() < kListed)
          duplicates.push_back(std::to_string(record.score.index) + " (" + inputs[static_cast<size_t>(place.file)] +
                               ":" + std::to_string(place.line) + " and " + inputs[f] + ":" +
                               std::to_string(reader.line()) + ")");
        ++duplicate_count;
        continue;
      }
      place = {static_cast<int32_t>(f), reader.line()};
      ++summary.records;
    }
    NASWOT_EXPECT(!reader.truncated_tail(), BadInput,
                  inputs[f] << ":" << reader.line() << ": the last line is cut short (the sweep was killed while "
                            << "writing); finish that sweep with --resume, which cuts it off, then merge");
  }

  RunList missing;
  for (int64_t p = range.begin; p < range.end; ++p) {
    if (seen[static_cast<size_t>(p - range.begin)].file >= 0) continue;
    if (!items.is_unique()) missing.add(items.index(p));
    for (int64_t m : items.members(p)) missing.add(m);
  }
  const int64_t missing_count = missing.count();
  if (missing_count > 0 || duplicate_count > 0) {
    std::string msg = "merge: the inputs do not cover shard " + to_string(shard) + " of " + first.space +
                      (first.unique ? " (unique classes)" : "") + " exactly once:";
    if (missing_count > 0)
      msg += " " + std::to_string(missing_count) + " indices missing: " + missing.text() + ";";
    if (duplicate_count > 0)
      msg += " " + std::to_string(duplicate_count) + " records duplicated: " + list_some(duplicates, duplicate_count) +
             ";";
    msg.pop_back();
    throw_error(ErrorKind::BadInput, msg);
  }
  for (int64_t p = range.begin; p < range.end; ++p)
    summary.indices += items.is_unique() ? static_cast<int64_t>(items.members(p).size()) : 1;

  // Pass 2: copy the records, files in the order of their first index.
  formats::SweepHeader header = first;
  header.shard = to_string(shard);
  header.part = "0/1";
  for (const formats::SweepHeader& h : headers)
    if (h.backend != first.backend) header.backend = "mixed";
  std::vector<size_t> order(inputs.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return first_index[a] < first_index[b]; });
  const std::string tmp = output + ".tmp";
  {
    const auto writer = formats::SweepWriter::create(tmp, header);
    std::string text;
    formats::SweepRecord record;
    for (size_t f : order) {
      formats::SweepReader reader(inputs[f]);
      while (reader.next(record, &text)) writer->write_line(text);
    }
    writer->close();
  }
  std::error_code ec;
  fs::rename(tmp, output, ec);
  NASWOT_EXPECT(!ec, Io, "merge: cannot rename " << tmp << " to " << output << ": " << ec.message());
  summary.files = static_cast<int64_t>(inputs.size());
  summary.shard = to_string(shard);
  return summary;
}

}  // namespace naswot::search
