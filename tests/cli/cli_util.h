// Running the naswot command (NASWOT_BINARY) as a real process in the CLI tests, two ways:
//   * run_cli: through popen and the shell, stdout and stderr merged; for short runs that are
//     judged by their output and exit code (expect_failure: a clean failure naming the culprits);
//   * spawn_cli / wait_cli / run_cli_logged: fork/exec with the output in a log file; for runs a
//     test signals (SIGKILL, SIGINT) or watches while they write.
// The children wait passively in OpenMP unless the caller set OMP_WAIT_POLICY: spinning threads
// turn a 0.05 s score run into seconds on a shared, oversubscribed test machine.
#pragma once
#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

namespace naswot::cli {

// One popen run.
struct CliRun {
  int exit_code = -1;    // exit status; 128 + signal for a signalled child
  bool crashed = false;  // killed by a signal (directly or as reported by the shell)
  std::string output;    // stdout and stderr together
};

// `s` in single quotes for the shell.
std::string quote(const std::string& s);

// Runs `naswot <args>` (args is shell text: quote paths) and returns its exit and output.
CliRun run_cli(const std::string& args);

// Passed to expect_failure for "any non-zero exit status".
inline constexpr int kAnyFailure = -1;

// Asserts a clean failure of `naswot <args>`: exit status `exit_code` (any non-zero for
// kAnyFailure), no crash, and an output that names every culprit.
void expect_failure(const std::string& args, const std::vector<std::string>& culprits, int exit_code = kAnyFailure);

// A forked naswot process and the log file that holds its stdout and stderr.
struct CliProcess {
  pid_t pid = -1;
  std::string log;
};

struct CliExit {
  bool signalled = false;
  int code = -1;       // exit status, or the signal number when signalled
  std::string output;  // the log file's text
};

// Starts naswot with `args` (one argv entry each, no shell), output into `log`, extra environment
// `env` (NAME=VALUE entries).
CliProcess spawn_cli(const std::vector<std::string>& args, const std::string& log,
                     const std::vector<std::string>& env = {});
// Waits for the process to end and reads its log.
CliExit wait_cli(const CliProcess& p);
CliExit run_cli_logged(const std::vector<std::string>& args, const std::string& log,
                       const std::vector<std::string>& env = {});

// A fresh directory for one test suite's files: GoogleTest's temp dir / (stem + pid), so that
// parallel test processes do not share it. remove_dir deletes it with its files, ignoring errors.
std::filesystem::path make_suite_dir(const std::string& stem);
void remove_dir(const std::filesystem::path& dir);

// The lines of `text` (no trailing empty line for a final newline).
std::vector<std::string> lines_of(const std::string& text);
// A whole file ("" when it cannot be read) and its lines.
std::string read_text(const std::string& path);
std::vector<std::string> read_lines(const std::string& path);

}  // namespace naswot::cli
