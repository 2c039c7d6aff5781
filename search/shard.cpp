// Shard parsing and ranges (shard.h).
#include "search/shard.h"

#include <cctype>
#include <cstdlib>

#include "runtime/error.h"

namespace naswot::search {

namespace {

constexpr size_t kMaxDigits = 12;  // n below 10^12: size * n stays far from int64 overflow

bool parse_count(const std::string& s, int64_t& out) {
  if (s.empty() || s.size() > kMaxDigits) return false;
  for (unsigned char ch : s)
    if (!std::isdigit(ch)) return false;
  out = std::stoll(s);
  return true;
}

// An environment variable as a non-negative integer; false when unset.
bool env_count(const char* name, int64_t& out) {
  const char* v = std::getenv(name);
  if (!v) return false;
  NASWOT_EXPECT(parse_count(v, out), BadInput,
                "environment variable " << name << "='" << v << "': expected a non-negative integer");
  return true;
}

}  // namespace

Shard parse_shard(const std::string& text, const std::string& what) {
  const size_t slash = text.find('/');
  Shard s;
  const bool ok = slash != std::string::npos && parse_count(text.substr(0, slash), s.index) &&
                  parse_count(text.substr(slash + 1), s.count);
  NASWOT_EXPECT(ok, BadInput,
                what << " '" << text << "': expected i/n with non-negative integers i < n, e.g. 3/1000");
  NASWOT_EXPECT(s.count >= 1, BadInput, what << " '" << text << "': the shard count n must be at least 1");
  NASWOT_EXPECT(s.index < s.count, BadInput,
                what << " '" << text << "': the shard index must be below the count (0.." << s.count - 1 << ")");
  return s;
}

std::string to_string(const Shard& s) { return std::to_string(s.index) + "/" + std::to_string(s.count); }

Range shard_range(const Range& r, const Shard& s) {
  NASWOT_EXPECT(s.count >= 1 && s.index >= 0 && s.index < s.count && r.end >= r.begin, Internal,
                "shard_range: shard " << to_string(s) << " of [" << r.begin << ", " << r.end << ")");
  const int64_t n = r.size();
  return {r.begin + n * s.index / s.count, r.begin + n * (s.index + 1) / s.count};
}

bool shard_from_slurm_array(Shard& out) {
  int64_t id = 0, min = 0, count = 0, step = 1;
  if (!env_count("SLURM_ARRAY_TASK_ID", id)) return false;
  NASWOT_EXPECT(env_count("SLURM_ARRAY_TASK_MIN", min) && env_count("SLURM_ARRAY_TASK_COUNT", count), BadInput,
                "SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_MIN or SLURM_ARRAY_TASK_COUNT is not; "
                "pass --shard i/n");
  if (env_count("SLURM_ARRAY_TASK_STEP", step))
    NASWOT_EXPECT(step == 1, BadInput,
                  "SLURM_ARRAY_TASK_STEP=" << step << ": the shard is (ID - MIN) / COUNT, which needs a job array "
                                           << "without a step (--array=0-N); pass --shard i/n instead");
  NASWOT_EXPECT(count >= 1 && id >= min && id - min < count, BadInput,
                "Slurm job array task " << id << " (min " << min << ", count " << count
                                        << ") does not give a shard (ID - MIN) / COUNT with 0 <= ID - MIN < COUNT; "
                                        << "use a contiguous --array=0-N or pass --shard i/n");
  out = {id - min, count};
  return true;
}

}  // namespace naswot::search
