// What every scoring command (score, sweep, search) sets up the same way: the options that decide
// a score (--space --data --batch --seed --counting --image-size --norm) and how it runs
// (--backend --group), the batch they describe, the space at that image size, the backend and the
// group size. One definition so that the commands agree on defaults, help texts and messages.
#pragma once
#include <CLI/CLI.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "runtime/backend.h"
#include "runtime/batch.h"
#include "search/space.h"
#include "tools/formats/datasets.h"

namespace naswot::cli {

// CUDA stacked execution (group size, workers) for NB-201 when neither --stack nor
// NASWOT_CUDA_STACK says otherwise.
inline constexpr std::pair<int, int> kNb201Stack{32, 3};

// The stacking make_run_backend gives a backend when --stack is not given: kNb201Stack for nb201
// on the cuda backend unless NASWOT_CUDA_STACK is set (the backend then reads it), else {-1, 0}:
// the backend's own default.
inline std::pair<int, int> default_stacking(const std::string& space, const std::string& backend_name,
                                            bool env_stack_set) {
  if (backend_name == "cuda" && space == "nb201" && !env_stack_set) return kNb201Stack;
  return {-1, 0};
}

struct RunOptions {
  std::string space = "nb201";
  std::string data = "synthetic";
  int batch = 128;
  uint64_t seed = 1;
  std::string counting = "reference";
  std::string backend = "auto";
  int image_size = 0;  // 0: from the data (npy) or 32
  std::string norm;    // empty: from the data spec
  int group = 0;       // 0: 1 on the CPU, 256 on the GPU
  std::string precision = "fp32";  // convolutions: fp32 | tf32 (CUDA opt-in, scores move) | 3xtf32 (CUDA opt-in)
  std::string stack;               // CUDA stacked execution "G[,W]"; empty: NASWOT_CUDA_STACK, else kNb201Stack for nb201, else off
  // darts, darts_in, nds only (search/darts_space.h): network size (0: C=32, 8 cells) and the
  // genotype source whose entries are the indices (an NDS JSON file or a genotype list).
  int width = 0;
  int depth = 0;
  std::string nds_json;
};

// Registers the RunOptions on `cmd`; `options` must outlive the parse (hold it in a shared_ptr
// captured by the callback, as the commands do).
void add_run_options(CLI::App* cmd, RunOptions& options);

// The scoring inputs the options describe, before any backend exists (so that bad data or a bad
// space fails before a GPU is touched).
struct RunData {
  rt::Counting counting = rt::Counting::Reference;
  formats::DataSpec spec;
  formats::DatasetKind norm = formats::DatasetKind::Cifar10;  // resolved: --norm or from the data
  rt::Batch batch;
  std::unique_ptr<search::Space> space;  // at the batch's image size
};
// BadInput for a batch below 2 images, a bad data spec or an --image-size the data contradicts.
RunData load_run_data(const RunOptions& options);

// The backend of --backend. device_hint >= 0 picks a CUDA device (modulo the visible count; the
// sweep passes the node-local MPI rank); -1 keeps the current one.
// "G" or "G,W" of --stack; BadInput otherwise.
std::pair<int, int> parse_stack(const std::string& text);
std::unique_ptr<rt::Backend> make_run_backend(const RunOptions& options, int device_hint = -1);

// Architectures per backend call: --group, else 1 on the CPU (records stream out one by one) and
// 256 on the GPU (several in flight, one batched log-det).
size_t run_group_size(const RunOptions& options, const rt::Backend& backend);

}  // namespace naswot::cli
