// naswot list --space nb201: every architecture of a space as `index,arch`, in index order.
#include <cstdio>
#include <memory>
#include <string>

#include "runtime/error.h"
#include "search/space.h"
#include "tools/naswot/commands.h"

namespace naswot::cli {

void add_list_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("list", "Print every architecture of a space as index,arch");
  auto space = std::make_shared<std::string>("nb201");
  cmd->add_option("--space", *space, "Search space")
      ->check(CLI::IsMember({"nb201", "darts", "darts_in", "nds"}))
      ->capture_default_str();
  auto source = std::make_shared<std::string>();
  cmd->add_option("--nds-json", *source, "darts spaces: the NDS JSON file or genotype list to list");
  cmd->callback([space, source] {
    NASWOT_EXPECT(*space != "nb201" || source->empty(), BadInput, "--nds-json applies to the darts spaces, not nb201");
    search::SpaceOptions options;
    options.source = *source;
    const auto s = search::make_space(*space, options);
    std::printf("index,arch\n");
    for (int64_t i = 0; i < s->size(); ++i) std::printf("%lld,%s\n", static_cast<long long>(i), s->from_index(i).arch.c_str());
  });
}

}  // namespace naswot::cli
