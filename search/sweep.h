// The sweep driver: scores a range of a sweep's work list (search/sweep_items.h) into a sweep
// file (tools/formats/sweep_file.h), one record per item, and resumes an interrupted file.
//
// Durability. Records are buffered and written per group (one architecture on the CPU, --group
// on the GPU): after each group the stdio buffer is flushed (fflush), so a killed process (SIGINT,
// SIGTERM, SIGKILL, a Slurm time limit, the OOM killer) loses at most the group in flight. fsync,
// which also protects against a node crash or power loss, costs a round trip to the disk or the
// network file system (milliseconds locally, up to ~100 ms on NFS/Lustre), which at GPU rates of
// several groups a second would dominate, so it runs only every `fsync_seconds` (default 30 s:
// a crash loses at most that much work) and when the sweep ends.
//
// Resume. The existing file's header must match this run's in every field that decides a score
// and in the shard and part (formats::header_differences); each record must be an item of the
// range, scored through its representative, and appear once. A last line without '\n' (a write
// cut short by a kill) is cut off and its item scored again. Then the items not yet in the file
// are scored in order and appended. A file that is empty or whose header line was cut short holds
// nothing and is started again.
//
// Memory. Only the current group's graphs and parameters are held (and, with groups of more than
// one, the next group's, built on a second thread while the backend scores this one), plus one
// bit per item of the range for the resume bookkeeping; records are written, never kept.
#pragma once
#include <atomic>
#include <cstdint>
#include <string>

#include "runtime/params.h"
#include "search/progress.h"
#include "search/scorer.h"
#include "search/shard.h"
#include "search/space.h"
#include "search/sweep_items.h"
#include "tools/formats/sweep_file.h"

namespace naswot::search {

struct SweepConfig {
  std::string output;            // the sweep file
  bool resume = false;           // continue `output` if it exists (else it must not exist)
  Range range;                   // positions of the work list to score
  size_t group = 1;              // architectures per backend call
  double fsync_seconds = 30;     // see the durability note above; 0: after every group
  formats::SweepHeader header;   // this run's settings
};

struct SweepOutcome {
  int64_t total = 0;       // items in the range
  int64_t resumed = 0;     // already in the file when the run started
  int64_t scored = 0;      // scored by this run
  bool interrupted = false;
  bool cut_tail = false;   // a truncated last line was cut off
  bool restarted = false;  // --resume found an empty or header-less file and started over
  bool complete() const { return resumed + scored == total; }
};

// Scores config.range of `items` into config.output. `stop` (set from a signal handler) is checked
// between groups: the current group is finished, written and flushed, then the run returns with
// interrupted = true. `progress` may be null. Errors: BadInput for an existing file without
// --resume, a header mismatch or a bad record (naming file:line); Io for file trouble.
SweepOutcome run_sweep(const Space& space, const SweepItems& items, Scorer& scorer, rt::ParamInitCache& init,
                       const SweepConfig& config, Progress* progress, const std::atomic<bool>* stop);

}  // namespace naswot::search
