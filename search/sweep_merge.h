// Joining sweep files (`naswot merge`, and rank 0 of an MPI sweep): the shard files of one sweep
// become one file that covers the expected items exactly once.
//
// Checks, each failure a BadInput naming the file and line:
//  * every input is a readable sweep file whose header agrees with the first input's in every
//    field that decides a score (formats::header_differences without shard/part);
//  * every record is an item of the space (its class representative with --unique, listing
//    exactly the class members) inside the expected range, and no file ends in a cut-short line;
//  * nothing is missing and nothing doubled: the message lists the first few missing indices
//    (every member index of a missing class with --unique) and duplicated ones with both places,
//    and how many there are.
// Expected range: when all inputs carry the same `shard` (the MPI rank parts of one shard, or a
// single file) that shard; otherwise (the shards of a job array) the whole work list.
// The output is written to OUTPUT.tmp and renamed, so a failed merge leaves no partial output;
// records are copied verbatim, files in the order of their first index (shards given in any
// order come out in index order).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace naswot::search {

struct MergeSummary {
  int64_t files = 0;
  int64_t records = 0;
  int64_t indices = 0;  // architectures covered (members included with --unique)
  std::string shard;    // the expected range, as a shard of the work list
};

MergeSummary merge_sweep_files(const std::vector<std::string>& inputs, const std::string& output);

}  // namespace naswot::search
