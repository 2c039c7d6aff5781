// The sweep driver (sweep.h).
#include "search/sweep.h"

#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <vector>

#include "runtime/error.h"
#include "search/score_cache.h"

namespace naswot::search {

namespace {

namespace fs = std::filesystem;

// Which items of the range an existing file already holds.
struct ResumeState {
  std::vector<bool> done;  // one bit per item of the range
  int64_t count = 0;
  bool cut_tail = false;
};

ResumeState scan_existing(const std::string& path, const SweepItems& items, const SweepConfig& config) {
  ResumeState st;
  st.done.assign(static_cast<size_t>(config.range.size()), false);
  uint64_t keep = 0;
  {
    formats::SweepReader reader(path);
    const std::vector<std::string> diff =
        formats::header_differences(reader.header(), path, config.header, "this run", /*placement=*/true);
    if (!diff.empty()) {
      std::string msg = path + ":1: --resume: the file was made with different settings (";
      for (size_t i = 0; i < diff.size(); ++i) msg += (i ? "; " : "") + diff[i];
      throw_error(ErrorKind::BadInput,
                  msg + "); rerun with the file's settings, or choose another --output to start a new sweep");
    }
    formats::SweepRecord record;
    while (reader.next(record)) {
      const std::string where = path + ":" + std::to_string(reader.line()) + ": ";
      const int64_t position = items.record_position(record, where);
      NASWOT_EXPECT(config.range.contains(position), BadInput,
                    where << "index " << record.score.index << " is outside this run's range of the work list (items "
                          << config.range.begin << ".." << config.range.end - 1 << ")");
      const size_t slot = static_cast<size_t>(position - config.range.begin);
      NASWOT_EXPECT(!st.done[slot], BadInput,
                    where << "index " << record.score.index << " appears a second time; the file is damaged, "
                          << "repair it (naswot merge reports every duplicate) or start over");
      st.done[slot] = true;
      ++st.count;
    }
    st.cut_tail = reader.truncated_tail();
    keep = reader.complete_bytes();
  }
  if (st.cut_tail) {
    std::error_code ec;
    fs::resize_file(path, keep, ec);
    NASWOT_EXPECT(!ec, Io, path << ": cannot cut off the cut-short last line: " << ec.message());
  }
  return st;
}

std::unique_ptr<formats::SweepWriter> open_output(const SweepConfig& config, const SweepItems& items,
                                                  ResumeState& st, SweepOutcome& out) {
  std::error_code ec;
  const bool exists = fs::exists(config.output, ec);
  NASWOT_EXPECT(!ec, Io, "--output " << config.output << ": " << ec.message());
  NASWOT_EXPECT(!exists || config.resume, BadInput,
                "--output " << config.output << " exists; pass --resume to continue it, or remove it to start over");
  st.done.assign(static_cast<size_t>(config.range.size()), false);
  if (exists) {
    NASWOT_EXPECT(fs::is_regular_file(config.output), Io, "--output " << config.output << " is not a regular file");
    if (formats::sweep_file_has_header(config.output)) {
      st = scan_existing(config.output, items, config);
      out.cut_tail = st.cut_tail;
      return formats::SweepWriter::append(config.output);
    }
    out.restarted = true;  // empty, or killed while writing its header: nothing to keep
  }
  return formats::SweepWriter::create(config.output, config.header);
}

}  // namespace

SweepOutcome run_sweep(const Space& space, const SweepItems& items, Scorer& scorer, rt::ParamInitCache& init,
                       const SweepConfig& config, Progress* progress, const std::atomic<bool>* stop) {
  NASWOT_EXPECT(config.range.begin >= 0 && config.range.end <= items.size() && config.range.begin <= config.range.end,
                Internal, "sweep range [" << config.range.begin << ", " << config.range.end << ") of " << items.size());
  NASWOT_EXPECT(config.group >= 1, BadInput, "--group " << config.group << ": expected at least 1");
  SweepOutcome out;
  out.total = config.range.size();
  ResumeState st;
  const auto writer = open_output(config, items, st, out);
  out.resumed = st.count;
  if (progress) progress->start(out.total, out.resumed);
  if (out.resumed < out.total) scorer.reserve(space.worst_case());

  using Clock = std::chrono::steady_clock;
  auto last_sync = Clock::now();
  NetworkArchScorer archs(space, scorer, init);  // build, shared weights, score the group
  // The next group (positions not yet done, with their networks and weights). With groups of more
  // than one (the GPU), the next group is built on a second thread while this one is scored.
  struct Group {
    std::vector<int64_t> positions;
    std::vector<ArchEntry> entries;
    NetworkArchScorer::Prepared prepared;
  };
  int64_t next = config.range.begin;
  auto take = [&] {  // main thread only: reads the resume state and advances `next`
    Group g;
    for (; next < config.range.end && g.positions.size() < config.group; ++next)
      if (!st.done[static_cast<size_t>(next - config.range.begin)]) g.positions.push_back(next);
    for (int64_t p : g.positions) g.entries.push_back(space.from_index(items.index(p)));
    return g;
  };
  auto build = [&archs](Group g) {
    g.prepared = archs.prepare(g.entries);
    return g;
  };
  const bool overlap = config.group > 1;
  Group current = build(take());
  while (!current.positions.empty()) {
    if (stop && stop->load()) {
      out.interrupted = out.resumed + out.scored < out.total;
      break;
    }
    Group upcoming = take();
    std::future<Group> built;
    if (overlap && !upcoming.positions.empty()) built = std::async(std::launch::async, build, std::move(upcoming));
    const std::vector<Score> scores = archs.score(current.prepared);
    for (size_t i = 0; i < scores.size(); ++i) {
      const Score& s = scores[i];
      formats::SweepRecord r;
      r.score = {current.entries[i].index, current.entries[i].arch, s.value, s.status, s.n_units, s.seconds};
      r.members = items.members(current.positions[i]);
      writer->write(r);
    }
    const auto now = Clock::now();
    if (std::chrono::duration<double>(now - last_sync).count() >= config.fsync_seconds) {
      writer->sync();
      last_sync = now;
    } else {
      writer->flush();
    }
    out.scored += static_cast<int64_t>(current.positions.size());
    if (progress) progress->advance(static_cast<int64_t>(current.positions.size()));
    current = built.valid() ? built.get() : (upcoming.positions.empty() ? Group{} : build(std::move(upcoming)));
  }
  writer->close();
  return out;
}

}  // namespace naswot::search
