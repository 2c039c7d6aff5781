// naswot merge OUT IN1 IN2 ...: join the shard files of one sweep into OUT after checking that
// their headers agree and that they cover the space (or their common shard) exactly once
// (search/sweep_merge.h). Errors name the file and line, or list the missing and duplicated
// indices (the first few and how many).
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "search/sweep_merge.h"
#include "tools/naswot/commands.h"

namespace naswot::cli {

void add_merge_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("merge", "Join sweep shard files into one, checking nothing is missing or doubled");
  auto output = std::make_shared<std::string>();
  auto inputs = std::make_shared<std::vector<std::string>>();
  cmd->add_option("output", *output, "The merged sweep file to write")->required();
  cmd->add_option("inputs", *inputs, "Sweep files to join (the shards of one sweep)")->required();
  cmd->callback([output, inputs] {
    const search::MergeSummary m = search::merge_sweep_files(*inputs, *output);
    std::fprintf(stderr, "naswot merge: %lld files, %lld records covering %lld architectures (shard %s) -> %s\n",
                 static_cast<long long>(m.files), static_cast<long long>(m.records),
                 static_cast<long long>(m.indices), m.shard.c_str(), output->c_str());
  });
}

}  // namespace naswot::cli
