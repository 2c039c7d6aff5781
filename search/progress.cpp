// Progress lines and bar (progress.h).
#include "search/progress.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>

namespace naswot::search {

namespace {

constexpr double kTtyRedrawSeconds = 0.25;
constexpr int kBarWidth = 30;

double mib(int64_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }

}  // namespace

int64_t peak_rss_bytes() {
  rusage usage{};
  if (getrusage(RUSAGE_SELF, &usage) != 0) return 0;
  return static_cast<int64_t>(usage.ru_maxrss) * 1024;  // Linux: kilobytes
}

int64_t current_rss_bytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0;
  long long size = 0, resident = 0;
  const int got = std::fscanf(f, "%lld %lld", &size, &resident);
  std::fclose(f);
  return got == 2 ? resident * static_cast<int64_t>(sysconf(_SC_PAGESIZE)) : 0;
}

std::string format_duration(double seconds) {
  const int64_t s = static_cast<int64_t>(std::max(0.0, seconds) + 0.5);
  char buf[48];
  if (s < 60)
    std::snprintf(buf, sizeof buf, "%" PRId64 "s", s);
  else if (s < 3600)
    std::snprintf(buf, sizeof buf, "%" PRId64 "m%02" PRId64 "s", s / 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%" PRId64 "h%02" PRId64 "m", s / 3600, s % 3600 / 60);
  return buf;
}

Progress::Progress(std::FILE* out, ProgressOptions options) : m_out(out), m_options(std::move(options)) {}

void Progress::start(int64_t total, int64_t done) {
  m_total = total;
  m_done = m_done_at_start = done;
  m_start = m_last_print = Clock::now();
  if (!m_options.tty) {
    std::fprintf(m_out, "%s: %" PRId64 " architectures to score of %" PRId64 "%s, RSS %.0f MiB\n",
                 m_options.label.c_str(), total - done, total,
                 done > 0 ? (" (" + std::to_string(done) + " already in the file)").c_str() : "",
                 mib(current_rss_bytes()));
    std::fflush(m_out);
  } else {
    print(false, {});
  }
}

void Progress::advance(int64_t items) {
  m_done += items;
  const double since = std::chrono::duration<double>(Clock::now() - m_last_print).count();
  if (since >= (m_options.tty ? kTtyRedrawSeconds : m_options.interval_seconds)) print(false, {});
}

void Progress::finish(const std::string& note) { print(true, note); }

std::string Progress::status_text() const {
  const double elapsed = std::chrono::duration<double>(Clock::now() - m_start).count();
  const int64_t scored = m_done - m_done_at_start;
  const double rate = elapsed > 0 ? static_cast<double>(scored) / elapsed : 0.0;
  const double pct = m_total > 0 ? 100.0 * static_cast<double>(m_done) / static_cast<double>(m_total) : 100.0;
  char buf[160];
  std::snprintf(buf, sizeof buf, "%" PRId64 "/%" PRId64 " (%.1f%%) %.2f archs/s", m_done, m_total, pct, rate);
  std::string out = buf;
  if (rate > 0 && m_done < m_total)
    out += ", ETA " + format_duration(static_cast<double>(m_total - m_done) / rate);
  return out;
}

void Progress::print(bool final_line, const std::string& note) {
  m_last_print = Clock::now();
  if (final_line) {
    const double elapsed = std::chrono::duration<double>(m_last_print - m_start).count();
    if (m_options.tty) std::fputs("\r\033[K", m_out);
    std::fprintf(m_out,
                 "%s: %s%s%" PRId64 "/%" PRId64 " in %s (%" PRId64
                 " scored, %.2f archs/s), RSS %.0f MiB, peak RSS %.0f MiB\n",
                 m_options.label.c_str(), note.c_str(), note.empty() ? "" : ", ", m_done, m_total,
                 format_duration(elapsed).c_str(), m_done - m_done_at_start,
                 elapsed > 0 ? static_cast<double>(m_done - m_done_at_start) / elapsed : 0.0,
                 mib(current_rss_bytes()), mib(peak_rss_bytes()));
  } else if (m_options.tty) {
    const double frac = m_total > 0 ? static_cast<double>(m_done) / static_cast<double>(m_total) : 1.0;
    const int filled = static_cast<int>(frac * kBarWidth);
    std::string bar(static_cast<size_t>(filled), '#');
    bar.resize(kBarWidth, '.');
    std::fprintf(m_out, "\r\033[K%s [%s] %s", m_options.label.c_str(), bar.c_str(), status_text().c_str());
  } else {
    std::fprintf(m_out, "%s: %s, RSS %.0f MiB\n", m_options.label.c_str(), status_text().c_str(),
                 mib(current_rss_bytes()));
  }
  std::fflush(m_out);
}

}  // namespace naswot::search
