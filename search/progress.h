// Progress of a long run on standard error: items done of total, rate and ETA. On a terminal
// (isatty) one bar redrawn in place (at most 4 times a second); otherwise (logs, Slurm output
// files) one plain line every `interval_seconds`. The rate counts only the items of this run,
// not those a resume found already done. finish() prints the final line with the peak RSS.
#pragma once
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace naswot::search {

// Peak resident set size of this process (getrusage ru_maxrss), in bytes.
int64_t peak_rss_bytes();
// Current resident set size (/proc/self/statm), in bytes; 0 where unavailable.
int64_t current_rss_bytes();
// "42s", "3m07s", "2h05m".
std::string format_duration(double seconds);

struct ProgressOptions {
  std::string label = "sweep";    // line prefix, e.g. "sweep" or "sweep rank 1/4"
  bool tty = false;               // redraw a bar in place
  double interval_seconds = 30;   // plain mode: seconds between lines
};

class Progress {
 public:
  Progress(std::FILE* out, ProgressOptions options);
  // total: items of the run; done: already done before it starts (resume).
  void start(int64_t total, int64_t done);
  void advance(int64_t items);  // `items` more done
  // The last line: done/total, time, rate, peak RSS; `note` (e.g. "interrupted") if not empty.
  void finish(const std::string& note = {});
  int64_t done() const { return m_done; }
  int64_t total() const { return m_total; }

 private:
  using Clock = std::chrono::steady_clock;
  void print(bool final_line, const std::string& note);
  std::string status_text() const;
  std::FILE* m_out;
  ProgressOptions m_options;
  int64_t m_total = 0;
  int64_t m_done = 0;
  int64_t m_done_at_start = 0;
  Clock::time_point m_start;
  Clock::time_point m_last_print;
};

}  // namespace naswot::search
