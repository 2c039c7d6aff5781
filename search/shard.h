// Shards: "i/n" names the i-th of n contiguous, balanced slices of an ordered list of work items
// (the architectures of a space, or its isomorphism classes with --unique). Slice i of a list of
// `size` items is [floor(size*i/n), floor(size*(i+1)/n)): the n slices partition the list, each
// holds floor(size/n) or ceil(size/n) items, and a slice can itself be split the same way (the K
// MPI ranks of one --shard split that shard's range).
#pragma once
#include <cstdint>
#include <string>

namespace naswot::search {

struct Shard {
  int64_t index = 0;  // i, 0 <= i < count
  int64_t count = 1;  // n >= 1
  bool operator==(const Shard&) const = default;
};

// Half-open range [begin, end) of positions in the work list.
struct Range {
  int64_t begin = 0;
  int64_t end = 0;
  int64_t size() const { return end - begin; }
  bool contains(int64_t p) const { return p >= begin && p < end; }
  bool operator==(const Range&) const = default;
};

// "i/n" with decimal digits only, 0 <= i < n, n >= 1 (and n below 10^12). BadInput naming
// `what` (e.g. "--shard") and the text, saying what was expected, otherwise.
Shard parse_shard(const std::string& text, const std::string& what = "--shard");
std::string to_string(const Shard& shard);  // "i/n"

// Slice `shard` of `range`.
Range shard_range(const Range& range, const Shard& shard);

// The shard of a Slurm job array task, from SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_MIN and
// SLURM_ARRAY_TASK_COUNT: (ID - MIN) / COUNT. False when SLURM_ARRAY_TASK_ID is unset. BadInput
// when the variables are malformed or the array has a step other than 1 (SLURM_ARRAY_TASK_STEP),
// since (ID - MIN) would then skip shards.
bool shard_from_slurm_array(Shard& out);

}  // namespace naswot::search
