// naswot: score neural architectures without training (NASWOT, Mellor et al., ICML 2021).
#include <cstdio>
#include <exception>

#include "runtime/error.h"
#include "tools/naswot/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"naswot: NASWOT scores of neural architectures without training, on the CPU or one GPU"};
  app.require_subcommand(1);
  naswot::cli::add_score_command(app);
  naswot::cli::add_list_command(app);
  naswot::cli::add_sweep_command(app);
  naswot::cli::add_merge_command(app);
  naswot::cli::add_search_command(app);
  naswot::cli::add_eval_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const naswot::Error& e) {
    std::fprintf(stderr, "naswot: %s: %s\n", naswot::to_string(e.kind()), e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "naswot: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
