// The CLI tests' process helpers (contract in cli_util.h).
#include "cli/cli_util.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>

namespace naswot::cli {

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char ch : s) q += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return q + "'";
}

CliRun run_cli(const std::string& args) {
  const std::string command =
      "OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive} " + quote(NASWOT_BINARY) + " " + args + " 2>&1";
  CliRun r;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) {
    ADD_FAILURE() << "popen failed for " << command;
    return r;
  }
  char buffer[4096];
  for (size_t got; (got = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) r.output.append(buffer, got);
  const int status = pclose(pipe);
  if (WIFSIGNALED(status)) {
    r.crashed = true;
    r.exit_code = 128 + WTERMSIG(status);
  } else {
    r.exit_code = WEXITSTATUS(status);
    r.crashed = r.exit_code >= 128;  // the shell reports a signalled child as 128 + signal
  }
  return r;
}

void expect_failure(const std::string& args, const std::vector<std::string>& culprits, int exit_code) {
  const CliRun r = run_cli(args);
  if (exit_code == kAnyFailure)
    EXPECT_NE(r.exit_code, 0) << args << "\n" << r.output;
  else
    EXPECT_EQ(r.exit_code, exit_code) << args << "\n" << r.output;
  EXPECT_FALSE(r.crashed) << args << " crashed (exit " << r.exit_code << ")\n" << r.output;
  for (const std::string& c : culprits)
    EXPECT_NE(r.output.find(c), std::string::npos) << args << ": message does not name '" << c << "':\n" << r.output;
}

CliProcess spawn_cli(const std::vector<std::string>& args, const std::string& log,
                     const std::vector<std::string>& env) {
  CliProcess p;
  p.log = log;
  p.pid = fork();
  if (p.pid == 0) {
    FILE* out = std::freopen(log.c_str(), "w", stdout);
    if (!out || dup2(STDOUT_FILENO, STDERR_FILENO) < 0) _exit(126);
    setenv("OMP_WAIT_POLICY", "passive", 0);
    for (const std::string& e : env) putenv(const_cast<char*>(e.c_str()));
    std::vector<char*> argv;
    std::string binary = NASWOT_BINARY;
    argv.push_back(binary.data());
    std::vector<std::string> copy = args;
    for (std::string& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  return p;
}

CliExit wait_cli(const CliProcess& p) {
  int status = 0;
  CliExit e;
  if (waitpid(p.pid, &status, 0) != p.pid) {
    ADD_FAILURE() << "waitpid failed";
    return e;
  }
  e.signalled = WIFSIGNALED(status);
  e.code = e.signalled ? WTERMSIG(status) : WEXITSTATUS(status);
  e.output = read_text(p.log);
  return e;
}

CliExit run_cli_logged(const std::vector<std::string>& args, const std::string& log,
                       const std::vector<std::string>& env) {
  return wait_cli(spawn_cli(args, log, env));
}

std::filesystem::path make_suite_dir(const std::string& stem) {
  const std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) / (stem + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  return dir;
}

void remove_dir(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::vector<std::string> read_lines(const std::string& path) { return lines_of(read_text(path)); }

}  // namespace naswot::cli
