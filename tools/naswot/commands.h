// The naswot subcommands. Each add_*_command registers its options on the CLI11 app and sets the
// callback that runs it; main() catches naswot::Error and turns it into one line and exit 1.
#pragma once
#include <CLI/CLI.hpp>

namespace naswot::cli {

void add_score_command(CLI::App& app);
void add_list_command(CLI::App& app);
void add_sweep_command(CLI::App& app);  // cmd_sweep.cpp
void add_merge_command(CLI::App& app);  // cmd_merge.cpp
void add_search_command(CLI::App& app);  // cmd_search.cpp
void add_eval_command(CLI::App& app);    // cmd_eval.cpp

}  // namespace naswot::cli
